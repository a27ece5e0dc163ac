#include "run/repair.h"

#include <fmt/format.h>

#include <algorithm>

#include "tandem/error.h"
#include "tandem/schema_diff.h"

namespace tandem {

namespace {

// The order the additions are undone in: what depends on others goes first.
int undo_rank(schema::ObjectKind object) {
  switch (object) {
    case schema::ObjectKind::trigger:
    case schema::ObjectKind::function: return 0;
    case schema::ObjectKind::view: return 1;
    case schema::ObjectKind::foreign_key:
    case schema::ObjectKind::check: return 2;
    case schema::ObjectKind::unique_constraint: return 3;
    case schema::ObjectKind::index: return 4;
    case schema::ObjectKind::column: return 5;
    case schema::ObjectKind::table: return 6;
  }
  return 7;
}

}  // namespace

std::vector<Step> repair_steps(const SqlRenderer& sql, const Unit& unit, const std::string& database,
                               const schema::Schema& before, const schema::Schema& live,
                               const std::vector<TriggerRecord>& triggers) {
  auto changes = schema::diff(before, live, {.detect_renames = false});
  for (const auto& change : changes)
    if (change.change != schema::ChangeKind::add)
      throw Error(ErrorKind::step_failed,
                  fmt::format("cannot repair version {} {} on {}: since it started, the schema also {}, which repair "
                              "cannot undo (it only removes what the unit added); restore it by hand, then run "
                              "repair again; nothing was changed",
                              unit.version, phase_name(unit.phase), database, change.describe()))
          .with_file(unit.path);
  std::stable_sort(changes.begin(), changes.end(),
                   [](const auto& a, const auto& b) { return undo_rank(a.object) < undo_rank(b.object); });
  std::vector<Step> steps;
  for (const auto& record : triggers)
    for (auto& step : sql.drop_trigger(record)) steps.push_back(std::move(step));
  const RenderContext context{sql, live, unit.version, false};
  auto add = [&](std::vector<Step> more) {
    for (auto& step : more) steps.push_back(std::move(step));
  };
  for (const auto& change : changes) {
    switch (change.object) {
      case schema::ObjectKind::trigger:
      case schema::ObjectKind::function: break;  // the unit's own are in `triggers`
      case schema::ObjectKind::view: add(sql.drop_view({change.name}, context)); break;
      case schema::ObjectKind::foreign_key:
      case schema::ObjectKind::check:
      case schema::ObjectKind::unique_constraint: add(sql.drop_constraint({change.table, change.name}, context)); break;
      case schema::ObjectKind::index: add(sql.drop_index({change.table, change.name}, context)); break;
      case schema::ObjectKind::column:
        // A column of a table the unit created goes with its table.
        if (before.find_table(change.table)) add(sql.drop_column({change.table, change.name}, context));
        break;
      case schema::ObjectKind::table: add(sql.drop_table({change.name}, context)); break;
    }
  }
  return steps;
}

}  // namespace tandem
