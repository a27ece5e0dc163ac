#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "../cli.h"
#include "tandem/error.h"
#include "tandem/model.h"

namespace tandem::cli {

namespace fs = std::filesystem;

// Exit 0: the migrations produce the model on scratch databases, and what the history
// says each rolling window holds; 1: they do not (the differences are printed), or a
// unit failed.
int run_verify(const CommandLine& line) {
  VerifyOptions options;
  options.repos = line.repos_folder();
  if (line.model)
    options.model = *line.model;
  else if (line.config || fs::exists("tandem.yaml"))
    options.model = Deployment::load(line.config.value_or("tandem.yaml")).model;
  else
    options.model = options.repos / "model";
  if (line.dev_db) options.dev_db = DatabaseUrl::parse(*line.dev_db);
  if (line.verbose) options.on_event = [](const std::string& event) { std::cerr << event << std::endl; };
  const VerifyReport report = verify(options);
  for (const auto& drift : report.drift) std::cout << drift.describe() << "\n";
  for (const auto& drift : report.window_drift) std::cout << drift << "\n";
  const std::string where = options.dev_db ? options.dev_db->redacted() : "SQLite";
  if (!report.window_drift.empty())
    std::cout << fmt::format("verify: {} difference{} between the databases in a rolling window and what the history "
                             "says they hold there on {}\n",
                             report.window_drift.size(), report.window_drift.size() == 1 ? "" : "s", where);
  if (report.drift.empty() && report.window_drift.empty()) {
    std::cout << fmt::format("verify: the migrations produce the model for {} on {}\n", fmt::join(report.roles, ", "), where);
    return 0;
  }
  if (!report.drift.empty())
    std::cout << fmt::format("verify: {} difference{} between the migrations and the model on {}\n",
                             report.drift.size(), report.drift.size() == 1 ? "" : "s", where);
  return 1;
}

}  // namespace tandem::cli
