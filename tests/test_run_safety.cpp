// What keeps a run safe: the dynamic phase rules, crash consistency, the run lock and
// checksums of applied units.
#include <doctest/doctest.h>
#include <signal.h>

#include "support.h"

using namespace tandem::test;

namespace {

const char* kTwoTables = R"Y(description: two tables
operations:
  - create_table:
      name: accounts
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: email, type: string(255)}
  - create_table:
      name: audit
      columns:
        - {name: id, type: integer, primary_key: true}
)Y";

Result tandem_at(const TempDir& dir, std::vector<std::string> args, const std::map<std::string, std::string>& env = {}) {
  args.insert(args.end(), {"--db", dir.sqlite_url("app.db"), "--repos", dir.path().string()});
  return run_tandem(args, dir.path(), env);
}

}  // namespace

TEST_CASE("a unit that breaks its phase is rolled back by the dynamic rule") {
  TempDir dir;
  write_version(dir.path(), "001", "initial", kTwoTables, "", "");
  write_version(dir.path(), "002", "sneaky_drop", R"Y(description: adds a column but also drops a table
operations:
  - add_column: {table: accounts, column: {name: name, type: string(64)}}
  - sql:
      sqlite: DROP TABLE audit
      allow: "testing the dynamic rule"
)Y",
                "", "");
  REQUIRE(tandem_at(dir, {"upgrade", "--to", "1"}).exit_code == 0);
  const std::string before = Sqlite(dir / "app.db").schema_dump();
  const std::string versions_before = Sqlite(dir / "app.db").rows("SELECT phase, version FROM tandem_version ORDER BY phase")[0];

  const Result expand = tandem_at(dir, {"expand"});
  CHECK(expand.exit_code == 1);
  CHECK(expand.err.find("broke the expand rule") != std::string::npos);
  CHECK(expand.err.find("dropped table audit") != std::string::npos);
  CHECK(expand.err.find("002_sneaky_drop.yaml") != std::string::npos);
  Sqlite db(dir / "app.db");
  CHECK(db.schema_dump() == before);
  CHECK(db.value("SELECT version FROM tandem_version WHERE phase = 'expand'") == "1");
  CHECK(db.value("SELECT status FROM tandem_history WHERE version = '002'") == "failed");
  (void)versions_before;
}

TEST_CASE("migrate may not change the schema, contract may not add") {
  TempDir dir;
  write_version(dir.path(), "001", "initial", kTwoTables, "", "");
  write_version(dir.path(), "002", "bad_phases", "",
                R"Y(description: sneaks a table into migrate
operations:
  - sql: {sqlite: "CREATE TABLE sneaky (id integer)", allow: "testing"}
)Y",
                R"Y(description: sneaks an index into contract
operations:
  - sql: {sqlite: "CREATE INDEX accounts_email ON accounts (email)", allow: "testing"}
)Y");
  REQUIRE(tandem_at(dir, {"upgrade", "--to", "1"}).exit_code == 0);
  REQUIRE(tandem_at(dir, {"expand"}).exit_code == 0);
  const Result migrate = tandem_at(dir, {"migrate"});
  CHECK(migrate.exit_code == 2);  // migrate: 0 complete, 1 rows remain, 2 errors
  CHECK(migrate.err.find("added table sneaky") != std::string::npos);
  CHECK(Sqlite(dir / "app.db").value("SELECT count(*) FROM sqlite_master WHERE name = 'sneaky'") == "0");
}

TEST_CASE("kill -9 in the middle of a unit leaves it before, a rerun completes") {
  TempDir dir;
  write_version(dir.path(), "001", "initial", kTwoTables, "", "");
  write_version(dir.path(), "002", "many_steps", R"Y(description: several steps, to be killed between them
operations:
  - add_column: {table: accounts, column: {name: a1, type: integer}}
  - add_column: {table: accounts, column: {name: a2, type: integer}}
  - create_index: {table: accounts, name: accounts_a1, columns: [a1]}
  - add_column: {table: audit, column: {name: a3, type: text}}
  - create_table:
      name: extra
      columns: [{name: id, type: integer, primary_key: true}]
)Y",
                "", "");
  // The schema an uninterrupted run leaves.
  TempDir reference;
  write_version(reference.path(), "001", "initial", kTwoTables, "", "");
  std::filesystem::copy(dir / "expand_repo" / "002_many_steps.yaml", reference / "expand_repo" / "002_many_steps.yaml");
  std::filesystem::copy(dir / "data_migration_repo" / "002_many_steps.yaml", reference / "data_migration_repo" / "002_many_steps.yaml");
  std::filesystem::copy(dir / "contract_repo" / "002_many_steps.yaml", reference / "contract_repo" / "002_many_steps.yaml");
  REQUIRE(tandem_at(reference, {"upgrade", "--to", "1"}).exit_code == 0);
  REQUIRE(tandem_at(reference, {"expand"}).exit_code == 0);
  const std::string expected_after = Sqlite(reference / "app.db").schema_dump();

  REQUIRE(tandem_at(dir, {"upgrade", "--to", "1"}).exit_code == 0);
  const std::string before = Sqlite(dir / "app.db").schema_dump();
  // Before anything ran, inside the unit's transaction, and after its last operation.
  for (const char* point : {"before_step:1", "after_step:3", "after_step:5"}) {
    CAPTURE(point);
    const Result killed = run_tandem({"expand", "--db", dir.sqlite_url("app.db"), "--repos", dir.path().string()},
                                     dir.path(), {{"TANDEM_FAILPOINT", point}});
    CHECK_MESSAGE(killed.exit_code == -SIGKILL, killed.all());
    Sqlite db(dir / "app.db");
    CHECK(db.schema_dump() == before);
    CHECK(db.value("SELECT version FROM tandem_version WHERE phase = 'expand'") == "1");
  }
  const Result rerun = tandem_at(dir, {"expand"});
  REQUIRE_MESSAGE(rerun.exit_code == 0, rerun.all());
  CHECK(Sqlite(dir / "app.db").schema_dump() == expected_after);
}

TEST_CASE("editing an applied unit stops the next run, naming the file") {
  TempDir dir;
  write_version(dir.path(), "001", "initial", kTwoTables, "", "");
  REQUIRE(tandem_at(dir, {"expand"}).exit_code == 0);
  const auto unit = dir / "expand_repo" / "001_initial.yaml";
  write_file(unit, read_file(unit) + "# a harmless-looking edit\n");
  write_version(dir.path(), "002", "next", R"Y(description: next
operations:
  - add_column: {table: accounts, column: {name: nickname, type: string(64)}}
)Y",
                "", "");
  const Result run = tandem_at(dir, {"expand"});
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("001_initial.yaml") != std::string::npos);
  CHECK(run.err.find("edited") != std::string::npos);
  CHECK(Sqlite(dir / "app.db").value("SELECT version FROM tandem_version WHERE phase = 'expand'") == "1");
  CHECK(tandem_at(dir, {"status", "--check"}).exit_code == 1);
  // Line endings alone do not count as an edit.
  std::string text = read_file(unit);
  text = text.substr(0, text.find("# a harmless-looking edit"));
  std::string crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  write_file(unit, crlf);
  CHECK(tandem_at(dir, {"expand"}).exit_code == 0);
}

TEST_CASE("a run refuses repositories that break the static phase rules, changing nothing") {
  TempDir dir;
  write_version(dir.path(), "001", "initial", kTwoTables, "", "");
  write_version(dir.path(), "002", "data_in_expand", R"Y(description: a data change hidden in expand
operations:
  - sql: "UPDATE accounts SET email = lower(email)"
)Y",
                "", "");
  const Result expand = tandem_at(dir, {"expand"});
  CHECK(expand.exit_code == 65);
  CHECK(expand.err.find("002_data_in_expand.yaml:3: data-in-expand") != std::string::npos);
  CHECK(expand.err.find("nothing was run") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "app.db"));
  CHECK(tandem_at(dir, {"upgrade", "--dry-run"}).exit_code == 65);
}
