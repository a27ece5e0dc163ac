#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>

#include "../cli.h"

namespace tandem::cli {

// DESIGN §6: undoes what a journaled unit that stopped part-way applied, so the unit,
// edited since, can run again.
int run_repair(const CommandLine& line) {
  Engine engine(line.deployment());
  const RunReport report = engine.repair(line.run_options());
  if (line.format == Format::json) {
    nlohmann::json units = nlohmann::json::array();
    for (const auto& unit : report.units)
      units.push_back({{"database", unit.database},
                       {"phase", phase_name(unit.phase)},
                       {"version", unit.version},
                       {"name", unit.name},
                       {"status", unit_status_name(unit.status)},
                       {"sql", unit.sql}});
    std::cout << nlohmann::json{{"command", "repair"}, {"units", units}}.dump(2) << "\n";
  } else if (report.units.empty()) {
    std::cout << "repair: nothing to repair (no unit stopped part-way)\n";
  } else if (!line.dry_run) {
    std::cout << fmt::format("repair: {} unit{} undone; run the phase again\n", report.units.size(),
                             report.units.size() == 1 ? "" : "s");
  }
  return 0;
}

}  // namespace tandem::cli
