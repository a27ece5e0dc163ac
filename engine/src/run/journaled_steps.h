// The step loop of a journaled run, written once for a phase's unit (DESIGN §6) and an
// abort (§16): on a database whose DDL commits on its own, each step runs by itself and
// the journal records it right after, so a killed run resumes at the first step not
// recorded. That first step may have run on the server before the kill: it is cleaned up
// (a half-built table copy) and run again, and an error saying its effect is already
// there counts as done. A lost lock fight retries the step from scratch.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "batch/run_settings.h"
#include "dialect/dialect.h"

namespace tandem {

struct JournaledSteps {
  Connection& connection;
  const RunSettings& settings;
  std::string database;  // its name, in events
  std::string file;      // the unit file errors name
  bool resuming = false;  // whether steps[index] may have run before a crash
  // Runs one step's statement; `in_transaction` when it runs inside the step's transaction.
  std::function<void(const Step& step, bool in_transaction)> apply;
  // Journals that steps 1..`done` are done, in the step's transaction where there is one.
  std::function<void(const Step& step, int done)> record;
};

// Runs steps[index..] as above; `index` ends past the last step, or at the one that
// failed (the Error rethrown names `run.file`). Each step's SQL is appended to `executed`.
void run_journaled_steps(const JournaledSteps& run, const std::vector<Step>& steps, int& index,
                         std::vector<std::string>& executed);

}  // namespace tandem
