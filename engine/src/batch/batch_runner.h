// Online data migration (DESIGN §7): one migrate operation run in small batches while
// the application writes. Batches walk the key (keyset pagination: key > cursor ORDER
// BY key LIMIT n); each batch and its cursor commit together in tandem_progress, so a
// killed run resumes where it stopped. A pass that reaches the end starts a final pass
// from the beginning; the operation is done when a pass changes nothing, so rows
// written behind the cursor while it ran are not forgotten.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "dialect/dialect.h"
#include "state/state_store.h"
#include "tandem/engine.h"
#include "unit/unit.h"

namespace tandem {

// What a run may still do: --max-count across every operation of the run.
class BatchBudget {
 public:
  explicit BatchBudget(std::optional<long long> rows) : remaining_(rows) {}
  bool spent() const { return remaining_ && *remaining_ <= 0; }
  // The batch size to use now: at most `wanted`, at most what is left.
  int next_batch(int wanted) const;
  void spend(long long rows);

 private:
  std::optional<long long> remaining_;
};

class BatchRunner {
 public:
  BatchRunner(Connection& connection, StateStore& state, const RunOptions& options, BatchBudget& budget);

  // Runs operation `index` of `unit` (a backfill, copy_rows or delete_rows) until it is
  // done or the budget is spent; `figure` gets its totals. Returns whether it is done.
  bool run(const Unit& unit, int index, const ops::Operation& operation, const schema::Schema& schema,
           MigrationFigure& figure);

 private:
  Connection& connection_;
  StateStore& state_;
  const RunOptions& options_;
  BatchBudget& budget_;
};

}  // namespace tandem
