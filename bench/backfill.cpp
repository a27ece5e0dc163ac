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
//   BENCH_ANALYZE=1 analyzes the table after the fill, as autovacuum would by the time
//   a real table is migrated; BENCH_VERBOSE=1 shows tandem's output.
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "dialect/dialect.h"
#include "run_tandem.h"

using namespace tandem;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

constexpr double kRatioTarget = 1.5;         // tandem / single statement, PostgreSQL
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

// Runs the tandem binary; returns its exit code and, when `output` is given, its stdout.

struct Scratch {
  std::string url;
  std::function<void()> drop;
};

Scratch make_database(DialectKind dialect, const std::string& admin_url, const std::string& name) {
  if (dialect == DialectKind::sqlite) {
    const fs::path file = fs::temp_directory_path() / (name + ".db");
    for (const char* suffix : {"", "-wal", "-shm", ".tandem-lock"}) fs::remove(file.string() + suffix);
    const std::string url = "sqlite://" + file.string();
    // WAL, as a deployment serving traffic would run it; the mode is kept in the file.
    connect(DatabaseUrl::parse(url))->execute("PRAGMA journal_mode=WAL");
    return {url, [file] {
              for (const char* suffix : {"", "-wal", "-shm", ".tandem-lock"}) fs::remove(file.string() + suffix);
            }};
  }
  auto admin = connect(DatabaseUrl::parse(admin_url));
  admin->execute("DROP DATABASE IF EXISTS " + name);
  admin->execute("CREATE DATABASE " + name);
  return {admin_url.substr(0, admin_url.rfind('/') + 1) + name,
          [admin_url, name] { connect(DatabaseUrl::parse(admin_url))->execute("DROP DATABASE " + name); }};
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

struct Figures {
  double seconds = 0;
  long long rows = 0;
  long long batches = 0;
  double longest_batch_ms = 0;
  double rate() const { return seconds > 0 ? rows / seconds : 0; }
};

// One fresh database of `rows` rows; the backfill by tandem migrate or by one UPDATE.
Figures measure(DialectKind dialect, const std::string& admin_url, const std::string& binary, long long rows,
                bool single_statement) {
  const std::string name =
      fmt::format("bench_backfill_{}_{}_{}", getpid(), rows, single_statement ? "limit" : "tandem");
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
      const auto started = Clock::now();
      const int code = run_tandem(binary, with({"migrate", "--format", "json"}), &output);
      figures.seconds = std::chrono::duration<double>(Clock::now() - started).count();
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

std::string verdict(bool met) { return met ? "met" : "MISSED"; }

}  // namespace

int main(int argc, char** argv) {
  const long long large = argc > 1 ? std::atoll(argv[1]) : 1000000;
  const long long small = large / 10;
  const std::string binary = std::getenv("TANDEM") ? std::getenv("TANDEM") : "build/tools/tandem";
  std::cout << fmt::format(
      "backfill b = a * 2 where b IS NULL over items (id bigint primary key, a integer, b integer).\n"
      "tandem: `tandem migrate --format json`, default settings (--batch-size 1000), timed alone (after expand).\n"
      "limit:  one UPDATE items SET b = a * 2 WHERE b IS NULL (autocommit).\n"
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
    const Figures at_small = measure(dialect, admin_url, binary, small, false);
    print("tandem", at_small);
    const Figures at_large = measure(dialect, admin_url, binary, large, false);
    print("tandem", at_large);
    const Figures limit = measure(dialect, admin_url, binary, large, true);
    print("limit", limit);

    const std::string name = dialect_name(dialect);
    const double ratio = at_large.seconds / limit.seconds;
    const bool ratio_target = dialect == DialectKind::postgresql;
    summary.push_back(fmt::format("{:<11} {:<44} {:>12} {:>17} {}", name,
                                  fmt::format("tandem / single UPDATE at {} rows", large), fmt::format("{:.2f}x", ratio),
                                  ratio_target ? fmt::format("<= {:.1f}x", kRatioTarget) : "(PostgreSQL only)",
                                  ratio_target ? verdict(ratio <= kRatioTarget) : "-"));
    if (ratio_target && ratio > kRatioTarget) ++missed;
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
