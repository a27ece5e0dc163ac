// The bundled history's moves from the cells to the api database (versions 007-010),
// on every dialect available: a deployment of an api database and two cells of that
// dialect is seeded at version 001, rolled out as a rolling upgrade, with the old
// release writing late rows after migrate 007-009, and ends with every live key pair
// and instance group in the api database exactly once and every PCI device with a
// distinct uuid. The same rollout on a Galera cluster, with writers on its other nodes.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "conformance.h"
#include "schema_json.h"
#include "tandem/url.h"

using namespace tandem::test;

namespace {

using Rows = std::vector<std::string>;

void execute_all(const std::string& url, const std::vector<std::string>& statements) {
  for (const auto& statement : statements) {
    INFO(statement);
    execute(url, statement);
  }
}

std::string count(const std::string& url, const std::string& sql) { return query_rows(url, sql).at(0); }

// A compute node uuid per cell and node, so the PCI uuids built from it differ between cells.
std::string node_uuid(int cell, int node) { return fmt::format("c{}000000-000{}-4000-8000-00000000000{}", cell, node, node); }

// What the old release (before 007) leaves in a cell: two compute nodes with PCI devices
// (one soft-deleted), instances with instance_extra rows, key pairs (one soft-deleted
// whose name is reused, one shared by both cells) and instance groups with members.
void seed_cell(const std::string& url, int cell) {
  std::vector<std::string> sql;
  for (int node = 1; node <= 2; ++node)
    sql.push_back(fmt::format("INSERT INTO compute_nodes (uuid, host, hypervisor_hostname, deleted) "
                              "VALUES ('{}', 'host{}', 'node{}-{}', 0)",
                              node_uuid(cell, node), node, cell, node));
  for (int device = 1; device <= 6; ++device)
    sql.push_back(fmt::format("INSERT INTO pci_devices (compute_node_id, address, vendor_id, product_id, dev_type, status, deleted) "
                              "VALUES ((SELECT id FROM compute_nodes WHERE uuid = '{}'), '0000:81:00.{}', '8086', '1520', "
                              "'type-VF', 'available', 0)",
                              node_uuid(cell, 1 + device % 2), device % 3));
  // a device removed from its node: soft-deleted, its address reused by a live one
  sql.push_back("UPDATE pci_devices SET deleted = id WHERE id = (SELECT min(id) FROM pci_devices)");
  for (int i = 1; i <= 3; ++i) {
    sql.push_back(fmt::format("INSERT INTO instances (uuid, project_id, user_id, node, deleted) "
                              "VALUES ('i-{}-{}', 'p1', 'u{}', 'node{}-1', 0)",
                              cell, i, i, cell));
    sql.push_back(fmt::format("INSERT INTO instance_extra (instance_uuid, deleted) VALUES ('i-{}-{}', 0)", cell, i));
  }
  // u1 and u2 have key pairs, u3 none (its instance gets '[]')
  for (const auto& [user, name] : std::vector<std::pair<std::string, std::string>>{
           {"u1", fmt::format("kp-{}-a", cell)}, {"u1", fmt::format("kp-{}-b", cell)}, {"u2", fmt::format("kp-{}-c", cell)},
           {"u2", "reused"}, {"u1", "shared"}})
    sql.push_back(fmt::format("INSERT INTO key_pairs (name, user_id, fingerprint, public_key, type, deleted) "
                              "VALUES ('{0}', '{1}', 'fp-{0}', 'ssh-rsa AAAA{0} {1}@cell{2}', 'ssh', 0)",
                              name, user, cell));
  sql.push_back("UPDATE key_pairs SET deleted = id WHERE name = 'reused'");
  sql.push_back(fmt::format("INSERT INTO key_pairs (name, user_id, public_key, type, deleted) "
                            "VALUES ('reused', 'u2', 'x509 cert of cell{}', 'x509', 0)",
                            cell));
  sql.push_back(fmt::format("INSERT INTO key_pairs (name, user_id, type, deleted) VALUES ('gone-{}', 'u1', 'ssh', 0)", cell));
  sql.push_back(fmt::format("UPDATE key_pairs SET deleted = id WHERE name = 'gone-{}'", cell));
  // two live groups with two live members and one soft-deleted member each; one
  // soft-deleted group, whose live member is not moved either
  for (int group = 1; group <= 3; ++group) {
    sql.push_back(fmt::format("INSERT INTO instance_groups (uuid, name, user_id, project_id, policy, deleted) "
                              "VALUES ('g-{0}-{1}', 'group {1}', 'u1', 'p1', '{2}', 0)",
                              cell, group, group == 1 ? "affinity" : "anti-affinity"));
    for (int member = 1; member <= 3; ++member)
      sql.push_back(fmt::format("INSERT INTO instance_group_member (group_id, instance_uuid, deleted) "
                                "VALUES ((SELECT id FROM instance_groups WHERE uuid = 'g-{0}-{1}'), 'i-{0}-{2}', 0)",
                                cell, group, member));
  }
  sql.push_back(fmt::format("UPDATE instance_group_member SET deleted = id WHERE instance_uuid = 'i-{}-3'", cell));
  sql.push_back(fmt::format("UPDATE instance_groups SET deleted = id WHERE uuid = 'g-{}-3'", cell));
  execute_all(url, sql);
}

// Rows the old release writes in cell1 after migrate 007-009 ran, before it is retired.
void write_late(const std::string& url) {
  execute_all(url, {
      "INSERT INTO key_pairs (name, user_id, public_key, type, deleted) VALUES ('late', 'u3', 'ssh-rsa late', 'ssh', 0)",
      "INSERT INTO instance_groups (uuid, name, user_id, project_id, policy, deleted) "
      "VALUES ('g-late', 'late', 'u3', 'p1', 'affinity', 0)",
      "INSERT INTO instance_group_member (group_id, instance_uuid, deleted) "
      "VALUES ((SELECT id FROM instance_groups WHERE uuid = 'g-late'), 'i-late', 0)",
      "INSERT INTO instances (uuid, project_id, user_id, node, deleted) VALUES ('i-late', 'p1', 'u3', 'node1-1', 0)",
      "INSERT INTO instance_extra (instance_uuid, deleted) VALUES ('i-late', 0)",
      "INSERT INTO pci_devices (compute_node_id, address, vendor_id, product_id, dev_type, status, deleted) "
      "VALUES ((SELECT min(id) FROM compute_nodes), '0000:82:00.0', '8086', '1520', 'type-PF', 'available', 0)",
  });
}

}  // namespace

TEST_CASE("the bundled history moves key pairs and instance groups to the api database and fills PCI uuids, on every "
          "dialect") {
  auto apis = scratch_databases();
  auto cell1s = scratch_databases();
  auto cell2s = scratch_databases();
  for (size_t i = 0; i < apis.size(); ++i) {
    const std::string dialect = apis[i]->dialect();
    CAPTURE(dialect);
    const std::string api = apis[i]->url();
    const std::vector<std::string> cells = {cell1s[i]->url(), cell2s[i]->url()};
    TempDir dir;
    write_file(dir / "tandem.yaml", "repos: " + std::string(TANDEM_SOURCE_DIR) + "\ndatabases:\n  api: " + api +
                                        "\n  cells:\n    cell1: " + cells[0] + "\n    cell2: " + cells[1] + "\n");
    auto tandem = [&](const std::vector<std::string>& args) { return run_tandem(args, dir.path()); };
    auto require_ok = [](const Result& result) { REQUIRE_MESSAGE(result.exit_code == 0, result.all()); };

    require_ok(tandem({"upgrade", "--to", "1", "--no-progress"}));
    for (int cell = 1; cell <= 2; ++cell) seed_cell(cells[cell - 1], cell);

    require_ok(tandem({"expand", "--no-progress"}));
    CHECK(tandem({"status", "--check"}).exit_code == 3);
    require_ok(tandem({"migrate", "--to", "9", "--batch-size", "2", "--no-progress"}));
    // migrate 007-008 copied and kept: the old release still finds its rows in the cells.
    CHECK(count(cells[0], "SELECT count(*) FROM key_pairs WHERE deleted = 0") == "5");
    // 2 x 5 live, but (u1, shared) and (u2, reused) are in both cells: each is moved once
    CHECK(count(api, "SELECT count(*) FROM key_pairs") == "8");
    write_late(cells[0]);

    // Before the last migrate: what must arrive in the api database, each row once.
    long long live_key_pairs = 0, live_groups = 0, live_members = 0;
    for (const auto& cell : cells) {
      live_key_pairs += std::stoll(count(cell, "SELECT count(*) FROM key_pairs WHERE deleted = 0"));
      live_groups += std::stoll(count(cell, "SELECT count(*) FROM instance_groups WHERE deleted = 0"));
      live_members += std::stoll(count(cell, "SELECT count(*) FROM instance_group_member m JOIN instance_groups g ON "
                                             "g.id = m.group_id WHERE m.deleted = 0 AND g.deleted = 0"));
    }
    CHECK(live_key_pairs == 11);
    CHECK(live_groups == 5);
    CHECK(live_members == 9);

    require_ok(tandem({"migrate", "--batch-size", "2", "--no-progress"}));
    CHECK(tandem({"status", "--check"}).exit_code == 4);
    // Moved key pairs and members left the cells; groups stay until contract drops them.
    for (const auto& cell : cells) {
      CHECK(count(cell, "SELECT count(*) FROM key_pairs WHERE deleted = 0") == "0");
      CHECK(count(cell, "SELECT count(*) FROM instance_group_member m JOIN instance_groups g ON g.id = m.group_id "
                        "WHERE m.deleted = 0 AND g.deleted = 0") == "0");
    }
    // Every live key pair once: the two both cells had count once.
    CHECK(count(api, "SELECT count(*) FROM key_pairs") == std::to_string(live_key_pairs - 2));
    CHECK(count(api, "SELECT count(*) FROM (SELECT user_id, name FROM key_pairs GROUP BY user_id, name) k") ==
          std::to_string(live_key_pairs - 2));
    // A row already in the api database converges to the content of the source moving it
    // (issue 9): of the two cells sharing (u2, reused), the last one moved, cell2.
    CHECK(query_rows(api, "SELECT name, type, public_key FROM key_pairs WHERE name IN ('reused', 'late') ORDER BY "
                          "name, public_key") ==
          Rows{"late|ssh|ssh-rsa late", "reused|x509|x509 cert of cell2"});
    CHECK(count(api, "SELECT count(*) FROM instance_groups") == std::to_string(live_groups));
    CHECK(count(api, "SELECT count(DISTINCT uuid) FROM instance_groups") == std::to_string(live_groups));
    CHECK(query_rows(api, "SELECT p.group_uuid, p.policy FROM instance_group_policy p ORDER BY p.group_uuid") ==
          Rows{"g-1-1|affinity", "g-1-2|anti-affinity", "g-2-1|affinity", "g-2-2|anti-affinity", "g-late|affinity"});
    CHECK(count(api, "SELECT count(*) FROM instance_group_member") == std::to_string(live_members));
    CHECK(count(api, "SELECT count(*) FROM (SELECT group_uuid, instance_uuid FROM instance_group_member "
                     "GROUP BY group_uuid, instance_uuid) m") == std::to_string(live_members));
    CHECK(count(api, "SELECT count(*) FROM instance_group_member m WHERE NOT EXISTS "
                     "(SELECT 1 FROM instance_groups g WHERE g.uuid = m.group_uuid)") == "0");
    CHECK(query_rows(api, "SELECT instance_uuid FROM instance_group_member WHERE group_uuid = 'g-2-2' ORDER BY "
                          "instance_uuid") == Rows{"i-2-1", "i-2-2"});

    for (int cell = 1; cell <= 2; ++cell) {
      CAPTURE(cell);
      const std::string& url = cells[cell - 1];
      // instance_extra.keypairs: the user's oldest live key pair, '[]' without one.
      CHECK(count(url, "SELECT count(*) FROM instance_extra WHERE keypairs IS NULL") == "0");
      CHECK(query_rows(url, fmt::format("SELECT keypairs FROM instance_extra WHERE instance_uuid = 'i-{}-1'", cell)) ==
            Rows{fmt::format(R"([{{"name": "kp-{0}-a", "user_id": "u1", "type": "ssh", "fingerprint": "fp-kp-{0}-a", )"
                             R"("public_key": "ssh-rsa AAAAkp-{0}-a u1@cell{0}"}}])",
                             cell)});
      CHECK(query_rows(url, fmt::format("SELECT keypairs FROM instance_extra WHERE instance_uuid = 'i-{}-3'", cell)) ==
            Rows{"[]"});
      // PCI devices: every one has a uuid, all distinct, UUID-shaped.
      const std::string devices = count(url, "SELECT count(*) FROM pci_devices");
      CHECK(devices == (cell == 1 ? "7" : "6"));
      CHECK(count(url, "SELECT count(*) FROM pci_devices WHERE uuid IS NULL") == "0");
      CHECK(count(url, "SELECT count(DISTINCT uuid) FROM pci_devices") == devices);
      CHECK(count(url, "SELECT count(*) FROM pci_devices WHERE length(uuid) = 36 AND uuid LIKE '________-____-____-____-____________'") ==
            devices);
    }
    CHECK(query_rows(cells[0], "SELECT keypairs FROM instance_extra WHERE instance_uuid = 'i-late'") ==
          Rows{R"([{"name": "late", "user_id": "u3", "type": "ssh", "fingerprint": "", "public_key": "ssh-rsa late"}])"});
    CHECK(query_rows(cells[1], "SELECT uuid FROM pci_devices ORDER BY id LIMIT 1") ==
          Rows{"c2000000-0002-4000-8000-000000000001"});
    // Across the cells too: the uuids start with their compute node's.
    CHECK(count(cells[0], "SELECT count(*) FROM pci_devices WHERE uuid LIKE 'c1000000-%'") == "7");

    require_ok(tandem({"contract", "--no-progress"}));
    const Result status = tandem({"status", "--check"});
    CHECK_MESSAGE(status.exit_code == 0, status.all());
    for (const auto& cell : cells) {
      const auto schema = snapshot(cell);
      for (const char* gone : {"key_pairs", "instance_groups", "instance_group_member"})
        CHECK_MESSAGE(std::none_of(schema.tables.begin(), schema.tables.end(),
                                   [&](const auto& table) { return table.name == gone; }),
                      gone);
      CHECK(schema.triggers.empty());
    }
    // NOT NULL now: a device without a uuid is refused.
    CHECK_THROWS(execute(cells[1], "INSERT INTO pci_devices (compute_node_id, address, vendor_id, product_id, dev_type, "
                                   "status, deleted) VALUES ((SELECT min(id) FROM compute_nodes), '0000:83:00.0', "
                                   "'8086', '1520', 'type-PF', 'available', 0)"));
  }
}

TEST_CASE("the bundled history upgrades api and cell databases on a Galera cluster through node 1 while an old- and a "
          "new-release writer write through nodes 2 and 3") {
  std::vector<std::string> nodes;
  std::stringstream list(test_server_variable("TANDEM_TEST_GALERA_URLS", "Galera"));
  for (std::string url; std::getline(list, url, ',');) nodes.push_back(url);
  if (nodes.empty()) return;
  REQUIRE(nodes.size() == 3);
  // Made through node 1, so on every node.
  auto api = server_scratch("mysql", nodes[0]);
  auto cell1 = server_scratch("mysql", nodes[0]);
  auto cell2 = server_scratch("mysql", nodes[0]);
  auto through = [&](const ScratchDatabase& database, size_t node) {
    return with_database(nodes.at(node), tandem::DatabaseUrl::parse(database.url()).database);
  };
  TempDir dir;
  write_file(dir / "tandem.yaml", "repos: " + std::string(TANDEM_SOURCE_DIR) + "\ndatabases:\n  api: " + api->url() +
                                      "\n  cells:\n    cell1: " + cell1->url() + "\n    cell2: " + cell2->url() + "\n");
  auto tandem = [&](const std::vector<std::string>& args) { return run_tandem(args, dir.path()); };
  auto require_ok = [](const Result& result) { REQUIRE_MESSAGE(result.exit_code == 0, result.all()); };
  require_ok(tandem({"upgrade", "--to", "1", "--no-progress"}));
  seed_cell(cell1->url(), 1);
  seed_cell(cell2->url(), 2);

  // Each writer adds an instance every 5 ms through its own node, and counts what committed.
  auto instance = [](const std::string& prefix) {
    return [prefix](int n) {
      return fmt::format("INSERT INTO instances (uuid, project_id, user_id, node, deleted) VALUES ('{}-{}', 'p1', "
                         "'u9', 'node1-1', 0)",
                         prefix, n);
    };
  };
  PeriodicWriter old_release(through(*cell1, 1), instance("w-old"));
  PeriodicWriter new_release(through(*cell2, 2), instance("w-new"));

  require_ok(tandem({"expand", "--no-progress"}));
  require_ok(tandem({"migrate", "--batch-size", "2", "--no-progress"}));
  // The old release is retired before contract removes what it reads.
  old_release.finish();
  require_ok(tandem({"contract", "--no-progress"}));
  new_release.finish();
  INFO("old writer's last error: " << old_release.last_error());
  INFO("new writer's last error: " << new_release.last_error());
  CHECK(old_release.written() > 0);
  CHECK(new_release.written() > 0);
  const Result status = tandem({"status", "--check"});
  CHECK_MESSAGE(status.exit_code == 0, status.all());

  for (const ScratchDatabase* database : {api.get(), cell1.get(), cell2.get()}) {
    const std::string schema = nlohmann::json(snapshot(through(*database, 0))).dump();
    for (size_t node = 0; node < nodes.size(); ++node) {
      CAPTURE(node + 1);
      const std::string url = through(*database, node);
      CAPTURE(url);
      CHECK(nlohmann::json(snapshot(url)).dump() == schema);
      CHECK(count(url, "SELECT count(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()") == "0");
      CHECK(count(url, "SELECT count(*) FROM tandem_version WHERE version = (SELECT max(version) FROM "
                       "tandem_version)") == "3");
    }
  }
  for (size_t node = 0; node < nodes.size(); ++node) {
    CAPTURE(node + 1);
    CHECK(count(through(*cell1, node), "SELECT count(*) FROM instances WHERE uuid LIKE 'w-old-%'") ==
          std::to_string(old_release.written()));
    CHECK(count(through(*cell2, node), "SELECT count(*) FROM instances WHERE uuid LIKE 'w-new-%'") ==
          std::to_string(new_release.written()));
    // 2 x 5 live key pairs, two of them in both cells: each moved once.
    CHECK(count(through(*api, node), "SELECT count(*) FROM key_pairs") == "8");
    CHECK(count(through(*cell1, node), "SELECT count(*) FROM pci_devices WHERE uuid IS NULL") == "0");
  }
}
