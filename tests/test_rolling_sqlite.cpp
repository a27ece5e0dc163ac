// A rolling upgrade on SQLite, end to end through the real CLI: both releases write
// during the window, triggers keep the shapes in sync, and status answers at each step.
#include <doctest/doctest.h>

#include "support.h"

using namespace tandem::test;

namespace {

const char* kInitial = R"Y(description: initial schema
operations:
  - create_table:
      name: compute_nodes
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: hypervisor_hostname, type: string(255), nullable: false}
  - create_table:
      name: instances
      shadow: true
      columns:
        - {name: id, type: integer, primary_key: true, autoincrement: true}
        - {name: uuid, type: string(36), nullable: false}
        - {name: node, type: string(255)}
        - {name: deleted, type: integer, nullable: false, default: "0"}
  - create_table:
      name: credentials
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: blob, type: text}
)Y";

const char* kComputeIdExpand = R"Y(description: add instances.compute_id kept in sync with node
operations:
  - add_column: {table: instances, column: {name: compute_id, type: integer}}
  - sync_column:
      table: instances
      old: node
      new: compute_id
      up: (SELECT id FROM compute_nodes WHERE hypervisor_hostname = NEW.node)
      down: (SELECT hypervisor_hostname FROM compute_nodes WHERE id = NEW.compute_id)
  - add_column: {table: credentials, column: {name: blob_v2, type: text}}
  - forbid_writes:
      table: credentials
      on: [insert, update, delete]
      message: credentials are read-only during the upgrade
)Y";

const char* kComputeIdMigrate = R"Y(description: backfill compute_id for rows written before expand
operations:
  - backfill:
      table: instances
      set: {compute_id: "(SELECT id FROM compute_nodes WHERE hypervisor_hostname = instances.node)"}
      where: compute_id IS NULL AND node IS NOT NULL
  - backfill:
      table: credentials
      set: {blob_v2: "'v2:' || blob"}
      where: blob_v2 IS NULL
)Y";

const char* kComputeIdContract = R"Y(description: drop instances.node now that the old release is gone
operations:
  - drop_column: {table: instances, column: node}
  - drop_column: {table: credentials, column: blob}
)Y";

struct Project {
  TempDir dir;
  std::string url = dir.sqlite_url("app.db");
  Project() {
    write_version(dir.path(), "001", "initial", kInitial, "", "");
    write_version(dir.path(), "002", "compute_id", kComputeIdExpand, kComputeIdMigrate, kComputeIdContract);
  }
  Result tandem(std::vector<std::string> args) {
    args.push_back("--db");
    args.push_back(url);
    args.push_back("--repos");
    args.push_back(dir.path().string());
    return run_tandem(args, dir.path());
  }
  int status_code() { return tandem({"status", "--check"}).exit_code; }
};

}  // namespace

TEST_CASE("rolling upgrade on SQLite: both releases write during the window") {
  Project project;
  REQUIRE(project.tandem({"upgrade", "--to", "1"}).exit_code == 0);
  {
    Sqlite db(project.dir / "app.db");
    db.exec("INSERT INTO compute_nodes VALUES (1, 'node-a'), (2, 'node-b');"
            "INSERT INTO instances (uuid, node) VALUES ('before-expand', 'node-a');"
            "INSERT INTO credentials VALUES (1, 'secret');");
  }
  CHECK(project.status_code() == 2);

  SUBCASE("migrate before expand is refused and says what to run first") {
    const Result refused = project.tandem({"migrate"});
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("run `tandem expand` first") != std::string::npos);
    Sqlite db(project.dir / "app.db");
    CHECK(db.value("SELECT version FROM tandem_version WHERE phase = 'migrate'") == "1");
  }

  SUBCASE("expand, both releases write, migrate, contract") {
    const Result expand = project.tandem({"expand"});
    REQUIRE_MESSAGE(expand.exit_code == 0, expand.all());
    CHECK(project.status_code() == 3);
    Sqlite db(project.dir / "app.db");
    // The old release writes only node; the new release writes only compute_id.
    db.exec("INSERT INTO instances (uuid, node) VALUES ('old-release', 'node-b')");
    db.exec("INSERT INTO instances (uuid, compute_id) VALUES ('new-release', 1)");
    CHECK(db.value("SELECT compute_id FROM instances WHERE uuid = 'old-release'") == "2");
    CHECK(db.value("SELECT node FROM instances WHERE uuid = 'new-release'") == "node-a");
    db.exec("UPDATE instances SET node = 'node-a' WHERE uuid = 'old-release'");
    CHECK(db.value("SELECT compute_id FROM instances WHERE uuid = 'old-release'") == "1");
    db.exec("UPDATE instances SET compute_id = 2 WHERE uuid = 'new-release'");
    CHECK(db.value("SELECT node FROM instances WHERE uuid = 'new-release'") == "node-b");
    // A row from before expand is untouched until migrate backfills it.
    CHECK(db.value("SELECT coalesce(compute_id, 'NULL') FROM instances WHERE uuid = 'before-expand'") == "NULL");

    // forbid_writes refuses with its message and removes nothing.
    for (const char* write : {"INSERT INTO credentials (id, blob) VALUES (2, 'x')", "UPDATE credentials SET blob = 'y'",
                              "DELETE FROM credentials"}) {
      try {
        db.exec(write);
        FAIL("write to credentials was not refused: " << write);
      } catch (const std::runtime_error& error) {
        CHECK(std::string(error.what()) == "credentials are read-only during the upgrade");
      }
    }
    CHECK(db.rows("SELECT id, blob FROM credentials") == std::vector<std::string>{"1|secret"});

    const Result contract_early = project.tandem({"contract"});
    CHECK(contract_early.exit_code == 1);
    CHECK(contract_early.err.find("run `tandem migrate` first") != std::string::npos);

    const Result migrate = project.tandem({"migrate"});
    REQUIRE_MESSAGE(migrate.exit_code == 0, migrate.all());
    CHECK(db.value("SELECT compute_id FROM instances WHERE uuid = 'before-expand'") == "1");
    CHECK(db.value("SELECT blob_v2 FROM credentials WHERE id = 1") == "v2:secret");
    CHECK(project.status_code() == 4);

    const Result contract = project.tandem({"contract"});
    REQUIRE_MESSAGE(contract.exit_code == 0, contract.all());
    CHECK(project.status_code() == 0);
    CHECK(db.value("SELECT count(*) FROM pragma_table_info('instances') WHERE name = 'node'") == "0");
    CHECK(db.value("SELECT count(*) FROM pragma_table_info('shadow_instances') WHERE name = 'node'") == "0");
    CHECK(db.value("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'") == "0");
    CHECK(db.value("SELECT count(*) FROM tandem_triggers") == "0");
    // Writes work again once the triggers are gone.
    db.exec("INSERT INTO credentials (id, blob_v2) VALUES (3, 'v2:new')");
    CHECK(db.rows("SELECT uuid, compute_id FROM instances ORDER BY id") ==
          std::vector<std::string>{"before-expand|1", "old-release|1", "new-release|2"});
  }
}

TEST_CASE("upgrade runs every phase offline and installs no triggers") {
  Project project;
  const Result upgrade = project.tandem({"upgrade"});
  REQUIRE_MESSAGE(upgrade.exit_code == 0, upgrade.all());
  Sqlite db(project.dir / "app.db");
  CHECK(db.value("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'") == "0");
  CHECK(db.rows("SELECT phase, version FROM tandem_version ORDER BY phase") ==
        std::vector<std::string>{"contract|2", "expand|2", "migrate|2"});
  CHECK(project.status_code() == 0);
}

TEST_CASE("dry run prints the SQL and changes nothing") {
  Project project;
  REQUIRE(project.tandem({"upgrade", "--to", "1"}).exit_code == 0);
  const std::string before = Sqlite(project.dir / "app.db").schema_dump();
  const Result dry = project.tandem({"expand", "--dry-run"});
  CHECK(dry.exit_code == 0);
  CHECK(dry.out.find("ALTER TABLE \"instances\" ADD COLUMN \"compute_id\" INTEGER;") != std::string::npos);
  CHECK(dry.out.find("CREATE TRIGGER \"tandem_002_instances_compute_id_ins_up\"") != std::string::npos);
  CHECK(Sqlite(project.dir / "app.db").schema_dump() == before);
  CHECK(project.status_code() == 2);
}

TEST_CASE("a dry run on a database file that does not exist creates nothing") {
  Project project;
  const Result dry = project.tandem({"expand", "--dry-run"});
  CHECK(dry.exit_code == 0);
  CHECK(dry.out.find("CREATE TABLE \"instances\"") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(project.dir / "app.db"));
}
