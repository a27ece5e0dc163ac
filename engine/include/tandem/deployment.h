// The databases one application uses, each with a role (DESIGN §1, §8).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tandem/url.h"

namespace tandem {

// The roles tandem itself knows (DESIGN §1). A config names any other role it likes
// (`databases: {reporting: URL}`), so a role is a name, not an enum: these are the ones
// the engine treats specially (api runs first, cells run --jobs at a time).
namespace roles {
inline constexpr const char* main = "main";  // the one database of --db, and a unit's default
inline constexpr const char* api = "api";
inline constexpr const char* cell = "cell";  // every database under databases.cells
}  // namespace roles

struct DatabaseTarget {
  std::string name;  // "api", "cell1", "main": what messages call it
  std::string role;  // "api", "cell", "main": which operations run on it
  DatabaseUrl url;
};

// `archive.also_delete` (DESIGN §10): once a batch of `of_table` rows is archived in a
// cell, the rows of `table` in the database `database` whose `column` holds one of the
// archived rows' `of_column` values are deleted, as nova-manage removes the API
// database's instance_mappings and request_specs of the instances it archives.
struct AlsoDelete {
  std::string database;  // the name of a database of the deployment ("api")
  std::string table;
  std::string column;
  std::string of_table;   // of: <of_table>.<of_column>
  std::string of_column;
};

struct Deployment {
  std::filesystem::path repos = ".";
  std::filesystem::path model = "model";
  std::vector<DatabaseTarget> databases;  // api first, then the other roles, then cells
  std::vector<AlsoDelete> also_delete;     // tandem.yaml archive.also_delete, in file order
  // One database of a larger deployment (--db URL --database ROLE): operations for the
  // roles it lacks are skipped instead of refused.
  bool partial = false;

  // tandem.yaml: `${VAR}` in values is replaced from the environment; relative paths
  // (repos, model, sqlite:rel) are taken from the file's folder. Throws Error(bad_config)
  // naming the file and the key.
  static Deployment load(const std::filesystem::path& file);
  // One database given with --db: role `main` unless the caller names another.
  static Deployment single(const DatabaseUrl& url, const std::string& role = roles::main);

  bool has_role(const std::string& role) const;
  // The databases a command narrowed by --database ROLE and --cell NAME works on, in
  // deployment order; throws Error(usage) listing what the deployment has when none match.
  std::vector<const DatabaseTarget*> select(const std::optional<std::string>& role,
                                            const std::optional<std::string>& name) const;
  std::vector<std::string> roles() const;
};

}  // namespace tandem
