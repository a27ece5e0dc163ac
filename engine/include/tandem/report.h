// What a run returns: per unit on each database, what became of it and what it ran.
#pragma once

#include <string>
#include <vector>

#include "tandem/phase.h"

namespace tandem {

// One batched migrate operation's totals, for `Migration | Total Needed | Completed`.
struct MigrationFigure {
  std::string database;
  std::string migration;    // "002 backfill instances.compute_id"
  long long needed = 0;     // rows matching its condition when it started
  long long completed = 0;  // rows it changed, over every run
  bool done = false;
  long long batches = 0;           // batches this run
  double longest_batch_ms = 0;     // the slowest batch this run, fetch to commit
};

// What a run did with one unit on one database.
enum class UnitStatus {
  applied,     // it ran and is recorded
  dry_run,     // --dry-run: printed, nothing changed
  incomplete,  // migrate stopped by --max-count with rows left: run it again
  repaired,    // `repair` recorded it without running it
  aborted,     // `abort` undid it (DESIGN §16)
};
// As output and JSON name it: "applied", "dry-run", "incomplete", "repaired", "aborted".
const char* unit_status_name(UnitStatus status);

struct UnitOutcome {
  std::string database;
  Phase phase = Phase::expand;
  std::string version;
  std::string name;
  UnitStatus status = UnitStatus::applied;
  double seconds = 0;
  std::vector<std::string> sql;  // what ran (or would run)
  std::vector<MigrationFigure> migrations;
};

struct RunReport {
  std::vector<UnitOutcome> units;
  // A migrate run stopped by --max-count with rows left: run it again.
  bool rows_remain() const;
};

}  // namespace tandem
