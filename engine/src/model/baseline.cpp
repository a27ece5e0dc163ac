// baseline (DESIGN §17): versions 001..N built on scratch databases, compared with the
// live ones as compare compares a model, and state N recorded only when all match.
#include "tandem/baseline.h"

#include <fmt/format.h>
#include <unistd.h>

#include <map>
#include <memory>

#include "dialect/dialect.h"
#include "model/scratch_databases.h"
#include "state/state_store.h"
#include "tandem/engine.h"
#include "tandem/error.h"
#include "unit/unit.h"

namespace tandem {

namespace {

constexpr Phase kPhases[] = {Phase::expand, Phase::migrate, Phase::contract};

struct LiveDatabase {
  const DatabaseTarget* target;
  std::unique_ptr<Connection> connection;
  std::unique_ptr<RunLock> lock;
};

// Refuses a database tandem already keeps state in: baseline is for databases it did not
// build. Empty state tables (made by a `status` that found nothing) are no state.
void refuse_tandem_state(LiveDatabase& live) {
  StateStore state(*live.connection);
  if (!state.exists()) return;
  std::vector<std::string> versions;
  for (const auto& [phase, version] : state.versions())
    if (version > 0) versions.push_back(fmt::format("{} {:03}", phase_name(phase), version));
  const auto history = state.history();
  if (versions.empty() && history.empty()) return;
  throw Error(ErrorKind::step_failed,
              fmt::format("{}: already has tandem state ({}); baseline is for a database tandem did not build, "
                          "nothing was recorded",
                          live.target->name,
                          versions.empty() ? fmt::format("{} history rows", history.size()) : fmt::format("{}", fmt::join(versions, ", "))));
}

// The scratch databases 001..N are built on, one per role and dialect, and the schema
// they hold afterwards as inspect reads it.
class BuiltHistory {
 public:
  BuiltHistory(const Deployment& deployment, const std::vector<const DatabaseTarget*>& live,
               const BaselineOptions& options) {
    // The scratch deployment has every role of the live one, as the units may move rows
    // between them; each role built on the server (or SQLite) of its first database.
    std::map<std::string, const DatabaseTarget*> first_of_role;
    for (const auto& database : deployment.databases) first_of_role.emplace(database.role, &database);
    for (const DatabaseTarget* target : live)
      if (first_of_role.at(target->role)->url.dialect != target->url.dialect)
        throw Error(ErrorKind::usage,
                    fmt::format("baseline: the {} databases are not all {}: {} is {}; run baseline for each with "
                                "--cell",
                                target->role, dialect_name(first_of_role.at(target->role)->url.dialect), target->name,
                                dialect_name(target->url.dialect)));
    Deployment scratch_deployment;
    scratch_deployment.repos = deployment.repos;
    scratch_deployment.model = deployment.model;
    scratch_deployment.partial = deployment.partial;
    for (const auto& [role, first] : first_of_role) {
      if (options.dev_db && options.dev_db->dialect != first->url.dialect)
        throw Error(ErrorKind::usage, fmt::format("--dev-db {} is {}, but the {} database {} is {}",
                                                  options.dev_db->redacted(), dialect_name(options.dev_db->dialect), role,
                                                  first->name, dialect_name(first->url.dialect)));
      const std::optional<DatabaseUrl> server = options.dev_db ? options.dev_db : std::optional<DatabaseUrl>(first->url);
      scratch_.push_back(std::make_unique<ScratchDatabases>(server, "baseline"));
      const DatabaseUrl url = scratch_.back()->make(role);
      if (options.on_event) options.on_event(fmt::format("baseline: building {} on {}", role, url.redacted()));
      // Named so that a unit failing there is not taken for a failure on the live database.
      scratch_deployment.databases.push_back({"scratch " + role, role, url});
    }
    // api first, cells last, as the engine wants them.
    std::stable_sort(scratch_deployment.databases.begin(), scratch_deployment.databases.end(),
                     [](const DatabaseTarget& a, const DatabaseTarget& b) {
                       const auto rank = [](const std::string& role) { return role == roles::api ? 0 : role == roles::cell ? 2 : 1; };
                       return rank(a.role) < rank(b.role);
                     });
    {
      Engine engine(scratch_deployment);
      RunOptions run;
      run.on_event = options.on_event;
      run.wait = std::chrono::seconds(0);
      for (long long version = 1; version <= options.version; ++version) {
        run.to = version;
        for (Phase phase : kPhases) engine.run(phase, run);
      }
    }
    for (const auto& database : scratch_deployment.databases) built_[database.role] = inspect_database(database.url);
  }

  const schema::Schema& of(const std::string& role) const { return built_.at(role); }

 private:
  std::vector<std::unique_ptr<ScratchDatabases>> scratch_;
  std::map<std::string, schema::Schema> built_;
};

// Writes state N and a `baselined` history row per unit of 001..N, in one transaction.
void record(Connection& connection, const Repositories& repositories, long long version) {
  StateStore state(connection);
  state.ensure();
  connection.begin();
  try {
    for (const auto& units : repositories.versions) {
      if (units.number > version) break;
      for (Phase phase : kPhases) {
        const Unit& unit = units.units.at(phase);
        const long long id = state.start_history(phase, unit.version, unit.name, unit.checksum);
        state.finish_history(id, RunStatus::baselined, 0, std::nullopt);
      }
    }
    for (Phase phase : kPhases) state.set_version(phase, version);
    connection.commit();
  } catch (...) {
    connection.rollback();
    throw;
  }
}

}  // namespace

BaselineReport baseline(const Deployment& deployment, const BaselineOptions& options) {
  const Repositories repositories = load_repositories_or_throw(deployment.repos);
  if (options.version < 1 || options.version > repositories.latest())
    throw Error(ErrorKind::usage,
                repositories.latest() == 0
                    ? fmt::format("baseline {}: the repositories under {} have no version", options.version,
                                  deployment.repos.string())
                    : fmt::format("baseline {}: give a version from 001 to {:03} (the repositories' last)",
                                  options.version, repositories.latest()));
  const auto targets = deployment.select(options.role, options.database);

  // Locked first and checked for state before anything is built: a refusal costs nothing.
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  const std::string holder = fmt::format("baseline by host {} pid {} since {}", host, getpid(), utc_now());
  std::vector<LiveDatabase> live;
  for (const DatabaseTarget* target : targets) {
    LiveDatabase database{target, connect(target->url), nullptr};
    database.lock = database.connection->lock(options.wait, holder);
    refuse_tandem_state(database);
    live.push_back(std::move(database));
  }

  BaselineReport report;
  const BuiltHistory built(deployment, targets, options);
  for (auto& database : live) {
    report.databases.push_back(database.target->name);
    for (auto& drift : compare_database(built.of(database.target->role), *database.target))
      report.differences.push_back(std::move(drift));
  }
  if (!report.differences.empty() || options.dry_run) return report;
  for (auto& database : live) {
    record(*database.connection, repositories, options.version);
    if (options.on_event)
      options.on_event(fmt::format("{}: recorded expand = migrate = contract = {:03}", database.target->name,
                                   options.version));
  }
  report.recorded = true;
  return report;
}

}  // namespace tandem
