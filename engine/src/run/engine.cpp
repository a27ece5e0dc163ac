#include "tandem/engine.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "batch/move_back.h"
#include "dialect/dialect.h"
#include "dialect/lock_retry.h"
#include "releases/release_registry.h"
#include "run/abort_runner.h"
#include "run/repair.h"
#include "run/unit_runner.h"
#include "state/state_store.h"
#include "tandem/error.h"
#include "tandem/schema_diff.h"
#include "unit/unit.h"

namespace tandem {

namespace {

// What the runners under the engine take of the run's options.
RunSettings settings_for(const RunOptions& options) {
  RunSettings settings;
  settings.lock_timeout = options.lock_timeout;
  settings.lock_retries = options.lock_retries;
  settings.batch_size = options.batch_size;
  settings.batch_time = options.batch_time;
  settings.sleep = options.sleep;
  settings.on_event = options.on_event;
  settings.on_progress = options.on_progress;
  return settings;
}

// The phase each phase needs on every database before it may run a version.
std::optional<Phase> prerequisite(Phase phase) {
  switch (phase) {
    case Phase::expand: return std::nullopt;
    case Phase::migrate: return Phase::expand;
    case Phase::contract: return Phase::migrate;
  }
  return std::nullopt;
}

std::string holder_description() {
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  return fmt::format("held by host {} pid {} since {}", host, getpid(), utc_now());
}

}  // namespace

struct Engine::Impl {
  Deployment deployment;
  Repositories repositories;

  struct Open {
    const DatabaseTarget* target = nullptr;
    std::unique_ptr<Connection> connection;  // null for a dry run on a file that does not exist yet
    std::unique_ptr<RunLock> lock;
    std::map<Phase, long long> versions{{Phase::expand, 0}, {Phase::migrate, 0}, {Phase::contract, 0}};
    schema::Schema simulated;  // dry runs: the schema as the units so far would leave it
  };

  std::vector<const DatabaseTarget*> selected(const RunOptions& options) const {
    return deployment.select(options.role, options.database);
  }

  // Every database of the deployment, opened; those in `targets` (but for a dry run)
  // locked, their state tables made and read, dead runs closed, checksums verified.
  std::vector<Open> open_all(const RunOptions& options, const std::vector<const DatabaseTarget*>& targets) {
    std::vector<Open> all;
    for (const auto& target : deployment.databases) all.push_back(open(target, options.dry_run, options.dry_run));
    if (options.dry_run) return all;
    const std::string holder = holder_description();
    for (auto& database : all) {
      if (std::find(targets.begin(), targets.end(), database.target) == targets.end()) continue;
      database.lock = database.connection->lock(options.wait, holder);
      database.connection->set_lock_timeout(options.lock_timeout);
      StateStore state(*database.connection);
      state.ensure();
      state.close_dead_runs();
      database.versions = state.versions();
      verify_checksums(database);
    }
    return all;
  }

  // `read_only`: for a dry run or a status, which change nothing.
  Open open(const DatabaseTarget& target, bool dry_run, bool read_only) {
    Open database;
    database.target = &target;
    if (dry_run && dialect_of(target.url.dialect).is_missing(target.url)) return database;
    database.connection = connect(target.url, read_only ? Access::read_only : Access::read_write);
    StateStore state(*database.connection);
    if (state.exists()) database.versions = state.versions();
    if (dry_run) database.simulated = database.connection->snapshot();
    return database;
  }

  void check_roles(long long first, long long last) const {
    if (deployment.partial) return;
    const auto roles = deployment.roles();
    for (const auto& version : repositories.versions) {
      if (version.number < first || version.number > last) continue;
      for (const auto& [phase, unit] : version.units)
        for (const auto& operation : unit.operations) {
          std::vector<std::string> needed = {unit.role_of(operation)};
          if (const auto* move = std::get_if<ops::MoveRows>(&operation.body)) needed.push_back(move->to.database);
          for (const auto& role : needed)
            if (std::find(roles.begin(), roles.end(), role) == roles.end())
              throw Error(ErrorKind::bad_config,
                          fmt::format("version {} {} targets the database role '{}', which this deployment lacks "
                                      "(it has: {}); use a config with that role, or --db URL --database {}",
                                      unit.version, phase_name(phase), role, fmt::join(roles, ", "), role))
                  .with_file(unit.path, operation.line);
        }
    }
  }

  void verify_checksums(Open& database) {
    StateStore state(*database.connection);
    for (const auto& [key, checksum] : state.applied_checksums()) {
      const Unit* unit = repositories.find(key.first, key.second);
      if (!unit) continue;  // status reports a database ahead of its repositories
      if (unit->checksum != checksum)
        throw Error(ErrorKind::checksum_mismatch,
                    fmt::format("version {} was edited after it ran as {} on {}: its checksum is now {} but {} was "
                                "applied; restore the file (applied units must not change) and add a new version instead",
                                unit->version, phase_name(unit->phase), database.target->name,
                                unit->checksum.substr(0, 12), checksum.substr(0, 12)))
            .with_file(unit->path);
    }
  }

  // Throws when `phase` may not run `version` yet: some database of the deployment has
  // not reached it in the phase it needs.
  void check_order(Phase phase, const Unit& unit, const std::vector<Open>& all) const {
    auto needed = prerequisite(phase);
    if (!needed) return;
    std::vector<std::string> behind;
    for (const auto& database : all)
      if (database.versions.at(*needed) < unit.number)
        behind.push_back(fmt::format("{} (at {} {:03})", database.target->name, phase_name(*needed),
                                     database.versions.at(*needed)));
    if (!behind.empty())
      throw Error(ErrorKind::out_of_order,
                  fmt::format("{} {} needs {} {} on every database first, but these are behind: {}; run `tandem {}` first",
                              phase_name(phase), unit.version, phase_name(*needed), unit.version, fmt::join(behind, ", "),
                              phase_name(*needed)));
  }

  UnitOutcome dry_run(Open& database, const Unit& unit, bool install_triggers, const RunOptions& options) {
    UnitOutcome outcome{database.target->name, unit.phase, unit.version, unit.name, UnitStatus::dry_run};
    std::vector<TriggerRecord> triggers;
    if (unit.phase == Phase::contract && database.connection) {
      StateStore state(*database.connection);
      if (state.exists()) triggers = state.triggers_of(unit.version);
    }
    for (const auto& step : plan_unit(unit, database.target->role, renderer_for(database.target->url.dialect),
                                      database.simulated, triggers, install_triggers))
      outcome.sql.push_back(step.sql);
    database.versions[unit.phase] = unit.number;
    if (options.on_event) {
      options.on_event(fmt::format("-- {}: {} {} {} ({})", database.target->name, phase_name(unit.phase), unit.version,
                                   unit.name, database.target->url.redacted()));
      for (const auto& statement : outcome.sql) options.on_event(statement + ";");
    }
    return outcome;
  }

  // A connection of its own to the one database of `role`, as a move_rows target: cells
  // moving rows at once (--jobs) must not share one.
  static std::unique_ptr<Connection> peer(const std::vector<Open>& all, const std::string& role) {
    std::vector<const Open*> found;
    for (const auto& database : all)
      if (database.target->role == role) found.push_back(&database);
    if (found.size() != 1)
      throw Error(ErrorKind::bad_config,
                  fmt::format("move_rows needs exactly one database of role '{}' to move rows to; the deployment has {}",
                              role, found.size()));
    auto connection = connect(found.front()->target->url);
    return connection;
  }

  long long last_version(const RunOptions& options) const {
    if (!options.to) return repositories.latest();
    if (!repositories.find(Phase::expand, *options.to))
      throw Error(ErrorKind::usage, fmt::format("--to {}: no such version in {} (the repositories end at {:03})",
                                                *options.to, repositories.root.string(), repositories.latest()));
    return *options.to;
  }

  // The static phase rules hold before any run (DESIGN §5): the dynamic ones cannot see
  // a data change smuggled into expand, for one.
  void check_static_rules() const {
    Findings findings;
    validate_units(repositories, findings);
    std::vector<std::string> errors;
    for (const auto& finding : findings.items())
      if (finding.severity == Severity::error)
        errors.push_back(fmt::format("{}:{}: {}: {}", finding.file, finding.line, finding.code, finding.message));
    if (!errors.empty())
      throw Error(ErrorKind::invalid_unit, fmt::format("the repositories break the phase rules; nothing was run (see "
                                                       "`tandem check`):\n  {}",
                                                       fmt::join(errors, "\n  ")));
  }

  RunReport run(const std::vector<Phase>& phases, const RunOptions& options, bool install_triggers) {
    check_static_rules();
    const long long last = last_version(options);
    check_roles(0, last);
    const auto targets = selected(options);
    auto is_target = [&](const Open& database) {
      return std::find(targets.begin(), targets.end(), database.target) != targets.end();
    };
    std::vector<Open> all = open_all(options, targets);
    check_not_ahead(all);
    for (auto& database : all)
      if (is_target(database)) check_primary_keys(database, all, phases, last);
    if (std::find(phases.begin(), phases.end(), Phase::contract) != phases.end())
      guard_contract_against_releases(all, is_target, last, options);
    RunReport report;
    BatchBudget budget(options.max_count);
    // Events come from several threads with --jobs: one line at a time.
    std::mutex output;
    RunOptions shared = options;
    if (options.on_event)
      shared.on_event = [&](const std::string& line) {
        std::lock_guard<std::mutex> lock(output);
        options.on_event(line);
      };
    if (options.on_progress)
      shared.on_progress = [&](const MigrationFigure& figure) {
        std::lock_guard<std::mutex> lock(output);
        options.on_progress(figure);
      };
    // A migrate that --max-count stopped mid-version on some database ends the run at
    // that version: no database starts the next before it has finished everywhere.
    std::set<const DatabaseTarget*> unfinished;
    for (Phase phase : phases) {
      long long previous = 0;
      for (const auto& version : repositories.versions) {
        if (version.number > last || !unfinished.empty()) break;
        const Unit& unit = version.units.at(phase);
        std::vector<Open*> pending;
        for (auto& database : all)
          if (is_target(database) && database.versions.at(phase) < unit.number) pending.push_back(&database);
        if (!pending.empty()) {
          check_order(phase, unit, all);
          check_previous_finished(phase, unit, previous, all);
          if (options.dry_run)
            for (auto* database : pending) report.units.push_back(dry_run(*database, unit, install_triggers, shared));
          else
            run_version(phase, unit, pending, all, shared, install_triggers, budget, report, unfinished);
        }
        previous = unit.number;
      }
    }
    return report;
  }

  // Where the database requires a primary key on every table tandem touches (a Galera
  // cluster certifies rows by it, DESIGN §14): the tables the pending units of `phases` up
  // to `last` create, change or write rows of, on it or, for move_rows, on its target,
  // followed through the units' own changes. Any without one stops the run before
  // anything is changed, each named.
  void check_primary_keys(Open& database, const std::vector<Open>& all, const std::vector<Phase>& phases,
                          long long last) {
    if (!database.connection) return;
    const auto reason = database.connection->requires_primary_keys();
    if (!reason) return;
    const std::string& role = database.target->role;
    schema::Schema simulated = database.connection->snapshot();
    std::map<std::string, schema::Schema> others;  // move_rows targets, by role
    std::set<std::string> missing;
    const auto check = [&](const schema::Schema& schema, const std::string& table, const std::string& where) {
      const schema::Table* found = schema.find_table(table);
      if (found && found->primary_key().empty()) missing.insert(where + table);
    };
    for (Phase phase : phases)
      for (const auto& version : repositories.versions) {
        if (version.number > last) break;
        const Unit& unit = version.units.at(phase);
        if (database.versions.at(phase) >= unit.number) continue;
        for (const auto& operation : unit.operations) {
          if (unit.role_of(operation) != role) continue;
          // Before the operation (a table it renames) and after it (a table it creates).
          const auto touched = ops::tables_touched(operation);
          for (int after = 0; after < 2; ++after) {
            if (after) std::visit([&](const auto& op) { op.apply(simulated); }, operation.body);
            for (const auto& ref : touched)
              if (ref.database.empty() || ref.database == role) check(simulated, ref.table, "");
          }
          for (const auto& ref : touched) {
            if (ref.database.empty() || ref.database == role) continue;
            if (!others.contains(ref.database)) {
              for (const auto& other : all)
                if (other.target->role == ref.database && other.connection &&
                    other.connection->requires_primary_keys())
                  others[ref.database] = other.connection->snapshot();
            }
            if (auto it = others.find(ref.database); it != others.end())
              check(it->second, ref.table, ref.database + " table ");
          }
        }
      }
    if (missing.empty()) return;
    throw Error(ErrorKind::invalid_unit,
                fmt::format("{} needs a primary key on every table tandem touches ({}), but the units would "
                            "create, change or write these tables without one: {}; nothing was run. Give each a "
                            "primary key (in an earlier unit, or in the create_table's columns) first",
                            database.target->name, *reason, fmt::join(missing, ", ")));
  }

  // Every row of tandem_releases in the databases of the deployment that are open.
  std::vector<ReleaseInstance> releases_of(const std::vector<Open>& all) {
    std::vector<ReleaseInstance> instances;
    for (const auto& database : all) {
      if (!database.connection) continue;
      ReleaseRegistry registry(*database.connection);
      if (!registry.exists()) continue;
      for (auto& instance : registry.instances(database.target->name)) instances.push_back(std::move(instance));
    }
    return instances;
  }

  // DESIGN §15: contract N removes what release N-1 reads, so it waits until no live
  // instance of an older release is left anywhere in the deployment. Checked before any
  // unit runs, so a refusal changes nothing; --ignore-releases runs it and leaves a
  // releases_ignored row in history on every database it contracts.
  template <typename IsTarget>
  void guard_contract_against_releases(std::vector<Open>& all, IsTarget is_target, long long last,
                                       const RunOptions& options) {
    const Unit* first_blocked = nullptr;
    std::vector<ReleaseInstance> blocking;
    const auto instances = releases_of(all);
    if (instances.empty()) return;
    for (const auto& version : repositories.versions) {
      if (version.number > last) break;
      const bool pending = std::any_of(all.begin(), all.end(), [&](const Open& database) {
        return is_target(database) && database.versions.at(Phase::contract) < version.number;
      });
      if (!pending) continue;
      blocking = live_older_than(instances, version.number);
      if (!blocking.empty()) {
        first_blocked = &version.units.at(Phase::contract);
        break;
      }
    }
    if (!first_blocked) return;
    // Named one by one up to ten; a fleet of a thousand is summed up after them.
    std::vector<std::string> lines;
    for (const auto& instance : blocking)
      if (lines.size() < 10) lines.push_back(describe_instance(instance));
    if (blocking.size() > lines.size())
      lines.push_back(fmt::format("and {} more (tandem release list shows them all)", blocking.size() - lines.size()));
    const std::string described = fmt::format("{}", fmt::join(lines, "\n  "));
    if (options.dry_run) {
      if (options.on_event)
        options.on_event(fmt::format("-- contract {} would be refused{}: older releases still run:\n--   {}",
                                     first_blocked->version, options.ignore_releases ? " without --ignore-releases" : "",
                                     fmt::join(lines, "\n--   ")));
      return;
    }
    if (!options.ignore_releases) {
      const long long can_run = first_blocked->number - 1;
      throw Error(ErrorKind::release_running,
                  fmt::format("contract {} would remove what older releases still read, and {} of them still run:\n  "
                              "{}\nnothing was contracted. Stop them (a row goes stale once its ttl has passed since its "
                              "last heartbeat), `tandem release forget SERVICE/INSTANCE` one that will never "
                              "heartbeat again, or run with --ignore-releases{}",
                              first_blocked->version, blocking.size(), described,
                              can_run > 0 && std::any_of(all.begin(), all.end(),
                                                         [&](const Open& database) {
                                                           return is_target(database) &&
                                                                  database.versions.at(Phase::contract) < can_run;
                                                         })
                                  ? fmt::format("; contract --to {:03} can run now", can_run)
                                  : ""));
    }
    for (auto& database : all) {
      if (!is_target(database)) continue;
      StateStore state(*database.connection);
      for (const auto& version : repositories.versions)
        if (version.number >= first_blocked->number && version.number <= last &&
            database.versions.at(Phase::contract) < version.number) {
          const Unit& unit = version.units.at(Phase::contract);
          std::vector<std::string> older;
          for (const auto& instance : live_older_than(instances, version.number))
            older.push_back(describe_instance(instance));
          state.record_releases_ignored(Phase::contract, unit.version, unit.name, unit.checksum,
                                        "run with --ignore-releases while older releases ran: " +
                                            fmt::format("{}", fmt::join(older, "; ")));
        }
    }
  }

  // DESIGN §6: on each selected database, the journaled units that stopped part-way are
  // undone, back to the schema their journal recorded before them, so that an edited unit
  // can run. Each database's plan is made before any of its statements runs: a unit that
  // cannot be undone stops the command with nothing changed there.
  RunReport repair(const RunOptions& options) {
    RunReport report;
    const std::string holder = holder_description();
    for (const auto* target : selected(options)) {
      Open database = open(*target, options.dry_run, options.dry_run);
      if (!database.connection) continue;
      Connection& connection = *database.connection;
      StateStore state(connection);
      if (options.dry_run && !state.exists()) continue;
      if (!options.dry_run) {
        database.lock = connection.lock(options.wait, holder);
        connection.set_lock_timeout(options.lock_timeout);
        state.ensure();
        state.close_dead_runs();
      }
      struct Planned {
        const Unit* unit;
        StateStore::Journal journal;
        std::vector<Step> steps;
      };
      std::vector<Planned> plans;
      for (const auto& version : repositories.versions)
        for (const auto& [phase, unit] : version.units) {
          auto journal = state.journal(phase, unit.version);
          if (!journal) continue;
          const auto triggers = phase == Phase::expand ? state.triggers_of(unit.version) : std::vector<TriggerRecord>{};
          plans.push_back({&unit, *journal,
                           repair_steps(connection.renderer(), unit, target->name, journal->before(), connection.snapshot(), triggers)});
        }
      for (const auto& plan : plans) {
        const Unit& unit = *plan.unit;
        UnitOutcome outcome{target->name, unit.phase, unit.version, unit.name, options.dry_run ? UnitStatus::dry_run : UnitStatus::repaired};
        for (const auto& step : plan.steps) {
          outcome.sql.push_back(step.sql);
          if (options.on_event && options.dry_run) options.on_event(step.sql + ";");
          if (options.dry_run) continue;
          retry_lock_fights(
              options.lock_retries, [&](const Error& error) { return connection.is_lock_timeout(error); },
              [&](std::chrono::milliseconds backoff) {
                if (options.on_event)
                  options.on_event(fmt::format("{}: lost a lock fight, retrying in {} ms", target->name, backoff.count()));
              },
              [&] { connection.execute(step.sql); });
        }
        if (!options.dry_run) {
          if (unit.phase == Phase::expand) state.forget_triggers(unit.version);
          state.forget_journal(unit.phase, unit.version);
          const long long id = state.start_history(unit.phase, unit.version, unit.name, plan.journal.checksum);
          state.finish_history(id, RunStatus::repaired, plan.journal.step,
                               fmt::format("repair undid the {} applied step{} with {} statement{}", plan.journal.step,
                                           plan.journal.step == 1 ? "" : "s", plan.steps.size(),
                                           plan.steps.size() == 1 ? "" : "s"));
          if (options.on_event)
            options.on_event(fmt::format("{}: repaired {} {} {}: {} statement{}", target->name, phase_name(unit.phase),
                                         unit.version, unit.name, plan.steps.size(), plan.steps.size() == 1 ? "" : "s"));
        }
        report.units.push_back(std::move(outcome));
      }
    }
    return report;
  }

  // DESIGN §16: the newest version whose expand ran and whose contract did not, undone on
  // every selected database that expanded it. Everything that could refuse (an operation
  // that cannot be undone, a contract that started, a live release that needs the version)
  // is checked on every database before any of them changes.
  RunReport abort(const RunOptions& options) {
    const auto targets = selected(options);
    auto is_target = [&](const Open& database) {
      return std::find(targets.begin(), targets.end(), database.target) != targets.end();
    };
    std::vector<Open> all = open_all(options, targets);
    check_not_ahead(all);
    // N: the newest expand anywhere, or an abort that stopped part-way (its database may
    // already stand at N-1).
    long long version = 0;
    std::map<const Open*, std::vector<long long>> stopped;
    for (auto& database : all) {
      if (!database.connection) continue;
      StateStore state(*database.connection);
      if (!state.exists()) continue;
      version = std::max(version, database.versions.at(Phase::expand));
      stopped[&database] = state.aborts_in_progress();
      for (long long part_way : stopped[&database]) version = std::max(version, part_way);
    }
    auto resuming = [&](const Open& database) {
      const auto& versions = stopped[&database];
      return std::find(versions.begin(), versions.end(), version) != versions.end();
    };
    const Unit* expand = repositories.find(Phase::expand, version);
    const Unit* migrate = repositories.find(Phase::migrate, version);
    const Unit* contract = repositories.find(Phase::contract, version);
    std::vector<std::string> contracted;
    for (auto& database : all) {
      if (!database.connection || !contract) continue;
      StateStore state(*database.connection);
      if (database.versions.at(Phase::contract) >= version ||
          (state.exists() && state.journal(Phase::contract, contract->version)))
        contracted.push_back(database.target->name);
    }
    const bool all_contracted = std::all_of(all.begin(), all.end(), [&](const Open& database) {
      return database.versions.at(Phase::contract) >= version;
    });
    if (!expand || all_contracted) {
      if (options.to)
        throw Error(ErrorKind::usage, fmt::format("--to {}: no version is in flight (every expanded version has been "
                                                  "contracted), so there is nothing to abort",
                                                  *options.to));
      return {};
    }
    if (options.to && *options.to != version)
      throw Error(ErrorKind::usage,
                  fmt::format("--to {}: the version in flight is {:03} (the newest whose expand ran and whose contract "
                              "did not); abort undoes that one first",
                              *options.to, version));
    // A journaled expand of N+1 stopped part-way holds steps the abort of N knows nothing of.
    if (const Unit* next = repositories.find(Phase::expand, version + 1))
      for (auto& database : all) {
        if (!database.connection) continue;
        StateStore state(*database.connection);
        if (state.exists() && state.journal(Phase::expand, next->version))
          throw Error(ErrorKind::out_of_order,
                      fmt::format("expand {} is half applied on {}: resume it with `tandem expand` (then abort {} "
                                  "first) or undo it with `tandem repair`; nothing was aborted",
                                  next->version, database.target->name, next->version))
              .with_file(next->path);
      }
    if (!contracted.empty())
      throw Error(ErrorKind::out_of_order,
                  fmt::format("contract {} has started on {}: abort can only undo a version before its contract "
                              "starts; nothing was aborted",
                              expand->version, fmt::join(contracted, ", ")));
    guard_abort_against_releases(all, is_target, *expand, options);

    struct Pending {
      Open* database;
      AbortUnits units;
      AbortPlan plan;
    };
    std::vector<Pending> pending;
    std::vector<Error> refusals;
    for (auto& database : all) {
      if (!is_target(database) || !database.connection) continue;
      if (database.versions.at(Phase::expand) < version && !resuming(database)) continue;
      Connection& connection = *database.connection;
      StateStore state(connection);
      const auto migrate_status = state.last_status(Phase::migrate, migrate->version);
      const bool migrated = database.versions.at(Phase::migrate) >= version ||
                            (migrate_status && *migrate_status != RunStatus::aborted);
      AbortUnits units{expand, migrated ? migrate : nullptr};
      const schema::Schema live = connection.snapshot();
      const SqlRenderer& sql = connection.renderer();
      const ops::ReverseContext context{live, connection.kind(), [&](const std::string& table, const std::string& column) {
                                          return !connection
                                                      .query(fmt::format("SELECT 1 FROM {} WHERE {} IS NULL LIMIT 1",
                                                                         sql.quote(table), sql.quote(column)))
                                                      .empty();
                                        }};
      AbortPlan plan = plan_abort(units, database.target->role, context, state.triggers_of(expand->version));
      for (auto& refusal : plan.refusals) refusals.push_back(std::move(refusal));
      pending.push_back({&database, units, std::move(plan)});
    }
    if (!refusals.empty()) {
      std::vector<std::string> lines;
      for (const auto& refusal : refusals) lines.push_back(refusal.describe());
      throw Error(ErrorKind::step_failed, fmt::format("{}\nnothing was aborted", fmt::join(lines, "\n")))
          .with_file(*refusals.front().file(), refusals.front().line());
    }
    // The cells first, then the api database and other single roles.
    std::stable_partition(pending.begin(), pending.end(),
                          [](const Pending& entry) { return entry.database->target->role == roles::cell; });
    RunReport report;
    if (options.dry_run) {
      for (auto& entry : pending) {
        Open& database = *entry.database;
        UnitOutcome outcome{database.target->name, Phase::expand, expand->version, expand->name, UnitStatus::dry_run};
        for (const auto& step : render_abort(entry.plan, database.connection->renderer(), expand->version, database.simulated))
          outcome.sql.push_back(step.sql);
        if (options.on_event) {
          options.on_event(fmt::format("-- {}: abort {} {} ({})", database.target->name, expand->version, expand->name,
                                       database.target->url.redacted()));
          for (const auto& back : entry.plan.move_backs) {
            const auto target = peer(all, back.move->to.database);
            options.on_event(fmt::format("-- first, the rows move_rows moved to {}.{} go back into {} ({} recorded)",
                                         back.move->to.database, back.move->to.table, back.move->from.table,
                                         rows_to_move_back(database.target->name, *target, *back.move, expand->version)));
          }
          for (const auto& statement : outcome.sql) options.on_event(statement + ";");
        }
        report.units.push_back(std::move(outcome));
      }
      return report;
    }
    std::mutex results;
    std::vector<std::string> failures;
    std::optional<Error> first_failure;
    RunSettings settings = settings_for(options);
    if (options.on_event)
      settings.on_event = [&](const std::string& line) {
        std::lock_guard<std::mutex> lock(results);
        options.on_event(line);
      };
    auto run_one = [&](Pending& entry) {
      try {
        UnitOutcome outcome = AbortRunner(*entry.database->connection, *entry.database->target, settings,
                                          [&](const std::string& role) { return peer(all, role); })
                                  .run(entry.units, entry.plan);
        std::lock_guard<std::mutex> lock(results);
        report.units.push_back(std::move(outcome));
      } catch (const Error& error) {
        std::lock_guard<std::mutex> lock(results);
        failures.push_back(fmt::format("{}: {}", entry.database->target->name, error.describe()));
        if (!first_failure) first_failure = error;
      }
    };
    const auto first_single = std::find_if(pending.begin(), pending.end(), [](const Pending& entry) {
      return entry.database->target->role != roles::cell;
    });
    const size_t cells = static_cast<size_t>(first_single - pending.begin());
    std::atomic<size_t> next{0};
    std::vector<std::thread> workers;
    const size_t jobs = std::min<size_t>(std::max(options.jobs, 1), cells);
    for (size_t worker = 0; worker < jobs; ++worker)
      workers.emplace_back([&] {
        for (size_t i = next++; i < cells; i = next++) run_one(pending[i]);
      });
    for (auto& worker : workers) worker.join();
    // The api database keeps what the cells still need until every cell is undone.
    for (size_t i = cells; i < pending.size() && failures.empty(); ++i) run_one(pending[i]);
    if (failures.empty()) return report;
    if (pending.size() == 1) throw *first_failure;
    throw Error(first_failure->kind(),
                fmt::format("abort {} failed on {} database{}; run it again once fixed (it resumes):\n  {}",
                            expand->version, failures.size(), failures.size() == 1 ? "" : "s",
                            fmt::join(failures, "\n  ")));
  }

  // DESIGN §16: an abort of N takes away what release N and newer read, so it waits until
  // none of them runs; --ignore-releases runs it and leaves a releases_ignored row.
  template <typename IsTarget>
  void guard_abort_against_releases(std::vector<Open>& all, IsTarget is_target, const Unit& expand,
                                    const RunOptions& options) {
    const auto blocking = live_at_or_after(releases_of(all), expand.number);
    if (blocking.empty()) return;
    std::vector<std::string> lines;
    for (const auto& instance : blocking)
      if (lines.size() < 10) lines.push_back(describe_instance(instance));
    if (blocking.size() > lines.size())
      lines.push_back(fmt::format("and {} more (tandem release list shows them all)", blocking.size() - lines.size()));
    if (options.dry_run) {
      if (options.on_event)
        options.on_event(fmt::format("-- abort {} would be refused{}: releases that need it still run:\n--   {}",
                                     expand.version, options.ignore_releases ? " without --ignore-releases" : "",
                                     fmt::join(lines, "\n--   ")));
      return;
    }
    if (!options.ignore_releases)
      throw Error(ErrorKind::release_running,
                  fmt::format("abort {} would take away what release {} and newer read, and {} of them still run:\n  "
                              "{}\nnothing was aborted. Roll the application back first (a row goes stale once its "
                              "ttl has passed since its last heartbeat), `tandem release forget SERVICE/INSTANCE` one "
                              "that will never heartbeat again, or run with --ignore-releases",
                              expand.version, expand.version, blocking.size(), fmt::join(lines, "\n  ")));
    for (auto& database : all) {
      if (!is_target(database)) continue;
      StateStore state(*database.connection);
      state.record_releases_ignored(Phase::expand, expand.version, expand.name, expand.checksum,
                                    fmt::format("abort run with --ignore-releases while these ran: {}",
                                                fmt::join(lines, "; ")));
    }
  }

  // Throws when some database of the deployment has not finished `previous`, the version
  // before `unit`, in `phase`: a run narrowed by --database or --cell may bring its
  // databases up to the others, never past them.
  void check_previous_finished(Phase phase, const Unit& unit, long long previous, const std::vector<Open>& all) const {
    std::vector<std::string> behind;
    for (const auto& database : all)
      if (database.versions.at(phase) < previous)
        behind.push_back(fmt::format("{} (at {} {:03})", database.target->name, phase_name(phase),
                                     database.versions.at(phase)));
    if (!behind.empty())
      throw Error(ErrorKind::out_of_order,
                  fmt::format("{} {} waits until {} {:03} has finished on every database, but these are behind: {}; "
                              "run `tandem {}` on them first",
                              phase_name(phase), unit.version, phase_name(phase), previous, fmt::join(behind, ", "),
                              phase_name(phase)));
  }

  // Throws when a database has run a version the repositories do not have (a checkout
  // older than the database): every phase would otherwise find nothing to do.
  void check_not_ahead(const std::vector<Open>& all) const {
    const long long latest = repositories.latest();
    for (const auto& database : all)
      for (Phase phase : kPhases)
        if (database.versions.at(phase) > latest)
          throw Error(ErrorKind::out_of_order,
                      fmt::format("{} is at {} {:03}, ahead of the repositories, which end at {:03} ({}); run from a "
                                  "checkout that has version {:03}; nothing was run",
                                  database.target->name, phase_name(phase), database.versions.at(phase), latest,
                                  repositories.root.string(), database.versions.at(phase)));
  }

  // Runs one version on `pending`: the api database and other single roles first, one
  // after another, then the cells, options.jobs at a time. A failure lets the others
  // finish this version, then stops the run at the version boundary, saying where every
  // database stands.
  void run_version(Phase phase, const Unit& unit, const std::vector<Open*>& pending, std::vector<Open>& all,
                   const RunOptions& options, bool install_triggers, BatchBudget& budget, RunReport& report,
                   std::set<const DatabaseTarget*>& unfinished) {
    std::mutex results;
    std::vector<std::string> failures;
    std::optional<Error> first_failure;
    const RunSettings settings = settings_for(options);
    auto run_one = [&](Open& database) {
      try {
        UnitOutcome outcome = UnitRunner(*database.connection, *database.target, settings, install_triggers, budget,
                                         [&](const std::string& role) { return peer(all, role); })
                                  .run(unit);
        std::lock_guard<std::mutex> lock(results);
        if (outcome.status == UnitStatus::incomplete)
          unfinished.insert(database.target);
        else
          database.versions[phase] = unit.number;
        report.units.push_back(std::move(outcome));
      } catch (const Error& error) {
        std::lock_guard<std::mutex> lock(results);
        failures.push_back(fmt::format("{}: {}", database.target->name, error.describe()));
        if (!first_failure) first_failure = error;
      }
    };
    std::vector<Open*> cells;
    for (auto* database : pending) {
      if (database->target->role == roles::cell) {
        cells.push_back(database);
        continue;
      }
      run_one(*database);
      if (!failures.empty()) break;  // the cells wait for the api database
    }
    if (failures.empty()) {
      std::atomic<size_t> next{0};
      std::vector<std::thread> workers;
      const size_t jobs = std::min<size_t>(std::max(options.jobs, 1), cells.size());
      for (size_t worker = 0; worker < jobs; ++worker)
        workers.emplace_back([&] {
          for (size_t i = next++; i < cells.size(); i = next++) {
            {
              // After a failure, cells not yet started stay at the version boundary.
              std::lock_guard<std::mutex> lock(results);
              if (!failures.empty()) return;
            }
            run_one(*cells[i]);
          }
        });
      for (auto& worker : workers) worker.join();
    }
    if (failures.empty()) return;
    if (all.size() == 1) throw *first_failure;  // one database: its own error, as it was
    std::vector<std::string> standing;
    for (const auto& database : all)
      standing.push_back(fmt::format("{} at {} {:03}", database.target->name, phase_name(phase),
                                     database.versions.at(phase)));
    throw Error(first_failure->kind(),
                fmt::format("{} {} failed on {} database{}; the run stopped at the version boundary ({}):\n  {}",
                            phase_name(phase), unit.version, failures.size(), failures.size() == 1 ? "" : "s",
                            fmt::join(standing, ", "), fmt::join(failures, "\n  ")));
  }

  DatabaseStatus status_of(const DatabaseTarget& target) {
    DatabaseStatus status;
    status.name = target.name;
    status.role = target.role;
    status.url = target.url.redacted();
    status.latest = repositories.latest();
    Open database = open(target, false, true);
    StateStore state(*database.connection);
    const bool has_state = state.exists();
    status.versions = database.versions;
    const auto& v = status.versions;
    if (v.at(Phase::migrate) > v.at(Phase::expand) || v.at(Phase::contract) > v.at(Phase::migrate))
      status.problems.push_back(fmt::format("phases out of order: expand {:03}, migrate {:03}, contract {:03}",
                                            v.at(Phase::expand), v.at(Phase::migrate), v.at(Phase::contract)));
    for (const auto& [phase, version] : v)
      if (version > status.latest)
        status.problems.push_back(fmt::format("{} is at {:03} but the repositories end at {:03}", phase_name(phase),
                                              version, status.latest));
    if (has_state) {
      for (const auto& [key, checksum] : state.applied_checksums())
        if (const Unit* unit = repositories.find(key.first, key.second); unit && unit->checksum != checksum)
          status.problems.push_back(fmt::format("{} was edited after it was applied", unit->path));
      for (const auto& [phase, version] : v) {
        const Unit* unit = repositories.find(phase, version + 1);
        if (!unit) continue;
        const auto journal = state.journal(phase, unit->version);
        if (!journal) continue;
        const std::string line = fmt::format("{} {} is half applied: {} of {} steps done", phase_name(phase),
                                             unit->version, journal->step, journal->step_count());
        if (journal->checksum == unit->checksum)
          status.half_applied.push_back(line + fmt::format("; `tandem {}` resumes it", phase_name(phase)));
        else
          status.problems.push_back(line + fmt::format(", and {} was edited since: run `tandem repair` first",
                                                       unit->path));
      }
      // An abort killed part-way on a database whose DDL commits on its own.
      if (const Unit* expand = repositories.find(Phase::expand, v.at(Phase::expand)))
        if (const auto journal = state.abort_journal(expand->version))
          status.half_applied.push_back(fmt::format("the abort of {} is half done: {} of {} steps; `tandem abort` "
                                                    "resumes it",
                                                    expand->version, journal->step, journal->step_count()));
      for (const auto& [version, when] : state.aborted_versions())
        if (std::stoll(version) > v.at(Phase::expand))
          status.aborted.push_back(fmt::format("version {} was aborted at {}; `tandem expand` runs it again", version,
                                               when));
      for (const auto& trigger : database.connection->snapshot().triggers) {
        if (!schema::is_tandem_trigger(trigger.name)) continue;
        const auto records = state.all_triggers();
        auto record = std::find_if(records.begin(), records.end(),
                                   [&](const auto& entry) { return entry.second.trigger == trigger.name; });
        if (record == records.end() || std::stoll(record->first) <= v.at(Phase::contract))
          status.problems.push_back(fmt::format("tandem trigger {} on {} was left behind", trigger.name, trigger.table));
      }
    }
    if (ReleaseRegistry registry(*database.connection); registry.exists()) status.releases = registry.instances(target.name);
    status.cluster = database.connection->cluster();
    if (!status.problems.empty()) status.readiness = Readiness::out_of_order;
    else if (v.at(Phase::expand) < status.latest) status.readiness = Readiness::expand_needed;
    else if (v.at(Phase::migrate) < status.latest) status.readiness = Readiness::migrate_needed;
    else if (v.at(Phase::contract) < status.latest) status.readiness = Readiness::contract_needed;
    return status;
  }
};

Engine::Engine(Deployment deployment) : impl_(std::make_unique<Impl>()) {
  impl_->repositories = load_repositories_or_throw(deployment.repos);
  impl_->deployment = std::move(deployment);
}

Engine::~Engine() = default;

RunReport Engine::run(Phase phase, const RunOptions& options) { return impl_->run({phase}, options, true); }

RunReport Engine::repair(const RunOptions& options) { return impl_->repair(options); }

RunReport Engine::abort(const RunOptions& options) { return impl_->abort(options); }

RunReport Engine::upgrade(const RunOptions& options) {
  return impl_->run({Phase::expand, Phase::migrate, Phase::contract}, options, false);
}

std::vector<DatabaseStatus> Engine::status(const RunOptions& options) {
  std::vector<DatabaseStatus> result;
  for (const auto* target : impl_->selected(options)) result.push_back(impl_->status_of(*target));
  // Contract is blocked where a live release older than the newest version runs in any
  // database shown (DESIGN §15).
  std::vector<ReleaseInstance> instances;
  for (const auto& database : result) instances.insert(instances.end(), database.releases.begin(), database.releases.end());
  for (auto& database : result)
    if (database.readiness == Readiness::contract_needed && !live_older_than(instances, database.latest).empty())
      database.readiness = Readiness::contract_blocked;
  return result;
}

std::vector<HistoryEntry> Engine::history(const RunOptions& options) {
  std::vector<HistoryEntry> entries;
  for (const auto* target : impl_->selected(options)) {
    auto connection = connect(target->url, Access::read_only);
    StateStore state(*connection);
    if (!state.exists()) continue;
    for (auto entry : state.history()) {
      entry.database = target->name;
      entries.push_back(std::move(entry));
    }
  }
  return entries;
}

long long Engine::latest_version() const { return impl_->repositories.latest(); }

const char* unit_status_name(UnitStatus status) {
  switch (status) {
    case UnitStatus::applied: return "applied";
    case UnitStatus::dry_run: return "dry-run";
    case UnitStatus::incomplete: return "incomplete";
    case UnitStatus::repaired: return "repaired";
    case UnitStatus::aborted: return "aborted";
  }
  return "?";
}

bool RunReport::rows_remain() const {
  return std::any_of(units.begin(), units.end(),
                     [](const UnitOutcome& unit) { return unit.status == UnitStatus::incomplete; });
}

const char* readiness_text(Readiness readiness) {
  switch (readiness) {
    case Readiness::up_to_date: return "up to date";
    case Readiness::out_of_order: return "out of order";
    case Readiness::expand_needed: return "expand needed";
    case Readiness::migrate_needed: return "migrate needed";
    case Readiness::contract_needed: return "contract needed";
    case Readiness::contract_blocked: return "contract needed, but an older release still runs";
  }
  return "?";
}

Readiness overall_readiness(const std::vector<DatabaseStatus>& databases) {
  Readiness result = Readiness::up_to_date;
  auto urgency = [](Readiness r) {
    switch (r) {
      case Readiness::out_of_order: return 5;
      case Readiness::expand_needed: return 4;
      case Readiness::migrate_needed: return 3;
      case Readiness::contract_blocked: return 2;
      case Readiness::contract_needed: return 1;
      case Readiness::up_to_date: return 0;
    }
    return 0;
  };
  for (const auto& database : databases)
    if (urgency(database.readiness) > urgency(result)) result = database.readiness;
  return result;
}

}  // namespace tandem
