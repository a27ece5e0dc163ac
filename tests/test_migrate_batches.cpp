// The migrate phase in batches (DESIGN §7): keyset batches committed with their cursor,
// resumable after kill -9, --max-count runs, and rows written behind the cursor.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "conformance.h"
#include "key_pairs_fixture.h"

using namespace tandem::test;

namespace {

// Items keyed by text, so rows written during a migrate land anywhere, also behind the cursor.
const char* kItems = R"Y(description: items
operations:
  - create_table:
      name: items
      columns:
        - {name: id, type: string(36), primary_key: true}
        - {name: a, type: integer, nullable: false}
        - {name: b, type: integer}
)Y";

const char* kBackfill = R"Y(description: b is twice a
operations:
  - backfill: {table: items, set: {b: "a * 2"}, where: b IS NULL}
)Y";

struct Items {
  TempDir dir;
  std::string url;
  explicit Items(std::string database_url, int rows) : url(std::move(database_url)) {
    write_version(dir.path(), "001", "items", kItems, "", "");
    write_version(dir.path(), "002", "double", "", kBackfill, "");
    REQUIRE(run_phase("upgrade", url, dir.path(), {"--to", "1"}).exit_code == 0);
    insert(0, rows, "seed");
    REQUIRE(run_phase("expand", url, dir.path()).exit_code == 0);
  }
  void insert(int first, int count, const std::string& prefix) {
    for (int start = first; start < first + count; start += 1000) {
      std::string sql = "INSERT INTO items (id, a) VALUES ";
      for (int i = start; i < std::min(first + count, start + 1000); ++i)
        sql += fmt::format("{}('{}-{:08x}', {})", i > start ? ", " : "", prefix, (i * 2654435761u) & 0xffffffffu, i);
      execute(url, sql);
    }
  }
  std::string value(const std::string& sql) { return query_rows(url, sql).at(0); }
  std::string checksum() { return value("SELECT count(*), sum(a), sum(b), sum(CASE WHEN b = a * 2 THEN 1 ELSE 0 END) FROM items"); }
};

nlohmann::json migrate_json(Items& items, std::vector<std::string> extra, int& exit_code) {
  extra.insert(extra.end(), {"--format", "json"});
  const Result result = run_phase("migrate", items.url, items.dir.path(), extra);
  exit_code = result.exit_code;
  INFO(result.all());
  return nlohmann::json::parse(result.out);
}

}  // namespace

TEST_CASE("migrate in batches: --max-count in a loop exits 1 until the work is done, then 0") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    Items items(database->url(), 2500);
    std::vector<int> codes;
    long long completed = 0, needed = 0;
    for (int run = 0; run < 6; ++run) {
      int code = -1;
      const auto report = migrate_json(items, {"--batch-size", "100", "--max-count", "1000"}, code);
      codes.push_back(code);
      for (const auto& unit : report["units"])
        for (const auto& migration : unit["migrations"]) {
          completed = migration["completed"].get<long long>();
          needed = migration["total_needed"].get<long long>();
        }
      if (code == 0) break;
    }
    CHECK(codes == std::vector<int>{1, 1, 0});
    CHECK(needed == 2500);
    CHECK(completed == 2500);
    CHECK(items.value("SELECT count(*) FROM items WHERE b IS NULL OR b <> a * 2") == "0");
    CHECK(items.value("SELECT version FROM tandem_version WHERE phase = 'migrate'") == "2");
    CHECK(run_phase("migrate", items.url, items.dir.path()).out.find("nothing to do") != std::string::npos);
  }
}

TEST_CASE("migrate in batches: kill -9 ten times, then a rerun ends with the data of an uninterrupted run") {
  constexpr int kRows = 100000;
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    auto databases = scratch_databases();
    ScratchDatabase* second = nullptr;
    for (const auto& other : databases)
      if (other->dialect() == database->dialect()) second = other.get();
    Items killed(database->url(), kRows), reference(second->url(), kRows);
    REQUIRE(run_phase("migrate", reference.url, reference.dir.path()).exit_code == 0);
    // Each run killed once its Nth batch of 1000 rows has committed (after_batch), or
    // inside the Nth batch's transaction, its rows changed and its cursor saved but not
    // committed (before_commit: the N-1 before it count), N other from run to run.
    int batches = 0;
    int run_number = 0;
    for (int batch : {1, 2, 3, 5, 8, 13, 21, 1, 2, 3}) {
      const bool inside = ++run_number % 2 == 0;
      CAPTURE(batch);
      CAPTURE(inside);
      const Result run =
          run_tandem({"migrate", "--wait", "10", "--batch-size", "1000", "--db", killed.url, "--repos",
                      killed.dir.path().string()},
                     killed.dir.path(),
                     {{"TANDEM_FAILPOINT", fmt::format("{}:{}", inside ? "before_commit" : "after_batch", batch)}});
      CHECK_MESSAGE(run.exit_code == -SIGKILL, run.all());
      batches += inside ? batch - 1 : batch;
    }
    const std::string half = killed.value("SELECT count(*) FROM items WHERE b IS NOT NULL");
    CHECK(std::stoi(half) > 0);
    CHECK(std::stoi(half) < kRows);
    // Every committed batch kept, none lost to a later kill or done twice.
    CHECK(std::stoi(half) == batches * 1000);
    const Result rerun = run_phase("migrate", killed.url, killed.dir.path(), {"--wait", "10"});
    REQUIRE_MESSAGE(rerun.exit_code == 0, rerun.all());
    CHECK(killed.checksum() == reference.checksum());
    CHECK(killed.value("SELECT count(*) FROM items WHERE b = a * 2") == std::to_string(kRows));
  }
}

TEST_CASE("migrate in batches: rows written behind the cursor while it runs are not forgotten") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    Items items(database->url(), 5000);
    // The run held (a hold_ fail-point) once its tenth batch of 100 has committed, while the
    // old release inserts rows without b: keyed 'late-...', before every 'seed-...' key, so
    // all of them behind the cursor.
    FailpointHold hold(items.dir / "hold");
    const int pid = spawn_tandem({"migrate", "--batch-size", "100", "--db", items.url, "--repos", items.dir.path().string()},
                                 items.dir.path(), hold.environment("hold_after_batch:10"));
    REQUIRE(hold.wait_reached(pid));
    CHECK(items.value("SELECT count(*) FROM items WHERE b IS NOT NULL") == "1000");
    for (int chunk = 0; chunk < 10; ++chunk) items.insert(100000 + chunk * 50, 50, "late");
    hold.release();
    REQUIRE(wait_for(pid) == 0);
    CHECK(items.value("SELECT count(*) FROM items") == "5500");
    CHECK(items.value("SELECT count(*) FROM items WHERE b IS NULL") == "0");
  }
}


TEST_CASE("move_rows moves rows from every cell to the api database, a crash between insert and delete doubles nothing") {
  auto databases = scratch_databases();
  // The api database on the last dialect available (a server when there is one), cells on SQLite.
  ScratchDatabase* api = databases.back().get();
  TempDir cells;
  TempDir dir;
  write_version(dir.path(), "001", "key_pairs", kKeyPairs, "", "");
  write_version(dir.path(), "002", "move", "", kMoveKeyPairs, "");
  write_file(dir / "tandem.yaml", "repos: .\ndatabases:\n  api: " + api->url() + "\n  cells:\n    cell1: " +
                                      cells.sqlite_url("cell1.db") + "\n    cell2: " + cells.sqlite_url("cell2.db") + "\n");
  auto tandem = [&](const std::vector<std::string>& args) { return run_tandem(args, dir.path()); };
  REQUIRE(tandem({"expand"}).exit_code == 0);
  const std::vector<std::string> cell_urls = {cells.sqlite_url("cell1.db"), cells.sqlite_url("cell2.db")};
  int expected = 0;
  for (size_t cell = 0; cell < cell_urls.size(); ++cell) {
    std::string rows = "INSERT INTO key_pairs (user_id, name, public_key, deleted) VALUES ";
    for (int i = 0; i < 700; ++i) {
      const bool deleted = i % 10 == 0;
      expected += !deleted;
      rows += fmt::format("{}('user-{}', 'key-{}', 'ssh-rsa {}', {})", i ? ", " : "", cell, i, i, deleted ? i + 1 : 0);
    }
    execute(cell_urls[cell], rows);
  }
  // As a crash between the target's commit and the source's delete would leave it: some
  // rows of cell1 are in the api database already, still in cell1 too.
  execute(api->url(), "INSERT INTO key_pairs (user_id, name, public_key) VALUES ('user-0', 'key-1', 'ssh-rsa 1'), "
                      "('user-0', 'key-2', 'ssh-rsa 2')");
  const Result migrate = tandem({"migrate", "--batch-size", "100"});
  REQUIRE_MESSAGE(migrate.exit_code == 0, migrate.all());
  CHECK(migrate.out.find("Total Needed") != std::string::npos);
  CHECK(query_rows(api->url(), "SELECT count(*) FROM key_pairs") == std::vector<std::string>{std::to_string(expected)});
  CHECK(query_rows(api->url(), "SELECT count(*) FROM (SELECT user_id, name FROM key_pairs GROUP BY user_id, name "
                               "HAVING count(*) > 1) doubled") == std::vector<std::string>{"0"});
  for (const auto& url : cell_urls) {
    // Only the soft-deleted rows stay behind.
    CHECK(query_rows(url, "SELECT count(*) FROM key_pairs WHERE deleted = 0") == std::vector<std::string>{"0"});
    CHECK(query_rows(url, "SELECT count(*) FROM key_pairs") == std::vector<std::string>{"70"});
  }
  CHECK(tandem({"status", "--check"}).exit_code == 4);
}

TEST_CASE("move_rows killed with kill -9 again and again: the target holds no duplicate and misses no row") {
  auto databases = scratch_databases();
  ScratchDatabase* api = databases.back().get();
  TempDir cells, dir;
  write_version(dir.path(), "001", "key_pairs", kKeyPairs, "", "");
  write_version(dir.path(), "002", "move", "", kMoveKeyPairs, "");
  const std::string cell_url = cells.sqlite_url("cell1.db");
  write_file(dir / "tandem.yaml", "repos: .\ndatabases:\n  api: " + api->url() + "\n  cells:\n    cell1: " + cell_url + "\n");
  REQUIRE(run_tandem({"expand"}, dir.path()).exit_code == 0);
  constexpr int kRows = 20000;
  for (int start = 0; start < kRows; start += 1000) {
    std::string rows = "INSERT INTO key_pairs (user_id, name, public_key) VALUES ";
    for (int i = start; i < start + 1000; ++i) rows += fmt::format("{}('user-{}', 'key', 'ssh-rsa {}')", i > start ? ", " : "", i, i);
    execute(cell_url, rows);
  }
  // Each run killed once its Nth batch of 200 has committed in both databases (the
  // after_batch fail-point), or, where N is 0, held between its first batch's copy into the
  // api database and the batch's delete in the cell, and killed there: those rows are then
  // in both, and the next run's first batch copies them again.
  int batches = 0;
  for (int batch : {1, 0, 3, 2, 0, 5, 8, 0, 4, 6}) {
    CAPTURE(batch);
    if (batch > 0) {
      const Result run = run_tandem({"migrate", "--wait", "10", "--batch-size", "200"}, dir.path(),
                                    {{"TANDEM_FAILPOINT", fmt::format("after_batch:{}", batch)}});
      CHECK_MESSAGE(run.exit_code == -SIGKILL, run.all());
      batches += batch;
      continue;
    }
    // The engine's pause after a copy makes the files a hold_ fail-point does.
    const auto seam = dir / fmt::format("copied{}", batches);
    FailpointHold copied(seam);
    const int pid =
        spawn_tandem({"migrate", "--wait", "10", "--batch-size", "200"}, dir.path(), {{"TANDEM_TEST_PAUSE_AFTER_COPY", seam.string()}});
    CHECK(copied.wait_reached(pid));
    kill(pid, SIGKILL);
    CHECK(wait_for(pid) == -SIGKILL);
  }
  const int moved = std::stoi(query_rows(api->url(), "SELECT count(*) FROM key_pairs").at(0));
  CHECK(moved > 0);
  CHECK(moved < kRows);
  // A batch copied twice counts once: every run held at the seam is followed by one that
  // moves that batch again as its first.
  CHECK(moved == batches * 200);
  CHECK(query_rows(cell_url, "SELECT count(*) FROM key_pairs") == std::vector<std::string>{std::to_string(kRows - moved)});
  const Result rerun = run_tandem({"migrate", "--wait", "10"}, dir.path());
  REQUIRE_MESSAGE(rerun.exit_code == 0, rerun.all());
  CHECK(query_rows(api->url(), "SELECT count(*), count(DISTINCT user_id) FROM key_pairs") ==
        std::vector<std::string>{fmt::format("{}|{}", kRows, kRows)});
  CHECK(query_rows(cell_url, "SELECT count(*) FROM key_pairs") == std::vector<std::string>{"0"});
}

TEST_CASE("migrate in batches walks a composite key") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    TempDir dir;
    write_version(dir.path(), "001", "pairs", R"Y(description: a table keyed by two columns
operations:
  - create_table:
      name: pairs
      columns:
        - {name: region, type: string(16), primary_key: true}
        - {name: seq, type: integer, primary_key: true}
        - {name: label, type: string(32)}
)Y",
                  "", "");
    write_version(dir.path(), "002", "label", "", R"Y(description: label every pair
operations:
  - backfill: {table: pairs, set: {label: "region || '-' || seq"}, where: label IS NULL}
)Y",
                  "");
    REQUIRE(run_phase("upgrade", database->url(), dir.path(), {"--to", "1"}).exit_code == 0);
    std::string rows = "INSERT INTO pairs (region, seq) VALUES ";
    for (int i = 0; i < 60; ++i) rows += fmt::format("{}('r{}', {})", i ? ", " : "", i % 3, i / 3);
    execute(database->url(), rows);
    REQUIRE(run_phase("expand", database->url(), dir.path()).exit_code == 0);
    const Result migrate = run_phase("migrate", database->url(), dir.path(), {"--batch-size", "7", "--format", "json"});
    REQUIRE_MESSAGE(migrate.exit_code == 0, migrate.all());
    // 60 rows in batches of 7: nine batches in the first pass, none skipped or repeated.
    CHECK(nlohmann::json::parse(migrate.out)["units"][0]["migrations"][0]["completed"] == 60);
    CHECK(query_rows(database->url(), "SELECT count(*) FROM pairs WHERE label = region || '-' || seq") ==
          std::vector<std::string>{"60"});
  }
}

TEST_CASE("migrate in batches: a table keyed by text that is not valid UTF-8 is walked in batches and resumes from its cursor") {
  TempDir sqlite;
  Items items(sqlite.sqlite_url("bytes.db"), 30);
  // Keys of raw bytes, as a latin1 client or a binary column hands them over.
  execute(items.url, "INSERT INTO items (id, a) VALUES (CAST(X'C3FF01' AS TEXT), 1000), (CAST(X'FE20' AS TEXT), 1001)");
  const Result killed = run_tandem({"migrate", "--db", items.url, "--repos", items.dir.path().string(), "--batch-size", "4"},
                                  items.dir.path(), {{"TANDEM_FAILPOINT", "after_batch:3"}});
  REQUIRE_MESSAGE(killed.exit_code == -SIGKILL, killed.all());
  const Result rerun = run_phase("migrate", items.url, items.dir.path(), {"--batch-size", "4"});
  REQUIRE_MESSAGE(rerun.exit_code == 0, rerun.all());
  CHECK(items.checksum() == "32|2436|4872|32");
  CHECK(items.value("SELECT b FROM items WHERE hex(id) = 'C3FF01'") == "2000");
}
