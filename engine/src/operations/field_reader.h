// Strict reading of a YAML mapping: every key must be read by the caller, so an
// unknown key is reported with its file and line instead of being ignored.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "operations/operations.h"

namespace tandem::ops {

class FieldReader {
 public:
  // `what` names the mapping in messages ("create_table", "column spec").
  FieldReader(const YAML::Node& node, std::string file, std::string what);

  const std::string& file() const { return file_; }
  int line() const { return line_of(node_); }
  static int line_of(const YAML::Node& node) { return node.Mark().line + 1; }

  const YAML::Node& node() const { return node_; }
  std::vector<std::string> keys() const;
  bool has(const std::string& key) const { return node_[key].IsDefined() && !node_[key].IsNull(); }
  std::string required_string(const std::string& key);
  std::optional<std::string> optional_string(const std::string& key);
  bool optional_bool(const std::string& key, bool fallback);
  std::optional<int> optional_int(const std::string& key);
  std::vector<std::string> required_list(const std::string& key);
  std::vector<std::string> optional_list(const std::string& key);
  // A key given as a single name or a list of names (`key: id` or `key: [a, b]`).
  std::vector<std::string> optional_names(const std::string& key);
  Assignments required_assignments(const std::string& key);
  YAML::Node required_node(const std::string& key);
  YAML::Node optional_node(const std::string& key);

  // Throws for any key that was not read.
  void finish();

  [[noreturn]] void fail(const YAML::Node& at, const std::string& message) const;

 private:
  std::string scalar(const YAML::Node& value, const std::string& key) const;
  YAML::Node take(const std::string& key);

  YAML::Node node_;
  std::string file_;
  std::string what_;
  std::set<std::string> read_;
};

}  // namespace tandem::ops
