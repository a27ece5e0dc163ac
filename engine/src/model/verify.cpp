// verify: the migrations, run on empty databases as a rolling upgrade runs them, must
// leave exactly the declared model.
#include <fmt/format.h>

#include <iostream>
#include <set>

#include "dialect/dialect.h"
#include "model/scratch_databases.h"
#include "tandem/engine.h"
#include "tandem/error.h"
#include "tandem/model.h"
#include "unit/history_simulation.h"
#include "unit/unit.h"

namespace tandem {

namespace fs = std::filesystem;

namespace {

// The databases after `version`'s expand, against what the simulation says they hold.
void compare_window(const Repositories& repositories, const Deployment& deployment, const VersionUnits& version,
                    VerifyReport& report) {
  const auto simulated = simulate_history(repositories, SchemaState{version.number, version.number - 1});
  for (const auto& database : deployment.databases) {
    const auto role = simulated.find(database.role);
    if (role != simulated.end() && !role->second.known()) continue;
    const Comparison comparison = compare_with_history(schema::Schema{}, database, repositories.root);
    for (const auto& drift : comparison.drift)
      report.window_drift.push_back(
          fmt::format("after expand {}: {}", version.version, drift.describe(comparison.reference)));
  }
}

}  // namespace

VerifyReport verify(const VerifyOptions& options) {
  const Repositories repositories = load_repositories_or_throw(options.repos);
  const auto files = model_files(options.model);
  std::set<std::string> roles;
  for (const auto& [role, file] : files) roles.insert(role);
  for (const auto& version : repositories.versions)
    for (const auto& [phase, unit] : version.units)
      for (const auto& operation : unit.operations) {
        const std::string& role = unit.role_of(operation);
        if (!files.count(role))
          throw Error(ErrorKind::invalid_unit, fmt::format("version {} {} changes databases of role '{}', but the model "
                                                           "folder {} has no {}.yaml declaring their schema",
                                                           unit.version, phase_name(phase), role,
                                                           options.model.string(), role))
              .with_file(unit.path);
        roles.insert(role);
      }
  std::map<std::string, schema::Schema> models;
  for (const auto& [role, file] : files) models[role] = load_model(file);

  VerifyReport report;
  if (options.dev_db && !options.dev_db->is_memory() && !dialect_of(options.dev_db->dialect).makes_scratch_databases())
    throw Error(ErrorKind::usage, fmt::format("--dev-db {}: give a postgresql:// or mysql:// server; on SQLite verify "
                                              "makes its own databases",
                                              options.dev_db->redacted()));
  ScratchDatabases scratch(options.dev_db, "verify");
  Deployment deployment;
  deployment.repos = options.repos;
  deployment.model = options.model;
  for (const auto& role : deployment_order(roles)) {
    deployment.databases.push_back({role, role, scratch.make(role)});
    report.roles.push_back(role);
    if (options.on_event)
      options.on_event(fmt::format("verify: {} on {}", role, deployment.databases.back().url.redacted()));
  }
  {
    Engine engine(deployment);
    RunOptions run;
    run.on_event = options.on_event;
    for (const auto& version : repositories.versions) {
      run.to = version.number;
      for (Phase phase : {Phase::expand, Phase::migrate, Phase::contract}) {
        engine.run(phase, run);
        if (phase == Phase::expand) compare_window(repositories, deployment, version, report);
      }
    }
  }
  for (const auto& database : deployment.databases)
    for (auto& drift : compare_database(models.at(database.role), database)) report.drift.push_back(std::move(drift));
  return report;
}

}  // namespace tandem
