// The release registry (DESIGN §15): which releases of the application run, so that
// contract N waits until no instance of an older release is left, and so that release N
// can refuse to start on a schema that cannot serve it.
//
//   tandem::ReleaseHeartbeat heartbeat(deployment, "nova-api", 10);  // while it lives
//   if (!tandem::serves_release(deployment, 10)) return 1;           // schema too old
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tandem/deployment.h"

namespace tandem {

// Who heartbeats: one row of tandem_releases, keyed by (service, instance).
struct ReleaseIdentity {
  std::string service;            // "nova-api"
  std::string instance;           // stable per running instance; default host:pid
  long long release = 0;          // the version this instance's code was written for
  std::string host;               // default: this host's name
  long long pid = 0;              // default: this process
  std::chrono::seconds ttl{60};   // a heartbeat older than this is stale
};

// One row as read back, with its liveness judged by the database server's clock (the
// clock the heartbeats were written with, so the hosts' clocks need not agree).
struct ReleaseInstance {
  std::string database;  // the deployment's name for the database holding the row
  std::string service;
  std::string instance;
  long long release = 0;
  std::string host;
  long long pid = 0;
  std::string started_at;    // ISO 8601 UTC, the server's clock
  std::string heartbeat_at;  // ISO 8601 UTC, the server's clock
  long long ttl_seconds = 0;
  long long seconds_since_heartbeat = 0;
  bool live = false;  // heartbeat no older than ttl_seconds
};

// Fills the defaults of `identity` (instance host:pid, host, pid). Throws Error(usage)
// for an empty service, a service or instance holding '/', or a ttl below one second.
ReleaseIdentity complete_identity(ReleaseIdentity identity);

// One heartbeat into tandem_releases of every database of the deployment (the table is
// created where missing). Throws Error on the first database that fails.
void heartbeat_release(const Deployment& deployment, const ReleaseIdentity& identity);

// Every row of every database's tandem_releases (databases without the table have none).
std::vector<ReleaseInstance> list_releases(const Deployment& deployment);

// Removes (service, instance) from every database; returns how many rows went.
long long forget_release(const Deployment& deployment, const std::string& service, const std::string& instance);

// Whether the schema of every database of the deployment serves release N: expand N has
// run and contract N+1 has not (DESIGN §15). Throws Error(unreachable) for a database it
// cannot reach.
bool serves_release(const Deployment& deployment, long long release);
// The rule serves_release applies to one database, at `expand` and `contract`: why it
// cannot serve `release`, one line each naming `database` (empty when it can).
std::vector<std::string> why_not_served(const std::string& database, long long expand, long long contract,
                                        long long release);

// Heartbeats (service, instance, release) into tandem_releases of every database of the
// deployment from a thread of its own, every ttl/3, until destroyed. A database that is
// away is retried at the next beat; the others keep receiving theirs. Destroying it stops
// the beats but leaves the rows: they go stale after their ttl, as a killed process's do.
// Not copyable; the deployment is copied.
class ReleaseHeartbeat {
 public:
  ReleaseHeartbeat(const Deployment& deployment, std::string service, long long release);
  ReleaseHeartbeat(const Deployment& deployment, ReleaseIdentity identity,
                   std::optional<std::chrono::milliseconds> every = std::nullopt);
  ~ReleaseHeartbeat();
  ReleaseHeartbeat(const ReleaseHeartbeat&) = delete;
  ReleaseHeartbeat& operator=(const ReleaseHeartbeat&) = delete;

  const ReleaseIdentity& identity() const { return identity_; }
  // Beats that reached every database, and the last failure's message ("" after a beat
  // that reached them all). Safe to call from any thread.
  long long beats() const { return beats_; }
  std::string last_error() const;

 private:
  void loop();

  struct Sessions;
  Deployment deployment_;
  ReleaseIdentity identity_;
  std::chrono::milliseconds every_;
  std::unique_ptr<Sessions> sessions_;
  std::atomic<long long> beats_{0};
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::string last_error_;
  std::thread thread_;
};

}  // namespace tandem
