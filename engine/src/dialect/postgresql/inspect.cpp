// The live schema of current_schema(), read from the catalogs with one query per kind
// of object (the runner snapshots before every operation). Indexes that back a
// constraint are reported as the constraint; INVALID indexes (a killed CREATE INDEX
// CONCURRENTLY) are not reported at all, since nothing can use them.
#include <fmt/format.h>

#include <map>

#include "dialect/postgresql/postgresql.h"

namespace tandem::postgresql {

namespace {

// Objects of the tables and views in the application's schema.
constexpr const char* kInSchema = "n.nspname = current_schema()";

std::string text(const Value& value) { return value.value_or(""); }
bool flag(const Value& value) { return value.value_or("f") == "t"; }

std::string on_delete_action(const std::string& code) {
  if (code == "c") return "cascade";
  if (code == "n") return "set null";
  if (code == "r") return "restrict";
  if (code == "d") return "set default";
  return "";  // "a": NO ACTION, the default
}

}  // namespace

schema::Schema inspect(Connection& connection) {
  schema::Schema result;
  std::map<std::string, schema::Table> tables;
  for (const auto& row : connection.query(fmt::format(
           "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
           "WHERE {} AND c.relkind IN ('r', 'p') ORDER BY c.relname",
           kInSchema)))
    if (!schema::is_tandem_table(text(row[0]))) tables[text(row[0])].name = text(row[0]);
  auto table_of = [&](const Value& name) -> schema::Table* {
    auto it = tables.find(text(name));
    return it == tables.end() ? nullptr : &it->second;
  };

  for (const auto& row : connection.query(fmt::format(
           "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
           "pg_get_expr(d.adbin, d.adrelid), a.attidentity <> '', "
           "EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p' AND a.attnum = ANY (k.conkey)) "
           "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
           "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
           "WHERE {} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum",
           kInSchema))) {
    auto* table = table_of(row[0]);
    if (!table) continue;
    schema::Column column;
    column.name = text(row[1]);
    column.type = text(row[2]);
    column.nullable = !flag(row[3]);
    column.default_value = row[4];
    // Identity and serial columns alike; a serial's nextval() default is how it counts,
    // not a default the application chose.
    column.autoincrement = flag(row[5]) || text(row[4]).rfind("nextval(", 0) == 0;
    if (column.autoincrement) column.default_value.reset();
    column.primary_key = flag(row[6]);
    table->columns.push_back(std::move(column));
  }

  for (const auto& row : connection.query(fmt::format(
           "SELECT t.relname, i.relname, x.indisunique, "
           "CASE WHEN k.attnum = 0 THEN pg_get_indexdef(x.indexrelid, k.position::int, true) ELSE a.attname END "
           "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
           "JOIN pg_namespace n ON n.oid = t.relnamespace "
           "CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, position) "
           "LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum "
           "WHERE {} AND x.indisvalid AND k.position <= x.indnkeyatts AND NOT EXISTS ("
           "SELECT 1 FROM pg_constraint c WHERE c.conrelid = x.indrelid AND c.conindid = x.indexrelid "
           "AND c.contype IN ('p', 'u', 'x')) "
           "ORDER BY t.relname, i.relname, k.position",
           kInSchema))) {
    auto* table = table_of(row[0]);
    if (!table) continue;
    if (table->indexes.empty() || table->indexes.back().name != text(row[1]))
      table->indexes.push_back({text(row[1]), {}, flag(row[2])});
    table->indexes.back().columns.push_back(text(row[3]));
  }

  // Unique and foreign keys, one row per column (pairs of columns for foreign keys).
  for (const auto& row : connection.query(fmt::format(
           "SELECT t.relname, k.conname, k.contype, a.attname, f.relname, fa.attname, k.confdeltype "
           "FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
           "CROSS JOIN LATERAL unnest(k.conkey, k.confkey) WITH ORDINALITY AS u(attnum, fattnum, position) "
           "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum "
           "LEFT JOIN pg_class f ON f.oid = k.confrelid "
           "LEFT JOIN pg_attribute fa ON fa.attrelid = k.confrelid AND fa.attnum = u.fattnum "
           "WHERE {} AND k.contype IN ('u', 'f') ORDER BY t.relname, k.contype, k.conname, u.position",
           kInSchema))) {
    auto* table = table_of(row[0]);
    if (!table) continue;
    const std::string name = text(row[1]);
    if (text(row[2]) == "u") {
      if (table->unique_constraints.empty() || table->unique_constraints.back().name != name)
        table->unique_constraints.push_back({name, {}});
      table->unique_constraints.back().columns.push_back(text(row[3]));
    } else {
      if (table->foreign_keys.empty() || table->foreign_keys.back().name != name)
        table->foreign_keys.push_back({name, {}, text(row[4]), {}, on_delete_action(text(row[6]))});
      table->foreign_keys.back().columns.push_back(text(row[3]));
      table->foreign_keys.back().referenced_columns.push_back(text(row[5]));
    }
  }

  for (const auto& row : connection.query(fmt::format(
           "SELECT t.relname, k.conname, pg_get_expr(k.conbin, k.conrelid) "
           "FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
           "WHERE {} AND k.contype = 'c' ORDER BY t.relname, k.conname",
           kInSchema)))
    if (auto* table = table_of(row[0])) table->checks.push_back({text(row[1]), text(row[2])});

  for (auto& [name, table] : tables) result.tables.push_back(std::move(table));

  for (const auto& row : connection.query(fmt::format(
           "SELECT c.relname, pg_get_viewdef(c.oid, true) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
           "WHERE {} AND c.relkind IN ('v', 'm') ORDER BY c.relname",
           kInSchema)))
    result.views.push_back({text(row[0]), text(row[1])});

  for (const auto& row : connection.query(fmt::format(
           "SELECT g.tgname, c.relname, pg_get_triggerdef(g.oid) FROM pg_trigger g "
           "JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
           "WHERE {} AND NOT g.tgisinternal ORDER BY g.tgname, c.relname",
           kInSchema)))
    if (!schema::is_tandem_table(text(row[1]))) result.triggers.push_back({text(row[0]), text(row[1]), text(row[2])});

  // Functions an extension brought along belong to the extension, not the application.
  for (const auto& row : connection.query(fmt::format(
           "SELECT DISTINCT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
           "WHERE {} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass "
           "AND d.objid = p.oid AND d.deptype = 'e') ORDER BY p.proname",
           kInSchema)))
    result.functions.push_back({text(row[0])});
  return result;
}

}  // namespace tandem::postgresql
