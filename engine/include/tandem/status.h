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

// The cluster a database is served by, when it is one (DESIGN §14: a MariaDB Galera cluster).
struct ClusterNode {
  std::string address;  // host:port, as the cluster announces its client address
  std::string state;    // its local state ("Synced", "Donor/Desynced", ...), or why it could not be asked
};

struct ClusterStatus {
  std::string kind;     // "Galera"
  std::string name;     // the cluster's name
  std::string status;   // of the component tandem reached: "Primary", "non-Primary", ...
  long long size = 0;   // nodes in that component
  std::vector<ClusterNode> nodes;
};

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
  // The cluster serving the database; nullopt for a single server or a file.
  std::optional<ClusterStatus> cluster;
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
