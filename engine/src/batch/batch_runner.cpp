#include "batch/batch_runner.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "dialect/lock_retry.h"
#include "run/failpoint.h"
#include "operations/common.h"
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

// One batched operation reduced to what batching needs: the table walked, its key, the
// rows' condition, and the statement that handles the rows of one key range.
struct BatchPlan {
  std::string table;
  std::vector<std::string> key;
  std::optional<std::string> where;
  // SQL for the rows in `range` (a condition on the key with `?` placeholders); it
  // must change, and so count, only rows that still need it.
  std::function<std::string(const std::string& range)> statement;
  // A final pass repeats until a pass changes nothing; copy_rows, whose upserts may
  // count unchanged rows, stops after one final pass.
  int max_passes = 20;
};

std::string key_list(const SqlRenderer& sql, const std::vector<std::string>& key) {
  std::vector<std::string> quoted;
  for (const auto& column : key) quoted.push_back(sql.quote(column));
  return fmt::format("{}", fmt::join(quoted, ", "));
}

// `(a, b) > (?, ?)`, or `a > ?` for a single column.
std::string compare_key(const SqlRenderer& sql, const std::vector<std::string>& key, const char* op) {
  std::vector<std::string> marks(key.size(), "?");
  if (key.size() == 1) return fmt::format("{} {} ?", sql.quote(key[0]), op);
  return fmt::format("({}) {} ({})", key_list(sql, key), op, fmt::join(marks, ", "));
}

std::vector<std::string> key_of(const ops::Operation& operation, const std::string& table, const schema::Schema& schema,
                                 const std::vector<std::string>& declared) {
  if (!declared.empty()) return declared;
  const schema::Table& found = ops::require_table(schema, table, operation.name());
  auto key = found.primary_key();
  if (key.empty())
    throw Error(ErrorKind::step_failed,
                fmt::format("{} on {}: the table has no primary key to walk in batches; give `key:`", operation.name(),
                            table));
  return key;
}

BatchPlan plan_for(const ops::Operation& operation, const SqlRenderer& sql, const schema::Schema& schema,
                   const RenderContext& context) {
  BatchPlan plan;
  std::visit(
      [&](const auto& op) {
        using T = std::decay_t<decltype(op)>;
        if constexpr (std::is_same_v<T, ops::Backfill>) {
          plan.table = op.table;
          plan.key = key_of(operation, op.table, schema, op.key);
          plan.where = op.where;
          plan.statement = [&sql, op, where = op.where](const std::string& range) {
            std::vector<std::string> assignments, changes;
            for (const auto& [column, expression] : op.set) {
              assignments.push_back(fmt::format("{} = {}", sql.quote(column), expression));
              changes.push_back(sql.differs(sql.quote(column), expression));
            }
            return fmt::format("UPDATE {} SET {} WHERE {}{} AND ({})", sql.quote(op.table), fmt::join(assignments, ", "),
                               range, where ? " AND (" + *where + ")" : "", fmt::join(changes, " OR "));
          };
        } else if constexpr (std::is_same_v<T, ops::DeleteRows>) {
          plan.table = op.table;
          plan.key = key_of(operation, op.table, schema, op.key);
          plan.where = op.where;
          plan.statement = [&sql, op](const std::string& range) {
            return fmt::format("DELETE FROM {} WHERE {} AND ({})", sql.quote(op.table), range, op.where);
          };
        } else if constexpr (std::is_same_v<T, ops::CopyRows>) {
          plan.table = op.from;
          plan.key = key_of(operation, op.from, schema, op.key);
          plan.where = op.where;
          plan.max_passes = 2;
          plan.statement = [&sql, op, &context](const std::string& range) {
            ops::CopyRows batch = op;
            batch.key.clear();  // here the key walks the source; the upsert's conflict is the target's
            batch.where = range + (op.where ? " AND (" + *op.where + ")" : "");
            return sql.copy_rows(batch, context);
          };
        } else {
          throw Error(ErrorKind::step_failed, fmt::format("{} cannot run in batches", operation.name()));
        }
      },
      operation.body);
  return plan;
}

}  // namespace

BatchRunner::BatchRunner(Connection& connection, StateStore& state, const RunOptions& options, BatchBudget& budget,
                         PeerLookup peers)
    : connection_(connection), state_(state), options_(options), budget_(budget), peers_(std::move(peers)) {}

bool BatchRunner::run(const Unit& unit, int index, const ops::Operation& operation, const schema::Schema& schema,
                      MigrationFigure& figure) {
  if (const auto* move = std::get_if<ops::MoveRows>(&operation.body)) return run_move(unit, index, *move, schema, figure);
  const SqlRenderer& sql = connection_.renderer();
  const RenderContext context{sql, schema, unit.version, true};
  const BatchPlan plan = plan_for(operation, sql, schema, context);
  return walk(unit, index, plan.table, plan.key, plan.where, {}, plan.max_passes, figure,
              {nullptr, [&](const std::vector<Row>&, const std::string& range, const std::vector<Value>& bounds) {
                 return connection_.update(plan.statement(range), bounds);
               }});
}

bool BatchRunner::run_move(const Unit& unit, int index, const ops::MoveRows& op, const schema::Schema& schema,
                           MigrationFigure& figure) {
  const SqlRenderer& sql = connection_.renderer();
  const auto target_connection = peers_(op.to.database);
  Connection& target = *target_connection;
  target.set_lock_timeout(options_.lock_timeout);
  const SqlRenderer& target_sql = target.renderer();
  const auto key = op.key.empty() ? ops::require_table(schema, op.from.table, "move_rows").primary_key() : op.key;
  if (key.empty())
    throw Error(ErrorKind::step_failed,
                fmt::format("move_rows from {}: the table has no primary key to walk in batches; give `key:`", op.from.table));
  // Each row is read as its key, the moved values (copied into the target) and their
  // stored forms (which the source's delete compares).
  const size_t count = op.columns.size();
  std::vector<std::string> selected, stored, targets, assignments, unique_checks;
  for (const auto& [column, expression] : op.columns) {
    selected.push_back("(" + expression + ")");
    stored.push_back(sql.stored("(" + expression + ")"));
    targets.push_back(target_sql.quote(column));
    assignments.push_back(target_sql.quote(column) + " = ?");
  }
  selected.insert(selected.end(), stored.begin(), stored.end());
  std::vector<size_t> unique_positions;
  for (const auto& column : op.unique) {
    auto it = std::find_if(op.columns.begin(), op.columns.end(), [&](const auto& pair) { return pair.first == column; });
    if (it == op.columns.end())
      throw Error(ErrorKind::step_failed,
                  fmt::format("move_rows {} -> {}: unique column '{}' is not one of its columns", op.from.table,
                              op.to.table, column));
    unique_positions.push_back(static_cast<size_t>(it - op.columns.begin()));
    unique_checks.push_back(fmt::format("{} = ?", target_sql.quote(column)));
  }
  std::vector<std::string> marks(count, "?");
  const std::string find = fmt::format("SELECT {} FROM {} WHERE {}", fmt::join(targets, ", "),
                                       target_sql.quote(op.to.table), fmt::join(unique_checks, " AND "));
  const std::string insert = fmt::format("INSERT INTO {} ({}) VALUES ({})", target_sql.quote(op.to.table),
                                         fmt::join(targets, ", "), fmt::join(marks, ", "));
  const std::string update = fmt::format("UPDATE {} SET {} WHERE {}", target_sql.quote(op.to.table),
                                         fmt::join(assignments, ", "), fmt::join(unique_checks, " AND "));
  BatchHandlers handlers;
  handlers.outside = [&](const std::vector<Row>& rows) {
    long long changed = 0;
    target.begin();
    try {
      for (const auto& row : rows) {
        const auto first = row.begin() + static_cast<long>(key.size());
        std::vector<Value> values(first, first + static_cast<long>(count));
        std::vector<Value> unique_values;
        for (size_t position : unique_positions) unique_values.push_back(values[position]);
        const auto found = target.query(find, unique_values);
        if (found.empty()) {
          changed += target.update(insert, values);
        } else if (found.front() != values) {
          // Copied before: by a run killed before its source delete, or by a batch whose
          // delete found the row changed since. The source holds the newer content.
          values.insert(values.end(), unique_values.begin(), unique_values.end());
          changed += target.update(update, values) > 0;
        }
      }
      target.commit();
    } catch (...) {
      target.rollback();
      throw;
    }
    // A moved row counts once: by its delete, or by its copy when the source keeps it.
    return op.then == "keep" ? changed : 0;
  };
  handlers.inside = [&](const std::vector<Row>& rows, const std::string&, const std::vector<Value>&) -> long long {
    if (op.then == "keep" || rows.empty()) return 0;
    // A source row is deleted only while every moved value still is what the target was
    // given: one the application changed since the read stays, and a later pass (the
    // walk's final passes) copies it again, updating the target, before deleting it.
    std::vector<std::string> same;
    for (const auto& column : key) same.push_back(sql.quote(column) + " = ?");
    for (const auto& form : stored) same.push_back("NOT " + sql.differs(form, "?"));
    const std::string one = fmt::format("({})", fmt::join(same, " AND "));
    const std::string condition = op.where ? " AND (" + *op.where + ")" : "";
    constexpr size_t kRowsPerDelete = 100;
    long long deleted = 0;
    for (size_t begin = 0; begin < rows.size(); begin += kRowsPerDelete) {
      const size_t end = std::min(rows.size(), begin + kRowsPerDelete);
      std::vector<std::string> any(end - begin, one);
      std::vector<Value> params;
      for (size_t i = begin; i < end; ++i) {
        const Row& row = rows[i];
        params.insert(params.end(), row.begin(), row.begin() + static_cast<long>(key.size()));
        params.insert(params.end(), row.end() - static_cast<long>(count), row.end());
      }
      deleted += connection_.update(fmt::format("DELETE FROM {} WHERE ({}){}", sql.quote(op.from.table),
                                                fmt::join(any, " OR "), condition),
                                    params);
    }
    return deleted;
  };
  lock_peer_ = &target;
  const bool done = walk(unit, index, op.from.table, key, op.where, selected, 20, figure, handlers);
  lock_peer_ = nullptr;
  return done;
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

bool BatchRunner::walk(const Unit& unit, int index, const std::string& table_name, const std::vector<std::string>& key_columns,
                       const std::optional<std::string>& where, const std::vector<std::string>& extra_columns,
                       int max_passes, MigrationFigure& figure, const BatchHandlers& handlers) {
  const SqlRenderer& sql = connection_.renderer();
  const std::string table = sql.quote(table_name), key = key_list(sql, key_columns);
  const std::string condition = where ? "(" + *where + ")" : "1 = 1";
  const std::string selected = extra_columns.empty() ? key : key + ", " + fmt::format("{}", fmt::join(extra_columns, ", "));

  auto progress = state_.progress(unit.phase, unit.version, index);
  if (!progress) {
    StateStore::Progress fresh;
    fresh.rows_found =
        std::stoll(connection_.query(fmt::format("SELECT count(*) FROM {} WHERE {}", table, condition)).at(0).at(0).value_or("0"));
    fresh.cursor = nlohmann::json{{"pass", 1}, {"changed", 0}, {"after", nullptr}}.dump();
    state_.save_progress(unit.phase, unit.version, index, fresh);
    progress = fresh;
  }
  figure.needed = progress->rows_found;
  figure.completed = progress->rows_done;
  figure.done = progress->done;
  if (progress->done) return true;

  nlohmann::json cursor = nlohmann::json::parse(progress->cursor);
  int batch_size = options_.batch_size;
  // One batch, or the end of a pass: it changes `cursor` and `progress` only once its
  // transaction has committed, so an attempt that lost a lock fight can start afresh.
  // Returns the rows it changed, or nullopt at the end of a pass.
  auto batch = [&]() -> std::optional<long long> {
    std::vector<Value> after;
    if (!cursor["after"].is_null())
      for (const auto& value : cursor["after"]) after.push_back(value.get<std::string>());
    const std::string lower = after.empty() ? "" : compare_key(sql, key_columns, ">");
    // Keys alone, so the fetch walks the key's index whatever the planner thinks of the
    // unit's condition; the condition applies inside the key range.
    const auto keys = connection_.query(fmt::format("SELECT {} FROM {}{} ORDER BY {} LIMIT {}", key, table,
                                                    lower.empty() ? "" : " WHERE " + lower, key,
                                                    budget_.next_batch(batch_size)),
                                        after);
    if (keys.empty()) {
      // The end of a pass: done when it changed nothing, or nothing matches any more;
      // else a final pass from the start, for rows written behind the cursor.
      const bool settled =
          cursor["changed"].get<long long>() == 0 || cursor["pass"].get<int>() >= max_passes ||
          connection_.query(fmt::format("SELECT 1 FROM {} WHERE {} LIMIT 1", table, condition)).empty();
      const nlohmann::json next = {{"pass", cursor["pass"].get<int>() + 1}, {"changed", 0}, {"after", nullptr}};
      StateStore::Progress saved = *progress;
      saved.cursor = next.dump();
      saved.done = settled;
      state_.save_progress(unit.phase, unit.version, index, saved);
      cursor = next;
      *progress = saved;
      figure.done = settled;
      return std::nullopt;
    }
    std::vector<Value> bounds = after;
    bounds.insert(bounds.end(), keys.back().begin(), keys.back().end());
    const std::string range = (lower.empty() ? "" : lower + " AND ") + compare_key(sql, key_columns, "<=");
    // Operations that read the rows (move_rows) get those of the range that match.
    std::vector<Row> rows;
    if (!extra_columns.empty())
      rows = connection_.query(
          fmt::format("SELECT {} FROM {} WHERE {} AND {} ORDER BY {}", selected, table, range, condition, key), bounds);
    long long changed = 0;
    if (handlers.outside) {
      changed = handlers.outside(rows);
      pause_after_copy();
    }
    connection_.begin();
    try {
      for (const auto& statement : sql.bypass_forbid(true)) connection_.execute(statement);
      changed += handlers.inside(rows, range, bounds);
      for (const auto& statement : sql.bypass_forbid(false)) connection_.execute(statement);
      nlohmann::json next = cursor;
      nlohmann::json last = nlohmann::json::array();
      for (const auto& column : keys.back()) last.push_back(column.value_or(""));
      next["after"] = last;
      next["changed"] = next["changed"].get<long long>() + changed;
      StateStore::Progress saved = *progress;
      saved.cursor = next.dump();
      saved.rows_done += changed;
      state_.save_progress(unit.phase, unit.version, index, saved);
      connection_.commit();
      cursor = next;
      *progress = saved;
    } catch (...) {
      connection_.rollback();
      throw;
    }
    return changed;
  };

  while (!budget_.spent()) {
    const auto batch_started = std::chrono::steady_clock::now();
    std::optional<long long> changed;
    try {
      // A lock wait on either database (the application's row locks, SQLite's write
      // lock) rolls the batch back and retries it with the backoff DDL gets.
      retry_lock_fights(
          options_.lock_retries,
          [&](const Error& error) {
            return connection_.is_lock_timeout(error) || (lock_peer_ && lock_peer_->is_lock_timeout(error));
          },
          [&](std::chrono::milliseconds backoff) {
            if (options_.on_event)
              options_.on_event(fmt::format("{}: {}: a batch waited too long for a lock, retrying in {} ms",
                                            figure.database, figure.migration, backoff.count()));
          },
          [&] { changed = batch(); });
    } catch (const Error& error) {
      if (!connection_.is_lock_timeout(error) && !(lock_peer_ && lock_peer_->is_lock_timeout(error))) throw;
      // Rows remain and nothing is half done: migrate exits 1, to be run again.
      if (options_.on_event)
        options_.on_event(fmt::format("{}: {}: still waiting for locks after {} retries, stopping with rows left: {}",
                                      figure.database, figure.migration, options_.lock_retries, error.what()));
      return false;
    }
    if (!changed) {
      if (progress->done) {
        if (options_.on_progress) options_.on_progress(figure);
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
    if (options_.batch_time) {
      // Toward the target duration, at most doubling or halving at a time.
      const double factor = std::clamp(static_cast<double>(options_.batch_time->count()) / std::max(batch_ms, 1.0), 0.5, 2.0);
      batch_size = std::clamp(static_cast<int>(batch_size * factor), 10, 100000);
    }
    if (options_.on_progress) options_.on_progress(figure);
    if (options_.sleep.count() > 0) std::this_thread::sleep_for(options_.sleep);
  }
  return false;
}

}  // namespace tandem
