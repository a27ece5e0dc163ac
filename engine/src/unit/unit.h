// A unit: one YAML file of one repository, and the three repositories together.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "operations/operations.h"
#include "tandem/findings.h"
#include "tandem/phase.h"

namespace tandem {

struct Unit {
  Phase phase = Phase::expand;
  std::string version;   // as written in the file name, e.g. "002"
  long long number = 0;  // the version as a number, for ordering
  std::string name;      // short name from the file name
  std::string path;      // as given to the loader, for messages
  std::string checksum;  // SHA-256 of the file, line endings normalized
  std::string description;
  std::string database = "main";  // default role of its operations
  std::vector<ops::Operation> operations;

  bool is_placeholder() const { return operations.empty(); }
  // The role whose databases run `operation`; a move_rows runs on its source databases.
  const std::string& role_of(const ops::Operation& operation) const {
    if (const auto* move = std::get_if<ops::MoveRows>(&operation.body)) return move->from.database;
    return operation.database ? *operation.database : database;
  }
  // Whether any operation runs on a database of `role`.
  bool targets(const std::string& role) const;
};

// The units of one version, one per phase.
struct VersionUnits {
  std::string version;
  long long number = 0;
  std::map<Phase, Unit> units;
};

struct Repositories {
  std::filesystem::path root;
  std::vector<VersionUnits> versions;  // ascending, aligned: every version has all three phases

  const Unit* find(Phase phase, long long number) const;
  long long latest() const { return versions.empty() ? 0 : versions.back().number; }
};

// Loads the three repositories under `root`, reporting every problem (unreadable YAML,
// unknown keys, misalignment, bad names) into `findings` as errors with file and line.
// Units that cannot be read are left out. Throws Error(invalid_unit) only when `root`
// or a repository folder is missing.
Repositories load_repositories(const std::filesystem::path& root, Findings& findings);

// Loads and demands a clean result (no error findings); throws Error(invalid_unit)
// listing the problems.
Repositories load_repositories_or_throw(const std::filesystem::path& root);

// Static phase rules and lint for every unit (DESIGN §5).
void validate_units(const Repositories& repositories, Findings& findings);

// SHA-256 (hex) of `text` with CRLF and CR line endings made LF.
std::string unit_checksum(const std::string& text);

}  // namespace tandem
