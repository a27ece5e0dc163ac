// `tandem abort` (DESIGN §16) on every dialect: a version rolled back before its contract,
// the schema exactly as before its expand, the rows both releases wrote kept for the old
// one, refusals that change nothing, and a killed abort that a rerun finishes.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include "conformance.h"
#include "tandem/schema_diff.h"

using namespace tandem;
using namespace tandem::test;

namespace {

const char* kBase = R"Y(description: nodes and instances
operations:
  - create_table:
      name: nodes
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: name, type: string(50)}
  - create_table:
      name: instances
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: uuid, type: string(36)}
        - {name: node, type: string(50)}
        - {name: flavor, type: string(20), nullable: false, default: "'small'"}
)Y";

// A table, a column kept in sync with the old one by triggers, an index, a foreign key
// and a check: what the old release never sees.
const char* kComputeId = R"Y(description: instances point at their node by id
operations:
  - create_table:
      name: key_pairs
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: name, type: string(50)}
        - {name: instance_id, type: integer}
  - add_column: {table: instances, column: {name: compute_id, type: integer}}
  - sync_column:
      table: instances
      old: node
      new: compute_id
      up: "(SELECT id FROM nodes WHERE name = NEW.node)"
      down: "(SELECT name FROM nodes WHERE id = NEW.compute_id)"
  - create_index: {table: instances, name: instances_compute_idx, columns: [compute_id]}
  - add_foreign_key:
      table: instances
      name: instances_compute_fk
      columns: [compute_id]
      references: {table: nodes, columns: [id]}
  - add_check: {table: instances, name: instances_compute_positive, expression: "compute_id > 0"}
  - set_nullable: {table: instances, column: flavor}
)Y";

const char* kBackfill = R"Y(description: every instance gets its compute_id
operations:
  - backfill:
      table: instances
      set: {compute_id: "(SELECT id FROM nodes WHERE nodes.name = instances.node)"}
      where: compute_id IS NULL
)Y";

const char* kDropNode = R"Y(description: node is gone
operations:
  - drop_column: {table: instances, column: node}
)Y";

class SqliteFile final : public ScratchDatabase {
 public:
  std::string url() const override { return dir_.sqlite_url("abort.db"); }
  std::string dialect() const override { return "sqlite"; }

 private:
  TempDir dir_;
};

// A fresh database of `dialect`, or null when its test server is not there.
std::unique_ptr<ScratchDatabase> fresh(const std::string& dialect) {
  if (dialect == "sqlite") return std::make_unique<SqliteFile>();
  const std::string admin = test_server_url(dialect);
  if (admin.empty()) return nullptr;
  return server_scratch(dialect, admin);
}

const std::vector<std::string> kDialects = {"sqlite", "postgresql", "mysql"};

struct Window {
  TempDir repos;
  std::unique_ptr<ScratchDatabase> database;

  explicit Window(std::unique_ptr<ScratchDatabase> scratch, const char* expand = kComputeId,
                  const char* migrate = kBackfill)
      : database(std::move(scratch)) {
    write_version(repos.path(), "001", "base", kBase, "", "");
    write_version(repos.path(), "002", "compute_id", expand, migrate, kDropNode);
  }
  std::string url() const { return database->url(); }
  Result tandem(std::vector<std::string> args, const std::map<std::string, std::string>& env = {}) const {
    args.insert(args.end(), {"--db", url(), "--repos", repos.path().string()});
    return run_tandem(args, repos.path(), env);
  }
  void ok(std::vector<std::string> args) const {
    const Result result = tandem(std::move(args));
    REQUIRE_MESSAGE(result.exit_code == 0, result.all());
  }
  // Version 001 in full, with rows the old release wrote.
  void base() const {
    for (const char* phase : {"expand", "migrate", "contract"}) ok({phase, "--to", "1"});
    execute(url(), "INSERT INTO nodes (id, name) VALUES (1, 'node-a'), (2, 'node-b')");
    execute(url(), "INSERT INTO instances (id, uuid, node) VALUES (1, 'before', 'node-a')");
  }
  std::string inspect() const {
    const Result result = run_tandem({"inspect", "--db", url()});
    REQUIRE_MESSAGE(result.exit_code == 0, result.all());
    return result.out;
  }
  std::string version(const std::string& phase) const {
    return query_rows(url(), fmt::format("SELECT version FROM tandem_version WHERE phase = '{}'", phase)).at(0);
  }
};

// The old release's view of instances.
std::vector<std::string> old_release_rows(const std::string& url) {
  return query_rows(url, "SELECT id, uuid, node, flavor FROM instances ORDER BY id");
}

void expect_schema_of_001(const Window& window, const std::string& before) {
  CHECK(window.inspect() == before);
  const auto live = snapshot(window.url());
  CHECK(live.find_table("key_pairs") == nullptr);
  CHECK(live.find_table("instances")->find_column("compute_id") == nullptr);
  CHECK(live.triggers.empty());
  CHECK(live.functions.empty());
  CHECK(query_rows(window.url(), "SELECT count(*) FROM tandem_triggers") == std::vector<std::string>{"0"});
  CHECK(window.version("expand") == "1");
  CHECK(window.version("migrate") == "1");
}

void abort_after(const std::string& dialect, bool migrate_too) {
  auto scratch = fresh(dialect);
  if (!scratch) return;
  Window window(std::move(scratch));
  window.base();
  const std::string before = window.inspect();
  window.ok({"expand"});
  // The old release writes node only, the new one compute_id only: the triggers fill in the other.
  execute(window.url(), "INSERT INTO instances (id, uuid, node) VALUES (2, 'old', 'node-b')");
  execute(window.url(), "INSERT INTO instances (id, uuid, compute_id) VALUES (3, 'new', 1)");
  execute(window.url(), "UPDATE instances SET compute_id = 2 WHERE id = 1");
  execute(window.url(), "INSERT INTO key_pairs (id, name, instance_id) VALUES (1, 'kp', 3)");
  if (migrate_too) window.ok({"migrate"});
  CHECK(window.tandem({"status", "--check"}).exit_code == (migrate_too ? 4 : 3));

  const Result dry = window.tandem({"abort", "--dry-run"});
  REQUIRE_MESSAGE(dry.exit_code == 0, dry.all());
  CHECK(contains(dry.out, "key_pairs"));
  CHECK(contains(dry.out, "compute_id"));
  CHECK(window.version("expand") == "2");
  CHECK(snapshot(window.url()).find_table("key_pairs") != nullptr);

  const Result aborted = window.tandem({"abort"});
  REQUIRE_MESSAGE(aborted.exit_code == 0, aborted.all());
  CHECK(contains(aborted.out, "version 002 undone"));
  expect_schema_of_001(window, before);
  CHECK(old_release_rows(window.url()) ==
        std::vector<std::string>{"1|before|node-b|small", "2|old|node-b|small", "3|new|node-a|small"});
  // The old release writes as it did before expand.
  execute(window.url(), "INSERT INTO instances (id, uuid, node) VALUES (4, 'after', 'node-a')");
  CHECK(query_rows(window.url(), "SELECT flavor FROM instances WHERE id = 4") == std::vector<std::string>{"small"});

  const Result history = window.tandem({"history"});
  CHECK(has_line_with(history.out, {"expand", "002", "aborted"}));
  CHECK(has_line_with(history.out, {"migrate", "002", "aborted"}) == migrate_too);
  const Result status = window.tandem({"status"});
  CHECK_MESSAGE(contains(status.out, "version 002 was aborted"), status.out);
  CHECK(window.tandem({"status", "--check"}).exit_code == 2);
  // Nothing is in flight any more.
  const Result again = window.tandem({"abort"});
  CHECK(again.exit_code == 0);
  CHECK(contains(again.out, "nothing to abort"));
}

}  // namespace

TEST_CASE("abort: after expand, the schema is as before expand and the old release's rows are all there") {
  for (const auto& dialect : kDialects) {
    CAPTURE(dialect);
    abort_after(dialect, false);
  }
}

TEST_CASE("abort: after expand and migrate, the schema is as before expand and both releases' rows are kept") {
  for (const auto& dialect : kDialects) {
    CAPTURE(dialect);
    abort_after(dialect, true);
  }
}

TEST_CASE("abort: the unit edited after an abort expands, migrates and contracts, and status --check is 0") {
  for (const auto& dialect : kDialects) {
    CAPTURE(dialect);
    auto scratch = fresh(dialect);
    if (!scratch) continue;
    Window window(std::move(scratch));
    window.base();
    window.ok({"expand"});
    window.ok({"migrate"});
    window.ok({"abort"});
    // The fix: compute_id gets a default the old release's inserts did not have.
    std::string fixed = kComputeId;
    fixed.replace(fixed.find("{name: compute_id, type: integer}"), 33,
                  "{name: compute_id, type: integer, default: \"1\"}");
    write_file(window.repos / "expand_repo/002_compute_id.yaml", fixed);
    window.ok({"expand"});
    CHECK(query_rows(window.url(), "SELECT count(*) FROM tandem_history WHERE version = '002' AND phase = 'expand' "
                                   "AND status = 'done'") == std::vector<std::string>{"2"});
    window.ok({"migrate"});
    window.ok({"contract"});
    const Result status = window.tandem({"status", "--check"});
    CHECK_MESSAGE(status.exit_code == 0, status.all());
    CHECK(snapshot(window.url()).find_table("instances")->find_column("node") == nullptr);
  }
}

TEST_CASE("abort: a version that cannot be undone exits 1 naming the unit and the operation, and changes nothing") {
  const char* raw_expand = R"Y(description: raw DDL without a way back
operations:
  - add_column: {table: instances, column: {name: compute_id, type: integer}}
  - sql: "CREATE TABLE audit_log (id integer PRIMARY KEY, note varchar(20))"
)Y";
  const char* deleting = R"Y(description: drops the orphans
operations:
  - delete_rows: {table: instances, where: node IS NULL}
)Y";
  struct Case {
    const char* expand;
    const char* migrate;
    const char* file;
    const char* names;
  };
  const std::vector<Case> cases = {
      {raw_expand, "", "expand_repo/002_compute_id.yaml", "has no abort: key"},
      {kComputeId, deleting, "data_migration_repo/002_compute_id.yaml", "delete_rows"},
  };
  for (const auto& dialect : kDialects)
    for (const auto& unit : cases) {
      CAPTURE(dialect);
      CAPTURE(unit.file);
      auto scratch = fresh(dialect);
      if (!scratch) break;
      Window window(std::move(scratch), unit.expand, unit.migrate);
      const Result check = window.tandem({"check"});
      CHECK_MESSAGE(has_line_with(check.all(), {unit.file, "cannot-abort"}), check.all());
      window.base();
      window.ok({"expand"});
      if (*unit.migrate) window.ok({"migrate"});
      const std::string expanded = window.inspect();
      const auto rows = old_release_rows(window.url());
      const Result refused = window.tandem({"abort"});
      CHECK(refused.exit_code == 1);
      CHECK_MESSAGE(contains(refused.err, unit.file), refused.err);
      CHECK(contains(refused.err, unit.names));
      CHECK(contains(refused.err, "nothing was aborted"));
      CHECK(window.inspect() == expanded);
      CHECK(old_release_rows(window.url()) == rows);
      CHECK(window.version("expand") == "2");
      CHECK(query_rows(window.url(), "SELECT count(*) FROM tandem_history WHERE status = 'aborted'") ==
            std::vector<std::string>{"0"});
    }
}

TEST_CASE("abort: set_nullable is undone only while the column holds no NULL") {
  for (const auto& dialect : kDialects) {
    CAPTURE(dialect);
    auto scratch = fresh(dialect);
    if (!scratch) continue;
    Window window(std::move(scratch));
    window.base();
    const std::string before = window.inspect();
    window.ok({"expand"});
    execute(window.url(), "INSERT INTO instances (id, uuid, compute_id, flavor) VALUES (5, 'nulled', 1, NULL)");
    const Result refused = window.tandem({"abort"});
    CHECK(refused.exit_code == 1);
    CHECK_MESSAGE(contains(refused.err, "expand_repo/002_compute_id.yaml"), refused.err);
    CHECK(contains(refused.err, "set_nullable"));
    CHECK(contains(refused.err, "instances.flavor holds NULLs"));
    CHECK(window.version("expand") == "2");
    CHECK(snapshot(window.url()).find_table("key_pairs") != nullptr);
    execute(window.url(), "UPDATE instances SET flavor = 'large' WHERE id = 5");
    window.ok({"abort"});
    CHECK(window.inspect() == before);
  }
}

TEST_CASE("abort: --to must name the version in flight") {
  for (const auto& dialect : kDialects) {
    CAPTURE(dialect);
    auto scratch = fresh(dialect);
    if (!scratch) continue;
    Window window(std::move(scratch));
    window.base();
    window.ok({"expand"});
    const Result wrong = window.tandem({"abort", "--to", "1"});
    CHECK(wrong.exit_code == 64);
    CHECK_MESSAGE(contains(wrong.err, "--to 1"), wrong.err);
    CHECK(contains(wrong.err, "002"));
    CHECK(window.version("expand") == "2");
    window.ok({"abort", "--to", "2"});
    CHECK(window.version("expand") == "1");
    // Contracted versions are not in flight.
    window.ok({"expand"});
    window.ok({"migrate"});
    window.ok({"contract"});
    const Result late = window.tandem({"abort", "--to", "2"});
    CHECK(late.exit_code == 64);
    CHECK(contains(late.err, "nothing to abort"));
  }
}

TEST_CASE("abort: refused while a live release at or past the version runs, --ignore-releases overrides") {
  for (const auto& dialect : kDialects) {
    CAPTURE(dialect);
    auto scratch = fresh(dialect);
    if (!scratch) continue;
    Window window(std::move(scratch));
    window.base();
    window.ok({"expand"});
    window.ok({"release", "register", "--service", "app", "--release", "1", "--instance", "old"});
    window.ok({"release", "register", "--service", "app", "--release", "2", "--instance", "new"});
    const Result refused = window.tandem({"abort"});
    CHECK(refused.exit_code == 1);
    CHECK_MESSAGE(contains(refused.err, "app/new (release 2"), refused.err);
    CHECK_FALSE(contains(refused.err, "app/old"));
    CHECK(contains(refused.err, "nothing was aborted"));
    CHECK(window.version("expand") == "2");
    window.ok({"abort", "--ignore-releases"});
    CHECK(window.version("expand") == "1");
    CHECK(has_line_with(window.tandem({"history"}).out, {"expand", "002", "releases_ignored"}));
  }
}

TEST_CASE("abort: killed after any step, a rerun ends as an uninterrupted abort") {
  for (const auto& dialect : kDialects) {
    CAPTURE(dialect);
    auto reference_db = fresh(dialect);
    if (!reference_db) continue;
    Window reference(std::move(reference_db));
    reference.base();
    reference.ok({"expand"});
    reference.ok({"migrate"});
    const Result planned = reference.tandem({"abort", "--format", "json"});
    REQUIRE_MESSAGE(planned.exit_code == 0, planned.all());
    const size_t steps = nlohmann::json::parse(planned.out)["units"][0]["sql"].size();
    REQUIRE(steps >= 6);
    const std::string expected = reference.inspect();
    const auto expected_rows = old_release_rows(reference.url());
    for (size_t step = 1; step <= steps; ++step) {
      CAPTURE(step);
      Window killed(fresh(dialect));
      killed.base();
      killed.ok({"expand"});
      killed.ok({"migrate"});
      const Result kill = killed.tandem({"abort"}, {{"TANDEM_FAILPOINT", fmt::format("after_step:{}", step)}});
      REQUIRE_MESSAGE(kill.exit_code == -SIGKILL, kill.all());
      // MySQL's abort is journaled, step by step; elsewhere it rolled back whole.
      if (dialect == "mysql")
        CHECK_MESSAGE(contains(killed.tandem({"status"}).out, "the abort of 002 is half done"),
                      killed.tandem({"status"}).out);
      const Result rerun = killed.tandem({"abort", "--wait", "10"});
      REQUIRE_MESSAGE(rerun.exit_code == 0, rerun.all());
      CHECK(killed.inspect() == expected);
      CHECK(old_release_rows(killed.url()) == expected_rows);
      CHECK(killed.version("expand") == "1");
      CHECK(killed.version("migrate") == "1");
      CHECK(snapshot(killed.url()).triggers.empty());
      CHECK(query_rows(killed.url(), "SELECT count(*) FROM tandem_history WHERE status = 'running'") ==
            std::vector<std::string>{"0"});
      CHECK(query_rows(killed.url(), "SELECT count(*) FROM tandem_history WHERE phase = 'expand' AND status = 'aborted'") ==
            std::vector<std::string>{"1"});
      CHECK(query_rows(killed.url(), "SELECT count(*) FROM tandem_journal") == std::vector<std::string>{"0"});
      const Result nothing = killed.tandem({"abort"});
      CHECK(contains(nothing.out, "nothing to abort"));
    }
  }
}

TEST_CASE("abort: a deployment of an api database and two cells is undone everywhere, the cells first") {
  TempDir dir;
  write_version(dir.path(), "001", "initial", R"Y(description: one table per role
database: cell
operations:
  - create_table: {name: instances, columns: [{name: id, type: integer, primary_key: true}]}
  - database: api
    create_table: {name: cell_mappings, columns: [{name: id, type: integer, primary_key: true}]}
)Y",
                "", "");
  write_version(dir.path(), "002", "host", R"Y(description: a column in every cell, a table in api
database: cell
operations:
  - add_column: {table: instances, column: {name: host, type: string(255)}}
  - database: api
    create_table: {name: host_mappings, columns: [{name: id, type: integer, primary_key: true}]}
)Y",
                "", "");
  write_file(dir / "tandem.yaml", "repos: .\n"
                                  "databases:\n"
                                  "  api: sqlite:api.db\n"
                                  "  cells:\n"
                                  "    cell1: sqlite:cell1.db\n"
                                  "    cell2: sqlite:cell2.db\n");
  REQUIRE(run_tandem({"expand", "--to", "1"}, dir.path()).exit_code == 0);
  auto has_host = [&](const std::string& name) {
    return Sqlite(dir / name).value("SELECT count(*) FROM pragma_table_info('instances') WHERE name = 'host'") == "1";
  };
  // The schema without tandem's own tables.
  auto application_schema = [&](const std::string& name) {
    return Sqlite(dir / name).rows("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'tandem_%' ORDER BY name");
  };
  const auto api_before = application_schema("api.db");
  const auto cell_before = application_schema("cell1.db");
  REQUIRE(run_tandem({"expand"}, dir.path()).exit_code == 0);
  CHECK(has_host("cell2.db"));
  const Result aborted = run_tandem({"abort", "--jobs", "2", "-v"}, dir.path());
  REQUIRE_MESSAGE(aborted.exit_code == 0, aborted.all());
  CHECK(contains(aborted.out, "on 3 databases"));
  CHECK(application_schema("api.db") == api_before);
  CHECK(application_schema("cell1.db") == cell_before);
  CHECK(application_schema("cell2.db") == cell_before);
  CHECK_FALSE(has_host("cell1.db"));
  CHECK_FALSE(has_host("cell2.db"));
  // The cells before the api database.
  const auto api = aborted.all().find("api: abort 002"), cell1 = aborted.all().find("cell1: abort 002"),
             cell2 = aborted.all().find("cell2: abort 002");
  REQUIRE(api != std::string::npos);
  REQUIRE(cell1 != std::string::npos);
  REQUIRE(cell2 != std::string::npos);
  CHECK(cell1 < api);
  CHECK(cell2 < api);
  for (const char* name : {"api.db", "cell1.db", "cell2.db"})
    CHECK(Sqlite(dir / name).value("SELECT version FROM tandem_version WHERE phase = 'expand'") == "1");
  const Result status = run_tandem({"status", "--check"}, dir.path());
  CHECK(status.exit_code == 2);
}
