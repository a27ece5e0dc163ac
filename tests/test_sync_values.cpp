// The sync-trigger value suite (issue 10): sync_column and sync_table copy exactly what
// was stored, on every dialect, for the values a comparison by the type's own equality
// calls equal (case under case-insensitive types and collations, numeric scale, time
// zones, trailing zero bytes), NULLs and empty strings among them. Each case: the old
// release writes and the new column shows it; the new release writes and the old column
// shows it; the mirrored table follows both, and writes back.
#include <doctest/doctest.h>

#include <map>

#include "conformance.h"

using namespace tandem::test;

namespace {

struct Case {
  std::string name;
  std::map<std::string, std::string> old_type, new_type;  // dialect -> column type (new: same as old when absent)
  std::map<std::string, std::vector<std::string>> values;  // dialect -> SQL literals, written in turn ("" key: all)
  bool binary = false;                                     // rendered as hex
  // What the old column holds once the new release wrote `{}` (dialect -> expression), where the types differ.
  std::map<std::string, std::string> as_old;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"ci",
       {{"postgresql", "citext"}, {"mysql", "varchar(32) COLLATE utf8mb4_unicode_ci"}, {"sqlite", "TEXT COLLATE NOCASE"}},
       {},
       {{"", {"'abc'", "'ABC'", "'Zoë'", "'ZOË'", "''", "NULL", "'x'", "'x '", "'X'", "NULL"}}}},
      {"dflt",  // MariaDB's default utf8mb4 collation is case-insensitive too
       {{"postgresql", "text"}, {"mysql", "varchar(32)"}, {"sqlite", "TEXT"}},
       {},
       {{"", {"'abc'", "'ABC'", "'é'", "'e\xcc\x81'", "'日本'", "'日本語'", "'😀'", "''", "NULL", "' '"}}}},
      {"num",
       {{"postgresql", "numeric"}, {"mysql", "decimal(10,2)"}, {"sqlite", "NUMERIC"}},
       {{"postgresql", "text"}, {"mysql", "varchar(32)"}, {"sqlite", "TEXT"}},
       {{"", {"1.5", "1.50", "NULL", "2", "2.00", "0"}}},
       false,
       {{"postgresql", "CAST({} AS numeric)"}, {"mysql", "CAST({} AS DECIMAL(10,2))"}, {"sqlite", "CAST({} AS NUMERIC)"}}},
      {"ts",
       {{"postgresql", "timestamptz"}, {"mysql", "datetime(6)"}, {"sqlite", "TEXT"}},
       {},
       {{"postgresql",
         {"'2024-01-01 10:00:00+00'", "'2024-01-01 12:00:00+02'", "'2024-01-01 12:00:00+00'", "NULL",
          "'2024-01-01 12:00:00.5+00'"}},
        {"", {"'2024-01-01 10:00:00'", "'2024-01-01 12:00:00'", "NULL", "'2024-01-01 12:00:00.5'"}}}},
      {"flag",
       {{"postgresql", "boolean"}, {"mysql", "boolean"}, {"sqlite", "INTEGER"}},
       {},
       {{"", {"true", "false", "NULL", "true", "false"}}}},
      {"kind",
       {{"postgresql", "tandem_kind"}, {"mysql", "enum('small','large')"}, {"sqlite", "TEXT"}},
       {},
       {{"", {"'small'", "'large'", "NULL", "'small'"}}}},
      {"bin",
       {{"postgresql", "bytea"}, {"mysql", "varbinary(16)"}, {"sqlite", "BLOB"}},
       {},
       {{"postgresql",
         {"decode('61', 'hex')", "decode('6100', 'hex')", "decode('610000', 'hex')", "decode('', 'hex')", "NULL",
          "decode('00', 'hex')"}},
        {"", {"X'61'", "X'6100'", "X'610000'", "X''", "NULL", "X'00'"}}},
       true},
  };
  return all;
}

const std::vector<std::string>& values_of(const Case& c, const std::string& dialect) {
  auto found = c.values.find(dialect);
  return found != c.values.end() ? found->second : c.values.at("");
}

std::string type_of(const std::map<std::string, std::string>& types, const Case& c, const std::string& dialect) {
  auto found = types.find(dialect);
  return found != types.end() ? found->second : c.old_type.at(dialect);
}

std::string replace_braces(const std::string& pattern, const std::string& text) {
  auto at = pattern.find("{}");
  return pattern.substr(0, at) + text + pattern.substr(at + 2);
}

class Suite {
 public:
  Suite(const std::string& url, std::string dialect)
      : dialect_(std::move(dialect)), db_(tandem::connect(tandem::DatabaseUrl::parse(url))) {}

  void execute(const std::string& sql) { db_->execute(sql); }

  // The stored value as text, byte for byte (hex for binary).
  std::string render(const Case& c, const std::string& expression) {
    std::string shown = expression;
    if (c.binary) shown = dialect_ == "postgresql" ? "encode(" + expression + ", 'hex')" : "hex(" + expression + ")";
    else if (dialect_ == "postgresql") shown = "(" + expression + ")::text";
    return value("SELECT " + shown + " FROM " + from_);
  }

  bool is_null(const std::string& column) {
    return value("SELECT CASE WHEN " + column + " IS NULL THEN 1 ELSE 0 END FROM " + from_) == "1";
  }

  void at(const std::string& table, int id) {
    from_ = table + " WHERE id = " + std::to_string(id);
  }

  std::string value(const std::string& sql) {
    auto rows = db_->query(sql);
    REQUIRE_MESSAGE(rows.size() == 1, sql);
    return rows[0][0].value_or("NULL");
  }

 private:
  std::string dialect_;
  std::unique_ptr<tandem::Connection> db_;
  std::string from_;
};

}  // namespace

TEST_CASE("conformance: sync triggers copy exactly what was stored, value by value") {
  for (const auto& database : scratch_databases()) {
    const std::string dialect = database->dialect();
    CAPTURE(dialect);
    Suite suite(database->url(), dialect);
    if (dialect == "postgresql") {
      suite.execute("CREATE EXTENSION IF NOT EXISTS citext");
      suite.execute("CREATE TYPE tandem_kind AS ENUM ('small', 'large')");
    }
    std::string v = "CREATE TABLE v (id integer PRIMARY KEY, other integer", w = "CREATE TABLE w (id integer PRIMARY KEY";
    // The same columns with no trigger: what each column stores when written directly.
    std::string plain = "CREATE TABLE plain (id integer PRIMARY KEY";
    std::string expand = "description: sync every value\noperations:\n";
    std::string mirrored = "{id: NEW.id";
    for (const auto& c : cases()) {
      v += ", " + c.name + "_old " + c.old_type.at(dialect) + ", " + c.name + "_new " + type_of(c.new_type, c, dialect);
      w += ", " + c.name + "_old " + c.old_type.at(dialect);
      plain += ", " + c.name + "_old " + c.old_type.at(dialect) + ", " + c.name + "_new " + type_of(c.new_type, c, dialect);
      expand += "  - sync_column: {table: v, old: " + c.name + "_old, new: " + c.name + "_new}\n";
      mirrored += ", " + c.name + "_old: NEW." + c.name + "_old";
    }
    const std::string table_options = dialect == "mysql" ? " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" : "";
    suite.execute(v + ")" + table_options);
    suite.execute(w + ")" + table_options);
    suite.execute(plain + ")" + table_options);
    expand += "  - sync_table: {from: v, to: w, key: id, both_ways: true, columns: " + mirrored + "}}\n";
    TempDir repos;
    write_version(repos.path(), "001", "values", expand, "", "");
    {
      auto result = run_phase("expand", database->url(), repos.path());
      REQUIRE_MESSAGE(result.exit_code == 0, result.all());
    }

    int id = 0;
    for (const auto& c : cases()) {
      CAPTURE(c.name);
      const auto& values = values_of(c, dialect);
      const std::string old_column = c.name + "_old", new_column = c.name + "_new";
      const auto as_old = c.as_old.count(dialect) ? c.as_old.at(dialect) : "{}";
      for (bool old_release : {true, false}) {
        CAPTURE(old_release);
        ++id;
        const std::string written = old_release ? old_column : new_column;
        for (size_t i = 0; i < values.size(); ++i) {
          CAPTURE(values[i]);
          if (i == 0)
            suite.execute("INSERT INTO v (id, " + written + ") VALUES (" + std::to_string(id) + ", " + values[i] + ")");
          else
            suite.execute("UPDATE v SET " + written + " = " + values[i] + " WHERE id = " + std::to_string(id));
          suite.at("v", id);
          if (old_release)
            CHECK(suite.render(c, new_column) == suite.render(c, old_column));
          else
            CHECK(suite.render(c, old_column) == suite.render(c, replace_braces(as_old, new_column)));
          // The mirror holds the old column as it is now.
          const auto in_v = suite.render(c, old_column);
          suite.at("w", id);
          CHECK(suite.render(c, old_column) == in_v);
        }
        // Both columns written at once: each keeps what it was given.
        const auto& last = values.front();
        suite.execute("UPDATE v SET " + old_column + " = " + last + ", " + new_column + " = " + last +
                      " WHERE id = " + std::to_string(id));
        suite.at("v", id);
        CHECK(suite.render(c, old_column) == suite.render(c, replace_braces(as_old, new_column)));
        // Both written at once with different values (a change of case only, other bytes of
        // the same text, ...), from a row where both were NULL, so both changed: each keeps
        // its own, as the table without triggers stores it, and a later write of another
        // column syncs neither.
        for (size_t i = 1; i < values.size(); ++i) {
          if (values[i - 1] == "NULL" || values[i] == "NULL") continue;
          CAPTURE(values[i - 1]);
          CAPTURE(values[i]);
          const std::string both = " SET " + old_column + " = " + values[i - 1] + ", " + new_column + " = " + values[i];
          const std::string row = " WHERE id = " + std::to_string(id);
          suite.execute("UPDATE v SET " + old_column + " = NULL" + row);
          suite.at("v", id);
          REQUIRE(suite.is_null(new_column));
          suite.execute("UPDATE v" + both + row);
          suite.execute("UPDATE v SET other = " + std::to_string(i) + row);
          suite.execute("DELETE FROM plain" + row);
          suite.execute("INSERT INTO plain (id) VALUES (" + std::to_string(id) + ")");
          suite.execute("UPDATE plain" + both + row);
          for (const auto& column : {old_column, new_column}) {
            CAPTURE(column);
            suite.at("plain", id);
            const auto stored = suite.render(c, column);
            suite.at("v", id);
            CHECK(suite.render(c, column) == stored);
          }
        }
        suite.execute("UPDATE v SET " + old_column + " = NULL WHERE id = " + std::to_string(id));
        // The mirror writes back: the old column, and through it the new one, follow.
        for (const auto& value : values) {
          CAPTURE(value);
          suite.execute("UPDATE w SET " + old_column + " = " + value + " WHERE id = " + std::to_string(id));
          suite.at("w", id);
          const auto in_w = suite.render(c, old_column);
          suite.at("v", id);
          CHECK(suite.render(c, old_column) == in_w);
          CHECK(suite.render(c, old_column) == suite.render(c, replace_braces(as_old, new_column)));
        }
      }
    }
  }
}

TEST_CASE("conformance: sync triggers quote mixed-case names, so the old release keeps writing") {
  for (const auto& database : scratch_databases()) {
    const std::string dialect = database->dialect();
    CAPTURE(dialect);
    Suite suite(database->url(), dialect);
    auto q = [&](const std::string& name) { return dialect == "mysql" ? "`" + name + "`" : "\"" + name + "\""; };
    suite.execute("CREATE TABLE " + q("MyTable") + " (" + q("Id") + " integer PRIMARY KEY, " + q("Name") + " text, " +
                  q("FullName") + " text)");
    suite.execute("CREATE TABLE " + q("MyMirror") + " (" + q("Id") + " integer PRIMARY KEY, " + q("Name") + " text)");
    TempDir repos;
    write_version(repos.path(), "001", "mixed_case",
                  "description: mixed-case names\noperations:\n"
                  "  - sync_column: {table: MyTable, old: Name, new: FullName}\n"
                  "  - sync_table: {from: MyTable, to: MyMirror, key: Id, both_ways: true, "
                  "columns: {Id: NEW.Id, Name: NEW.Name}}\n",
                  "", "");
    auto result = run_phase("expand", database->url(), repos.path());
    REQUIRE_MESSAGE(result.exit_code == 0, result.all());
    auto row = [&](const std::string& table, int id) {
      return suite.value("SELECT " + q("Name") + (table == "MyTable" ? " || '|' || " + q("FullName") : "") + " FROM " +
                         q(table) + " WHERE " + q("Id") + " = " + std::to_string(id));
    };
    if (dialect == "mysql") suite.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',PIPES_AS_CONCAT')");
    suite.execute("INSERT INTO " + q("MyTable") + " (" + q("Id") + ", " + q("Name") + ") VALUES (1, 'old')");
    CHECK(row("MyTable", 1) == "old|old");
    suite.execute("UPDATE " + q("MyTable") + " SET " + q("Name") + " = 'older' WHERE " + q("Id") + " = 1");
    CHECK(row("MyTable", 1) == "older|older");
    CHECK(row("MyMirror", 1) == "older");
    suite.execute("INSERT INTO " + q("MyTable") + " (" + q("Id") + ", " + q("FullName") + ") VALUES (2, 'new')");
    CHECK(row("MyTable", 2) == "new|new");
    suite.execute("UPDATE " + q("MyTable") + " SET " + q("FullName") + " = 'newer' WHERE " + q("Id") + " = 2");
    CHECK(row("MyTable", 2) == "newer|newer");
    suite.execute("UPDATE " + q("MyMirror") + " SET " + q("Name") + " = 'mirrored' WHERE " + q("Id") + " = 2");
    CHECK(row("MyTable", 2) == "mirrored|mirrored");
  }
}
