// What release engineers run on the repositories: `tandem check` and `tandem new`
// (placeholders, or from the model).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tandem/findings.h"

namespace tandem {

// Loads the three repositories and applies the static phase rules and lint (DESIGN §5).
// Throws Error(invalid_unit) only when a repository folder is missing.
Findings check_repositories(const std::filesystem::path& root);

// Creates version latest+1 in all three repositories (creating missing folders) as
// placeholders named `name`; returns the files written. Throws Error(usage) for a bad
// name, Error(invalid_unit) for a repository that does not load.
std::vector<std::filesystem::path> new_version(const std::filesystem::path& root, const std::string& name);

// One unit `new_version_from_model` writes, or would write.
struct GeneratedUnit {
  std::filesystem::path path;
  std::string text;
};

// Version latest+1 made from the difference between the model (`model_folder`, one
// <role>.yaml per role) and the schema the history builds (DESIGN §18), the three units
// in phase order; empty when every role's model is what the history builds. Writes them
// unless `dry_run`. A role whose schema raw `sql` in the history hides from the
// simulation is built on scratch SQLite databases instead. Throws Error(usage) for a bad
// name; Error(invalid_unit) for a repository that does not load, a model that does not, a
// missing model folder, or a history that does not build on SQLite (naming the unit).
std::vector<GeneratedUnit> new_version_from_model(const std::filesystem::path& root, const std::string& name,
                                                  const std::filesystem::path& model_folder, bool dry_run);

}  // namespace tandem
