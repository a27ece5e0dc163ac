// What `tandem status` and `tandem history` report.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tandem/phase.h"
#include "tandem/releases.h"

namespace tandem {

// The answer of `status --check`, as its exit code (DESIGN §11).
// contract_blocked: contract is due, but a live release older than it still runs (DESIGN §15).
enum class Readiness {
  up_to_date = 0,
  out_of_order = 1,
  expand_needed = 2,
  migrate_needed = 3,
  contract_needed = 4,
  contract_blocked = 5
};

const char* readiness_text(Readiness readiness);

struct DatabaseStatus {
  std::string name;  // "api", "cell1", "main"
  std::string role;
  std::string url;   // redacted
  std::map<Phase, long long> versions;
  long long latest = 0;  // newest version in the repositories
  Readiness readiness = Readiness::up_to_date;
  std::vector<std::string> problems;  // out-of-order details, tandem triggers left behind
  // Journaled units stopped part-way that a rerun resumes (an edited one is a problem).
  std::vector<std::string> half_applied;
  // Versions `abort` undid that expand has not run again since (DESIGN §16), described.
  std::vector<std::string> aborted;
  // The rows of its tandem_releases, live and stale (DESIGN §15).
  std::vector<ReleaseInstance> releases;
};

struct HistoryEntry {
  std::string database;
  std::string phase;
  std::string version;
  std::string name;
  std::string checksum;
  std::string status;  // running, done, failed, aborted, ...
  int step = 0;
  std::optional<std::string> error;
  std::string started_at;
  std::optional<std::string> finished_at;
  std::string tool_version;
};

}  // namespace tandem
