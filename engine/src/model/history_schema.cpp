#include "model/history_schema.h"

#include <fmt/format.h>

#include <mutex>
#include <set>

#include "model/scratch_databases.h"
#include "tandem/engine.h"
#include "tandem/error.h"
#include "tandem/model.h"

namespace tandem {

namespace {

// What the units up to `at` are, so a scratch build made for one database of a rolling
// window serves every other database at the same state: compare runs over many cells.
std::string fingerprint(const Repositories& repositories, const SchemaState& at) {
  std::string key = fmt::format("{}\n{} {}\n", repositories.root.string(), at.expand, at.contract);
  for (const auto& version : repositories.versions) {
    if (version.number > at.expand) break;
    for (const auto& [phase, unit] : version.units) key += fmt::format("{} {}\n", unit.path, unit.checksum);
  }
  return key;
}

// The history run on SQLite files as a rolling upgrade runs it to `at`: each version's
// three phases up to its contract, then the window's expands; then each role inspected.
std::map<std::string, schema::Schema> build_on_sqlite(const Repositories& repositories, const SchemaState& at,
                                                      const std::set<std::string>& roles,
                                                      const std::string& because,
                                                      const std::function<void(const std::string&)>& on_event) {
  ScratchDatabases scratch(std::nullopt, "history");
  Deployment deployment;
  deployment.repos = repositories.root;
  for (const auto& role : deployment_order(roles))
    // Named so that a unit failing there is not taken for a failure on a live database.
    deployment.databases.push_back({"scratch " + role, role, scratch.make(role)});
  try {
    Engine engine(deployment);
    RunOptions run;
    run.on_event = on_event;
    for (long long version = 1; version <= at.contract; ++version) {
      run.to = version;
      for (Phase phase : {Phase::expand, Phase::migrate, Phase::contract}) engine.run(phase, run);
    }
    run.to = at.expand;
    engine.run(Phase::expand, run);
  } catch (const Error& error) {
    Error wrapped(ErrorKind::invalid_unit,
                  fmt::format("raw sql at {} changes the schema in a way only a database can tell, and the history to "
                              "expand {:03}, contract {:03} did not build on a scratch SQLite database: {}",
                              because, at.expand, at.contract, error.what()));
    if (error.file()) wrapped.with_file(*error.file(), error.line());
    if (error.sql()) wrapped.with_sql(*error.sql());
    throw wrapped;
  }
  std::map<std::string, schema::Schema> built;
  for (const auto& database : deployment.databases) built[database.role] = inspect_database(database.url);
  return built;
}

}  // namespace

std::map<std::string, HistorySchema> history_schemas(const Repositories& repositories, std::optional<SchemaState> state,
                                                     const std::function<void(const std::string&)>& on_event) {
  const SchemaState at = state.value_or(SchemaState{repositories.latest(), repositories.latest()});
  std::map<std::string, HistorySchema> schemas;
  std::set<std::string> roles;
  std::optional<std::string> first_unknown;
  for (auto& [role, simulated] : simulate_history(repositories, at)) {
    roles.insert(role);
    if (!simulated.known() && !first_unknown) first_unknown = simulated.unknown_since;
    schemas[role] = {std::move(simulated.schema), simulated.unknown_since};
  }
  if (!first_unknown) return schemas;

  static std::mutex cache_mutex;
  static std::map<std::string, std::map<std::string, schema::Schema>> cache;
  const std::string key = fingerprint(repositories, at);
  std::unique_lock<std::mutex> lock(cache_mutex);
  auto cached = cache.find(key);
  if (cached == cache.end())
    cached = cache.emplace(key, build_on_sqlite(repositories, at, roles, *first_unknown, on_event)).first;
  for (auto& [role, schema] : schemas)
    if (schema.built_because) schema.schema = cached->second.at(role);
  return schemas;
}

}  // namespace tandem
