// What an application or the CLI embeds: open a deployment, ask its status, run a phase.
//
//   tandem::Engine engine(tandem::Deployment::load("tandem.yaml"));
//   engine.run(tandem::Phase::expand, {});
//
// An Engine is not thread-safe; one run at a time per deployment is enforced across
// processes by the run lock of each database.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tandem/deployment.h"
#include "tandem/phase.h"
#include "tandem/report.h"
#include "tandem/status.h"

namespace tandem {

struct RunOptions {
  std::optional<long long> to;     // stop after this version
  bool dry_run = false;            // print the SQL, change nothing
  std::chrono::seconds wait{0};    // how long to wait for another run's lock
  // How long one DDL statement may wait for a table lock before giving up and retrying,
  // so the application's writes are never queued behind tandem for longer.
  std::chrono::milliseconds lock_timeout{500};
  int lock_retries = 10;           // attempts after a lost lock fight, with doubling backoff
  // Rows per migrate batch, for every operation (--batch-size); when not given, each
  // operation's own `batch:`, else 1000.
  std::optional<int> batch_size;
  std::optional<long long> max_count;     // at most this many rows this run (migrate)
  std::chrono::milliseconds sleep{0};     // pause between migrate batches
  int jobs = 1;                    // cells run at once, after the api database
  // Aim migrate batches at this duration, adapting their size (overrides batch_size as
  // the starting point only).
  std::optional<std::chrono::milliseconds> batch_time;
  std::optional<std::string> role;        // --database: only databases of this role
  std::optional<std::string> database;    // --cell: only the database with this name
  // contract (and upgrade): run even while a live release older than the version runs;
  // abort: even while a live release at or past the version runs; history records that
  // it did (DESIGN §15, §16).
  bool ignore_releases = false;
  // Called with one line per event (unit started, done, SQL of a dry run).
  std::function<void(const std::string&)> on_event;
  // Called after every migrate batch with the operation's totals so far.
  std::function<void(const MigrationFigure&)> on_progress;
};

class Engine {
 public:
  // Loads the repositories under deployment.repos; throws Error(invalid_unit) when they
  // are unreadable or misaligned.
  explicit Engine(Deployment deployment);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs the pending versions of `phase` (up to options.to), version by version, each on
  // every selected database before the next. Throws Error on the first failure; what
  // ran before it stays applied.
  RunReport run(Phase phase, const RunOptions& options);
  // Offline: expand, migrate and contract of every pending version, with no triggers.
  RunReport upgrade(const RunOptions& options);

  // Undoes the applied steps of every journaled unit that stopped part-way on the
  // selected databases (DESIGN §6), so a unit edited since can run; records `repaired` in
  // history. Throws Error(step_failed), changing nothing on that database, when a unit
  // did more than add objects.
  RunReport repair(const RunOptions& options);
  // Undoes the newest version N whose expand ran and whose contract did not (DESIGN §16)
  // on every selected database, the cells first, then the others: expand N's triggers
  // dropped, its operations (and migrate N's, when it ran) reversed, the state set back
  // to N-1, history marked aborted. options.to, when given, must be N (else
  // Error(usage)). Throws Error(step_failed), changing nothing anywhere, when an operation
  // cannot be undone (naming its unit), and Error(release_running) while a live release
  // >= N runs, unless options.ignore_releases.
  RunReport abort(const RunOptions& options);
  std::vector<DatabaseStatus> status(const RunOptions& options);
  std::vector<HistoryEntry> history(const RunOptions& options);
  long long latest_version() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The overall answer of `status --check` for several databases: the most urgent one.
Readiness overall_readiness(const std::vector<DatabaseStatus>& databases);

}  // namespace tandem
