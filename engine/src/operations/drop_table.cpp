#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

DropTable DropTable::parse(FieldReader& fields) {
  DropTable op;
  op.name = fields.required_string("name");
  fields.finish();
  return op;
}

void DropTable::validate(ValidationContext& context) const { context.require_identifier(name, "table"); }

std::vector<Step> DropTable::render(const RenderContext& context) const { return context.sql.drop_table(*this, context); }

std::string DropTable::describe() const { return fmt::format("drop table {}", name); }

void DropTable::apply(schema::Schema& schema) const {
  std::erase_if(schema.tables, [&](const schema::Table& t) { return t.name == name; });
  std::erase_if(schema.triggers, [&](const schema::Trigger& t) { return t.table == name; });
}

// An abort undoes a version before its contract starts: a contract operation never ran.
Reversal DropTable::reverse(const ReverseContext&) const {
  return Reversal::refused("contract operations are not undone: abort works only until contract starts");
}

}  // namespace tandem::ops
