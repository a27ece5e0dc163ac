#include "model/scratch_databases.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <random>

#include "tandem/deployment.h"
#include "tandem/error.h"

namespace tandem {

namespace fs = std::filesystem;

ScratchDatabases::ScratchDatabases(const std::optional<DatabaseUrl>& server, const std::string& command)
    : command_(command) {
  if (server && dialect_of(server->dialect).makes_scratch_databases()) {
    server_ = *server;
    admin_ = connect(*server_);
    std::random_device random;
    prefix_ = fmt::format("tandem_{}_{}_{:04x}", command_, getpid(), random() & 0xffff);
  } else {
    std::string pattern = (fs::temp_directory_path() / fmt::format("tandem-{}-XXXXXX", command_)).string();
    if (!mkdtemp(pattern.data()))
      throw Error(ErrorKind::step_failed,
                  fmt::format("cannot make a temporary folder under {}", fs::temp_directory_path().string()));
    folder_ = pattern;
  }
}

ScratchDatabases::~ScratchDatabases() {
  if (!folder_.empty()) {
    std::error_code ignored;
    fs::remove_all(folder_, ignored);
  }
  for (const auto& name : databases_) {
    try {
      dialect_of(server_->dialect).drop_database(*admin_, name);
    } catch (const Error& error) {
      std::cerr << "tandem: warning: could not drop the scratch database " << name << ": " << error.what() << "\n";
    }
  }
}

DatabaseUrl ScratchDatabases::make(const std::string& name) {
  if (!server_) return DatabaseUrl::parse("sqlite://" + (folder_ / (name + ".db")).string());
  const std::string database = prefix_ + "_" + name;
  dialect_of(server_->dialect).create_database(*admin_, database);
  databases_.push_back(database);
  DatabaseUrl url = *server_;
  url.database = database;
  return url;
}

std::vector<std::string> deployment_order(const std::set<std::string>& present) {
  std::vector<std::string> ordered;
  if (present.count(roles::api)) ordered.push_back(roles::api);
  for (const auto& role : present)
    if (role != roles::api && role != roles::cell) ordered.push_back(role);
  if (present.count(roles::cell)) ordered.push_back(roles::cell);
  return ordered;
}

}  // namespace tandem
