#include "batch/move_back.h"

#include <fmt/format.h>

#include "failpoint.h"
#include "state/state_store.h"
#include "tandem/error.h"

namespace tandem {

namespace {

constexpr size_t kRowsPerBatch = 500;

// The statements, each in its own database's dialect.
struct MoveBackPlan {
  std::string read;            // target: the moved columns of one row, by its unique values
  std::string find;            // source: a row with those unique values
  std::string insert, update;  // source: the values (then the unique values, for update)
  std::string remove;          // target: the row, by its unique values
};

MoveBackPlan plan_of(const ops::MoveRows& move, const SqlRenderer& source, const SqlRenderer& target) {
  std::vector<std::string> target_columns, source_columns, marks, assignments, target_unique, source_unique;
  for (const auto& [column, expression] : move.columns) {
    const std::string from = ops::MoveRows::source_column(expression);
    target_columns.push_back(target.quote(column));
    source_columns.push_back(source.quote(from));
    marks.push_back("?");
    assignments.push_back(source.quote(from) + " = ?");
  }
  for (const auto& column : move.unique) {
    target_unique.push_back(target.quote(column) + " = ?");
    for (const auto& [moved, expression] : move.columns)
      if (moved == column) source_unique.push_back(source.quote(ops::MoveRows::source_column(expression)) + " = ?");
  }
  const std::string to_table = target.quote(move.to.table), from_table = source.quote(move.from.table);
  MoveBackPlan plan;
  plan.read = fmt::format("SELECT {} FROM {} WHERE {}", fmt::join(target_columns, ", "), to_table,
                          fmt::join(target_unique, " AND "));
  plan.find = fmt::format("SELECT 1 FROM {} WHERE {}", from_table, fmt::join(source_unique, " AND "));
  plan.insert = fmt::format("INSERT INTO {} ({}) VALUES ({})", from_table, fmt::join(source_columns, ", "),
                            fmt::join(marks, ", "));
  plan.update = fmt::format("UPDATE {} SET {} WHERE {}", from_table, fmt::join(assignments, ", "),
                            fmt::join(source_unique, " AND "));
  plan.remove = fmt::format("DELETE FROM {} WHERE {}", to_table, fmt::join(target_unique, " AND "));
  return plan;
}

}  // namespace

long long rows_to_move_back(const std::string& source_name, Connection& target, const ops::MoveRows& move,
                            const std::string& version) {
  try {
    return StateStore(target).count_moved(version, move.to.table, source_name);
  } catch (const Error&) {
    return 0;  // no tandem_moved_rows there yet: nothing was recorded
  }
}

long long move_rows_back(Connection& source, const std::string& source_name, Connection& target,
                         const ops::MoveRows& move, const std::string& version,
                         const std::function<void(const std::string&)>& on_event) {
  const MoveBackPlan plan = plan_of(move, source.renderer(), target.renderer());
  StateStore records(target);
  records.ensure_moved_rows();
  long long moved = 0;
  for (int batch = 1;; ++batch) {
    const std::vector<Row> keys = records.moved_rows(version, move.to.table, source_name, kRowsPerBatch);
    if (keys.empty()) break;
    std::vector<Row> rows;
    for (const auto& key : keys) {
      auto found = target.query(plan.read, key);
      // Gone from the target: the new release deleted it in the window.
      if (!found.empty()) rows.push_back(std::move(found.front()));
    }
    source.begin();
    try {
      for (const auto& row : rows) {
        std::vector<Value> unique;
        for (const auto& column : move.unique)
          for (size_t i = 0; i < move.columns.size(); ++i)
            if (move.columns[i].first == column) unique.push_back(row[i]);
        if (source.query(plan.find, unique).empty()) {
          source.update(plan.insert, row);
        } else {
          // Copied back before, by an abort killed before it deleted the target's rows.
          std::vector<Value> params = row;
          params.insert(params.end(), unique.begin(), unique.end());
          source.update(plan.update, params);
        }
      }
      failpoint::reach(failpoint::Moment::before, failpoint::Site::batch, batch);
      source.commit();
    } catch (...) {
      source.rollback();
      throw;
    }
    // The hardest moment: the rows are in both databases.
    failpoint::reach(failpoint::Moment::after, failpoint::Site::batch, batch);
    target.begin();
    try {
      for (const auto& key : keys) {
        if (!records.moved_from_elsewhere(version, move.to.table, source_name, key)) target.update(plan.remove, key);
        records.forget_moved(version, move.to.table, source_name, key);
      }
      target.commit();
    } catch (...) {
      target.rollback();
      throw;
    }
    moved += static_cast<long long>(rows.size());
    if (on_event)
      on_event(fmt::format("{}: moved {} row{} back from {}.{} into {}", source_name, rows.size(),
                           rows.size() == 1 ? "" : "s", move.to.database, move.to.table, move.from.table));
  }
  return moved;
}

}  // namespace tandem
