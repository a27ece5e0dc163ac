// What `tandem check` reports: one finding per problem, "file:line: severity: CODE: message".
#pragma once

#include <string>
#include <vector>

namespace tandem {

enum class Severity { warning, error };

struct Finding {
  std::string file;
  int line = 0;
  Severity severity = Severity::error;
  std::string code;     // stable identifier, e.g. "phase-data-in-expand"
  std::string message;  // names the version and object
};

class Findings {
 public:
  void add(Finding finding) { items_.push_back(std::move(finding)); }
  void error(const std::string& file, int line, std::string code, std::string message) {
    add({file, line, Severity::error, std::move(code), std::move(message)});
  }
  void warning(const std::string& file, int line, std::string code, std::string message) {
    add({file, line, Severity::warning, std::move(code), std::move(message)});
  }
  const std::vector<Finding>& items() const { return items_; }
  bool has_errors() const {
    for (const auto& finding : items_)
      if (finding.severity == Severity::error) return true;
    return false;
  }
  void append(const Findings& other) { items_.insert(items_.end(), other.items_.begin(), other.items_.end()); }

 private:
  std::vector<Finding> items_;
};

}  // namespace tandem
