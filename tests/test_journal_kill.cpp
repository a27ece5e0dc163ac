// Journaled units (MariaDB DDL, PostgreSQL CONCURRENTLY) killed at every step, the first
// included, through the TANDEM_FAILPOINT test hook rather than timing: the kill comes
// after the step's statement succeeded on the server and before the journal records it.
// Each rerun must end with the schema of an uninterrupted run and no `running` history row.
#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>
#include <stdexcept>

#include "conformance.h"
#include "tandem/schema_diff.h"

using namespace tandem::test;

namespace {

const char* kItems = R"Y(description: items
operations:
  - create_table:
      name: items
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: name, type: string(100)}
        - {name: code, type: string(20)}
)Y";

// Indexes first, so the step a kill is hardest on (the first) is a non-transactional one.
const char* kMore = R"Y(description: more on items
operations:
  - create_index: {table: items, name: items_name_idx, columns: [name]}
  - add_column: {table: items, column: {name: note, type: text}}
  - create_index: {table: items, name: items_code_idx, columns: [code]}
  - add_column: {table: items, column: {name: rank, type: integer, nullable: false, default: "0"}}
  - create_index: {table: items, name: items_rank_idx, columns: [rank]}
)Y";

std::string differences(const tandem::schema::Schema& a, const tandem::schema::Schema& b) {
  std::string out;
  for (const auto& change : tandem::schema::diff(a, b)) out += change.describe() + "\n";
  return out;
}

void kill_at_every_step(const std::string& dialect) {
  const std::string admin = test_server_url(dialect);
  if (admin.empty()) return;
  TempDir repos;
  write_version(repos.path(), "001", "items", kItems, "", "");
  write_version(repos.path(), "002", "more", kMore, "", "");
  auto reference = server_scratch(dialect, admin);
  REQUIRE(run_phase("expand", reference->url(), repos.path()).exit_code == 0);
  const auto steps = query_rows(reference->url(), "SELECT step FROM tandem_history WHERE version = '002'");
  REQUIRE(steps.size() == 1);
  const int step_count = std::stoi(steps[0]);
  REQUIRE(step_count >= 5);
  for (int step = 1; step <= step_count; ++step) {
    CAPTURE(step);
    auto killed = server_scratch(dialect, admin);
    REQUIRE(run_phase("expand", killed->url(), repos.path(), {"--to", "1"}).exit_code == 0);
    const Result kill = run_tandem({"expand", "--db", killed->url(), "--repos", repos.path().string()}, repos.path(),
                                   {{"TANDEM_FAILPOINT", "after_step:" + std::to_string(step)}});
    REQUIRE_MESSAGE(kill.exit_code == -SIGKILL, kill.all());
    // --wait: the server may not yet have ended the killed run's session, which holds the lock.
    const Result rerun = run_phase("expand", killed->url(), repos.path(), {"--wait", "10"});
    REQUIRE_MESSAGE(rerun.exit_code == 0, rerun.all());
    CHECK(differences(snapshot(reference->url()), snapshot(killed->url())) == "");
    CHECK(query_rows(killed->url(), "SELECT version FROM tandem_version WHERE phase = 'expand'") ==
          std::vector<std::string>{"2"});
    CHECK(query_rows(killed->url(), "SELECT count(*) FROM tandem_history WHERE status = 'running'") ==
          std::vector<std::string>{"0"});
    CHECK(query_rows(killed->url(), "SELECT count(*) FROM tandem_history WHERE version = '002' AND status = 'done'") ==
          std::vector<std::string>{"1"});
  }
}

// Ends tandem's sessions from a second connection while its unit is between steps (a
// hold fail-point keeps it there), as a server restart or a DBA would.
void lost_connection_mid_unit(const std::string& dialect) {
  const std::string admin = test_server_url(dialect);
  if (admin.empty()) return;
  TempDir repos, output;
  write_version(repos.path(), "001", "items", kItems, "", "");
  write_version(repos.path(), "002", "more", kMore, "", "");
  auto database = server_scratch(dialect, admin);
  REQUIRE(run_phase("expand", database->url(), repos.path(), {"--to", "1"}).exit_code == 0);
  const FailpointHold hold(output / "hold");
  const int pid = spawn_tandem({"expand", "--db", database->url(), "--repos", repos.path().string()}, output.path(),
                               hold.environment("hold_before_step:2"));
  REQUIRE(hold.wait_reached(pid));
  CHECK(query_rows(database->url(), "SELECT step FROM tandem_journal WHERE version = '002'") ==
        std::vector<std::string>{"1"});
  if (dialect == "mysql") {
    for (const auto& id : query_rows(database->url(), "SELECT id FROM information_schema.processlist WHERE db = "
                                                      "DATABASE() AND id <> CONNECTION_ID()")) {
      // The list may still show a session that was ending (this test's own last query):
      // gone by the KILL, it is "Unknown thread id", and there is nothing left to kill.
      try {
        execute(database->url(), "KILL " + id);
      } catch (const std::exception& error) {
        if (std::string(error.what()).find("Unknown thread id") == std::string::npos) throw;
      }
    }
  } else {
    query_rows(database->url(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                                "current_database() AND pid <> pg_backend_pid()");
  }
  hold.release();
  const int exit_code = wait_for(pid);
  const std::string err = spawned_stderr(output.path());
  CHECK_MESSAGE(exit_code == 69, err);
  CHECK_MESSAGE(err.find("lost the connection") != std::string::npos, err);
  CHECK_MESSAGE(err.find("tandem_history") == std::string::npos, err);
  const Result rerun = run_phase("expand", database->url(), repos.path(), {"--wait", "10"});
  REQUIRE_MESSAGE(rerun.exit_code == 0, rerun.all());
  CHECK(query_rows(database->url(), "SELECT count(*) FROM tandem_history WHERE status = 'running'") ==
        std::vector<std::string>{"0"});
}

// A unit that failed at its second step (a unique index over duplicates), then edited.
void edited_after_failing_part_way(const std::string& dialect) {
  const std::string admin = test_server_url(dialect);
  if (admin.empty()) return;
  TempDir repos;
  const std::string unique = R"Y(description: a unique code
operations:
  - add_column: {table: items, column: {name: d, type: integer}}
  - create_index: {table: items, name: items_code_key, columns: [code], unique: true}
)Y";
  write_version(repos.path(), "001", "items", kItems, "", "");
  write_version(repos.path(), "002", "code", unique, "", "");
  auto database = server_scratch(dialect, admin);
  REQUIRE(run_phase("expand", database->url(), repos.path(), {"--to", "1"}).exit_code == 0);
  execute(database->url(), "INSERT INTO items (id, name, code) VALUES (1, 'a', 'x'), (2, 'b', 'x')");
  const Result failed = run_phase("expand", database->url(), repos.path());
  REQUIRE_MESSAGE(failed.exit_code != 0, failed.all());

  const Result resumable = run_phase("status", database->url(), repos.path(), {"--check"});
  CHECK_MESSAGE(resumable.exit_code == 2, resumable.all());
  CHECK_MESSAGE(resumable.out.find("expand 002 is half applied: 1 of 2 steps done") != std::string::npos,
                resumable.all());

  const std::filesystem::path unit = repos.path() / "expand_repo" / "002_code.yaml";
  std::string edited = unique;
  edited.replace(edited.find(", unique: true"), 14, "");
  write_file(unit, edited);
  const Result refused = run_phase("expand", database->url(), repos.path());
  CHECK(refused.exit_code != 0);
  CHECK_MESSAGE(refused.err.find("002_code.yaml") != std::string::npos, refused.err);
  CHECK_MESSAGE(refused.err.find("1 of its 2 steps applied") != std::string::npos, refused.err);
  CHECK_MESSAGE(refused.err.find("edited since") != std::string::npos, refused.err);
  CHECK_MESSAGE(refused.err.find("run `tandem repair` to undo the applied steps") != std::string::npos, refused.err);
  const Result stuck = run_phase("status", database->url(), repos.path(), {"--check", "--format", "json"});
  CHECK_MESSAGE(stuck.exit_code == 1, stuck.all());
  CHECK_MESSAGE(stuck.out.find("was edited since: run `tandem repair` first") != std::string::npos, stuck.all());

  SUBCASE("the unedited unit, once the data is fixed, resumes at the failed step") {
    write_file(unit, unique);
    execute(database->url(), "UPDATE items SET code = 'y' WHERE id = 2");
    const Result resumed = run_phase("expand", database->url(), repos.path());
    REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.all());
    CHECK(resumed.out.find("resuming expand 002 at step 2") != std::string::npos);
    CHECK(query_rows(database->url(), "SELECT version FROM tandem_version WHERE phase = 'expand'") ==
          std::vector<std::string>{"2"});
  }
  SUBCASE("tandem repair undoes the applied steps, and the edited unit runs") {
    const Result dry = run_phase("repair", database->url(), repos.path(), {"--dry-run"});
    REQUIRE_MESSAGE(dry.exit_code == 0, dry.all());
    CHECK_MESSAGE(dry.all().find("DROP COLUMN") != std::string::npos, dry.all());
    CHECK(snapshot(database->url()).find_table("items")->find_column("d"));
    const Result repaired = run_phase("repair", database->url(), repos.path());
    REQUIRE_MESSAGE(repaired.exit_code == 0, repaired.all());
    CHECK(repaired.out.find("repair: 1 unit undone") != std::string::npos);
    CHECK_FALSE(snapshot(database->url()).find_table("items")->find_column("d"));
    CHECK(query_rows(database->url(), "SELECT count(*) FROM tandem_history WHERE version = '002' AND status = 'repaired'") ==
          std::vector<std::string>{"1"});
    const Result edited_run = run_phase("expand", database->url(), repos.path());
    REQUIRE_MESSAGE(edited_run.exit_code == 0, edited_run.all());
    CHECK(query_rows(database->url(), "SELECT version FROM tandem_version WHERE phase = 'expand'") ==
          std::vector<std::string>{"2"});
    CHECK(run_phase("repair", database->url(), repos.path()).out.find("nothing to repair") != std::string::npos);
  }
  SUBCASE("repair refuses, changing nothing, what it cannot undo") {
    execute(database->url(), "ALTER TABLE items DROP COLUMN name");
    const Result refused_repair = run_phase("repair", database->url(), repos.path());
    CHECK(refused_repair.exit_code == 1);
    CHECK_MESSAGE(refused_repair.err.find("cannot repair version 002 expand") != std::string::npos, refused_repair.err);
    CHECK_MESSAGE(refused_repair.err.find("name") != std::string::npos, refused_repair.err);
    CHECK(snapshot(database->url()).find_table("items")->find_column("d"));
  }
  SUBCASE("its applied steps undone by hand, the edited unit runs afresh") {
    execute(database->url(), "ALTER TABLE items DROP COLUMN d");
    const Result fresh = run_phase("expand", database->url(), repos.path());
    REQUIRE_MESSAGE(fresh.exit_code == 0, fresh.all());
    CHECK(query_rows(database->url(), "SELECT version FROM tandem_version WHERE phase = 'expand'") ==
          std::vector<std::string>{"2"});
    CHECK(query_rows(database->url(), "SELECT count(*) FROM items WHERE d IS NULL") == std::vector<std::string>{"2"});
  }
}

}  // namespace

TEST_CASE("journal kill: mysql, a unit edited after it failed part-way is refused, the unedited one resumes") {
  edited_after_failing_part_way("mysql");
}

TEST_CASE("journal kill: postgresql, a unit edited after it failed part-way is refused, the unedited one resumes") {
  edited_after_failing_part_way("postgresql");
}

TEST_CASE("journal kill: mysql, a session killed mid-unit exits 69 and says the connection was lost") {
  lost_connection_mid_unit("mysql");
}

TEST_CASE("journal kill: postgresql, a session killed mid-unit exits 69 and says the connection was lost") {
  lost_connection_mid_unit("postgresql");
}

TEST_CASE("journal kill: mysql, a kill after any step of a journaled unit, the first included, resumes") {
  kill_at_every_step("mysql");
}

TEST_CASE("journal kill: postgresql, a kill after any step of a journaled unit, the first included, resumes") {
  kill_at_every_step("postgresql");
}
