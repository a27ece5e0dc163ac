// inspect and compare: a live database brought to the canonical form of its dialect,
// printed back in portable types, or diffed against a model brought to the same form.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "dialect/dialect.h"
#include "model/normalize.h"
#include "state/state_store.h"
#include "tandem/error.h"
#include "tandem/model.h"
#include "model/history_schema.h"

namespace tandem {

namespace fs = std::filesystem;

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

namespace {

// `live` in its canonical form against `expected`; the tandem triggers and functions
// named in `expected_triggers` are expected there, not left behind.
std::vector<Drift> drift_from(const schema::Schema& expected, const schema::Schema& live, const DatabaseTarget& database,
                              const std::set<std::string>& expected_triggers = {}) {
  const auto& dialect = normalizer_for(database.url.dialect);
  schema::DiffOptions options;
  options.detect_renames = false;
  options.match_by_content = true;
  const auto changes = schema::diff(model::canonical(expected, dialect), live, options);
  // A PostgreSQL tandem trigger comes with a function of its name: one leftover, one line.
  std::set<std::string> triggers;
  for (const auto& change : changes)
    if (change.object == schema::ObjectKind::trigger) triggers.insert(change.name);
  std::vector<Drift> drift;
  for (const auto& change : changes) {
    const bool tandem_object = change.object == schema::ObjectKind::trigger || change.object == schema::ObjectKind::function;
    if (tandem_object && expected_triggers.count(change.name)) continue;
    if (change.object != schema::ObjectKind::function || !triggers.count(change.name))
      drift.push_back({database.name, change});
  }
  return drift;
}

}  // namespace

std::vector<Drift> compare_database(const schema::Schema& model, const DatabaseTarget& database) {
  auto connection = connect(database.url, Access::read_only);
  return drift_from(model, canonical_live(*connection), database);
}

Comparison compare_with_history(const schema::Schema& model, const DatabaseTarget& database, const fs::path& repos) {
  auto connection = connect(database.url, Access::read_only);
  const schema::Schema live = canonical_live(*connection);
  Comparison comparison;
  auto against_model = [&](std::string note) {
    comparison.note = std::move(note);
    comparison.drift = drift_from(model, live, database);
    return comparison;
  };
  StateStore state(*connection);
  if (!state.exists()) return against_model("");
  auto versions = state.versions();
  const SchemaState at{versions[Phase::expand], versions[Phase::contract]};
  if (at.expand <= at.contract) return against_model("");
  const std::string window = fmt::format("expand {:03}, contract {:03}", at.expand, at.contract);
  if (!fs::exists(repos / repository_folder(Phase::expand)))
    return against_model(fmt::format("{} is in a rolling window ({}), but {} holds no repositories to say what it "
                                     "holds there: compared with the model (give --repos)",
                                     database.name, window, repos.string()));
  const Repositories repositories = load_repositories_or_throw(repos);
  // Raw SQL in the history: the role's schema at that state is built on scratch SQLite.
  const auto history = history_schemas(repositories, at);
  const auto role = history.find(database.role);
  if (role == history.end())
    return against_model(fmt::format("{} is in a rolling window ({}), but no unit under {} changes {} databases, so "
                                     "the history cannot say what it holds there: compared with the model (give "
                                     "--repos)",
                                     database.name, window, repos.string(), database.role));
  // The sync triggers the window's expands installed are expected; a missing one is drift.
  std::set<std::string> expected_triggers;
  std::vector<Drift> missing_triggers;
  for (const auto& [version, record] : state.all_triggers()) {
    if (std::stoll(version) <= at.contract) continue;
    expected_triggers.insert(record.trigger);
    if (!record.function.empty()) expected_triggers.insert(record.function);
    if (live.find_trigger(record.trigger)) continue;
    schema::SchemaChange missing;
    missing.change = schema::ChangeKind::drop;
    missing.object = schema::ObjectKind::trigger;
    missing.table = record.table;
    missing.name = record.trigger;
    missing.detail = fmt::format("(installed by version {}'s expand)", version);
    missing_triggers.push_back({database.name, missing});
  }
  comparison.reference = fmt::format("history at {}", window);
  if (role->second.built_because)
    comparison.note = fmt::format("{}: raw sql at {} changes its schema, so the history at {} was built on a scratch "
                                  "SQLite database",
                                  database.name, *role->second.built_because, window);
  comparison.drift = drift_from(role->second.schema, live, database, expected_triggers);
  comparison.drift.insert(comparison.drift.end(), missing_triggers.begin(), missing_triggers.end());
  return comparison;
}

std::string Drift::describe(const std::string& reference) const {
  const auto& c = change;
  const char* kind = schema::object_kind_name(c.object);
  if (c.object == schema::ObjectKind::trigger && c.change == schema::ChangeKind::drop)
    return fmt::format("{}: table {}: tandem trigger {} {} is missing from the database", database, c.table, c.name,
                       c.detail);
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
