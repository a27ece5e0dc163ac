#include "state/state_store.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <set>

#include "schema_json.h"
#include "hex.h"
#include "sha256.h"
#include "tandem/error.h"
#include "tandem/version.h"

namespace tandem {

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

const char* status_name(RunStatus status) {
  switch (status) {
    case RunStatus::running: return "running";
    case RunStatus::done: return "done";
    case RunStatus::failed: return "failed";
    case RunStatus::incomplete: return "incomplete";
    case RunStatus::interrupted: return "interrupted";
    case RunStatus::repaired: return "repaired";
    case RunStatus::releases_ignored: return "releases_ignored";
    case RunStatus::baselined: return "baselined";
    case RunStatus::aborted: return "aborted";
  }
  return "failed";
}

std::optional<RunStatus> parse_status(const std::string& text) {
  for (RunStatus status : {RunStatus::running, RunStatus::done, RunStatus::failed, RunStatus::incomplete,
                           RunStatus::interrupted, RunStatus::repaired, RunStatus::releases_ignored,
                           RunStatus::baselined, RunStatus::aborted})
    if (text == status_name(status)) return status;
  return std::nullopt;
}

namespace {

// One row per row a move_rows (then: delete) moved into this database, naming the
// database it came from, so that an abort can move it back there (DESIGN §16): `row_key`
// is the JSON list of its `unique` values (in hex), `key_hash` their SHA-256 (a key of bounded size
// on every dialect). Written in the transaction that copies the row.
std::string moved_rows_table(const Dialect& dialect) {
  auto type = [&](StateType kind, int length = 0) { return dialect.state_type(kind, length); };
  return fmt::format("CREATE TABLE IF NOT EXISTS tandem_moved_rows (version {} NOT NULL, table_name {} NOT NULL, "
                     "source {} NOT NULL, key_hash {} NOT NULL, row_key {} NOT NULL, "
                     "PRIMARY KEY (version, table_name, source, key_hash)){}",
                     type(StateType::short_text, 32), type(StateType::short_text, 64),
                     type(StateType::short_text, 64), type(StateType::short_text, 64), type(StateType::long_text),
                     dialect.state_table_options());
}

// tandem's own tables, written once for every dialect: each names its column types
// (StateType) and table options.
std::vector<std::string> state_tables(const Dialect& dialect, const SqlRenderer& sql) {
  auto type = [&](StateType kind, int length = 0) { return dialect.state_type(kind, length); };
  const std::string name = type(StateType::short_text, 191);
  const std::string phase = type(StateType::short_text, 16);
  const std::string version = type(StateType::short_text, 32);
  const std::string time = type(StateType::short_text, 32);
  const std::string checksum = type(StateType::short_text, 64);
  const std::string options = dialect.state_table_options();
  return {
      moved_rows_table(dialect),
      fmt::format("CREATE TABLE IF NOT EXISTS tandem_version (phase {} PRIMARY KEY, version {} NOT NULL, "
                  "updated_at {} NOT NULL){}",
                  phase, type(StateType::bigint), time, options),
      fmt::format("CREATE TABLE IF NOT EXISTS tandem_history (id {}, phase {} NOT NULL, version {} NOT NULL, "
                  "name {} NOT NULL, checksum {} NOT NULL, status {} NOT NULL, step {} NOT NULL DEFAULT 0, error {}, "
                  "started_at {} NOT NULL, finished_at {}, tool_version {} NOT NULL){}",
                  type(StateType::serial_key), phase, version, name, checksum, phase, type(StateType::integer),
                  type(StateType::long_text), time, time, type(StateType::short_text, 64), options),
      fmt::format("CREATE TABLE IF NOT EXISTS tandem_triggers (trigger_name {} PRIMARY KEY, version {} NOT NULL, "
                  "table_name {} NOT NULL, function_name {}, created_at {} NOT NULL){}",
                  name, version, name, name, time, options),
      fmt::format("CREATE TABLE IF NOT EXISTS tandem_progress (phase {} NOT NULL, version {} NOT NULL, "
                  "operation {} NOT NULL, {} {}, rows_done {} NOT NULL DEFAULT 0, rows_found {}, "
                  "done {} NOT NULL DEFAULT 0, updated_at {} NOT NULL, PRIMARY KEY (phase, version, operation)){}",
                  phase, version, type(StateType::integer), sql.quote("cursor"), type(StateType::long_text),
                  type(StateType::bigint), type(StateType::bigint), type(StateType::integer), time, options),
      fmt::format("CREATE TABLE IF NOT EXISTS tandem_bypass (active {} NOT NULL){}", type(StateType::integer), options),
      fmt::format("CREATE TABLE IF NOT EXISTS tandem_journal (phase {} NOT NULL, version {} NOT NULL, "
                  "checksum {} NOT NULL, step {} NOT NULL, plan {} NOT NULL, before_schema {} NOT NULL, "
                  "PRIMARY KEY (phase, version)){}",
                  phase, version, checksum, type(StateType::integer), type(StateType::document),
                  type(StateType::document), options),
  };
}

}  // namespace

std::string releases_table(Connection& connection) {
  const Dialect& dialect = dialect_of(connection.kind());
  auto type = [&](StateType kind, int length = 0) { return dialect.state_type(kind, length); };
  const std::string key = type(StateType::short_text, 191);
  return fmt::format("CREATE TABLE IF NOT EXISTS tandem_releases (service {} NOT NULL, instance {} NOT NULL, {} {} NOT NULL, "
                     "host {} NOT NULL, pid {} NOT NULL, started_at {} NOT NULL, heartbeat_at {} NOT NULL, "
                     "ttl_seconds {} NOT NULL, PRIMARY KEY (service, instance)){}",
                     key, key, connection.renderer().quote("release"), type(StateType::bigint),
                     type(StateType::short_text, 255), type(StateType::bigint), type(StateType::short_text, 32),
                     type(StateType::short_text, 32), type(StateType::integer), dialect.state_table_options());
}

bool StateStore::exists() {
  try {
    connection_.query("SELECT phase FROM tandem_version WHERE 1 = 0");
    return true;
  } catch (const Error&) {
    return false;
  }
}

void StateStore::ensure() {
  for (const auto& sql : state_tables(dialect_of(connection_.kind()), connection_.renderer())) connection_.execute(sql);
  connection_.execute(releases_table(connection_));
  for (Phase phase : kPhases)
    if (connection_.query("SELECT version FROM tandem_version WHERE phase = ?", {phase_name(phase)}).empty())
      connection_.update("INSERT INTO tandem_version (phase, version, updated_at) VALUES (?, 0, ?)",
                         {phase_name(phase), utc_now()});
}

std::map<Phase, long long> StateStore::versions() {
  std::map<Phase, long long> result{{Phase::expand, 0}, {Phase::migrate, 0}, {Phase::contract, 0}};
  for (const auto& row : connection_.query("SELECT phase, version FROM tandem_version"))
    if (auto phase = parse_phase(row[0].value_or(""))) result[*phase] = std::stoll(row[1].value_or("0"));
  return result;
}

void StateStore::set_version(Phase phase, long long version) {
  connection_.update("UPDATE tandem_version SET version = ?, updated_at = ? WHERE phase = ?",
                     {std::to_string(version), utc_now(), phase_name(phase)});
}

std::map<std::pair<Phase, long long>, std::string> StateStore::applied_checksums() {
  std::map<std::pair<Phase, long long>, std::string> result;
  for (const auto& row :
       connection_.query("SELECT phase, version, checksum, status FROM tandem_history WHERE status IN (?, ?, ?) ORDER BY id",
                         {status_name(RunStatus::done), status_name(RunStatus::baselined),
                          status_name(RunStatus::aborted)}))
    if (auto phase = parse_phase(row[0].value_or(""))) {
      const std::pair<Phase, long long> key{*phase, std::stoll(row[1].value_or("0"))};
      if (row[3].value_or("") == status_name(RunStatus::aborted))
        result.erase(key);
      else
        result[key] = row[2].value_or("");
    }
  return result;
}

long long StateStore::start_history(Phase phase, const std::string& version, const std::string& name,
                                    const std::string& checksum) {
  connection_.update(
      "INSERT INTO tandem_history (phase, version, name, checksum, status, step, started_at, tool_version) "
      "VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
      {phase_name(phase), version, name, checksum, status_name(RunStatus::running), utc_now(),
       std::string(kToolVersion)});
  auto rows = connection_.query("SELECT max(id) FROM tandem_history WHERE phase = ? AND version = ?",
                                {phase_name(phase), version});
  return std::stoll(rows.at(0).at(0).value_or("0"));
}

void StateStore::finish_history(long long id, RunStatus status, int step, const std::optional<std::string>& error) {
  connection_.update("UPDATE tandem_history SET status = ?, step = ?, error = ?, finished_at = ? WHERE id = ?",
                     {status_name(status), std::to_string(step), error, utc_now(), std::to_string(id)});
}

void StateStore::close_dead_runs() {
  connection_.update(
      "UPDATE tandem_history SET status = ?, error = ?, finished_at = ? WHERE status = ?",
      {status_name(RunStatus::interrupted), std::string("the run was killed or lost its connection before it finished"),
       utc_now(), status_name(RunStatus::running)});
}

std::optional<RunStatus> StateStore::last_status(Phase phase, const std::string& version) {
  const auto rows = connection_.query(
      "SELECT status FROM tandem_history WHERE id = (SELECT max(id) FROM tandem_history WHERE phase = ? AND version = ? "
      "AND status <> 'releases_ignored')",
      {phase_name(phase), version});
  if (rows.empty()) return std::nullopt;
  return parse_status(rows[0][0].value_or(""));
}

void StateStore::record_failure(Phase phase, const std::string& version, const std::string& name,
                                const std::string& checksum, int step, const std::string& error) {
  const long long id = start_history(phase, version, name, checksum);
  finish_history(id, RunStatus::failed, step, error);
}

void StateStore::record_releases_ignored(Phase phase, const std::string& version, const std::string& name,
                                         const std::string& checksum, const std::string& releases) {
  const long long id = start_history(phase, version, name, checksum);
  finish_history(id, RunStatus::releases_ignored, 0, releases);
}

void StateStore::record_aborted(Phase phase, const std::string& version, const std::string& name,
                                const std::string& checksum, const std::string& note) {
  const long long id = start_history(phase, version, name, checksum);
  finish_history(id, RunStatus::aborted, 0, note);
}

std::vector<std::pair<std::string, std::string>> StateStore::aborted_versions() {
  std::map<std::string, std::pair<std::string, std::string>> latest;  // version -> (status, when)
  for (const auto& row : connection_.query(
           "SELECT version, status, finished_at FROM tandem_history WHERE phase = ? AND status IN (?, ?, ?) ORDER BY id",
           {phase_name(Phase::expand), status_name(RunStatus::done), status_name(RunStatus::baselined),
            status_name(RunStatus::aborted)}))
    latest[row[0].value_or("")] = {row[1].value_or(""), row[2].value_or("")};
  std::vector<std::pair<std::string, std::string>> aborted;
  for (const auto& [version, last] : latest)
    if (last.first == status_name(RunStatus::aborted)) aborted.emplace_back(version, last.second);
  return aborted;
}

std::vector<HistoryEntry> StateStore::history() {
  std::vector<HistoryEntry> entries;
  for (const auto& row : connection_.query(
           "SELECT phase, version, name, checksum, status, step, error, started_at, finished_at, tool_version "
           "FROM tandem_history ORDER BY id")) {
    HistoryEntry entry;
    entry.phase = row[0].value_or("");
    entry.version = row[1].value_or("");
    entry.name = row[2].value_or("");
    entry.checksum = row[3].value_or("");
    entry.status = row[4].value_or("");
    entry.step = std::stoi(row[5].value_or("0"));
    entry.error = row[6];
    entry.started_at = row[7].value_or("");
    entry.finished_at = row[8];
    entry.tool_version = row[9].value_or("");
    entries.push_back(std::move(entry));
  }
  return entries;
}

schema::Schema StateStore::Journal::before() const {
  schema::Schema schema;
  nlohmann::json::parse(before_schema).get_to(schema);
  return schema;
}

size_t StateStore::Journal::step_count() const { return nlohmann::json::parse(plan).size(); }

namespace {
// The key of abort journals in tandem_journal's phase column: no phase is named so.
constexpr const char* kAbortJournal = "abort";
}  // namespace

std::optional<StateStore::Journal> StateStore::journal_of(const std::string& key, const std::string& version) {
  auto rows = connection_.query(
      "SELECT checksum, step, plan, before_schema FROM tandem_journal WHERE phase = ? AND version = ?", {key, version});
  if (rows.empty()) return std::nullopt;
  return Journal{rows[0][0].value_or(""), std::stoi(rows[0][1].value_or("0")), rows[0][2].value_or("[]"),
                 rows[0][3].value_or("{}")};
}

void StateStore::save_journal_of(const std::string& key, const std::string& version, const Journal& journal) {
  forget_journal_of(key, version);
  connection_.update(
      "INSERT INTO tandem_journal (phase, version, checksum, step, plan, before_schema) VALUES (?, ?, ?, ?, ?, ?)",
      {key, version, journal.checksum, std::to_string(journal.step), journal.plan, journal.before_schema});
}

void StateStore::journal_step_of(const std::string& key, const std::string& version, int step) {
  connection_.update("UPDATE tandem_journal SET step = ? WHERE phase = ? AND version = ?",
                     {std::to_string(step), key, version});
}

void StateStore::forget_journal_of(const std::string& key, const std::string& version) {
  connection_.update("DELETE FROM tandem_journal WHERE phase = ? AND version = ?", {key, version});
}

std::optional<StateStore::Journal> StateStore::journal(Phase phase, const std::string& version) {
  return journal_of(phase_name(phase), version);
}
void StateStore::save_journal(Phase phase, const std::string& version, const Journal& journal) {
  save_journal_of(phase_name(phase), version, journal);
}
void StateStore::journal_step(Phase phase, const std::string& version, int step) {
  journal_step_of(phase_name(phase), version, step);
}
void StateStore::forget_journal(Phase phase, const std::string& version) { forget_journal_of(phase_name(phase), version); }

std::optional<StateStore::Journal> StateStore::abort_journal(const std::string& version) {
  return journal_of(kAbortJournal, version);
}
void StateStore::save_abort_journal(const std::string& version, const Journal& journal) {
  save_journal_of(kAbortJournal, version, journal);
}
void StateStore::abort_journal_step(const std::string& version, int step) { journal_step_of(kAbortJournal, version, step); }
void StateStore::forget_abort_journal(const std::string& version) { forget_journal_of(kAbortJournal, version); }

std::vector<long long> StateStore::aborts_in_progress() {
  std::vector<long long> versions;
  for (const auto& row : connection_.query("SELECT version FROM tandem_journal WHERE phase = ?", {kAbortJournal}))
    versions.push_back(std::stoll(row[0].value_or("0")));
  return versions;
}

std::optional<StateStore::Progress> StateStore::progress(Phase phase, const std::string& version, int operation) {
  // `cursor` is a reserved word on MySQL.
  auto rows = connection_.query(
      fmt::format("SELECT {}, rows_done, rows_found, done FROM tandem_progress WHERE phase = ? AND version = ? AND "
                  "operation = ?",
                  connection_.renderer().quote("cursor")),
      {phase_name(phase), version, std::to_string(operation)});
  if (rows.empty()) return std::nullopt;
  return Progress{rows[0][0].value_or("{}"), std::stoll(rows[0][1].value_or("0")), std::stoll(rows[0][2].value_or("0")),
                  rows[0][3].value_or("0") != "0"};
}

void StateStore::save_progress(Phase phase, const std::string& version, int operation, const Progress& progress) {
  // One statement per batch in the common case: the row exists after the first.
  if (connection_.update(fmt::format("UPDATE tandem_progress SET {} = ?, rows_done = ?, rows_found = ?, done = ?, "
                                     "updated_at = ? WHERE phase = ? AND version = ? AND operation = ?",
                                     connection_.renderer().quote("cursor")),
                         {progress.cursor, std::to_string(progress.rows_done), std::to_string(progress.rows_found),
                          progress.done ? "1" : "0", utc_now(), phase_name(phase), version, std::to_string(operation)}) > 0)
    return;
  connection_.update(
      fmt::format("INSERT INTO tandem_progress (phase, version, operation, {}, rows_done, rows_found, done, updated_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  connection_.renderer().quote("cursor")),
      {phase_name(phase), version, std::to_string(operation), progress.cursor, std::to_string(progress.rows_done),
       std::to_string(progress.rows_found), progress.done ? "1" : "0", utc_now()});
}

void StateStore::forget_progress(Phase phase, const std::string& version) {
  connection_.update("DELETE FROM tandem_progress WHERE phase = ? AND version = ?", {phase_name(phase), version});
}

void StateStore::ensure_moved_rows() { connection_.execute(moved_rows_table(dialect_of(connection_.kind()))); }

namespace {

// Each value in hex (null for NULL): a unique value is whatever bytes the column holds,
// valid UTF-8 or not, and JSON text takes only the former.
std::string key_text(const Row& key) {
  nlohmann::json values = nlohmann::json::array();
  for (const auto& value : key) values.push_back(value ? nlohmann::json(to_hex(*value)) : nlohmann::json(nullptr));
  return values.dump();
}

Row key_of_text(const std::string& text) {
  Row key;
  for (const auto& value : nlohmann::json::parse(text)) {
    if (value.is_null()) {
      key.emplace_back();
      continue;
    }
    auto bytes = from_hex(value.get<std::string>());
    if (!bytes) throw Error(ErrorKind::step_failed, fmt::format("a tandem_moved_rows key is not hex: {}", text));
    key.emplace_back(std::move(*bytes));
  }
  return key;
}

// Statements of at most this many rows' parameters.
constexpr size_t kMovedPerStatement = 100;

}  // namespace

void StateStore::record_moved(const std::string& version, const std::string& table, const std::string& source,
                              const std::vector<Row>& keys) {
  for (size_t begin = 0; begin < keys.size(); begin += kMovedPerStatement) {
    const size_t end = std::min(keys.size(), begin + kMovedPerStatement);
    std::vector<std::string> texts, hashes;
    std::vector<Value> params{version, table, source};
    for (size_t i = begin; i < end; ++i) {
      texts.push_back(key_text(keys[i]));
      hashes.push_back(sha256_hex(texts.back()));
      params.push_back(hashes.back());
    }
    // A row copied again (a rerun after a kill, a row changed since its copy) is recorded once.
    std::set<std::string> known;
    const std::vector<std::string> marks(end - begin, "?");
    for (const auto& row : connection_.query(fmt::format("SELECT key_hash FROM tandem_moved_rows WHERE version = ? AND "
                                                         "table_name = ? AND source = ? AND key_hash IN ({})",
                                                         fmt::join(marks, ", ")),
                                             params))
      known.insert(row[0].value_or(""));
    std::vector<Value> inserted;
    std::vector<std::string> tuples;
    for (size_t i = 0; i < hashes.size(); ++i) {
      if (!known.insert(hashes[i]).second) continue;
      inserted.insert(inserted.end(), {version, table, source, hashes[i], texts[i]});
      tuples.push_back("(?, ?, ?, ?, ?)");
    }
    if (!tuples.empty())
      connection_.update(fmt::format("INSERT INTO tandem_moved_rows (version, table_name, source, key_hash, row_key) "
                                     "VALUES {}",
                                     fmt::join(tuples, ", ")),
                         inserted);
  }
}

std::vector<Row> StateStore::moved_rows(const std::string& version, const std::string& table, const std::string& source,
                                        size_t limit) {
  std::vector<Row> keys;
  for (const auto& row : connection_.query(fmt::format("SELECT row_key FROM tandem_moved_rows WHERE version = ? AND "
                                                       "table_name = ? AND source = ? ORDER BY key_hash LIMIT {}",
                                                       limit),
                                           {version, table, source})) {
    keys.push_back(key_of_text(row[0].value_or("[]")));
  }
  return keys;
}

long long StateStore::count_moved(const std::string& version, const std::string& table, const std::string& source) {
  const auto rows = connection_.query(
      "SELECT count(*) FROM tandem_moved_rows WHERE version = ? AND table_name = ? AND source = ?", {version, table, source});
  return rows.empty() ? 0 : std::stoll(rows[0][0].value_or("0"));
}

bool StateStore::moved_from_elsewhere(const std::string& version, const std::string& table, const std::string& source,
                                      const Row& key) {
  return !connection_
              .query("SELECT 1 FROM tandem_moved_rows WHERE version = ? AND table_name = ? AND source <> ? AND "
                     "key_hash = ?",
                     {version, table, source, sha256_hex(key_text(key))})
              .empty();
}

void StateStore::forget_moved(const std::string& version, const std::string& table, const std::string& source,
                              const Row& key) {
  connection_.update("DELETE FROM tandem_moved_rows WHERE version = ? AND table_name = ? AND source = ? AND key_hash = ?",
                     {version, table, source, sha256_hex(key_text(key))});
}

void StateStore::forget_moved(const std::string& version) {
  connection_.update("DELETE FROM tandem_moved_rows WHERE version = ?", {version});
}

void StateStore::record_trigger(const std::string& version, const TriggerRecord& record) {
  // A journaled step re-run after a crash records its trigger again.
  connection_.update("DELETE FROM tandem_triggers WHERE trigger_name = ?", {record.trigger});
  connection_.update(
      "INSERT INTO tandem_triggers (trigger_name, version, table_name, function_name, created_at) VALUES (?, ?, ?, ?, ?)",
      {record.trigger, version, record.table, record.function.empty() ? Value() : Value(record.function), utc_now()});
}

std::vector<TriggerRecord> StateStore::triggers_of(const std::string& version) {
  std::vector<TriggerRecord> records;
  for (const auto& row : connection_.query(
           "SELECT trigger_name, table_name, function_name FROM tandem_triggers WHERE version = ? ORDER BY trigger_name",
           {version}))
    records.push_back({row[0].value_or(""), row[1].value_or(""), row[2].value_or("")});
  return records;
}

std::vector<std::pair<std::string, TriggerRecord>> StateStore::all_triggers() {
  std::vector<std::pair<std::string, TriggerRecord>> records;
  for (const auto& row : connection_.query(
           "SELECT version, trigger_name, table_name, function_name FROM tandem_triggers ORDER BY version, trigger_name"))
    records.push_back({row[0].value_or(""), {row[1].value_or(""), row[2].value_or(""), row[3].value_or("")}});
  return records;
}

void StateStore::forget_triggers(const std::string& version) {
  connection_.update("DELETE FROM tandem_triggers WHERE version = ?", {version});
}

}  // namespace tandem
