#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>

#include "../cli.h"

namespace tandem::cli {

// DESIGN §16: the newest version in flight (expand ran, contract did not) undone on
// every database, so the old release runs on the schema it was written for.
int run_abort(const CommandLine& line) {
  Engine engine(line.deployment());
  const RunReport report = engine.abort(line.run_options());
  if (line.format == Format::json) {
    nlohmann::json units = nlohmann::json::array();
    for (const auto& unit : report.units)
      units.push_back({{"database", unit.database},
                       {"version", unit.version},
                       {"name", unit.name},
                       {"status", unit_status_name(unit.status)},
                       {"seconds", unit.seconds},
                       {"sql", unit.sql}});
    std::cout << nlohmann::json{{"command", "abort"}, {"units", units}}.dump(2) << "\n";
  } else if (report.units.empty()) {
    std::cout << "abort: nothing to abort (no version is between its expand and its contract)\n";
  } else if (!line.dry_run) {
    std::cout << fmt::format("abort: version {} undone on {} database{}; fix it, then `tandem expand` runs it again\n",
                             report.units.front().version, report.units.size(), report.units.size() == 1 ? "" : "s");
  }
  return 0;
}

}  // namespace tandem::cli
