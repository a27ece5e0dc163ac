#include "releases/release_registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

#include "state/state_store.h"
#include "tandem/error.h"

namespace tandem {

namespace {

// Seconds since the epoch of "2026-11-21T09:00:05Z"; nullopt for anything else (a row an
// application wrote by hand in another shape is then reported stale, not trusted).
std::optional<long long> epoch_seconds(const std::string& iso) {
  std::tm parts{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  char zone = 0;
  if (std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &year, &month, &day, &hour, &minute, &second, &zone) != 7 ||
      zone != 'Z')
    return std::nullopt;
  parts.tm_year = year - 1900;
  parts.tm_mon = month - 1;
  parts.tm_mday = day;
  parts.tm_hour = hour;
  parts.tm_min = minute;
  parts.tm_sec = second;
  return static_cast<long long>(timegm(&parts));
}

long long number(const Value& value) {
  try {
    return value ? std::stoll(*value) : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

bool ReleaseRegistry::exists() {
  try {
    connection_.query("SELECT service FROM tandem_releases WHERE 1 = 0");
    return true;
  } catch (const Error&) {
    return false;
  }
}

void ReleaseRegistry::ensure() { connection_.execute(releases_table(connection_)); }

void ReleaseRegistry::heartbeat(const ReleaseIdentity& identity) {
  connection_.update(connection_.renderer().release_heartbeat(),
                     {identity.service, identity.instance, std::to_string(identity.release), identity.host,
                      std::to_string(identity.pid), std::to_string(identity.ttl.count())});
}

std::vector<ReleaseInstance> ReleaseRegistry::instances(const std::string& database) {
  const SqlRenderer& sql = connection_.renderer();
  const auto now_rows = connection_.query("SELECT " + sql.server_utc_now());
  const auto now = epoch_seconds(now_rows.at(0).at(0).value_or(""));
  std::vector<ReleaseInstance> result;
  for (const auto& row : connection_.query(
           fmt::format("SELECT service, instance, {}, host, pid, started_at, heartbeat_at, ttl_seconds "
                       "FROM tandem_releases ORDER BY {}, service, instance",
                       sql.quote("release"), sql.quote("release")))) {
    ReleaseInstance instance;
    instance.database = database;
    instance.service = row[0].value_or("");
    instance.instance = row[1].value_or("");
    instance.release = number(row[2]);
    instance.host = row[3].value_or("");
    instance.pid = number(row[4]);
    instance.started_at = row[5].value_or("");
    instance.heartbeat_at = row[6].value_or("");
    instance.ttl_seconds = number(row[7]);
    const auto beat = epoch_seconds(instance.heartbeat_at);
    if (now && beat) {
      instance.seconds_since_heartbeat = std::max(0LL, *now - *beat);
      instance.live = *now - *beat <= instance.ttl_seconds;
    }
    result.push_back(std::move(instance));
  }
  return result;
}

long long ReleaseRegistry::forget(const std::string& service, const std::string& instance) {
  return connection_.update("DELETE FROM tandem_releases WHERE service = ? AND instance = ?", {service, instance});
}

namespace {

// The live rows of `instances` that `wanted` accepts. One instance heartbeats into every
// database it uses: reported once, naming them all.
template <typename Wanted>
std::vector<ReleaseInstance> live_instances(const std::vector<ReleaseInstance>& instances, Wanted wanted) {
  std::vector<ReleaseInstance> found;
  for (const auto& instance : instances) {
    if (!instance.live || !wanted(instance)) continue;
    auto same = std::find_if(found.begin(), found.end(), [&](const ReleaseInstance& seen) {
      return seen.service == instance.service && seen.instance == instance.instance;
    });
    if (same == found.end()) found.push_back(instance);
    else same->database += ", " + instance.database;
  }
  return found;
}

}  // namespace

std::vector<ReleaseInstance> live_older_than(const std::vector<ReleaseInstance>& instances, long long version) {
  return live_instances(instances, [&](const ReleaseInstance& instance) { return instance.release < version; });
}

std::vector<ReleaseInstance> live_at_or_after(const std::vector<ReleaseInstance>& instances, long long version) {
  return live_instances(instances, [&](const ReleaseInstance& instance) { return instance.release >= version; });
}

std::string describe_instance(const ReleaseInstance& instance) {
  return fmt::format("{}/{} (release {}, host {}, pid {}, last heartbeat {}, {} s ago, on {})", instance.service,
                     instance.instance, instance.release, instance.host, instance.pid, instance.heartbeat_at,
                     instance.seconds_since_heartbeat, instance.database);
}

}  // namespace tandem
