// Whether tandem keeps its pace and its memory as a table grows: `tandem migrate` (a
// backfill) and `tandem archive` over a small and a large table (100,000 and 10,000,000
// rows by default), each size on a fresh database, with default settings. Prints rows/s
// at both sizes and their ratio (goal: the large within 20% of the small), and the peak
// RSS of the tandem process at both sizes (goal: within 10% of each other: memory bounded
// by the batch, not the table).
//
//   bench/scale.sh [small] [large]    SQLite (a temporary file in WAL mode), and the
//   PostgreSQL and MariaDB servers of tools/test-servers.sh when BENCH_SERVERS=1.
//
// The table: items (id bigint primary key, a integer, b integer, deleted integer default 0)
// with a shadow table. migrate: backfill b = a * 2 where b IS NULL over every row. Then
// every second row is soft-deleted (deleted = id) and `tandem archive --until-complete`
// moves them into shadow_items.
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <vector>

#include "dialect/dialect.h"
#include "scratch_database.h"

using namespace tandem;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

constexpr double kRateDropTarget = 0.20;  // rows/s at the large size vs the small one
constexpr double kRssGrowthTarget = 0.10;  // peak RSS at the large size vs the small one

struct Child {
  int code = 128;
  double seconds = 0;
  long peak_rss_kb = 0;
};

// Runs tandem, its output hidden (BENCH_VERBOSE=1 shows it); its exit code, wall time
// and peak resident memory (the child's own rusage, from wait4).
Child run_child(const std::string& binary, const std::vector<std::string>& args) {
  std::cout << std::flush;
  const auto started = Clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>(binary.c_str())};
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    if (!std::getenv("BENCH_VERBOSE") && !freopen("/dev/null", "w", stdout)) _exit(126);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  Child child;
  child.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  child.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  child.peak_rss_kb = usage.ru_maxrss;  // kilobytes on Linux
  return child;
}

void write_units(const fs::path& repos) {
  for (const char* folder : {"expand_repo", "data_migration_repo", "contract_repo"}) fs::create_directories(repos / folder);
  auto write = [&](const std::string& path, const std::string& text) { std::ofstream(repos / path) << text; };
  write("expand_repo/001_items.yaml",
        "description: the table\noperations:\n  - create_table:\n      name: items\n      shadow: true\n"
        "      columns:\n"
        "        - {name: id, type: bigint, primary_key: true}\n"
        "        - {name: a, type: integer, nullable: false}\n"
        "        - {name: b, type: integer}\n"
        "        - {name: deleted, type: integer, default: \"0\"}\n");
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
      connection.execute(fmt::format("INSERT INTO items (id, a) SELECT g, g FROM generate_series(1, {}) g", rows));
      connection.execute("ANALYZE items");
      break;
    case DialectKind::mysql:
      connection.execute(fmt::format("INSERT INTO items (id, a) SELECT seq, seq FROM seq_1_to_{}", rows));
      break;
    case DialectKind::sqlite:
      connection.execute(fmt::format(
          "INSERT INTO items (id, a) WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {}) "
          "SELECT x, x FROM g",
          rows));
      break;
  }
}

struct Figures {
  long long rows = 0;
  Child run;
  double rate() const { return run.seconds > 0 ? rows / run.seconds : 0; }
};

struct SizeFigures {
  Figures migrate, archive;
};

SizeFigures measure(DialectKind dialect, const std::string& admin_url, const std::string& binary, long long rows) {
  const std::string name = fmt::format("bench_scale_{}_{}", getpid(), rows);
  const Scratch scratch = make_database(dialect, admin_url, name);
  const fs::path repos = fs::temp_directory_path() / name;
  write_units(repos);
  const std::vector<std::string> target{"--db", scratch.url, "--repos", repos.string()};
  auto tandem = [&](std::vector<std::string> args) {
    args.insert(args.end(), target.begin(), target.end());
    return run_child(binary, args);
  };
  if (tandem({"upgrade", "--to", "1"}).code != 0) throw std::runtime_error("tandem upgrade --to 1 failed on " + scratch.url);
  SizeFigures figures;
  {
    auto connection = connect(DatabaseUrl::parse(scratch.url));
    fill(*connection, rows);
    if (tandem({"expand"}).code != 0) throw std::runtime_error("tandem expand failed on " + scratch.url);
    figures.migrate.run = tandem({"migrate", "--no-progress"});
    if (figures.migrate.run.code != 0)
      throw std::runtime_error(fmt::format("tandem migrate exited {} on {}", figures.migrate.run.code, scratch.url));
    figures.migrate.rows = rows;
    const auto wrong = connection->query("SELECT count(*) FROM items WHERE b IS NULL OR b <> a * 2").at(0).at(0);
    if (wrong.value_or("?") != "0") throw std::runtime_error(scratch.url + ": rows left wrong by the backfill");

    connection->execute("UPDATE items SET deleted = id WHERE id % 2 = 0");
    figures.archive.run = run_child(binary, {"archive", "--until-complete", "--no-progress", "--db", scratch.url});
    if (figures.archive.run.code != 1)
      throw std::runtime_error(fmt::format("tandem archive exited {} on {}", figures.archive.run.code, scratch.url));
    const auto moved = connection->query("SELECT count(*) FROM shadow_items").at(0).at(0);
    figures.archive.rows = std::stoll(moved.value_or("0"));
    if (figures.archive.rows != rows / 2)
      throw std::runtime_error(fmt::format("{}: {} rows archived of {}", scratch.url, figures.archive.rows, rows / 2));
  }
  scratch.drop();
  fs::remove_all(repos);
  return figures;
}

std::string verdict(bool met) { return met ? "met" : "MISSED"; }

}  // namespace

int main(int argc, char** argv) {
  const long long small = argc > 1 ? std::atoll(argv[1]) : 100000;
  const long long large = argc > 2 ? std::atoll(argv[2]) : 10000000;
  const std::string binary = std::getenv("TANDEM") ? std::getenv("TANDEM") : "build/tools/tandem";
  std::cout << fmt::format(
      "tandem migrate (backfill b = a * 2 over every row) and tandem archive --until-complete (every second row\n"
      "soft-deleted) over items at {} and {} rows, default settings, each size on a fresh database.\n"
      "peak RSS: the tandem process's own (wait4 rusage ru_maxrss).\n\n",
      small, large);
  std::cout << fmt::format("{:<11} {:<8} {:>10} {:>9} {:>10} {:>14}\n", "dialect", "command", "rows", "seconds",
                           "rows/s", "peak RSS KB");
  int missed = 0;
  std::vector<std::string> summary;
  std::vector<std::pair<DialectKind, const char*>> runs = {{DialectKind::sqlite, ""}};
  if (std::getenv("BENCH_SERVERS")) {
    runs.emplace_back(DialectKind::postgresql, "TANDEM_TEST_POSTGRESQL_URL");
    runs.emplace_back(DialectKind::mysql, "TANDEM_TEST_MYSQL_URL");
  }
  for (auto [dialect, variable] : runs) {
    const char* admin_url = *variable ? std::getenv(variable) : "";
    if (!admin_url) {
      std::cout << fmt::format("{:<11} skipped: {} is not set (run under tools/test-servers.sh)\n", dialect_name(dialect),
                               variable);
      continue;
    }
    const std::string name = dialect_name(dialect);
    std::vector<SizeFigures> sizes;
    for (long long rows : {small, large}) {
      sizes.push_back(measure(dialect, admin_url, binary, rows));
      for (auto [command, f] : {std::pair{"migrate", &sizes.back().migrate}, std::pair{"archive", &sizes.back().archive}})
        std::cout << fmt::format("{:<11} {:<8} {:>10} {:>9.2f} {:>10.0f} {:>14}\n", name, command, f->rows,
                                 f->run.seconds, f->rate(), f->run.peak_rss_kb)
                  << std::flush;
    }
    for (auto [command, pick] : {std::pair{"migrate", &SizeFigures::migrate}, std::pair{"archive", &SizeFigures::archive}}) {
      const Figures& at_small = sizes[0].*pick;
      const Figures& at_large = sizes[1].*pick;
      const double ratio = at_large.rate() / at_small.rate();
      summary.push_back(fmt::format("{:<11} {:<46} {:>12} {:>12} {}", name,
                                    fmt::format("{} rows/s at {} / at {}", command, large, small),
                                    fmt::format("{:.2f}", ratio), fmt::format(">= {:.2f}", 1 - kRateDropTarget),
                                    verdict(ratio >= 1 - kRateDropTarget)));
      if (ratio < 1 - kRateDropTarget) ++missed;
      const double growth = static_cast<double>(at_large.run.peak_rss_kb) / at_small.run.peak_rss_kb;
      summary.push_back(fmt::format("{:<11} {:<46} {:>12} {:>12} {}", name,
                                    fmt::format("{} peak RSS at {} / at {} ({} / {} KB)", command, large, small,
                                                at_large.run.peak_rss_kb, at_small.run.peak_rss_kb),
                                    fmt::format("{:.2f}", growth), fmt::format("<= {:.2f}", 1 + kRssGrowthTarget),
                                    verdict(growth <= 1 + kRssGrowthTarget)));
      if (growth > 1 + kRssGrowthTarget) ++missed;
    }
  }
  std::cout << fmt::format("\n{:<11} {:<46} {:>12} {:>12} {}\n", "dialect", "figure", "measured", "target", "verdict");
  for (const auto& line : summary) std::cout << line << "\n";
  std::cout << fmt::format("\n{}\n", missed ? fmt::format("{} target(s) missed", missed) : "all targets met");
  return missed ? 1 : 0;
}
