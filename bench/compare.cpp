// How long `tandem compare` takes on a 500-table schema, per dialect: the live schema
// read from the catalogs, normalized, and diffed against a model of the same 500 tables
// (each with an enum, a boolean, a decimal, an index, a unique constraint and a foreign
// key to the table before it). Target: under 1 s on SQLite and PostgreSQL.
//
//   bench/compare.sh [tables] [runs]     (starts private servers; prints the table)
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "dialect/dialect.h"
#include "run_tandem.h"

using namespace tandem;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

constexpr double kTargetSeconds = 1.0;

std::string table_name(int i) { return fmt::format("bench_table_{:04}", i); }

// Column specs, as a unit's create_table and a model both write them.
std::string columns(int i) {
  std::string out =
      "      - {name: id, type: integer, primary_key: true, autoincrement: true}\n"
      "      - {name: name, type: string(64), nullable: false}\n"
      "      - {name: kind, type: \"enum(basic,premium)\", nullable: false, default: \"'basic'\"}\n"
      "      - {name: active, type: boolean, default: \"true\"}\n"
      "      - {name: amount, type: \"decimal(10,2)\", nullable: false, default: \"0\"}\n"
      "      - {name: note, type: text}\n"
      "      - {name: created_at, type: datetime}\n";
  if (i > 1) out += "      - {name: parent_id, type: integer}\n";
  return out;
}

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// One version creating every table, and the model declaring them.
void write_repos_and_model(const fs::path& root, int tables) {
  std::string expand = "description: many tables\noperations:\n";
  std::string model = "tables:\n";
  for (int i = 1; i <= tables; ++i) {
    const std::string name = table_name(i);
    expand += fmt::format("  - create_table:\n      name: {}\n      columns:\n{}      indexes:\n"
                          "        - {{name: {}_name_idx, columns: [name, created_at]}}\n      unique:\n        - [name]\n",
                          name, columns(i), name);
    model += fmt::format("  - name: {}\n    columns:\n{}    indexes:\n      - {{name: {}_name_idx, columns: [name, "
                         "created_at]}}\n    unique:\n      - [name]\n",
                         name, columns(i), name);
    if (i > 1) {
      expand += fmt::format("  - add_foreign_key: {{table: {0}, name: {0}_parent_fkey, columns: [parent_id], references: "
                            "{{table: {1}, columns: [id]}}}}\n",
                            name, table_name(i - 1));
      model += fmt::format("    foreign_keys:\n      - {{name: {}_parent_fkey, columns: [parent_id], references: "
                           "{{table: {}, columns: [id]}}}}\n",
                           name, table_name(i - 1));
    }
  }
  write(root / "expand_repo" / "001_tables.yaml", expand);
  write(root / "data_migration_repo" / "001_tables.yaml", "description: nothing\noperations: []\n");
  write(root / "contract_repo" / "001_tables.yaml", "description: nothing\noperations: []\n");
  write(root / "model" / "main.yaml", model);
}

struct Figures {
  double setup_seconds = 0;
  double median_seconds = 0;
  double best_seconds = 0;
};

Figures measure(const std::string& url, const fs::path& root, const std::string& binary, int runs) {
  Figures figures;
  const auto setup = Clock::now();
  if (run_tandem(binary, {"upgrade", "--db", url, "--repos", root.string()}, nullptr, true) != 0)
    throw std::runtime_error("upgrade failed on " + redact_passwords(url));
  figures.setup_seconds = std::chrono::duration<double>(Clock::now() - setup).count();
  std::vector<double> times;
  for (int run = 0; run < runs; ++run) {
    const auto start = Clock::now();
    const int code = run_tandem(binary, {"compare", "--db", url, "--model", (root / "model").string()}, nullptr, true);
    times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    if (code != 0) throw std::runtime_error(fmt::format("compare found drift (exit {}) on {}", code, redact_passwords(url)));
  }
  std::sort(times.begin(), times.end());
  figures.median_seconds = times[times.size() / 2];
  figures.best_seconds = times.front();
  return figures;
}

}  // namespace

int main(int argc, char** argv) {
  const int tables = argc > 1 ? std::atoi(argv[1]) : 500;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  const char* binary = std::getenv("TANDEM");
  if (!binary || tables < 1 || runs < 1) {
    std::cerr << "usage: TANDEM=path/to/tandem bench_compare [tables] [runs]   (see bench/compare.sh)\n";
    return 64;
  }
  const fs::path root = fs::temp_directory_path() / fmt::format("bench_compare_{}", getpid());
  write_repos_and_model(root, tables);
  std::cout << fmt::format("tandem compare on {} tables (each: 8 columns with an enum, a boolean and a decimal, an "
                           "index, a unique constraint, a foreign key), {} runs\n\n",
                           tables, runs);
  std::cout << fmt::format("{:<12} {:>10} {:>14} {:>12} {:>8}\n", "dialect", "setup s", "compare med s", "best s",
                           "target");
  int status = 0;
  auto report = [&](const std::string& dialect, const Figures& figures, bool has_target) {
    const bool met = figures.median_seconds < kTargetSeconds;
    if (has_target && !met) status = 1;
    std::cout << fmt::format("{:<12} {:>10.1f} {:>14.3f} {:>12.3f} {:>8}\n", dialect, figures.setup_seconds,
                             figures.median_seconds, figures.best_seconds,
                             has_target ? (met ? "< 1 s" : "MISSED") : "-");
  };
  try {
    report("sqlite", measure("sqlite://" + (root / "bench.db").string(), root, binary, runs), true);
    for (const auto& [dialect, variable] : {std::pair{"postgresql", "TANDEM_TEST_POSTGRESQL_URL"},
                                            std::pair{"mariadb", "TANDEM_TEST_MYSQL_URL"}}) {
      const char* admin_url = std::getenv(variable);
      if (!admin_url) {
        std::cout << fmt::format("{:<12} skipped: {} not set (run bench/compare.sh)\n", dialect, variable);
        continue;
      }
      const std::string database = fmt::format("bench_compare_{}", getpid());
      auto admin = connect(DatabaseUrl::parse(admin_url));
      admin->execute("DROP DATABASE IF EXISTS " + database);
      admin->execute("CREATE DATABASE " + database);
      const std::string url = std::string(admin_url).substr(0, std::string(admin_url).rfind('/') + 1) + database;
      try {
        report(dialect, measure(url, root, binary, runs), std::string(dialect) == "postgresql");
      } catch (...) {
        admin->execute("DROP DATABASE IF EXISTS " + database);
        throw;
      }
      admin->execute("DROP DATABASE IF EXISTS " + database);
    }
  } catch (const std::exception& error) {
    std::cerr << "bench_compare: " << error.what() << "\n";
    status = 2;
  }
  fs::remove_all(root);
  return status;
}
