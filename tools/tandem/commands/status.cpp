#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>

#include "../cli.h"

namespace tandem::cli {

int run_status(const CommandLine& line) {
  Engine engine(line.deployment());
  const auto databases = engine.status(line.run_options());
  const Readiness overall = overall_readiness(databases);
  if (line.format == Format::json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& database : databases)
      out.push_back({{"database", database.name},
                     {"role", database.role},
                     {"url", database.url},
                     {"expand", database.versions.at(Phase::expand)},
                     {"migrate", database.versions.at(Phase::migrate)},
                     {"contract", database.versions.at(Phase::contract)},
                     {"latest", database.latest},
                     {"state", readiness_text(database.readiness)},
                     {"code", static_cast<int>(database.readiness)},
                     {"problems", database.problems},
                     {"half_applied", database.half_applied}});
    std::cout << nlohmann::json{{"databases", out}, {"state", readiness_text(overall)}, {"code", static_cast<int>(overall)}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << fmt::format("{:<12} {:<6} {:>7} {:>8} {:>9} {:>7}  {}\n", "DATABASE", "ROLE", "EXPAND", "MIGRATE",
                             "CONTRACT", "LATEST", "STATE");
    for (const auto& database : databases) {
      auto number = [](long long version) { return fmt::format("{:03}", version); };
      std::cout << fmt::format("{:<12} {:<6} {:>7} {:>8} {:>9} {:>7}  {}\n", database.name, database.role,
                               number(database.versions.at(Phase::expand)), number(database.versions.at(Phase::migrate)),
                               number(database.versions.at(Phase::contract)), number(database.latest),
                               readiness_text(database.readiness));
      for (const auto& problem : database.problems) std::cout << "    ! " << problem << "\n";
      for (const auto& unit : database.half_applied) std::cout << "    ~ " << unit << "\n";
      if (line.verbose) std::cout << "    " << database.url << "\n";
    }
    std::cout << "deployment: " << readiness_text(overall) << "\n";
  }
  return line.check ? static_cast<int>(overall) : 0;
}

}  // namespace tandem::cli
