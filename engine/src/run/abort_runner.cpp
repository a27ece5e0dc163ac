#include "run/abort_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <tuple>

#include "batch/move_back.h"
#include "dialect/lock_retry.h"
#include "failpoint.h"
#include "run/journaled_steps.h"
#include "run/unit_runner.h"
#include "schema_json.h"
#include "tandem/schema_diff.h"

namespace tandem {

namespace {

std::vector<Step> render_undo(const Undo& undo, const SqlRenderer& sql, const std::string& version,
                              const schema::Schema& schema) {
  try {
    return std::visit([&](const auto& op) { return op.render({sql, schema, version, false}); }, undo.operation);
  } catch (Error& error) {
    if (!error.file()) error.with_file(undo.unit->path, undo.line);
    throw;
  }
}

// What a change is about, for matching a removal with what expand adds: constraints and
// indexes by their table and kind only, since a database may name them otherwise than the
// unit (SQLite's foreign keys have no names).
using ObjectKey = std::tuple<schema::ObjectKind, std::string, std::string>;
ObjectKey key_of(const schema::SchemaChange& change) {
  switch (change.object) {
    case schema::ObjectKind::table:
    case schema::ObjectKind::column:
    case schema::ObjectKind::view:
    case schema::ObjectKind::trigger:
    case schema::ObjectKind::function: return {change.object, change.table, change.name};
    default: return {change.object, change.table, ""};
  }
}

}  // namespace

AbortPlan plan_abort(const AbortUnits& units, const std::string& role, const ops::ReverseContext& context,
                     std::vector<TriggerRecord> triggers) {
  AbortPlan plan;
  plan.triggers = std::move(triggers);
  // Migrate N's data goes back before the schema it lives in.
  for (const Unit* unit : {units.migrate, units.expand}) {
    if (!unit) continue;
    for (auto operation = unit->operations.rbegin(); operation != unit->operations.rend(); ++operation) {
      if (unit->role_of(*operation) != role) continue;
      ops::Reversal reversal = operation->reverse(context);
      if (reversal.moves_rows_back) {
        plan.move_backs.push_back({unit, operation->line, &std::get<ops::MoveRows>(operation->body)});
        continue;
      }
      if (reversal.refusal) {
        plan.refusals.push_back(
            Error(ErrorKind::step_failed,
                  fmt::format("version {} cannot be aborted: {} {} ({}): {}", unit->version, phase_name(unit->phase),
                              operation->name(), operation->describe(), *reversal.refusal))
                .with_file(unit->path, operation->line));
        continue;
      }
      for (auto& undo : reversal.undo) plan.undo.push_back({unit, operation->line, std::move(undo)});
    }
  }
  return plan;
}

std::vector<Step> render_abort(const AbortPlan& plan, const SqlRenderer& sql, const std::string& version,
                               schema::Schema& schema) {
  std::vector<Step> steps;
  for (const auto& record : plan.triggers) {
    for (auto& step : sql.drop_trigger(record)) steps.push_back(std::move(step));
    // Gone before anything else renders: a table rebuilt later must not bring it back.
    std::erase_if(schema.triggers, [&](const auto& trigger) { return trigger.name == record.trigger; });
    std::erase_if(schema.functions, [&](const auto& function) { return function.name == record.function; });
  }
  for (const auto& undo : plan.undo) {
    for (auto& step : render_undo(undo, sql, version, schema)) steps.push_back(std::move(step));
    std::visit([&](const auto& op) { op.apply(schema); }, undo.operation);
  }
  return steps;
}

std::vector<std::string> abort_violations(const Unit& expand, const std::string& role, const schema::Schema& before,
                                          const schema::Schema& after, const std::vector<TriggerRecord>& triggers) {
  // What expand N adds is what it would add to the schema the abort left.
  schema::Schema expanded = after;
  for (const auto& operation : expand.operations)
    if (expand.role_of(operation) == role) std::visit([&](const auto& op) { op.apply(expanded); }, operation.body);
  std::set<ObjectKey> added;
  std::set<ObjectKey> relaxed;
  for (const auto& change : schema::diff(after, expanded, {.detect_renames = false})) {
    if (change.change == schema::ChangeKind::add) added.insert(key_of(change));
    if (change.change == schema::ChangeKind::modify && (change.what & schema::kNullabilityRelaxed))
      relaxed.insert(key_of(change));
  }
  std::set<std::string> installed;
  for (const auto& record : triggers) {
    installed.insert(record.trigger);
    if (!record.function.empty()) installed.insert(record.function);
  }
  const std::string own_prefix = fmt::format("tandem_{}_", expand.version);
  std::vector<std::string> violations;
  for (const auto& change : schema::diff(before, after, {.detect_renames = false})) {
    // By its record, or by its name where a killed abort forgot the records already.
    const bool own_trigger = (change.object == schema::ObjectKind::trigger ||
                              change.object == schema::ObjectKind::function) &&
                             (installed.contains(change.name) || change.name.starts_with(own_prefix));
    if (change.change == schema::ChangeKind::drop && (own_trigger || added.contains(key_of(change)))) continue;
    if (change.change == schema::ChangeKind::modify && change.what == schema::kNullabilityTightened &&
        relaxed.contains(key_of(change)))
      continue;
    violations.push_back(change.describe());
  }
  return violations;
}

AbortRunner::AbortRunner(Connection& connection, const DatabaseTarget& target, const RunSettings& settings,
                         PeerLookup peers)
    : connection_(connection), target_(target), settings_(settings), peers_(std::move(peers)), state_(connection) {}

void AbortRunner::move_rows_back(const AbortPlan& plan) {
  for (const auto& back : plan.move_backs) {
    try {
      const auto peer = peers_(back.move->to.database);
      peer->set_lock_timeout(settings_.lock_timeout);
      const long long rows = tandem::move_rows_back(connection_, target_.name, *peer, *back.move, back.unit->version,
                                                    settings_.on_event);
      event(fmt::format("{}: {} row{} back from {}.{}", target_.name, rows, rows == 1 ? "" : "s",
                        back.move->to.database, back.move->to.table));
    } catch (Error& error) {
      if (!error.file()) error.with_file(back.unit->path, back.line);
      throw;
    }
  }
}

void AbortRunner::event(const std::string& line) const {
  if (settings_.on_event) settings_.on_event(line);
}

template <typename Attempt>
void AbortRunner::retry_lock_fights(const std::string& what, Attempt attempt) {
  tandem::retry_lock_fights(
      settings_.lock_retries, [&](const Error& error) { return connection_.is_lock_timeout(error); },
      [&](std::chrono::milliseconds backoff) {
        event(fmt::format("{}: lost a lock fight, retrying {} in {} ms", target_.name, what, backoff.count()));
      },
      attempt);
}

UnitOutcome AbortRunner::run(const AbortUnits& units, const AbortPlan& plan) {
  const Unit& expand = *units.expand;
  const auto started = std::chrono::steady_clock::now();
  UnitOutcome outcome{target_.name, Phase::expand, expand.version, expand.name, UnitStatus::aborted};
  event(fmt::format("{}: abort {} {} ...", target_.name, expand.version, expand.name));
  move_rows_back(plan);
  bool journaled = state_.abort_journal(expand.version).has_value() || !connection_.transactional_ddl();
  if (!journaled) {
    schema::Schema simulated = connection_.snapshot();
    for (const auto& step : render_abort(plan, connection_.renderer(), expand.version, simulated))
      journaled |= !step.transactional;
  }
  if (journaled) {
    run_journaled(units, plan, outcome);
  } else {
    retry_lock_fights("the abort", [&] {
      outcome.sql.clear();
      run_transactional(units, plan, outcome);
    });
  }
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  event(fmt::format("{}: abort {} {} done in {:.2f}s", target_.name, expand.version, expand.name, outcome.seconds));
  return outcome;
}

void AbortRunner::check_rule(const AbortUnits& units, const schema::Schema& before,
                             const std::vector<TriggerRecord>& triggers, bool rolled_back) {
  const auto violations = abort_violations(*units.expand, target_.role, before, connection_.snapshot(), triggers);
  if (violations.empty()) return;
  throw Error(ErrorKind::step_failed,
              fmt::format("the abort of version {} broke the rule in reverse on {} (it may only remove what expand {} "
                          "added){}: {}",
                          units.expand->version, target_.name, units.expand->version,
                          rolled_back ? " and was rolled back"
                                      : " (its DDL cannot be rolled back here: repair the schema by hand)",
                          fmt::join(violations, "; ")))
      .with_file(units.expand->path);
}

void AbortRunner::run_transactional(const AbortUnits& units, const AbortPlan& plan, UnitOutcome& outcome) {
  const auto& sql = connection_.renderer();
  int step_count = 0;
  connection_.begin();
  try {
    const schema::Schema before = connection_.snapshot();
    auto run_step = [&](const Step& step) {
      failpoint::reach(failpoint::Moment::before, failpoint::Site::step, step_count + 1);
      connection_.execute(step.sql);
      outcome.sql.push_back(step.sql);
      ++step_count;
      failpoint::reach(failpoint::Moment::after, failpoint::Site::step, step_count);
    };
    for (const auto& record : plan.triggers)
      for (const auto& step : sql.drop_trigger(record)) run_step(step);
    for (const auto& undo : plan.undo) {
      // Rendered against the live schema, so a step sees what the previous ones did.
      const schema::Schema current = connection_.snapshot();
      for (const auto& step : render_undo(undo, sql, units.expand->version, current)) {
        try {
          run_step(step);
        } catch (Error& error) {
          if (!error.file()) error.with_file(undo.unit->path, undo.line);
          throw;
        }
      }
    }
    check_rule(units, before, plan.triggers, true);
    finish(units, outcome.sql.size());
    connection_.commit();
  } catch (const Error&) {
    connection_.rollback();
    throw;
  }
}

void AbortRunner::run_journaled(const AbortUnits& units, const AbortPlan& plan, UnitOutcome& outcome) {
  const Unit& expand = *units.expand;
  auto journal = state_.abort_journal(expand.version);
  const bool resuming = journal.has_value();
  if (!resuming) {
    const schema::Schema before = connection_.snapshot();
    schema::Schema simulated = before;
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& step : render_abort(plan, connection_.renderer(), expand.version, simulated))
      steps.push_back(step_to_json(step));
    journal = StateStore::Journal{expand.checksum, 0, steps.dump(), nlohmann::json(before).dump()};
    state_.save_abort_journal(expand.version, *journal);
  } else {
    event(fmt::format("{}: resuming the abort of {} at step {}", target_.name, expand.version, journal->step + 1));
  }
  std::vector<Step> steps;
  for (const auto& step : nlohmann::json::parse(journal->plan)) steps.push_back(step_from_json(step));
  JournaledSteps run{connection_, settings_, target_.name, expand.path, resuming};
  run.apply = [&](const Step& step, bool) { connection_.execute(step.sql); };
  run.record = [&](const Step&, int done) { state_.abort_journal_step(expand.version, done); };
  int index = journal->step;
  run_journaled_steps(run, steps, index, outcome.sql);
  check_rule(units, journal->before(), plan.triggers, false);
  if (connection_.transactional_ddl()) connection_.begin();
  finish(units, steps.size());
  state_.forget_abort_journal(expand.version);
  if (connection_.transactional_ddl()) connection_.commit();
}

void AbortRunner::finish(const AbortUnits& units, size_t statements) {
  const Unit& expand = *units.expand;
  const long long previous = expand.number - 1;
  const auto versions = state_.versions();
  const std::string note = fmt::format("abort undid version {} with {} statement{}", expand.version, statements,
                                       statements == 1 ? "" : "s");
  state_.forget_triggers(expand.version);
  state_.forget_journal(Phase::expand, expand.version);
  // Rows moved here from the cells: they went back before this database's turn.
  state_.forget_moved(expand.version);
  if (units.migrate) {
    state_.forget_progress(Phase::migrate, units.migrate->version);
    state_.forget_journal(Phase::migrate, units.migrate->version);
    if (versions.at(Phase::migrate) > previous) state_.set_version(Phase::migrate, previous);
    if (state_.last_status(Phase::migrate, units.migrate->version) != RunStatus::aborted)
      state_.record_aborted(Phase::migrate, units.migrate->version, units.migrate->name, units.migrate->checksum, note);
  }
  if (versions.at(Phase::expand) > previous) state_.set_version(Phase::expand, previous);
  if (state_.last_status(Phase::expand, expand.version) != RunStatus::aborted)
    state_.record_aborted(Phase::expand, expand.version, expand.name, expand.checksum, note);
}

}  // namespace tandem
