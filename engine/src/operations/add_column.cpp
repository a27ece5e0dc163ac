#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

AddColumn AddColumn::parse(FieldReader& fields) {
  AddColumn op;
  op.table = fields.required_string("table");
  FieldReader spec(fields.required_node("column"), fields.file(), "column spec");
  op.column = ColumnSpec::parse(spec);
  fields.finish();
  return op;
}

void AddColumn::validate(ValidationContext& context) const {
  context.require_identifier(table, "table");
  validate_column(column, context, table);
  if (!column.nullable && !column.default_value)
    context.error("not-null-without-default",
                  fmt::format("version {}: new column {}.{} is NOT NULL without a default; the old release's INSERTs "
                              "would fail (give it a default, or add it nullable and set_not_null in contract)",
                              context.version, table, column.name));
  if (column.primary_key)
    context.error("bad-column", fmt::format("version {}: add_column cannot add primary key column {}.{}",
                                            context.version, table, column.name));
  if (column.unique)
    context.warning("unique-over-existing-rows",
                    fmt::format("version {}: unique column {}.{} is checked against every existing row",
                                context.version, table, column.name));
}

std::vector<Step> AddColumn::render(const RenderContext& context) const {
  auto steps = context.sql.add_column(*this, context);
  if (context.schema.find_table(shadow_name(table))) {
    ColumnSpec shadow_column = column;
    shadow_column.unique = false;
    shadow_column.references.reset();
    shadow_column.on_delete.reset();
    for (auto& step : context.sql.add_column({shadow_name(table), shadow_column}, context)) steps.push_back(step);
  }
  return steps;
}

std::string AddColumn::describe() const { return fmt::format("add column {}.{} {}", table, column.name, column.type); }

void AddColumn::apply(schema::Schema& schema) const {
  for (const auto& name : {table, shadow_name(table)})
    if (auto* found = schema.find_table(name)) found->columns.push_back(to_schema_column(column));
  if (auto* found = schema.find_table(table)) add_inline_constraints(*found, column);
}

Reversal AddColumn::reverse(const ReverseContext& context) const {
  std::vector<OperationBody> undo;
  if (const auto* shadow = context.schema.find_table(shadow_name(table)); shadow && shadow->find_column(column.name))
    undo.push_back(DropColumn{shadow->name, column.name});
  undo.push_back(DropColumn{table, column.name});
  return Reversal::by(std::move(undo));
}

}  // namespace tandem::ops
