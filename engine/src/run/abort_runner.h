// `tandem abort` on one database (DESIGN §16): version N undone before its contract
// starts. Expand N's triggers are dropped, then each operation of migrate N (when it ran)
// and of expand N is reversed, the last first, by the operations its reverse() names.
// Run by the phases' two paths:
// - transactional (SQLite; PostgreSQL when no step needs CONCURRENTLY): the whole abort,
//   bookkeeping included, in one transaction, so a kill leaves the database as before it;
// - journaled (MySQL DDL, PostgreSQL DROP INDEX CONCURRENTLY): the steps planned up front
//   and journaled one by one, so a killed abort resumes at the step where it stopped.
// The dynamic phase rule holds in reverse: the abort may only remove what expand N adds.
#pragma once

#include <string>
#include <vector>

#include "batch/batch_runner.h"
#include "batch/run_settings.h"
#include "dialect/dialect.h"
#include "state/state_store.h"
#include "tandem/deployment.h"
#include "tandem/error.h"
#include "unit/unit.h"

namespace tandem {

// The units of the version being aborted.
struct AbortUnits {
  const Unit* expand = nullptr;
  const Unit* migrate = nullptr;  // null when migrate N did not start on the database
};

// One operation that undoes another, with the unit and line it undoes.
struct Undo {
  const Unit* unit = nullptr;
  int line = 0;
  ops::OperationBody operation;
};

// A move_rows of migrate N (then: delete) whose rows go back into this database.
struct MoveBack {
  const Unit* unit = nullptr;
  int line = 0;
  const ops::MoveRows* move = nullptr;
};

// What undoing version N takes on one database, decided before anything changes.
struct AbortPlan {
  std::vector<MoveBack> move_backs;     // first: the rows, before the schema they may need
  std::vector<TriggerRecord> triggers;  // expand N's, dropped next
  std::vector<Undo> undo;               // in the order they run
  // Why some operation cannot be undone, each naming its unit file and line; an abort
  // with any refuses before it changes anything.
  std::vector<Error> refusals;
};

// The plan for a database of `role`: `context` is its live schema and data.
AbortPlan plan_abort(const AbortUnits& units, const std::string& role, const ops::ReverseContext& context,
                     std::vector<TriggerRecord> triggers);

// The plan's statements, rendered against `schema`, which ends as the abort would leave it.
std::vector<Step> render_abort(const AbortPlan& plan, const SqlRenderer& sql, const std::string& version,
                               schema::Schema& schema);

// The changes from `before` to `after` of an abort of `expand` on a database of `role`
// that the rule in reverse forbids, described: anything but the removal of what `expand`
// adds (its triggers among it) and the return of NOT NULL that it relaxed.
std::vector<std::string> abort_violations(const Unit& expand, const std::string& role, const schema::Schema& before,
                                          const schema::Schema& after, const std::vector<TriggerRecord>& triggers);

class AbortRunner {
 public:
  // `peers`: the databases move_rows moved rows to, for moving them back.
  AbortRunner(Connection& connection, const DatabaseTarget& target, const RunSettings& settings, PeerLookup peers);

  // Undoes `units` by `plan` (made against this database) and sets its state back to
  // N-1: expand, and migrate when it had reached N; history gets an `aborted` row for each.
  UnitOutcome run(const AbortUnits& units, const AbortPlan& plan);

 private:
  // Each move_back's rows back from its target; resumable by the target's records.
  void move_rows_back(const AbortPlan& plan);
  void run_transactional(const AbortUnits& units, const AbortPlan& plan, UnitOutcome& outcome);
  void run_journaled(const AbortUnits& units, const AbortPlan& plan, UnitOutcome& outcome);
  // The state set back, history marked; in the caller's transaction where there is one.
  void finish(const AbortUnits& units, size_t statements);
  void check_rule(const AbortUnits& units, const schema::Schema& before, const std::vector<TriggerRecord>& triggers,
                  bool rolled_back);
  template <typename Attempt>
  void retry_lock_fights(const std::string& what, Attempt attempt);
  void event(const std::string& line) const;

  Connection& connection_;
  const DatabaseTarget& target_;
  const RunSettings& settings_;
  PeerLookup peers_;
  StateStore state_;
};

}  // namespace tandem
