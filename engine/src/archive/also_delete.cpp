#include "archive/also_delete.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "archive/common.h"
#include "tandem/error.h"

namespace tandem::archiving {

namespace {

// Values per DELETE: nova-manage's batch, well under every dialect's parameter limit.
constexpr size_t kValuesPerStatement = 1000;

}  // namespace

AlsoDeleter::AlsoDeleter(const Deployment& deployment, const std::string& database) : deployment_(deployment) {
  for (const auto& rule : deployment.also_delete)
    if (rule.database != database) rules_.push_back(&rule);
}

std::vector<const AlsoDelete*> AlsoDeleter::rules_of(const std::string& table) const {
  std::vector<const AlsoDelete*> rules;
  std::copy_if(rules_.begin(), rules_.end(), std::back_inserter(rules),
               [&](const AlsoDelete* rule) { return rule->of_table == table; });
  return rules;
}

// Not locked: these are the application's own kind of deletes, which a phase run on that
// database allows, and taking its run lock would stop every cell's archive while it runs.
Connection& AlsoDeleter::connection(const std::string& name) {
  auto& connection = connections_[name];
  if (!connection)
    for (const auto& database : deployment_.databases)
      if (database.name == name) connection = connect(database.url);
  if (!connection) throw Error(ErrorKind::bad_config, fmt::format("archive.also_delete: no database named '{}'", name));
  return *connection;
}

void AlsoDeleter::remove(const AlsoDelete& rule, const std::vector<Value>& values, std::vector<TableCount>& deleted) {
  Connection& target = connection(rule.database);
  const SqlRenderer& sql = target.renderer();
  for (size_t start = 0; start < values.size(); start += kValuesPerStatement) {
    const std::vector<Value> chunk(values.begin() + static_cast<long>(start),
                                   values.begin() + static_cast<long>(std::min(values.size(), start + kValuesPerStatement)));
    const long long rows = target.update(fmt::format("DELETE FROM {} WHERE {} IN ({})", sql.quote(rule.table),
                                                     sql.quote(rule.column), placeholders(chunk.size())),
                                         chunk);
    if (rows > 0) add_count(deleted, rule.database, rule.table, rows);
  }
}

void AlsoDeleter::sweep(Connection& cell, const schema::Schema& snapshot, std::vector<TableCount>& deleted,
                        const std::string& shadow, const std::string& where, const std::vector<Value>& params) {
  const SqlRenderer& sql = cell.renderer();
  for (const AlsoDelete* rule : rules_) {
    const std::string shadow_name = ops::shadow_name(rule->of_table);
    if (!shadow.empty() && shadow != shadow_name) continue;
    const auto* table = snapshot.find_table(shadow_name);
    if (!table) continue;
    if (!table->find_column(rule->of_column))
      throw Error(ErrorKind::bad_config,
                  fmt::format("archive.also_delete: {} of: {}.{}: {} has no column {}", rule->database, rule->of_table,
                              rule->of_column, shadow_name, rule->of_column));
    // Walked in key order, a page at a time, so a large shadow is never read at once.
    const std::string column = sql.quote(rule->of_column);
    std::string condition = column + " IS NOT NULL";
    if (!where.empty()) condition += " AND (" + where + ")";
    std::optional<Value> after;
    while (true) {
      std::vector<Value> page_params = params;
      std::string page_condition = condition;
      if (after) {
        page_condition += fmt::format(" AND {} > ?", column);
        page_params.push_back(*after);
      }
      const auto rows =
          cell.query(fmt::format("SELECT DISTINCT {0} FROM {1} WHERE {2} ORDER BY {0} LIMIT {3}", column,
                                 sql.quote(shadow_name), page_condition, kValuesPerStatement),
                     page_params);
      if (rows.empty()) break;
      std::vector<Value> values;
      for (const auto& row : rows) values.push_back(row.front());
      remove(*rule, values, deleted);
      if (rows.size() < kValuesPerStatement) break;
      after = values.back();
    }
  }
}

}  // namespace tandem::archiving
