// tandem release register | list | forget (DESIGN §15): what runs, as tandem_releases
// in every database of the deployment says.
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

#include "../cli.h"
#include "tandem/error.h"
#include "tandem/releases.h"

namespace tandem::cli {

namespace {

std::atomic<bool> stop_requested{false};

void request_stop(int) { stop_requested = true; }

ReleaseIdentity identity_from(const CommandLine& line) {
  if (!line.service) throw Error(ErrorKind::usage, "tandem release register needs --service NAME");
  if (!line.release) throw Error(ErrorKind::usage, "tandem release register needs --release N (the version it runs)");
  ReleaseIdentity identity;
  identity.service = *line.service;
  identity.release = *line.release;
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  identity.host = host;
  // One beat from a script or timer stands for the process that called it; with --every
  // this process is the sidecar whose death must end the heartbeats.
  identity.pid = line.every_seconds ? getpid() : getppid();
  // A script that heartbeats again and again must land on the same row: the host's name,
  // not host:pid, unless --instance says otherwise.
  identity.instance = line.instance.value_or(identity.host);
  if (line.ttl_seconds) identity.ttl = std::chrono::seconds(*line.ttl_seconds);
  return complete_identity(identity);
}

int register_release(const CommandLine& line) {
  const ReleaseIdentity identity = identity_from(line);
  const Deployment deployment = line.deployment();
  if (line.every_seconds && identity.ttl.count() <= *line.every_seconds)
    throw Error(ErrorKind::usage, fmt::format("--every {} with --ttl {}: the row would go stale between beats; "
                                              "beat more often than the ttl (a third of it is usual)",
                                              *line.every_seconds, identity.ttl.count()));
  const std::string who = fmt::format("{}/{} release {}", identity.service, identity.instance, identity.release);
  if (!line.every_seconds) {
    heartbeat_release(deployment, identity);
    if (line.format == Format::text) std::cout << fmt::format("release: {} heartbeat recorded\n", who);
    return 0;
  }
  signal(SIGTERM, request_stop);
  signal(SIGINT, request_stop);
  if (line.format == Format::text)
    std::cout << fmt::format("release: {} heartbeating every {} s until stopped\n", who, *line.every_seconds)
              << std::flush;
  while (!stop_requested) {
    try {
      heartbeat_release(deployment, identity);
    } catch (const Error& error) {
      // A database that is away for a moment must not end the heartbeats.
      std::cerr << "tandem: warning: heartbeat failed, trying again: " << error.describe() << std::endl;
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(*line.every_seconds);
    while (!stop_requested && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (line.format == Format::text) std::cout << fmt::format("release: {} stopped heartbeating\n", who);
  return 0;
}

int list(const CommandLine& line) {
  const auto instances = list_releases(line.deployment());
  if (line.format == Format::json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& instance : instances)
      out.push_back({{"database", instance.database},
                     {"service", instance.service},
                     {"instance", instance.instance},
                     {"release", instance.release},
                     {"host", instance.host},
                     {"pid", instance.pid},
                     {"started_at", instance.started_at},
                     {"heartbeat_at", instance.heartbeat_at},
                     {"seconds_since_heartbeat", instance.seconds_since_heartbeat},
                     {"ttl_seconds", instance.ttl_seconds},
                     {"live", instance.live}});
    std::cout << nlohmann::json{{"releases", out}}.dump(2) << "\n";
    return 0;
  }
  if (instances.empty()) {
    std::cout << "release: no release has heartbeat in these databases\n";
    return 0;
  }
  std::cout << fmt::format("{:<10} {:<16} {:<24} {:>7} {:<16} {:>7} {:<21} {:>6}  {}\n", "DATABASE", "SERVICE", "INSTANCE",
                           "RELEASE", "HOST", "PID", "LAST HEARTBEAT", "AGO", "STATE");
  for (const auto& instance : instances)
    std::cout << fmt::format("{:<10} {:<16} {:<24} {:>7} {:<16} {:>7} {:<21} {:>5}s  {}\n", instance.database,
                             instance.service, instance.instance, fmt::format("{:03}", instance.release), instance.host,
                             instance.pid, instance.heartbeat_at, instance.seconds_since_heartbeat,
                             instance.live ? "live" : fmt::format("stale (ttl {} s)", instance.ttl_seconds));
  return 0;
}

int forget(const CommandLine& line) {
  if (line.arguments.size() != 2)
    throw Error(ErrorKind::usage, "usage: tandem release forget SERVICE/INSTANCE (see tandem release list)");
  const std::string& name = line.arguments[1];
  const auto slash = name.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == name.size())
    throw Error(ErrorKind::usage, fmt::format("release forget '{}': expected SERVICE/INSTANCE, as tandem release list "
                                              "shows them",
                                              name));
  const long long removed = forget_release(line.deployment(), name.substr(0, slash), name.substr(slash + 1));
  if (removed == 0) {
    std::cerr << fmt::format("tandem: error: release forget: no database holds {} (see tandem release list)\n", name);
    return 1;
  }
  std::cout << fmt::format("release: forgot {} ({} row{})\n", name, removed, removed == 1 ? "" : "s");
  return 0;
}

}  // namespace

int run_release(const CommandLine& line) {
  const std::string what = line.arguments.empty() ? "" : line.arguments[0];
  if (what == "register" && line.arguments.size() == 1) return register_release(line);
  if (what == "list" && line.arguments.size() == 1) return list(line);
  if (what == "forget") return forget(line);
  throw Error(ErrorKind::usage, fmt::format("tandem release {}: expected register, list or forget SERVICE/INSTANCE",
                                            fmt::join(line.arguments, " ")));
}

}  // namespace tandem::cli
