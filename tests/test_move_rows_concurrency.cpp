// move_rows while the application writes (issue 9 item 1, issue 10 item 9), on every
// dialect, the cell and the api database both of it: an update between a batch's copy
// and its delete is never lost, a row in both places converges to the source's content,
// and lock waits on the source are retried instead of killing the run.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "conformance.h"
#include "key_pairs_fixture.h"

using namespace tandem::test;

namespace {

// An api and a cell database of one dialect, key_pairs created in both, `rows` key pairs
// ('user-<i>', 'key-<i>', 'ssh-rsa <i>') in the cell.
struct Deployment {
  std::unique_ptr<ScratchDatabase> api_database, cell_database;
  std::string api, cell;
  TempDir dir;

  Deployment(std::unique_ptr<ScratchDatabase> first, std::unique_ptr<ScratchDatabase> second, int rows)
      : api_database(std::move(first)), cell_database(std::move(second)), api(api_database->url()),
        cell(cell_database->url()) {
    write_version(dir.path(), "001", "key_pairs", kKeyPairs, "", "");
    write_version(dir.path(), "002", "move", "", kMoveKeyPairs, "");
    write_file(dir / "tandem.yaml", "repos: .\ndatabases:\n  api: " + api + "\n  cells:\n    cell1: " + cell + "\n");
    const Result expand = run_tandem({"expand"}, dir.path());
    REQUIRE_MESSAGE(expand.exit_code == 0, expand.all());
    for (int start = 0; start < rows; start += 1000) {
      std::string sql = "INSERT INTO key_pairs (user_id, name, public_key) VALUES ";
      for (int i = start; i < std::min(rows, start + 1000); ++i)
        sql += fmt::format("{}('user-{}', 'key-{}', 'ssh-rsa {}')", i > start ? ", " : "", i, i, i);
      execute(cell, sql);
    }
  }
  std::string value(const std::string& url, const std::string& sql) { return query_rows(url, sql).at(0); }
};

// One deployment per available dialect.
std::vector<std::unique_ptr<Deployment>> deployments(int rows) {
  auto firsts = scratch_databases();
  auto seconds = scratch_databases();
  std::vector<std::unique_ptr<Deployment>> all;
  for (size_t i = 0; i < firsts.size(); ++i)
    all.push_back(std::make_unique<Deployment>(std::move(firsts[i]), std::move(seconds[i]), rows));
  return all;
}

// A migrate run held at the seam between its first batch's copy (committed in the api
// database) and that batch's delete in the cell, through the engine's test hook.
class PausedMigrate {
 public:
  PausedMigrate(Deployment& deployment, const std::vector<std::string>& extra = {}) : pause_(deployment.dir / "pause") {
    std::vector<std::string> args = {"migrate", "--batch-size", "1000"};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = spawn_tandem(args, deployment.dir.path(), {{"TANDEM_TEST_PAUSE_AFTER_COPY", pause_.string()}});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!std::filesystem::exists(pause_.string() + ".reached") && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    REQUIRE_MESSAGE(std::filesystem::exists(pause_.string() + ".reached"), "migrate never reached its first batch");
  }
  // Lets the run go on; returns its exit code.
  int finish() {
    write_file(pause_.string() + ".go", "");
    return wait_for(pid_);
  }

 private:
  std::filesystem::path pause_;
  int pid_ = -1;
};

}  // namespace

TEST_CASE("move_rows: an update between a batch's copy and its delete reaches the target, the source ends empty") {
  for (auto& deployment : deployments(50)) {
    CAPTURE(deployment->cell_database->dialect());
    PausedMigrate migrate(*deployment);
    // The old release writes to a row the batch has just copied.
    execute(deployment->cell, "UPDATE key_pairs SET public_key = 'rotated' WHERE name = 'key-7'");
    CHECK(migrate.finish() == 0);
    CHECK(deployment->value(deployment->api, "SELECT public_key FROM key_pairs WHERE name = 'key-7'") == "rotated");
    CHECK(deployment->value(deployment->api, "SELECT count(*) FROM key_pairs") == "50");
    CHECK(deployment->value(deployment->api, "SELECT count(*) FROM key_pairs WHERE public_key LIKE 'ssh-rsa %'") == "49");
    CHECK(deployment->value(deployment->cell, "SELECT count(*) FROM key_pairs") == "0");
  }
}

TEST_CASE("move_rows: a row in both databases with other content converges to the source's content") {
  for (auto& deployment : deployments(30)) {
    CAPTURE(deployment->cell_database->dialect());
    // As a run killed between the target's commit and the source's delete leaves it,
    // after the application updated the source row: the target holds the older content.
    execute(deployment->api, "INSERT INTO key_pairs (user_id, name, public_key) VALUES ('user-3', 'key-3', 'older'), "
                             "('user-4', 'key-4', NULL), ('user-5', 'key-5', 'ssh-rsa 5')");
    execute(deployment->cell, "UPDATE key_pairs SET public_key = NULL WHERE name = 'key-6'");
    execute(deployment->api, "INSERT INTO key_pairs (user_id, name, public_key) VALUES ('user-6', 'key-6', 'was set')");
    const Result migrate = run_tandem({"migrate", "--batch-size", "7"}, deployment->dir.path());
    REQUIRE_MESSAGE(migrate.exit_code == 0, migrate.all());
    CHECK(query_rows(deployment->api, "SELECT name, public_key FROM key_pairs WHERE name IN ('key-3', 'key-4', "
                                      "'key-5', 'key-6') ORDER BY name") ==
          std::vector<std::string>{"key-3|ssh-rsa 3", "key-4|ssh-rsa 4", "key-5|ssh-rsa 5", "key-6|NULL"});
    CHECK(deployment->value(deployment->api, "SELECT count(*) FROM key_pairs") == "30");
    CHECK(deployment->value(deployment->cell, "SELECT count(*) FROM key_pairs") == "0");
  }
}

TEST_CASE("move_rows: a lock held on the source longer than one lock timeout is waited out, migrate exits 0") {
  for (auto& deployment : deployments(40)) {
    const std::string dialect = deployment->cell_database->dialect();
    CAPTURE(dialect);
    PausedMigrate migrate(*deployment, {"--lock-timeout", "300"});
    // The application holds a row of the batch (on SQLite the database's write lock)
    // in an open transaction: longer than SQLite's old 10 s busy timeout, a few lock
    // timeouts on the servers, and well inside the retries' backoff.
    const auto hold = std::chrono::milliseconds(dialect == "sqlite" ? 11000 : 3000);
    auto holder = tandem::connect(tandem::DatabaseUrl::parse(deployment->cell));
    holder->begin();
    holder->update("UPDATE key_pairs SET public_key = 'held' WHERE name = 'key-9'");
    std::thread release([&] {
      std::this_thread::sleep_for(hold);
      holder->commit();
    });
    const auto started = std::chrono::steady_clock::now();
    const int code = migrate.finish();
    release.join();
    CHECK(code == 0);
    CHECK(std::chrono::steady_clock::now() - started >= hold);
    CHECK(deployment->value(deployment->api, "SELECT count(*) FROM key_pairs") == "40");
    CHECK(deployment->value(deployment->api, "SELECT public_key FROM key_pairs WHERE name = 'key-9'") == "held");
    CHECK(deployment->value(deployment->cell, "SELECT count(*) FROM key_pairs") == "0");
  }
}

TEST_CASE("move_rows soak: a writer at full speed and kill -9 again and again, every acknowledged write is in the target") {
  // TANDEM_SOAK_ROWS=100000 for the issue's full figure; the suite's default keeps each
  // dialect's run under a minute.
  const char* configured = std::getenv("TANDEM_SOAK_ROWS");
  const int rows = configured ? std::atoi(configured) : 20000;
  for (auto& deployment : deployments(rows)) {
    const std::string dialect = deployment->cell_database->dialect();
    CAPTURE(dialect);
    if (dialect == "sqlite")
      for (const auto& url : {deployment->api, deployment->cell}) execute(url, "PRAGMA journal_mode = WAL");
    // The old release: updates random rows (in the cell, else in the api database where
    // the row has moved) and inserts new ones into the cell, never pausing. `acknowledged`
    // holds each row's last value a statement reported as written.
    std::map<int, std::string> acknowledged;
    std::atomic<bool> stop{false};
    long long updates = 0, inserts = 0, refused = 0;
    std::thread writer([&] {
      auto cell = tandem::connect(tandem::DatabaseUrl::parse(deployment->cell));
      auto api = tandem::connect(tandem::DatabaseUrl::parse(deployment->api));
      std::mt19937 random(11);
      int next = rows;
      for (long long n = 1; !stop; ++n) {
        try {
          if (n % 10 == 0) {
            const std::string value = fmt::format("new {}", n);
            cell->update("INSERT INTO key_pairs (user_id, name, public_key) VALUES (?, ?, ?)",
                         {fmt::format("user-{}", next), fmt::format("key-{}", next), value});
            acknowledged[next++] = value;
            ++inserts;
            continue;
          }
          const int row = static_cast<int>(random() % static_cast<unsigned>(next));
          const std::string value = fmt::format("update {}", n), name = fmt::format("key-{}", row);
          const std::string sql = "UPDATE key_pairs SET public_key = ? WHERE name = ?";
          if (cell->update(sql, {value, name}) == 1 || api->update(sql, {value, name}) == 1) {
            acknowledged[row] = value;
            ++updates;
          }
        } catch (const tandem::Error&) {
          ++refused;  // a lock wait the database gave up: not acknowledged, nothing written
        }
      }
    });
    int kills = 0, exits = 0;
    const auto started = std::chrono::steady_clock::now();
    // Each run killed (the after_batch fail-point) once its Nth batch of 200 has committed,
    // N going round the list; while at least a third of the seed rows are left, so no run
    // completes while the writer still inserts.
    const std::vector<int> kill_after = {1, 4, 2, 7, 3, 9, 5};
    size_t run = 0;
    while (std::stoi(deployment->value(deployment->cell, "SELECT count(*) FROM key_pairs")) > rows / 3 &&
           std::chrono::steady_clock::now() - started < std::chrono::seconds(40)) {
      const int batch = kill_after[run++ % kill_after.size()];
      const Result killed = run_tandem({"migrate", "--wait", "30", "--batch-size", "200", "--sleep", "20"},
                                       deployment->dir.path(), {{"TANDEM_FAILPOINT", fmt::format("after_batch:{}", batch)}});
      kills += killed.exit_code == -SIGKILL;
      exits += killed.exit_code >= 0;  // ended before its batch N: its locks fought for too long
    }
    stop = true;
    writer.join();
    Result last;
    for (int run = 0; run < 5; ++run) {
      last = run_tandem({"migrate", "--wait", "30"}, deployment->dir.path());
      if (last.exit_code != 1) break;
    }
    REQUIRE_MESSAGE(last.exit_code == 0, last.all());
    MESSAGE(fmt::format("{}: {} rows seeded, {} inserted and {} updates acknowledged by the writer ({} refused), "
                        "{} kill -9 ({} runs ended before their kill), {:.1f} s",
                        dialect, rows, inserts, updates, refused, kills, exits,
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()));
    CHECK(kills > 0);
    CHECK(deployment->value(deployment->cell, "SELECT count(*) FROM key_pairs") == "0");
    std::map<int, std::string> moved;
    long long doubled = 0;
    for (const auto& line : query_rows(deployment->api, "SELECT name, public_key FROM key_pairs")) {
      const auto bar = line.find('|');
      const int row = std::stoi(line.substr(4, bar - 4));
      doubled += !moved.emplace(row, line.substr(bar + 1)).second;
    }
    CHECK(doubled == 0);
    CHECK(moved.size() == static_cast<size_t>(rows + inserts));
    long long lost = 0, missing = 0;
    for (int row = 0; row < rows + inserts; ++row) {
      const auto found = moved.find(row);
      if (found == moved.end()) {
        ++missing;
        continue;
      }
      const auto written = acknowledged.find(row);
      lost += found->second != (written == acknowledged.end() ? fmt::format("ssh-rsa {}", row) : written->second);
    }
    CHECK(missing == 0);
    CHECK(lost == 0);
  }
}

TEST_CASE("copy_rows on_conflict update: rows already in the target converge to the source's content") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    TempDir dir;
    write_version(dir.path(), "001", "people", R"Y(description: people and the copy that replaces them
operations:
  - create_table:
      name: people
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: name, type: string(32), nullable: false}
        - {name: email, type: string(64)}
  - create_table:
      name: people_copy
      columns:
        - {name: id, type: integer, primary_key: true, autoincrement: true}
        - {name: name, type: string(32), nullable: false, unique: true}
        - {name: email, type: string(64)}
)Y",
                  "", "");
    write_version(dir.path(), "002", "copy", "", R"Y(description: copy people by name, the copy's ids its own
operations:
  - copy_rows: {from: people, to: people_copy, columns: {name: name, email: email}, on_conflict: update}
)Y",
                  "");
    REQUIRE(run_phase("upgrade", database->url(), dir.path(), {"--to", "1"}).exit_code == 0);
    std::string rows = "INSERT INTO people (id, name, email) VALUES ";
    for (int i = 0; i < 25; ++i) rows += fmt::format("{}({}, 'n{}', 'n{}@example.org')", i ? ", " : "", i, i, i);
    execute(database->url(), rows);
    // Copied by an earlier, interrupted run, and changed in the source since.
    execute(database->url(), "INSERT INTO people_copy (id, name, email) VALUES (100, 'n3', 'older'), (101, 'n4', NULL), "
                             "(102, 'n5', 'N5@EXAMPLE.ORG')");
    REQUIRE(run_phase("expand", database->url(), dir.path()).exit_code == 0);
    const Result migrate = run_phase("migrate", database->url(), dir.path(), {"--batch-size", "10"});
    REQUIRE_MESSAGE(migrate.exit_code == 0, migrate.all());
    CHECK(query_rows(database->url(), "SELECT count(*), count(DISTINCT name) FROM people_copy") ==
          std::vector<std::string>{"25|25"});
    CHECK(query_rows(database->url(), "SELECT id, email FROM people_copy WHERE name IN ('n3', 'n4', 'n5') ORDER BY id") ==
          std::vector<std::string>{"100|n3@example.org", "101|n4@example.org", "102|n5@example.org"});
  }
}
