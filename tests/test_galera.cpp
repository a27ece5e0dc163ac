// tandem on a MariaDB Galera cluster (DESIGN §14), through the CLI, on the private 3-node
// cluster tools/test-servers.sh starts (TANDEM_TEST_GALERA_URLS: one admin URL per node).
// Never mocked: every run goes through a real node, every check reads through a real node.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "conformance.h"
#include "schema_json.h"
#include "tandem/url.h"

using namespace tandem::test;

namespace {

// The admin URLs of the cluster's three nodes, or none after a loud warning that the
// calling test skips; a test failure where servers are required.
std::vector<std::string> galera_urls() {
  const std::string variable = "TANDEM_TEST_GALERA_URLS";
  std::vector<std::string> urls;
  std::stringstream list(test_server_variable(variable, "Galera"));
  for (std::string url; std::getline(list, url, ',');) urls.push_back(url);
  if (!urls.empty()) REQUIRE_MESSAGE(urls.size() == 3, variable << " holds " << urls.size() << " URLs, not 3");
  return urls;
}

// A fresh database made through node 1 (so on every node: CREATE DATABASE replicates),
// and its URL through each node.
struct ClusterDatabase {
  std::unique_ptr<ScratchDatabase> scratch;
  std::vector<std::string> nodes;
  explicit ClusterDatabase(const std::vector<std::string>& admin_urls)
      : scratch(server_scratch("mysql", admin_urls.at(0))) {
    const std::string name = tandem::DatabaseUrl::parse(scratch->url()).database;
    for (const auto& url : admin_urls) nodes.push_back(with_database(url, name));
  }
};

// "127.0.0.1:3306" of a node's URL.
std::string address_of(const std::string& url) {
  const auto parsed = tandem::DatabaseUrl::parse(url);
  return parsed.host + ":" + std::to_string(parsed.port.value_or(3306));
}

const char* kItems = R"Y(description: items
operations:
  - create_table:
      name: items
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: name, type: string(64), nullable: false}
  - create_index: {table: items, name: items_name_idx, columns: [name]}
)Y";

struct Repo {
  TempDir dir;
  Repo() { write_version(dir.path(), "001", "items", kItems, "", ""); }
  std::string path() const { return dir.path().string(); }
};

void require_ok(const Result& result) { REQUIRE_MESSAGE(result.exit_code == 0, result.all()); }

std::string schema_text(const std::string& url) { return nlohmann::json(snapshot(url)).dump(); }

}  // namespace

TEST_CASE("galera: two runs through two nodes, one holds the lease, the other waits --wait seconds and exits 75 naming it") {
  const auto urls = galera_urls();
  if (urls.empty()) return;
  ClusterDatabase database(urls);
  Repo repo;
  const FailpointHold hold(repo.dir / "hold");
  const int first =
      spawn_tandem({"expand", "--db", database.nodes[0], "--repos", repo.path()}, repo.dir.path(),
                   hold.environment("hold_after_step:1"));
  REQUIRE(hold.wait_reached(first));
  const auto started = std::chrono::steady_clock::now();
  const Result second = run_phase("expand", database.nodes[1], repo.dir.path(), {"--wait", "2"});
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  CHECK(second.exit_code == 75);
  CHECK(contains(second.err, "holds the lock"));
  CHECK(contains(second.err, "pid " + std::to_string(first)));
  CHECK(contains(second.err, "Galera"));
  CHECK(waited >= 2.0);
  // Nor does a third node let a run in.
  CHECK(run_phase("expand", database.nodes[2], repo.dir.path(), {"--wait", "0"}).exit_code == 75);
  hold.release();
  CHECK(wait_for(first) == 0);
  const Result again = run_phase("expand", database.nodes[1], repo.dir.path(), {"--wait", "5"});
  CHECK(again.exit_code == 0);
  CHECK(contains(again.out, "nothing to do"));
  CHECK(query_rows(database.nodes[2], "SELECT status FROM tandem_history WHERE phase = 'expand'") ==
        std::vector<std::string>{"done"});
  // Released at the end: no lease row left.
  CHECK(query_rows(database.nodes[0], "SELECT count(*) FROM tandem_lock") == std::vector<std::string>{"0"});
}

TEST_CASE("galera: a holder killed with kill -9 loses its lease at expiry and a run through another node proceeds") {
  const auto urls = galera_urls();
  if (urls.empty()) return;
  ClusterDatabase database(urls);
  Repo repo;
  const FailpointHold hold(repo.dir / "hold");
  // A short lease, so the test waits seconds; the holder renews it all the same.
  const std::map<std::string, std::string> lease = {{"TANDEM_TEST_LEASE_SECONDS", "6"}};
  auto environment = hold.environment("hold_after_step:1");
  environment.insert(lease.begin(), lease.end());
  const int first =
      spawn_tandem({"expand", "--db", database.nodes[0], "--repos", repo.path()}, repo.dir.path(), environment);
  REQUIRE(hold.wait_reached(first));
  // Held past one lease length: renewed, not expired.
  const Result held = run_tandem({"expand", "--db", database.nodes[1], "--repos", repo.path(), "--wait", "8"},
                                 repo.dir.path(), lease);
  CHECK(held.exit_code == 75);
  CHECK(contains(held.err, "pid " + std::to_string(first)));
  REQUIRE(kill(first, SIGKILL) == 0);
  CHECK(wait_for(first) == -SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  const Result next = run_tandem({"expand", "--db", database.nodes[2], "--repos", repo.path(), "--wait", "30"},
                                 repo.dir.path(), lease);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  REQUIRE_MESSAGE(next.exit_code == 0, next.all());
  CHECK(waited < 20.0);
  // The killed run's history row is closed, the unit resumed and finished once.
  CHECK(query_rows(database.nodes[1], "SELECT status FROM tandem_history WHERE phase = 'expand' ORDER BY id") ==
        std::vector<std::string>{"interrupted", "done"});
  CHECK(query_rows(database.nodes[1], "SELECT count(*) FROM tandem_lock") == std::vector<std::string>{"0"});
}

TEST_CASE("galera: a holder whose lease another run took stops before its next statement, exits 75 and says so") {
  const auto urls = galera_urls();
  if (urls.empty()) return;
  ClusterDatabase database(urls);
  Repo repo;
  const FailpointHold hold(repo.dir / "hold");
  const std::map<std::string, std::string> lease = {{"TANDEM_TEST_LEASE_SECONDS", "2"}};
  auto environment = hold.environment("hold_after_step:1");
  environment.insert(lease.begin(), lease.end());
  const int first =
      spawn_tandem({"expand", "--db", database.nodes[0], "--repos", repo.path()}, repo.dir.path(), environment);
  REQUIRE(hold.wait_reached(first));
  // What a run through node 2 does once the lease has expired: the row becomes its own.
  // It may lose certification to a renewal committed through node 1 at the same moment: retried.
  for (int attempt = 1;; ++attempt) {
    try {
      execute(database.nodes[1], "UPDATE tandem_lock SET run_id = 'intruder', holder = 'the intruding run', "
                                 "expires_at = UTC_TIMESTAMP(6) + INTERVAL 1 HOUR");
      break;
    } catch (const std::exception& error) {
      REQUIRE_MESSAGE(attempt < 20, error.what());
    }
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));  // four renewal periods
  hold.release();
  CHECK(wait_for(first) == 75);
  std::string err;  // spawn_tandem's spawnN.err, the one run spawned in this folder
  for (const auto& entry : std::filesystem::directory_iterator(repo.dir.path()))
    if (entry.path().extension() == ".err") err += read_file(entry.path());
  INFO(err);
  CHECK(contains(err, "lost the run lock"));
  CHECK(contains(err, "was taken by the intruding run"));
  // Step 2, the index, never ran, on any node; the intruder's row is untouched.
  for (const auto& node : database.nodes) {
    CHECK(query_rows(node, "SELECT count(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND "
                           "INDEX_NAME = 'items_name_idx'") == std::vector<std::string>{"0"});
    CHECK(query_rows(node, "SELECT holder FROM tandem_lock") == std::vector<std::string>{"the intruding run"});
  }
  // Once the intruder is gone, a rerun through node 3 finishes the unit.
  execute(database.nodes[1], "DELETE FROM tandem_lock");
  const Result rerun = run_tandem({"expand", "--db", database.nodes[2], "--repos", repo.path(), "--wait", "10"},
                                  repo.dir.path(), lease);
  REQUIRE_MESSAGE(rerun.exit_code == 0, rerun.all());
  CHECK(query_rows(database.nodes[0], "SELECT count(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = "
                                      "DATABASE() AND INDEX_NAME = 'items_name_idx'") == std::vector<std::string>{"1"});
}

TEST_CASE("galera: expand checks its triggers on every node, and names a node that lacks one") {
  const auto urls = galera_urls();
  if (urls.empty()) return;
  ClusterDatabase database(urls);
  Repo repo;
  write_version(repo.dir.path(), "002", "full_name",
                "description: full_name\noperations:\n"
                "  - add_column: {table: items, column: {name: full_name, type: string(64)}}\n"
                "  - sync_column: {table: items, old: name, new: full_name, up: NEW.name, down: NEW.full_name}\n",
                "", "");
  require_ok(run_phase("expand", database.nodes[0], repo.dir.path(), {"--to", "1"}));
  const FailpointHold hold(repo.dir / "hold");
  // Step 3 of 002: the second of its two triggers created; the check comes after it.
  const int run = spawn_tandem({"expand", "--db", database.nodes[0], "--repos", repo.path()}, repo.dir.path(),
                               hold.environment("hold_after_step:3"));
  REQUIRE(hold.wait_reached(run));
  const auto triggers = query_rows(database.nodes[0], "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE "
                                                      "TRIGGER_SCHEMA = DATABASE() ORDER BY TRIGGER_NAME");
  REQUIRE(triggers.size() == 2);
  // Gone from node 3 alone: what a trigger made under RSU, or lost, looks like.
  execute(database.nodes[2], "SET SESSION wsrep_on = OFF; DROP TRIGGER `" + triggers[0] + "`");
  hold.release();
  CHECK(wait_for(run) == 1);
  std::string err;
  for (const auto& entry : std::filesystem::directory_iterator(repo.dir.path()))
    if (entry.path().extension() == ".err") err += read_file(entry.path());
  INFO(err);
  CHECK(contains(err, "not on every node of the Galera cluster: node " + address_of(urls[2]) + " lacks " + triggers[0]));
  CHECK_FALSE(contains(err, "node " + address_of(urls[1]) + " lacks"));
  // Not recorded as applied: the version stays at 001 until node 3 has it too.
  CHECK(query_rows(database.nodes[1], "SELECT version FROM tandem_version WHERE phase = 'expand'") ==
        std::vector<std::string>{"1"});
}

TEST_CASE("galera: status names the cluster and its three nodes with their state") {
  const auto urls = galera_urls();
  if (urls.empty()) return;
  ClusterDatabase database(urls);
  Repo repo;
  require_ok(run_phase("expand", database.nodes[0], repo.dir.path()));
  const Result text = run_tandem({"status", "--db", database.nodes[1], "--repos", repo.path()}, repo.dir.path());
  require_ok(text);
  CHECK(contains(text.out, "Galera cluster 'tandem-test': Primary, 3 nodes"));
  for (const auto& url : urls) CHECK(has_line_with(text.out, {"node " + address_of(url), "Synced"}));
  CHECK(!contains(text.all(), *tandem::DatabaseUrl::parse(urls[0]).password));
  const Result json =
      run_tandem({"status", "--db", database.nodes[2], "--repos", repo.path(), "--format", "json"}, repo.dir.path());
  require_ok(json);
  const auto cluster = nlohmann::json::parse(json.out)["databases"][0]["cluster"];
  CHECK(cluster["kind"] == "Galera");
  CHECK(cluster["size"] == 3);
  REQUIRE(cluster["nodes"].size() == 3);
  for (const auto& node : cluster["nodes"]) CHECK(node["state"] == "Synced");
}

TEST_CASE("galera: expand, migrate and contract through node 1 leave the same schema and rows on nodes 2 and 3") {
  const auto urls = galera_urls();
  if (urls.empty()) return;
  ClusterDatabase database(urls);
  Repo repo;
  write_version(repo.dir.path(), "002", "labels", R"Y(description: a label beside the name
operations:
  - add_column: {table: items, column: {name: label, type: string(64)}}
)Y",
                R"Y(description: labels from names
operations:
  - backfill: {table: items, set: {label: "upper(name)"}, where: label IS NULL}
)Y",
                R"Y(description: the name goes
operations:
  - drop_index: {table: items, name: items_name_idx}
  - drop_column: {table: items, column: name}
  - set_not_null: {table: items, column: label}
)Y");
  require_ok(run_phase("upgrade", database.nodes[0], repo.dir.path(), {"--to", "1"}));
  execute(database.nodes[0], "INSERT INTO items (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three')");
  require_ok(run_phase("expand", database.nodes[0], repo.dir.path()));
  require_ok(run_phase("migrate", database.nodes[0], repo.dir.path()));
  require_ok(run_phase("contract", database.nodes[0], repo.dir.path()));
  // tandem's own sessions (query_rows goes through the dialect) wait for causality.
  CHECK(query_rows(database.nodes[1], "SELECT @@SESSION.wsrep_sync_wait") == std::vector<std::string>{"15"});
  const std::vector<std::string> rows = {"1|ONE", "2|TWO", "3|THREE"};
  const std::string schema = schema_text(database.nodes[0]);
  CHECK(query_rows(database.nodes[0], "SELECT id, label FROM items ORDER BY id") == rows);
  for (size_t node = 1; node < database.nodes.size(); ++node) {
    CAPTURE(node + 1);
    CHECK(schema_text(database.nodes[node]) == schema);
    CHECK(query_rows(database.nodes[node], "SELECT id, label FROM items ORDER BY id") == rows);
    CHECK(query_rows(database.nodes[node], "SELECT phase, version FROM tandem_version ORDER BY phase") ==
          std::vector<std::string>{"contract|2", "expand|2", "migrate|2"});
    CHECK(query_rows(database.nodes[node],
                     "SELECT count(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()") ==
          std::vector<std::string>{"0"});
  }
}
