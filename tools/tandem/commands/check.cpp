#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <set>

#include "../cli.h"
#include "tandem/repository_tools.h"

namespace tandem::cli {

int run_check(const CommandLine& line) {
  const Findings findings = check_repositories(line.repos_folder());
  // Problems that make a repository unreadable or misaligned (exit 65), as opposed to
  // units that read fine but break a rule (exit 1).
  static const std::set<std::string> unreadable = {"invalid-unit", "bad-file-name", "missing-version",
                                                   "duplicate-version", "version-gap", "bad-expression",
                                                   "bad-sql"};
  bool any_unreadable = false;
  int errors = 0, warnings = 0;
  for (const auto& finding : findings.items()) {
    if (finding.severity == Severity::error) {
      ++errors;
      any_unreadable |= unreadable.count(finding.code) > 0;
    } else {
      ++warnings;
    }
  }
  auto location = [](const Finding& finding) {
    return finding.line > 0 ? fmt::format("{}:{}", finding.file, finding.line) : finding.file;
  };
  if (line.format == Format::json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& finding : findings.items())
      out.push_back({{"file", finding.file},
                     {"line", finding.line},
                     {"severity", finding.severity == Severity::error ? "error" : "warning"},
                     {"code", finding.code},
                     {"message", finding.message}});
    // A unit file need not be valid UTF-8, and findings quote it.
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    for (const auto& finding : findings.items()) {
      const char* severity = finding.severity == Severity::error ? "error" : "warning";
      if (line.format == Format::github)
        std::cout << fmt::format("::{} file={},line={}::{}: {}\n", severity, finding.file, std::max(finding.line, 1),
                                 finding.code, finding.message);
      else
        std::cout << fmt::format("{}: {}: {}: {}\n", location(finding), severity, finding.code, finding.message);
    }
    std::cout << fmt::format("check: {} error{}, {} warning{}\n", errors, errors == 1 ? "" : "s", warnings,
                             warnings == 1 ? "" : "s");
  }
  if (any_unreadable) return 65;
  return errors > 0 ? 1 : 0;
}

}  // namespace tandem::cli
