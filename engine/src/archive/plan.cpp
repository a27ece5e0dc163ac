#include "archive/plan.h"

#include <fmt/format.h>

#include <algorithm>

#include "operations/batch_plan.h"
#include "operations/common.h"
#include "operations/portable_type.h"
#include "sql/syntax.h"

namespace tandem::archiving {

namespace {

// A schema where foreign keys fan out wildly is better refused than walked for ever.
constexpr size_t kMaxDescendants = 100;

bool is_shadow(const std::string& table) { return table.starts_with(ops::shadow_name("")); }

std::vector<std::string> column_names(const schema::Table& table) {
  std::vector<std::string> names;
  for (const auto& column : table.columns) names.push_back(column.name);
  return names;
}

// Why `table`'s rows cannot be copied into its shadow without losing data; empty when they can.
std::string shadow_problem(const schema::Schema& schema, const schema::Table& table) {
  const auto* shadow = schema.find_table(ops::shadow_name(table.name));
  if (!shadow) return fmt::format("{} has no {}", table.name, ops::shadow_name(table.name));
  std::vector<std::string> missing;
  for (const auto& column : table.columns)
    if (!shadow->find_column(column.name)) missing.push_back(column.name);
  if (missing.empty()) return "";
  return fmt::format("{} lacks column{} {} of {}, which archiving would lose", shadow->name, missing.size() > 1 ? "s" : "",
                     fmt::join(missing, ", "), table.name);
}

// Collects the tables referencing an archived table, transitively, depth first; stops
// at the first one whose rows could not move with their parents.
class DescendantWalk {
 public:
  explicit DescendantWalk(const schema::Schema& schema) : schema_(schema) {}

  void down(const std::string& table) {
    on_path_.push_back(table);
    for (const auto& child : schema_.tables) {
      if (is_shadow(child.name)) continue;
      for (const auto& key : child.foreign_keys) {
        if (key.referenced_table != table || !problem_.empty()) continue;
        const std::string via = fmt::format("{}.{} -> {}.{}", child.name, fmt::join(key.columns, ","), table,
                                            fmt::join(key.referenced_columns, ","));
        if (std::find(on_path_.begin(), on_path_.end(), child.name) != on_path_.end()) {
          problem_ = fmt::format("its foreign keys form a cycle ({}), so no order moves children first", via);
        } else if (const auto problem = shadow_problem(schema_, child); !problem.empty()) {
          problem_ = fmt::format("{} references it ({}) but {}; its rows could not move with their parents", child.name,
                                 via, problem);
        } else if (found_.size() >= kMaxDescendants) {
          problem_ = fmt::format("more than {} foreign-key paths lead to it", kMaxDescendants);
        } else {
          path_.push_back({child.name, key.columns, key.referenced_columns});
          found_.push_back({path_, column_names(child)});
          down(child.name);
          path_.pop_back();
        }
      }
    }
    on_path_.pop_back();
  }

  const std::string& problem() const { return problem_; }

  // Deepest first, so each step runs before the steps for the rows its rows reference.
  std::vector<Descendant> deepest_first() const {
    auto result = found_;
    std::stable_sort(result.begin(), result.end(),
                     [](const Descendant& a, const Descendant& b) { return a.path.size() > b.path.size(); });
    return result;
  }

 private:
  const schema::Schema& schema_;
  std::vector<std::string> on_path_;
  std::vector<Link> path_;
  std::vector<Descendant> found_;
  std::string problem_;
};

struct LiveValue {
  std::string sql;
  std::string source;
};

// The value `deleted` holds in a live row (DESIGN §10): the server default; else the
// default the model declares (nova declares it in its models only, so its databases have
// none); else by type: 0 for integers (nova's convention: a deleted row holds its own
// id), false for booleans, '' for strings (string-keyed tables hold the deleted row's
// key). nullopt when the column's type has no such value.
std::optional<LiveValue> live_value(const schema::Table& table, const schema::Column& deleted,
                                    const schema::Schema* model, const DialectNormalizer& types) {
  if (deleted.default_value) return LiveValue{*deleted.default_value, "server default"};
  if (model)
    if (const auto* declared = model->find_table(table.name))
      if (const auto* column = declared->find_column(deleted.name); column && column->default_value)
        return LiveValue{*column->default_value, "model"};
  const auto type = ops::parse_portable_type(types.portable_type(types.canonical_type(deleted.type)));
  if (!type) return std::nullopt;
  switch (type->kind) {
    case ops::TypeKind::integer:
    case ops::TypeKind::bigint:
    case ops::TypeKind::smallint: return LiveValue{"0", "by type"};
    case ops::TypeKind::boolean: return LiveValue{"false", "by type"};
    case ops::TypeKind::string:
    case ops::TypeKind::text:
    case ops::TypeKind::mediumtext: return LiveValue{"''", "by type"};
    default: return std::nullopt;
  }
}

}  // namespace

ArchivePlan plan_archive(const schema::Schema& schema, const schema::Schema* model, const SqlRenderer& sql,
                         const DialectNormalizer& types, bool before) {
  ArchivePlan plan;
  for (const auto& table : schema.tables) {
    if (is_shadow(table.name) || !schema.find_table(ops::shadow_name(table.name))) continue;
    // A shadowed table without `deleted` holds children only: they move with their parents.
    const auto* deleted = table.find_column("deleted");
    if (!deleted) continue;
    auto skip = [&](std::string reason) { plan.skipped.emplace_back(table.name, std::move(reason)); };
    const auto live = live_value(table, *deleted, model, types);
    if (!live) {
      skip(fmt::format("its deleted column ({}) has no server default, none in the model, and no live value by type, "
                       "so live rows cannot be told from deleted ones",
                       deleted->type));
      continue;
    }
    // The key batches walk (DESIGN §7): the primary key, a NOT NULL unique key, else the
    // dialect's row locator (SQLite's rowid, PostgreSQL's ctid: a row locked by the
    // batch keeps it until the batch commits).
    std::vector<std::string> key = ops::row_key(table);
    if (ops::KeyWalk located; key.empty() && sql.locator_walk(table, located)) key = located.key;
    if (key.empty()) {
      skip(fmt::format("it has no primary key and no NOT NULL unique key, and {} has no row locator to walk it by",
                       sql::syntax_of(sql.kind()).name));
      continue;
    }
    if (before && !table.find_column("deleted_at")) {
      skip("it has no deleted_at column to compare with --before (its rows still move with the rows they reference)");
      continue;
    }
    if (const auto problem = shadow_problem(schema, table); !problem.empty()) {
      skip(problem);
      continue;
    }
    DescendantWalk walk(schema);
    walk.down(table.name);
    if (!walk.problem().empty()) {
      skip(walk.problem());
      continue;
    }
    // NULL <> default is not true: a NULL `deleted` counts as live.
    plan.tables.push_back({table.name, column_names(table), key, live->sql, live->source,
                           fmt::format("{} <> ({})", sql.quote("deleted"), live->sql), walk.deepest_first()});
  }
  // Parents first: a table referencing another archived table has shorter paths below
  // it than that table has, so ordering by the deepest path, longest first, puts it
  // after. Its rows soft-deleted with their parent (nova's instance_metadata) then move
  // in the parent's batches, as its descendants, rather than in batches of their own
  // first: one transaction for both instead of two. Its walk then moves the rest.
  auto depth = [](const ArchivedTable& table) {
    return table.descendants.empty() ? size_t{0} : table.descendants.front().path.size();
  };
  std::stable_sort(plan.tables.begin(), plan.tables.end(),
                   [&](const ArchivedTable& a, const ArchivedTable& b) { return depth(a) > depth(b); });
  return plan;
}

}  // namespace tandem::archiving
