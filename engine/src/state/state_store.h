// tandem's own tables in one database (DESIGN §6): versions, history, triggers, progress.
// Written with `?` placeholders and portable SQL so every dialect shares it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dialect/dialect.h"
#include "tandem/phase.h"
#include "tandem/status.h"

namespace tandem {

// What a tandem_history row says of its run, stored (and printed by `history`) as
// status_name(): running while it goes, then done, failed, incomplete (migrate stopped by
// --max-count) or repaired; a running row whose run died becomes interrupted.
// releases_ignored: not a run but a note beside one, that contract ran with
// --ignore-releases (DESIGN §15).
// baselined: recorded by `baseline` (DESIGN §17), never run by tandem; it counts as done.
// aborted: `abort` undid the unit (DESIGN §16); its done row no longer counts as applied,
// so the unit may be edited and run again.
enum class RunStatus { running, done, failed, incomplete, interrupted, repaired, releases_ignored, baselined, aborted };

const char* status_name(RunStatus status);
// The status a stored text names, or nullopt for any other text.
std::optional<RunStatus> parse_status(const std::string& text);

// CREATE TABLE IF NOT EXISTS of tandem_releases (DESIGN §15), on its own: an application
// heartbeats into a database that may have no other tandem state yet.
std::string releases_table(Connection& connection);

class StateStore {
 public:
  explicit StateStore(Connection& connection) : connection_(connection) {}

  // Creates the tables and the three version rows when missing.
  void ensure();
  // Whether the tables exist (a dry run or status on a fresh database does not create them).
  bool exists();

  // The version each phase has reached (0 when none).
  std::map<Phase, long long> versions();
  void set_version(Phase phase, long long version);

  // Checksums of units applied (status done or baselined, and no abort since), keyed by
  // phase and version number.
  std::map<std::pair<Phase, long long>, std::string> applied_checksums();

  long long start_history(Phase phase, const std::string& version, const std::string& name, const std::string& checksum);
  void finish_history(long long id, RunStatus status, int step, const std::optional<std::string>& error);
  // Marks `running` rows `interrupted`: called under the run lock, so their runs are gone.
  void close_dead_runs();
  // The status of the latest run of a unit (nullopt when it never ran).
  std::optional<RunStatus> last_status(Phase phase, const std::string& version);
  void record_failure(Phase phase, const std::string& version, const std::string& name, const std::string& checksum,
                      int step, const std::string& error);
  // A contract run with --ignore-releases while `releases` (described) still ran: a row
  // of its own (status releases_ignored), which last_status passes over.
  void record_releases_ignored(Phase phase, const std::string& version, const std::string& name,
                               const std::string& checksum, const std::string& releases);
  std::vector<HistoryEntry> history();
  // `abort` undid this unit: a row of its own (status aborted) after the unit's runs.
  void record_aborted(Phase phase, const std::string& version, const std::string& name, const std::string& checksum,
                      const std::string& note);
  // Versions whose expand was aborted and has not run again since, with when.
  std::vector<std::pair<std::string, std::string>> aborted_versions();

  // The plan of a unit whose steps cannot share one transaction: its steps, how many
  // are done, and the schema from before it, so a killed run resumes where it stopped.
  struct Journal {
    std::string checksum;
    int step = 0;
    std::string plan;           // JSON list of steps
    std::string before_schema;  // JSON schema snapshot

    schema::Schema before() const;  // before_schema, decoded
    size_t step_count() const;      // the number of steps in plan
  };
  std::optional<Journal> journal(Phase phase, const std::string& version);
  void save_journal(Phase phase, const std::string& version, const Journal& journal);
  void journal_step(Phase phase, const std::string& version, int step);
  void forget_journal(Phase phase, const std::string& version);
  // The journal of an abort of `version` (DESIGN §16) where its steps cannot share one
  // transaction, kept beside the phases' own.
  std::optional<Journal> abort_journal(const std::string& version);
  void save_abort_journal(const std::string& version, const Journal& journal);
  void abort_journal_step(const std::string& version, int step);
  void forget_abort_journal(const std::string& version);
  // The versions an abort stopped part-way on (journaled and not finished).
  std::vector<long long> aborts_in_progress();

  // How far one batched operation has got; the cursor is tandem's own JSON.
  struct Progress {
    std::string cursor = "{}";
    long long rows_done = 0;
    long long rows_found = 0;
    bool done = false;
  };
  std::optional<Progress> progress(Phase phase, const std::string& version, int operation);
  void save_progress(Phase phase, const std::string& version, int operation, const Progress& progress);
  // Forgets every operation's progress of a unit (an abort: its next run starts afresh).
  void forget_progress(Phase phase, const std::string& version);

  // The rows a move_rows (then: delete) of `version` copied into `table` here from the
  // database named `source`, by their `unique` values, so that an abort can move them
  // back (DESIGN §16). ensure_moved_rows creates the table where a target database has
  // not been run by this tandem yet; record_moved runs in the copy's transaction.
  void ensure_moved_rows();
  void record_moved(const std::string& version, const std::string& table, const std::string& source,
                    const std::vector<Row>& keys);
  // At most `limit` of them (their unique values), in a stable order.
  std::vector<Row> moved_rows(const std::string& version, const std::string& table, const std::string& source,
                              size_t limit);
  long long count_moved(const std::string& version, const std::string& table, const std::string& source);
  // Whether another database's move copied a row of the same unique values here too.
  bool moved_from_elsewhere(const std::string& version, const std::string& table, const std::string& source,
                            const Row& key);
  void forget_moved(const std::string& version, const std::string& table, const std::string& source, const Row& key);
  // Every record of `version`: its contract or its abort ran here.
  void forget_moved(const std::string& version);

  void record_trigger(const std::string& version, const TriggerRecord& record);
  std::vector<TriggerRecord> triggers_of(const std::string& version);
  std::vector<std::pair<std::string, TriggerRecord>> all_triggers();
  void forget_triggers(const std::string& version);

 private:
  // Journals are keyed by a phase's name, or kAbortJournal.
  std::optional<Journal> journal_of(const std::string& key, const std::string& version);
  void save_journal_of(const std::string& key, const std::string& version, const Journal& journal);
  void journal_step_of(const std::string& key, const std::string& version, int step);
  void forget_journal_of(const std::string& key, const std::string& version);

  Connection& connection_;
};

// Current UTC time as ISO 8601 ("2026-11-21T09:00:05Z").
std::string utc_now();

}  // namespace tandem
