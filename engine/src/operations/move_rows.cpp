#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

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
  op.then = fields.optional_string("then").value_or("delete");
  if (op.then != "delete" && op.then != "keep")
    fields.fail(fields.node()["then"], fmt::format("move_rows: then takes delete or keep, not '{}'", op.then));
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

// What a dry run shows: the batch engine runs these per key range, inserting into the
// database of role `to.database`, or updating the row with the same `unique` values
// there, and deleting only the source rows that still hold what was copied.
std::vector<Step> MoveRows::render(const RenderContext& context) const {
  std::vector<std::string> targets, sources;
  for (const auto& [column, expression] : columns) {
    targets.push_back(context.sql.quote(column));
    sources.push_back(expression);
  }
  const std::string condition = where.value_or("1 = 1");
  std::vector<Step> steps = {{fmt::format("INSERT INTO {} ({}) SELECT {} FROM {} WHERE {} -- into the {} database, in "
                                          "batches, updating rows whose ({}) are there",
                                          context.sql.quote(to.table), fmt::join(targets, ", "), fmt::join(sources, ", "),
                                          context.sql.quote(from.table), condition, to.database, fmt::join(unique, ", "))}};
  if (then == "delete")
    steps.push_back({fmt::format("DELETE FROM {} WHERE {} -- the rows moved, batch by batch, unchanged since their copy",
                                 context.sql.quote(from.table), condition)});
  return steps;
}

std::string MoveRows::describe() const {
  return fmt::format("move rows {}.{} -> {}.{}", from.database, from.table, to.database, to.table);
}

void MoveRows::apply(schema::Schema&) const {}

}  // namespace tandem::ops
