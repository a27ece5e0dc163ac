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

using ops::RenderContext;
using ops::Step;
using ops::TriggerRecord;

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
};

}  // namespace tandem
