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
