#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

DropConstraint DropConstraint::parse(FieldReader& fields) {
  DropConstraint op;
  op.table = fields.required_string("table");
  op.name = fields.required_string("name");
  fields.finish();
  return op;
}

void DropConstraint::validate(ValidationContext& context) const {
  context.require_identifier(table, "table");
  context.require_identifier(name, "constraint");
}

std::vector<Step> DropConstraint::render(const RenderContext& context) const {
  return context.sql.drop_constraint(*this, context);
}

std::string DropConstraint::describe() const { return fmt::format("drop constraint {} on {}", name, table); }

void DropConstraint::apply(schema::Schema& schema) const {
  if (auto* found = schema.find_table(table)) {
    std::erase_if(found->unique_constraints, [&](const auto& c) { return c.name == name; });
    std::erase_if(found->foreign_keys, [&](const auto& c) { return c.name == name; });
    std::erase_if(found->checks, [&](const auto& c) { return c.name == name; });
    std::erase_if(found->indexes, [&](const auto& c) { return c.name == name && c.unique; });
  }
}

// An abort undoes a version before its contract starts: a contract operation never ran.
Reversal DropConstraint::reverse(const ReverseContext&) const {
  return Reversal::refused("contract operations are not undone: abort works only until contract starts");
}

}  // namespace tandem::ops
