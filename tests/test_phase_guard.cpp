// Nothing smuggled past the phase rules (issue 9): statements hidden in expressions and
// raw SQL, and data changes in expand and contract that only show while running.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <sstream>
#include <string>
#include <vector>

#include "conformance.h"

using namespace tandem::test;

namespace {

const char* kTable = R"Y(description: a table with rows
operations:
  - create_table:
      name: t
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: n, type: integer}
)Y";

const std::vector<std::string> kRows = {"1|10", "2|20", "3|30"};

// A deployment at version 001 (table t with kRows) whose version 002 holds `expand` and
// `migrate` ("" for a placeholder).
struct Deployment {
  Deployment(const std::string& database_url, const std::string& expand, const std::string& migrate)
      : url(database_url) {
    write_version(repo.path(), "001", "table", kTable, "", "");
    const Result first = run_phase("upgrade", url, repo.path());
    REQUIRE_MESSAGE(first.exit_code == 0, first.all());
    execute(url, "INSERT INTO t (id, n) VALUES (1, 10), (2, 20), (3, 30)");
    write_version(repo.path(), "002", "change", expand, migrate, "");
  }
  std::vector<std::string> rows() const { return query_rows(url, "SELECT id, n FROM t ORDER BY id"); }
  Result run(const std::string& command) const { return run_phase(command, url, repo.path()); }

  TempDir repo;
  std::string url;
};



// 002 refused statically: by `check` (exit `check_exit`, a finding at `location` with
// `code`) and by `upgrade` and `expand`, which run nothing; t keeps its rows.
void expect_refused(const std::string& expand, const std::string& migrate, const std::string& location,
                    const std::string& code, int check_exit, const std::string& detail) {
  TempDir db;
  Deployment deployment(db.sqlite_url("app.db"), expand, migrate);
  const Result check = run_tandem({"check"}, deployment.repo.path());
  INFO("check:\n" << check.all());
  CHECK(check.exit_code == check_exit);
  CHECK(has_line_with(check.out, {location, "error: " + code + ":", "version 002", detail}));
  for (const char* command : {"upgrade", "expand"}) {
    const Result run = deployment.run(command);
    INFO(command << ":\n" << run.all());
    CHECK(run.exit_code == 65);
    CHECK(contains(run.err, location + ": " + code));
    CHECK(contains(run.err, "nothing was run"));
    CHECK(deployment.rows() == kRows);
  }
  CHECK(query_rows(deployment.url, "SELECT version FROM tandem_version WHERE phase = 'expand'") ==
        std::vector<std::string>{"1"});
}

}  // namespace

TEST_CASE("guard: a column default that holds a second statement is refused, the rows intact") {
  expect_refused(R"Y(description: a default with a statement behind it
operations:
  - add_column:
      table: t
      column: {name: flag, type: integer, default: "0; DELETE FROM t"}
)Y",
                 "", "expand_repo/002_change.yaml:5", "bad-expression", 65, "';'");
}

TEST_CASE("guard: raw SQL is split by the rules of the dialect it runs on") {
  // PostgreSQL would read one SELECT of a dollar-quoted string; SQLite and MySQL read a DELETE.
  expect_refused(R"Y(description: a DELETE behind a dollar sign
operations:
  - sql: "SELECT $a$ ; DELETE FROM t; SELECT $a$"
)Y",
                 "", "expand_repo/002_change.yaml:3", "data-in-expand", 1, "(as mysql and sqlite read it)");
}

TEST_CASE("guard: a where that closes its parenthesis early is refused, the rows intact") {
  expect_refused("", R"Y(description: a condition that ends the statement
operations:
  - backfill:
      table: t
      set: {n: "n + 1"}
      where: "1) ; DROP TABLE t; SELECT (1"
)Y",
                 "data_migration_repo/002_change.yaml:3", "bad-expression", 65, "')'");
}

TEST_CASE("guard: a view, a check and trigger expressions are one query or expression each") {
  TempDir dir;
  write_version(dir.path(), "001", "table", kTable, "", "");
  write_version(dir.path(), "002", "change", R"Y(description: expressions with tails
operations:
  - create_view: {name: v, sql: "SELECT id FROM t; DELETE FROM t"}
  - add_check: {table: t, name: positive, expression: "n > 0) OR (1"}
  - sync_column: {table: t, old: n, new: id, up: "NEW.n -- the rest", down: "NEW.id"}
  - forbid_writes: {table: t, on: [delete], when: "'open", message: no}
)Y",
                "", "");
  const Result check = run_tandem({"check"}, dir.path());
  INFO(check.all());
  CHECK(check.exit_code == 65);
  CHECK(has_line_with(check.out, {"expand_repo/002_change.yaml:3", "bad-expression", "view v sql", "not one query"}));
  CHECK(has_line_with(check.out, {"expand_repo/002_change.yaml:4", "bad-expression", "check positive"}));
  CHECK(has_line_with(check.out, {"expand_repo/002_change.yaml:5", "bad-expression", "sync_column t up", "hide"}));
  CHECK(has_line_with(check.out, {"expand_repo/002_change.yaml:6", "bad-expression", "forbid_writes t when"}));
}

TEST_CASE("guard: Connection::execute runs exactly one statement, on every dialect") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    const std::string url = database->url();
    execute(url, "CREATE TABLE t (id integer PRIMARY KEY)");
    execute(url, "INSERT INTO t (id) VALUES (1), (2)");
    auto connection = tandem::connect(tandem::DatabaseUrl::parse(url));
    CHECK_THROWS_AS(connection->execute("SELECT 1; DELETE FROM t"), tandem::Error);
    CHECK_THROWS_AS(connection->execute("SELECT 1;\nDELETE FROM t;"), tandem::Error);
    CHECK_THROWS_AS(connection->query("SELECT 1; DELETE FROM t"), tandem::Error);
    connection->execute("SELECT 1; -- a comment after the statement is fine\n");
    CHECK(query_rows(url, "SELECT count(*) FROM t") == std::vector<std::string>{"2"});
  }
}

namespace {

// A raw `sql` step that says `allow:` passes the static rule; the dynamic rule still sees
// what it writes.
std::string allowed_write(const std::string& description, const std::string& statement) {
  return fmt::format(R"Y(description: {}
operations:
  - sql: {{postgresql: "{}", mysql: "{}", sqlite: "{}", allow: "the author says so"}}
)Y",
                     description, statement, statement, statement);
}

}  // namespace

TEST_CASE("guard: a data change that passes the static rule is stopped while running, the rows intact") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    SUBCASE("expand") {
      Deployment deployment(database->url(), R"Y(description: adds a column, then deletes a row
operations:
  - add_column: {table: t, column: {name: extra, type: integer}}
  - sql: {postgresql: "DELETE FROM t WHERE id = 2", mysql: "DELETE FROM t WHERE id = 2", sqlite: "DELETE FROM t WHERE id = 2", allow: "the author says so"}
)Y",
                            "");
      const Result run = deployment.run("expand");
      INFO(run.all());
      CHECK(run.exit_code == 1);
      CHECK(contains(run.err, "broke the expand rule"));
      CHECK(contains(run.err, "changed 1 row"));
      CHECK(contains(run.err, "DELETE FROM t WHERE id = 2"));
      CHECK(deployment.rows() == kRows);
      CHECK(query_rows(deployment.url, "SELECT version FROM tandem_version WHERE phase = 'expand'") ==
            std::vector<std::string>{"1"});
    }
    SUBCASE("contract") {
      Deployment deployment(database->url(), "", "");
      write_version(deployment.repo.path(), "002", "change", "", "", allowed_write("zeroes a column", "UPDATE t SET n = 0"));
      REQUIRE(deployment.run("expand").exit_code == 0);
      REQUIRE(deployment.run("migrate").exit_code == 0);
      const Result run = deployment.run("contract");
      INFO(run.all());
      CHECK(run.exit_code == 1);
      CHECK(contains(run.err, "broke the contract rule"));
      CHECK(contains(run.err, "changed 3 rows"));
      CHECK(deployment.rows() == kRows);
    }
    SUBCASE("migrate writes as it must") {
      Deployment deployment(database->url(), "", allowed_write("zeroes a column", "UPDATE t SET n = 0"));
      REQUIRE(deployment.run("expand").exit_code == 0);
      const Result run = deployment.run("migrate");
      INFO(run.all());
      CHECK(run.exit_code == 0);
      CHECK(deployment.rows() == std::vector<std::string>{"1|0", "2|0", "3|0"});
    }
  }
}

TEST_CASE("guard: postgresql: a DO block's hidden write in expand is rolled back") {
  for (const auto& database : scratch_databases()) {
    if (database->dialect() != "postgresql") continue;
    Deployment deployment(database->url(), R"Y(description: a DO block that deletes
operations:
  - sql: {postgresql: "DO $$ BEGIN DELETE FROM t; END $$", allow: "an anonymous block"}
)Y",
                          "");
    const Result run = deployment.run("expand");
    INFO(run.all());
    CHECK(run.exit_code == 1);
    CHECK(contains(run.err, "changed 3 rows"));
    CHECK(deployment.rows() == kRows);
  }
}
