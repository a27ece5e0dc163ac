// What archive and purge share: which databases they visit, the run lock they hold.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dialect/dialect.h"
#include "tandem/archive.h"

namespace tandem::archiving {

// A connection to `target` holding its run lock (waiting up to `wait`).
struct LockedDatabase {
  const DatabaseTarget* target = nullptr;
  std::unique_ptr<Connection> connection;
  std::unique_ptr<RunLock> lock;
};
LockedDatabase open_locked(const DatabaseTarget& target, std::chrono::seconds wait);

// "?, ?, ?" for `count` placeholders.
std::string placeholders(size_t count);

// `names` quoted and joined by ", ".
std::string quoted_list(const SqlRenderer& sql, const std::vector<std::string>& names);

// Adds `rows` to the count of `table` in `database`, keeping first-seen order.
void add_count(std::vector<TableCount>& counts, const std::string& database, const std::string& table, long long rows);

}  // namespace tandem::archiving
