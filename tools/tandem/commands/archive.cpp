#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <iostream>
#include <set>

#include "../cli.h"
#include "tandem/archive.h"

namespace tandem::cli {

namespace {

// nova-manage's exit codes for `db archive_deleted_rows`.
constexpr int kNothingArchived = 0;
constexpr int kRowsArchived = 1;
constexpr int kBadMaxRows = 2;
constexpr int kBadBefore = 4;

std::optional<long long> positive_number(const std::string& text) {
  long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

nlohmann::json counts_json(const std::vector<TableCount>& counts) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& count : counts) out.push_back({{"database", count.database}, {"table", count.table}, {"rows", count.rows}});
  return out;
}

nlohmann::json skipped_json(const std::vector<SkippedTable>& skipped) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& table : skipped)
    out.push_back({{"database", table.database}, {"table", table.table}, {"reason", table.reason}});
  return out;
}

nlohmann::json live_values_json(const std::vector<LiveValue>& values) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& value : values)
    out.push_back({{"database", value.database}, {"table", value.table}, {"live_value", value.value},
                   {"source", value.source}});
  return out;
}

// The live value of `deleted` each table was read with, and where it came from (DESIGN §10).
void print_live_values(const std::vector<LiveValue>& values, bool per_database) {
  size_t table_width = 5, value_width = 10;
  for (const auto& value : values) {
    table_width = std::max(table_width, value.table.size());
    value_width = std::max(value_width, value.value.size());
  }
  if (per_database) std::cout << fmt::format("{:<12} ", "DATABASE");
  std::cout << fmt::format("{:<{}} {:<{}} {}\n", "TABLE", table_width, "LIVE VALUE", value_width, "FROM");
  for (const auto& value : values) {
    if (per_database) std::cout << fmt::format("{:<12} ", value.database);
    std::cout << fmt::format("{:<{}} {:<{}} {}\n", value.table, table_width, value.value, value_width, value.source);
  }
}

void print_counts(const std::vector<TableCount>& counts, const std::string& heading, bool per_database) {
  size_t width = 5;
  for (const auto& count : counts) width = std::max(width, count.table.size());
  if (per_database) std::cout << fmt::format("{:<12} ", "DATABASE");
  std::cout << fmt::format("{:<{}} {}\n", "TABLE", width, heading);
  for (const auto& count : counts) {
    if (per_database) std::cout << fmt::format("{:<12} ", count.database);
    std::cout << fmt::format("{:<{}} {}\n", count.table, width, count.rows);
  }
}

// " from 3 tables on 2 databases": distinct tables, databases only when there are several.
std::string where(const std::vector<TableCount>& counts, const Deployment& deployment) {
  std::set<std::string> tables, databases;
  for (const auto& count : counts) {
    tables.insert(count.table);
    databases.insert(count.database);
  }
  if (tables.empty()) return "";
  std::string text = fmt::format(" from {} table{}", tables.size(), tables.size() > 1 ? "s" : "");
  if (deployment.databases.size() > 1)
    text += fmt::format(" on {} database{}", databases.size(), databases.size() > 1 ? "s" : "");
  return text;
}

}  // namespace

int run_archive(const CommandLine& line) {
  ArchiveOptions options;
  if (line.max_rows) {
    const auto max_rows = positive_number(*line.max_rows);
    if (!max_rows) {
      std::cerr << fmt::format("tandem: error: --max-rows {}: expected a positive whole number of rows\n", *line.max_rows);
      return kBadMaxRows;
    }
    options.max_rows = *max_rows;
  }
  if (line.before) {
    options.before = parse_timestamp(*line.before);
    if (!options.before) {
      std::cerr << fmt::format("tandem: error: --before {}: expected an ISO 8601 date, e.g. 2026-01-31 or "
                               "2026-01-31T12:00:00\n",
                               *line.before);
      return kBadBefore;
    }
  }
  options.until_complete = line.until_complete;
  options.sleep = std::chrono::milliseconds(line.sleep_ms);
  const RunOptions run = line.run_options();
  options.wait = run.wait;
  options.role = run.role;
  options.database = run.database;

  const Deployment deployment = line.deployment();
  const ArchiveReport report = archive(deployment, options);
  std::optional<PurgeReport> purged;
  // As nova-manage: purge only after an archive that moved something.
  if (line.purge_too && report.total() > 0) {
    PurgeOptions purge_options;
    purge_options.wait = options.wait;
    purge_options.role = options.role;
    purge_options.database = options.database;
    purged = purge(deployment, purge_options);
  }

  if (line.format == Format::json) {
    nlohmann::json out = {
        {"archived", counts_json(report.archived)}, {"total", report.total()}, {"skipped", skipped_json(report.skipped)},
        {"live_values", live_values_json(report.live_values)}, {"also_deleted", counts_json(report.also_deleted)}};
    if (purged) {
      out["purged"] = counts_json(purged->purged);
      out["purge_also_deleted"] = counts_json(purged->also_deleted);
    }
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& table : report.skipped)
      std::cerr << fmt::format("tandem: warning: {}: {}: not archived: {}\n", table.database, table.table, table.reason);
    if (line.verbose && !report.live_values.empty())
      print_live_values(report.live_values, deployment.databases.size() > 1);
    if (line.verbose && !report.archived.empty())
      print_counts(report.archived, "ROWS ARCHIVED", deployment.databases.size() > 1);
    if (line.verbose && !report.also_deleted.empty())
      print_counts(report.also_deleted, "ROWS DELETED (also_delete)", true);
    if (report.total() == 0)
      std::cout << "Nothing was archived.\n";
    else
      std::cout << fmt::format("Archived {} rows{}.\n", report.total(), where(report.archived, deployment));
    long long also_deleted = 0;
    for (const auto& count : report.also_deleted) also_deleted += count.rows;
    if (also_deleted > 0)
      std::cout << fmt::format("Deleted {} rows belonging to them in other databases (archive.also_delete).\n",
                               also_deleted);
    if (purged) {
      if (line.verbose && !purged->purged.empty())
        print_counts(purged->purged, "ROWS PURGED", deployment.databases.size() > 1);
      std::cout << fmt::format("Purged {} rows{}.\n", purged->total(), where(purged->purged, deployment));
    }
  }
  return report.total() > 0 ? kRowsArchived : kNothingArchived;
}

}  // namespace tandem::cli
