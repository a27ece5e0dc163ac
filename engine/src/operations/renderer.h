// What a dialect writes for each operation: SQL text only, no connection, so dry runs
// and `check` render without a database. Operations render through it (RenderContext's
// `sql`); each dialect implements it in dialect/<dialect>/render.cpp, on top of the
// shared ANSI defaults in dialect/render_common.cpp. The rest of a dialect (Connection,
// the registry, how to add one) is dialect/dialect.h.
#pragma once

#include <string>
#include <vector>

#include "operations/operations.h"
#include "tandem/url.h"

namespace tandem {

namespace ops {
struct KeyWalk;
}

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
  with_children,  // the tables whose rows have children of their own (each table's rows
                  // move in one statement, or are locked by the copy)
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
  // Whether a batch's key fetch reads only the batch's last key (LIMIT 1 OFFSET n-1),
  // which is all a batch needs: where the client pays for every row it reads (SQLite,
  // in-process, converts each key to text) more than the server pays for the offset.
  virtual bool fetches_last_key_only() const { return false; }
  // How batches walk `table` when it has no key to walk (no primary key, no NOT NULL
  // unique key, no `key:`; DESIGN §7): sets walk.key to the column naming a row (SQLite's
  // rowid), or fills in walk's fetches and ranges as well (PostgreSQL's ctid page
  // ranges). False where the dialect has no such thing (MySQL): the walk is refused.
  virtual bool locator_walk(const schema::Table& table, ops::KeyWalk& walk) const {
    (void)table;
    (void)walk;
    return false;
  }

  // One method per operation that has SQL of its own, each called by that operation's
  // render() (operations/<name>.cpp) with the schema before it, and by repair for the
  // drops that undo a half-applied unit. Each returns the statements in order; none
  // returns an empty list.
  virtual std::vector<Step> create_table(const ops::CreateTable& op, const RenderContext& context) const;
  virtual std::vector<Step> add_column(const ops::AddColumn& op, const RenderContext& context) const;
  virtual std::vector<Step> create_index(const ops::CreateIndex& op, const RenderContext& context) const;
  virtual std::vector<Step> add_unique(const ops::AddUnique& op, const RenderContext& context) const;
  virtual std::vector<Step> add_foreign_key(const ops::AddForeignKey& op, const RenderContext& context) const;
  virtual std::vector<Step> add_check(const ops::AddCheck& op, const RenderContext& context) const;
  virtual std::vector<Step> create_view(const ops::CreateView& op, const RenderContext& context) const;
  virtual std::vector<Step> set_nullable(const ops::SetNullable& op, const RenderContext& context) const = 0;
  virtual std::vector<Step> set_not_null(const ops::SetNotNull& op, const RenderContext& context) const = 0;
  virtual std::vector<Step> alter_type(const ops::AlterType& op, const RenderContext& context) const = 0;
  virtual std::vector<Step> drop_column(const ops::DropColumn& op, const RenderContext& context) const;
  virtual std::vector<Step> drop_table(const ops::DropTable& op, const RenderContext& context) const;
  virtual std::vector<Step> drop_index(const ops::DropIndex& op, const RenderContext& context) const;
  virtual std::vector<Step> drop_constraint(const ops::DropConstraint& op, const RenderContext& context) const = 0;
  virtual std::vector<Step> drop_view(const ops::DropView& op, const RenderContext& context) const;
  virtual std::vector<Step> rename_column(const ops::RenameColumn& op, const RenderContext& context) const;
  virtual std::vector<Step> rename_table(const ops::RenameTable& op, const RenderContext& context) const;

  // Data statements (unbatched forms).
  virtual std::string copy_rows(const ops::CopyRows& op, const RenderContext& context) const = 0;

  // Sync triggers (DESIGN §4); each step records what it installs.
  virtual std::vector<Step> sync_column(const ops::SyncColumn& op, const RenderContext& context) const = 0;
  virtual std::vector<Step> sync_table(const ops::SyncTable& op, const RenderContext& context) const = 0;
  virtual std::vector<Step> forbid_writes(const ops::ForbidWrites& op, const RenderContext& context) const = 0;
  virtual std::vector<Step> drop_trigger(const TriggerRecord& record) const = 0;

  // Statements that let the migrate phase's own writes pass forbid_writes triggers
  // (on = true) and close that door again (on = false), within the same transaction.
  virtual std::vector<std::string> bypass_forbid(bool on) const = 0;

  // The release registry (DESIGN §15; the table's DDL is state/state_store.cpp's): the
  // heartbeat upsert, placeholders (service, instance, release, host, pid, ttl_seconds),
  // times from the server's clock, started_at kept while the same process beats (the
  // README documents it for applications in other languages); and the server's current
  // UTC time as an expression of ISO 8601 text ("2026-11-21T09:00:05Z").
  virtual std::string release_heartbeat() const = 0;
  virtual std::string server_utc_now() const = 0;

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

}  // namespace tandem
