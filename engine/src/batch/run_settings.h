// What the runners under the engine (UnitRunner, BatchRunner) go by: the part of a run's
// public RunOptions they need, copied once by the engine, so the public type stays at
// the API's edge and each runner reads only what it uses.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "tandem/report.h"

namespace tandem {

struct RunSettings {
  // A DDL statement's (and a batch's) wait for a table lock, and the attempts after a
  // lost lock fight, with doubling backoff.
  std::chrono::milliseconds lock_timeout{500};
  int lock_retries = 10;
  // Rows per batch for every operation (--batch-size), else each operation's `batch:`.
  std::optional<int> batch_size;
  // Batches aimed at this duration, adapting their size from the starting one.
  std::optional<std::chrono::milliseconds> batch_time;
  std::chrono::milliseconds sleep{0};  // pause between batches
  std::function<void(const std::string&)> on_event;
  std::function<void(const MigrationFigure&)> on_progress;
};

}  // namespace tandem
