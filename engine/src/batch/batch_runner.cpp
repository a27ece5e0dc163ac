#include "batch/batch_runner.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <thread>

#include "operations/common.h"
#include "tandem/error.h"

namespace tandem {

int BatchBudget::next_batch(int wanted) const {
  if (!remaining_) return wanted;
  return static_cast<int>(std::min<long long>(wanted, std::max<long long>(*remaining_, 0)));
}

void BatchBudget::spend(long long rows) {
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

BatchRunner::BatchRunner(Connection& connection, StateStore& state, const RunOptions& options, BatchBudget& budget)
    : connection_(connection), state_(state), options_(options), budget_(budget) {}

bool BatchRunner::run(const Unit& unit, int index, const ops::Operation& operation, const schema::Schema& schema,
                      MigrationFigure& figure) {
  const SqlRenderer& sql = connection_.renderer();
  const RenderContext context{sql, schema, unit.version, true};
  const BatchPlan plan = plan_for(operation, sql, schema, context);
  const std::string table = sql.quote(plan.table), key = key_list(sql, plan.key);
  const std::string condition = plan.where ? "(" + *plan.where + ")" : "1 = 1";

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
  while (!budget_.spent()) {
    const int limit = budget_.next_batch(options_.batch_size);
    std::vector<Value> after;
    if (!cursor["after"].is_null())
      for (const auto& value : cursor["after"]) after.push_back(value.get<std::string>());
    const std::string lower = after.empty() ? "" : compare_key(sql, plan.key, ">") + " AND ";
    const auto keys = connection_.query(
        fmt::format("SELECT {} FROM {} WHERE {}{} ORDER BY {} LIMIT {}", key, table, lower, condition, key, limit), after);
    if (keys.empty()) {
      // The end of a pass: done when it changed nothing, else a final pass from the start.
      const bool settled = cursor["changed"].get<long long>() == 0 || cursor["pass"].get<int>() >= plan.max_passes;
      cursor = {{"pass", cursor["pass"].get<int>() + 1}, {"changed", 0}, {"after", nullptr}};
      progress->cursor = cursor.dump();
      if (settled) {
        progress->done = true;
        state_.save_progress(unit.phase, unit.version, index, *progress);
        figure.done = true;
        return true;
      }
      state_.save_progress(unit.phase, unit.version, index, *progress);
      continue;
    }
    std::vector<Value> bounds = after;
    for (const auto& column : keys.back()) bounds.push_back(column);
    const std::string range = lower + compare_key(sql, plan.key, "<=");
    long long changed = 0;
    connection_.begin();
    try {
      for (const auto& statement : sql.bypass_forbid(true)) connection_.execute(statement);
      changed = connection_.update(plan.statement(range), bounds);
      for (const auto& statement : sql.bypass_forbid(false)) connection_.execute(statement);
      nlohmann::json last = nlohmann::json::array();
      for (const auto& column : keys.back()) last.push_back(column.value_or(""));
      cursor["after"] = last;
      cursor["changed"] = cursor["changed"].get<long long>() + changed;
      progress->cursor = cursor.dump();
      progress->rows_done += changed;
      state_.save_progress(unit.phase, unit.version, index, *progress);
      connection_.commit();
    } catch (...) {
      connection_.rollback();
      throw;
    }
    budget_.spend(static_cast<long long>(keys.size()));
    figure.completed = progress->rows_done;
    if (options_.sleep.count() > 0) std::this_thread::sleep_for(options_.sleep);
  }
  return false;
}

}  // namespace tandem
