// inspect and compare: a live database brought to the canonical form of its dialect,
// printed back in portable types, or diffed against a model brought to the same form.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "dialect/dialect.h"
#include "model/normalize.h"
#include "tandem/model.h"

namespace tandem {

namespace {

schema::Schema canonical_live(Connection& connection) {
  schema::Schema live = connection.snapshot();
  const auto& dialect = normalizer_for(connection.kind());
  dialect.resolve_live(live, connection);
  return model::canonical(live, dialect);
}

}  // namespace

schema::Schema inspect_database(const DatabaseUrl& url) {
  auto connection = connect(url, Access::read_only);
  const auto& dialect = normalizer_for(url.dialect);
  schema::Schema live = canonical_live(*connection);
  // By name, whatever order the catalog gives: two inspections diff cleanly.
  auto by_name = [](auto& items) {
    std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  };
  schema::Schema model;
  for (auto& table : live.tables) {
    for (auto& column : table.columns) column.type = dialect.portable_type(column.type);
    by_name(table.indexes);
    by_name(table.unique_constraints);
    by_name(table.foreign_keys);
    model.tables.push_back(std::move(table));
  }
  by_name(model.tables);
  return model;
}

std::vector<Drift> compare_database(const schema::Schema& model, const DatabaseTarget& database) {
  auto connection = connect(database.url, Access::read_only);
  const auto& dialect = normalizer_for(database.url.dialect);
  const schema::Schema live = canonical_live(*connection);
  schema::DiffOptions options;
  options.detect_renames = false;
  options.match_by_content = true;
  const auto changes = schema::diff(model::canonical(model, dialect), live, options);
  // A PostgreSQL tandem trigger comes with a function of its name: one leftover, one line.
  std::set<std::string> triggers;
  for (const auto& change : changes)
    if (change.object == schema::ObjectKind::trigger) triggers.insert(change.name);
  std::vector<Drift> drift;
  for (const auto& change : changes)
    if (change.object != schema::ObjectKind::function || !triggers.count(change.name))
      drift.push_back({database.name, change});
  return drift;
}

std::string Drift::describe(const std::string& reference) const {
  const auto& c = change;
  const char* kind = schema::object_kind_name(c.object);
  if (c.object == schema::ObjectKind::trigger)
    return fmt::format("{}: table {}: tandem trigger {} left behind", database, c.table, c.name);
  if (c.object == schema::ObjectKind::function) return fmt::format("{}: tandem function {} left behind", database, c.name);
  const std::string where = c.object == schema::ObjectKind::table ? fmt::format("{}: table {}", database, c.name)
                                                                   : fmt::format("{}: table {}: {} {}", database, c.table, kind, c.name);
  const std::string detail = c.detail.empty() ? "" : fmt::format(" {}", c.detail);
  switch (c.change) {
    case schema::ChangeKind::add: return fmt::format("{}{} is in the database but not in the {}", where, detail, reference);
    case schema::ChangeKind::drop: return fmt::format("{}{} is in the {} but missing from the database", where, detail, reference);
    case schema::ChangeKind::modify: return fmt::format("{} differs ({} -> database): {}", where, reference, c.detail);
    case schema::ChangeKind::rename: break;
  }
  return fmt::format("{}: {}", database, c.describe());
}

}  // namespace tandem
