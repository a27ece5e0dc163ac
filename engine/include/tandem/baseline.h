// baseline (DESIGN §17): a database that another tool built (sqlalchemy-migrate, alembic,
// by hand) joins tandem at version N, once tandem has seen that it holds exactly what
// versions 001..N build.
//
//   tandem::BaselineOptions options;
//   options.version = 12;
//   const auto report = tandem::baseline(tandem::Deployment::load("tandem.yaml"), options);
//   for (const auto& difference : report.differences) std::cerr << difference.describe() << "\n";
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tandem/deployment.h"
#include "tandem/model.h"
#include "tandem/url.h"

namespace tandem {

struct BaselineOptions {
  long long version = 0;  // N: the database holds what 001..N build
  // A PostgreSQL or MySQL server to build 001..N on (a scratch database made and dropped
  // there); unset: each database's own server (its user must be allowed to create and
  // drop databases), SQLite files in a temporary folder for SQLite.
  std::optional<DatabaseUrl> dev_db;
  bool dry_run = false;          // compare and say what would be recorded, record nothing
  std::chrono::seconds wait{0};  // for another run's lock on a live database
  std::optional<std::string> role;      // --database: only databases of this role
  std::optional<std::string> database;  // --cell: only the database with this name
  std::function<void(const std::string&)> on_event;
};

struct BaselineReport {
  std::vector<std::string> databases;  // the databases compared, in deployment order
  // How the live databases differ from what 001..N build (`change` reads from the
  // built schema to the live one). Empty: the databases match.
  std::vector<Drift> differences;
  bool recorded = false;  // state N was written (not on a dry run or a difference)
};

// Builds versions 001..N (expand, migrate and contract of each, as verify does) on a
// scratch database per role and dialect, compares each selected live database with it as
// `compare` compares a model, and only when every one matches records expand = migrate
// = contract = N on each, with one history row per unit (status `baselined`, its
// checksum, so an edit of it later is still caught). Nothing is written anywhere when
// one differs. Throws Error(usage) for a version the repositories do not have,
// Error(step_failed) for a database that already has tandem state (a version recorded
// or a unit in its history), Error(lock_held) while another run holds a database.
BaselineReport baseline(const Deployment& deployment, const BaselineOptions& options);

}  // namespace tandem
