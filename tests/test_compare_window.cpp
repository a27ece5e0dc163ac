// `compare` during a rolling window (DESIGN §18): a database whose expand is ahead of its
// contract is compared with what the history says it holds at its own state, so the
// window is not drift, while a difference made by hand still is.
#include <doctest/doctest.h>

#include "conformance.h"

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
        - {name: node, type: string(50)}
)Y";

const char* kComputeId = R"Y(description: instances point at their node by id
operations:
  - add_column: {table: instances, column: {name: compute_id, type: integer}}
  - sync_column:
      table: instances
      old: node
      new: compute_id
      up: "(SELECT id FROM nodes WHERE name = NEW.node)"
      down: "(SELECT name FROM nodes WHERE id = NEW.compute_id)"
  - create_index: {table: instances, name: instances_compute_idx, columns: [compute_id]}
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

// The schema after every version: node gone, compute_id indexed.
const char* kModel = R"Y(tables:
  - name: nodes
    columns:
      - {name: id, type: integer, primary_key: true}
      - {name: name, type: string(50)}
  - name: instances
    columns:
      - {name: id, type: integer, primary_key: true}
      - {name: compute_id, type: integer}
    indexes:
      - {name: instances_compute_idx, columns: [compute_id]}
)Y";

}  // namespace

TEST_CASE("compare: in a rolling window the database is compared with its own state, and a column added by hand is still drift") {
  for (const auto& database : scratch_databases()) {
    INFO("dialect " << database->dialect());
    TempDir repos;
    write_version(repos.path(), "001", "base", kBase, "", "");
    write_version(repos.path(), "002", "compute_id", kComputeId, kBackfill, kDropNode);
    write_file(repos.path() / "model" / "main.yaml", kModel);
    auto tandem = [&](std::vector<std::string> args) {
      args.insert(args.end(), {"--db", database->url(), "--repos", repos.path().string()});
      return run_tandem(args, repos.path());
    };
    for (const char* phase : {"expand", "migrate", "contract"}) REQUIRE(tandem({phase, "--to", "1"}).exit_code == 0);
    execute(database->url(), "INSERT INTO nodes (id, name) VALUES (1, 'node a')");
    execute(database->url(), "INSERT INTO instances (id, node) VALUES (1, 'node a')");

    // Before the window, the database is behind the model: that is drift.
    const Result behind = tandem({"compare"});
    INFO(behind.all());
    CHECK(behind.exit_code == 1);
    CHECK(contains(behind.out, "column node is in the database but not in the model"));

    // The window: version 002 expanded and migrated, not contracted. node and the sync
    // triggers are what the history says the database holds now.
    REQUIRE(tandem({"expand"}).exit_code == 0);
    REQUIRE(tandem({"migrate"}).exit_code == 0);
    const Result window = tandem({"compare"});
    INFO(window.all());
    CHECK(window.exit_code == 0);
    CHECK(window.out == "");
    CHECK(contains(window.err, "main is in a rolling window: compared with the history at expand 002, contract 001"));
    const Result json = tandem({"compare", "--format", "json"});
    CHECK(json.exit_code == 0);
    CHECK(contains(json.out, "\"compared_with\": \"history at expand 002, contract 001\""));

    // A column made by hand in the window is still drift, named.
    execute(database->url(), "ALTER TABLE instances ADD COLUMN hand_made integer");
    const Result by_hand = tandem({"compare"});
    INFO(by_hand.all());
    CHECK(by_hand.exit_code == 1);
    CHECK(contains(by_hand.out, "table instances: column hand_made is in the database but not in the history at "
                                "expand 002, contract 001"));
    CHECK_FALSE(contains(by_hand.out, "column node"));
    CHECK_FALSE(contains(by_hand.out, "trigger"));
    execute(database->url(), "ALTER TABLE instances DROP COLUMN hand_made");

    // After contract the model is the reference again, and it holds.
    REQUIRE(tandem({"contract"}).exit_code == 0);
    const Result done = tandem({"compare"});
    INFO(done.all());
    CHECK(done.exit_code == 0);
    CHECK_FALSE(contains(done.err, "rolling window"));
  }
}

TEST_CASE("compare: a sync trigger of the window dropped by hand is reported missing") {
  TempDir repos;
  write_version(repos.path(), "001", "base", kBase, "", "");
  write_version(repos.path(), "002", "compute_id", kComputeId, kBackfill, kDropNode);
  write_file(repos.path() / "model" / "main.yaml", kModel);
  const std::string url = repos.sqlite_url("window.db");
  auto tandem = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--db", url, "--repos", repos.path().string()});
    return run_tandem(args, repos.path());
  };
  REQUIRE(tandem({"expand"}).exit_code == 0);
  const auto triggers = query_rows(url, "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name");
  REQUIRE(!triggers.empty());
  execute(url, "DROP TRIGGER \"" + triggers.front() + "\"");
  const Result result = tandem({"compare"});
  INFO(result.all());
  CHECK(result.exit_code == 1);
  CHECK(contains(result.out, "tandem trigger " + triggers.front() + " (installed by version 002's expand) is missing"));
}

// Version 002's expand: a table made by raw SQL, which the simulation cannot follow,
// beside the operations it can.
const char* kAuditBySql = R"Y(description: audit table by hand-written SQL
operations:
  - sql:
      sqlite: &audit CREATE TABLE audit (id integer PRIMARY KEY, note varchar(40), node_id integer)
      postgresql: *audit
      mysql: *audit
      abort: DROP TABLE audit
  - add_column: {table: instances, column: {name: compute_id, type: integer}}
  - sync_column:
      table: instances
      old: node
      new: compute_id
      up: "(SELECT id FROM nodes WHERE name = NEW.node)"
      down: "(SELECT name FROM nodes WHERE id = NEW.compute_id)"
  - create_index: {table: instances, name: instances_compute_idx, columns: [compute_id]}
)Y";

TEST_CASE("compare: a rolling window whose expand ran raw SQL is compared with the history built on scratch SQLite") {
  for (const auto& database : scratch_databases()) {
    INFO("dialect " << database->dialect());
    TempDir repos;
    write_version(repos.path(), "001", "base", kBase, "", "");
    write_version(repos.path(), "002", "audit", kAuditBySql, kBackfill, kDropNode);
    write_file(repos.path() / "model" / "main.yaml",
               std::string(kModel) + "  - name: audit\n    columns:\n      - {name: id, type: integer, primary_key: true}\n"
                                     "      - {name: note, type: string(40)}\n      - {name: node_id, type: integer}\n");
    auto tandem = [&](std::vector<std::string> args) {
      args.insert(args.end(), {"--db", database->url(), "--repos", repos.path().string()});
      return run_tandem(args, repos.path());
    };
    for (const char* phase : {"expand", "migrate", "contract"}) REQUIRE(tandem({phase, "--to", "1"}).exit_code == 0);
    REQUIRE(tandem({"expand"}).exit_code == 0);

    // The window: audit (made by the raw SQL), node and compute_id and the sync triggers
    // are what the history holds; no drift, and stderr says how it was known.
    const Result window = tandem({"compare"});
    INFO(window.all());
    CHECK(window.exit_code == 0);
    CHECK(window.out == "");
    CHECK(contains(window.err, "raw sql at " + (repos.path() / "expand_repo" / "002_audit.yaml").string() +
                                   ":3 changes its schema, so the history at expand 002, contract 001 was built on a "
                                   "scratch SQLite database"));
    CHECK(contains(window.err, "main is in a rolling window: compared with the history at expand 002, contract 001"));

    // A column made by hand on the table the raw SQL made is still drift, named.
    execute(database->url(), "ALTER TABLE audit ADD COLUMN hand_made integer");
    const Result by_hand = tandem({"compare"});
    INFO(by_hand.all());
    CHECK(by_hand.exit_code == 1);
    CHECK(contains(by_hand.out, "table audit: column hand_made is in the database but not in the history at "
                                "expand 002, contract 001"));
    CHECK_FALSE(contains(by_hand.out, "column node"));
    CHECK_FALSE(contains(by_hand.out, "trigger"));
    execute(database->url(), "ALTER TABLE audit DROP COLUMN hand_made");

    // After contract the model is the reference again, and it holds.
    REQUIRE(tandem({"migrate"}).exit_code == 0);
    REQUIRE(tandem({"contract"}).exit_code == 0);
    const Result done = tandem({"compare"});
    INFO(done.all());
    CHECK(done.exit_code == 0);
  }
}

TEST_CASE("compare: a rolling window whose raw SQL has no SQLite text exits 65 naming the unit") {
  TempDir repos;
  write_version(repos.path(), "001", "base", kBase, "", "");
  write_version(repos.path(), "002", "audit",
                "description: audit\noperations:\n"
                "  - sql: {sqlite: \"CREATE TABLE audit (id integer)\", abort: \"DROP TABLE audit\"}\n",
                "", "");
  write_file(repos.path() / "model" / "main.yaml", kModel);
  const std::string url = repos.sqlite_url("window.db");
  auto tandem = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--db", url, "--repos", repos.path().string()});
    return run_tandem(args, repos.path());
  };
  REQUIRE(tandem({"expand"}).exit_code == 0);
  // The same version, now written for PostgreSQL only: applied units may not change, so
  // it is a fresh repository whose database stands at the same state.
  TempDir other;
  write_version(other.path(), "001", "base", kBase, "", "");
  write_version(other.path(), "002", "audit",
                "description: audit\noperations:\n"
                "  - sql: {postgresql: \"CREATE TABLE audit (id integer)\", abort: \"DROP TABLE audit\"}\n",
                "", "");
  const Result result = run_tandem({"compare", "--db", url, "--repos", other.path().string(), "--model",
                                    (repos.path() / "model").string()},
                                   other.path());
  INFO(result.all());
  CHECK(result.exit_code == 65);
  CHECK(contains(result.err, "raw sql at " + (other.path() / "expand_repo" / "002_audit.yaml").string() + ":3"));
  CHECK(contains(result.err, "did not build on a scratch SQLite database"));
  CHECK(contains(result.err, "no text for sqlite"));
}

TEST_CASE("compare: a rolling window with no repositories at hand is compared with the model, and says so") {
  TempDir repos;
  write_version(repos.path(), "001", "base", kBase, "", "");
  write_version(repos.path(), "002", "compute_id", kComputeId, kBackfill, kDropNode);
  write_file(repos.path() / "model" / "main.yaml", kModel);
  const std::string url = repos.sqlite_url("window.db");
  REQUIRE(run_tandem({"expand", "--db", url, "--repos", repos.path().string()}, repos.path()).exit_code == 0);
  TempDir elsewhere;
  const Result result =
      run_tandem({"compare", "--db", url, "--model", (repos.path() / "model").string()}, elsewhere.path());
  INFO(result.all());
  CHECK(result.exit_code == 1);
  CHECK(contains(result.err, "main is in a rolling window (expand 002, contract 000), but . holds no repositories"));
  CHECK(contains(result.out, "column node is in the database but not in the model"));
}

TEST_CASE("compare: a rolling window whose repositories have no unit for its role is compared with the model, and says so") {
  TempDir repos;
  write_version(repos.path(), "001", "base", kBase, "", "");
  write_version(repos.path(), "002", "compute_id", kComputeId, kBackfill, kDropNode);
  write_file(repos.path() / "model" / "main.yaml", kModel);
  const std::string url = repos.sqlite_url("window.db");
  REQUIRE(run_tandem({"expand", "--db", url, "--repos", repos.path().string()}, repos.path()).exit_code == 0);
  // The bundled history changes api and cell databases only.
  const Result result = run_tandem(
      {"compare", "--db", url, "--repos", TANDEM_SOURCE_DIR, "--model", (repos.path() / "model").string()}, repos.path());
  INFO(result.all());
  CHECK(result.exit_code == 1);
  CHECK(contains(result.err, "no unit under"));
  CHECK(contains(result.err, "changes main databases"));
  CHECK(contains(result.out, "column node is in the database but not in the model"));
  CHECK_FALSE(contains(result.out, "table nodes"));
}
