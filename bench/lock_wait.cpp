// The application's longest wait behind each expand and contract operation, beside
// --lock-timeout: a writer updates one row every 5 ms while tandem runs one operation at
// a time on a table of 2,000,000 rows (by default), on PostgreSQL and MariaDB.
//
//   bench/lock_wait.sh [rows]      (starts private servers; prints the table)
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "dialect/dialect.h"
#include "run_tandem.h"

using namespace tandem;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

constexpr int kLockTimeoutMs = 500;

struct Operation {
  const char* name;
  bool contract;
  std::string yaml;  // the operation, one list item
  const char* note = "";  // why it blocks, where the server leaves no choice
};

const std::vector<Operation>& operations() {
  static const std::vector<Operation> all = {
      {"create_table", false, "  - create_table: {name: extras, columns: [{name: id, type: integer, primary_key: true}]}\n"},
      {"add_column", false, "  - add_column: {table: items, column: {name: extra, type: string(16)}}\n"},
      {"create_index", false, "  - create_index: {table: items, name: items_payload_idx, columns: [payload]}\n"},
      {"add_unique", false, "  - add_unique: {table: items, name: items_id_payload_key, columns: [id, payload]}\n"},
      {"add_foreign_key", false,
       "  - add_foreign_key: {table: items, name: items_parent_fkey, columns: [parent_id], "
       "references: {table: parents, columns: [id]}}\n"},
      {"add_check", false, "  - add_check: {table: items, name: items_n_check, expression: \"n >= 0\"}\n",
       "MariaDB: no online ADD CHECK (table copy, LOCK=SHARED)"},
      {"create_view", false, "  - create_view: {name: items_view, sql: \"SELECT id, n FROM items\"}\n"},
      {"set_nullable", false, "  - set_nullable: {table: items, column: payload}\n"},
      {"sync_column", false, "  - sync_column: {table: items, old: payload, new: note}\n"},
      {"sync_table", false,
       "  - sync_table: {from: items, to: mirror, key: id, columns: {id: NEW.id, n: NEW.n}}\n"},
      {"forbid_writes", false,
       "  - forbid_writes: {table: items, on: [delete], message: \"items are not deleted during the upgrade\"}\n"},
      {"drop_column", true, "  - drop_column: {table: items, column: extra}\n"},
      {"drop_table", true, "  - drop_table: {name: extras}\n"},
      {"drop_index", true, "  - drop_index: {table: items, name: items_payload_idx}\n"},
      {"drop_constraint", true, "  - drop_constraint: {table: items, name: items_n_check}\n"},
      {"drop_view", true, "  - drop_view: {name: items_view}\n"},
      {"rename_column", true, "  - rename_column: {table: items, from: note, to: memo}\n"},
      {"rename_table", true, "  - rename_table: {from: spare, to: spare_renamed}\n"},
      {"set_not_null", true, "  - set_not_null: {table: items, column: m}\n"},
      {"alter_type", true, "  - alter_type: {table: items, column: small, type: bigint}\n",
       "a type change rewrites the table on both servers"},
  };
  return all;
}

std::string with_database(const std::string& admin_url, const std::string& database) {
  return admin_url.substr(0, admin_url.rfind('/') + 1) + database;
}

void write_units(const fs::path& repos) {
  for (const char* folder : {"expand_repo", "data_migration_repo", "contract_repo"}) fs::create_directories(repos / folder);
  auto write = [&](const std::string& path, const std::string& text) { std::ofstream(repos / path) << text; };
  auto version = [&](int number, const std::string& expand, const std::string& contract) {
    const std::string name = fmt::format("{:03}_step", number);
    const std::string none = "description: nothing\noperations: []\n";
    write("expand_repo/" + name + ".yaml", expand.empty() ? none : "description: bench\noperations:\n" + expand);
    write("data_migration_repo/" + name + ".yaml", none);
    write("contract_repo/" + name + ".yaml", contract.empty() ? none : "description: bench\noperations:\n" + contract);
  };
  version(1,
          "  - create_table:\n      name: parents\n      columns: [{name: id, type: bigint, primary_key: true}]\n"
          "  - create_table:\n      name: items\n      columns:\n"
          "        - {name: id, type: bigint, primary_key: true}\n"
          "        - {name: payload, type: string(64), nullable: false}\n"
          "        - {name: note, type: string(64)}\n"
          "        - {name: n, type: integer}\n"
          "        - {name: m, type: integer}\n"
          "        - {name: small, type: integer}\n"
          "        - {name: parent_id, type: bigint}\n"
          "  - create_table:\n      name: mirror\n      columns: [{name: id, type: bigint, primary_key: true}, "
          "{name: n, type: integer}]\n"
          "  - create_table:\n      name: spare\n      columns: [{name: id, type: integer, primary_key: true}]\n",
          "");
  int number = 2;
  for (const auto& op : operations()) version(number++, op.contract ? "" : op.yaml, op.contract ? op.yaml : "");
}

void measure(DialectKind dialect, const std::string& admin_url, const std::string& binary, long rows) {
  const std::string database = fmt::format("bench_lock_wait_{}", getpid());
  auto admin = connect(DatabaseUrl::parse(admin_url));
  admin->execute("DROP DATABASE IF EXISTS " + database);
  admin->execute("CREATE DATABASE " + database);
  const std::string url = with_database(admin_url, database);
  const fs::path repos = fs::temp_directory_path() / database;
  write_units(repos);
  auto tandem = [&](const std::vector<std::string>& args) {
    std::vector<std::string> all = args;
    for (const char* arg : {"--db", url.c_str(), "--repos", repos.c_str(), "--lock-timeout", "500", "--no-progress"})
      all.push_back(arg);
    // A run that lost its lock fights more often than --lock-retries allows is tried
    // again: the figure of interest is the application's wait, not the tool's.
    for (int attempt = 1;; ++attempt) {
      std::string output;
      const int code = run_tandem(binary, all, &output);
      if (code == 0) return;
      if (attempt == 3)
        throw std::runtime_error(fmt::format("tandem {} failed on {} (exit {}): {}", args[0], database, code, output));
      std::cerr << fmt::format("tandem {} exited {}; trying again\n", args[0], code);
    }
  };
  tandem({"expand", "--to", "1"});
  {
    auto setup = connect(DatabaseUrl::parse(url));
    setup->execute("INSERT INTO parents (id) VALUES (1)");
    const bool postgresql = dialect == DialectKind::postgresql;
    setup->execute(fmt::format("INSERT INTO items (id, payload, n, m, small, parent_id) "
                               "SELECT seq, md5({}), seq, seq, seq, 1 FROM {}",
                               postgresql ? "seq::text" : "seq",
                               postgresql ? fmt::format("generate_series(1, {}) s(seq)", rows)
                                          : fmt::format("seq_1_to_{}", rows)));
    if (dialect == DialectKind::postgresql) setup->execute("ANALYZE items");
  }
  std::atomic<bool> stop{false};
  std::atomic<long long> longest_us{0};
  std::thread writer([&] {
    auto connection = connect(DatabaseUrl::parse(url));
    std::mt19937 random(42);
    std::uniform_int_distribution<long> row(1, rows);
    while (!stop) {
      const auto started = Clock::now();
      connection->update("UPDATE items SET n = n + 1 WHERE id = ?", {std::to_string(row(random))});
      const long long us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count();
      for (long long seen = longest_us; us > seen && !longest_us.compare_exchange_weak(seen, us);) {}
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  int number = 2;
  for (const auto& op : operations()) {
    const std::string to = std::to_string(number++);
    if (op.contract) {
      tandem({"expand", "--to", to});
      tandem({"migrate", "--to", to});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    longest_us = 0;
    const auto started = Clock::now();
    if (op.contract)
      tandem({"contract", "--to", to});
    else
      tandem({"expand", "--to", to});
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const double ms = longest_us / 1000.0;
    std::cout << fmt::format("{:<11} {:<16} {:<9} {:>8.2f} {:>12.1f} {:>8} {:<6} {}\n", dialect_name(dialect), op.name,
                             op.contract ? "contract" : "expand", seconds, ms, kLockTimeoutMs,
                             ms < kLockTimeoutMs ? "below" : "OVER", ms < kLockTimeoutMs ? "" : op.note)
              << std::flush;
    if (!op.contract) {
      tandem({"migrate", "--to", to});
      tandem({"contract", "--to", to});
    }
  }
  stop = true;
  writer.join();
  admin->execute("DROP DATABASE " + database);
  fs::remove_all(repos);
}

}  // namespace

int main(int argc, char** argv) {
  const long rows = argc > 1 ? std::atol(argv[1]) : 2000000;
  const std::string binary = std::getenv("TANDEM") ? std::getenv("TANDEM") : "build/tools/tandem";
  std::cout << fmt::format("each operation on a table of {} rows, a writer updating one row every 5 ms;\n"
                           "the writer's longest wait during the operation beside --lock-timeout.\n\n",
                           rows);
  std::cout << fmt::format("{:<11} {:<16} {:<9} {:>8} {:>12} {:>8} {:<6} {}\n", "dialect", "operation", "phase",
                           "run s", "longest ms", "timeout", "", "documented as blocking");
  for (auto [dialect, variable] : {std::pair{DialectKind::postgresql, "TANDEM_TEST_POSTGRESQL_URL"},
                                   std::pair{DialectKind::mysql, "TANDEM_TEST_MYSQL_URL"}}) {
    const char* admin_url = std::getenv(variable);
    if (!admin_url) {
      std::cout << fmt::format("{:<11} skipped: {} is not set (run under tools/test-servers.sh)\n",
                               dialect_name(dialect), variable);
      continue;
    }
    measure(dialect, admin_url, binary, rows);
  }
  return 0;
}
