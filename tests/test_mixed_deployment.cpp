// The bundled history on one deployment of three dialects: the api database on
// PostgreSQL, one cell on MariaDB and one on SQLite.
#include <doctest/doctest.h>

#include <algorithm>

#include "conformance.h"

using namespace tandem::test;

TEST_CASE("the bundled history runs as a rolling upgrade on api PostgreSQL, cells MariaDB and SQLite") {
  auto databases = scratch_databases();
  auto find = [&](const std::string& dialect) -> ScratchDatabase* {
    auto it = std::find_if(databases.begin(), databases.end(), [&](const auto& d) { return d->dialect() == dialect; });
    return it == databases.end() ? nullptr : it->get();
  };
  ScratchDatabase *postgresql = find("postgresql"), *mysql = find("mysql"), *sqlite = find("sqlite");
  if (!postgresql || !mysql) {
    MESSAGE("SKIPPING the mixed deployment: it needs both test servers (run under tools/test-servers.sh)");
    return;
  }
  TempDir dir;
  write_file(dir / "tandem.yaml", "repos: " + std::string(TANDEM_SOURCE_DIR) +
                                      "\n"
                                      "databases:\n"
                                      "  api: " + postgresql->url() + "\n"
                                      "  cells:\n"
                                      "    cell1: " + mysql->url() + "\n"
                                      "    cell2: " + sqlite->url() + "\n");
  auto tandem = [&](const std::vector<std::string>& args) { return run_tandem(args, dir.path()); };
  auto require_ok = [](const Result& result) { REQUIRE_MESSAGE(result.exit_code == 0, result.all()); };

  require_ok(tandem({"upgrade", "--to", "1"}));
  for (const auto* cell : {mysql, sqlite}) {
    execute(cell->url(), "INSERT INTO compute_nodes (uuid, host, hypervisor_hostname, deleted) VALUES ('cn-a', 'host-a', "
                         "'node-a', 0), ('cn-b', 'host-b', 'node-b', 0)");
    execute(cell->url(), "INSERT INTO instances (uuid, project_id, host, node, deleted) VALUES ('i-1', 'p', 'host-a', "
                         "'node-a', 0)");
  }
  execute(postgresql->url(), "INSERT INTO projects (id, name, domain_id) VALUES ('p', 'web', 'd')");
  execute(postgresql->url(), "INSERT INTO assignments (actor_id, project_id, role) VALUES ('u', 'p', 'member')");
  CHECK(tandem({"status", "--check"}).exit_code == 2);

  require_ok(tandem({"expand"}));
  CHECK(tandem({"status", "--check"}).exit_code == 3);
  // The old release writes node only; the triggers of each dialect fill compute_id.
  for (const auto* cell : {mysql, sqlite}) {
    CAPTURE(cell->dialect());
    execute(cell->url(), "INSERT INTO instances (uuid, project_id, host, node, deleted) VALUES ('i-2', 'p', 'host-b', "
                         "'node-b', 0)");
    CHECK(query_rows(cell->url(), "SELECT c.uuid FROM instances i JOIN compute_nodes c ON c.id = i.compute_id "
                                  "WHERE i.uuid = 'i-2'") == std::vector<std::string>{"cn-b"});
  }
  require_ok(tandem({"migrate"}));
  CHECK(tandem({"status", "--check"}).exit_code == 4);
  for (const auto* cell : {mysql, sqlite})
    CHECK(query_rows(cell->url(), "SELECT count(*) FROM instances WHERE compute_id IS NULL") ==
          std::vector<std::string>{"0"});
  CHECK(query_rows(postgresql->url(), "SELECT domain_id FROM assignments") == std::vector<std::string>{"d"});
  require_ok(tandem({"contract"}));
  const Result status = tandem({"status", "--check"});
  CHECK_MESSAGE(status.exit_code == 0, status.all());
  for (const auto* database : {postgresql, mysql, sqlite}) {
    CAPTURE(database->dialect());
    const auto s = snapshot(database->url());
    CHECK(s.triggers.empty());
    CHECK(s.functions.empty());
  }
}

TEST_CASE("--jobs 3 over api PostgreSQL and three cells of mixed dialects, a failing cell stops all at the boundary") {
  auto first = scratch_databases(), second = scratch_databases();
  auto find = [](auto& databases, const std::string& dialect) -> ScratchDatabase* {
    for (auto& database : databases)
      if (database->dialect() == dialect) return database.get();
    return nullptr;
  };
  ScratchDatabase *api = find(first, "postgresql"), *cell1 = find(first, "mysql"), *cell2 = find(first, "sqlite"),
                  *cell3 = find(second, "postgresql");
  if (!api || !cell1) {
    MESSAGE("SKIPPING the mixed --jobs deployment: it needs both test servers (run under tools/test-servers.sh)");
    return;
  }
  TempDir dir;
  write_version(dir.path(), "001", "initial", R"Y(description: one table per role
database: cell
operations:
  - create_table:
      name: instances
      columns: [{name: id, type: integer, primary_key: true}, {name: n, type: integer}]
  - database: api
    create_table:
      name: cell_mappings
      columns: [{name: id, type: integer, primary_key: true}]
)Y",
                "", "");
  write_version(dir.path(), "002", "host", R"Y(description: a column in every cell
database: cell
operations:
  - add_column: {table: instances, column: {name: host, type: string(255)}}
)Y",
                R"Y(description: fill it
database: cell
operations:
  - backfill: {table: instances, set: {host: "'h' || n"}, where: host IS NULL}
)Y",
                "");
  write_version(dir.path(), "003", "zone", R"Y(description: another column in every cell
database: cell
operations:
  - add_column: {table: instances, column: {name: zone, type: string(64)}}
)Y",
                "", "");
  write_file(dir / "tandem.yaml", "repos: .\ndatabases:\n  api: " + api->url() + "\n  cells:\n    cell1: " + cell1->url() +
                                      "\n    cell2: " + cell2->url() + "\n    cell3: " + cell3->url() + "\n");
  auto tandem = [&](const std::vector<std::string>& args) { return run_tandem(args, dir.path()); };
  REQUIRE(tandem({"expand", "--to", "1", "--jobs", "3"}).exit_code == 0);
  for (const auto* cell : {cell1, cell2, cell3}) execute(cell->url(), "INSERT INTO instances (id, n) VALUES (1, 1), (2, 2)");
  // cell1 (MariaDB) already has a host column of its own: version 002 fails there.
  execute(cell1->url(), "ALTER TABLE instances ADD COLUMN host text");
  const Result failed = tandem({"expand", "--jobs", "3"});
  CHECK(failed.exit_code == 1);
  CHECK(failed.err.find("expand 002 failed on 1 database") != std::string::npos);
  CHECK(failed.err.find("api at expand 002, cell1 at expand 001, cell2 at expand 002, cell3 at expand 002") !=
        std::string::npos);
  for (const auto* cell : {cell2, cell3})
    CHECK(query_rows(cell->url(), "SELECT version FROM tandem_version WHERE phase = 'expand'") ==
          std::vector<std::string>{"2"});
  execute(cell1->url(), "ALTER TABLE instances DROP COLUMN host");
  for (const char* phase : {"expand", "migrate", "contract"}) {
    const Result result = tandem({phase, "--jobs", "3"});
    REQUIRE_MESSAGE(result.exit_code == 0, result.all());
  }
  CHECK(tandem({"status", "--check"}).exit_code == 0);
  for (const auto* cell : {cell1, cell2, cell3})
    CHECK(query_rows(cell->url(), "SELECT id, host FROM instances ORDER BY id") == std::vector<std::string>{"1|h1", "2|h2"});
}
