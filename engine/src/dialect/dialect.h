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

#include "operations/operations.h"
#include "tandem/error.h"
#include "tandem/schema.h"
#include "tandem/url.h"

namespace tandem {

using ops::RenderContext;
using ops::Step;
using ops::TriggerRecord;

// ---- Archive (DESIGN §10): what `tandem archive` and `purge` ask of a dialect --------
// The rows of one table an archive batch moves into its shadow table.
struct ArchiveRows {
  std::string table;                 // unquoted
  std::vector<std::string> columns;  // all of which its shadow has
  std::string from;                  // a FROM clause: the table, or a join naming it `alias`
  std::string where;                 // with `?` placeholders
  std::string alias;                 // the table's name in `from` when it is not its own, or empty
};
// How a batch finds the rows that reference its rows along a path of foreign keys.
enum class ArchivePaths {
  nested_in,  // key IN (SELECT ... WHERE key IN (...))
  joined,     // the path joined (MariaDB runs IN (subquery) in a DELETE once per row)
};
// Which referencing rows a batch locks (FOR UPDATE), top down, before it moves any, so a
// row whose parent is locked cannot gain a new child.
enum class ArchiveLocks {
  none,           // the batch's write lock covers the database (SQLite)
  with_children,  // the tables whose rows have children of their own (each moves in one statement)
  all,            // every table (rows are copied, then deleted)
};
// ---- end of archive --------------------------------------------------------------------

class SqlRenderer {
 public:
  virtual ~SqlRenderer() = default;
  virtual DialectKind kind() const = 0;

  // Identifiers are validated before they get here; quoting still protects keywords.
  virtual std::string quote(const std::string& identifier) const;
  virtual std::string literal(const std::string& text) const;
  // A null-safe "a differs from b" (ANSI IS DISTINCT FROM), so a batch touches and
  // counts only rows it really changes.
  virtual std::string differs(const std::string& a, const std::string& b) const;
  // `expression`'s value as stored, as text that differs whenever two stored values of
  // one type differ (not by the type's equality: citext 'a' and 'A', numeric 1.5 and
  // 1.50 differ); NULL stays NULL, or a text no value has. A batch reads it with a row
  // and later compares it, by differs(), with what the row holds then.
  virtual std::string stored(const std::string& expression) const;
  // `?` placeholders in engine-written SQL become what the driver expects.
  virtual std::string column_type(const ops::ColumnSpec& column, const std::string& table) const = 0;
  virtual std::string column_definition(const ops::ColumnSpec& column, const std::string& table) const;
  // An expression of a sync trigger as it goes into the trigger: a plain NEW.<column>
  // (the default up and down among them) gets its column quoted, so a mixed-case or
  // reserved name still names its column; anything else is the unit author's SQL.
  std::string trigger_expression(const std::string& expression) const;
  // Trigger and function names: tandem_<version>_<table>_<purpose>, at most 63 bytes.
  std::string trigger_name(const std::string& version, const std::string& table, const std::string& purpose) const;
  // A name tandem makes up (a column's unique constraint or foreign key, an enum type),
  // shortened with a hash when longer than the server keeps: the server would refuse it
  // (MySQL) or cut it short (PostgreSQL), and two cut names can clash.
  std::string generated_name(const std::string& name) const;
  // The longest identifier the server keeps, in bytes (0: no limit).
  virtual size_t name_limit() const { return 0; }

  virtual std::vector<Step> create_table(const ops::CreateTable& op, const RenderContext& context) const;
  virtual std::vector<Step> add_column(const std::string& table, const ops::ColumnSpec& column,
                                       const RenderContext& context) const;
  virtual std::vector<Step> create_index(const std::string& table, const ops::IndexSpec& index,
                                         const RenderContext& context) const;
  virtual std::vector<Step> add_unique(const ops::AddUnique& op, const RenderContext& context) const;
  virtual std::vector<Step> add_foreign_key(const ops::AddForeignKey& op, const RenderContext& context) const;
  virtual std::vector<Step> add_check(const ops::AddCheck& op, const RenderContext& context) const;
  virtual std::vector<Step> create_view(const ops::CreateView& op) const;
  virtual std::vector<Step> set_nullable(const std::string& table, const std::string& column,
                                         const RenderContext& context) const = 0;
  virtual std::vector<Step> set_not_null(const std::string& table, const std::string& column,
                                         const RenderContext& context) const = 0;
  virtual std::vector<Step> alter_type(const ops::AlterType& op, const RenderContext& context) const = 0;
  virtual std::vector<Step> drop_column(const std::string& table, const std::string& column,
                                        const RenderContext& context) const;
  virtual std::vector<Step> drop_table(const std::string& table) const;
  virtual std::vector<Step> drop_index(const std::string& table, const std::string& index) const;
  virtual std::vector<Step> drop_constraint(const std::string& table, const std::string& name,
                                            const RenderContext& context) const = 0;
  virtual std::vector<Step> drop_view(const std::string& view) const;
  virtual std::vector<Step> rename_column(const ops::RenameColumn& op) const;
  virtual std::vector<Step> rename_table(const ops::RenameTable& op) const;

  // Data statements (unbatched forms).
  virtual std::string copy_rows(const ops::CopyRows& op, const RenderContext& context) const = 0;

  // Sync triggers (DESIGN §4); each step records what it installs.
  virtual std::vector<Step> sync_column(const ops::SyncColumn& op, const RenderContext& context) const = 0;
  virtual std::vector<Step> sync_table(const ops::SyncTable& op, const RenderContext& context) const = 0;
  virtual std::vector<Step> forbid_writes(const ops::ForbidWrites& op, const RenderContext& context) const = 0;
  virtual std::vector<Step> drop_trigger(const TriggerRecord& record) const = 0;

  // DDL for tandem's own state tables, run once per database.
  virtual std::vector<std::string> state_tables() const = 0;
  // Statements that let the migrate phase's own writes pass forbid_writes triggers
  // (on = true) and close that door again (on = false), within the same transaction.
  virtual std::vector<std::string> bypass_forbid(bool on) const = 0;

  // ---- Archive (DESIGN §10), in each dialect's archive.cpp ----------------------------
  // Statements that start an archiving session (MySQL: read committed, so InnoDB locks
  // only the rows a batch moves, not every live row its scan passes).
  virtual std::vector<std::string> archive_session() const = 0;
  // What ends a batch's key fetch so its rows stay locked until the batch commits (and
  // no new row can reference them): " FOR UPDATE", or "" where the batch's write lock does.
  virtual std::string archive_row_lock() const = 0;
  virtual ArchivePaths archive_paths() const = 0;
  virtual ArchiveLocks archive_locks() const = 0;
  // The statements that move `rows` into `shadow` (quoted): one that moves them and
  // counts them, or a copy then a delete, whose counts must agree.
  virtual std::vector<std::string> archive_move(const ArchiveRows& rows, const std::string& shadow) const = 0;
  // SQL true when `column` holds a timestamp older than the `?` parameter (archive
  // --before, purge --before), a timestamp as archive's parse_timestamp returns it.
  virtual std::string older_than(const std::string& column) const = 0;

 protected:
  // archive_move as an INSERT ... SELECT then a DELETE (SQLite, MySQL).
  std::vector<std::string> archive_copy_then_delete(const ArchiveRows& rows, const std::string& shadow) const;
  // ---- end of archive ---------------------------------------------------------------
};

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
