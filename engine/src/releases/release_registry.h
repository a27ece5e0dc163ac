// tandem_releases in one database (DESIGN §15): the heartbeat upsert, the rows with their
// liveness by the server's clock, and forgetting an instance. The SQL comes from the
// dialect; this reads and writes it.
#pragma once

#include <string>
#include <vector>

#include "dialect/dialect.h"
#include "tandem/releases.h"

namespace tandem {

class ReleaseRegistry {
 public:
  explicit ReleaseRegistry(Connection& connection) : connection_(connection) {}

  // Whether tandem_releases exists (nothing has heartbeat here when it does not).
  bool exists();
  void ensure();
  // One heartbeat of `identity` (complete: see complete_identity).
  void heartbeat(const ReleaseIdentity& identity);
  // Every row, oldest release first; `database` names the database in each.
  std::vector<ReleaseInstance> instances(const std::string& database);
  long long forget(const std::string& service, const std::string& instance);

 private:
  Connection& connection_;
};

// Live rows of `instances` whose release is older than `version`, one per instance (its
// `database` then names every database holding its row).
std::vector<ReleaseInstance> live_older_than(const std::vector<ReleaseInstance>& instances, long long version);
// Live rows of `instances` whose release is `version` or newer, one per instance: what an
// abort of `version` would take the schema away from (DESIGN §16).
std::vector<ReleaseInstance> live_at_or_after(const std::vector<ReleaseInstance>& instances, long long version);
// "nova-api/host1:4242 (release 9, host host1, pid 4242, last heartbeat 2026-11-21T09:00:05Z, 12 s ago, on api)"
std::string describe_instance(const ReleaseInstance& instance);

}  // namespace tandem
