#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>

#include "../cli.h"

namespace tandem::cli {

int run_history(const CommandLine& line) {
  Engine engine(line.deployment());
  const auto entries = engine.history(line.run_options());
  if (line.format == Format::json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& entry : entries)
      out.push_back({{"database", entry.database},
                     {"phase", entry.phase},
                     {"version", entry.version},
                     {"name", entry.name},
                     {"checksum", entry.checksum},
                     {"status", entry.status},
                     {"step", entry.step},
                     {"error", entry.error ? nlohmann::json(*entry.error) : nlohmann::json()},
                     {"started_at", entry.started_at},
                     {"finished_at", entry.finished_at ? nlohmann::json(*entry.finished_at) : nlohmann::json()},
                     {"tool_version", entry.tool_version}});
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  // As wide as the longest status shown (releases_ignored, baselined), so STARTED lines up.
  size_t status_width = 8;
  for (const auto& entry : entries) status_width = std::max(status_width, entry.status.size());
  std::cout << fmt::format("{:<12} {:<9} {:<8} {:<32} {:<{}} {:<21}\n", "DATABASE", "PHASE", "VERSION", "NAME", "STATUS",
                           status_width, "STARTED");
  for (const auto& entry : entries) {
    std::cout << fmt::format("{:<12} {:<9} {:<8} {:<32} {:<{}} {:<21}\n", entry.database, entry.phase, entry.version,
                             entry.name, entry.status, status_width, entry.started_at);
    if (entry.error && line.verbose) std::cout << "    " << *entry.error << "\n";
  }
  return 0;
}

}  // namespace tandem::cli
