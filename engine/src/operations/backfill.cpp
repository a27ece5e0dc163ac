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

// Each batch updates the rows of its key range that match `where` and would change:
// a row already holding its new values is neither touched nor counted.
BatchPlan Backfill::batch_plan(const RenderContext& context) const {
  const SqlRenderer& sql = context.sql;
  RangePlan plan{key_walk(context, kName, table, key, where), "", ""};
  std::vector<std::string> assignments, changes;
  for (const auto& [column, expression] : set) {
    assignments.push_back(fmt::format("{} = {}", sql.quote(column), expression));
    changes.push_back(sql.differs(sql.quote(column), expression));
  }
  const auto statement = [&](const std::string& range) {
    return fmt::format("UPDATE {} SET {} WHERE {}{} AND ({})", sql.quote(table), fmt::join(assignments, ", "), range,
                       where ? " AND (" + *where + ")" : "", fmt::join(changes, " OR "));
  };
  plan.first_batch = statement(plan.walk.first_range);
  plan.next_batch = statement(plan.walk.next_range);
  return plan;
}

std::vector<Step> Backfill::render(const RenderContext& context) const { return batch_steps(batch_plan(context)); }

std::string Backfill::describe() const {
  std::vector<std::string> columns;
  for (const auto& [column, expression] : set) columns.push_back(column);
  return fmt::format("backfill {}.{}{}", table, fmt::join(columns, ", "), where ? " where " + *where : "");
}

void Backfill::apply(schema::Schema&) const {}

// What it wrote went into what expand added, and goes with it.
Reversal Backfill::reverse(const ReverseContext&) const { return Reversal::nothing(); }

}  // namespace tandem::ops
