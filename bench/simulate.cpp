// How long the schema simulation of the history takes (DESIGN §18; what check, compare
// in a rolling window and `new --from-model` build on): the bundled history followed by
// `versions` generated ones (default 1,000), each adding a column and an index in expand
// and dropping an earlier column in contract, a new table every tenth. Loading the units
// (YAML) is timed apart from the simulation. Goal (issue 17): the simulation under 200 ms.
//
//   bench/simulate.sh [versions] [runs]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <vector>

#include "tandem/findings.h"
#include "unit/history_check.h"
#include "unit/history_simulation.h"
#include "unit/unit.h"

using namespace tandem;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

constexpr double kGoalMs = 200;

void write(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// Versions after the bundled ones, on cell tables of their own: table t (one per ten
// versions) gets column c{v} and index in version v, and loses column c{v-1} in v's contract.
void generate(const fs::path& root, long long first, int versions) {
  for (int i = 0; i < versions; ++i) {
    const long long v = first + i;
    const std::string name = fmt::format("{:04}_generated", v);
    const std::string table = fmt::format("generated_{}", i / 10);
    std::string expand = fmt::format("description: generated {}\ndatabase: cell\noperations:\n", v);
    if (i % 10 == 0)
      expand += fmt::format("  - create_table:\n      name: {}\n      columns:\n"
                            "        - {{name: id, type: integer, primary_key: true}}\n",
                            table);
    expand += fmt::format("  - add_column: {{table: {}, column: {{name: c{}, type: string(40)}}}}\n", table, v);
    expand += fmt::format("  - create_index: {{table: {}, name: {}_c{}_idx, columns: [c{}]}}\n", table, table, v, v);
    std::string contract = "description: nothing\noperations: []\n";
    if (i % 10 != 0)
      contract = fmt::format("description: generated {}\ndatabase: cell\noperations:\n"
                             "  - drop_index: {{table: {}, name: {}_c{}_idx}}\n"
                             "  - drop_column: {{table: {}, column: c{}}}\n",
                             v, table, table, v - 1, table, v - 1);
    write(root / "expand_repo" / (name + ".yaml"), expand);
    write(root / "data_migration_repo" / (name + ".yaml"), "description: nothing\noperations: []\n");
    write(root / "contract_repo" / (name + ".yaml"), contract);
  }
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int versions = argc > 1 ? std::stoi(argv[1]) : 1000;
  const int runs = argc > 2 ? std::stoi(argv[2]) : 5;
  const fs::path source = TANDEM_SOURCE_DIR;
  const fs::path root = fs::temp_directory_path() / fmt::format("tandem_bench_simulate_{}", getpid());
  fs::remove_all(root);
  fs::create_directories(root);
  for (const char* repo : {"expand_repo", "data_migration_repo", "contract_repo"})
    fs::copy(source / repo, root / repo, fs::copy_options::recursive);
  {
    Findings ignored;
    generate(root, load_repositories(root, ignored).latest() + 1, versions);
  }

  std::vector<double> load_ms, simulate_ms, check_ms;
  size_t units = 0, tables = 0;
  for (int run = 0; run < runs; ++run) {
    auto start = Clock::now();
    Findings findings;
    const Repositories repositories = load_repositories(root, findings);
    load_ms.push_back(ms_since(start));
    if (findings.has_errors()) {
      std::cerr << "bench_simulate: the generated history does not load\n";
      return 1;
    }
    start = Clock::now();
    const auto simulated = simulate_history(repositories);
    simulate_ms.push_back(ms_since(start));
    start = Clock::now();
    check_against_history(repositories, findings);
    check_ms.push_back(ms_since(start));
    if (findings.has_errors()) {
      std::cerr << "bench_simulate: the history check found errors in the generated history\n";
      return 1;
    }
    units = repositories.versions.size() * 3;
    tables = 0;
    for (const auto& [role, schema] : simulated) tables += schema.schema.tables.size();
  }
  fs::remove_all(root);
  std::cout << fmt::format("history: the bundled versions and {} generated ones, {} units, {} tables at the end; "
                           "median of {} runs\n",
                           versions, units, tables, runs);
  std::cout << fmt::format("  simulation (every version, all roles)  {:8.1f} ms   goal {:.0f} ms   {:.2f}x the goal\n",
                           median(simulate_ms), kGoalMs, median(simulate_ms) / kGoalMs);
  std::cout << fmt::format("  check's history check (a diff per op)  {:8.1f} ms\n", median(check_ms));
  std::cout << fmt::format("  loading the units (YAML), for scale    {:8.1f} ms\n", median(load_ms));
  return 0;
}
