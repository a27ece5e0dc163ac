#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

RenameColumn RenameColumn::parse(FieldReader& fields) {
  RenameColumn op;
  op.table = fields.required_string("table");
  op.from = fields.required_string("from");
  op.to = fields.required_string("to");
  fields.finish();
  return op;
}

void RenameColumn::validate(ValidationContext& context) const {
  context.require_identifier(table, "table");
  context.require_identifier(from, "column");
  context.require_identifier(to, "column");
}

std::vector<Step> RenameColumn::render(const RenderContext& context) const {
  auto steps = context.sql.rename_column(*this, context);
  if (const auto* shadow = context.schema.find_table(shadow_name(table)); shadow && shadow->find_column(from))
    for (auto& step : context.sql.rename_column({shadow->name, from, to}, context)) steps.push_back(step);
  return steps;
}

std::string RenameColumn::describe() const { return fmt::format("rename column {}.{} to {}", table, from, to); }

void RenameColumn::apply(schema::Schema& schema) const {
  for (const auto& name : {table, shadow_name(table)})
    if (auto* found = schema.find_table(name))
      if (auto* column = found->find_column(from)) column->name = to;
}

// An abort undoes a version before its contract starts: a contract operation never ran.
Reversal RenameColumn::reverse(const ReverseContext&) const {
  return Reversal::refused("contract operations are not undone: abort works only until contract starts");
}

}  // namespace tandem::ops
