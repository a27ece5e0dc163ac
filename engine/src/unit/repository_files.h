// Naming and writing the files of a new version: shared by `tandem new` and
// `tandem new --from-model`.
#pragma once

#include <filesystem>
#include <string>

#include "unit/unit.h"

namespace tandem {

// Throws Error(usage) unless `name` is lowercase letters, digits and _.
void require_unit_name(const std::string& name);
// The next version's number, as wide as the repositories' last one (at least 3 digits).
std::string next_version(const Repositories& repositories);
// Throws Error(invalid_unit) naming the file when it cannot be written.
void write_unit(const std::filesystem::path& path, const std::string& text);

}  // namespace tandem
