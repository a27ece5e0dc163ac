#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <thread>

#include "dialect/sqlite/sqlite.h"
#include "dialect/registry.h"
#include "tandem/error.h"

namespace tandem::sqlite {

SqliteConnection::SqliteConnection(const DatabaseUrl& url, Access access) : url_(url) {
  if (!url.is_memory()) {
    const auto folder = std::filesystem::path(url.database).parent_path();
    if (!folder.empty() && !std::filesystem::is_directory(folder))
      throw Error(ErrorKind::unreachable,
                  fmt::format("cannot open {}: folder '{}' does not exist", url.redacted(), folder.string()));
    if (access == Access::read_only && !std::filesystem::exists(url.database))
      throw Error(ErrorKind::unreachable,
                  fmt::format("cannot open {}: the file does not exist (this command only reads, and creates none)",
                              url.redacted()));
  }
  const int mode = access == Access::read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(url.database.c_str(), &db_, mode | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(ErrorKind::unreachable, fmt::format("cannot open {}: {}", url.redacted(), message));
  }
  // The application keeps writing while tandem runs: wait for its short transactions
  // instead of failing on SQLITE_BUSY. SQLite's own busy timeout sleeps up to 100 ms
  // between tries, and a writer that never pauses takes the lock back in every gap:
  // tandem tries every millisecond instead, for 10 s. Its wait queues nobody behind it
  // (unlike a server's lock queue), so --lock-timeout does not shorten it: bookkeeping
  // outside a retried batch or unit must not fail on a busy application.
  sqlite3_busy_handler(
      db_,
      [](void* self, int tries) {
        auto& connection = *static_cast<SqliteConnection*>(self);
        const auto now = std::chrono::steady_clock::now();
        if (tries == 0) connection.busy_since_ = now;
        if (now - connection.busy_since_ >= kBusyWait) return 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return 1;
      },
      this);
  try {
    execute("SELECT count(*) FROM sqlite_master");
  } catch (const Error& error) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(ErrorKind::unreachable, fmt::format("cannot read {}: {}", url.redacted(), error.what()));
  }
}

SqliteConnection::~SqliteConnection() {
  if (db_) sqlite3_close(db_);
}

// One UPDATE over a whole table holds the write lock for as long as it runs; migrate's
// batches must not hold it for long, nor pay for each commit what one statement pays once.
// - Batches aim at kBatchTime each (adaptive, as --batch-time), not 1000 rows: a
//   thousand rows take a fraction of a millisecond here, less than their commit.
// - In WAL mode, while no other connection writes, a walk commits with
//   synchronous=NORMAL: no fsync per batch. A crash of the process loses nothing
//   committed; a power cut can lose the last batches, each with its cursor (WAL keeps
//   commits in order), so the rerun redoes them. Once another connection writes, the
//   previous setting is back: at NORMAL, that writer's next FULL commit would flush all
//   the batches' unsynced pages and wait for them. After the walk too, so the next commit
//   at FULL syncs the WAL whole. A rollback journal keeps its setting: there NORMAL could
//   corrupt the file on a power cut.
// - SQLite's write lock is no queue: a writer in sqlite3_busy_timeout polls at 1, 3, 8,
//   18, 33, 53, 78, 103 ms, and gets the lock only if a poll finds it free. Once another
//   connection has committed in the last kWriterMemory (PRAGMA data_version tells), the
//   walk pauses kWriterWindow after at most kLongestHold of batches: every 25 ms of the
//   writer's first 128 ms holds a poll, so a 30 ms window falls on one, and a writer
//   waits about kLongestHold plus a batch at most. With no other writer, no pause.
void SqliteConnection::batch_walk(bool starting) {
  if (starting) {
    held_ = std::chrono::milliseconds{0};
    writer_seen_ever_ = false;
    data_version_ = pragma("PRAGMA data_version");
    const auto mode = query("PRAGMA journal_mode", {}).at(0).at(0).value_or("");
    const long long synchronous = pragma("PRAGMA synchronous");
    if (mode == "wal" && synchronous > kSynchronousNormal) synchronous_before_walk_ = synchronous;
    relax_sync(true);
  } else {
    relax_sync(false);
    synchronous_before_walk_.reset();
  }
}

void SqliteConnection::relax_sync(bool relax) {
  if (!synchronous_before_walk_ || relax == sync_relaxed_) return;
  execute(fmt::format("PRAGMA synchronous = {}", relax ? kSynchronousNormal : *synchronous_before_walk_));
  sync_relaxed_ = relax;
}

long long SqliteConnection::pragma(const std::string& sql) {
  return std::stoll(query(sql, {}).at(0).at(0).value_or("0"));
}

std::chrono::milliseconds SqliteConnection::writer_pause(std::chrono::milliseconds took) {
  const auto now = std::chrono::steady_clock::now();
  const long long version = pragma("PRAGMA data_version");
  if (version != data_version_) {
    data_version_ = version;
    writer_seen_ = now;
    writer_seen_ever_ = true;
  }
  const bool writing = writer_seen_ever_ && now - writer_seen_ <= kWriterMemory;
  relax_sync(!writing);
  if (!writing) {
    held_ = std::chrono::milliseconds{0};
    return std::chrono::milliseconds{0};
  }
  held_ += took;
  if (held_ < kLongestHold) return std::chrono::milliseconds{0};
  held_ = std::chrono::milliseconds{0};
  return kWriterWindow;
}

const SqlRenderer& SqliteConnection::renderer() const { return sqlite_renderer(); }

void SqliteConnection::fail(const std::string& sql) const {
  throw Error(ErrorKind::step_failed, fmt::format("{}: {}", url_.redacted(), sqlite3_errmsg(db_)))
      .with_sql(sql)
      .with_code(std::to_string(sqlite3_extended_errcode(db_)));
}

bool SqliteConnection::is_lock_timeout(const Error& error) const {
  return error.code() == std::to_string(SQLITE_BUSY) || error.code() == std::to_string(SQLITE_LOCKED);
}

bool SqliteConnection::is_already_applied(const Error& error) const {
  // SQLite gives all of these one result code (SQLITE_ERROR): its message tells them apart.
  static const char* const applied[] = {"already exists", "duplicate column name", "no such column", "no such index",
                                        "no such table",  "no such trigger",       "no such view"};
  if (error.code() != std::to_string(SQLITE_ERROR)) return false;
  const std::string message = error.what();
  return std::any_of(std::begin(applied), std::end(applied),
                     [&](const char* text) { return message.find(text) != std::string::npos; });
}

void SqliteConnection::execute(const std::string& sql) {
  sqlite3_stmt* statement = prepare(sql, {});
  if (!statement) return;  // only space and comments
  int status;
  while ((status = sqlite3_step(statement)) == SQLITE_ROW) {
  }
  sqlite3_finalize(statement);
  if (status != SQLITE_DONE) fail(sql);
}

// One statement only: sqlite3_exec would run every statement of the text, and a
// statement prepared from its start would quietly drop the rest.
sqlite3_stmt* SqliteConnection::prepare(const std::string& sql, const std::vector<Value>& params) {
  sqlite3_stmt* statement = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size() + 1), &statement, &tail) != SQLITE_OK) fail(sql);
  // The rest may hold only space, comments and empty statements (";"), which SQLite
  // prepares as nothing.
  bool only_blank = true;
  while (only_blank && tail && *tail) {
    sqlite3_stmt* more = nullptr;
    const char* rest = nullptr;
    only_blank = sqlite3_prepare_v2(db_, tail, -1, &more, &rest) == SQLITE_OK && !more && rest != tail;
    sqlite3_finalize(more);
    tail = rest;
  }
  if (!only_blank) {
    sqlite3_finalize(statement);
    throw Error(ErrorKind::step_failed,
                fmt::format("{}: the SQL holds more than one statement; tandem runs one at a time", url_.redacted()))
        .with_sql(sql);
  }
  // SQLite would read a missing value as NULL and drop one too many.
  const size_t placeholders = statement ? static_cast<size_t>(sqlite3_bind_parameter_count(statement)) : 0;
  if (placeholders != params.size()) {
    sqlite3_finalize(statement);
    throw Error(ErrorKind::step_failed, fmt::format("{}: the statement has {} placeholders but {} values were given",
                                                    url_.redacted(), placeholders, params.size()))
        .with_sql(sql);
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    if (params[i])
      sqlite3_bind_text(statement, index, params[i]->c_str(), static_cast<int>(params[i]->size()), SQLITE_TRANSIENT);
    else
      sqlite3_bind_null(statement, index);
  }
  return statement;
}

std::vector<Row> SqliteConnection::query(const std::string& sql, const std::vector<Value>& params) {
  sqlite3_stmt* statement = prepare(sql, params);
  std::vector<Row> rows;
  int status;
  while ((status = sqlite3_step(statement)) == SQLITE_ROW) {
    Row row;
    for (int i = 0; i < sqlite3_column_count(statement); ++i) {
      const auto* text = sqlite3_column_text(statement, i);
      row.push_back(text ? Value(reinterpret_cast<const char*>(text)) : std::nullopt);
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(statement);
  if (status != SQLITE_DONE) fail(sql);
  return rows;
}

long long SqliteConnection::rows_written() { return sqlite3_total_changes64(db_); }

long long SqliteConnection::update(const std::string& sql, const std::vector<Value>& params) {
  sqlite3_stmt* statement = prepare(sql, params);
  const int status = sqlite3_step(statement);
  sqlite3_finalize(statement);
  if (status != SQLITE_DONE && status != SQLITE_ROW) fail(sql);
  return sqlite3_changes(db_);
}

void SqliteConnection::rollback() {
  if (!sqlite3_get_autocommit(db_)) execute("ROLLBACK");
}

}  // namespace tandem::sqlite

namespace tandem {

std::unique_ptr<Connection> connect_sqlite(const DatabaseUrl& url, Access access) {
  return std::make_unique<sqlite::SqliteConnection>(url, access);
}

const SqlRenderer& sqlite_renderer() {
  static const sqlite::SqliteRenderer renderer;
  return renderer;
}

}  // namespace tandem
