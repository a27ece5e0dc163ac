// tandem archive on a schema as nova's own migrations create it (DESIGN §10): `deleted`
// has no server default (nova declares it in its models only), a soft-deleted row holds
// its own key in it (an integer in integer-keyed tables, a string in string-keyed ones),
// children are found by foreign key, and some rows belong to an instance by its uuid
// alone. And archive.also_delete: the API database's instance_mappings and request_specs
// of archived instances go with them, even across a kill -9 between the two databases.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <signal.h>

#include <set>

#include "conformance.h"

using namespace tandem::test;

namespace {

// As nova's migrations leave them: no default on `deleted`, foreign keys as table
// constraints, shadow tables with the same columns and no constraint.
//   instances                 integer key, deleted = id
//   instance_extra            instance_uuid -> instances.uuid (never soft-deleted on its own)
//   instance_faults           instance_uuid, no foreign key; soft-deleted by nova with its instance
//   snapshots                 string key, deleted = id (a string), '' when live
//   snapshot_metadata         snapshot_id -> snapshots.id, no deleted column
const char* kNovaSchema = R"SQL(
CREATE TABLE instances (id INTEGER NOT NULL PRIMARY KEY, uuid VARCHAR(36) NOT NULL UNIQUE, host VARCHAR(64),
  deleted INTEGER);
CREATE TABLE shadow_instances (id INTEGER NOT NULL PRIMARY KEY, uuid VARCHAR(36), host VARCHAR(64), deleted INTEGER);
CREATE TABLE instance_extra (id INTEGER NOT NULL PRIMARY KEY, instance_uuid VARCHAR(36) NOT NULL, numa VARCHAR(64),
  deleted INTEGER, FOREIGN KEY (instance_uuid) REFERENCES instances (uuid));
CREATE TABLE shadow_instance_extra (id INTEGER NOT NULL PRIMARY KEY, instance_uuid VARCHAR(36), numa VARCHAR(64),
  deleted INTEGER);
CREATE TABLE instance_faults (id INTEGER NOT NULL PRIMARY KEY, instance_uuid VARCHAR(36), message VARCHAR(64),
  deleted INTEGER);
CREATE TABLE shadow_instance_faults (id INTEGER NOT NULL PRIMARY KEY, instance_uuid VARCHAR(36), message VARCHAR(64),
  deleted INTEGER);
CREATE TABLE snapshots (id VARCHAR(36) NOT NULL PRIMARY KEY, volume_id VARCHAR(36), deleted VARCHAR(36));
CREATE TABLE shadow_snapshots (id VARCHAR(36) NOT NULL PRIMARY KEY, volume_id VARCHAR(36), deleted VARCHAR(36));
CREATE TABLE snapshot_metadata (id INTEGER NOT NULL PRIMARY KEY, snapshot_id VARCHAR(36) NOT NULL,
  meta_key VARCHAR(64), FOREIGN KEY (snapshot_id) REFERENCES snapshots (id));
CREATE TABLE shadow_snapshot_metadata (id INTEGER NOT NULL PRIMARY KEY, snapshot_id VARCHAR(36),
  meta_key VARCHAR(64));
)SQL";

constexpr long long kInstances = 60;

// Every third instance is soft-deleted (deleted = id), the others live (deleted 0, or
// NULL for every seventh, which counts as live too). Each instance has one instance_extra
// row (deleted 0: it moves with its instance) and one fault, soft-deleted with its
// instance, except the faults of every ninth instance, left live by the application.
// Every fourth snapshot is soft-deleted (deleted = its id), the others live (''), and
// each snapshot has two metadata rows.
bool instance_deleted(long long id) { return id % 3 == 0; }
bool fault_deleted(long long id) { return instance_deleted(id) && id % 9 != 0; }
bool snapshot_deleted(long long id) { return id % 4 == 0; }

// A uuid with a quote and a space in it: values go to the api database as parameters.
std::string instance_uuid(long long id) { return fmt::format("it's {}", id); }
std::string sql_text(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

void populate_cell(const std::string& url) {
  std::string instances, extras, faults, snapshots, metadata;
  for (long long id = 1; id <= kInstances; ++id) {
    const std::string live = id % 7 == 0 ? "NULL" : "0";
    instances += fmt::format("{}({}, {}, 'host{}', {})", id > 1 ? ", " : "", id, sql_text(instance_uuid(id)), id % 3,
                             instance_deleted(id) ? std::to_string(id) : live);
    extras += fmt::format("{}({}, {}, 'numa{}', 0)", id > 1 ? ", " : "", 100 + id, sql_text(instance_uuid(id)), id);
    faults += fmt::format("{}({}, {}, 'fault{}', {})", id > 1 ? ", " : "", 200 + id, sql_text(instance_uuid(id)), id,
                          fault_deleted(id) ? std::to_string(200 + id) : "0");
    const std::string snapshot = fmt::format("snap-{}", id);
    snapshots += fmt::format("{}('{}', 'vol-{}', '{}')", id > 1 ? ", " : "", snapshot, id,
                             snapshot_deleted(id) ? snapshot : "");
    metadata += fmt::format("{}({}, '{}', 'a'), ({}, '{}', 'b')", id > 1 ? ", " : "", 2 * id - 1, snapshot, 2 * id,
                            snapshot);
  }
  execute(url, "INSERT INTO instances (id, uuid, host, deleted) VALUES " + instances);
  execute(url, "INSERT INTO instance_extra (id, instance_uuid, numa, deleted) VALUES " + extras);
  execute(url, "INSERT INTO instance_faults (id, instance_uuid, message, deleted) VALUES " + faults);
  execute(url, "INSERT INTO snapshots (id, volume_id, deleted) VALUES " + snapshots);
  execute(url, "INSERT INTO snapshot_metadata (id, snapshot_id, meta_key) VALUES " + metadata);
}

std::set<std::string> column_set(const std::string& url, const std::string& table, const std::string& column = "id") {
  const auto rows = query_rows(url, fmt::format("SELECT {} FROM {}", column, table));
  return {rows.begin(), rows.end()};
}

// The ids of `table` whose instance (or snapshot) `owner` is archived, or not.
template <typename Pick>
std::set<std::string> expected(long long first, long long count, Pick pick) {
  std::set<std::string> out;
  for (long long id = first; id < first + count; ++id)
    if (pick(id)) out.insert(std::to_string(id));
  return out;
}

// Exactly the soft-deleted rows and the rows referencing them by foreign key are in the
// shadows; every other row is still in its table.
void check_nova_archived(const std::string& url) {
  auto archived_instance = [](long long id) { return instance_deleted(id); };
  auto live_instance = [](long long id) { return !instance_deleted(id); };
  CHECK(column_set(url, "shadow_instances") == expected(1, kInstances, archived_instance));
  CHECK(column_set(url, "instances") == expected(1, kInstances, live_instance));
  CHECK(column_set(url, "shadow_instance_extra") ==
        expected(101, kInstances, [](long long id) { return instance_deleted(id - 100); }));
  CHECK(column_set(url, "instance_extra") ==
        expected(101, kInstances, [](long long id) { return !instance_deleted(id - 100); }));
  // By uuid alone: a fault goes when it is soft-deleted itself, never because of its instance.
  CHECK(column_set(url, "shadow_instance_faults") ==
        expected(201, kInstances, [](long long id) { return fault_deleted(id - 200); }));
  CHECK(column_set(url, "instance_faults") ==
        expected(201, kInstances, [](long long id) { return !fault_deleted(id - 200); }));
  std::set<std::string> archived_snapshots, live_snapshots, archived_metadata, live_metadata;
  for (long long id = 1; id <= kInstances; ++id) {
    (snapshot_deleted(id) ? archived_snapshots : live_snapshots).insert(fmt::format("snap-{}", id));
    for (long long row : {2 * id - 1, 2 * id})
      (snapshot_deleted(id) ? archived_metadata : live_metadata).insert(std::to_string(row));
  }
  CHECK(column_set(url, "shadow_snapshots") == archived_snapshots);
  CHECK(column_set(url, "snapshots") == live_snapshots);
  CHECK(column_set(url, "shadow_snapshot_metadata") == archived_metadata);
  CHECK(column_set(url, "snapshot_metadata") == live_metadata);
  // The rows keep their values: a string-keyed row's deleted holds its key.
  CHECK(column_set(url, "shadow_snapshots", "deleted") == archived_snapshots);
}

// The API database of nova: mappings and request specs by instance uuid, and one row
// whose uuid no instance has.
const char* kApiSchema = R"SQL(
CREATE TABLE instance_mappings (id INTEGER NOT NULL PRIMARY KEY, instance_uuid VARCHAR(36) NOT NULL, cell_id INTEGER);
CREATE TABLE request_specs (id INTEGER NOT NULL PRIMARY KEY, instance_uuid VARCHAR(36) NOT NULL, spec VARCHAR(64));
)SQL";

void populate_api(const std::string& url) {
  std::string mappings, specs;
  for (long long id = 1; id <= kInstances; ++id) {
    mappings += fmt::format("({}, {}, 1), ", id, sql_text(instance_uuid(id)));
    specs += fmt::format("({}, {}, 'spec{}'), ", id, sql_text(instance_uuid(id)), id);
  }
  execute(url, "INSERT INTO instance_mappings (id, instance_uuid, cell_id) VALUES " + mappings + "(999, 'elsewhere', 2)");
  execute(url, "INSERT INTO request_specs (id, instance_uuid, spec) VALUES " + specs + "(999, 'elsewhere', 'x')");
}

// The api rows left: those of live instances, and the one of no instance.
void check_api_cleaned(const std::string& url) {
  auto live = expected(1, kInstances, [](long long id) { return !instance_deleted(id); });
  live.insert("999");
  CHECK(column_set(url, "instance_mappings") == live);
  CHECK(column_set(url, "request_specs") == live);
}

// A deployment of an api and one cell database of one dialect, in `dir`, with both
// also_delete rules of DESIGN §10 and a model declaring instances.deleted's default.
void write_deployment(const TempDir& dir, const std::string& api_url, const std::string& cell_url) {
  write_file(dir / "tandem.yaml",
             fmt::format("repos: .\ndatabases:\n  api: \"{}\"\n  cells:\n    cell1: \"{}\"\n"
                         "archive:\n  also_delete:\n"
                         "    - {{database: api, table: instance_mappings, column: instance_uuid, of: instances.uuid}}\n"
                         "    - {{database: api, table: request_specs, column: instance_uuid, of: instances.uuid}}\n",
                         api_url, cell_url));
  write_file(dir / "model" / "cell.yaml",
             "tables:\n  - name: instances\n    columns:\n"
             "      - {name: id, type: integer, primary_key: true}\n"
             "      - {name: uuid, type: string(36), nullable: false}\n"
             "      - {name: host, type: string(64)}\n"
             "      - {name: deleted, type: integer, default: \"0\"}\n");
}

// Runs archive killed right after its first batch commits (after_batch:1), again and
// again (each run first finishes what the last left), until a kill has left archived
// instances whose api rows are still there: the crash between the two databases. Checks
// after each kill that no api row of a live instance went. Returns the archived ids.
std::set<std::string> kill_until_pending(const TempDir& dir, const std::string& cell, const std::string& api) {
  for (int attempt = 1; attempt <= 20; ++attempt) {
    CAPTURE(attempt);
    const Result killed = run_tandem({"archive", "--until-complete", "--max-rows", "7"}, dir.path(),
                                     {{"TANDEM_FAILPOINT", "after_batch:1"}});
    REQUIRE_MESSAGE(killed.exit_code == -SIGKILL, killed.all());
    const auto archived = column_set(cell, "shadow_instances");
    const auto mappings = column_set(api, "instance_mappings");
    for (long long id = 1; id <= kInstances; ++id)
      if (!instance_deleted(id)) CHECK(mappings.contains(std::to_string(id)));
    CHECK(mappings.contains("999"));
    for (const auto& id : archived)
      if (mappings.contains(id)) return archived;
  }
  FAIL("no kill fell between an instances batch's commit and its api deletes");
  return {};
}

}  // namespace

TEST_CASE("archive on nova's schema: no server default on deleted, deleted = id, integer and string keys") {
  for (const auto& scratch : scratch_databases()) {
    CAPTURE(scratch->dialect());
    const std::string url = scratch->url();
    execute(url, kNovaSchema);
    populate_cell(url);
    TempDir dir;
    const Result result = run_tandem({"archive", "--db", url, "--until-complete", "--max-rows", "7", "--verbose"},
                                     dir.path());
    REQUIRE_MESSAGE(result.exit_code == 1, result.all());
    CHECK_MESSAGE(result.err.find("not archived") == std::string::npos, result.all());
    CHECK_MESSAGE(has_line_with(result.out, {"instances", "0", "by type"}), result.out);
    CHECK_MESSAGE(has_line_with(result.out, {"snapshots", "''", "by type"}), result.out);
    check_nova_archived(url);
    // Nothing is left to archive; a rerun moves nothing.
    const Result again = run_tandem({"archive", "--db", url, "--until-complete"}, dir.path());
    CHECK_MESSAGE(again.exit_code == 0, again.all());
    check_nova_archived(url);
  }
}

TEST_CASE("archive with also_delete removes the api rows of archived instances and keeps those of live ones") {
  auto apis = scratch_databases();
  auto cells = scratch_databases();
  for (size_t i = 0; i < cells.size(); ++i) {
    CAPTURE(cells[i]->dialect());
    const std::string api = apis[i]->url(), cell = cells[i]->url();
    execute(cell, kNovaSchema);
    populate_cell(cell);
    execute(api, kApiSchema);
    populate_api(api);
    TempDir dir;
    write_deployment(dir, api, cell);
    const Result result = run_tandem({"archive", "--until-complete", "--max-rows", "7", "--verbose"}, dir.path());
    REQUIRE_MESSAGE(result.exit_code == 1, result.all());
    // The model's default comes before the type's.
    CHECK_MESSAGE(has_line_with(result.out, {"cell1", "instances", "0", "model"}), result.out);
    CHECK_MESSAGE(has_line_with(result.out, {"api", "instance_mappings", "20"}), result.out);
    CHECK_MESSAGE(result.out.find("Deleted 40 rows") != std::string::npos, result.out);
    check_nova_archived(cell);
    check_api_cleaned(api);
  }
}

TEST_CASE("archive with also_delete killed between the cell's commit and the api deletes, then a rerun finishes") {
  auto apis = scratch_databases();
  auto cells = scratch_databases();
  for (size_t i = 0; i < cells.size(); ++i) {
    CAPTURE(cells[i]->dialect());
    const std::string api = apis[i]->url(), cell = cells[i]->url();
    execute(cell, kNovaSchema);
    populate_cell(cell);
    execute(api, kApiSchema);
    populate_api(api);
    TempDir dir;
    write_deployment(dir, api, cell);
    kill_until_pending(dir, cell, api);
    const Result rerun = run_tandem({"archive", "--until-complete", "--max-rows", "7"}, dir.path());
    REQUIRE_MESSAGE(rerun.exit_code == 1, rerun.all());
    check_nova_archived(cell);
    check_api_cleaned(api);
  }
}

TEST_CASE("purge deletes the api rows still pending for the shadow rows it removes") {
  auto apis = scratch_databases();
  auto cells = scratch_databases();
  for (size_t i = 0; i < cells.size(); ++i) {
    CAPTURE(cells[i]->dialect());
    const std::string api = apis[i]->url(), cell = cells[i]->url();
    execute(cell, kNovaSchema);
    populate_cell(cell);
    execute(api, kApiSchema);
    populate_api(api);
    TempDir dir;
    write_deployment(dir, api, cell);
    const auto archived = kill_until_pending(dir, cell, api);
    const Result purged = run_tandem({"purge", "--all"}, dir.path());
    REQUIRE_MESSAGE(purged.exit_code == 0, purged.all());
    CHECK(column_set(cell, "shadow_instances").empty());
    auto left = expected(1, kInstances, [&](long long id) { return !archived.contains(std::to_string(id)); });
    left.insert("999");
    CHECK(column_set(api, "instance_mappings") == left);
    CHECK(column_set(api, "request_specs") == left);
  }
}

TEST_CASE("archive.also_delete in tandem.yaml: each wrong entry is refused, naming the file and the entry") {
  TempDir dir;
  const std::string head = "databases:\n  api: sqlite:api.db\n  cells:\n    cell1: sqlite:cell1.db\narchive:\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"  also_delete: {database: api}\n", "archive.also_delete must be a list"},
      {"  also_remove: []\n", "unknown key 'also_remove'"},
      {"  also_delete:\n    - {database: api, table: m, column: c}\n", "archive.also_delete[0]: of is missing"},
      {"  also_delete:\n    - {database: nowhere, table: m, column: c, of: instances.uuid}\n",
       "database 'nowhere' is not one of the deployment's (api, cell1)"},
      {"  also_delete:\n    - {database: cell1, table: m, column: c, of: instances.uuid}\n", "is a cell"},
      {"  also_delete:\n    - {database: api, table: \"m; DROP\", column: c, of: instances.uuid}\n",
       "table 'm; DROP' is not a valid identifier"},
      {"  also_delete:\n    - {database: api, table: m, column: c, of: instances}\n", "must be <table>.<column>"},
      {"  also_delete:\n    - {database: api, table: m, column: c, of: instances.uuid, when: x}\n",
       "archive.also_delete[0]: unknown key 'when'"},
  };
  for (const auto& [text, message] : cases) {
    CAPTURE(text);
    write_file(dir / "tandem.yaml", head + text);
    const Result result = run_tandem({"archive"}, dir.path());
    CHECK_MESSAGE(result.exit_code == 78, result.all());
    CHECK_MESSAGE(result.err.find(message) != std::string::npos, result.all());
    CHECK_MESSAGE(result.err.find("tandem.yaml") != std::string::npos, result.all());
  }
}
