// Deployments of several databases: tandem.yaml, roles, narrowing, order across cells.
#include <doctest/doctest.h>

#include "support.h"

using namespace tandem::test;

namespace {

const char* kApiAndCell = R"Y(description: one table per role
database: cell
operations:
  - create_table:
      name: instances
      columns: [{name: id, type: integer, primary_key: true}]
  - database: api
    create_table:
      name: cell_mappings
      columns: [{name: id, type: integer, primary_key: true}]
)Y";

const char* kSecond = R"Y(description: a column in every cell
database: cell
operations:
  - add_column: {table: instances, column: {name: host, type: string(255)}}
)Y";

struct Deployment {
  TempDir dir;
  Deployment() {
    write_version(dir.path(), "001", "initial", kApiAndCell, "", "");
    write_version(dir.path(), "002", "host", kSecond, "", "");
    write_file(dir / "tandem.yaml", "repos: .\n"
                                    "databases:\n"
                                    "  api: sqlite:api.db\n"
                                    "  cells:\n"
                                    "    cell1: sqlite:cell1.db\n"
                                    "    cell2: sqlite:cell2.db\n");
  }
  Result tandem(const std::vector<std::string>& args) { return run_tandem(args, dir.path()); }
  std::string tables(const std::string& db) {
    std::string names;
    for (const auto& row : Sqlite(dir / db).rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                                  "'tandem_%' AND name NOT LIKE 'sqlite_%' ORDER BY name"))
      names += row + " ";
    return names;
  }
};

}  // namespace

TEST_CASE("a config runs each version on the api database, then every cell, each its role's operations") {
  Deployment deployment;
  const Result expand = deployment.tandem({"expand", "--to", "1"});
  REQUIRE_MESSAGE(expand.exit_code == 0, expand.all());
  CHECK(deployment.tables("api.db") == "cell_mappings ");
  CHECK(deployment.tables("cell1.db") == "instances ");
  CHECK(deployment.tables("cell2.db") == "instances ");
  // api first, then the cells in the order of the config.
  const auto api = expand.out.find("api: expand 001"), cell1 = expand.out.find("cell1: expand 001"),
             cell2 = expand.out.find("cell2: expand 001");
  CHECK(api < cell1);
  CHECK(cell1 < cell2);
  const Result status = deployment.tandem({"status", "--format", "json"});
  CHECK(status.out.find("\"database\": \"cell2\"") != std::string::npos);
}

TEST_CASE("--cell narrows a run, and migrate waits until every database has expanded") {
  Deployment deployment;
  REQUIRE(deployment.tandem({"expand", "--to", "1"}).exit_code == 0);
  const Result only_cell1 = deployment.tandem({"expand", "--cell", "cell1"});
  REQUIRE_MESSAGE(only_cell1.exit_code == 0, only_cell1.all());
  CHECK(Sqlite(deployment.dir / "cell1.db").value("SELECT version FROM tandem_version WHERE phase = 'expand'") == "2");
  CHECK(Sqlite(deployment.dir / "cell2.db").value("SELECT version FROM tandem_version WHERE phase = 'expand'") == "1");
  CHECK(deployment.tandem({"status", "--check"}).exit_code == 2);
  const Result migrate = deployment.tandem({"migrate", "--cell", "cell1"});
  CHECK(migrate.exit_code == 1);
  CHECK(migrate.err.find("behind: api (at expand 001), cell2 (at expand 001)") != std::string::npos);
  // Version 001 migrated everywhere it could; 002 waits for cell2.
  CHECK(Sqlite(deployment.dir / "cell1.db").value("SELECT version FROM tandem_version WHERE phase = 'migrate'") == "1");
  REQUIRE(deployment.tandem({"expand"}).exit_code == 0);
  REQUIRE(deployment.tandem({"migrate"}).exit_code == 0);
  REQUIRE(deployment.tandem({"contract"}).exit_code == 0);
  CHECK(deployment.tandem({"status", "--check"}).exit_code == 0);
  const Result unknown = deployment.tandem({"expand", "--cell", "cell9"});
  CHECK(unknown.exit_code == 64);
  CHECK(unknown.err.find("cell9") != std::string::npos);
}

TEST_CASE("a unit that targets a role the deployment lacks is an error, unless --database names the role of --db") {
  Deployment deployment;
  const Result lacking = run_tandem({"expand", "--db", deployment.dir.sqlite_url("solo.db")}, deployment.dir.path());
  CHECK(lacking.exit_code == 78);
  CHECK(lacking.err.find("role 'cell'") != std::string::npos);
  CHECK(lacking.err.find("001_initial.yaml") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(deployment.dir / "solo.db.tandem-lock"));
  const Result as_cell =
      run_tandem({"expand", "--db", deployment.dir.sqlite_url("solo.db"), "--database", "cell"}, deployment.dir.path());
  REQUIRE_MESSAGE(as_cell.exit_code == 0, as_cell.all());
  CHECK(deployment.tables("solo.db") == "instances ");
}

TEST_CASE("a config with an unknown key or a duplicate name is refused with exit 78") {
  TempDir dir;
  write_version(dir.path(), "001", "initial", kApiAndCell, "", "");
  write_file(dir / "bad.yaml", "repos: .\nrepo: typo\ndatabases: {api: sqlite:api.db}\n");
  const Result typo = run_tandem({"status", "--config", "bad.yaml"}, dir.path());
  CHECK(typo.exit_code == 78);
  CHECK(typo.err.find("bad.yaml:2") != std::string::npos);
  CHECK(typo.err.find("unknown key 'repo'") != std::string::npos);
  write_file(dir / "dup.yaml", "databases:\n  api: sqlite:a.db\n  cells: {api: sqlite:b.db}\n");
  const Result duplicate = run_tandem({"status", "--config", "dup.yaml"}, dir.path());
  CHECK(duplicate.exit_code == 78);
  CHECK(duplicate.err.find("'api' is used twice") != std::string::npos);
}

TEST_CASE("--jobs runs the cells at once, a failing cell stops every database at the version boundary") {
  TempDir dir;
  write_version(dir.path(), "001", "initial", kApiAndCell, "", "");
  write_version(dir.path(), "002", "host", kSecond, "", "");
  write_version(dir.path(), "003", "zone", R"Y(description: another column in every cell
database: cell
operations:
  - add_column: {table: instances, column: {name: zone, type: string(64)}}
)Y",
                "", "");
  write_file(dir / "tandem.yaml", "repos: .\ndatabases:\n  api: sqlite:api.db\n  cells:\n    cell1: sqlite:cell1.db\n"
                                  "    cell2: sqlite:cell2.db\n    cell3: sqlite:cell3.db\n");
  REQUIRE(run_tandem({"expand", "--to", "1"}, dir.path()).exit_code == 0);
  // cell2 already has a host column of its own: version 002 fails there.
  Sqlite(dir / "cell2.db").exec("ALTER TABLE instances ADD COLUMN host text");
  const Result expand = run_tandem({"expand", "--jobs", "3"}, dir.path());
  CHECK(expand.exit_code == 1);
  CHECK(expand.err.find("expand 002 failed on 1 database") != std::string::npos);
  CHECK(expand.err.find("cell2: ") != std::string::npos);
  CHECK(expand.err.find("duplicate column name: host") != std::string::npos);
  CHECK(expand.err.find("api at expand 002, cell1 at expand 002, cell2 at expand 001, cell3 at expand 002") !=
        std::string::npos);
  for (const char* db : {"api.db", "cell1.db", "cell3.db"})
    CHECK(Sqlite(dir / db).value("SELECT version FROM tandem_version WHERE phase = 'expand'") == "2");
  CHECK(Sqlite(dir / "cell2.db").value("SELECT version FROM tandem_version WHERE phase = 'expand'") == "1");
  // Nobody went on to 003.
  for (const char* db : {"cell1.db", "cell3.db"})
    CHECK(Sqlite(dir / db).value("SELECT count(*) FROM pragma_table_info('instances') WHERE name = 'zone'") == "0");
  // Once cell2 is repaired the run completes, the cells again three at a time.
  Sqlite(dir / "cell2.db").exec("ALTER TABLE instances DROP COLUMN host");
  const Result again = run_tandem({"expand", "--jobs", "3"}, dir.path());
  REQUIRE_MESSAGE(again.exit_code == 0, again.all());
  for (const char* db : {"cell1.db", "cell2.db", "cell3.db"})
    CHECK(Sqlite(dir / db).value("SELECT version FROM tandem_version WHERE phase = 'expand'") == "3");
}
