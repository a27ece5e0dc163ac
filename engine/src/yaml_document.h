// Reading YAML the same way everywhere it is read: units, models, tandem.yaml.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "tandem/error.h"

namespace tandem {

// Parses `text`, read from `file`. Throws Error(kind) naming the file and line on broken
// YAML, and on a key given twice in one mapping: yaml-cpp 0.7 accepts that and lookups
// see the first, while most readers (and reviewers) take the last.
YAML::Node load_yaml(const std::string& text, const std::string& file, ErrorKind kind);

}  // namespace tandem
