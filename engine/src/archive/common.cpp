#include "archive/common.h"

#include <fmt/format.h>
#include <unistd.h>

#include "state/state_store.h"
#include "tandem/error.h"

namespace tandem::archiving {

LockedDatabase open_locked(const DatabaseTarget& target, std::chrono::seconds wait) {
  LockedDatabase database;
  database.target = &target;
  database.connection = connect(target.url);
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  database.lock =
      database.connection->lock(wait, fmt::format("held by host {} pid {} since {}", host, getpid(), utc_now()));
  return database;
}

std::string placeholders(size_t count) {
  std::string text;
  for (size_t i = 0; i < count; ++i) text += i ? ", ?" : "?";
  return text;
}

std::string quoted_list(const SqlRenderer& sql, const std::vector<std::string>& names) {
  std::vector<std::string> quoted;
  for (const auto& name : names) quoted.push_back(sql.quote(name));
  return fmt::format("{}", fmt::join(quoted, ", "));
}

void add_count(std::vector<TableCount>& counts, const std::string& database, const std::string& table, long long rows) {
  for (auto& count : counts)
    if (count.database == database && count.table == table) {
      count.rows += rows;
      return;
    }
  counts.push_back({database, table, rows});
}

}  // namespace tandem::archiving
