// How fast `tandem migrate` backfills a column over a large table, beside the limit: one
// UPDATE statement over the same rows (what a maintenance window could do, holding every
// row lock at once). For each dialect (SQLite in a WAL temporary file, and the PostgreSQL
// and MariaDB servers that tools/test-servers.sh starts) and each size, on a fresh
// database: version 001 creates items (id, a, b) and is installed with `tandem upgrade
// --to 1`, the rows are filled in one statement, version 002's migrate unit is
//   backfill: {table: items, set: {b: "a * 2"}, where: b IS NULL}
// `tandem expand` runs, then `tandem migrate --format json` (default settings, batches of
// 1000) is timed alone; its JSON gives the batches and the longest batch. The limit runs on
// an identical fresh table: UPDATE items SET b = a * 2 WHERE b IS NULL.
//
//   bench/backfill.sh [rows]      (default 1000000; throughput is also measured at rows/10)
//   BENCH_REPEAT=n (default 3): tandem and the limit at [rows] are each run n times, in
//   turns, and their medians compared; the SQLite writer run n times, its worst reported.
//   BENCH_ANALYZE=1 analyzes the table after the fill, as autovacuum would by the time
//   a real table is migrated; BENCH_VERBOSE=1 shows tandem's output; BENCH_MIGRATE_ARGS
//   adds arguments to each tandem migrate ("--batch-size 5000"), to compare with the defaults.
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <thread>
#include <atomic>

#include "dialect/dialect.h"
#include "run_tandem.h"
#include "scratch_database.h"

using namespace tandem;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

// tandem / single statement (issue 12): SQLite 1.5x, the servers 1.3x.
double ratio_target(DialectKind dialect) { return dialect == DialectKind::sqlite ? 1.5 : 1.3; }
constexpr double kWriterWaitTarget = 100;    // ms, the application's longest insert during the SQLite backfill
constexpr double kDropTarget = 0.20;         // rows/s at the large size vs the small one
constexpr double kLongestBatchTarget = 250;  // ms, default settings

void write_units(const fs::path& repos) {
  for (const char* folder : {"expand_repo", "data_migration_repo", "contract_repo"}) fs::create_directories(repos / folder);
  auto write = [&](const std::string& path, const std::string& text) { std::ofstream(repos / path) << text; };
  write("expand_repo/001_items.yaml",
        "description: the table\noperations:\n  - create_table:\n      name: items\n      columns:\n"
        "        - {name: id, type: bigint, primary_key: true, autoincrement: true}\n"
        "        - {name: a, type: integer, nullable: false}\n"
        "        - {name: b, type: integer}\n");
  write("expand_repo/002_fill_b.yaml", "description: nothing to expand\noperations: []\n");
  write("data_migration_repo/001_items.yaml", "description: nothing\noperations: []\n");
  write("data_migration_repo/002_fill_b.yaml",
        "description: fill b for every row\noperations:\n"
        "  - backfill: {table: items, set: {b: \"a * 2\"}, where: b IS NULL}\n");
  for (const char* name : {"001_items", "002_fill_b"})
    write(std::string("contract_repo/") + name + ".yaml", "description: nothing\noperations: []\n");
}

void fill(Connection& connection, long long rows) {
  switch (connection.kind()) {
    case DialectKind::postgresql:
      connection.execute(fmt::format("INSERT INTO items (a) SELECT g FROM generate_series(1, {}) g", rows));
      break;
    case DialectKind::mysql:
      connection.execute(fmt::format("INSERT INTO items (a) SELECT seq FROM seq_1_to_{}", rows));
      break;
    case DialectKind::sqlite:
      connection.execute(fmt::format(
          "INSERT INTO items (a) WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {}) "
          "SELECT x FROM g",
          rows));
      break;
  }
}

// The application beside the SQLite backfill: its own connection, as an application opens
// one (sqlite3_busy_timeout, SQLite's own busy handler, 10 s), inserting one row into a
// table of its own every 5 ms; records the longest insert.
class SqliteWriter {
 public:
  explicit SqliteWriter(const std::string& file) {
    if (sqlite3_open(file.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("cannot open " + file);
    sqlite3_busy_timeout(db_, 10000);
    run("CREATE TABLE IF NOT EXISTS app_log (id INTEGER PRIMARY KEY, at TEXT)");
    thread_ = std::thread([this] {
      while (!stop_) {
        const auto started = Clock::now();
        run("INSERT INTO app_log (at) VALUES (datetime('now'))");
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
        longest_ms_ = std::max(longest_ms_.load(), ms);
        ++inserts_;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }
  ~SqliteWriter() {
    stop();
    sqlite3_close(db_);
  }
  // Stops the writer; throws when one of its inserts failed.
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (!failed_.empty()) throw std::runtime_error("the application's insert failed: " + failed_);
  }
  double longest_ms() const { return longest_ms_; }
  long long inserts() const { return inserts_; }

 private:
  void run(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error ? error : "?";
      sqlite3_free(error);
      failed_ = message;
      stop_ = true;
    }
  }
  sqlite3* db_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<double> longest_ms_{0};
  std::atomic<long long> inserts_{0};
  std::string failed_;  // written by the thread, read once it is joined
};

struct Figures {
  double seconds = 0;
  long long rows = 0;
  long long batches = 0;
  double longest_batch_ms = 0;
  double longest_wait_ms = 0;  // the application's longest insert (Run::with_writer)
  long long inserts = 0;
  double rate() const { return seconds > 0 ? rows / seconds : 0; }
};

// tandem migrate timed alone; one UPDATE; tandem migrate beside an application inserting
// a row every 5 ms (SQLite).
enum class Run { tandem, limit, with_writer };

// One fresh database of `rows` rows; the backfill by tandem migrate or by one UPDATE.
Figures measure(DialectKind dialect, const std::string& admin_url, const std::string& binary, long long rows,
                Run run) {
  const bool single_statement = run == Run::limit;
  const char* run_name = run == Run::limit ? "limit" : run == Run::tandem ? "tandem" : "writer";
  const std::string name = fmt::format("bench_backfill_{}_{}_{}", getpid(), rows, run_name);
  const Scratch scratch = make_database(dialect, admin_url, name);
  const fs::path repos = fs::temp_directory_path() / name;
  write_units(repos);
  const std::vector<std::string> target{"--db", scratch.url, "--repos", repos.string()};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), target.begin(), target.end());
    return args;
  };
  if (run_tandem(binary, with({"upgrade", "--to", "1"})) != 0)
    throw std::runtime_error("tandem upgrade --to 1 failed on " + scratch.url);
  Figures figures;
  {
    auto connection = connect(DatabaseUrl::parse(scratch.url));
    fill(*connection, rows);
    if (std::getenv("BENCH_ANALYZE")) {
      if (connection->kind() == DialectKind::mysql)
        connection->query("ANALYZE TABLE items");  // answers with a result set
      else
        connection->execute("ANALYZE items");
    }
    if (single_statement) {
      const auto started = Clock::now();
      figures.rows = connection->update("UPDATE items SET b = a * 2 WHERE b IS NULL");
      figures.seconds = std::chrono::duration<double>(Clock::now() - started).count();
      figures.batches = 1;
      figures.longest_batch_ms = figures.seconds * 1000;
    } else {
      if (run_tandem(binary, with({"expand"})) != 0) throw std::runtime_error("tandem expand failed on " + scratch.url);
      std::string output;
      std::optional<SqliteWriter> writer;
      if (run == Run::with_writer) {
        writer.emplace(DatabaseUrl::parse(scratch.url).database);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a few inserts before tandem starts
      }
      const auto started = Clock::now();
      std::vector<std::string> migrate{"migrate", "--format", "json"};
      if (const char* extra = std::getenv("BENCH_MIGRATE_ARGS"))
        for (std::istringstream words(extra); !words.eof();)
          if (std::string word; words >> word) migrate.push_back(word);
      const int code = run_tandem(binary, with(migrate), &output);
      figures.seconds = std::chrono::duration<double>(Clock::now() - started).count();
      if (writer) {
        writer->stop();
        figures.longest_wait_ms = writer->longest_ms();
        figures.inserts = writer->inserts();
      }
      if (code != 0) throw std::runtime_error(fmt::format("tandem migrate exited {} on {}", code, scratch.url));
      if (std::getenv("BENCH_VERBOSE")) std::cerr << output << "\n";
      const auto report = nlohmann::json::parse(output);
      for (const auto& unit : report.at("units"))
        for (const auto& migration : unit.at("migrations")) {
          figures.rows += migration.at("completed").get<long long>();
          figures.batches += migration.at("batches").get<long long>();
          figures.longest_batch_ms = std::max(figures.longest_batch_ms, migration.at("longest_batch_ms").get<double>());
        }
    }
    const auto wrong = connection->query("SELECT count(*) FROM items WHERE b IS NULL OR b <> a * 2").at(0).at(0);
    if (wrong.value_or("0") != "0" || figures.rows != rows)
      throw std::runtime_error(fmt::format("{}: {} rows changed of {}, {} rows wrong after the backfill", scratch.url,
                                           figures.rows, rows, wrong.value_or("?")));
  }
  scratch.drop();
  fs::remove_all(repos);
  return figures;
}

// The run of median duration.
Figures median(std::vector<Figures> runs) {
  std::sort(runs.begin(), runs.end(), [](const Figures& a, const Figures& b) { return a.seconds < b.seconds; });
  return runs[runs.size() / 2];
}

std::string verdict(bool met) { return met ? "met" : "MISSED"; }

}  // namespace

int main(int argc, char** argv) {
  const long long large = argc > 1 ? std::atoll(argv[1]) : 1000000;
  const long long small = large / 10;
  const int repeat = std::max(1, std::getenv("BENCH_REPEAT") ? std::atoi(std::getenv("BENCH_REPEAT")) : 3);
  const std::string binary = std::getenv("TANDEM") ? std::getenv("TANDEM") : "build/tools/tandem";
  std::cout << fmt::format(
      "backfill b = a * 2 where b IS NULL over items (id bigint primary key, a integer, b integer).\n"
      "tandem: `tandem migrate --format json`, default settings, timed alone (after expand).\n"
      "limit:  one UPDATE items SET b = a * 2 WHERE b IS NULL (autocommit).\n"
      "writer (SQLite): tandem migrate again, on a fresh table, while an application connection\n"
      "        (sqlite3_busy_timeout 10 s) inserts a row into a table of its own every 5 ms;\n"
      "        its longest insert is the longest the application waited behind a batch.\n"
      "SQLite: a temporary file in WAL mode (PRAGMA journal_mode=WAL), default synchronous.\n"
      "PostgreSQL, MariaDB: the private servers of tools/test-servers.sh (fsync off: commits cost no flush).\n"
      "Table statistics: {}\n\n",
      std::getenv("BENCH_ANALYZE") ? "ANALYZE after the fill (BENCH_ANALYZE set)"
                                   : "none: the table is freshly filled, never analyzed (set BENCH_ANALYZE=1 to analyze it)");
  std::cout << fmt::format("{:<11} {:<7} {:>9} {:>9} {:>10} {:>8} {:>17}\n", "dialect", "run", "rows", "seconds",
                           "rows/s", "batches", "longest batch ms");
  int missed = 0;
  std::vector<std::string> summary;
  for (auto [dialect, variable] : {std::pair{DialectKind::sqlite, ""},
                                   std::pair{DialectKind::postgresql, "TANDEM_TEST_POSTGRESQL_URL"},
                                   std::pair{DialectKind::mysql, "TANDEM_TEST_MYSQL_URL"}}) {
    const char* admin_url = *variable ? std::getenv(variable) : "";
    if (!admin_url) {
      std::cout << fmt::format("{:<11} skipped: {} is not set (run under tools/test-servers.sh)\n", dialect_name(dialect),
                               variable);
      continue;
    }
    auto print = [&](const char* run, const Figures& f) {
      std::cout << fmt::format("{:<11} {:<7} {:>9} {:>9.2f} {:>10.0f} {:>8} {:>17.1f}\n", dialect_name(dialect), run,
                               f.rows, f.seconds, f.rate(), f.batches, f.longest_batch_ms)
                << std::flush;
    };
    const Figures at_small = measure(dialect, admin_url, binary, small, Run::tandem);
    print("tandem", at_small);
    // tandem and the limit taken in turns, `repeat` times each; the medians compared, so a
    // moment of load on a shared machine moves neither alone.
    std::vector<Figures> tandem_runs, limit_runs;
    for (int i = 0; i < repeat; ++i) {
      tandem_runs.push_back(measure(dialect, admin_url, binary, large, Run::tandem));
      print("tandem", tandem_runs.back());
      limit_runs.push_back(measure(dialect, admin_url, binary, large, Run::limit));
      print("limit", limit_runs.back());
    }
    const Figures at_large = median(tandem_runs), limit = median(limit_runs);

    const std::string name = dialect_name(dialect);
    const double ratio = at_large.seconds / limit.seconds, target = ratio_target(dialect);
    summary.push_back(fmt::format("{:<11} {:<44} {:>12} {:>17} {}", name,
                                  fmt::format("tandem / single UPDATE at {} rows (medians)", large),
                                  fmt::format("{:.2f}x", ratio), fmt::format("<= {:.1f}x", target),
                                  verdict(ratio <= target)));
    if (ratio > target) ++missed;
    if (dialect == DialectKind::sqlite) {
      // The worst of `repeat` runs.
      Figures worst;
      long long inserts = 0;
      for (int i = 0; i < repeat; ++i) {
        const Figures beside = measure(dialect, admin_url, binary, large, Run::with_writer);
        print("writer", beside);
        std::cout << fmt::format("{:<11} {:<7} the writer's longest insert: {:.1f} ms of {} inserts\n", name, "",
                                 beside.longest_wait_ms, beside.inserts);
        inserts += beside.inserts;
        if (beside.longest_wait_ms >= worst.longest_wait_ms) worst = beside;
      }
      summary.push_back(fmt::format("{:<11} {:<44} {:>12} {:>17} {}", name,
                                    fmt::format("writer every 5 ms: longest insert ({} runs)", repeat),
                                    fmt::format("{:.1f} ms", worst.longest_wait_ms),
                                    fmt::format("<= {:.0f} ms", kWriterWaitTarget),
                                    verdict(worst.longest_wait_ms <= kWriterWaitTarget)));
      if (worst.longest_wait_ms > kWriterWaitTarget) ++missed;
      summary.push_back(fmt::format("{:<11} {:<44} {:>12} {:>17} {}", name, "  its backfill beside it (worst run)",
                                    fmt::format("{:.2f} s", worst.seconds), fmt::format("({} inserts)", inserts), "-"));
    }
    const double drop = 1 - at_large.rate() / at_small.rate();
    summary.push_back(fmt::format("{:<11} {:<44} {:>12} {:>17} {}", name,
                                  fmt::format("rows/s at {} vs at {} rows", large, small),
                                  fmt::format("{:+.0f}%", -drop * 100), fmt::format(">= -{:.0f}%", kDropTarget * 100),
                                  verdict(drop <= kDropTarget)));
    if (drop > kDropTarget) ++missed;
    const double longest = std::max(at_small.longest_batch_ms, at_large.longest_batch_ms);
    summary.push_back(fmt::format("{:<11} {:<44} {:>12} {:>17} {}", name, "longest batch (both sizes)",
                                  fmt::format("{:.0f} ms", longest), fmt::format("<= {:.0f} ms", kLongestBatchTarget),
                                  verdict(longest <= kLongestBatchTarget)));
    if (longest > kLongestBatchTarget) ++missed;
  }
  std::cout << fmt::format("\n{:<11} {:<44} {:>12} {:>17} {}\n", "dialect", "figure", "measured", "target", "verdict");
  for (const auto& line : summary) std::cout << line << "\n";
  std::cout << fmt::format("\n{}\n", missed ? fmt::format("{} target(s) missed", missed) : "all targets met");
  return missed ? 1 : 0;
}
