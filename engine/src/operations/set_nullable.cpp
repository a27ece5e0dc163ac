#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

SetNullable SetNullable::parse(FieldReader& fields) {
  SetNullable op;
  op.table = fields.required_string("table");
  op.column = fields.required_string("column");
  fields.finish();
  return op;
}

void SetNullable::validate(ValidationContext& context) const {
  context.require_identifier(table, "table");
  context.require_identifier(column, "column");
}

// The shadow follows: archiving a row with the column NULL must not fail on the copy.
std::vector<Step> SetNullable::render(const RenderContext& context) const {
  auto steps = context.sql.set_nullable(*this, context);
  if (const auto* shadow = context.schema.find_table(shadow_name(table)); shadow && shadow->find_column(column))
    for (auto& step : context.sql.set_nullable({shadow->name, column}, context)) steps.push_back(step);
  return steps;
}

std::string SetNullable::describe() const { return fmt::format("make {}.{} nullable", table, column); }

void SetNullable::apply(schema::Schema& schema) const {
  for (const auto& name : {table, shadow_name(table)})
    if (auto* found = schema.find_table(name))
      if (auto* spec = found->find_column(column)) spec->nullable = true;
}

}  // namespace tandem::ops
