#include "run/journaled_steps.h"

#include <fmt/format.h>

#include "dialect/lock_retry.h"
#include "failpoint.h"
#include "tandem/error.h"

namespace tandem {

void run_journaled_steps(const JournaledSteps& run, const std::vector<Step>& steps, int& index,
                         std::vector<std::string>& executed) {
  Connection& connection = run.connection;
  const int first = index;
  for (; index < static_cast<int>(steps.size()); ++index) {
    const Step& step = steps[index];
    failpoint::reach(failpoint::Moment::before, failpoint::Site::step, index + 1);
    const bool first_after_crash = run.resuming && index == first;
    const bool in_transaction = step.transactional && connection.transactional_ddl();
    bool retried = false;
    retry_lock_fights(
        run.settings.lock_retries, [&](const Error& error) { return connection.is_lock_timeout(error); },
        [&](std::chrono::milliseconds backoff) {
          if (run.settings.on_event)
            run.settings.on_event(fmt::format("{}: lost a lock fight, retrying step {} in {} ms", run.database,
                                              index + 1, backoff.count()));
        },
        [&] {
          // A lost lock fight aborts the step's transaction: each attempt starts afresh.
          if (first_after_crash || retried) connection.clean_up_interrupted(step);
          retried = true;
          if (in_transaction) connection.begin();
          try {
            try {
              run.apply(step, in_transaction);
            } catch (const Error& error) {
              // A crash between the step and its journal entry: its effect is already there.
              if (!(first_after_crash && connection.is_already_applied(error))) throw;
            }
            failpoint::reach(failpoint::Moment::after, failpoint::Site::step, index + 1);
            run.record(step, index + 1);
            if (in_transaction) connection.commit();
          } catch (Error& error) {
            if (in_transaction) connection.rollback();
            if (!error.file()) error.with_file(run.file);
            throw;
          }
        });
    executed.push_back(step.sql);
  }
}

}  // namespace tandem
