// The dialect registry (dialect/registry.cpp) finds each dialect by its URL schemes and
// hands out its factories; tandem's state tables, written once over each dialect's type
// map (state/state_store.cpp), come out with the columns and types they always had.
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "conformance.h"
#include "dialect/dialect.h"
#include "dialect/normalize.h"
#include "state/state_store.h"

using namespace tandem;
using namespace tandem::test;

TEST_CASE("dialect registry: each scheme names its dialect, and each dialect hands out its own parts") {
  const std::map<std::string, std::string> schemes = {{"sqlite", "sqlite"},         {"postgresql", "postgresql"},
                                                      {"postgres", "postgresql"},   {"mysql", "mysql"},
                                                      {"mariadb", "mysql"}};
  for (const auto& [scheme, name] : schemes) {
    CAPTURE(scheme);
    const Dialect* dialect = dialect_for_scheme(scheme);
    REQUIRE(dialect != nullptr);
    CHECK(std::string(dialect_name(dialect->kind())) == name);
    CHECK(dialect->schemes().front() == name);
  }
  CHECK(dialect_for_scheme("oracle") == nullptr);
  CHECK(dialect_for_scheme("") == nullptr);

  std::set<DialectKind> kinds;
  std::vector<std::string> names;
  for (const Dialect* dialect : dialects()) {
    kinds.insert(dialect->kind());
    names.push_back(dialect_name(dialect->kind()));
    CHECK(&dialect_of(dialect->kind()) == dialect);
    CHECK(renderer_for(dialect->kind()).kind() == dialect->kind());
    CHECK(&normalizer_for(dialect->kind()) == &dialect->normalizer());
  }
  CHECK(kinds.size() == 3);
  // The order messages list them in ("as postgresql and mysql read it").
  CHECK(names == std::vector<std::string>{"postgresql", "mysql", "sqlite"});

  // Only servers make verify's scratch databases; a SQLite file is missing until made.
  CHECK_FALSE(dialect_of(DialectKind::sqlite).makes_scratch_databases());
  CHECK(dialect_of(DialectKind::postgresql).makes_scratch_databases());
  CHECK(dialect_of(DialectKind::mysql).makes_scratch_databases());
  TempDir folder;
  const auto missing = DatabaseUrl::parse("sqlite://" + (folder.path() / "none.db").string());
  CHECK(dialect_of(DialectKind::sqlite).is_missing(missing));
  CHECK_FALSE(dialect_of(DialectKind::sqlite).is_missing(DatabaseUrl::parse("sqlite::memory:")));
  CHECK_FALSE(dialect_of(DialectKind::postgresql).is_missing(DatabaseUrl::parse("postgresql://localhost/none")));
}

namespace {

// A column of a state table: its name, what it holds (the type map's input), whether
// NOT NULL was written, whether it alone is the primary key.
struct StateColumn {
  const char* name;
  const char* type;  // "text16" (short text of 16), "long", "document", "int", "bigint", "serial"
  bool not_null;
  bool key = false;
};

const std::map<std::string, std::vector<StateColumn>> kStateTables = {
    {"tandem_version", {{"phase", "text16", false, true}, {"version", "bigint", true}, {"updated_at", "text32", true}}},
    {"tandem_history",
     {{"id", "serial", false, true},
      {"phase", "text16", true},
      {"version", "text32", true},
      {"name", "text191", true},
      {"checksum", "text64", true},
      {"status", "text16", true},
      {"step", "int", true},
      {"error", "long", false},
      {"started_at", "text32", true},
      {"finished_at", "text32", false},
      {"tool_version", "text64", true}}},
    {"tandem_triggers",
     {{"trigger_name", "text191", false, true},
      {"version", "text32", true},
      {"table_name", "text191", true},
      {"function_name", "text191", false},
      {"created_at", "text32", true}}},
    {"tandem_progress",
     {{"phase", "text16", true},
      {"version", "text32", true},
      {"operation", "int", true},
      {"cursor", "long", false},
      {"rows_done", "bigint", true},
      {"rows_found", "bigint", false},
      {"done", "int", true},
      {"updated_at", "text32", true}}},
    {"tandem_bypass", {{"active", "int", true}}},
    {"tandem_journal",
     {{"phase", "text16", true},
      {"version", "text32", true},
      {"checksum", "text64", true},
      {"step", "int", true},
      {"plan", "document", true},
      {"before_schema", "document", true}}},
};

// How `dialect` reports a column of `type`, as the DDL of every earlier release wrote it.
std::string spelled(const std::string& dialect, const std::string& type) {
  const bool text = type.rfind("text", 0) == 0;
  if (dialect == "sqlite") return text || type == "long" || type == "document" ? "TEXT" : "INTEGER";
  if (dialect == "postgresql") {
    if (text || type == "long" || type == "document") return "text";
    return type == "int" ? "integer" : "bigint";
  }
  if (text) return "varchar(" + type.substr(4) + ")";
  if (type == "long") return "mediumtext";
  if (type == "document") return "longtext";
  return type == "serial" ? "bigint" : type;
}

// "name type NOT NULL|NULL" for each column of `table`, in order.
std::vector<std::string> live_columns(Connection& connection, const std::string& dialect, const std::string& table) {
  std::vector<Row> rows;
  if (dialect == "sqlite") {
    for (const auto& row : connection.query("SELECT name, type, \"notnull\" FROM pragma_table_info(?) ORDER BY cid",
                                            {table}))
      rows.push_back({row[0], row[1], row[2] == "1" ? "NO" : "YES"});
  } else if (dialect == "postgresql") {
    rows = connection.query("SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE "
                            "table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
                            {table});
  } else {
    rows = connection.query(
        "SELECT COLUMN_NAME, CONCAT(DATA_TYPE, IF(DATA_TYPE = 'varchar', CONCAT('(', CHARACTER_MAXIMUM_LENGTH, ')'), "
        "'')), IS_NULLABLE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? "
        "ORDER BY ORDINAL_POSITION",
        {table});
  }
  std::vector<std::string> columns;
  for (const auto& row : rows)
    columns.push_back(row[0].value_or("?") + " " + row[1].value_or("?") + (row[2] == "NO" ? " NOT NULL" : " NULL"));
  return columns;
}

}  // namespace

TEST_CASE("conformance: the state tables have the columns and types every earlier release made") {
  for (const auto& database : scratch_databases()) {
    const std::string dialect = database->dialect();
    CAPTURE(dialect);
    auto connection = tandem::connect(DatabaseUrl::parse(database->url()));
    StateStore(*connection).ensure();
    for (const auto& [table, columns] : kStateTables) {
      CAPTURE(table);
      std::vector<std::string> expected;
      for (const auto& column : columns) {
        // A primary key is NOT NULL on the servers; SQLite lets a lone non-INTEGER key be NULL.
        const bool not_null = column.not_null || (column.key && dialect != "sqlite");
        expected.push_back(std::string(column.name) + " " + spelled(dialect, column.type) +
                           (not_null ? " NOT NULL" : " NULL"));
      }
      CHECK(live_columns(*connection, dialect, table) == expected);
    }
  }
}
