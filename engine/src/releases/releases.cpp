// The public face of the release registry: heartbeats into every database of a
// deployment, the list, forget, and whether the schema serves a release.
#include "tandem/releases.h"

#include <fmt/format.h>
#include <unistd.h>

#include <map>

#include "dialect/dialect.h"
#include "releases/release_registry.h"
#include "state/state_store.h"
#include "tandem/error.h"

namespace tandem {

namespace {

std::string this_host() {
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  return host;
}

}  // namespace

ReleaseIdentity complete_identity(ReleaseIdentity identity) {
  if (identity.service.empty()) throw Error(ErrorKind::usage, "a release heartbeat needs a service name (--service)");
  if (identity.host.empty()) identity.host = this_host();
  if (identity.pid == 0) identity.pid = getpid();
  if (identity.instance.empty()) identity.instance = fmt::format("{}:{}", identity.host, identity.pid);
  for (const auto& [what, text] : {std::pair{"service", identity.service}, std::pair{"instance", identity.instance}})
    if (text.find('/') != std::string::npos || text.size() > 191)
      throw Error(ErrorKind::usage,
                  fmt::format("release {} '{}': at most 191 characters and no '/' (forget takes SERVICE/INSTANCE)",
                              what, text));
  if (identity.ttl.count() < 1)
    throw Error(ErrorKind::usage, fmt::format("release ttl {} s: a heartbeat must stay live for a second at least",
                                              identity.ttl.count()));
  if (identity.release < 0)
    throw Error(ErrorKind::usage, fmt::format("release {}: a release is a version number, 0 or more", identity.release));
  return identity;
}

void heartbeat_release(const Deployment& deployment, const ReleaseIdentity& identity) {
  const ReleaseIdentity complete = complete_identity(identity);
  for (const auto& database : deployment.databases) {
    auto connection = connect(database.url);
    ReleaseRegistry registry(*connection);
    registry.ensure();
    registry.heartbeat(complete);
  }
}

std::vector<ReleaseInstance> list_releases(const Deployment& deployment) {
  std::vector<ReleaseInstance> all;
  for (const auto& database : deployment.databases) {
    auto connection = connect(database.url, Access::read_only);
    ReleaseRegistry registry(*connection);
    if (!registry.exists()) continue;
    for (auto& instance : registry.instances(database.name)) all.push_back(std::move(instance));
  }
  return all;
}

long long forget_release(const Deployment& deployment, const std::string& service, const std::string& instance) {
  long long removed = 0;
  for (const auto& database : deployment.databases) {
    auto connection = connect(database.url);
    ReleaseRegistry registry(*connection);
    if (registry.exists()) removed += registry.forget(service, instance);
  }
  return removed;
}

std::vector<std::string> why_not_served(const std::string& database, long long expand, long long contract,
                                        long long release) {
  std::vector<std::string> reasons;
  if (expand < release)
    reasons.push_back(
        fmt::format("{}: expand is at {:03}, release {:03} needs expand {:03}", database, expand, release, release));
  if (contract > release)
    reasons.push_back(
        fmt::format("{}: contract is at {:03}, which removed what release {:03} reads", database, contract, release));
  return reasons;
}

bool serves_release(const Deployment& deployment, long long release) {
  for (const auto& database : deployment.databases) {
    auto connection = connect(database.url, Access::read_only);
    StateStore state(*connection);
    const auto versions = state.exists() ? state.versions() : std::map<Phase, long long>{};
    const long long expand = versions.contains(Phase::expand) ? versions.at(Phase::expand) : 0;
    const long long contract = versions.contains(Phase::contract) ? versions.at(Phase::contract) : 0;
    if (!why_not_served(database.name, expand, contract, release).empty()) return false;
  }
  return true;
}

// One session per database, opened on first use and dropped when it fails, so a database
// that went away is reconnected at the next beat.
struct ReleaseHeartbeat::Sessions {
  std::map<std::string, std::unique_ptr<Connection>> open;
};

ReleaseHeartbeat::ReleaseHeartbeat(const Deployment& deployment, std::string service, long long release)
    : ReleaseHeartbeat(deployment, ReleaseIdentity{std::move(service), "", release, "", 0, std::chrono::seconds(60)}) {}

ReleaseHeartbeat::ReleaseHeartbeat(const Deployment& deployment, ReleaseIdentity identity,
                                   std::optional<std::chrono::milliseconds> every)
    : deployment_(deployment),
      identity_(complete_identity(std::move(identity))),
      every_(every.value_or(std::chrono::duration_cast<std::chrono::milliseconds>(identity_.ttl) / 3)),
      sessions_(std::make_unique<Sessions>()) {
  if (every_.count() <= 0) every_ = std::chrono::milliseconds(1);
  thread_ = std::thread([this] { loop(); });
}

ReleaseHeartbeat::~ReleaseHeartbeat() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::string ReleaseHeartbeat::last_error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_error_;
}

void ReleaseHeartbeat::loop() {
  for (;;) {
    std::string failure;
    for (const auto& database : deployment_.databases) {
      try {
        auto& session = sessions_->open[database.name];
        if (!session) {
          session = connect(database.url);
          ReleaseRegistry(*session).ensure();
        }
        ReleaseRegistry(*session).heartbeat(identity_);
      } catch (const Error& error) {
        sessions_->open.erase(database.name);
        if (failure.empty()) failure = fmt::format("{}: {}", database.name, error.describe());
      } catch (const std::exception& error) {
        sessions_->open.erase(database.name);
        if (failure.empty()) failure = fmt::format("{}: {}", database.name, error.what());
      }
    }
    if (failure.empty()) ++beats_;
    std::unique_lock<std::mutex> lock(mutex_);
    last_error_ = failure;
    if (wake_.wait_for(lock, every_, [this] { return stopping_; })) return;
  }
}

}  // namespace tandem
