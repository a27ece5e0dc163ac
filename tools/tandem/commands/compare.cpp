#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>

#include "../cli.h"
#include "tandem/error.h"
#include "tandem/model.h"

namespace tandem::cli {

namespace fs = std::filesystem;

namespace {

// Read from the model to the database: what only the database has is extra.
const char* drift_kind(schema::ChangeKind change) {
  switch (change) {
    case schema::ChangeKind::add: return "extra";
    case schema::ChangeKind::drop: return "missing";
    case schema::ChangeKind::modify:
    case schema::ChangeKind::rename: break;
  }
  return "differs";
}

nlohmann::json drift_json(const Drift& drift, const std::string& reference) {
  const auto& change = drift.change;
  nlohmann::json out = {{"database", drift.database}, {"object", schema::object_kind_name(change.object)},
                        {"table", change.table},      {"name", change.name},
                        {"drift", drift_kind(change.change)},              {"detail", change.detail},
                        {"message", drift.describe(reference)}};
  if (change.object == schema::ObjectKind::table) out["table"] = change.name;
  return out;
}

}  // namespace

// Every database of the deployment (narrowed by --database / --cell) against the model
// of its role. Exit 0: no drift; 1: drift.
int run_compare(const CommandLine& line) {
  if (line.format != Format::text && line.format != Format::json)
    throw Error(ErrorKind::usage, "tandem compare: --format text or json");
  const Deployment deployment = line.deployment();
  const bool from_config = !line.db && (line.config || fs::exists("tandem.yaml"));
  const fs::path folder = line.model ? fs::path(*line.model) : from_config ? deployment.model : line.repos_folder() / "model";
  std::vector<std::string> lines;  // one per difference
  nlohmann::json databases = nlohmann::json::array();
  bool any = false;
  for (const auto& database : deployment.databases) {
    if (!line.db && line.database_role && database.role != *line.database_role) continue;
    if (line.cell && database.name != *line.cell) continue;
    any = true;
    const fs::path file = folder / (database.role + ".yaml");
    if (!fs::exists(file))
      throw Error(ErrorKind::invalid_unit, fmt::format("no model for database {} (role {}): {} does not exist",
                                                       database.name, database.role, file.string()));
    const Comparison found = compare_with_history(load_model(file), database, deployment.repos);
    nlohmann::json items = nlohmann::json::array();
    for (const auto& item : found.drift) {
      items.push_back(drift_json(item, found.reference));
      lines.push_back(item.describe(found.reference));
    }
    if (!found.note.empty()) std::cerr << "compare: " << found.note << "\n";
    if (found.reference != "model" && line.format == Format::text)
      std::cerr << fmt::format("compare: {} is in a rolling window: compared with the {}, not the model\n",
                               database.name, found.reference);
    databases.push_back({{"database", database.name}, {"role", database.role}, {"url", database.url.redacted()},
                         {"model", file.string()}, {"compared_with", found.reference}, {"note", found.note}, {"drift", items}});
  }
  if (!any) throw Error(ErrorKind::usage, "no database of the deployment matches --database / --cell");
  if (line.format == Format::json) {
    std::cout << nlohmann::json{{"databases", databases}, {"drift", lines.size()}}.dump(2) << "\n";
  } else {
    for (const auto& text : lines) std::cout << text << "\n";
    std::cerr << fmt::format("compare: {} difference{} from the model\n", lines.size(), lines.size() == 1 ? "" : "s");
  }
  return lines.empty() ? 0 : 1;
}

}  // namespace tandem::cli
