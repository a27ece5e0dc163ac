// Runs one unit on one database, by one of two paths:
// - transactional: the whole unit, its bookkeeping included, in one transaction
//   (SQLite; PostgreSQL units without CONCURRENTLY), so a failure or a kill leaves the
//   database exactly as before the unit;
// - journaled: where steps cannot share a transaction (MySQL DDL, PostgreSQL
//   CONCURRENTLY) the unit's steps are planned up front and journaled one by one, so a
//   killed run resumes at the step where it stopped, re-running it idempotently.
// DDL that loses a lock fight is retried with backoff.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "batch/batch_runner.h"
#include "dialect/dialect.h"
#include "state/state_store.h"
#include "tandem/deployment.h"
#include "unit/unit.h"

namespace tandem {

// A step as a journal stores it, and back.
nlohmann::json step_to_json(const Step& step);
Step step_from_json(const nlohmann::json& in);

// The unit's steps for a database of `role`, rendered against `schema` (simulated as the
// unit goes: `schema` ends as the unit would leave it), starting with the removal of
// `triggers_to_drop` (contract). Shared by real runs and dry runs.
std::vector<Step> plan_unit(const Unit& unit, const std::string& role, const SqlRenderer& sql, schema::Schema& schema,
                            const std::vector<TriggerRecord>& triggers_to_drop, bool install_triggers);

class UnitRunner {
 public:
  UnitRunner(Connection& connection, const DatabaseTarget& target, const RunSettings& settings, bool install_triggers,
             BatchBudget& budget, PeerLookup peers);

  UnitOutcome run(const Unit& unit);

 private:
  void run_transactional(const Unit& unit, UnitOutcome& outcome);
  void run_journaled(const Unit& unit, UnitOutcome& outcome);
  // Migrate: each data operation in batches that commit with their cursor; the unit is
  // marked migrated only when every one is done.
  void run_batched(const Unit& unit, UnitOutcome& outcome);
  std::vector<Step> plan(const Unit& unit, schema::Schema& schema);
  // Runs `attempt`, retrying it with backoff while it loses lock fights.
  template <typename Attempt>
  void retry_lock_fights(const std::string& what, Attempt attempt);
  // Throws when what the unit changed breaks its phase's rule; `rolled_back` says
  // whether the failure will undo the unit.
  void check_phase_rule(const Unit& unit, const schema::Schema& before, bool rolled_back);
  // Expand on a cluster: the triggers it created through one node are on every node
  // (DESIGN §14); throws naming a node that lacks one, warns of a node it cannot ask.
  void check_triggers_on_every_node(const Unit& unit);
  void event(const std::string& line) const;

  Connection& connection_;
  const DatabaseTarget& target_;
  const RunSettings& settings_;
  bool install_triggers_;
  BatchBudget& budget_;
  PeerLookup peers_;
  StateStore state_;
};

}  // namespace tandem
