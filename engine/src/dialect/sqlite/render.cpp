#include <fmt/format.h>

#include <algorithm>

#include "dialect/sqlite/sqlite.h"
#include "operations/batch_plan.h"
#include "operations/common.h"
#include "operations/portable_type.h"
#include "tandem/error.h"

namespace tandem::sqlite {

using ops::TypeKind;

std::string SqliteRenderer::column_type(const ops::ColumnSpec& column, const std::string&) const {
  return declared_type(column.type);
}

std::string SqliteRenderer::declared_type(const std::string& type) const {
  auto portable = ops::parse_portable_type(type);
  if (!portable) return type;  // already a declared type (from a snapshot)
  switch (portable->kind) {
    case TypeKind::integer:
    case TypeKind::bigint:
    case TypeKind::smallint: return "INTEGER";
    case TypeKind::boolean: return "BOOLEAN";
    case TypeKind::string: return fmt::format("VARCHAR({})", portable->length);
    case TypeKind::text:
    case TypeKind::mediumtext:
    case TypeKind::json:
    case TypeKind::enumeration: return "TEXT";
    case TypeKind::float_:
    case TypeKind::double_: return "REAL";
    case TypeKind::decimal: return fmt::format("NUMERIC({},{})", portable->precision, portable->scale);
    case TypeKind::datetime: return "DATETIME";
    case TypeKind::date: return "DATE";
    case TypeKind::blob: return "BLOB";
  }
  return "TEXT";
}

std::string SqliteRenderer::column_definition(const ops::ColumnSpec& column, const std::string& table) const {
  std::string definition = quote(column.name) + " " + column_type(column, table);
  if (column.primary_key) definition += column.autoincrement ? " PRIMARY KEY AUTOINCREMENT" : " PRIMARY KEY";
  if (!column.nullable && !column.primary_key) definition += " NOT NULL";
  if (column.default_value) definition += " DEFAULT " + *column.default_value;
  if (auto portable = ops::parse_portable_type(column.type); portable && portable->kind == TypeKind::enumeration) {
    std::vector<std::string> values;
    for (const auto& value : portable->values) values.push_back(literal(value));
    definition += fmt::format(" CONSTRAINT {} CHECK ({} IN ({}))", quote(table + "_" + column.name + "_check"),
                              quote(column.name), fmt::join(values, ", "));
  }
  return definition;
}

// quote() keeps the storage class (1, 1.0 and '1' differ), the text's bytes and every
// bit of a REAL, where CAST AS TEXT rounds to 15 digits.
std::string SqliteRenderer::stored(const std::string& expression) const {
  return fmt::format("quote({})", expression);
}

std::vector<Step> SqliteRenderer::add_unique(const ops::AddUnique& op, const RenderContext& context) const {
  return create_index({op.table, {op.name, op.columns, true}}, context);
}

namespace {

schema::Table& table_copy(schema::Table& copy, const RenderContext& context, const std::string& table,
                          const char* operation) {
  copy = ops::require_table(context.schema, table, operation);
  return copy;
}

}  // namespace

std::vector<Step> SqliteRenderer::add_foreign_key(const ops::AddForeignKey& op, const RenderContext& context) const {
  schema::Table table;
  table_copy(table, context, op.table, "add_foreign_key")
      .foreign_keys.push_back({op.name, op.columns, op.referenced_table, op.referenced_columns, op.on_delete.value_or("")});
  return rebuild(table, context.schema);
}

std::vector<Step> SqliteRenderer::add_check(const ops::AddCheck& op, const RenderContext& context) const {
  schema::Table table;
  table_copy(table, context, op.table, "add_check").checks.push_back({op.name, op.expression});
  return rebuild(table, context.schema);
}

std::vector<Step> SqliteRenderer::set_nullable(const ops::SetNullable& op, const RenderContext& context) const {
  const std::string& table_name = op.table;
  const std::string& column = op.column;
  schema::Table table;
  table_copy(table, context, table_name, "set_nullable");
  ops::require_column(table, column, "set_nullable");
  table.find_column(column)->nullable = true;
  return rebuild(table, context.schema);
}

std::vector<Step> SqliteRenderer::set_not_null(const ops::SetNotNull& op, const RenderContext& context) const {
  const std::string& table_name = op.table;
  const std::string& column = op.column;
  schema::Table table;
  table_copy(table, context, table_name, "set_not_null");
  ops::require_column(table, column, "set_not_null");
  table.find_column(column)->nullable = false;
  return rebuild(table, context.schema);
}

std::vector<Step> SqliteRenderer::alter_type(const ops::AlterType& op, const RenderContext& context) const {
  schema::Table table;
  table_copy(table, context, op.table, "alter_type");
  ops::require_column(table, op.column, "alter_type");
  table.find_column(op.column)->type = declared_type(op.type);
  return rebuild(table, context.schema);
}

std::vector<Step> SqliteRenderer::drop_column(const ops::DropColumn& op, const RenderContext& context) const {
  const std::string& table_name = op.table;
  const std::string& column = op.column;
  schema::Table table;
  table_copy(table, context, table_name, "drop_column");
  ops::require_column(table, column, "drop_column");
  auto uses = [&](const std::vector<std::string>& columns) {
    return std::find(columns.begin(), columns.end(), column) != columns.end();
  };
  const bool in_constraint =
      table.find_column(column)->primary_key ||
      std::any_of(table.unique_constraints.begin(), table.unique_constraints.end(),
                  [&](const auto& unique) { return uses(unique.columns); }) ||
      std::any_of(table.foreign_keys.begin(), table.foreign_keys.end(), [&](const auto& key) { return uses(key.columns); });
  if (in_constraint) {
    std::erase_if(table.columns, [&](const auto& c) { return c.name == column; });
    std::erase_if(table.unique_constraints, [&](const auto& unique) { return uses(unique.columns); });
    std::erase_if(table.foreign_keys, [&](const auto& key) { return uses(key.columns); });
    std::erase_if(table.indexes, [&](const auto& index) { return uses(index.columns); });
    return rebuild(table, context.schema);
  }
  // ALTER TABLE DROP COLUMN refuses an indexed column: its indexes go first.
  std::vector<Step> steps;
  for (const auto& index : table.indexes)
    if (uses(index.columns)) steps.push_back({fmt::format("DROP INDEX {}", quote(index.name))});
  steps.push_back({fmt::format("ALTER TABLE {} DROP COLUMN {}", quote(table_name), quote(column))});
  return steps;
}

std::vector<Step> SqliteRenderer::drop_constraint(const ops::DropConstraint& op, const RenderContext& context) const {
  const std::string& table_name = op.table;
  const std::string& name = op.name;
  schema::Table table;
  table_copy(table, context, table_name, "drop_constraint");
  if (const auto* index = table.find_index(name); index && index->unique)
    return {{fmt::format("DROP INDEX {}", quote(name))}};
  const size_t before = table.unique_constraints.size() + table.foreign_keys.size() + table.checks.size();
  std::erase_if(table.unique_constraints, [&](const auto& c) { return c.name == name; });
  std::erase_if(table.foreign_keys, [&](const auto& c) { return c.name == name; });
  std::erase_if(table.checks, [&](const auto& c) { return c.name == name; });
  if (table.unique_constraints.size() + table.foreign_keys.size() + table.checks.size() == before)
    throw Error(ErrorKind::step_failed, fmt::format("drop_constraint: table '{}' has no constraint '{}'", table_name, name));
  return rebuild(table, context.schema);
}

std::vector<Step> SqliteRenderer::rebuild(const schema::Table& table, const schema::Schema& schema) const {
  const std::string scratch = "tandem_rebuild_" + table.name;
  std::vector<std::string> items, names;
  const auto key = table.primary_key();
  for (const auto& column : table.columns) {
    std::string item = quote(column.name) + " " + declared_type(column.type);
    if (column.primary_key && key.size() == 1) item += column.autoincrement ? " PRIMARY KEY AUTOINCREMENT" : " PRIMARY KEY";
    if (!column.nullable && !(column.primary_key && key.size() == 1)) item += " NOT NULL";
    if (column.default_value) item += " DEFAULT " + *column.default_value;
    items.push_back(item);
    names.push_back(quote(column.name));
  }
  auto quoted = [&](const std::vector<std::string>& columns) {
    std::vector<std::string> out;
    for (const auto& column : columns) out.push_back(quote(column));
    return fmt::format("{}", fmt::join(out, ", "));
  };
  if (key.size() > 1) items.push_back(fmt::format("PRIMARY KEY ({})", quoted(key)));
  for (const auto& unique : table.unique_constraints)
    items.push_back(fmt::format("CONSTRAINT {} UNIQUE ({})", quote(unique.name), quoted(unique.columns)));
  for (const auto& check : table.checks)
    items.push_back(fmt::format("CONSTRAINT {} CHECK ({})", quote(check.name), check.expression));
  for (const auto& foreign_key : table.foreign_keys)
    items.push_back(fmt::format("CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}){}", quote(foreign_key.name),
                                quoted(foreign_key.columns), quote(foreign_key.referenced_table),
                                quoted(foreign_key.referenced_columns),
                                foreign_key.on_delete.empty() ? "" : " ON DELETE " + foreign_key.on_delete));
  const std::string column_list = fmt::format("{}", fmt::join(names, ", "));
  std::vector<Step> steps = {
      {fmt::format("CREATE TABLE {} (\n  {}\n)", quote(scratch), fmt::join(items, ",\n  "))},
      {fmt::format("INSERT INTO {} ({}) SELECT {} FROM {}", quote(scratch), column_list, column_list, quote(table.name))},
      {fmt::format("DROP TABLE {}", quote(table.name))},
      // Legacy mode renames without rewriting or re-checking views and triggers that
      // name the table: they name it again once the rename is done.
      {"PRAGMA legacy_alter_table = ON"},
      {fmt::format("ALTER TABLE {} RENAME TO {}", quote(scratch), quote(table.name))},
      {"PRAGMA legacy_alter_table = OFF"},
  };
  steps[1].rebuilds_table = true;
  for (const auto& index : table.indexes)
    steps.push_back({fmt::format("CREATE {}INDEX {} ON {} ({})", index.unique ? "UNIQUE " : "", quote(index.name),
                                 quote(table.name), quoted(index.columns))});
  for (const auto& trigger : schema.triggers)
    if (trigger.table == table.name) steps.push_back({trigger.sql});
  return steps;
}

std::string SqliteRenderer::copy_rows(const ops::CopyRows& op, const RenderContext&) const {
  std::vector<std::string> targets, sources, updates;
  for (const auto& [target, expression] : op.columns) {
    targets.push_back(quote(target));
    sources.push_back(expression);
    updates.push_back(fmt::format("{} = excluded.{}", quote(target), quote(target)));
  }
  const bool skip = op.on_conflict == ops::OnConflict::skip;
  std::string sql = fmt::format("INSERT {}INTO {} ({}) SELECT {} FROM {} WHERE {}", skip ? "OR IGNORE " : "",
                                quote(op.to), fmt::join(targets, ", "), fmt::join(sources, ", "), quote(op.from),
                                op.where.value_or("true"));
  if (op.on_conflict == ops::OnConflict::update) sql += fmt::format(" ON CONFLICT DO UPDATE SET {}", fmt::join(updates, ", "));
  return sql;
}

// SQLite has one writer at a time and the row never commits: while it exists only
// tandem's own transaction can be writing.
// Every table without a primary key has a rowid (WITHOUT ROWID tables need one), under
// three names that a column of that name hides; it stays with its row until a VACUUM,
// which nothing runs during a migration.
bool SqliteRenderer::locator_walk(const schema::Table& table, ops::KeyWalk& walk) const {
  for (const char* name : {"rowid", "_rowid_", "oid"}) {
    if (table.find_column(name)) continue;
    walk.key = {name};
    return true;
  }
  return false;
}

std::vector<std::string> SqliteRenderer::bypass_forbid(bool on) const {
  if (on) return {"INSERT INTO tandem_bypass (active) VALUES (1)"};
  return {"DELETE FROM tandem_bypass"};
}

}  // namespace tandem::sqlite
