#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <unistd.h>

#include <memory>

#include "cli.h"
#include "progress.h"
#include "tandem/error.h"

namespace tandem::cli {

namespace fs = std::filesystem;

Deployment CommandLine::deployment() const {
  Deployment deployment;
  if (db) {
    deployment = Deployment::single(DatabaseUrl::parse(*db), database_role.value_or(roles::main));
    deployment.partial = database_role.has_value();
  } else if (config || fs::exists("tandem.yaml")) {
    deployment = Deployment::load(config.value_or("tandem.yaml"));
  } else if (const char* url = std::getenv("TANDEM_DATABASE_URL"); url && *url) {
    deployment = Deployment::single(DatabaseUrl::parse(url));
  } else {
    throw Error(ErrorKind::usage, "no database given: use --db URL, --config FILE (or a tandem.yaml here), or "
                                  "set TANDEM_DATABASE_URL");
  }
  if (repos) deployment.repos = *repos;
  return deployment;
}

fs::path CommandLine::repos_folder() const {
  if (repos) return *repos;
  if (config || fs::exists("tandem.yaml")) return Deployment::load(config.value_or("tandem.yaml")).repos;
  return ".";
}

RunOptions CommandLine::run_options() const {
  RunOptions options;
  options.to = to;
  options.dry_run = dry_run;
  options.wait = std::chrono::seconds(wait_seconds);
  options.lock_timeout = std::chrono::milliseconds(lock_timeout_ms);
  options.lock_retries = lock_retries;
  options.batch_size = batch_size;
  options.jobs = jobs;
  if (batch_time_ms) options.batch_time = std::chrono::milliseconds(*batch_time_ms);
  if (format == Format::text && !no_progress) {
    auto display = std::make_shared<ProgressDisplay>(isatty(STDOUT_FILENO) != 0);
    options.on_progress = [display](const MigrationFigure& figure) { display->update(figure); };
  }
  options.max_count = max_count;
  options.sleep = std::chrono::milliseconds(sleep_ms);
  if (!db) options.role = database_role;
  options.database = cell;
  options.ignore_releases = ignore_releases;
  if (format == Format::text)
    options.on_event = [](const std::string& line) { std::cout << line << std::endl; };
  return options;
}

}  // namespace tandem::cli
