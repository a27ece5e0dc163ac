#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/portable_type.h"
#include "operations/renderer.h"

namespace tandem::ops {

AlterType AlterType::parse(FieldReader& fields) {
  AlterType op;
  op.table = fields.required_string("table");
  op.column = fields.required_string("column");
  op.type = fields.required_string("type");
  fields.finish();
  return op;
}

void AlterType::validate(ValidationContext& context) const {
  context.require_identifier(table, "table");
  context.require_identifier(column, "column");
  if (!parse_portable_type(type))
    context.error("bad-type", fmt::format("version {}: alter_type {}.{} to unknown type '{}'", context.version, table,
                                          column, type));
  // A type change that converts the stored values rewrites the table on PostgreSQL and
  // MySQL/MariaDB with writes held all the while: say so where the unit is written.
  context.warning("blocking-ddl",
                  fmt::format("version {}: alter_type {}.{} rewrites the table when the values must be converted, "
                              "blocking writes until it is done; on a large table prefer a new column kept in step by "
                              "sync_column and backfill, with the old one dropped in contract",
                              context.version, table, column));
}

std::vector<Step> AlterType::render(const RenderContext& context) const {
  auto steps = context.sql.alter_type(*this, context);
  if (const auto* shadow = context.schema.find_table(shadow_name(table)); shadow && shadow->find_column(column))
    for (auto& step : context.sql.alter_type({shadow->name, column, type}, context)) steps.push_back(step);
  return steps;
}

std::string AlterType::describe() const { return fmt::format("change type of {}.{} to {}", table, column, type); }

void AlterType::apply(schema::Schema& schema) const {
  for (const auto& name : {table, shadow_name(table)})
    if (auto* found = schema.find_table(name))
      if (auto* spec = found->find_column(column)) spec->type = type;
}

// An abort undoes a version before its contract starts: a contract operation never ran.
Reversal AlterType::reverse(const ReverseContext&) const {
  return Reversal::refused("contract operations are not undone: abort works only until contract starts");
}

}  // namespace tandem::ops
