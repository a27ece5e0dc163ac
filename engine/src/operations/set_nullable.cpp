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

// NOT NULL comes back only while no row needs the NULL the old release could not write:
// a NULL written since (by the new release) would be lost or refused.
Reversal SetNullable::reverse(const ReverseContext& context) const {
  std::vector<OperationBody> undo;
  for (const auto& name : {table, shadow_name(table)}) {
    const auto* found = context.schema.find_table(name);
    if (!found || !found->find_column(column)) continue;
    if (context.holds_null(name, column))
      return Reversal::refused(fmt::format("{}.{} holds NULLs written since it was made nullable; NOT NULL cannot come "
                                           "back without losing them",
                                           name, column));
    undo.push_back(SetNotNull{name, column});
  }
  return Reversal::by(std::move(undo));
}

}  // namespace tandem::ops
