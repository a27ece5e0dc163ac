// A rolling upgrade on every dialect, end to end through the real CLI: both releases
// write during the window, triggers keep the shapes in sync, and status answers at each step.
#include <doctest/doctest.h>

#include <atomic>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "conformance.h"
#include "tandem/schema_diff.h"

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
        - {name: secret, type: text}
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
      set: {blob_v2: "'v2:' || secret"}
      where: blob_v2 IS NULL
)Y";

const char* kComputeIdContract = R"Y(description: drop instances.node now that the old release is gone
operations:
  - drop_column: {table: instances, column: node}
  - drop_column: {table: credentials, column: secret}
)Y";

struct Project {
  TempDir dir;
  std::string url;
  explicit Project(std::string database_url) : url(std::move(database_url)) {
    write_version(dir.path(), "001", "initial", kInitial, "", "");
    write_version(dir.path(), "002", "compute_id", kComputeIdExpand, kComputeIdMigrate, kComputeIdContract);
  }
  Result tandem(std::vector<std::string> args) { return run_phase(args.front(), url, dir.path(), {args.begin() + 1, args.end()}); }
  int status_code() { return tandem({"status", "--check"}).exit_code; }
  std::string value(const std::string& sql) {
    auto rows = query_rows(url, sql);
    return rows.empty() ? "" : rows.front();
  }
};

// Runs `write` and returns the error text it raised ("" when it was accepted).
std::string refusal(const std::string& url, const std::string& write) {
  try {
    execute(url, write);
  } catch (const std::exception& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("rolling upgrade: both releases write during the window") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    Project project(database->url());
    REQUIRE(project.tandem({"upgrade", "--to", "1"}).exit_code == 0);
    execute(project.url, "INSERT INTO compute_nodes (id, hypervisor_hostname) VALUES (1, 'node-a'), (2, 'node-b')");
    execute(project.url, "INSERT INTO instances (uuid, node) VALUES ('before-expand', 'node-a')");
    execute(project.url, "INSERT INTO credentials (id, secret) VALUES (1, 'secret')");
    CHECK(project.status_code() == 2);

    const Result refused = project.tandem({"migrate"});
    CHECK(refused.exit_code == 1);  // an order refusal is 1 from every phase command
    CHECK(refused.err.find("run `tandem expand` first") != std::string::npos);
    CHECK(project.value("SELECT version FROM tandem_version WHERE phase = 'migrate'") == "1");

    const Result expand = project.tandem({"expand"});
    REQUIRE_MESSAGE(expand.exit_code == 0, expand.all());
    CHECK(project.status_code() == 3);
    // The old release writes only node; the new release writes only compute_id.
    execute(project.url, "INSERT INTO instances (uuid, node) VALUES ('old-release', 'node-b')");
    execute(project.url, "INSERT INTO instances (uuid, compute_id) VALUES ('new-release', 1)");
    CHECK(project.value("SELECT compute_id FROM instances WHERE uuid = 'old-release'") == "2");
    CHECK(project.value("SELECT node FROM instances WHERE uuid = 'new-release'") == "node-a");
    execute(project.url, "UPDATE instances SET node = 'node-a' WHERE uuid = 'old-release'");
    CHECK(project.value("SELECT compute_id FROM instances WHERE uuid = 'old-release'") == "1");
    execute(project.url, "UPDATE instances SET compute_id = 2 WHERE uuid = 'new-release'");
    CHECK(project.value("SELECT node FROM instances WHERE uuid = 'new-release'") == "node-b");
    // A row from before expand waits for migrate.
    CHECK(project.value("SELECT compute_id FROM instances WHERE uuid = 'before-expand'") == "NULL");

    // forbid_writes refuses with its message and removes nothing.
    for (const char* write : {"INSERT INTO credentials (id, secret) VALUES (2, 'x')", "UPDATE credentials SET secret = 'y'",
                              "DELETE FROM credentials"})
      CHECK_MESSAGE(refusal(project.url, write).find("credentials are read-only during the upgrade") != std::string::npos,
                    write);
    CHECK(query_rows(project.url, "SELECT id, secret FROM credentials") == std::vector<std::string>{"1|secret"});

    const Result contract_early = project.tandem({"contract"});
    CHECK(contract_early.exit_code == 1);
    CHECK(contract_early.err.find("run `tandem migrate` first") != std::string::npos);

    const Result migrate = project.tandem({"migrate"});
    REQUIRE_MESSAGE(migrate.exit_code == 0, migrate.all());
    CHECK(project.value("SELECT compute_id FROM instances WHERE uuid = 'before-expand'") == "1");
    CHECK(project.value("SELECT blob_v2 FROM credentials WHERE id = 1") == "v2:secret");
    CHECK(project.status_code() == 4);

    const Result contract = project.tandem({"contract"});
    REQUIRE_MESSAGE(contract.exit_code == 0, contract.all());
    CHECK(project.status_code() == 0);
    const auto s = snapshot(project.url);
    CHECK(s.find_table("instances")->find_column("node") == nullptr);
    CHECK(s.find_table("shadow_instances")->find_column("node") == nullptr);
    CHECK(s.triggers.empty());
    CHECK(s.functions.empty());
    CHECK(project.value("SELECT count(*) FROM tandem_triggers") == "0");
    // Writes work again once the triggers are gone.
    execute(project.url, "INSERT INTO credentials (id, blob_v2) VALUES (3, 'v2:new')");
    CHECK(query_rows(project.url, "SELECT uuid, compute_id FROM instances ORDER BY id") ==
          std::vector<std::string>{"before-expand|1", "old-release|1", "new-release|2"});
  }
}

TEST_CASE("rolling upgrade: two releases writing at once while migrate backfills lose nothing") {
  constexpr int kRowsBefore = 3000, kInserts = 2000, kUpdates = 1000;
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    Project project(database->url());
    // An application with concurrent writers runs SQLite in WAL mode, as the demo does.
    if (database->dialect() == "sqlite") execute(project.url, "PRAGMA journal_mode = WAL");
    REQUIRE(project.tandem({"upgrade", "--to", "1"}).exit_code == 0);
    std::string nodes = "INSERT INTO compute_nodes (id, hypervisor_hostname) VALUES ";
    for (int i = 1; i <= 10; ++i) nodes += (i > 1 ? ", " : "") + fmt::format("({}, 'node-{}')", i, i);
    execute(project.url, nodes);
    for (int chunk = 0; chunk < kRowsBefore / 500; ++chunk) {
      std::string rows = "INSERT INTO instances (uuid, node) VALUES ";
      for (int i = 0; i < 500; ++i)
        rows += (i ? ", " : "") + fmt::format("('pre-{}', 'node-{}')", chunk * 500 + i, 1 + (chunk * 500 + i) % 10);
      execute(project.url, rows);
    }
    REQUIRE(project.tandem({"expand"}).exit_code == 0);

    std::atomic<bool> failed{false};
    std::string failure;
    std::atomic<int> writing{0};  // writers that have inserted their first 100 rows
    auto writer = [&](const std::string& release) {
      try {
        auto connection = tandem::connect(tandem::DatabaseUrl::parse(project.url));
        std::mt19937 random(release == "old" ? 1 : 2);
        for (int i = 0; i < kInserts; ++i) {
          if (i == 100) ++writing;
          const int node = 1 + static_cast<int>(random() % 10);
          if (release == "old")
            connection->update("INSERT INTO instances (uuid, node) VALUES (?, ?)",
                               {fmt::format("old-{}", i), fmt::format("node-{}", node)});
          else
            connection->update("INSERT INTO instances (uuid, compute_id) VALUES (?, ?)",
                               {fmt::format("new-{}", i), std::to_string(node)});
          if (i % 2 == 0 && i / 2 < kUpdates) {
            // Move an earlier row of either release, or from before expand, to another node.
            const int target = 1 + static_cast<int>(random() % 10);
            const std::string uuid = i % 4 == 0 ? fmt::format("pre-{}", random() % kRowsBefore)
                                                : fmt::format("{}-{}", release, random() % (i + 1));
            if (release == "old")
              connection->update("UPDATE instances SET node = ? WHERE uuid = ?", {fmt::format("node-{}", target), uuid});
            else
              connection->update("UPDATE instances SET compute_id = ? WHERE uuid = ?", {std::to_string(target), uuid});
          }
        }
      } catch (const std::exception& error) {
        failed = true;
        failure = release + " release: " + error.what();
      }
    };
    std::thread old_release(writer, "old"), new_release(writer, "new");
    // Migrate starts once both releases are writing.
    while (writing < 2 && !failed) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const Result migrate = project.tandem({"migrate"});
    old_release.join();
    new_release.join();
    REQUIRE_MESSAGE(!failed, failure);
    REQUIRE_MESSAGE(migrate.exit_code == 0, migrate.all());
    CHECK(project.value("SELECT count(*) FROM instances") == std::to_string(kRowsBefore + 2 * kInserts));
    CHECK(project.value("SELECT count(*) FROM instances WHERE uuid LIKE 'old-%'") == std::to_string(kInserts));
    CHECK(project.value("SELECT count(*) FROM instances WHERE uuid LIKE 'new-%'") == std::to_string(kInserts));
    // Every row's old and new columns agree.
    CHECK(project.value("SELECT count(*) FROM instances WHERE node IS NULL OR compute_id IS NULL") == "0");
    CHECK(project.value("SELECT count(*) FROM instances i JOIN compute_nodes c ON c.id = i.compute_id "
                        "WHERE c.hypervisor_hostname <> i.node") == "0");
    REQUIRE(project.tandem({"contract"}).exit_code == 0);
    CHECK(project.status_code() == 0);
  }
}

TEST_CASE("upgrade runs every phase offline and installs no triggers") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    Project project(database->url());
    const Result upgrade = project.tandem({"upgrade"});
    REQUIRE_MESSAGE(upgrade.exit_code == 0, upgrade.all());
    CHECK(snapshot(project.url).triggers.empty());
    CHECK(query_rows(project.url, "SELECT phase, version FROM tandem_version ORDER BY phase") ==
          std::vector<std::string>{"contract|2", "expand|2", "migrate|2"});
    CHECK(project.status_code() == 0);
  }
}

TEST_CASE("dry run prints the SQL and changes nothing") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    Project project(database->url());
    REQUIRE(project.tandem({"upgrade", "--to", "1"}).exit_code == 0);
    const auto before = snapshot(project.url);
    const Result dry = project.tandem({"expand", "--dry-run"});
    CHECK(dry.exit_code == 0);
    CHECK(dry.out.find("ADD COLUMN") != std::string::npos);
    CHECK(dry.out.find("compute_id") != std::string::npos);
    CHECK(dry.out.find("CREATE TRIGGER") != std::string::npos);
    CHECK(tandem::schema::diff(before, snapshot(project.url)).empty());
    CHECK(project.status_code() == 2);
  }
}

TEST_CASE("a dry run on a SQLite file that does not exist creates nothing") {
  TempDir dir;
  write_version(dir.path(), "001", "initial", kInitial, "", "");
  const Result dry = run_phase("expand", dir.sqlite_url("app.db"), dir.path(), {"--dry-run"});
  CHECK(dry.exit_code == 0);
  CHECK(dry.out.find("CREATE TABLE \"instances\"") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "app.db"));
}
