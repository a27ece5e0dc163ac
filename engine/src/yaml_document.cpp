#include "yaml_document.h"

#include <fmt/format.h>

#include <map>
#include <set>
#include <utility>

namespace tandem {

namespace {

// Walks every mapping once: an alias is the node it names, so a shared subtree
// (or a billion-laughs document) is checked once, not once per reference.
void check_unique_keys(const YAML::Node& node, const std::string& file, ErrorKind kind,
                       std::set<std::pair<int, int>>& seen) {
  if (!node.IsMap() && !node.IsSequence()) return;
  if (!seen.insert({node.Mark().pos, static_cast<int>(node.Type())}).second) return;
  if (node.IsSequence()) {
    for (const auto& item : node) check_unique_keys(item, file, kind, seen);
    return;
  }
  std::map<std::string, int> lines;
  for (const auto& entry : node) {
    if (entry.first.IsScalar()) {
      const int line = entry.first.Mark().line + 1;
      auto [first, inserted] = lines.emplace(entry.first.Scalar(), line);
      if (!inserted)
        throw Error(kind, fmt::format("duplicate key '{}' (first given on line {}); give each key once",
                                      entry.first.Scalar(), first->second))
            .with_file(file, line);
    }
    check_unique_keys(entry.second, file, kind, seen);
  }
}

}  // namespace

YAML::Node load_yaml(const std::string& text, const std::string& file, ErrorKind kind) {
  YAML::Node document;
  try {
    document = YAML::Load(text);
  } catch (const YAML::Exception& error) {
    throw Error(kind, fmt::format("broken YAML: {}", error.msg)).with_file(file, error.mark.line + 1);
  }
  std::set<std::pair<int, int>> seen;
  check_unique_keys(document, file, kind, seen);
  return document;
}

}  // namespace tandem
