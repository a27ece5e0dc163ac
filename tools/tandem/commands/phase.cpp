#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>

#include "../cli.h"
#include "tandem/error.h"

namespace tandem::cli {

namespace {

void print_migrations(const RunReport& report) {
  std::vector<const MigrationFigure*> figures;
  size_t width = std::string("Migration").size();
  for (const auto& unit : report.units)
    for (const auto& figure : unit.migrations) {
      figures.push_back(&figure);
      width = std::max(width, figure.database.size() + 2 + figure.migration.size());
    }
  if (figures.empty()) return;
  std::cout << fmt::format("{:<{}} | {:>12} | {:>9}\n", "Migration", width, "Total Needed", "Completed");
  std::cout << fmt::format("{:-<{}}-+-{:->12}-+-{:->9}\n", "", width, "", "");
  for (const auto* figure : figures)
    std::cout << fmt::format("{:<{}} | {:>12} | {:>9}\n", figure->database + ": " + figure->migration, width,
                             figure->needed, figure->completed);
}

}  // namespace

int run_phase(const CommandLine& line) {
  Engine engine(line.deployment());
  const RunOptions options = line.run_options();
  const bool migrate = line.command == "migrate";
  RunReport report;
  try {
    report = line.command == "upgrade" ? engine.upgrade(options) : engine.run(*parse_phase(line.command), options);
  } catch (const Error& error) {
    // migrate answers 0 complete, 1 rows remain, 2 errors (DESIGN §7); an order refusal
    // is 1 from every phase command, and the generic usage, config, unreachable and lock
    // codes still apply.
    if (!migrate || (error.kind() != ErrorKind::step_failed && error.kind() != ErrorKind::checksum_mismatch))
      throw;
    std::cerr << "tandem: error: " << error.describe() << "\n";
    return 2;
  }
  if (line.format == Format::json) {
    nlohmann::json units = nlohmann::json::array();
    for (const auto& unit : report.units) {
      nlohmann::json migrations = nlohmann::json::array();
      for (const auto& figure : unit.migrations)
        migrations.push_back({{"migration", figure.migration},
                              {"total_needed", figure.needed},
                              {"completed", figure.completed},
                              {"done", figure.done},
                              {"batches", figure.batches},
                              {"longest_batch_ms", figure.longest_batch_ms}});
      units.push_back({{"database", unit.database},
                       {"phase", phase_name(unit.phase)},
                       {"version", unit.version},
                       {"name", unit.name},
                       {"status", unit_status_name(unit.status)},
                       {"seconds", unit.seconds},
                       {"sql", unit.sql},
                       {"migrations", migrations}});
    }
    std::cout << nlohmann::json{{"command", line.command}, {"units", units}, {"rows_remain", report.rows_remain()}}.dump(2)
              << "\n";
  } else if (report.units.empty()) {
    std::cout << fmt::format("{}: nothing to do\n", line.command);
  } else if (!line.dry_run) {
    print_migrations(report);
    std::cout << fmt::format("{}: {} unit{} {}\n", line.command, report.units.size(), report.units.size() == 1 ? "" : "s",
                             report.rows_remain() ? "run, rows remain: run it again" : "applied");
  }
  return report.rows_remain() ? 1 : 0;
}

}  // namespace tandem::cli
