#include "run/unit_runner.h"

#include <fmt/format.h>

#include <chrono>

#include "dialect/lock_retry.h"
#include "run/data_rule.h"
#include "run/journaled_steps.h"
#include "failpoint.h"
#include "run/phase_rules.h"
#include "schema_json.h"
#include "tandem/error.h"
#include "tandem/schema_diff.h"

namespace tandem {

namespace {

std::vector<Step> render(const Unit& unit, const ops::Operation& operation, const RenderContext& context) {
  try {
    return std::visit([&](const auto& op) { return op.render(context); }, operation.body);
  } catch (Error& error) {
    if (!error.file()) error.with_file(unit.path, operation.line);
    throw;
  }
}

// Marks the run failed where the database still answers; where it does not (the lost
// connection is the failure), the error to report stays the run's own, not this write's.
void record_failed(StateStore& state, long long history_id, int step, const Error& error) {
  try {
    state.finish_history(history_id, RunStatus::failed, step, error.describe());
  } catch (const Error&) {
    // The next run, under the lock, marks the row interrupted.
  }
}

}  // namespace

nlohmann::json step_to_json(const Step& step) {
  nlohmann::json installs = nlohmann::json::array();
  for (const auto& record : step.installs)
    installs.push_back({{"trigger", record.trigger}, {"table", record.table}, {"function", record.function}});
  return {{"sql", step.sql},
          {"transactional", step.transactional},
          {"rebuilds_table", step.rebuilds_table},
          {"builds_index", step.builds_index},
          {"index_table", step.index_table},
          {"copies_table", step.copies_table},
          {"installs", installs}};
}

Step step_from_json(const nlohmann::json& in) {
  Step step(in.at("sql").get<std::string>(), in.value("transactional", true));
  step.rebuilds_table = in.value("rebuilds_table", false);
  step.builds_index = in.value("builds_index", "");
  step.index_table = in.value("index_table", "");
  step.copies_table = in.value("copies_table", "");
  for (const auto& record : in.value("installs", nlohmann::json::array()))
    step.installs.push_back({record.value("trigger", ""), record.value("table", ""), record.value("function", "")});
  return step;
}

std::vector<Step> plan_unit(const Unit& unit, const std::string& role, const SqlRenderer& sql, schema::Schema& schema,
                            const std::vector<TriggerRecord>& triggers_to_drop, bool install_triggers) {
  std::vector<Step> steps;
  for (const auto& record : triggers_to_drop)
    for (auto& step : sql.drop_trigger(record)) steps.push_back(std::move(step));
  for (const auto& operation : unit.operations) {
    if (unit.role_of(operation) != role) continue;
    for (auto& step : render(unit, operation, {sql, schema, unit.version, install_triggers})) steps.push_back(std::move(step));
    std::visit([&](const auto& op) { op.apply(schema); }, operation.body);
  }
  return steps;
}

UnitRunner::UnitRunner(Connection& connection, const DatabaseTarget& target, const RunSettings& settings,
                       bool install_triggers, BatchBudget& budget, PeerLookup peers)
    : connection_(connection),
      target_(target),
      settings_(settings),
      install_triggers_(install_triggers),
      budget_(budget),
      peers_(std::move(peers)),
      state_(connection) {}

void UnitRunner::event(const std::string& line) const {
  if (settings_.on_event) settings_.on_event(line);
}

std::vector<Step> UnitRunner::plan(const Unit& unit, schema::Schema& schema) {
  const auto triggers = unit.phase == Phase::contract ? state_.triggers_of(unit.version) : std::vector<TriggerRecord>{};
  return plan_unit(unit, target_.role, connection_.renderer(), schema, triggers, install_triggers_);
}

template <typename Attempt>
void UnitRunner::retry_lock_fights(const std::string& what, Attempt attempt) {
  tandem::retry_lock_fights(
      settings_.lock_retries, [&](const Error& error) { return connection_.is_lock_timeout(error); },
      [&](std::chrono::milliseconds backoff) {
        event(fmt::format("{}: lost a lock fight, retrying {} in {} ms", target_.name, what, backoff.count()));
      },
      attempt);
}

void UnitRunner::check_phase_rule(const Unit& unit, const schema::Schema& before, bool rolled_back) {
  // Renames the unit declares are taken as given, so a renamed table whose columns
  // also changed is judged as altered, not as dropped and added.
  schema::Schema renamed = before;
  for (const auto& operation : unit.operations)
    if (unit.role_of(operation) == target_.role &&
        (std::holds_alternative<ops::RenameTable>(operation.body) ||
         std::holds_alternative<ops::RenameColumn>(operation.body)))
      std::visit([&](const auto& op) { op.apply(renamed); }, operation.body);
  const auto violations = phase_violations(unit.phase, schema::diff(renamed, connection_.snapshot()));
  if (violations.empty()) return;
  throw Error(ErrorKind::step_failed,
              fmt::format("version {} broke the {} rule on {}{}: {}", unit.version, phase_name(unit.phase), target_.name,
                          rolled_back ? " and was rolled back" : " (its DDL cannot be rolled back here; the unit is "
                                                                 "marked failed: repair by hand)",
                          fmt::join(violations, "; ")))
      .with_file(unit.path);
}

UnitOutcome UnitRunner::run(const Unit& unit) {
  const auto started = std::chrono::steady_clock::now();
  UnitOutcome outcome{target_.name, unit.phase, unit.version, unit.name, UnitStatus::applied};
  event(fmt::format("{}: {} {} {} ...", target_.name, phase_name(unit.phase), unit.version, unit.name));
  if (unit.phase == Phase::migrate) {
    run_batched(unit, outcome);
    outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    event(fmt::format("{}: migrate {} {} {} in {:.2f}s", target_.name, unit.version, unit.name,
                      outcome.status == UnitStatus::incomplete ? "stopped at --max-count" : "done", outcome.seconds));
    return outcome;
  }
  const auto journal = state_.journal(unit.phase, unit.version);
  bool journaled = journal.has_value() || !connection_.transactional_ddl();
  if (!journaled) {
    schema::Schema simulated = connection_.snapshot();
    for (const auto& step : plan(unit, simulated)) journaled |= !step.transactional;
  }
  if (journaled) {
    run_journaled(unit, outcome);
  } else {
    retry_lock_fights("the unit", [&] {
      outcome.sql.clear();
      run_transactional(unit, outcome);
    });
  }
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  event(fmt::format("{}: {} {} {} done in {:.2f}s", target_.name, phase_name(unit.phase), unit.version, unit.name,
                    outcome.seconds));
  return outcome;
}

void UnitRunner::check_triggers_on_every_node(const Unit& unit) {
  if (unit.phase != Phase::expand) return;
  std::vector<std::string> triggers;
  for (const auto& record : state_.triggers_of(unit.version)) triggers.push_back(record.trigger);
  for (const auto& line : connection_.require_triggers_on_every_node(triggers))
    event(fmt::format("{}: warning: {}", target_.name, line));
}

void UnitRunner::run_transactional(const Unit& unit, UnitOutcome& outcome) {
  const auto& sql = connection_.renderer();
  int step_count = 0;
  connection_.begin();
  try {
    const schema::Schema before = connection_.snapshot();
    const long long history_id = state_.start_history(unit.phase, unit.version, unit.name, unit.checksum);
    auto run_step = [&](const Step& step) {
      failpoint::reach(failpoint::Moment::before, failpoint::Site::step, step_count + 1);
      execute_under_data_rule(connection_, unit, target_.name, step, true);
      outcome.sql.push_back(step.sql);
      for (const auto& record : step.installs) state_.record_trigger(unit.version, record);
      ++step_count;
      failpoint::reach(failpoint::Moment::after, failpoint::Site::step, step_count);
    };
    if (unit.phase == Phase::contract) {
      // Contract N starts by removing every trigger expand N installed.
      for (const auto& record : state_.triggers_of(unit.version))
        for (const auto& step : sql.drop_trigger(record)) run_step(step);
      state_.forget_triggers(unit.version);
      // Past contract N there is no abort of N to move rows back for.
      state_.forget_moved(unit.version);
    }
    for (const auto& operation : unit.operations) {
      if (unit.role_of(operation) != target_.role) continue;
      // Rendered against the live schema, so a step sees what the previous ones did.
      const schema::Schema current = connection_.snapshot();
      for (const auto& step : render(unit, operation, {sql, current, unit.version, install_triggers_})) {
        try {
          run_step(step);
        } catch (Error& error) {
          error.with_file(unit.path, operation.line);
          throw;
        }
      }
    }
    check_phase_rule(unit, before, true);
    check_triggers_on_every_node(unit);
    state_.set_version(unit.phase, unit.number);
    state_.finish_history(history_id, RunStatus::done, step_count, std::nullopt);
    connection_.commit();
  } catch (const Error& error) {
    connection_.rollback();
    if (!connection_.is_lock_timeout(error)) {
      try {
        state_.record_failure(unit.phase, unit.version, unit.name, unit.checksum, step_count, error.describe());
      } catch (const Error&) {
        // The database may be what failed; the error itself says why.
      }
    }
    throw;
  }
}

void UnitRunner::run_journaled(const Unit& unit, UnitOutcome& outcome) {
  auto journal = state_.journal(unit.phase, unit.version);
  // A journal at step 0 whose run recorded its failure has changed nothing: plan afresh, so
  // a database repaired by hand since is judged from what it is now. One whose run died
  // (killed, or its connection lost) is resumed: the server may have finished the first step.
  const bool resuming = journal && journal->checksum == unit.checksum &&
                        (journal->step > 0 || state_.last_status(unit.phase, unit.version) == RunStatus::interrupted);
  if (journal && !resuming && journal->step > 0) {
    // Undone by hand since (the schema is back to what it was before the unit): the
    // edited unit starts afresh. Otherwise its applied steps would be run over.
    if (!schema::diff(journal->before(), connection_.snapshot()).empty())
      throw Error(ErrorKind::checksum_mismatch,
                  fmt::format("version {} {} stopped part-way on {} with {} of its {} steps applied, and the unit was "
                              "edited since; restore the file to resume at step {}, or run `tandem repair` to undo the "
                              "applied steps (or undo them by hand) so the edited unit can run",
                              unit.version, phase_name(unit.phase), target_.name, journal->step,
                              journal->step_count(), journal->step + 1))
          .with_file(unit.path);
  }
  if (!resuming) {
    const schema::Schema before = connection_.snapshot();
    schema::Schema simulated = before;
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& step : plan(unit, simulated)) steps.push_back(step_to_json(step));
    journal = StateStore::Journal{unit.checksum, 0, steps.dump(), nlohmann::json(before).dump()};
    state_.save_journal(unit.phase, unit.version, *journal);
  } else {
    event(fmt::format("{}: resuming {} {} at step {}", target_.name, phase_name(unit.phase), unit.version,
                      journal->step + 1));
  }
  const long long history_id = state_.start_history(unit.phase, unit.version, unit.name, unit.checksum);
  std::vector<Step> steps;
  for (const auto& step : nlohmann::json::parse(journal->plan)) steps.push_back(step_from_json(step));
  int index = journal->step;
  try {
    JournaledSteps run{connection_, settings_, target_.name, unit.path, resuming};
    run.apply = [&](const Step& step, bool in_transaction) {
      if (auto how = execute_under_data_rule(connection_, unit, target_.name, step, in_transaction))
        event(fmt::format("{}: {}", target_.name, *how));
    };
    run.record = [&](const Step& step, int done) {
      for (const auto& record : step.installs) state_.record_trigger(unit.version, record);
      state_.journal_step(unit.phase, unit.version, done);
    };
    run_journaled_steps(run, steps, index, outcome.sql);
    check_phase_rule(unit, journal->before(), false);
    check_triggers_on_every_node(unit);
  } catch (const Error& error) {
    record_failed(state_, history_id, index, error);
    throw;
  }
  if (connection_.transactional_ddl()) connection_.begin();
  if (unit.phase == Phase::contract) {
    state_.forget_triggers(unit.version);
    state_.forget_moved(unit.version);
  }
  state_.set_version(unit.phase, unit.number);
  state_.finish_history(history_id, RunStatus::done, index, std::nullopt);
  state_.forget_journal(unit.phase, unit.version);
  if (connection_.transactional_ddl()) connection_.commit();
}

void UnitRunner::run_batched(const Unit& unit, UnitOutcome& outcome) {
  const auto& sql = connection_.renderer();
  const schema::Schema before = connection_.snapshot();
  const long long history_id = state_.start_history(unit.phase, unit.version, unit.name, unit.checksum);
  bool complete = true;
  try {
    for (size_t index = 0; index < unit.operations.size() && complete; ++index) {
      const ops::Operation& operation = unit.operations[index];
      if (unit.role_of(operation) != target_.role) continue;
      const int position = static_cast<int>(index);
      const RenderContext context{sql, before, unit.version, install_triggers_};
      std::optional<ops::BatchPlan> plan;
      try {
        plan = ops::batch_plan(operation, context);
      } catch (Error& error) {
        if (!error.file()) error.with_file(unit.path, operation.line);
        throw;
      }
      if (!plan) {
        // Raw SQL cannot be batched: it runs once, in one transaction with its mark.
        if (auto progress = state_.progress(unit.phase, unit.version, position); progress && progress->done) continue;
        connection_.begin();
        try {
          for (const auto& statement : sql.bypass_forbid(true)) connection_.execute(statement);
          for (const auto& step : render(unit, operation, context)) {
            connection_.execute(step.sql);
            outcome.sql.push_back(step.sql);
          }
          for (const auto& statement : sql.bypass_forbid(false)) connection_.execute(statement);
          // Judged before it commits, so a schema change is rolled back where DDL can be.
          check_phase_rule(unit, before, connection_.transactional_ddl());
          state_.save_progress(unit.phase, unit.version, position, {"{}", 0, 0, true});
          connection_.commit();
        } catch (Error& error) {
          connection_.rollback();
          if (!error.file()) error.with_file(unit.path, operation.line);
          throw;
        }
        continue;
      }
      MigrationFigure figure{target_.name, fmt::format("{} {}", unit.version, operation.describe())};
      try {
        complete =
            BatchRunner(connection_, target_.name, state_, settings_, budget_, peers_).run(unit, position, operation, *plan, before, figure);
      } catch (Error& error) {
        if (!error.file()) error.with_file(unit.path, operation.line);
        throw;
      }
      outcome.migrations.push_back(figure);
    }
    if (complete) check_phase_rule(unit, before, false);
  } catch (const Error& error) {
    record_failed(state_, history_id, 0, error);
    throw;
  }
  if (!complete) {
    state_.finish_history(history_id, RunStatus::incomplete, 0, std::nullopt);
    outcome.status = UnitStatus::incomplete;
    return;
  }
  connection_.begin();
  state_.set_version(unit.phase, unit.number);
  state_.finish_history(history_id, RunStatus::done, 0, std::nullopt);
  connection_.commit();
}

}  // namespace tandem
