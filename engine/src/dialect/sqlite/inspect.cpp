// The live schema of a SQLite database, read from sqlite_master and the table PRAGMAs.
// Constraint names and CHECK expressions exist only in the CREATE TABLE text, so
// that text is parsed too (parse_table_definition).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "dialect/sqlite/sqlite.h"
#include "tandem/error.h"

namespace tandem::sqlite {

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// Splits the text between the outermost parentheses of CREATE TABLE on commas at depth 0.
std::vector<std::string> top_level_items(const std::string& sql) {
  std::vector<std::string> items;
  size_t open = std::string::npos;
  int depth = 0;
  std::string current;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote) {
      if (c == quote) quote = 0;
      if (open != std::string::npos) current += c;
      continue;
    }
    if (c == '\'' || c == '"' || c == '`' || c == '[') {
      quote = c == '[' ? ']' : c;
      if (open != std::string::npos) current += c;
      continue;
    }
    if (c == '(') {
      if (depth++ == 0) {
        open = i;
        continue;
      }
    } else if (c == ')') {
      if (--depth == 0) {
        items.push_back(current);
        break;
      }
    } else if (c == ',' && depth == 1) {
      items.push_back(current);
      current.clear();
      continue;
    }
    if (open != std::string::npos) current += c;
  }
  return items;
}

// Reads one token: a quoted identifier, a word, or a parenthesized group.
struct Tokens {
  const std::string& text;
  size_t at = 0;
  void skip_space() {
    while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at]))) ++at;
  }
  bool done() {
    skip_space();
    return at >= text.size();
  }
  std::string next() {
    skip_space();
    if (at >= text.size()) return "";
    const size_t start = at;
    char c = text[at];
    if (c == '"' || c == '`' || c == '[' || c == '\'') {
      char close = c == '[' ? ']' : c;
      ++at;
      while (at < text.size() && text[at] != close) ++at;
      ++at;
      return text.substr(start + 1, at - start - 2);
    }
    if (c == '(') {
      int depth = 0;
      for (; at < text.size(); ++at) {
        if (text[at] == '(') ++depth;
        if (text[at] == ')' && --depth == 0) {
          ++at;
          break;
        }
      }
      return text.substr(start, at - start);
    }
    while (at < text.size() && !std::isspace(static_cast<unsigned char>(text[at])) && text[at] != '(') ++at;
    return text.substr(start, at - start);
  }
};

std::vector<std::string> names_in(const std::string& group) {
  std::vector<std::string> names;
  std::string inner = group.size() >= 2 ? group.substr(1, group.size() - 2) : group;
  size_t start = 0;
  while (start <= inner.size()) {
    size_t comma = inner.find(',', start);
    std::string item = inner.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    Tokens tokens{item};
    std::string name = tokens.next();
    if (!name.empty()) names.push_back(name);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return names;
}

std::string strip_parens(const std::string& group) {
  if (group.size() >= 2 && group.front() == '(' && group.back() == ')') return group.substr(1, group.size() - 2);
  return group;
}

}  // namespace

TableDefinition parse_table_definition(const std::string& table, const std::string& create_sql) {
  TableDefinition definition;
  definition.autoincrement = lower(create_sql).find("autoincrement") != std::string::npos;
  int unnamed_checks = 0;
  for (const auto& item : top_level_items(create_sql)) {
    Tokens tokens{item};
    std::string first = tokens.next();
    std::string name;
    std::string keyword = lower(first);
    const bool table_constraint =
        keyword == "constraint" || keyword == "unique" || keyword == "check" || keyword == "foreign" || keyword == "primary";
    if (table_constraint) {
      if (keyword == "constraint") {
        name = tokens.next();
        keyword = lower(tokens.next());
      }
      TableDefinition::NamedConstraint constraint;
      constraint.name = name;
      if (keyword == "check") {
        constraint.kind = "check";
        constraint.expression = strip_parens(tokens.next());
        if (constraint.name.empty()) constraint.name = fmt::format("{}_check{}", table, ++unnamed_checks);
      } else if (keyword == "unique") {
        constraint.kind = "unique";
        constraint.columns = names_in(tokens.next());
      } else if (keyword == "foreign") {
        tokens.next();  // KEY
        constraint.kind = "foreign key";
        constraint.columns = names_in(tokens.next());
      } else {
        continue;  // PRIMARY KEY: pragma table_info reports it
      }
      definition.constraints.push_back(constraint);
      continue;
    }
    // A column definition: look for column-level CHECK and CONSTRAINT names.
    const std::string column = first;
    std::string pending_name;
    while (!tokens.done()) {
      std::string token = tokens.next();
      std::string word = lower(token);
      if (word == "constraint") {
        pending_name = tokens.next();
      } else if (word == "check") {
        std::string expression = strip_parens(tokens.next());
        definition.constraints.push_back(
            {pending_name.empty() ? fmt::format("{}_{}_check", table, column) : pending_name, "check", {column}, expression});
        pending_name.clear();
      } else if (word == "references" && !pending_name.empty()) {
        definition.constraints.push_back({pending_name, "foreign key", {column}, ""});
        pending_name.clear();
      } else if (word == "unique" && !pending_name.empty()) {
        definition.constraints.push_back({pending_name, "unique", {column}, ""});
        pending_name.clear();
      }
    }
  }
  return definition;
}

namespace {

std::vector<std::vector<std::optional<std::string>>> rows(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK)
    throw Error(ErrorKind::step_failed, fmt::format("reading the schema failed: {}", sqlite3_errmsg(db))).with_sql(sql);
  std::vector<std::vector<std::optional<std::string>>> out;
  while (sqlite3_step(statement) == SQLITE_ROW) {
    std::vector<std::optional<std::string>> row;
    for (int i = 0; i < sqlite3_column_count(statement); ++i) {
      const auto* text = sqlite3_column_text(statement, i);
      row.push_back(text ? std::optional<std::string>(reinterpret_cast<const char*>(text)) : std::nullopt);
    }
    out.push_back(std::move(row));
  }
  sqlite3_finalize(statement);
  return out;
}

const TableDefinition::NamedConstraint* named(const TableDefinition& definition, const std::string& kind,
                                              const std::vector<std::string>& columns) {
  for (const auto& constraint : definition.constraints)
    if (constraint.kind == kind && constraint.columns == columns && !constraint.name.empty()) return &constraint;
  return nullptr;
}

}  // namespace

// Every table's columns, indexes and foreign keys come from one query each over all the
// tables (the PRAGMAs' table-valued forms), not from PRAGMAs per table: the runner
// snapshots before every operation, and compare reads schemas of hundreds of tables.
schema::Schema inspect(sqlite3* db) {
  using Rows = std::vector<std::vector<std::optional<std::string>>>;
  // Table name (column 0 of each row) -> its rows, in the query's order.
  auto per_table = [&](const std::string& sql) {
    std::map<std::string, Rows> out;
    for (auto& row : rows(db, sql)) out[*row[0]].push_back(std::move(row));
    return out;
  };
  const std::string tables = "FROM sqlite_master m, pragma_";
  const std::string application = " WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, ";
  auto columns_of = per_table("SELECT m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk " + tables +
                              "table_xinfo(m.name) p" + application + "p.cid");
  // An index of no listed column (none exists) would drop out of the inner join: LEFT JOIN.
  auto indexes_of = per_table(
      "SELECT m.name, l.name, l.\"unique\", l.origin, i.name " + tables +
      "index_list(m.name) l LEFT JOIN pragma_index_info(l.name) i" + application + "l.seq, i.seqno");
  auto keys_of = per_table("SELECT m.name, f.id, f.\"table\", f.\"from\", f.\"to\", f.on_delete " + tables +
                           "foreign_key_list(m.name) f" + application + "f.id, f.seq");

  schema::Schema result;
  for (const auto& master : rows(db, "SELECT type, name, tbl_name, sql FROM sqlite_master "
                                     "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")) {
    const std::string type = *master[0], name = *master[1], table_name = *master[2];
    const std::string sql = master[3].value_or("");
    if (schema::is_tandem_table(table_name)) continue;
    if (type == "view") {
      result.views.push_back({name, sql});
    } else if (type == "trigger") {
      result.triggers.push_back({name, table_name, sql});
    } else if (type == "table") {
      schema::Table table{name};
      const TableDefinition definition = parse_table_definition(name, sql);
      for (const auto& info : columns_of[name]) {
        schema::Column column;
        column.name = *info[1];
        column.type = info[2].value_or("");
        column.nullable = info[3].value_or("0") == "0";
        column.default_value = info[4];
        column.primary_key = info[5].value_or("0") != "0";
        if (column.primary_key) column.nullable = false;
        table.columns.push_back(column);
      }
      if (definition.autoincrement)
        for (auto& column : table.columns)
          if (column.primary_key) column.autoincrement = true;
      const Rows& index_rows = indexes_of[name];
      for (size_t at = 0; at < index_rows.size();) {
        const std::string index_name = *index_rows[at][1], origin = index_rows[at][3].value_or("c");
        const bool unique = index_rows[at][2].value_or("0") == "1";
        std::vector<std::string> columns;
        for (; at < index_rows.size() && *index_rows[at][1] == index_name; ++at)
          columns.push_back(index_rows[at][4].value_or("<expression>"));
        if (origin == "pk") continue;
        if (origin == "u") {
          const auto* constraint = named(definition, "unique", columns);
          table.unique_constraints.push_back({constraint ? constraint->name : index_name, columns});
        } else {
          table.indexes.push_back({index_name, columns, unique});
        }
      }
      std::map<int, schema::ForeignKey> keys;
      for (const auto& key : keys_of[name]) {
        auto& foreign_key = keys[std::stoi(*key[1])];
        foreign_key.referenced_table = *key[2];
        foreign_key.columns.push_back(*key[3]);
        foreign_key.referenced_columns.push_back(key[4].value_or(""));
        std::string on_delete = key[5].value_or("NO ACTION");
        std::transform(on_delete.begin(), on_delete.end(), on_delete.begin(), [](unsigned char c) { return std::tolower(c); });
        foreign_key.on_delete = on_delete == "no action" ? "" : on_delete;
      }
      // SQLite lists foreign keys last-declared first; keep declaration order.
      for (auto it = keys.rbegin(); it != keys.rend(); ++it) {
        auto foreign_key = it->second;
        const auto* constraint = named(definition, "foreign key", foreign_key.columns);
        foreign_key.name = constraint ? constraint->name
                                       : fmt::format("{}_{}_fkey", name, fmt::join(foreign_key.columns, "_"));
        table.foreign_keys.push_back(foreign_key);
      }
      for (const auto& constraint : definition.constraints)
        if (constraint.kind == "check") table.checks.push_back({constraint.name, constraint.expression});
      result.tables.push_back(std::move(table));
    }
  }
  return result;
}

}  // namespace tandem::sqlite
