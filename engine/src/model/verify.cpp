// verify: the migrations, run on empty databases as a rolling upgrade runs them, must
// leave exactly the declared model.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <random>
#include <set>

#include "dialect/dialect.h"
#include "tandem/engine.h"
#include "tandem/error.h"
#include "tandem/model.h"
#include "unit/unit.h"

namespace tandem {

namespace fs = std::filesystem;

namespace {

// One empty database per role, gone when this object is: SQLite files in a temporary
// folder, or databases made on a PostgreSQL / MySQL server. (An SQLite memory database
// belongs to one connection, and verify opens several.)
class ScratchDatabases {
 public:
  explicit ScratchDatabases(const std::optional<DatabaseUrl>& server) {
    if (server && !server->is_memory()) {
      if (!dialect_of(server->dialect).makes_scratch_databases())
        throw Error(ErrorKind::usage, fmt::format("--dev-db {}: give a postgresql:// or mysql:// server; on SQLite verify "
                                                  "makes its own databases",
                                                  server->redacted()));
      server_ = *server;
      admin_ = connect(*server_);
      std::random_device random;
      prefix_ = fmt::format("tandem_verify_{}_{:04x}", getpid(), random() & 0xffff);
    } else {
      std::string pattern = (fs::temp_directory_path() / "tandem-verify-XXXXXX").string();
      if (!mkdtemp(pattern.data()))
        throw Error(ErrorKind::step_failed, fmt::format("cannot make a temporary folder under {}",
                                                        fs::temp_directory_path().string()));
      folder_ = pattern;
    }
  }

  ~ScratchDatabases() {
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

  ScratchDatabases(const ScratchDatabases&) = delete;
  ScratchDatabases& operator=(const ScratchDatabases&) = delete;

  DatabaseUrl make(const std::string& role) {
    if (!server_) return DatabaseUrl::parse("sqlite://" + (folder_ / (role + ".db")).string());
    const std::string name = prefix_ + "_" + role;
    dialect_of(server_->dialect).create_database(*admin_, name);
    databases_.push_back(name);
    DatabaseUrl url = *server_;
    url.database = name;
    return url;
  }

 private:
  std::optional<DatabaseUrl> server_;
  std::unique_ptr<Connection> admin_;
  std::string prefix_;
  std::vector<std::string> databases_;
  fs::path folder_;
};

// api first, then the other roles, cells last, as a deployment orders its databases.
std::vector<std::string> deployment_order(const std::set<std::string>& present) {
  std::vector<std::string> ordered;
  if (present.count(roles::api)) ordered.push_back(roles::api);
  for (const auto& role : present)
    if (role != roles::api && role != roles::cell) ordered.push_back(role);
  if (present.count(roles::cell)) ordered.push_back(roles::cell);
  return ordered;
}

}  // namespace

VerifyReport verify(const VerifyOptions& options) {
  const Repositories repositories = load_repositories_or_throw(options.repos);
  const auto files = model_files(options.model);
  std::set<std::string> roles;
  for (const auto& [role, file] : files) roles.insert(role);
  for (const auto& version : repositories.versions)
    for (const auto& [phase, unit] : version.units)
      for (const auto& operation : unit.operations) {
        const std::string& role = unit.role_of(operation);
        if (!files.count(role))
          throw Error(ErrorKind::invalid_unit, fmt::format("version {} {} changes databases of role '{}', but the model "
                                                           "folder {} has no {}.yaml declaring their schema",
                                                           unit.version, phase_name(phase), role,
                                                           options.model.string(), role))
              .with_file(unit.path);
        roles.insert(role);
      }
  std::map<std::string, schema::Schema> models;
  for (const auto& [role, file] : files) models[role] = load_model(file);

  VerifyReport report;
  ScratchDatabases scratch(options.dev_db);
  Deployment deployment;
  deployment.repos = options.repos;
  deployment.model = options.model;
  for (const auto& role : deployment_order(roles)) {
    deployment.databases.push_back({role, role, scratch.make(role)});
    report.roles.push_back(role);
    if (options.on_event)
      options.on_event(fmt::format("verify: {} on {}", role, deployment.databases.back().url.redacted()));
  }
  {
    Engine engine(deployment);
    RunOptions run;
    run.on_event = options.on_event;
    for (const auto& version : repositories.versions) {
      run.to = version.number;
      for (Phase phase : {Phase::expand, Phase::migrate, Phase::contract}) engine.run(phase, run);
    }
  }
  for (const auto& database : deployment.databases)
    for (auto& drift : compare_database(models.at(database.role), database)) report.drift.push_back(std::move(drift));
  return report;
}

}  // namespace tandem
