#include "operations/field_reader.h"

#include <fmt/format.h>

#include "tandem/error.h"

namespace tandem::ops {

FieldReader::FieldReader(const YAML::Node& node, std::string file, std::string what)
    : node_(node), file_(std::move(file)), what_(std::move(what)) {
  if (!node_.IsMap()) fail(node_, fmt::format("{} must be a mapping of keys", what_));
}

void FieldReader::fail(const YAML::Node& at, const std::string& message) const {
  throw Error(ErrorKind::invalid_unit, message).with_file(file_, line_of(at.IsDefined() ? at : node_));
}

std::vector<std::string> FieldReader::keys() const {
  std::vector<std::string> names;
  for (const auto& entry : node_) names.push_back(entry.first.Scalar());
  return names;
}

YAML::Node FieldReader::take(const std::string& key) {
  read_.insert(key);
  // Not node_[key]: yaml-cpp 0.7 answers a missing key with a node named after it, made
  // through a std::stringstream each time, and most optional keys are missing: that was
  // a sixth of loading a large model.
  for (const auto& entry : node_)
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.second;
  return YAML::Node(YAML::NodeType::Undefined);
}

std::string FieldReader::scalar(const YAML::Node& value, const std::string& key) const {
  if (!value.IsScalar()) fail(value, fmt::format("{}: '{}' must be a single value", what_, key));
  return value.Scalar();
}

std::string FieldReader::required_string(const std::string& key) {
  YAML::Node value = take(key);
  if (!value.IsDefined() || value.IsNull()) fail(node_, fmt::format("{}: missing required key '{}'", what_, key));
  std::string text = scalar(value, key);
  if (text.empty()) fail(value, fmt::format("{}: '{}' is empty", what_, key));
  return text;
}

std::optional<std::string> FieldReader::optional_string(const std::string& key) {
  YAML::Node value = take(key);
  if (!value.IsDefined() || value.IsNull()) return std::nullopt;
  return scalar(value, key);
}

bool FieldReader::optional_bool(const std::string& key, bool fallback) {
  YAML::Node value = take(key);
  if (!value.IsDefined() || value.IsNull()) return fallback;
  const std::string text = scalar(value, key);
  if (text == "true" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "no" || text == "off") return false;
  fail(value, fmt::format("{}: '{}' must be true or false, not '{}'", what_, key, text));
}

std::optional<int> FieldReader::optional_int(const std::string& key) {
  YAML::Node value = take(key);
  if (!value.IsDefined() || value.IsNull()) return std::nullopt;
  const std::string text = scalar(value, key);
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos || std::stoi(text) == 0)
    fail(value, fmt::format("{}: '{}' must be a positive whole number, not '{}'", what_, key, text));
  return std::stoi(text);
}

std::vector<std::string> FieldReader::optional_list(const std::string& key) {
  YAML::Node value = take(key);
  if (!value.IsDefined() || value.IsNull()) return {};
  if (!value.IsSequence()) fail(value, fmt::format("{}: '{}' must be a list", what_, key));
  std::vector<std::string> items;
  for (const auto& item : value) items.push_back(scalar(item, key));
  return items;
}

std::vector<std::string> FieldReader::required_list(const std::string& key) {
  if (!has(key)) fail(node_, fmt::format("{}: missing required key '{}'", what_, key));
  auto items = optional_list(key);
  if (items.empty()) fail(node_[key], fmt::format("{}: '{}' must list at least one name", what_, key));
  return items;
}

std::vector<std::string> FieldReader::optional_names(const std::string& key) {
  YAML::Node value = node_[key];
  if (value.IsDefined() && value.IsScalar()) {
    read_.insert(key);
    return {value.Scalar()};
  }
  return optional_list(key);
}

Assignments FieldReader::required_assignments(const std::string& key) {
  YAML::Node value = take(key);
  if (!value.IsDefined() || value.IsNull()) fail(node_, fmt::format("{}: missing required key '{}'", what_, key));
  if (!value.IsMap() || value.size() == 0)
    fail(value, fmt::format("{}: '{}' must map column names to SQL expressions", what_, key));
  Assignments pairs;
  for (const auto& entry : value) pairs.emplace_back(entry.first.Scalar(), scalar(entry.second, key));
  return pairs;
}

YAML::Node FieldReader::required_node(const std::string& key) {
  YAML::Node value = take(key);
  if (!value.IsDefined() || value.IsNull()) fail(node_, fmt::format("{}: missing required key '{}'", what_, key));
  return value;
}

YAML::Node FieldReader::optional_node(const std::string& key) { return take(key); }

void FieldReader::finish() {
  for (const auto& entry : node_) {
    const std::string key = entry.first.Scalar();
    if (!read_.count(key)) fail(entry.first, fmt::format("{}: unknown key '{}'", what_, key));
  }
}

}  // namespace tandem::ops
