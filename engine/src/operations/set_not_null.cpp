#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

SetNotNull SetNotNull::parse(FieldReader& fields) {
  SetNotNull op;
  op.table = fields.required_string("table");
  op.column = fields.required_string("column");
  fields.finish();
  return op;
}

void SetNotNull::validate(ValidationContext& context) const {
  context.require_identifier(table, "table");
  context.require_identifier(column, "column");
}

std::vector<Step> SetNotNull::render(const RenderContext& context) const {
  return context.sql.set_not_null(*this, context);
}

std::string SetNotNull::describe() const { return fmt::format("make {}.{} NOT NULL", table, column); }

void SetNotNull::apply(schema::Schema& schema) const {
  if (auto* found = schema.find_table(table))
    if (auto* spec = found->find_column(column)) spec->nullable = false;
}

// An abort undoes a version before its contract starts: a contract operation never ran.
Reversal SetNotNull::reverse(const ReverseContext&) const {
  return Reversal::refused("contract operations are not undone: abort works only until contract starts");
}

}  // namespace tandem::ops
