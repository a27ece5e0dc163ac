#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>

#include "../cli.h"

namespace tandem::cli {

int run_phase(const CommandLine& line) {
  Engine engine(line.deployment());
  const RunOptions options = line.run_options();
  const RunReport report =
      line.command == "upgrade" ? engine.upgrade(options) : engine.run(*parse_phase(line.command), options);
  if (line.format == Format::json) {
    nlohmann::json units = nlohmann::json::array();
    for (const auto& unit : report.units)
      units.push_back({{"database", unit.database},
                       {"phase", phase_name(unit.phase)},
                       {"version", unit.version},
                       {"name", unit.name},
                       {"status", unit.status},
                       {"seconds", unit.seconds},
                       {"sql", unit.sql}});
    std::cout << nlohmann::json{{"command", line.command}, {"units", units}}.dump(2) << "\n";
  } else if (report.units.empty()) {
    std::cout << fmt::format("{}: nothing to do\n", line.command);
  } else if (!line.dry_run) {
    std::cout << fmt::format("{}: {} unit{} applied\n", line.command, report.units.size(),
                             report.units.size() == 1 ? "" : "s");
  }
  return 0;
}

}  // namespace tandem::cli
