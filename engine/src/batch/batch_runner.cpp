#include "batch/batch_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "batch/batch_cursor.h"
#include "dialect/lock_retry.h"
#include "overloaded.h"
#include "failpoint.h"
#include "tandem/error.h"

namespace tandem {

bool BatchBudget::spent() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return remaining_ && *remaining_ <= 0;
}

int BatchBudget::next_batch(int wanted) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!remaining_) return wanted;
  return static_cast<int>(std::min<long long>(wanted, std::max<long long>(*remaining_, 0)));
}

void BatchBudget::spend(long long rows) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (remaining_) *remaining_ -= rows;
}

namespace {

// Test hook: with TANDEM_TEST_BATCH_SQL set to a path, every statement a batch sends is
// appended to that file, one a line, so a test can compare them with a dry run's.
void record_statement(const std::string& sql) {
  static const char* path = std::getenv("TANDEM_TEST_BATCH_SQL");
  if (!path) return;
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  std::ofstream(path, std::ios::app) << sql << "\n";
}

}  // namespace

BatchRunner::BatchRunner(Connection& connection, std::string database, StateStore& state, const RunSettings& settings,
                         BatchBudget& budget, PeerLookup peers)
    : connection_(connection),
      database_(std::move(database)),
      state_(state),
      settings_(settings),
      budget_(budget),
      peers_(std::move(peers)) {}

std::vector<Row> BatchRunner::query(Connection& connection, const std::string& sql, const std::vector<Value>& params) {
  record_statement(sql);
  return connection.query(sql, params);
}

long long BatchRunner::update(Connection& connection, const std::string& sql, const std::vector<Value>& params) {
  record_statement(sql);
  return connection.update(sql, params);
}

int BatchRunner::batch_size(const ops::Operation& operation) const {
  if (settings_.batch_size) return *settings_.batch_size;
  if (const auto* backfill = std::get_if<ops::Backfill>(&operation.body); backfill && backfill->batch)
    return *backfill->batch;
  return kDefaultBatchSize;
}

std::optional<std::chrono::milliseconds> BatchRunner::batch_time(const ops::Operation& operation) const {
  if (settings_.batch_time) return settings_.batch_time;
  const auto* backfill = std::get_if<ops::Backfill>(&operation.body);
  if (settings_.batch_size || (backfill && backfill->batch)) return std::nullopt;
  return connection_.default_batch_time();
}

bool BatchRunner::run(const Unit& unit, int index, const ops::Operation& operation, const ops::BatchPlan& plan,
                      const schema::Schema& schema, MigrationFigure& figure) {
  batch_size_ = batch_size(operation);
  batch_time_ = batch_time(operation);
  max_batch_size_ = 100000;
  return std::visit(
      Overloaded{[&](const ops::RangePlan& range) {
                   fit_batch_size(connection_, range.walk.table, 1, figure);
                   return walk(unit, index, range.walk, figure,
                               {nullptr, nullptr,
                                [&](const std::vector<Row>&, bool first, const std::vector<Value>& bounds) {
                                  return update(connection_, first ? range.first_batch : range.next_batch, bounds);
                                }});
                 },
                 [&](const ops::MovePlan& move) { return run_move(unit, index, operation, move, schema, figure); }},
      plan);
}

bool BatchRunner::run_move(const Unit& unit, int index, const ops::Operation& operation, ops::MovePlan plan,
                           const schema::Schema& schema, MigrationFigure& figure) {
  const auto target_connection = peers_(plan.target_role);
  Connection& target = *target_connection;
  target.set_lock_timeout(settings_.lock_timeout);
  if (target.kind() != connection_.kind()) {
    // The target's statements in the target's dialect.
    const auto there = ops::batch_plan(operation, {target.renderer(), schema, unit.version, true});
    const auto& moved = std::get<ops::MovePlan>(*there);
    plan.find = moved.find;
    plan.insert = moved.insert;
    plan.update = moved.update;
  }
  // The source's transaction deletes the batch's rows; the target's inserts them, and
  // records each one's origin unless the source keeps it.
  fit_batch_size(connection_, plan.walk.table, 1, figure);
  fit_batch_size(target, plan.target_table, plan.keep ? 1 : 2, figure);
  const size_t key_size = plan.walk.key.size(), count = plan.values;
  StateStore moved(target);
  if (!plan.keep) moved.ensure_moved_rows();
  BatchHandlers handlers;
  handlers.read = [&](bool first, const std::vector<Value>& bounds) {
    return query(connection_, first ? plan.first_read : plan.next_read, bounds);
  };
  handlers.outside = [&](const std::vector<Row>& rows) {
    long long changed = 0;
    std::vector<Row> keys;
    target.begin();
    try {
      for (const auto& row : rows) {
        const auto values_begin = row.begin() + static_cast<long>(key_size);
        std::vector<Value> values(values_begin, values_begin + static_cast<long>(count));
        std::vector<Value> unique_values;
        for (size_t position : plan.unique_positions) unique_values.push_back(values[position]);
        const auto found = query(target, plan.find, unique_values);
        if (found.empty()) {
          changed += update(target, plan.insert, values);
        } else if (found.front() != values) {
          // Copied before: by a run killed before its source delete, or by a batch whose
          // delete found the row changed since. The source holds the newer content.
          values.insert(values.end(), unique_values.begin(), unique_values.end());
          changed += update(target, plan.update, values) > 0;
        }
        if (!plan.keep) keys.push_back(std::move(unique_values));
      }
      moved.record_moved(unit.version, plan.target_table, database_, keys);
      target.commit();
    } catch (...) {
      target.rollback();
      throw;
    }
    // A moved row counts once: by its delete, or by its copy when the source keeps it.
    return plan.keep ? changed : 0;
  };
  handlers.inside = [&](const std::vector<Row>& rows, bool, const std::vector<Value>&) -> long long {
    if (plan.keep || rows.empty()) return 0;
    long long deleted = 0;
    for (size_t begin = 0; begin < rows.size(); begin += ops::MovePlan::kRowsPerDelete) {
      const size_t end = std::min(rows.size(), begin + ops::MovePlan::kRowsPerDelete);
      std::vector<Value> params;
      for (size_t i = begin; i < end; ++i) {
        const Row& row = rows[i];
        params.insert(params.end(), row.begin(), row.begin() + static_cast<long>(key_size));
        params.insert(params.end(), row.end() - static_cast<long>(count), row.end());
      }
      deleted += update(connection_, plan.source_delete(end - begin), params);
    }
    return deleted;
  };
  lock_peer_ = &target;
  const bool done = walk(unit, index, plan.walk, figure, handlers);
  lock_peer_ = nullptr;
  return done;
}

void BatchRunner::fit_batch_size(Connection& connection, const std::string& table, long long writes_per_row,
                                 const MigrationFigure& figure) {
  const auto limit = connection.batch_row_limit(table);
  if (!limit) return;
  const int fits = static_cast<int>(std::clamp<long long>(*limit / writes_per_row, 1, max_batch_size_));
  max_batch_size_ = fits;
  if (batch_size_ <= fits) return;
  if (settings_.on_event)
    settings_.on_event(fmt::format("{}: {}: a batch of {} rows would write more than one transaction may hold on {} "
                                   "for table {}; batches of {} rows instead",
                                   figure.database, figure.migration, batch_size_, connection.describe(), table, fits));
  batch_size_ = fits;
}

void BatchRunner::hold_back(const MigrationFigure& figure) {
  auto reason = connection_.asks_to_hold_back();
  if (!reason) return;
  if (settings_.on_event)
    settings_.on_event(fmt::format("{}: {}: {}; batches wait", figure.database, figure.migration, *reason));
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + std::chrono::minutes(1);
  while (reason && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    reason = connection_.asks_to_hold_back();
  }
  const auto waited =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  if (settings_.on_event)
    settings_.on_event(fmt::format("{}: {}: batches go on after waiting {} ms{}", figure.database, figure.migration,
                                   waited, reason ? ", still held back" : ""));
}

namespace {

// For tests that need the application's writes to land exactly between a batch's copy
// (committed elsewhere) and its source transaction: with TANDEM_TEST_PAUSE_AFTER_COPY
// set to a path, a batch there creates <path>.reached and waits (at most a minute) until
// <path>.go exists.
void pause_after_copy() {
  const char* path = std::getenv("TANDEM_TEST_PAUSE_AFTER_COPY");
  if (!path) return;
  const std::filesystem::path reached = std::string(path) + ".reached", go = std::string(path) + ".go";
  std::ofstream{reached};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!std::filesystem::exists(go) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

}  // namespace

bool BatchRunner::walk(const Unit& unit, int index, const ops::KeyWalk& keys_walk, MigrationFigure& figure,
                       const BatchHandlers& handlers) {
  const SqlRenderer& sql = connection_.renderer();
  auto progress = state_.progress(unit.phase, unit.version, index);
  if (!progress) {
    StateStore::Progress fresh;
    fresh.rows_found = std::stoll(query(connection_, keys_walk.count).at(0).at(0).value_or("0"));
    fresh.cursor = BatchCursor{}.dump();
    state_.save_progress(unit.phase, unit.version, index, fresh);
    progress = fresh;
  }
  figure.needed = progress->rows_found;
  figure.completed = progress->rows_done;
  figure.done = progress->done;
  if (progress->done) return true;

  BatchCursor cursor = BatchCursor::parse(progress->cursor);
  int batch_size = batch_size_;
  // One batch, or the end of a pass: it changes `cursor` and `progress` only once its
  // transaction has committed, so an attempt that lost a lock fight can start afresh.
  // Returns the rows it changed, or nullopt at the end of a pass.
  auto batch = [&]() -> std::optional<long long> {
    const bool first = cursor.at_start();
    std::vector<Value> params = cursor.after;
    const int wanted = budget_.next_batch(batch_size);
    params.push_back(std::to_string(keys_walk.last_key_only ? wanted - 1 : wanted));
    auto keys = query(connection_, first ? keys_walk.first_keys : keys_walk.next_keys, params);
    if (keys.empty() && keys_walk.last_key_only)
      keys = query(connection_, first ? keys_walk.first_tail : keys_walk.next_tail, cursor.after);
    if (keys.empty()) {
      // The end of a pass: done when it changed nothing, or nothing matches any more;
      // else a final pass from the start, for rows written behind the cursor.
      const bool settled = cursor.changed == 0 || cursor.pass >= keys_walk.max_passes ||
                           query(connection_, keys_walk.any_left).empty();
      const BatchCursor next = cursor.next_pass();
      StateStore::Progress saved = *progress;
      saved.cursor = next.dump();
      saved.done = settled;
      state_.save_progress(unit.phase, unit.version, index, saved);
      cursor = next;
      *progress = saved;
      figure.done = settled;
      return std::nullopt;
    }
    std::vector<Value> bounds = cursor.after;
    bounds.insert(bounds.end(), keys.back().begin(), keys.back().end());
    // Operations that read the rows (move_rows) get those of the range that match.
    std::vector<Row> rows;
    if (handlers.read) rows = handlers.read(first, bounds);
    long long changed = 0;
    if (handlers.outside) {
      changed = handlers.outside(rows);
      pause_after_copy();
    }
    connection_.begin();
    try {
      for (const auto& statement : sql.bypass_forbid(true)) connection_.execute(statement);
      changed += handlers.inside(rows, first, bounds);
      for (const auto& statement : sql.bypass_forbid(false)) connection_.execute(statement);
      BatchCursor next = cursor;
      next.after = keys.back();
      next.changed += changed;
      StateStore::Progress saved = *progress;
      saved.cursor = next.dump();
      saved.rows_done += changed;
      state_.save_progress(unit.phase, unit.version, index, saved);
      failpoint::reach(failpoint::Moment::before, failpoint::Site::batch, static_cast<int>(figure.batches) + 1);
      connection_.commit();
      cursor = next;
      *progress = saved;
    } catch (...) {
      connection_.rollback();
      throw;
    }
    return changed;
  };

  // The dialect may relax what many small commits cost for the walk's length.
  const BatchWalk walk_scope(connection_);
  const auto lost_lock_fight = [&](const Error& error) {
    return connection_.is_lock_timeout(error) || (lock_peer_ && lock_peer_->is_lock_timeout(error));
  };
  const auto too_large = [&](const Error& error) {
    return connection_.is_transaction_too_large(error) || (lock_peer_ && lock_peer_->is_transaction_too_large(error));
  };
  while (!budget_.spent()) {
    hold_back(figure);
    const auto batch_started = std::chrono::steady_clock::now();
    std::optional<long long> changed;
    try {
      // A lock wait on either database (the application's row locks, SQLite's write
      // lock) rolls the batch back and retries it with the backoff DDL gets.
      // On a Galera cluster a batch that lost certification to another node's commit
      // fails as a deadlock, rolled back whole: it is retried the same way.
      std::string lost;
      retry_lock_fights(
          settings_.lock_retries, [&](const Error& error) {
            if (!lost_lock_fight(error)) return false;
            lost = error.what();
            return true;
          },
          [&](std::chrono::milliseconds backoff) {
            if (settings_.on_event)
              settings_.on_event(fmt::format("{}: {}: a batch lost a lock fight ({}), retrying in {} ms",
                                            figure.database, figure.migration, lost, backoff.count()));
          },
          [&] { changed = batch(); });
    } catch (const Error& error) {
      if (too_large(error) && batch_size > 1) {
        // More rows than foreseen (triggers' writes): the rolled-back batch runs again smaller.
        batch_size = std::max(1, batch_size / 2);
        max_batch_size_ = std::min(max_batch_size_, batch_size);
        if (settings_.on_event)
          settings_.on_event(fmt::format("{}: {}: a batch wrote more than one transaction may hold ({}); batches of {} "
                                         "rows instead",
                                         figure.database, figure.migration, error.what(), batch_size));
        continue;
      }
      if (!lost_lock_fight(error)) throw;
      // Rows remain and nothing is half done: migrate exits 1, to be run again.
      if (settings_.on_event)
        settings_.on_event(fmt::format("{}: {}: still waiting for locks after {} retries, stopping with rows left: {}",
                                      figure.database, figure.migration, settings_.lock_retries, error.what()));
      return false;
    }
    if (!changed) {
      if (progress->done) {
        if (settings_.on_progress) settings_.on_progress(figure);
        return true;
      }
      continue;
    }
    // --max-count counts rows migrated, as nova-manage's online data migrations do.
    budget_.spend(*changed);
    figure.completed = progress->rows_done;
    ++figure.batches;
    failpoint::reach(failpoint::Moment::after, failpoint::Site::batch, figure.batches);
    const double batch_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - batch_started).count();
    figure.longest_batch_ms = std::max(figure.longest_batch_ms, batch_ms);
    if (batch_time_) {
      // Toward the target duration, at most doubling or halving at a time.
      const double factor = std::clamp(static_cast<double>(batch_time_->count()) / std::max(batch_ms, 1.0), 0.5, 2.0);
      batch_size = std::clamp(static_cast<int>(batch_size * factor), std::min(10, max_batch_size_), max_batch_size_);
    }
    if (settings_.on_progress) settings_.on_progress(figure);
    const auto pause = std::max(settings_.sleep, connection_.writer_pause(std::chrono::milliseconds(
                                                     static_cast<long long>(batch_ms))));
    if (pause.count() > 0) std::this_thread::sleep_for(pause);
  }
  return false;
}

}  // namespace tandem
