// tandem archive and tandem purge, through the CLI, on every available dialect: which
// rows move (soft-deleted ones and the rows referencing them, transitively), that every
// row stays in its table or its shadow and never in both, even after kill -9, and
// nova-manage's exit codes.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "conformance.h"

using namespace tandem::test;

namespace {

// instances with three child tables, one of them two levels deep:
//   instance_metadata.instance_uuid -> instances.uuid      (own deleted + deleted_at, updated_at)
//   block_device_mapping.instance_uuid -> instances.uuid   (own deleted, no deleted_at: created_at)
//   volume_attachments.bdm_id -> block_device_mapping.id   (no deleted column, no timestamps)
const char* kSchema = R"Y(description: soft-deleted instances and their children
operations:
  - create_table:
      name: instances
      shadow: true
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: uuid, type: string(36), nullable: false, unique: true}
        - {name: host, type: string(64)}
        - {name: created_at, type: datetime}
        - {name: deleted_at, type: datetime}
        - {name: deleted, type: integer, default: "0"}
  - create_table:
      name: instance_metadata
      shadow: true
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: instance_uuid, type: string(36), references: instances.uuid}
        - {name: meta_key, type: string(64)}
        - {name: updated_at, type: datetime}
        - {name: deleted_at, type: datetime}
        - {name: deleted, type: integer, default: "0"}
  - create_table:
      name: block_device_mapping
      shadow: true
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: instance_uuid, type: string(36), references: instances.uuid}
        - {name: volume_id, type: string(36)}
        - {name: created_at, type: datetime}
        - {name: deleted, type: integer, default: "0"}
  - create_table:
      name: volume_attachments
      shadow: true
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: bdm_id, type: integer, nullable: false, references: block_device_mapping.id}
        - {name: mountpoint, type: string(64)}
)Y";

const std::vector<std::string> kTables = {"instances", "instance_metadata", "block_device_mapping", "volume_attachments"};

// Every third instance is soft-deleted, half of them on 2026-01-10 and half on
// 2026-01-20, with its metadata; each instance has two metadata rows, one block device
// mapping (never soft-deleted itself) and one attachment. Every fifth instance's second
// metadata row is soft-deleted on its own on 2026-01-05, whatever its instance.
struct Fixture {
  long long instances = 0;

  static bool deleted(long long id) { return id % 3 == 0; }
  static bool early(long long id) { return id % 2 == 0; }  // deleted on 2026-01-10 rather than 2026-01-20
  static bool metadata_deleted_alone(long long metadata) { return metadata % 2 == 0 && (metadata / 2) % 5 == 0; }
  // The instance a metadata row (ids 2i-1 and 2i) belongs to.
  static long long owner(long long metadata) { return (metadata + 1) / 2; }
};

void insert_rows(const std::string& url, const std::string& head, const std::vector<std::string>& rows) {
  for (size_t start = 0; start < rows.size(); start += 500) {
    std::string sql = head + " VALUES ";
    for (size_t i = start; i < std::min(rows.size(), start + 500); ++i) sql += (i > start ? ", " : "") + rows[i];
    execute(url, sql);
  }
}

Fixture populate(const std::string& url, long long instances) {
  std::vector<std::string> instance_rows, metadata_rows, bdm_rows, attachment_rows;
  for (long long id = 1; id <= instances; ++id) {
    const bool gone = Fixture::deleted(id);
    const std::string when = Fixture::early(id) ? "'2026-01-10 08:00:00'" : "'2026-01-20 08:00:00'";
    instance_rows.push_back(fmt::format("({}, 'uuid-{}', 'host{}', '2025-12-01 00:00:00', {}, {})", id, id, id % 4,
                                        gone ? when : "NULL", gone ? id : 0));
    for (long long metadata : {2 * id - 1, 2 * id}) {
      const bool alone = Fixture::metadata_deleted_alone(metadata);
      const bool meta_gone = gone || alone;
      metadata_rows.push_back(fmt::format("({}, 'uuid-{}', 'k{}', '2026-01-01 00:00:00', {}, {})", metadata, id, metadata,
                                          alone ? "'2026-01-05 00:00:00'" : (gone ? when : "NULL"),
                                          meta_gone ? metadata : 0));
    }
    bdm_rows.push_back(fmt::format("({}, 'uuid-{}', 'vol-{}', '2026-01-01 00:00:00')", id, id, id));
    attachment_rows.push_back(fmt::format("({}, {}, '/dev/vd{}')", id, id, id % 10));
  }
  insert_rows(url, "INSERT INTO instances (id, uuid, host, created_at, deleted_at, deleted)", instance_rows);
  insert_rows(url, "INSERT INTO instance_metadata (id, instance_uuid, meta_key, updated_at, deleted_at, deleted)",
              metadata_rows);
  insert_rows(url, "INSERT INTO block_device_mapping (id, instance_uuid, volume_id, created_at)", bdm_rows);
  insert_rows(url, "INSERT INTO volume_attachments (id, bdm_id, mountpoint)", attachment_rows);
  return Fixture{instances};
}

std::set<long long> ids(const std::string& url, const std::string& table) {
  std::set<long long> out;
  for (const auto& row : query_rows(url, "SELECT id FROM " + table)) out.insert(std::stoll(row));
  return out;
}

long long count(const std::string& url, const std::string& table) {
  return std::stoll(query_rows(url, "SELECT count(*) FROM " + table).front());
}

// Every row of every table is in the table or its shadow, never both, never neither.
void check_conserved(const std::string& url, const Fixture& fixture) {
  const std::map<std::string, long long> total = {{"instances", fixture.instances},
                                                  {"instance_metadata", 2 * fixture.instances},
                                                  {"block_device_mapping", fixture.instances},
                                                  {"volume_attachments", fixture.instances}};
  for (const auto& table : kTables) {
    CAPTURE(table);
    const auto live = ids(url, table);
    const auto archived = ids(url, "shadow_" + table);
    CHECK(static_cast<long long>(live.size() + archived.size()) == total.at(table));
    std::vector<long long> both;
    std::set_intersection(live.begin(), live.end(), archived.begin(), archived.end(), std::back_inserter(both));
    CHECK_MESSAGE(both.empty(), both.size() << " rows of " << table << " are in both places");
  }
}

// The ids expected in `table`'s shadow once every instance `archived(id)` selects, and
// every metadata row soft-deleted on its own that `alone` accepts, moved.
template <typename Archived, typename Alone>
std::set<long long> expected_shadow(const Fixture& fixture, const std::string& table, Archived archived, Alone alone) {
  std::set<long long> out;
  for (long long id = 1; id <= fixture.instances; ++id) {
    if (table == "instance_metadata") {
      for (long long metadata : {2 * id - 1, 2 * id})
        if (archived(id) || (Fixture::metadata_deleted_alone(metadata) && alone(metadata))) out.insert(metadata);
    } else if (archived(id)) {
      out.insert(id);
    }
  }
  return out;
}

struct Database {
  TempDir repos;
  std::string url;
  Fixture fixture;
  Database(const std::string& database_url, long long instances) : url(database_url) {
    write_version(repos.path(), "001", "instances", kSchema, "", "");
    const auto result = run_phase("upgrade", url, repos.path());
    REQUIRE_MESSAGE(result.exit_code == 0, result.all());
    fixture = populate(url, instances);
  }
  Result tandem(std::vector<std::string> args) const {
    args.insert(args.begin() + 1, {"--db", url});
    return run_tandem(args, repos.path());
  }
};

}  // namespace

TEST_CASE("archive: moves exactly the soft-deleted rows and the rows referencing them") {
  for (const auto& scratch : scratch_databases()) {
    CAPTURE(scratch->dialect());
    Database database(scratch->url(), 60);
    const auto result = database.tandem({"archive", "--until-complete", "--verbose"});
    CHECK_MESSAGE(result.exit_code == 1, result.all());
    CHECK(result.out.find("instance_metadata") != std::string::npos);
    CHECK(result.out.find("volume_attachments") != std::string::npos);
    check_conserved(database.url, database.fixture);
    auto all = [](long long) { return true; };
    for (const auto& table : kTables) {
      CAPTURE(table);
      CHECK(ids(database.url, "shadow_" + table) == expected_shadow(database.fixture, table, Fixture::deleted, all));
    }
    // Live instances keep all their children; the rows moved are whole.
    CHECK(count(database.url, "instances") == 40);
    CHECK(query_rows(database.url, "SELECT uuid, host, deleted FROM shadow_instances WHERE id = 9") ==
          std::vector<std::string>{"uuid-9|host1|9"});
    CHECK(query_rows(database.url, "SELECT bdm_id, mountpoint FROM shadow_volume_attachments WHERE id = 6") ==
          std::vector<std::string>{"6|/dev/vd6"});
    const auto again = database.tandem({"archive"});
    CHECK_MESSAGE(again.exit_code == 0, again.all());
    CHECK(again.out.find("Nothing was archived") != std::string::npos);
  }
}

TEST_CASE("archive: --before archives only rows deleted before the date") {
  for (const auto& scratch : scratch_databases()) {
    CAPTURE(scratch->dialect());
    Database database(scratch->url(), 60);
    const auto result = database.tandem({"archive", "--before", "2026-01-15", "--until-complete"});
    CHECK_MESSAGE(result.exit_code == 1, result.all());
    // block_device_mapping has no deleted_at: its own rows are not compared, but rows of
    // archived instances still move with them.
    CHECK(result.err.find("block_device_mapping: not archived: it has no deleted_at column") != std::string::npos);
    check_conserved(database.url, database.fixture);
    auto early = [](long long id) { return Fixture::deleted(id) && Fixture::early(id); };
    auto alone = [](long long) { return true; };  // deleted on 2026-01-05
    for (const auto& table : kTables) {
      CAPTURE(table);
      CHECK(ids(database.url, "shadow_" + table) == expected_shadow(database.fixture, table, early, alone));
    }
    // The time of day counts too: 08:00 on the 20th is not before 07:59 that day.
    CHECK(database.tandem({"archive", "--before", "2026-01-20T07:59:00"}).exit_code == 0);
    CHECK(database.tandem({"archive", "--before", "2026-01-20 08:00:01", "--until-complete"}).exit_code == 1);
    CHECK(count(database.url, "instances") == 40);
  }
}

TEST_CASE("archive: --max-rows bounds the parent rows of a run, --until-complete goes on until nothing is left") {
  for (const auto& scratch : scratch_databases()) {
    CAPTURE(scratch->dialect());
    Database database(scratch->url(), 900);  // 300 soft-deleted instances
    const auto first = database.tandem({"archive", "--max-rows", "100", "--format", "json"});
    CHECK_MESSAGE(first.exit_code == 1, first.all());
    CHECK(count(database.url, "shadow_instances") == 100);
    CHECK(count(database.url, "shadow_block_device_mapping") == 100);  // only as children of those 100
    const auto report = nlohmann::json::parse(first.out);
    long long instances = 0;
    for (const auto& entry : report["archived"])
      if (entry["table"] == "instances") instances = entry["rows"];
    CHECK(instances == 100);
    check_conserved(database.url, database.fixture);

    const auto rest = database.tandem({"archive", "--until-complete", "--max-rows", "100"});
    CHECK_MESSAGE(rest.exit_code == 1, rest.all());
    CHECK(count(database.url, "shadow_instances") == 300);
    CHECK(count(database.url, "instances") == 600);
    CHECK(count(database.url, "instance_metadata WHERE deleted <> 0") == 0);
    check_conserved(database.url, database.fixture);
    CHECK(database.tandem({"archive", "--until-complete", "--max-rows", "100"}).exit_code == 0);
  }
}

TEST_CASE("archive: exit codes for bad options") {
  TempDir dir;
  const std::string url = dir.sqlite_url("empty.db");
  for (const char* bad : {"0", "-5", "abc", "10x", "99999999999999999999"}) {
    CAPTURE(bad);
    const auto result = run_tandem({"archive", "--db", url, "--max-rows", bad});
    CHECK(result.exit_code == 2);
    CHECK(result.err.find("--max-rows") != std::string::npos);
  }
  for (const char* bad : {"yesterday", "2026-13-01", "2026-02-30", "2026-01-31T25:00:00", "31/01/2026"}) {
    CAPTURE(bad);
    const auto result = run_tandem({"archive", "--db", url, "--before", bad});
    CHECK(result.exit_code == 4);
    CHECK(result.err.find("--before") != std::string::npos);
  }
  const auto nothing = run_tandem({"archive", "--db", url, "--before", "2024-02-29"});
  CHECK_MESSAGE(nothing.exit_code == 0, nothing.all());
}

TEST_CASE("archive: a table referenced by a table without a shadow is left alone, with a message") {
  for (const auto& scratch : scratch_databases()) {
    CAPTURE(scratch->dialect());
    Database database(scratch->url(), 30);
    execute(database.url, "CREATE TABLE instance_actions (id integer PRIMARY KEY, instance_uuid varchar(36) "
                          "REFERENCES instances (uuid))");
    execute(database.url, "INSERT INTO instance_actions (id, instance_uuid) VALUES (1, 'uuid-3')");
    const auto result = database.tandem({"archive", "--until-complete"});
    CHECK_MESSAGE(result.exit_code == 1, result.all());  // the metadata rows deleted on their own still move
    CHECK(result.err.find("instances: not archived: instance_actions references it") != std::string::npos);
    CHECK(count(database.url, "shadow_instances") == 0);
    CHECK(count(database.url, "instances") == 30);
    check_conserved(database.url, database.fixture);
  }
}

TEST_CASE("archive: kill -9 during --until-complete, then a rerun: no row lost, none in both places") {
  for (const auto& scratch : scratch_databases()) {
    CAPTURE(scratch->dialect());
    Database database(scratch->url(), 6000);  // 2000 soft-deleted instances, 100 batches of 20
    // Killed right after the run's first batch has committed, and later on, once a batch
    // has committed (after_batch) or inside a batch's transaction, its rows copied and
    // deleted but not committed (before_commit).
    for (const char* point : {"after_batch:1", "before_commit:4", "after_batch:15", "before_commit:1"}) {
      CAPTURE(point);
      const Result killed = run_tandem({"archive", "--db", database.url, "--until-complete", "--max-rows", "20"},
                                       database.repos.path(), {{"TANDEM_FAILPOINT", point}});
      CHECK_MESSAGE(killed.exit_code == -SIGKILL, killed.all());
      check_conserved(database.url, database.fixture);
    }
    CHECK(count(database.url, "shadow_instances") > 0);
    CHECK(count(database.url, "shadow_instances") < 2000);
    const auto rerun = database.tandem({"archive", "--until-complete", "--max-rows", "500"});
    CHECK_MESSAGE(rerun.exit_code == 1, rerun.all());
    check_conserved(database.url, database.fixture);
    CHECK(count(database.url, "shadow_instances") == 2000);
    CHECK(count(database.url, "instances") == 4000);
  }
}

TEST_CASE("purge: --before removes only older shadow rows, --all the rest, exit codes") {
  for (const auto& scratch : scratch_databases()) {
    CAPTURE(scratch->dialect());
    Database database(scratch->url(), 60);
    CHECK(database.tandem({"purge", "--all"}).exit_code == 3);  // nothing archived yet
    REQUIRE(database.tandem({"archive", "--until-complete"}).exit_code == 1);
    const long long attachments = count(database.url, "shadow_volume_attachments");

    const auto result = database.tandem({"purge", "--before", "2026-01-15", "--verbose"});
    CHECK_MESSAGE(result.exit_code == 0, result.all());
    CHECK(result.out.find("shadow_volume_attachments: skipped") != std::string::npos);
    // deleted_at decides for instances and metadata; block_device_mapping has only created_at.
    auto late = [](long long id) { return Fixture::deleted(id) && !Fixture::early(id); };
    auto none = [](long long) { return false; };
    CHECK(ids(database.url, "shadow_instances") == expected_shadow(database.fixture, "instances", late, none));
    std::set<long long> metadata_left;  // of late instances, unless deleted alone on the 5th
    for (long long metadata : expected_shadow(database.fixture, "instance_metadata", late, none))
      if (!Fixture::metadata_deleted_alone(metadata)) metadata_left.insert(metadata);
    CHECK(ids(database.url, "shadow_instance_metadata") == metadata_left);
    CHECK(count(database.url, "shadow_block_device_mapping") == 0);
    CHECK(count(database.url, "shadow_volume_attachments") == attachments);
    CHECK(count(database.url, "instances") == 40);

    CHECK(database.tandem({"purge", "--before", "2026-01-15"}).exit_code == 3);
    CHECK(database.tandem({"purge", "--before", "2026-01-40"}).exit_code == 2);
    const auto neither = database.tandem({"purge"});
    CHECK(neither.exit_code == 1);
    CHECK(neither.err.find("--before DATE") != std::string::npos);
    CHECK(database.tandem({"purge", "--all", "--before", "2026-01-15"}).exit_code == 1);
    CHECK(database.tandem({"purge", "--all"}).exit_code == 0);
    for (const auto& table : kTables) CHECK(count(database.url, "shadow_" + table) == 0);
    CHECK(count(database.url, "instances") == 40);
  }
}

TEST_CASE("archive: --purge empties the shadow tables after archiving") {
  TempDir dir;
  Database database(dir.sqlite_url("purge.db"), 30);
  const auto result = database.tandem({"archive", "--until-complete", "--purge", "--verbose"});
  CHECK_MESSAGE(result.exit_code == 1, result.all());
  CHECK(result.out.find("ROWS PURGED") != std::string::npos);
  for (const auto& table : kTables) CHECK(count(database.url, "shadow_" + table) == 0);
  CHECK(count(database.url, "instances") == 20);
}

TEST_CASE("archive: every database of a deployment, per database with --verbose, narrowed by --cell") {
  TempDir dir;
  write_version(dir.path(), "001", "instances", std::string("database: cell\n") + kSchema, "", "");
  write_file(dir / "tandem.yaml", "repos: .\ndatabases:\n  api: sqlite:api.db\n  cells:\n    cell1: sqlite:cell1.db\n"
                                  "    cell2: sqlite:cell2.db\n");
  auto result = run_tandem({"upgrade"}, dir.path());
  REQUIRE_MESSAGE(result.exit_code == 0, result.all());
  for (const char* cell : {"cell1", "cell2"}) populate(dir.sqlite_url(std::string(cell) + ".db"), 30);

  result = run_tandem({"archive", "--cell", "cell1", "--until-complete"}, dir.path());
  CHECK_MESSAGE(result.exit_code == 1, result.all());
  CHECK(count(dir.sqlite_url("cell1.db"), "shadow_instances") == 10);
  CHECK(count(dir.sqlite_url("cell2.db"), "shadow_instances") == 0);

  result = run_tandem({"archive", "--until-complete", "--verbose"}, dir.path());
  CHECK_MESSAGE(result.exit_code == 1, result.all());
  CHECK(result.out.find("DATABASE") != std::string::npos);
  CHECK(result.out.find("cell2        instances") != std::string::npos);
  // cell1 appears in the live values only (each table's, "server default"), no count.
  std::istringstream lines(result.out);
  for (std::string text; std::getline(lines, text);)
    if (text.starts_with("cell1")) CHECK_MESSAGE(text.find("server default") != std::string::npos, text);
  CHECK(has_line_with(result.out, {"cell1", "instances", "0", "server default"}));
  CHECK(count(dir.sqlite_url("cell2.db"), "shadow_instances") == 10);
}

TEST_CASE("archive: shadow tables follow add_column, set_nullable, rename_column, alter_type and drop_column") {
  for (const auto& scratch : scratch_databases()) {
    CAPTURE(scratch->dialect());
    TempDir repos;
    write_version(repos.path(), "001", "servers", R"Y(description: servers
operations:
  - create_table:
      name: servers
      shadow: true
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: name, type: string(32), nullable: false}
        - {name: flavor, type: string(16)}
        - {name: legacy, type: text}
        - {name: deleted, type: integer, nullable: false, default: "0"}
)Y",
                  "", "");
    write_version(repos.path(), "002", "reshape", R"Y(description: new columns
operations:
  - add_column: {table: servers, column: {name: zone, type: string(16), nullable: false, default: "'az1'"}}
  - set_nullable: {table: servers, column: name}
)Y",
                  "", R"Y(description: old columns go
operations:
  - rename_column: {table: servers, from: flavor, to: flavor_name}
  - alter_type: {table: servers, column: flavor_name, type: string(64)}
  - drop_column: {table: servers, column: legacy}
)Y");
    const auto upgraded = run_phase("upgrade", scratch->url(), repos.path());
    REQUIRE_MESSAGE(upgraded.exit_code == 0, upgraded.all());
    const auto s = snapshot(scratch->url());
    const auto* table = s.find_table("servers");
    const auto* shadow = s.find_table("shadow_servers");
    REQUIRE(table != nullptr);
    REQUIRE(shadow != nullptr);
    REQUIRE(shadow->columns.size() == table->columns.size());
    for (size_t i = 0; i < table->columns.size(); ++i) {
      CAPTURE(table->columns[i].name);
      CHECK(shadow->columns[i].name == table->columns[i].name);
      CHECK(shadow->columns[i].nullable == table->columns[i].nullable);
      CHECK(shadow->columns[i].type == table->columns[i].type);
    }
    // A row only the new shape can hold: no name, a long flavor_name.
    execute(scratch->url(), "INSERT INTO servers (id, name, flavor_name, deleted) VALUES (1, NULL, "
                            "'a-flavor-name-longer-than-sixteen', 1)");
    execute(scratch->url(), "INSERT INTO servers (id, name, flavor_name) VALUES (2, 'live', 'small')");
    const auto result = run_tandem({"archive", "--db", scratch->url()}, repos.path());
    CHECK_MESSAGE(result.exit_code == 1, result.all());
    CHECK(query_rows(scratch->url(), "SELECT id, name, flavor_name, zone FROM shadow_servers") ==
          std::vector<std::string>{"1|NULL|a-flavor-name-longer-than-sixteen|az1"});
    CHECK(query_rows(scratch->url(), "SELECT id FROM servers") == std::vector<std::string>{"2"});
  }
}

TEST_CASE("archive while the application un-deletes and changes soft-deleted rows: none lost, none in both places") {
  constexpr int kRows = 3000;
  for (const auto& scratch : scratch_databases()) {
    CAPTURE(scratch->dialect());
    const std::string url = scratch->url();
    TempDir repos;
    write_version(repos.path(), "001", "servers", R"Y(description: soft-deleted servers
operations:
  - create_table:
      name: servers
      shadow: true
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: host, type: string(64)}
        - {name: deleted, type: integer, default: "0"}
)Y",
                  "", "");
    REQUIRE(run_phase("upgrade", url, repos.path()).exit_code == 0);
    for (int start = 0; start < kRows; start += 1000) {
      std::string sql = "INSERT INTO servers (id, host, deleted) VALUES ";
      for (int i = start; i < start + 1000; ++i) sql += fmt::format("{}({}, 'h{}', {})", i > start ? ", " : "", i, i, i + 1);
      execute(url, sql);
    }
    // The application's last acknowledged write per row: un-deleted, or its host changed
    // while still soft-deleted.
    std::map<int, std::string> host;
    std::set<int> undeleted;
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      auto connection = tandem::connect(tandem::DatabaseUrl::parse(url));
      std::mt19937 random(3);
      for (long long n = 0; !stop; ++n) {
        const int row = static_cast<int>(random() % kRows);
        try {
          if (n % 3 == 0) {
            if (connection->update("UPDATE servers SET deleted = 0 WHERE id = ? AND deleted <> 0", {std::to_string(row)}) == 1)
              undeleted.insert(row);
          } else {
            const std::string value = fmt::format("touched {}", n);
            if (connection->update("UPDATE servers SET host = ? WHERE id = ? AND deleted <> 0",
                                   {value, std::to_string(row)}) == 1)
              host[row] = value;
          }
        } catch (const tandem::Error&) {
          // a lock wait given up: not acknowledged
        }
      }
    });
    for (int run = 0; run < 15; ++run) {
      const Result archive = run_tandem({"archive", "--db", url, "--max-rows", "100", "--sleep", "10"}, repos.path());
      CHECK_MESSAGE(archive.exit_code <= 1, archive.all());
    }
    stop = true;
    writer.join();
    REQUIRE(run_tandem({"archive", "--db", url, "--until-complete"}, repos.path()).exit_code <= 1);
    std::map<int, std::string> live, shadow;
    for (const auto& [rows, table] : {std::pair{&live, "servers"}, std::pair{&shadow, "shadow_servers"}})
      for (const auto& line : query_rows(url, fmt::format("SELECT id, host, deleted FROM {}", table))) {
        const auto bar = line.find('|');
        (*rows)[std::stoi(line.substr(0, bar))] = line.substr(bar + 1);
      }
    long long lost = 0, doubled = 0, wrong = 0;
    for (int row = 0; row < kRows; ++row) {
      const bool in_live = live.count(row), in_shadow = shadow.count(row);
      lost += !in_live && !in_shadow;
      doubled += in_live && in_shadow;
      const std::string& found = in_live ? live[row] : shadow[row];
      const std::string expected_host = host.count(row) ? host[row] : fmt::format("h{}", row);
      // An un-deleted row is live (the write came before its batch) or was refused.
      if (undeleted.count(row)) wrong += !in_live || found.substr(found.rfind('|') + 1) != "0";
      else wrong += in_live || found.substr(0, found.rfind('|')) != expected_host;
    }
    MESSAGE(fmt::format("{}: {} rows, {} un-deleted, {} changed by the application, {} archived", scratch->dialect(), kRows,
                        undeleted.size(), host.size(), shadow.size()));
    CHECK(lost == 0);
    CHECK(doubled == 0);
    CHECK(wrong == 0);
  }
}

namespace {

// Soft-deleted rows of a table keyed by two columns, with a child by that key.
const char* kTwoColumnKey = R"Y(description: a table keyed by region and number
operations:
  - create_table:
      name: racks
      shadow: true
      columns:
        - {name: region, type: string(16), primary_key: true}
        - {name: num, type: integer, primary_key: true}
        - {name: note, type: string(32)}
        - {name: deleted, type: integer, nullable: false, default: "0"}
  - create_table:
      name: rack_ports
      shadow: true
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: region, type: string(16), nullable: false}
        - {name: num, type: integer, nullable: false}
  - add_foreign_key:
      table: rack_ports
      name: rack_ports_rack_fk
      columns: [region, num]
      references: {table: racks, columns: [region, num]}
)Y";

}  // namespace

// Each batch names its keys and the range from its first to its last (a row-value
// comparison for a key of two columns): only the listed rows move, not the live ones
// between them.
TEST_CASE("archive: a table keyed by two columns moves exactly its soft-deleted rows and their children, batch by batch") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    TempDir dir;
    const std::string url = database->url();
    write_version(dir.path(), "001", "racks", kTwoColumnKey, "", "");
    const Result upgrade = run_phase("upgrade", url, dir.path());
    REQUIRE_MESSAGE(upgrade.exit_code == 0, upgrade.all());
    std::string racks = "INSERT INTO racks (region, num, note, deleted) VALUES ";
    std::string ports = "INSERT INTO rack_ports (id, region, num) VALUES ";
    for (int i = 0; i < 300; ++i) {
      const std::string region = i % 3 == 0 ? "east" : i % 3 == 1 ? "north" : "west";
      racks += fmt::format("{}('{}', {}, 'rack {}', {})", i ? ", " : "", region, i / 3, i, i % 4 == 1 ? i : 0);
      ports += fmt::format("{}({}, '{}', {})", i ? ", " : "", i, region, i / 3);
    }
    execute(url, racks);
    execute(url, ports);
    auto value = [&](const std::string& sql) { return query_rows(url, sql).at(0); };
    const std::string live = value("SELECT count(*), sum(num) FROM racks WHERE deleted = 0");
    const std::string gone = value("SELECT count(*), sum(num) FROM racks WHERE deleted <> 0");
    const Result run = run_tandem({"archive", "--db", url, "--repos", dir.path().string(), "--until-complete",
                                   "--max-rows", "7"},
                                  dir.path());
    CHECK_MESSAGE(run.exit_code == 1, run.all());
    CHECK(value("SELECT count(*), sum(num) FROM racks") == live);
    CHECK(value("SELECT count(*), sum(num) FROM shadow_racks") == gone);
    CHECK(value("SELECT count(*) FROM shadow_racks WHERE deleted = 0") == "0");
    CHECK(value("SELECT count(*) FROM rack_ports") == "225");
    CHECK(value("SELECT count(*) FROM shadow_rack_ports p JOIN shadow_racks r ON p.region = r.region AND p.num = r.num") ==
          "75");
  }
}
