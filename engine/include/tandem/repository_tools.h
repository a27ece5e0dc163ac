// What release engineers run on the repositories: `tandem check` and `tandem new`.
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

}  // namespace tandem
