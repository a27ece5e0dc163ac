// How long `tandem compare` takes, whole process, per dialect: the live schema read from
// the catalogs, normalized, and diffed against a model of the same tables (each with an
// enum, a boolean, a decimal, an index, a unique constraint, a foreign key to the table
// before it, and varchar columns up to `columns` in all). By default 110 tables and 1,319
// columns, the size issue 12 measured. Goals: MariaDB's median under 25 ms; SQLite and
// PostgreSQL under 1 s.
//
//   bench/compare.sh [tables] [runs] [columns per table]     (starts private servers)
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

constexpr double kTargetSeconds = 1.0;          // SQLite, PostgreSQL
constexpr double kMariadbTargetSeconds = 0.025;  // issue 12
constexpr int kBaseColumns = 8;                  // what columns() writes before the extra ones
int extra_columns = 4;

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
  for (int extra = 1; extra <= extra_columns; ++extra)
    out += fmt::format("      - {{name: extra_{}, type: string(40)}}\n", extra);
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
  const int columns_per_table = argc > 3 ? std::atoi(argv[3]) : kBaseColumns + extra_columns;
  extra_columns = columns_per_table - kBaseColumns;
  const char* binary = std::getenv("TANDEM");
  if (!binary || tables < 1 || runs < 1 || extra_columns < 0) {
    std::cerr << "usage: TANDEM=path/to/tandem bench_compare [tables] [runs] [columns per table, at least "
              << kBaseColumns << "]   (see bench/compare.sh)\n";
    return 64;
  }
  const fs::path root = fs::temp_directory_path() / fmt::format("bench_compare_{}", getpid());
  write_repos_and_model(root, tables);
  std::cout << fmt::format("tandem compare (whole process) on {} tables, {} columns (each table: {} columns with an "
                           "enum, a boolean and a decimal, an index, a unique constraint, a foreign key), {} runs\n\n",
                           tables, tables * columns_per_table - 1, columns_per_table, runs);
  std::cout << fmt::format("{:<12} {:>10} {:>15} {:>13} {:>9}\n", "dialect", "setup s", "compare med ms", "best ms",
                           "goal");
  int status = 0;
  auto report = [&](const std::string& dialect, const Figures& figures, double target) {
    const bool met = figures.median_seconds < target;
    if (!met) status = 1;
    const std::string goal = target < 1 ? fmt::format("< {:.0f} ms", target * 1000) : fmt::format("< {:.0f} s", target);
    std::cout << fmt::format("{:<12} {:>10.1f} {:>15.1f} {:>13.1f} {:>9}\n", dialect, figures.setup_seconds,
                             figures.median_seconds * 1000, figures.best_seconds * 1000, met ? goal : "MISSED");
  };
  try {
    report("sqlite", measure("sqlite://" + (root / "bench.db").string(), root, binary, runs), kTargetSeconds);
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
        report(dialect, measure(url, root, binary, runs),
               std::string(dialect) == "mariadb" ? kMariadbTargetSeconds : kTargetSeconds);
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
