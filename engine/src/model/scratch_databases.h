// Empty databases made for a command and gone when it ends: verify builds the whole
// history on them, baseline the history up to a version.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dialect/dialect.h"

namespace tandem {

// One empty database per name, gone when this object is: SQLite files in a temporary
// folder, or databases made on a PostgreSQL / MySQL server. (An SQLite memory database
// belongs to one connection, and the engine opens several.)
class ScratchDatabases {
 public:
  // `server`: the server to make them on (the URL's user must be allowed to create and
  // drop databases); unset, or a SQLite URL: files. `command` names the caller in errors.
  ScratchDatabases(const std::optional<DatabaseUrl>& server, const std::string& command);
  ~ScratchDatabases();
  ScratchDatabases(const ScratchDatabases&) = delete;
  ScratchDatabases& operator=(const ScratchDatabases&) = delete;

  // A new empty database; `name` (a role, or a role and a number) is part of its name.
  DatabaseUrl make(const std::string& name);

 private:
  std::string command_;
  std::optional<DatabaseUrl> server_;
  std::unique_ptr<Connection> admin_;
  std::string prefix_;
  std::vector<std::string> databases_;
  std::filesystem::path folder_;
};

// api first, then the other roles, cells last, as a deployment orders its databases
// (and the engine wants them).
std::vector<std::string> deployment_order(const std::set<std::string>& present);

}  // namespace tandem
