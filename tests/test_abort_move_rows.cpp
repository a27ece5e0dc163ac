// `tandem abort` of a version whose migrate moved rows from the cells to the api database
// (DESIGN §16, issue 16): every row back in its cell, none doubled, none left in the api
// database, through kills inside and between the move-back's batches; and a move that
// computed a column, which cannot go back, refused before anything changes.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <signal.h>

#include <algorithm>

#include "conformance.h"
#include "key_pairs_fixture.h"

using namespace tandem::test;

namespace {

constexpr int kRowsPerCell = 1200;  // three move-back batches of 500 per cell

// The api database of `dialect` (SQLite: a file beside the cells), or null when its test
// server is not there.
struct ApiDatabase {
  std::unique_ptr<ScratchDatabase> server;
  std::string url;
};
std::optional<ApiDatabase> api_database(const std::string& dialect, const TempDir& dir) {
  if (dialect == "sqlite") return ApiDatabase{nullptr, dir.sqlite_url("api.db")};
  const std::string admin = test_server_url(dialect);
  if (admin.empty()) return std::nullopt;
  auto server = server_scratch(dialect, admin);
  const std::string url = server->url();
  return ApiDatabase{std::move(server), url};
}

// An api database and two SQLite cells at 001 in full, each cell with kRowsPerCell key
// pairs, every tenth soft-deleted, their public keys with quotes and spaces in them;
// migrate 002 (`migrate`) moves the live ones to the api database.
struct CellsToApi {
  TempDir dir;
  std::optional<ApiDatabase> api;
  std::string cells[2];

  CellsToApi(const std::string& dialect, const char* migrate = kMoveKeyPairs) : api(api_database(dialect, dir)) {
    if (!api) return;
    cells[0] = dir.sqlite_url("cell1.db");
    cells[1] = dir.sqlite_url("cell2.db");
    write_version(dir.path(), "001", "key_pairs", kKeyPairs, "", "");
    write_version(dir.path(), "002", "move", "", migrate, "");
    write_file(dir / "tandem.yaml", fmt::format("repos: .\ndatabases:\n  api: {}\n  cells:\n    cell1: {}\n    cell2: {}\n",
                                                api->url, cells[0], cells[1]));
    for (const char* phase : {"expand", "migrate", "contract"}) ok({phase, "--to", "1"});
    for (int cell = 0; cell < 2; ++cell) {
      std::string sql = "INSERT INTO key_pairs (user_id, name, public_key, deleted) VALUES ";
      for (int i = 0; i < kRowsPerCell; ++i)
        sql += fmt::format("{}('cell{} user {}', 'key {}', 'ssh-rsa ''AAA{}'' it''s mine', {})", i ? ", " : "",
                           cell + 1, i, i, i, i % 10 == 0 ? 1 : 0);
      execute(cells[cell], sql);
    }
  }
  Result tandem(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) const {
    return run_tandem(args, dir.path(), env);
  }
  void ok(const std::vector<std::string>& args) const {
    const Result result = tandem(args);
    REQUIRE_MESSAGE(result.exit_code == 0, result.all());
  }
  std::string value(const std::string& url, const std::string& sql) const { return query_rows(url, sql).at(0); }
  // Every key pair of a database, deleted or not, as the old release reads it.
  std::vector<std::string> key_pairs(const std::string& url) const {
    return query_rows(url, "SELECT user_id, name, public_key, deleted FROM key_pairs ORDER BY user_id, name");
  }
  std::vector<std::string> versions(const std::string& url) const {
    return query_rows(url, "SELECT phase, version FROM tandem_version ORDER BY phase");
  }
};

}  // namespace

TEST_CASE("abort: rows move_rows moved to the api database go back to their cells, through kills inside the move") {
  for (const std::string dialect : {"sqlite", "postgresql", "mysql"}) {
    CAPTURE(dialect);
    CellsToApi deployment(dialect);
    if (!deployment.api) continue;
    const std::string& api = deployment.api->url;
    const auto cell1_before = deployment.key_pairs(deployment.cells[0]);
    auto cell2_before = deployment.key_pairs(deployment.cells[1]);
    REQUIRE(cell1_before.size() == kRowsPerCell);

    deployment.ok({"expand"});
    deployment.ok({"migrate", "--batch-size", "250"});
    REQUIRE(deployment.value(api, "SELECT count(*) FROM key_pairs") == "2160");
    for (const auto& cell : deployment.cells)
      REQUIRE(deployment.value(cell, "SELECT count(*) FROM key_pairs") == "120");
    CHECK(deployment.value(api, "SELECT count(*) FROM tandem_moved_rows") == "2160");

    // The new release, in the window: a key pair of its own, one moved row changed and
    // one deleted.
    execute(api, "INSERT INTO key_pairs (user_id, name, public_key) VALUES ('api user', 'new key', 'made by N')");
    execute(api, "UPDATE key_pairs SET public_key = 'rotated ''by'' N' WHERE user_id = 'cell1 user 7'");
    execute(api, "DELETE FROM key_pairs WHERE user_id = 'cell2 user 8'");
    std::vector<std::string> cell1_expected = cell1_before;
    for (auto& row : cell1_expected)
      if (row.rfind("cell1 user 7|", 0) == 0) row = "cell1 user 7|key 7|rotated 'by' N|0";
    std::sort(cell1_expected.begin(), cell1_expected.end());
    cell2_before.erase(std::remove(cell2_before.begin(), cell2_before.end(), "cell2 user 8|key 8|ssh-rsa 'AAA8' it's mine|0"),
                       cell2_before.end());
    REQUIRE(cell2_before.size() == kRowsPerCell - 1);

    const Result dry = deployment.tandem({"abort", "--dry-run"});
    REQUIRE_MESSAGE(dry.exit_code == 0, dry.all());
    CHECK_MESSAGE(contains(dry.out, "go back into key_pairs (1080 recorded)"), dry.out);
    CHECK(deployment.value(api, "SELECT count(*) FROM key_pairs") == "2160");

    // Killed with rows in both databases (after batch 2 committed in the cell), then
    // inside the next run's first batch, before its commit.
    const Result between = deployment.tandem({"abort"}, {{"TANDEM_FAILPOINT", "after_batch:2"}});
    REQUIRE_MESSAGE(between.exit_code == -SIGKILL, between.all());
    CHECK(std::stoi(deployment.value(deployment.cells[0], "SELECT count(*) FROM key_pairs")) > 120);
    const Result inside = deployment.tandem({"abort", "--wait", "10"}, {{"TANDEM_FAILPOINT", "before_commit:1"}});
    REQUIRE_MESSAGE(inside.exit_code == -SIGKILL, inside.all());
    const Result aborted = deployment.tandem({"abort", "--wait", "10"});
    REQUIRE_MESSAGE(aborted.exit_code == 0, aborted.all());

    std::vector<std::string> cell1_after = deployment.key_pairs(deployment.cells[0]);
    std::sort(cell1_after.begin(), cell1_after.end());
    CHECK(cell1_after == cell1_expected);
    std::vector<std::string> cell2_after = deployment.key_pairs(deployment.cells[1]);
    std::sort(cell2_after.begin(), cell2_after.end());
    std::sort(cell2_before.begin(), cell2_before.end());
    CHECK(cell2_after == cell2_before);
    // What the new release made in the api database itself has no cell to go to.
    CHECK(query_rows(api, "SELECT user_id, name FROM key_pairs") == std::vector<std::string>{"api user|new key"});
    CHECK(deployment.value(api, "SELECT count(*) FROM tandem_moved_rows") == "0");
    for (const std::string& url : {api, deployment.cells[0], deployment.cells[1]}) {
      CHECK(deployment.versions(url) == std::vector<std::string>{"contract|1", "expand|1", "migrate|1"});
      CHECK(deployment.value(url, "SELECT count(*) FROM tandem_history WHERE status = 'running'") == "0");
    }
    CHECK(contains(deployment.tandem({"abort"}).out, "nothing to abort"));

    // The version runs again, in full: the records go with its contract.
    execute(api, "DELETE FROM key_pairs WHERE user_id = 'api user'");
    for (const char* phase : {"expand", "migrate", "contract"}) deployment.ok({phase});
    CHECK(deployment.value(api, "SELECT count(*) FROM key_pairs") == "2159");
    CHECK(deployment.value(api, "SELECT count(*) FROM tandem_moved_rows") == "0");
    const Result status = deployment.tandem({"status", "--check"});
    CHECK_MESSAGE(status.exit_code == 0, status.all());
  }
}

TEST_CASE("abort: a move_rows that computed a column is refused naming the unit, and nothing moves") {
  const char* computed = R"Y(description: key pairs move, their names lower-cased
operations:
  - move_rows:
      from: {database: cell, table: key_pairs}
      to: {database: api, table: key_pairs}
      columns: {user_id: user_id, name: lower(name), public_key: public_key}
      unique: [user_id, name]
      where: deleted = 0
)Y";
  CellsToApi deployment("sqlite", computed);
  const Result check = deployment.tandem({"check"});
  CHECK_MESSAGE(has_line_with(check.all(), {"data_migration_repo/002_move.yaml", "cannot-abort"}), check.all());
  deployment.ok({"expand"});
  deployment.ok({"migrate"});
  const std::string& api = deployment.api->url;
  const auto moved = query_rows(api, "SELECT user_id, name, public_key FROM key_pairs ORDER BY user_id, name");
  REQUIRE(moved.size() == 2160);
  const Result refused = deployment.tandem({"abort"});
  CHECK(refused.exit_code == 1);
  CHECK_MESSAGE(contains(refused.err, "data_migration_repo/002_move.yaml"), refused.err);
  CHECK(contains(refused.err, "computed column name as (lower(name))"));
  CHECK(contains(refused.err, "nothing was aborted"));
  CHECK(query_rows(api, "SELECT user_id, name, public_key FROM key_pairs ORDER BY user_id, name") == moved);
  for (const auto& cell : deployment.cells) {
    CHECK(deployment.value(cell, "SELECT count(*) FROM key_pairs") == "120");
    CHECK(deployment.value(cell, "SELECT version FROM tandem_version WHERE phase = 'migrate'") == "2");
  }
}

TEST_CASE("abort: a moved row whose unique value is not valid UTF-8 goes back byte for byte") {
  CellsToApi deployment("sqlite");
  // A name of raw bytes, as a latin1 client or a binary column hands them over.
  execute(deployment.cells[0], "INSERT INTO key_pairs (user_id, name, public_key) VALUES ('bytes', CAST(X'C3FF20' AS TEXT), 'k')");
  deployment.ok({"expand"});
  deployment.ok({"migrate"});
  const std::string& api = deployment.api->url;
  CHECK(deployment.value(api, "SELECT hex(name) FROM key_pairs WHERE user_id = 'bytes'") == "C3FF20");
  deployment.ok({"abort"});
  CHECK(deployment.value(deployment.cells[0], "SELECT hex(name) FROM key_pairs WHERE user_id = 'bytes'") == "C3FF20");
  CHECK(deployment.value(deployment.cells[0], "SELECT count(*) FROM key_pairs") == "1201");
  CHECK(deployment.value(api, "SELECT count(*) FROM key_pairs") == "0");
}
