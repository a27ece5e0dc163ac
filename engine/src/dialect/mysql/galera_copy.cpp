// The online copy (DESIGN §14), as pt-online-schema-change does it on Galera: the index
// is built on an empty copy of the table, which triggers on the table keep in step with
// every write while batches fill it, walking the primary key; one RENAME TABLE, atomic on
// every node under TOI, then puts the copy in the table's place. Every statement that
// takes the cluster's order (CREATE TABLE, CREATE TRIGGER, RENAME, DROP) is short, so no
// node's commits wait for the build, however large the table.
//
// What the table carries goes with it: its own foreign keys are made on the copy under
// names with a leading '_' (a foreign key's name is the database's, not the table's) and
// given theirs back after the swap. A table with triggers is not copied: moving them to
// the copy across the swap, under their own names, was not reliable on every node (on the
// test cluster a node now and then kept a stale one or missed a new one, and its writes
// went unsynced meanwhile). Nor is a table that other tables' foreign keys reference
// (their keys would follow the old table through the RENAME), nor one without a
// one-column primary key to walk.
//
// Killed anywhere, the next run (through any node) finishes what it finds: a copy not yet
// swapped in is dropped and made afresh; a swap done but not tidied is tidied.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <thread>

#include "dialect/mysql/mysql.h"
#include "failpoint.h"
#include "tandem/error.h"

namespace tandem::mysql {

namespace {

constexpr long long kCopyBatchRows = 1000;   // the first batch's rows
constexpr long long kCopyBatchMost = 10000;  // and the most any batch copies
constexpr std::chrono::milliseconds kBatchTime{50};
constexpr int kDdlAttempts = 60;

// Runs `attempt` until it does not lose a lock fight (a lock timeout, a lost
// certification), at most kDdlAttempts times, waiting `step` longer after each loss (at
// most a second). Here, not in the runner, whose retry would start the copy again.
template <typename Attempt>
void retry_here(MysqlConnection& session, std::chrono::milliseconds step, Attempt attempt) {
  for (int tries = 1;; ++tries) {
    try {
      attempt();
      return;
    } catch (const Error& error) {
      if (!session.is_lock_timeout(error) || tries == kDdlAttempts) throw;
      std::this_thread::sleep_for(std::min(step * tries, std::chrono::milliseconds(1000)));
    }
  }
}

std::string one(const std::vector<Row>& rows) {
  return rows.empty() || rows[0].empty() ? "" : rows[0][0].value_or("");
}

}  // namespace

OnlineCopy::OnlineCopy(MysqlConnection& session, std::string database, std::string table)
    : session_(session),
      sql_(session.renderer()),
      database_(std::move(database)),
      table_(std::move(table)),
      copy_(sql_.generated_name(kOnlineCopyPrefix + ("new_" + table_))),
      old_(sql_.generated_name(kOnlineCopyPrefix + ("old_" + table_))) {}

bool OnlineCopy::exists(const std::string& table) {
  return one(session_.query("SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                            {database_, table})) != "0";
}

std::vector<std::string> OnlineCopy::triggers_of(const std::string& table) {
  std::vector<std::string> triggers;
  for (const auto& row : session_.query("SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? "
                                        "AND EVENT_OBJECT_TABLE = ? ORDER BY TRIGGER_NAME",
                                        {database_, table}))
    triggers.push_back(row.at(0).value_or(""));
  return triggers;
}

std::optional<std::string> OnlineCopy::refusal() {
  const auto key = session_.query("SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? "
                                  "AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY'",
                                  {database_, table_});
  if (key.size() != 1) return fmt::format("{} has no one-column primary key to copy it by", table_);
  key_ = key.at(0).at(0).value_or("");
  const auto referencing =
      session_.query("SELECT DISTINCT TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE "
                     "UNIQUE_CONSTRAINT_SCHEMA = ? AND REFERENCED_TABLE_NAME = ?",
                     {database_, table_});
  if (!referencing.empty()) {
    std::vector<std::string> names;
    for (const auto& row : referencing) names.push_back(row.at(0).value_or(""));
    return fmt::format("foreign keys of {} reference {}, and would follow the old table through the swap",
                       fmt::join(names, ", "), table_);
  }
  if (const auto triggers = triggers_of(table_); !triggers.empty())
    return fmt::format("{} has triggers ({}), which a copy cannot take across the swap on every node", table_,
                       fmt::join(triggers, ", "));
  return std::nullopt;
}

void OnlineCopy::ddl(const std::string& statement) {
  // Each is short, but waits for the table's open transactions.
  retry_here(session_, std::chrono::milliseconds(50), [&] { session_.execute(statement); });
}

bool OnlineCopy::interrupted() { return exists(copy_) || exists(old_); }

void OnlineCopy::discard_unswapped() {
  for (const char* event : {"ins", "upd", "del"})
    ddl(fmt::format("DROP TRIGGER IF EXISTS {}", sql_.quote(copy_trigger(event))));
  ddl(fmt::format("DROP TABLE IF EXISTS {}", sql_.quote(copy_)));
}

std::string OnlineCopy::copy_trigger(const char* event) const {
  return sql_.generated_name(fmt::format("{}copy_{}_{}", kOnlineCopyPrefix, event, table_));
}

void OnlineCopy::finish_swap() {
  // The old table goes, and with it the copy's triggers, freeing the foreign keys' names.
  ddl(fmt::format("DROP TABLE IF EXISTS {}", sql_.quote(old_)));
  // The foreign keys take their names back: dropped and made again unchecked, a change of
  // metadata only (every row was checked as it was written).
  const auto shown = session_.query(fmt::format("SHOW CREATE TABLE {}", sql_.quote(table_)), {});
  const std::string definition = shown.empty() || shown[0].size() < 2 ? "" : shown[0][1].value_or("");
  static const std::regex carried_key(R"(CONSTRAINT `_((?:[^`]|``)+)` (FOREIGN KEY [^\n]*?),?\n)");
  for (auto it = std::sregex_iterator(definition.begin(), definition.end(), carried_key); it != std::sregex_iterator();
       ++it) {
    const std::string name = (*it)[1];
    // Only a name the old table's drop freed: an application's own key may start with '_'.
    if (one(session_.query("SELECT count(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = "
                           "? AND CONSTRAINT_NAME = ?",
                           {database_, name})) != "0")
      continue;
    ddl(fmt::format("SET STATEMENT foreign_key_checks = 0 FOR\nALTER TABLE {} DROP FOREIGN KEY `_{}`, ADD CONSTRAINT "
                    "`{}` {}, ALGORITHM=INPLACE",
                    sql_.quote(table_), name, name, (*it)[2].str()));
  }
}

std::string OnlineCopy::run(const std::string& alter) {
  if (interrupted()) {
    if (exists(old_)) {
      finish_swap();
      return fmt::format("finished the swap of {}'s online copy that a stopped run began", table_);
    }
    discard_unswapped();
  }
  if (auto why = refusal()) throw Error(ErrorKind::step_failed, fmt::format("cannot copy {}: {}", table_, *why));
  std::optional<std::string> filled;
  try {
    filled = fill(alter);
  } catch (...) {
    // A copy that failed (not one killed) leaves nothing behind: the table's writes
    // would otherwise go on being mirrored into it.
    try {
      discard_unswapped();
    } catch (...) {  // the copy's own error is the one to report
    }
    throw;
  }
  if (!filled) {
    discard_unswapped();
    return fmt::format("the change was on {} already (a stopped run's statement the server finished)", table_);
  }

  // 4. The swap, then the old table and the names.
  ddl(fmt::format("RENAME TABLE {} TO {}, {} TO {}", sql_.quote(table_), sql_.quote(old_), sql_.quote(copy_),
                  sql_.quote(table_)));
  finish_swap();
  return *filled;
}

std::optional<std::string> OnlineCopy::fill(const std::string& alter) {
  // 1. The copy, its foreign keys under names of its own, and the change.
  const auto shown = session_.query(fmt::format("SHOW CREATE TABLE {}", sql_.quote(table_)), {});
  std::string definition = shown.at(0).at(1).value_or("");
  const std::string header = "CREATE TABLE " + sql_.quote(table_);
  if (definition.rfind(header, 0) != 0)
    throw Error(ErrorKind::step_failed, fmt::format("cannot copy {}: SHOW CREATE TABLE says '{}'", table_,
                                                    definition.substr(0, 80)));
  definition = "CREATE TABLE " + sql_.quote(copy_) + definition.substr(header.size());
  static const std::regex foreign_key(R"(CONSTRAINT `((?:[^`]|``)+)` FOREIGN KEY)");
  definition = std::regex_replace(definition, foreign_key, "CONSTRAINT `_$1` FOREIGN KEY");
  ddl(definition);
  const std::string target = "ALTER TABLE " + sql_.quote(table_);
  const size_t at = alter.find(target);
  if (at == std::string::npos)
    throw Error(ErrorKind::step_failed, fmt::format("cannot copy {}: the statement is not an ALTER TABLE of it", table_))
        .with_sql(alter);
  try {
    ddl(alter.substr(0, at) + "ALTER TABLE " + sql_.quote(copy_) + alter.substr(at + target.size()));
  } catch (const Error& error) {
    if (session_.is_already_applied(error)) return std::nullopt;
    throw;
  }

  // 2. Every write to the table from now on, into the copy too.
  std::vector<std::string> columns, values;
  for (const auto& row : session_.query("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND "
                                        "TABLE_NAME = ? AND EXTRA NOT LIKE '%GENERATED%' AND EXTRA NOT LIKE "
                                        "'%VIRTUAL%' AND EXTRA NOT LIKE '%STORED%' ORDER BY ORDINAL_POSITION",
                                        {database_, table_})) {
    columns.push_back(sql_.quote(row.at(0).value_or("")));
    values.push_back("NEW." + columns.back());
  }
  const std::string list = fmt::format("{}", fmt::join(columns, ", "));
  const std::string copy = sql_.quote(copy_), key = sql_.quote(key_);
  auto body = [](const std::string& statements) { return "BEGIN\n" + statements + "END"; };
  std::vector<std::string> old_values;
  for (const auto& column : columns) old_values.push_back("OLD." + column);
  const std::string replace = fmt::format("  REPLACE INTO {} ({}) VALUES ({});\n", copy, list, fmt::join(values, ", "));
  // A row gone from the table goes from the copy by being written there and deleted:
  // deleting a row the batches have not copied yet writes no row, so the writeset would
  // hold no key of the copy's row, and a batch copying that row through another node at
  // the same moment would pass certification beside it, bringing the row back.
  const std::string remove_old =
      fmt::format("  REPLACE INTO {0} ({1}) VALUES ({2});\n  DELETE FROM {0} WHERE {3} = OLD.{3};\n", copy, list,
                  fmt::join(old_values, ", "), key);
  ddl(fmt::format("CREATE TRIGGER {} AFTER INSERT ON {} FOR EACH ROW\n{}", sql_.quote(copy_trigger("ins")),
                  sql_.quote(table_), body(replace)));
  ddl(fmt::format("CREATE TRIGGER {} AFTER UPDATE ON {} FOR EACH ROW\n{}", sql_.quote(copy_trigger("upd")),
                  sql_.quote(table_),
                  body(fmt::format("  IF NOT (NEW.{0} <=> OLD.{0}) THEN\n{1}  END IF;\n{2}", key, remove_old, replace))));
  ddl(fmt::format("CREATE TRIGGER {} AFTER DELETE ON {} FOR EACH ROW\n{}", sql_.quote(copy_trigger("del")),
                  sql_.quote(table_), body(remove_old)));

  // 3. The rows there were, in batches along the key. A row a trigger copied already is
  // newer than the batch's and stays; the shared locks INSERT ... SELECT takes on what it
  // reads keep a row from changing between its read and its copy, and a row changed
  // through another node meanwhile loses certification (1213) to the one or the other,
  // retried. Each batch is one writeset, which every node applies before it commits
  // anything certified after it: its size follows how long the last took, aiming at
  // kBatchTime.
  const long long most = std::min(kCopyBatchMost, session_.batch_row_limit(copy_).value_or(kCopyBatchMost));
  long long size = std::min(kCopyBatchRows, most), largest = 0, batches = 0;
  const std::string table = sql_.quote(table_);
  // Every row was checked against its parent when it was written to the table.
  session_.execute("SET SESSION foreign_key_checks = 0");
  std::optional<std::string> after;  // the last key copied
  try {
    while (true) {
      while (session_.asks_to_hold_back()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      std::vector<Value> bounds;
      if (after) bounds.push_back(*after);
      const auto ends = session_.query(fmt::format("SELECT {0} FROM {1}{2} ORDER BY {0} LIMIT 1 OFFSET {3}", key, table,
                                                   after ? fmt::format(" WHERE {} > ?", key) : "", size - 1),
                                       bounds);
      const std::optional<std::string> high = ends.empty() ? std::nullopt : ends.at(0).at(0);
      if (high) bounds.push_back(*high);
      const std::string fill = fmt::format(
          "INSERT INTO {0} ({1}) SELECT {1} FROM {2} WHERE {3}{4} ON DUPLICATE KEY UPDATE {0}.{5} = {0}.{5}", copy,
          list, table, after ? key + " > ?" : "TRUE", high ? " AND " + key + " <= ?" : "", key);
      const auto started = std::chrono::steady_clock::now();
      retry_here(session_, std::chrono::milliseconds(20), [&] { session_.update(fill, bounds); });
      const auto took = std::max<long long>(
          1, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
      largest = std::max(largest, size);
      size = std::clamp(size * kBatchTime.count() / took, std::max<long long>(1, size / 2), std::min(most, size * 2));
      failpoint::reach(failpoint::Moment::after, failpoint::Site::copy, static_cast<int>(++batches));
      if (!high) break;
      after = high;
    }
    session_.execute("SET SESSION foreign_key_checks = 1");
  } catch (...) {
    try {
      session_.execute("SET SESSION foreign_key_checks = 1");
    } catch (...) {  // the copy's own error is the one to report
    }
    throw;
  }
  return fmt::format("copied its rows in {} batches of up to {} into a copy with the change, swapped in by one RENAME",
                     batches, largest);
}

}  // namespace tandem::mysql
