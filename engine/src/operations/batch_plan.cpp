#include "operations/batch_plan.h"

#include <fmt/format.h>

#include "operations/renderer.h"
#include "operations/common.h"
#include "sql/syntax.h"
#include "tandem/error.h"

namespace tandem::ops {

namespace {

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

}  // namespace

KeyWalk key_walk(const RenderContext& context, const char* operation, const std::string& table,
                 const std::vector<std::string>& declared, const std::optional<std::string>& where) {
  const SqlRenderer& sql = context.sql;
  KeyWalk walk;
  walk.table = table;
  walk.key = declared;
  const std::string quoted = sql.quote(table);
  const std::string condition = where ? "(" + *where + ")" : "1 = 1";
  walk.count = fmt::format("SELECT count(*) FROM {} WHERE {}", quoted, condition);
  walk.any_left = fmt::format("SELECT 1 FROM {} WHERE {} LIMIT 1", quoted, condition);
  if (walk.key.empty()) {
    const auto& walked = require_table(context.schema, table, operation);
    walk.key = row_key(walked);
    if (walk.key.empty()) {
      if (!sql.locator_walk(walked, walk))
        throw Error(ErrorKind::step_failed,
                    fmt::format("{} on {}: the table has no primary key and no NOT NULL unique key, and {} has no row "
                                "locator to walk it by; give the unit a `key:` (columns that tell its rows apart)",
                                operation, table, sql::syntax_of(sql.kind()).name));
      // The dialect walks its own way (page ranges), or by its locator as by a key.
      if (!walk.first_keys.empty()) return walk;
    }
  }
  const std::string key = key_list(sql, walk.key);
  // Keys alone, so the fetch walks the key's index whatever the planner thinks of the
  // unit's condition; the condition applies inside the key range.
  const std::string after = compare_key(sql, walk.key, ">");
  walk.last_key_only = sql.fetches_last_key_only();
  if (walk.last_key_only) {
    walk.first_keys = fmt::format("SELECT {} FROM {} ORDER BY {} LIMIT 1 OFFSET ?", key, quoted, key);
    walk.next_keys = fmt::format("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT 1 OFFSET ?", key, quoted, after, key);
    std::vector<std::string> descending;
    for (const auto& column : walk.key) descending.push_back(sql.quote(column) + " DESC");
    walk.first_tail = fmt::format("SELECT {} FROM {} ORDER BY {} LIMIT 1", key, quoted, fmt::join(descending, ", "));
    walk.next_tail =
        fmt::format("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT 1", key, quoted, after, fmt::join(descending, ", "));
  } else {
    walk.first_keys = fmt::format("SELECT {} FROM {} ORDER BY {} LIMIT ?", key, quoted, key);
    walk.next_keys = fmt::format("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT ?", key, quoted, after, key);
  }
  walk.first_range = compare_key(sql, walk.key, "<=");
  walk.next_range = compare_key(sql, walk.key, ">") + " AND " + walk.first_range;
  return walk;
}

std::string MovePlan::source_delete(size_t rows) const {
  std::vector<std::string> any(rows, delete_row);
  return fmt::format("{}({}){}", delete_from, fmt::join(any, " OR "), table_condition);
}

std::vector<Step> batch_steps(const BatchPlan& plan) {
  return std::visit(
      [](const auto& batch) -> std::vector<Step> {
        using T = std::decay_t<decltype(batch)>;
        // The fetch of the table's last key, where fetches read a batch's last key alone,
        // runs once fewer rows than a batch remain.
        std::vector<Step> steps = {{batch.walk.next_keys}};
        if (batch.walk.last_key_only) steps.push_back({batch.walk.next_tail});
        if constexpr (std::is_same_v<T, RangePlan>) {
          steps.push_back({batch.next_batch});
          return steps;
        } else {
          static_assert(std::is_same_v<T, MovePlan>, "every batch plan has its dry run");
          for (const auto* statement : {&batch.next_read, &batch.find, &batch.insert, &batch.update})
            steps.push_back({*statement});
          if (!batch.keep) steps.push_back({batch.source_delete(1)});
          return steps;
        }
      },
      plan);
}

}  // namespace tandem::ops
