#include <fmt/format.h>

#include <algorithm>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"
#include "tandem/error.h"

namespace tandem::ops {

namespace {

TableRef parse_table_ref(FieldReader& fields, const std::string& key) {
  FieldReader ref(fields.required_node(key), fields.file(), "move_rows " + key);
  TableRef table;
  table.database = ref.required_string("database");
  table.table = ref.required_string("table");
  ref.finish();
  return table;
}

}  // namespace

MoveRows MoveRows::parse(FieldReader& fields) {
  MoveRows op;
  op.from = parse_table_ref(fields, "from");
  op.to = parse_table_ref(fields, "to");
  op.columns = fields.required_assignments("columns");
  op.key = fields.optional_names("key");
  op.unique = fields.optional_names("unique");
  if (op.unique.empty()) fields.fail(fields.node(), "move_rows: missing required key 'unique' (the target's dedup key)");
  op.where = fields.optional_string("where");
  const std::string then = fields.optional_string("then").value_or("delete");
  if (then == "delete")
    op.then = MoveThen::remove;
  else if (then == "keep")
    op.then = MoveThen::keep;
  else
    fields.fail(fields.node()["then"], fmt::format("move_rows: then takes delete or keep, not '{}'", then));
  fields.finish();
  return op;
}

void MoveRows::validate(ValidationContext& context) const {
  for (const auto* ref : {&from, &to}) {
    context.require_identifier(ref->database, "database role");
    context.require_identifier(ref->table, "table");
  }
  for (const auto& [column, expression] : columns) {
    context.require_identifier(column, "column");
    context.require_expression(expression, fmt::format("move_rows {} -> {} column {}", from.table, to.table, column));
  }
  if (where) context.require_expression(*where, fmt::format("move_rows {} where", from.table));
  require_identifiers(key, "key column", context);
  require_identifiers(unique, "unique column", context);
}

BatchPlan MoveRows::batch_plan(const RenderContext& context) const {
  const SqlRenderer& sql = context.sql;
  MovePlan plan;
  plan.walk = key_walk(context, kName, from.table, key, where);
  plan.target_role = to.database;
  plan.target_table = to.table;
  plan.keep = then == MoveThen::keep;
  plan.values = columns.size();
  // Each row is read as its key, the moved values (copied into the target) and their
  // stored forms (which the source's delete compares).
  std::vector<std::string> selected, stored, targets, assignments, unique_checks;
  for (const auto& column : plan.walk.key) selected.push_back(sql.quote(column));
  for (const auto& [column, expression] : columns) {
    selected.push_back("(" + expression + ")");
    stored.push_back(sql.stored("(" + expression + ")"));
    targets.push_back(sql.quote(column));
    assignments.push_back(sql.quote(column) + " = ?");
  }
  selected.insert(selected.end(), stored.begin(), stored.end());
  for (const auto& column : unique) {
    auto it = std::find_if(columns.begin(), columns.end(), [&](const auto& pair) { return pair.first == column; });
    if (it == columns.end())
      throw Error(ErrorKind::step_failed, fmt::format("move_rows {} -> {}: unique column '{}' is not one of its columns",
                                                      from.table, to.table, column));
    plan.unique_positions.push_back(static_cast<size_t>(it - columns.begin()));
    unique_checks.push_back(fmt::format("{} = ?", sql.quote(column)));
  }
  std::vector<std::string> keys;
  for (const auto& column : plan.walk.key) keys.push_back(sql.quote(column));
  const std::string condition = where ? "(" + *where + ")" : "1 = 1";
  const auto read = [&](const std::string& range) {
    return fmt::format("SELECT {} FROM {} WHERE {} AND {} ORDER BY {}", fmt::join(selected, ", "), sql.quote(from.table),
                       range, condition, fmt::join(keys, ", "));
  };
  plan.first_read = read(plan.walk.first_range);
  plan.next_read = read(plan.walk.next_range);
  std::vector<std::string> marks(columns.size(), "?");
  plan.find = fmt::format("SELECT {} FROM {} WHERE {}", fmt::join(targets, ", "), sql.quote(to.table),
                          fmt::join(unique_checks, " AND "));
  plan.insert = fmt::format("INSERT INTO {} ({}) VALUES ({})", sql.quote(to.table), fmt::join(targets, ", "),
                            fmt::join(marks, ", "));
  plan.update = fmt::format("UPDATE {} SET {} WHERE {}", sql.quote(to.table), fmt::join(assignments, ", "),
                            fmt::join(unique_checks, " AND "));
  // A source row is deleted only while every moved value still is what the target was
  // given: one the application changed since the read stays, and a later pass (the
  // walk's final passes) copies it again, updating the target, before deleting it.
  std::vector<std::string> same;
  for (const auto& column : plan.walk.key) same.push_back(sql.quote(column) + " = ?");
  for (const auto& form : stored) same.push_back("NOT " + sql.differs(form, "?"));
  plan.delete_from = fmt::format("DELETE FROM {} WHERE ", sql.quote(from.table));
  plan.delete_row = fmt::format("({})", fmt::join(same, " AND "));
  plan.table_condition = where ? " AND (" + *where + ")" : "";
  return plan;
}

// What a dry run shows: the statements of one batch, the target's (find, insert,
// update) run on the database of role `to.database`.
std::vector<Step> MoveRows::render(const RenderContext& context) const { return batch_steps(batch_plan(context)); }

std::string MoveRows::describe() const {
  return fmt::format("move rows {}.{} -> {}.{}", from.database, from.table, to.database, to.table);
}

void MoveRows::apply(schema::Schema&) const {}

// then: keep copied its rows into what expand added, and they go with it; then: delete
// took them out of the source, and the abort moves them back first, by the records the
// target kept of where each came from. Back means each target column into the source
// column it was copied from, so a column computed by an expression cannot go back.
Reversal MoveRows::reverse(const ReverseContext&) const {
  if (then == MoveThen::keep) return Reversal::nothing();
  for (const auto& [column, expression] : columns)
    if (!is_identifier(source_column(expression)))
      return Reversal::refused(fmt::format("move_rows from {}.{} to {}.{} computed column {} as ({}), which abort "
                                           "cannot turn back into the source's columns",
                                           from.database, from.table, to.database, to.table, column, expression));
  return Reversal::moving_rows_back();
}

std::string MoveRows::source_column(const std::string& expression) {
  const auto begin = expression.find_first_not_of(" \t\n");
  if (begin == std::string::npos) return "";
  return expression.substr(begin, expression.find_last_not_of(" \t\n") - begin + 1);
}

}  // namespace tandem::ops
