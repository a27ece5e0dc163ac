// The live schema of a MySQL / MariaDB database, read from information_schema. The
// schema name is passed as a literal (not DATABASE()) so that MariaDB opens only that
// schema's tables to answer.
//
// MySQL has no unique constraint apart from a unique index: every unique index is
// reported as a unique constraint, and dropped as an index. The index InnoDB creates
// for a foreign key is reported like any other index.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "dialect/mysql/mysql.h"

namespace tandem::mysql {

namespace {

std::string text(const Value& value) { return value.value_or(""); }

bool is_numeric_type(const std::string& type) {
  static const std::vector<std::string> numeric = {"tinyint", "smallint", "mediumint", "int", "bigint",
                                                   "decimal", "float",    "double",    "bit", "year"};
  return std::any_of(numeric.begin(), numeric.end(),
                     [&](const std::string& prefix) { return type.rfind(prefix, 0) == 0; });
}

// COLUMN_DEFAULT as an SQL expression. MariaDB (10.2.7 on) already reports one, with
// 'NULL' for an explicit NULL default. MySQL reports a literal's bare value and marks
// expression defaults DEFAULT_GENERATED.
std::optional<std::string> default_expression(const Value& reported, const std::string& type, const std::string& extra,
                                              bool mariadb) {
  if (!reported) return std::nullopt;
  if (mariadb) return *reported == "NULL" ? std::nullopt : reported;
  if (extra.find("DEFAULT_GENERATED") != std::string::npos) {
    // MySQL shows the quotes inside an expression default escaped: _utf8mb4\'none\'.
    std::string expression = *reported;
    for (size_t at = expression.find("\\'"); at != std::string::npos; at = expression.find("\\'", at))
      expression.erase(at, 1);
    const bool timestamp =
        expression.rfind("CURRENT_TIMESTAMP", 0) == 0 || expression.rfind("current_timestamp", 0) == 0;
    return timestamp ? expression : "(" + expression + ")";
  }
  if (is_numeric_type(type)) return reported;
  std::string quoted = "'";
  for (char c : *reported)
    quoted += c == '\'' ? std::string("''") : c == '\\' ? std::string("\\\\") : std::string(1, c);
  return quoted + "'";
}

std::string on_delete_rule(const std::string& rule) {
  // InnoDB has no deferred checks: RESTRICT and NO ACTION are the same rule, and MariaDB
  // reports RESTRICT for a key declared without ON DELETE. Both are the default, "".
  if (rule == "CASCADE") return "cascade";
  if (rule == "SET NULL") return "set null";
  return "";
}

}  // namespace

schema::Schema inspect(Connection& connection, const std::string& database, bool mariadb) {
  schema::Schema result;
  std::map<std::string, schema::Table*> tables;
  std::map<std::string, std::string> table_collation;
  // An online copy's tables and triggers (galera_copy.cpp) are tandem's work in progress.
  auto in_progress = [](const std::string& name) { return name.rfind(kOnlineCopyPrefix, 0) == 0; };
  auto application_table = [&](const std::string& name) {
    return !schema::is_tandem_table(name) && name != kLockTable && !in_progress(name);
  };

  for (const auto& row : connection.query("SELECT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES "
                                          "WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
                                          {database}))
    if (application_table(text(row[0]))) {
      result.tables.push_back({text(row[0])});
      table_collation[text(row[0])] = text(row[1]);
    }
  for (auto& table : result.tables) tables[table.name] = &table;
  auto table_of = [&](const Value& name) -> schema::Table* {
    auto it = tables.find(text(name));
    return it == tables.end() ? nullptr : it->second;
  };

  for (const auto& row : connection.query(
           "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, COLLATION_NAME "
           "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION",
           {database})) {
    schema::Table* table = table_of(row[0]);
    if (!table) continue;
    schema::Column column;
    column.name = text(row[1]);
    column.type = text(row[2]);
    column.nullable = text(row[3]) == "YES";
    const std::string extra = text(row[5]);
    column.default_value = default_expression(row[4], column.type, extra, mariadb);
    column.autoincrement = extra.find("auto_increment") != std::string::npos;
    // A collation other than the table's is part of the column's type: MODIFY COLUMN
    // must restate it or the column silently takes the table's.
    if (row[6] && *row[6] != table_collation[table->name]) column.type += " COLLATE " + *row[6];
    table->columns.push_back(std::move(column));
  }

  struct Key {
    bool unique = false;
    std::vector<std::string> columns;
  };
  std::map<std::pair<std::string, std::string>, Key> keys;  // (table, index): name order is deterministic
  for (const auto& row :
       connection.query("SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS "
                        "WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
                        {database})) {
    schema::Table* table = table_of(row[0]);
    if (!table) continue;
    const std::string index = text(row[1]);
    // An expression index part (MySQL 8) has no column name.
    const std::string column = row[3] ? *row[3] : "<expression>";
    if (index == "PRIMARY") {
      if (auto* found = table->find_column(column)) {
        found->primary_key = true;
        found->nullable = false;
      }
      continue;
    }
    auto& key = keys[{table->name, index}];
    key.unique = text(row[2]) == "0";
    key.columns.push_back(column);
  }
  for (const auto& [name, key] : keys) {
    schema::Table* table = tables.at(name.first);
    if (key.unique)
      table->unique_constraints.push_back({name.second, key.columns});
    else
      table->indexes.push_back({name.second, key.columns, false});
  }

  std::map<std::pair<std::string, std::string>, schema::ForeignKey> foreign_keys;
  for (const auto& row : connection.query(
           "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, "
           "r.DELETE_RULE FROM information_schema.KEY_COLUMN_USAGE k "
           "JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA "
           "AND r.TABLE_NAME = k.TABLE_NAME AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
           "WHERE k.TABLE_SCHEMA = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL "
           "ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
           {database})) {
    if (!table_of(row[0])) continue;
    auto& key = foreign_keys[{text(row[0]), text(row[1])}];
    key.name = text(row[1]);
    key.columns.push_back(text(row[2]));
    key.referenced_table = text(row[3]);
    key.referenced_columns.push_back(text(row[4]));
    key.on_delete = on_delete_rule(text(row[5]));
  }
  for (auto& [name, key] : foreign_keys) tables.at(name.first)->foreign_keys.push_back(std::move(key));

  // MySQL names CHECK constraints per schema; MariaDB per table, and also reports
  // column-level ones, named after their column.
  const char* checks_sql =
      mariadb ? "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
                "WHERE CONSTRAINT_SCHEMA = ? ORDER BY TABLE_NAME, CONSTRAINT_NAME"
              : "SELECT t.TABLE_NAME, c.CONSTRAINT_NAME, c.CHECK_CLAUSE FROM information_schema.TABLE_CONSTRAINTS t "
                "JOIN information_schema.CHECK_CONSTRAINTS c ON c.CONSTRAINT_SCHEMA = t.CONSTRAINT_SCHEMA "
                "AND c.CONSTRAINT_NAME = t.CONSTRAINT_NAME "
                "WHERE t.TABLE_SCHEMA = ? AND t.CONSTRAINT_TYPE = 'CHECK' ORDER BY t.TABLE_NAME, c.CONSTRAINT_NAME";
  for (const auto& row : connection.query(checks_sql, {database})) {
    schema::Table* table = table_of(row[0]);
    if (!table) continue;
    const std::string name = text(row[1]), clause = text(row[2]);
    // MariaDB's JSON is LONGTEXT plus this check: it is the type, not a constraint.
    if (auto* column = table->find_column(name); mariadb && column && clause == fmt::format("json_valid(`{}`)", name) &&
                                                 column->type.rfind("longtext", 0) == 0) {
      column->type = "json";
      continue;
    }
    table->checks.push_back({name, clause});
  }

  // The server stores a view's query with every name qualified by the schema: without it,
  // the same view reads the same in every database.
  const std::string qualifier = "`" + database + "`.";
  for (const auto& row : connection.query("SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE "
                                          "TABLE_SCHEMA = ? ORDER BY TABLE_NAME",
                                          {database})) {
    std::string definition = text(row[1]);
    for (size_t at = definition.find(qualifier); at != std::string::npos; at = definition.find(qualifier, at))
      definition.erase(at, qualifier.size());
    result.views.push_back({text(row[0]), definition});
  }

  for (const auto& row :
       connection.query("SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_STATEMENT "
                        "FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY TRIGGER_NAME",
                        {database})) {
    const std::string table = text(row[1]);
    if (!application_table(table) || in_progress(text(row[0]))) continue;
    result.triggers.push_back(
        {text(row[0]), table,
         fmt::format("{} {} ON {} FOR EACH ROW {}", text(row[2]), text(row[3]), table, text(row[4]))});
  }
  return result;
}

}  // namespace tandem::mysql
