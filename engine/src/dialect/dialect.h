// The dialect interface: everything tandem needs from a database, in two halves.
// SqlRenderer turns operations into SQL text (pure, no connection needed, so dry
// runs and `check` can use it); Connection runs SQL, reads the schema and takes the
// run lock. Each dialect folder (sqlite/, later postgresql/ and mysql/) holds the
// same files: connection, render, triggers, inspect, lock.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "operations/renderer.h"
#include "tandem/error.h"
#include "tandem/schema.h"
#include "tandem/url.h"

namespace tandem {

// One database value as text; nullopt is SQL NULL.
using Value = std::optional<std::string>;
using Row = std::vector<Value>;

// A held run lock; released when destroyed.
class RunLock {
 public:
  virtual ~RunLock() = default;
};

class Connection {
 public:
  virtual ~Connection() = default;
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  virtual const SqlRenderer& renderer() const = 0;
  DialectKind kind() const { return renderer().kind(); }
  // The database's URL as it may be printed (no password).
  virtual std::string describe() const = 0;

  // Runs exactly one statement (a trailing ';' and comments aside): a text holding a
  // second one is refused, never run, so nothing rides along with what tandem meant to
  // run. Throws Error(step_failed) carrying the SQL.
  virtual void execute(const std::string& sql) = 0;
  // Runs one statement with `?` placeholders bound to `params`; returns its rows.
  virtual std::vector<Row> query(const std::string& sql, const std::vector<Value>& params = {}) = 0;
  // Runs one statement with `?` placeholders; returns the number of rows changed.
  virtual long long update(const std::string& sql, const std::vector<Value>& params = {}) = 0;

  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() = 0;
  // Rows of the application's tables (not tandem's own) that this session has inserted,
  // updated or deleted so far, its triggers' writes included: only the difference between
  // two calls around one statement in one transaction means anything (the data rule of
  // expand and contract, DESIGN §5). MySQL/MariaDB counts what execute() reported as
  // changed by statements that are not DDL (an ALTER's copy reports its rows too).
  virtual long long rows_written() = 0;
  // Whether DDL can be rolled back (SQLite, PostgreSQL): a unit then runs in one transaction.
  virtual bool transactional_ddl() const = 0;

  // The application's schema: tandem's own tables left out, tandem triggers kept.
  virtual schema::Schema snapshot() = 0;

  // How long one DDL statement may wait for a table lock (PostgreSQL lock_timeout,
  // MySQL lock_wait_timeout) before it gives up, so the tool loses lock fights and the
  // application does not; the runner retries with backoff. SQLite: no-op (a wait for
  // its write lock queues nobody behind it).
  virtual void set_lock_timeout(std::chrono::milliseconds timeout) = 0;
  // Whether `error`, thrown by execute(), means the statement lost a lock fight (lock
  // timeout, deadlock) and may be retried.
  virtual bool is_lock_timeout(const Error& error) const = 0;
  // Whether `error` means the statement's effect is already there (column or index
  // exists, object to drop is gone): a journaled step re-run after a crash is then done.
  virtual bool is_already_applied(const Error& error) const = 0;
  // Clears what an interrupted non-transactional step left behind before it is re-run
  // (PostgreSQL: the INVALID index of a killed CREATE INDEX CONCURRENTLY).
  virtual void clean_up_interrupted(const Step& step) { (void)step; }

  // Takes the run lock, waiting up to `wait`; throws Error(lock_held) naming the holder.
  // `holder` (host, pid, time) is what a waiting run is shown.
  virtual std::unique_ptr<RunLock> lock(std::chrono::seconds wait, const std::string& holder) = 0;
};

// How a connection opens its database. Commands that only read (status, history,
// inspect, compare, dry runs) open SQLite read-only: a mistyped path is reported as
// missing instead of becoming an empty database. Server databases are never created by
// connecting, and ignore it.
enum class Access { read_write, read_only };

// Opens a connection for the URL's dialect; throws Error(unreachable) without the password.
std::unique_ptr<Connection> connect(const DatabaseUrl& url, Access access = Access::read_write);

// The SQL renderer for a dialect (no connection), for dry runs and static checks.
const SqlRenderer& renderer_for(DialectKind kind);

}  // namespace tandem
