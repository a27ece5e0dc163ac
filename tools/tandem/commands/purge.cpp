#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>

#include "../cli.h"
#include "tandem/archive.h"

namespace tandem::cli {

namespace {

// nova-manage's exit codes for `db purge`.
constexpr int kRowsPurged = 0;
constexpr int kNoScope = 1;
constexpr int kBadBefore = 2;
constexpr int kNothingPurged = 3;

}  // namespace

int run_purge(const CommandLine& line) {
  if (line.before.has_value() == line.all) {
    std::cerr << (line.all ? "tandem: error: purge takes --before DATE or --all, not both\n"
                           : "tandem: error: purge needs --before DATE (rows older than it) or --all (every row of "
                             "the shadow tables)\n");
    return kNoScope;
  }
  PurgeOptions options;
  if (line.before) {
    options.before = parse_timestamp(*line.before);
    if (!options.before) {
      std::cerr << fmt::format("tandem: error: --before {}: expected an ISO 8601 date, e.g. 2026-01-31 or "
                               "2026-01-31T12:00:00\n",
                               *line.before);
      return kBadBefore;
    }
  }
  const RunOptions run = line.run_options();
  options.wait = run.wait;
  options.role = run.role;
  options.database = run.database;

  const Deployment deployment = line.deployment();
  const PurgeReport report = purge(deployment, options);
  if (line.format == Format::json) {
    nlohmann::json purged = nlohmann::json::array();
    for (const auto& count : report.purged)
      purged.push_back({{"database", count.database}, {"table", count.table}, {"rows", count.rows}});
    nlohmann::json skipped = nlohmann::json::array();
    for (const auto& table : report.skipped)
      skipped.push_back({{"database", table.database}, {"table", table.table}, {"reason", table.reason}});
    std::cout << nlohmann::json{{"purged", purged}, {"total", report.total()}, {"skipped", skipped}}.dump(2) << "\n";
  } else {
    for (const auto& table : report.skipped)
      std::cout << fmt::format("{}: {}: skipped: {}\n", table.database, table.table, table.reason);
    const bool per_database = deployment.databases.size() > 1;
    if (line.verbose && !report.purged.empty()) {
      size_t width = 5;
      for (const auto& count : report.purged) width = std::max(width, count.table.size());
      if (per_database) std::cout << fmt::format("{:<12} ", "DATABASE");
      std::cout << fmt::format("{:<{}} {}\n", "TABLE", width, "ROWS PURGED");
      for (const auto& count : report.purged) {
        if (per_database) std::cout << fmt::format("{:<12} ", count.database);
        std::cout << fmt::format("{:<{}} {}\n", count.table, width, count.rows);
      }
    }
    if (report.total() == 0)
      std::cout << "Nothing was purged.\n";
    else
      std::cout << fmt::format("Purged {} rows from {} shadow tables.\n", report.total(), report.purged.size());
  }
  return report.total() > 0 ? kRowsPurged : kNothingPurged;
}

}  // namespace tandem::cli
