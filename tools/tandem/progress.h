// Migrate progress for people: a bar with rows, rate and time left on a terminal, a
// plain line every few seconds otherwise (logs, CI).
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "tandem/engine.h"

namespace tandem::cli {

class ProgressDisplay {
 public:
  explicit ProgressDisplay(bool terminal) : terminal_(terminal) {}
  void update(const MigrationFigure& figure);

 private:
  struct Seen {
    std::chrono::steady_clock::time_point started;
    std::chrono::steady_clock::time_point printed;
    long long completed_at_start = 0;
  };
  bool terminal_;
  std::map<std::string, Seen> seen_;
};

}  // namespace tandem::cli
