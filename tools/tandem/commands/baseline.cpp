#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>

#include "../cli.h"
#include "tandem/baseline.h"
#include "tandem/error.h"

namespace tandem::cli {

// tandem baseline N (DESIGN §17). Exit 0: state N recorded (or, with --dry-run, the
// databases match); 1: they differ from what 001..N build (each difference printed,
// nothing recorded), or one already has tandem state.
int run_baseline(const CommandLine& line) {
  if (line.format != Format::text && line.format != Format::json)
    throw Error(ErrorKind::usage, "tandem baseline: --format text or json");
  if (line.arguments.size() != 1)
    throw Error(ErrorKind::usage, "tandem baseline N: give the version the database holds, e.g. tandem baseline 4");
  const std::string& word = line.arguments.front();
  if (word.empty() || word.size() > 9 || word.find_first_not_of("0123456789") != std::string::npos)
    throw Error(ErrorKind::usage, fmt::format("tandem baseline: '{}' is not a version number", word));
  BaselineOptions options;
  options.version = std::stoll(word);
  options.dry_run = line.dry_run;
  options.wait = std::chrono::seconds(line.wait_seconds);
  if (!line.db) options.role = line.database_role;
  options.database = line.cell;
  if (line.dev_db) options.dev_db = DatabaseUrl::parse(*line.dev_db);
  if (line.verbose) options.on_event = [](const std::string& event) { std::cerr << event << std::endl; };
  const BaselineReport report = baseline(line.deployment(), options);

  const std::string built = options.version == 1 ? std::string("schema version 001 builds")
                                                 : fmt::format("schema versions 001..{:03} build", options.version);
  if (line.format == Format::json) {
    nlohmann::json differences = nlohmann::json::array();
    for (const auto& difference : report.differences)
      differences.push_back({{"database", difference.database}, {"message", difference.describe(built)}});
    std::cout << nlohmann::json{{"version", options.version}, {"databases", report.databases},
                                {"differences", differences}, {"recorded", report.recorded}}
                     .dump(2)
              << "\n";
    return report.differences.empty() ? 0 : 1;
  }
  for (const auto& difference : report.differences) std::cout << difference.describe(built) << "\n";
  const std::string names = fmt::format("{}", fmt::join(report.databases, ", "));
  if (!report.differences.empty()) {
    std::cout << fmt::format("baseline: {} difference{} between {} and the {}; nothing was recorded\n",
                             report.differences.size(), report.differences.size() == 1 ? "" : "s", names, built);
    return 1;
  }
  if (report.recorded)
    std::cout << fmt::format("baseline: {} recorded at {:03} (expand, migrate and contract); the next expand runs {:03}\n",
                             names, options.version, options.version + 1);
  else
    std::cout << fmt::format("baseline: {} match{} the {}; --dry-run recorded nothing\n", names,
                             report.databases.size() == 1 ? "es" : "", built);
  return 0;
}

}  // namespace tandem::cli
