#include <fmt/format.h>

#include <algorithm>
#include <regex>

#include "dialect/mysql/mysql.h"
#include "operations/common.h"
#include "operations/portable_type.h"
#include "tandem/error.h"

namespace tandem::mysql {

using ops::TypeKind;

namespace {

// The online forms of DDL (DESIGN §3): the server refuses the statement rather than
// silently block the application's writes for a table copy.
constexpr const char* kOnline = ", ALGORITHM=INPLACE, LOCK=NONE";

std::string quoted_list(const SqlRenderer& sql, const std::vector<std::string>& names) {
  std::vector<std::string> quoted;
  for (const auto& name : names) quoted.push_back(sql.quote(name));
  return fmt::format("{}", fmt::join(quoted, ", "));
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Whether a CHECK expression (as the server reports it, names in backticks) uses `column`.
bool mentions(const std::string& expression, const std::string& column) {
  const std::regex word("(^|[^A-Za-z0-9_$])`?" + column + "`?([^A-Za-z0-9_$]|$)");
  return std::regex_search(expression, word);
}

}  // namespace

std::string MysqlRenderer::quote(const std::string& identifier) const {
  std::string quoted = "`";
  for (char c : identifier) quoted += c == '`' ? std::string("``") : std::string(1, c);
  return quoted + "`";
}

// Backslash is an escape character in MySQL string literals (unless the server runs with
// NO_BACKSLASH_ESCAPES, which tandem's sessions do not).
std::string MysqlRenderer::literal(const std::string& text) const {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'')
      quoted += "''";
    else if (c == '\\')
      quoted += "\\\\";
    else
      quoted += c;
  }
  return quoted + "'";
}

std::string MysqlRenderer::declared_type(const std::string& type) const {
  auto portable = ops::parse_portable_type(type);
  if (!portable) return type;
  switch (portable->kind) {
    case TypeKind::integer:
      return "int";
    case TypeKind::bigint:
      return "bigint";
    case TypeKind::smallint:
      return "smallint";
    case TypeKind::boolean:
      return "tinyint(1)";
    case TypeKind::string:
      return fmt::format("varchar({})", portable->length);
    case TypeKind::text:
      return "text";
    case TypeKind::mediumtext:
      return "mediumtext";
    case TypeKind::float_:
      return "float";
    case TypeKind::double_:
      return "double";
    case TypeKind::decimal:
      return fmt::format("decimal({},{})", portable->precision, portable->scale);
    case TypeKind::datetime:
      return "datetime";
    case TypeKind::date:
      return "date";
    case TypeKind::blob:
      return "mediumblob";
    case TypeKind::json:
      return "json";
    case TypeKind::enumeration: {
      std::vector<std::string> values;
      for (const auto& value : portable->values) values.push_back(literal(value));
      return fmt::format("enum({})", fmt::join(values, ","));
    }
  }
  return type;
}

std::string MysqlRenderer::column_type(const ops::ColumnSpec& column, const std::string&) const {
  return declared_type(column.type);
}

std::string MysqlRenderer::default_clause(const std::string& type, const std::string& expression) const {
  static const std::regex expression_only(R"(^\s*(tiny|medium|long)?(text|blob)\b|^\s*json\b)", std::regex::icase);
  if (std::regex_search(declared_type(type), expression_only)) return " DEFAULT (" + expression + ")";
  return " DEFAULT " + expression;
}

std::string MysqlRenderer::column_definition(const ops::ColumnSpec& column, const std::string& table) const {
  std::string definition = quote(column.name) + " " + column_type(column, table);
  if (!column.nullable || column.primary_key) definition += " NOT NULL";
  if (column.default_value) definition += default_clause(column.type, *column.default_value);
  if (column.autoincrement) definition += " AUTO_INCREMENT";
  if (column.primary_key) definition += " PRIMARY KEY";
  return definition;
}

std::vector<Step> MysqlRenderer::create_table(const ops::CreateTable& op, const RenderContext& context) const {
  auto steps = SqlRenderer::create_table(op, context);
  // Foreign keys and online DDL need InnoDB, whatever the server's default engine.
  for (auto& step : steps)
    if (step.sql.rfind("CREATE TABLE ", 0) == 0) step.sql += " ENGINE=InnoDB";
  return steps;
}

std::vector<Step> MysqlRenderer::add_column(const ops::AddColumn& op, const RenderContext& context) const {
  const std::string& table = op.table;
  const ops::ColumnSpec& column = op.column;
  std::string sql = fmt::format("ALTER TABLE {} ADD COLUMN {}", quote(table), column_definition(column, table));
  if (column.references) {
    // MySQL ignores REFERENCES written on a column: the key is a table constraint. Adding
    // it validates the rows, which InnoDB does only by copying the table.
    const auto dot = column.references->find('.');
    sql += fmt::format(", ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}){}",
                       quote(generated_name(table + "_" + column.name + "_fkey")), quote(column.name),
                       quote(column.references->substr(0, dot)), quote(column.references->substr(dot + 1)),
                       column.on_delete ? " ON DELETE " + *column.on_delete : "");
  } else {
    // A metadata change only; MysqlConnection::execute falls back to INPLACE where the
    // server cannot add this column instantly.
    sql += ", ALGORITHM=INSTANT";
  }
  std::vector<Step> steps{{sql}};
  if (column.unique)
    for (auto& step : create_index({table, {generated_name(table + "_" + column.name + "_key"), {column.name}, true}}, context))
      steps.push_back(step);
  return steps;
}

std::vector<Step> MysqlRenderer::create_index(const ops::CreateIndex& op, const RenderContext&) const {
  const std::string& table = op.table;
  const ops::IndexSpec& index = op.index;
  Step step{fmt::format("ALTER TABLE {} ADD {}INDEX {} ({}){}", quote(table), index.unique ? "UNIQUE " : "",
                        quote(index.name), quoted_list(*this, index.columns), kOnline)};
  // A unique one stays a single statement everywhere: built on one node at a time, a
  // node with it would refuse a duplicate the others still let through.
  if (!index.unique) {
    step.builds_index = index.name;
    step.index_table = table;
  }
  return {step};
}

std::vector<Step> MysqlRenderer::add_unique(const ops::AddUnique& op, const RenderContext&) const {
  return {{fmt::format("ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({}){}", quote(op.table), quote(op.name),
                       quoted_list(*this, op.columns), kOnline)}};
}

std::vector<Step> MysqlRenderer::add_foreign_key(const ops::AddForeignKey& op, const RenderContext&) const {
  // With the key checked, InnoDB adds a foreign key only by copying the table, writes
  // blocked all along. Unchecked it is an in-place metadata change; every write after it
  // is checked, and the rows that were there are checked by the next step instead.
  const std::string table = quote(op.table), parent = quote(op.referenced_table);
  std::vector<std::string> present, matches;
  for (size_t i = 0; i < op.columns.size() && i < op.referenced_columns.size(); ++i) {
    present.push_back(fmt::format("c.{} IS NOT NULL", quote(op.columns[i])));
    matches.push_back(fmt::format("p.{} = c.{}", quote(op.referenced_columns[i]), quote(op.columns[i])));
  }
  // MESSAGE_TEXT holds 128 characters (the names are plain ASCII identifiers).
  const std::string message =
      fmt::format("foreign key {}: rows of {} reference no row of {}; fix them and rerun", op.name, op.table,
                  op.referenced_table)
          .substr(0, 128);
  return {
      // One statement per step, and the session's setting untouched whatever happens.
      {fmt::format("SET STATEMENT foreign_key_checks = 0 FOR\n"
                   "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}){}{}",
                   table, quote(op.name), quoted_list(*this, op.columns), parent,
                   quoted_list(*this, op.referenced_columns), op.on_delete ? " ON DELETE " + *op.on_delete : "",
                   kOnline)},
      {fmt::format("BEGIN NOT ATOMIC\n"
                   "  IF EXISTS (SELECT 1 FROM {} c WHERE {} AND NOT EXISTS (SELECT 1 FROM {} p WHERE {})) THEN\n"
                   "    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = {};\n"
                   "  END IF;\n"
                   "END",
                   table, fmt::join(present, " AND "), parent, fmt::join(matches, " AND "), literal(message))},
  };
}

std::vector<Step> MysqlRenderer::add_check(const ops::AddCheck& op, const RenderContext&) const {
  // InnoDB checks the rows of a new CHECK only by copying the table: there is no online
  // form. LOCK=SHARED is the least blocking the copy allows (reads go on, writes wait for
  // the whole copy); the comment says so wherever the SQL is shown (--dry-run).
  return {{fmt::format("/* blocks writes to {} for a table copy: MariaDB has no online ADD CHECK */ "
                       "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({}), ALGORITHM=COPY, LOCK=SHARED",
                       op.table, quote(op.table), quote(op.name), op.expression)}};
}

Step MysqlRenderer::modify_column(const std::string& table, const schema::Column& column, const std::string& algorithm,
                                  const std::string& comment) const {
  std::string definition =
      quote(column.name) + " " + declared_type(column.type) + (column.nullable ? " NULL" : " NOT NULL");
  if (column.default_value) definition += default_clause(column.type, *column.default_value);
  if (column.autoincrement) definition += " AUTO_INCREMENT";
  // A MODIFY rebuilds the table, then swaps the copy in under an exclusive metadata lock.
  // The server counts that wait in whole seconds, and 0 (a --lock-timeout under a second,
  // rounded down) lost the swap to a writer updating a row every 5 ms every time on a
  // 2,000,000-row table, so each retry rebuilt the table again and the unit never ended.
  // A second is the least the server offers; writers queue behind the swap only while an
  // open transaction of theirs holds the table.
  Step step{fmt::format("{}SET STATEMENT lock_wait_timeout = GREATEST(@@session.lock_wait_timeout, 1) FOR\n"
                        "ALTER TABLE {} MODIFY COLUMN {}{}",
                        comment, quote(table), definition, algorithm)};
  step.copies_table = table;
  return step;
}

std::vector<Step> MysqlRenderer::set_nullable(const ops::SetNullable& op, const RenderContext& context) const {
  const std::string& table = op.table;
  const std::string& column = op.column;
  schema::Column changed =
      ops::require_column(ops::require_table(context.schema, table, "set_nullable"), column, "set_nullable");
  changed.nullable = true;
  return {modify_column(table, changed, kOnline,
                        fmt::format("/* rebuilds {} online: writes go on, the swap at the end waits for a lock */ ",
                                    table))};
}

std::vector<Step> MysqlRenderer::set_not_null(const ops::SetNotNull& op, const RenderContext& context) const {
  const std::string& table = op.table;
  const std::string& column = op.column;
  schema::Column changed =
      ops::require_column(ops::require_table(context.schema, table, "set_not_null"), column, "set_not_null");
  // Online too: InnoDB checks the existing rows while it rebuilds (strict mode makes a NULL fail it).
  changed.nullable = false;
  return {modify_column(table, changed, kOnline,
                        fmt::format("/* rebuilds {} online, checking every row: writes go on, the swap at the end "
                                    "waits for a lock */ ",
                                    table))};
}

std::vector<Step> MysqlRenderer::alter_type(const ops::AlterType& op, const RenderContext& context) const {
  schema::Column changed =
      ops::require_column(ops::require_table(context.schema, op.table, "alter_type"), op.column, "alter_type");
  changed.type = declared_type(op.type);
  // Most type changes need a table copy, which only the server knows: it picks the
  // cheapest algorithm it has.
  return {modify_column(op.table, changed, "",
                        fmt::format("/* rewrites {}: where the values must be converted the server copies the "
                                    "table and writes to it wait for the whole copy */ ",
                                    op.table))};
}

std::vector<Step> MysqlRenderer::drop_column(const ops::DropColumn& op, const RenderContext& context) const {
  const std::string& table_name = op.table;
  const std::string& column = op.column;
  const auto& table = ops::require_table(context.schema, table_name, "drop_column");
  ops::require_column(table, column, "drop_column");
  // MySQL would narrow a many-column index or unique key to the columns left, and refuses
  // to drop a column a foreign key or CHECK uses: what uses the column goes with it, in
  // the same statement, as on the other dialects.
  std::vector<std::string> clauses;
  for (const auto& key : table.foreign_keys)
    if (contains(key.columns, column)) clauses.push_back("DROP FOREIGN KEY " + quote(key.name));
  for (const auto& unique : table.unique_constraints)
    if (contains(unique.columns, column)) clauses.push_back("DROP INDEX " + quote(unique.name));
  for (const auto& index : table.indexes)
    if (contains(index.columns, column)) clauses.push_back("DROP INDEX " + quote(index.name));
  for (const auto& check : table.checks)
    if (mentions(check.expression, column)) clauses.push_back("DROP CONSTRAINT " + quote(check.name));
  clauses.push_back("DROP COLUMN " + quote(column));
  return {{fmt::format("ALTER TABLE {} {}", quote(table_name), fmt::join(clauses, ", "))}};
}

std::vector<Step> MysqlRenderer::drop_index(const ops::DropIndex& op, const RenderContext&) const {
  return {{fmt::format("ALTER TABLE {} DROP INDEX {}", quote(op.table), quote(op.name))}};
}

std::vector<Step> MysqlRenderer::drop_constraint(const ops::DropConstraint& op, const RenderContext& context) const {
  const std::string& table_name = op.table;
  const std::string& name = op.name;
  const auto& table = ops::require_table(context.schema, table_name, "drop_constraint");
  auto named = [&](const auto& items) {
    return std::any_of(items.begin(), items.end(), [&](const auto& item) { return item.name == name; });
  };
  std::string clause;
  if (named(table.foreign_keys)) {
    std::vector<Step> steps = {{fmt::format("ALTER TABLE {} DROP FOREIGN KEY {}", quote(table_name), quote(name))}};
    // InnoDB made an index for the key, named after it, when none covered its columns,
    // and keeps it when the key goes: the model never declared it, so it goes too,
    // unless another key of the table leans on it now.
    const auto key = std::find_if(table.foreign_keys.begin(), table.foreign_keys.end(),
                                  [&](const auto& item) { return item.name == name; });
    const auto* index = table.find_index(name);
    const bool needed = index && std::any_of(table.foreign_keys.begin(), table.foreign_keys.end(), [&](const auto& other) {
      return other.name != name && other.columns.size() <= index->columns.size() &&
             std::equal(other.columns.begin(), other.columns.end(), index->columns.begin());
    });
    if (index && !index->unique && index->columns == key->columns && !needed)
      steps.push_back({fmt::format("ALTER TABLE {} DROP INDEX {}", quote(table_name), quote(name))});
    return steps;
  }
  if (named(table.unique_constraints) || (table.find_index(name) && table.find_index(name)->unique))
    clause = "DROP INDEX ";
  else if (named(table.checks))
    clause = "DROP CONSTRAINT ";
  else
    throw Error(ErrorKind::step_failed,
                fmt::format("drop_constraint: table '{}' has no constraint '{}'", table_name, name));
  return {{fmt::format("ALTER TABLE {} {}{}", quote(table_name), clause, quote(name))}};
}

std::vector<Step> MysqlRenderer::rename_table(const ops::RenameTable& op, const RenderContext&) const {
  return {{fmt::format("RENAME TABLE {} TO {}", quote(op.from), quote(op.to))}};
}

std::string MysqlRenderer::differs(const std::string& a, const std::string& b) const {
  return fmt::format("NOT (({}) <=> ({}))", a, b);
}

// The bytes, not the collation's view of them.
std::string MysqlRenderer::stored(const std::string& expression) const {
  return fmt::format("CAST(({}) AS BINARY)", expression);
}

std::string MysqlRenderer::copy_rows(const ops::CopyRows& op, const RenderContext&) const {
  std::vector<std::string> targets, sources, updates;
  for (const auto& [target, expression] : op.columns) {
    targets.push_back(quote(target));
    sources.push_back(expression);
    updates.push_back(fmt::format("{}.{} = VALUES({})", quote(op.to), quote(target), quote(target)));
  }
  std::string sql =
      fmt::format("INSERT INTO {} ({}) SELECT {} FROM {} WHERE {}", quote(op.to), fmt::join(targets, ", "),
                  fmt::join(sources, ", "), quote(op.from), op.where.value_or("true"));
  // skip: a no-op update on a duplicate key. INSERT IGNORE would also turn truncation and
  // NOT NULL errors into warnings and copy damaged rows.
  if (op.on_conflict == ops::OnConflict::skip)
    sql += fmt::format(" ON DUPLICATE KEY UPDATE {0}.{1} = {0}.{1}", quote(op.to), targets.front());
  else if (op.on_conflict == ops::OnConflict::update)
    sql += fmt::format(" ON DUPLICATE KEY UPDATE {}", fmt::join(updates, ", "));
  return sql;
}

// A user variable lives in tandem's session only: the application's sessions never see
// it, and the forbid triggers read it for free. tandem_bypass stays empty here.
std::vector<std::string> MysqlRenderer::bypass_forbid(bool on) const {
  return {on ? "SET @tandem_bypass = 1" : "SET @tandem_bypass = NULL"};
}

}  // namespace tandem::mysql
