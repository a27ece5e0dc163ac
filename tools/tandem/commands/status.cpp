#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>

#include "../cli.h"

namespace tandem::cli {

namespace {

nlohmann::json release_json(const ReleaseInstance& instance) {
  return {{"service", instance.service},          {"instance", instance.instance},
          {"release", instance.release},          {"host", instance.host},
          {"pid", instance.pid},                  {"heartbeat_at", instance.heartbeat_at},
          {"seconds_since_heartbeat", instance.seconds_since_heartbeat}, {"live", instance.live}};
}

// status --serves N (DESIGN §11, §15): serves_release's rule, with its reasons.
int serves(const std::vector<DatabaseStatus>& databases, long long release, Format format) {
  std::vector<std::string> reasons;
  for (const auto& database : databases)
    for (auto& reason : why_not_served(database.name, database.versions.at(Phase::expand),
                                       database.versions.at(Phase::contract), release))
      reasons.push_back(std::move(reason));
  if (format == Format::json)
    std::cout << nlohmann::json{{"release", release}, {"serves", reasons.empty()}, {"reasons", reasons}}.dump(2) << "\n";
  else if (reasons.empty())
    std::cout << fmt::format("the schema serves release {:03}\n", release);
  else
    std::cout << fmt::format("the schema does not serve release {:03}:\n  {}\n", release, fmt::join(reasons, "\n  "));
  return reasons.empty() ? 0 : 1;
}

nlohmann::json cluster_json(const std::optional<ClusterStatus>& cluster) {
  if (!cluster) return nullptr;
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& node : cluster->nodes) nodes.push_back({{"address", node.address}, {"state", node.state}});
  return {{"kind", cluster->kind}, {"name", cluster->name}, {"status", cluster->status}, {"size", cluster->size},
          {"nodes", nodes}};
}

}  // namespace

int run_status(const CommandLine& line) {
  Engine engine(line.deployment());
  const auto databases = engine.status(line.run_options());
  if (line.serves) return serves(databases, *line.serves, line.format);
  const Readiness overall = overall_readiness(databases);
  if (line.format == Format::json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& database : databases)
      out.push_back({{"database", database.name},
                     {"role", database.role},
                     {"url", database.url},
                     {"expand", database.versions.at(Phase::expand)},
                     {"migrate", database.versions.at(Phase::migrate)},
                     {"contract", database.versions.at(Phase::contract)},
                     {"latest", database.latest},
                     {"state", readiness_text(database.readiness)},
                     {"code", static_cast<int>(database.readiness)},
                     {"problems", database.problems},
                     {"half_applied", database.half_applied},
                     {"aborted", database.aborted},
                     {"releases", [&] {
                        nlohmann::json releases = nlohmann::json::array();
                        for (const auto& instance : database.releases) releases.push_back(release_json(instance));
                        return releases;
                      }()},
                     {"cluster", cluster_json(database.cluster)}});
    std::cout << nlohmann::json{{"databases", out}, {"state", readiness_text(overall)}, {"code", static_cast<int>(overall)}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << fmt::format("{:<12} {:<6} {:>7} {:>8} {:>9} {:>7}  {}\n", "DATABASE", "ROLE", "EXPAND", "MIGRATE",
                             "CONTRACT", "LATEST", "STATE");
    for (const auto& database : databases) {
      auto number = [](long long version) { return fmt::format("{:03}", version); };
      std::cout << fmt::format("{:<12} {:<6} {:>7} {:>8} {:>9} {:>7}  {}\n", database.name, database.role,
                               number(database.versions.at(Phase::expand)), number(database.versions.at(Phase::migrate)),
                               number(database.versions.at(Phase::contract)), number(database.latest),
                               readiness_text(database.readiness));
      for (const auto& problem : database.problems) std::cout << "    ! " << problem << "\n";
      for (const auto& unit : database.half_applied) std::cout << "    ~ " << unit << "\n";
      for (const auto& version : database.aborted) std::cout << "    x " << version << "\n";
      for (const auto& instance : database.releases)
        std::cout << fmt::format("    {} release {:03} {}/{} (host {}, pid {}), last heartbeat {} s ago\n",
                                 instance.live ? "live " : "stale", instance.release, instance.service,
                                 instance.instance, instance.host, instance.pid, instance.seconds_since_heartbeat);
      if (const auto& cluster = database.cluster) {
        std::cout << fmt::format("    {} cluster '{}': {}, {} node{}\n", cluster->kind, cluster->name, cluster->status,
                                 cluster->size, cluster->size == 1 ? "" : "s");
        for (const auto& node : cluster->nodes)
          std::cout << fmt::format("      node {}: {}\n", node.address, node.state);
      }
      if (line.verbose) std::cout << "    " << database.url << "\n";
    }
    std::cout << "deployment: " << readiness_text(overall) << "\n";
  }
  return line.check ? static_cast<int>(overall) : 0;
}

}  // namespace tandem::cli
