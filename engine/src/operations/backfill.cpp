#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

Backfill Backfill::parse(FieldReader& fields) {
  Backfill op;
  op.table = fields.required_string("table");
  op.set = fields.required_assignments("set");
  op.where = fields.optional_string("where");
  op.key = fields.optional_names("key");
  op.batch = fields.optional_int("batch");
  fields.finish();
  return op;
}

void Backfill::validate(ValidationContext& context) const {
  context.require_identifier(table, "table");
  for (const auto& [column, expression] : set) {
    context.require_identifier(column, "column");
    context.require_expression(expression, fmt::format("backfill {} set {}", table, column));
  }
  if (where) context.require_expression(*where, fmt::format("backfill {} where", table));
  require_identifiers(key, "key column", context);
}

std::vector<Step> Backfill::render(const RenderContext& context) const {
  std::vector<std::string> assignments;
  for (const auto& [column, expression] : set)
    assignments.push_back(fmt::format("{} = {}", context.sql.quote(column), expression));
  std::string sql = fmt::format("UPDATE {} SET {}", context.sql.quote(table), fmt::join(assignments, ", "));
  if (where) sql += fmt::format(" WHERE {}", *where);
  return {{sql}};
}

std::string Backfill::describe() const {
  std::vector<std::string> columns;
  for (const auto& [column, expression] : set) columns.push_back(column);
  return fmt::format("backfill {}.{}{}", table, fmt::join(columns, ", "), where ? " where " + *where : "");
}

void Backfill::apply(schema::Schema&) const {}

}  // namespace tandem::ops
