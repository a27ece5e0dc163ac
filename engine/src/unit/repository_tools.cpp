#include "tandem/repository_tools.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <regex>

#include "tandem/error.h"
#include "tandem/model.h"
#include "unit/history_check.h"
#include "unit/repository_files.h"
#include "unit/unit.h"

namespace tandem {

namespace fs = std::filesystem;

Findings check_repositories(const fs::path& root) {
  Findings findings;
  const Repositories repositories = load_repositories(root, findings);
  validate_units(repositories, findings);
  // Judged once every unit reads and passes the rules: a unit left out would have the
  // others report what it creates as missing, and a bad name would be reported twice.
  if (std::none_of(findings.items().begin(), findings.items().end(),
                   [](const auto& finding) { return finding.severity == Severity::error; }))
    check_against_history(repositories, findings);
  return findings;
}

namespace {

const char* placeholder_comment(Phase phase) {
  switch (phase) {
    case Phase::expand:
      return "# expand: only additive changes while the old release still runs: create_table, add_column (nullable or\n"
             "# with a default), create_index, add_unique, add_foreign_key, add_check, create_view, set_nullable, and\n"
             "# the triggers that keep old and new shapes in sync: sync_column, sync_table, forbid_writes.\n";
    case Phase::migrate:
      return "# migrate: only data changes, run online in small batches: backfill, copy_rows, move_rows,\n"
             "# delete_rows. No schema change of any kind.\n";
    case Phase::contract:
      return "# contract: only removals and alterations once the old release is gone: drop_column, drop_table,\n"
             "# drop_index, drop_constraint, drop_view, rename_column, rename_table, set_not_null, alter_type.\n"
             "# The triggers expand installed for this version are dropped automatically first.\n";
  }
  return "";
}

}  // namespace

void require_unit_name(const std::string& name) {
  static const std::regex valid_name("[a-z0-9][a-z0-9_]*");
  if (!std::regex_match(name, valid_name))
    throw Error(ErrorKind::usage,
                fmt::format("unit name '{}' must be lowercase letters, digits and _ (it becomes NNN_{}.yaml)", name, name));
}

std::string next_version(const Repositories& repositories) {
  size_t width = 3;
  if (!repositories.versions.empty()) width = std::max(width, repositories.versions.back().version.size());
  return fmt::format("{:0{}}", repositories.latest() + 1, width);
}

void write_unit(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw Error(ErrorKind::invalid_unit, fmt::format("cannot write {}", path.string()));
}

std::vector<fs::path> new_version(const fs::path& root, const std::string& name) {
  require_unit_name(name);
  for (Phase phase : kPhases) fs::create_directories(root / repository_folder(phase));
  const std::string version = next_version(load_repositories_or_throw(root));
  std::vector<fs::path> written;
  for (Phase phase : kPhases) {
    const fs::path path = root / repository_folder(phase) / fmt::format("{}_{}.yaml", version, name);
    write_unit(path, fmt::format("{}# Leave operations: [] if this phase has nothing to do in this version.\n"
                                 "description: {} ({})\ndatabase: main\noperations: []\n",
                                 placeholder_comment(phase), name, phase_name(phase)));
    written.push_back(path);
  }
  return written;
}

}  // namespace tandem
