// Online data migration (DESIGN §7): one migrate operation run in small batches while
// the application writes. Batches walk the key (keyset pagination: key > cursor ORDER
// BY key LIMIT n); each batch and its cursor commit together in tandem_progress, so a
// killed run resumes where it stopped. A pass that reaches the end starts a final pass
// from the beginning; the operation is done when a pass changes nothing, so rows
// written behind the cursor while it ran are not forgotten.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dialect/dialect.h"
#include "state/state_store.h"
#include "batch/run_settings.h"
#include "unit/unit.h"

namespace tandem {

// What a run may still do: --max-count across every operation of the run, shared by
// the cells running at once (--jobs).
class BatchBudget {
 public:
  explicit BatchBudget(std::optional<long long> rows) : remaining_(rows) {}
  bool spent() const;
  // The batch size to use now: at most `wanted`, at most what is left.
  int next_batch(int wanted) const;
  void spend(long long rows);

 private:
  mutable std::mutex mutex_;
  std::optional<long long> remaining_;
};

// What one batch does with the rows of its key range. `read` (optional) reads them
// first; `outside` (optional) runs next, outside the source transaction, and returns
// rows it changed elsewhere; `inside` runs in the source transaction that also saves the
// cursor, and returns rows it changed. `first`: the batch starts a pass (no lower bound);
// `bounds`: the parameters of the key range.
struct BatchHandlers {
  std::function<std::vector<Row>(bool first, const std::vector<Value>& bounds)> read;
  std::function<long long(const std::vector<Row>& rows)> outside;
  std::function<long long(const std::vector<Row>& rows, bool first, const std::vector<Value>& bounds)> inside;
};

// A connection of its own to the one database of a role, for a move_rows target; throws
// when the deployment has not exactly one.
using PeerLookup = std::function<std::unique_ptr<Connection>(const std::string& role)>;

class BatchRunner {
 public:
  static constexpr int kDefaultBatchSize = 1000;
  // `database`: the name of the database `connection` reaches (cell1, api), which
  // move_rows records beside each row it moves.
  BatchRunner(Connection& connection, std::string database, StateStore& state, const RunSettings& settings,
              BatchBudget& budget, PeerLookup peers);

  // Runs `plan`, that of operation `index` of `unit` (rendered for `schema`), until it is
  // done or the budget is spent; `figure` gets its totals. Returns whether it is done.
  bool run(const Unit& unit, int index, const ops::Operation& operation, const ops::BatchPlan& plan,
           const schema::Schema& schema, MigrationFigure& figure);

 private:
  // move_rows: each batch is copied into the target (inserted, or updated where a row
  // with its `unique` values holds other content) and committed there first; only then
  // are the source rows deleted, with the cursor, and only those still holding exactly
  // what was copied. A crash in between leaves rows in both places, which the next run
  // copies again and deletes; a row the application changed in between stays in the
  // source for a later pass: nothing lost, nothing doubled, the newer content kept.
  // With then: delete, the target also records which database each row came from, in the
  // copy's transaction, so that an abort can move it back (DESIGN §16).
  bool run_move(const Unit& unit, int index, const ops::Operation& operation, ops::MovePlan plan,
                const schema::Schema& schema, MigrationFigure& figure);
  // The keyset walk every batched operation shares: progress, passes, budget, sleep,
  // and batches retried while they lose lock fights; returns false (rows remain) when
  // one still cannot get its locks after --lock-retries.
  bool walk(const Unit& unit, int index, const ops::KeyWalk& keys_walk, MigrationFigure& figure,
            const BatchHandlers& handlers);
  // The batch size the run starts with: --batch-size, else the operation's `batch:`,
  // else 1000.
  int batch_size(const ops::Operation& operation) const;
  // The duration batches adapt their size to: --batch-time, else, when no size is given
  // (neither --batch-size nor `batch:`), the dialect's default (SQLite's), else none.
  std::optional<std::chrono::milliseconds> batch_time(const ops::Operation& operation) const;
  // Lowers the batch size to what one transaction on `connection` may hold for `table`
  // (a Galera writeset), each batch row writing `writes_per_row` rows there, and says so.
  void fit_batch_size(Connection& connection, const std::string& table, long long writes_per_row,
                      const MigrationFigure& figure);
  // Before each batch: waits while the database asks writers to hold back (Galera flow
  // control), a minute at most, and says so.
  void hold_back(const MigrationFigure& figure);
  // Every statement a batch sends goes through these (TANDEM_TEST_BATCH_SQL records them).
  std::vector<Row> query(Connection& connection, const std::string& sql, const std::vector<Value>& params = {});
  long long update(Connection& connection, const std::string& sql, const std::vector<Value>& params = {});

  Connection& connection_;
  std::string database_;
  StateStore& state_;
  const RunSettings& settings_;
  BatchBudget& budget_;
  PeerLookup peers_;
  // move_rows' target while it runs: its lock waits are retried too.
  Connection* lock_peer_ = nullptr;
  int batch_size_ = 1000;
  // The most rows one batch may hold (fit_batch_size), which --batch-time never exceeds.
  int max_batch_size_ = 100000;
  std::optional<std::chrono::milliseconds> batch_time_;
};

}  // namespace tandem
