// How long a concurrent writer is blocked while expand adds a column and an index to a
// table of 1,000,000 rows: tandem's expand beside the same DDL run naively, on each
// server dialect. A long-running reader holds the table during the DDL, as a report or
// a slow request would: the naive ALTER queues behind it and every write queues behind
// the ALTER; tandem's DDL gives up after --lock-timeout and retries, so writes go on.
//
//   bench/expand_blocking.sh [rows]      (starts private servers; prints the table)
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "dialect/dialect.h"
#include "run_tandem.h"

using namespace tandem;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

struct Figures {
  double ddl_seconds = 0;
  long writes = 0;
  double longest_write_ms = 0;
  long writes_over_1s = 0;
};

std::string with_database(const std::string& admin_url, const std::string& database) {
  return admin_url.substr(0, admin_url.rfind('/') + 1) + database;
}

void write_units(const fs::path& repos) {
  for (const char* folder : {"expand_repo", "data_migration_repo", "contract_repo"}) fs::create_directories(repos / folder);
  auto write = [&](const std::string& path, const std::string& text) { std::ofstream(repos / path) << text; };
  write("expand_repo/001_items.yaml",
        "description: the table\noperations:\n  - create_table:\n      name: items\n      columns:\n"
        "        - {name: id, type: bigint, primary_key: true, autoincrement: true}\n"
        "        - {name: payload, type: string(64)}\n");
  write("expand_repo/002_note.yaml",
        "description: a column and an index\noperations:\n"
        "  - add_column: {table: items, column: {name: note, type: string(64)}}\n"
        "  - create_index: {table: items, name: items_payload_idx, columns: [payload]}\n");
  for (const char* name : {"001_items", "002_note"}) {
    write(std::string("data_migration_repo/") + name + ".yaml", "description: nothing\noperations: []\n");
    write(std::string("contract_repo/") + name + ".yaml", "description: nothing\noperations: []\n");
  }
}

Figures measure(DialectKind dialect, const std::string& admin_url, const std::string& binary, bool naive, long rows) {
  const std::string database = fmt::format("bench_blocking_{}_{}", getpid(), naive ? "naive" : "tandem");
  auto admin = connect(DatabaseUrl::parse(admin_url));
  admin->execute("DROP DATABASE IF EXISTS " + database);
  admin->execute("CREATE DATABASE " + database);
  const std::string url = with_database(admin_url, database);
  const fs::path repos = fs::temp_directory_path() / database;
  write_units(repos);
  if (run_tandem(binary, {"upgrade", "--to", "1", "--db", url, "--repos", repos.string()}) != 0)
    throw std::runtime_error("tandem upgrade --to 1 failed on " + database);
  {
    auto setup = connect(DatabaseUrl::parse(url));
    if (dialect == DialectKind::postgresql)
      setup->execute(fmt::format("INSERT INTO items (payload) SELECT md5(g::text) FROM generate_series(1, {}) g", rows));
    else
      setup->execute(fmt::format("INSERT INTO items (payload) SELECT md5(seq) FROM seq_1_to_{}", rows));
  }

  std::atomic<bool> stop{false};
  Figures figures;
  std::thread writer([&] {
    auto connection = connect(DatabaseUrl::parse(url));
    long i = 0;
    while (!stop) {
      const auto started = Clock::now();
      connection->update("INSERT INTO items (payload) VALUES (?)", {fmt::format("writer-{}", i++)});
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
      figures.longest_write_ms = std::max(figures.longest_write_ms, ms);
      figures.writes_over_1s += ms > 1000;
      ++figures.writes;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  // A reader in a long transaction: it holds the table's shared lock for 3 s.
  std::thread reader([&] {
    auto connection = connect(DatabaseUrl::parse(url));
    connection->begin();
    connection->query("SELECT count(*) FROM items WHERE id < 10");
    std::this_thread::sleep_for(std::chrono::seconds(3));
    connection->commit();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto started = Clock::now();
  if (naive) {
    auto connection = connect(DatabaseUrl::parse(url));
    connection->execute("ALTER TABLE items ADD COLUMN note varchar(64)");
    connection->execute("CREATE INDEX items_payload_idx ON items (payload)");
  } else if (run_tandem(binary, {"expand", "--db", url, "--repos", repos.string()}) != 0) {
    throw std::runtime_error("tandem expand failed on " + database);
  }
  figures.ddl_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  reader.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  writer.join();
  admin->execute("DROP DATABASE " + database);
  fs::remove_all(repos);
  return figures;
}

}  // namespace

int main(int argc, char** argv) {
  const long rows = argc > 1 ? std::atol(argv[1]) : 1000000;
  const std::string binary = std::getenv("TANDEM") ? std::getenv("TANDEM") : "build/tools/tandem";
  std::cout << fmt::format("expand on a table of {} rows (add a column, build an index), a writer inserting every 5 ms,\n"
                           "a reader holding the table for 3 s from 0.5 s before the DDL. Target: no write over 1 s.\n\n",
                           rows);
  std::cout << fmt::format("{:<11} {:<22} {:>9} {:>8} {:>17} {:>14}\n", "dialect", "DDL run", "DDL s", "writes",
                           "longest write ms", "writes > 1 s");
  int exit_code = 0;
  for (auto [dialect, variable] : {std::pair{DialectKind::postgresql, "TANDEM_TEST_POSTGRESQL_URL"},
                                   std::pair{DialectKind::mysql, "TANDEM_TEST_MYSQL_URL"}}) {
    const char* admin_url = std::getenv(variable);
    if (!admin_url) {
      std::cout << fmt::format("{:<11} skipped: {} is not set (run under tools/test-servers.sh)\n", dialect_name(dialect),
                               variable);
      continue;
    }
    for (bool naive : {true, false}) {
      const Figures f = measure(dialect, admin_url, binary, naive, rows);
      std::cout << fmt::format("{:<11} {:<22} {:>9.2f} {:>8} {:>17.0f} {:>14}\n", dialect_name(dialect),
                               naive ? "naive (baseline)" : "tandem expand", f.ddl_seconds, f.writes, f.longest_write_ms,
                               f.writes_over_1s);
      if (!naive && f.longest_write_ms > 1000) exit_code = 1;
    }
  }
  return exit_code;
}
