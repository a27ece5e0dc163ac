#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

DropIndex DropIndex::parse(FieldReader& fields) {
  DropIndex op;
  op.table = fields.required_string("table");
  op.name = fields.required_string("name");
  fields.finish();
  return op;
}

void DropIndex::validate(ValidationContext& context) const {
  context.require_identifier(table, "table");
  context.require_identifier(name, "index");
}

std::vector<Step> DropIndex::render(const RenderContext& context) const { return context.sql.drop_index(*this, context); }

std::string DropIndex::describe() const { return fmt::format("drop index {} on {}", name, table); }

void DropIndex::apply(schema::Schema& schema) const {
  if (auto* found = schema.find_table(table))
    std::erase_if(found->indexes, [&](const schema::Index& i) { return i.name == name; });
}

// An abort undoes a version before its contract starts: a contract operation never ran.
Reversal DropIndex::reverse(const ReverseContext&) const {
  return Reversal::refused("contract operations are not undone: abort works only until contract starts");
}

}  // namespace tandem::ops
