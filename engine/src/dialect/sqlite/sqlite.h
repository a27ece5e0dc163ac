// The SQLite dialect: the embedded default.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <string>
#include <vector>

#include "dialect/dialect.h"

namespace tandem::sqlite {

class SqliteRenderer final : public SqlRenderer {
 public:
  DialectKind kind() const override { return DialectKind::sqlite; }
  std::string column_type(const ops::ColumnSpec& column, const std::string& table) const override;
  std::string column_definition(const ops::ColumnSpec& column, const std::string& table) const override;
  std::string stored(const std::string& expression) const override;

  std::vector<Step> add_unique(const ops::AddUnique& op, const RenderContext& context) const override;
  std::vector<Step> add_foreign_key(const ops::AddForeignKey& op, const RenderContext& context) const override;
  std::vector<Step> add_check(const ops::AddCheck& op, const RenderContext& context) const override;
  std::vector<Step> set_nullable(const ops::SetNullable& op, const RenderContext& context) const override;
  std::vector<Step> set_not_null(const ops::SetNotNull& op, const RenderContext& context) const override;
  std::vector<Step> alter_type(const ops::AlterType& op, const RenderContext& context) const override;
  std::vector<Step> drop_column(const ops::DropColumn& op, const RenderContext& context) const override;
  std::vector<Step> drop_constraint(const ops::DropConstraint& op, const RenderContext& context) const override;
  std::string copy_rows(const ops::CopyRows& op, const RenderContext& context) const override;

  std::vector<Step> sync_column(const ops::SyncColumn& op, const RenderContext& context) const override;
  std::vector<Step> sync_table(const ops::SyncTable& op, const RenderContext& context) const override;
  std::vector<Step> forbid_writes(const ops::ForbidWrites& op, const RenderContext& context) const override;
  std::vector<Step> drop_trigger(const TriggerRecord& record) const override;

  std::vector<std::string> bypass_forbid(bool on) const override;
  bool fetches_last_key_only() const override { return true; }
  bool locator_walk(const schema::Table& table, ops::KeyWalk& walk) const override;
  std::string release_heartbeat() const override;
  std::string server_utc_now() const override;

  // Archive (DESIGN §10): archive.cpp.
  std::vector<std::string> archive_session() const override;
  std::string archive_row_lock() const override;
  ArchivePaths archive_paths() const override;
  ArchiveLocks archive_locks() const override;
  std::vector<std::string> archive_move(const ArchiveRows& rows, const std::string& shadow) const override;
  std::string older_than(const std::string& column) const override;

  // SQLite cannot alter columns or constraints in place: the table is rebuilt under
  // its own name (create, copy, drop, rename), its indexes and triggers recreated.
  std::vector<Step> rebuild(const schema::Table& table, const schema::Schema& schema) const;
  // The SQLite type for a type as a snapshot or a simulation holds it.
  std::string declared_type(const std::string& type) const;
};

// Constraint names and CHECK expressions that only the CREATE TABLE text holds.
struct TableDefinition {
  struct NamedConstraint {
    std::string name;
    std::string kind;  // "unique", "foreign key", "check", "primary key"
    std::vector<std::string> columns;
    std::string expression;  // for checks
  };
  std::vector<NamedConstraint> constraints;
  bool autoincrement = false;
};
TableDefinition parse_table_definition(const std::string& table, const std::string& create_sql);

schema::Schema inspect(sqlite3* db);

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(const DatabaseUrl& url, Access access = Access::read_write);
  ~SqliteConnection() override;

  const SqlRenderer& renderer() const override;
  std::string describe() const override { return url_.redacted(); }
  void execute(const std::string& sql) override;
  std::vector<Row> query(const std::string& sql, const std::vector<Value>& params) override;
  long long update(const std::string& sql, const std::vector<Value>& params) override;
  long long rows_written() override;
  void begin() override { execute("BEGIN IMMEDIATE"); }
  void commit() override { execute("COMMIT"); }
  void rollback() override;
  bool transactional_ddl() const override { return true; }
  schema::Schema snapshot() override { return inspect(db_); }
  void set_lock_timeout(std::chrono::milliseconds) override {}
  bool is_lock_timeout(const Error& error) const override;
  bool is_already_applied(const Error& error) const override;
  std::unique_ptr<RunLock> lock(std::chrono::seconds wait, const std::string& holder) override;
  std::optional<std::chrono::milliseconds> default_batch_time() const override { return kBatchTime; }
  void batch_walk(bool starting) override;
  std::chrono::milliseconds writer_pause(std::chrono::milliseconds took) override;

 private:
  sqlite3_stmt* prepare(const std::string& sql, const std::vector<Value>& params);
  [[noreturn]] void fail(const std::string& sql) const;

  DatabaseUrl url_;
  sqlite3* db_ = nullptr;
  static constexpr std::chrono::milliseconds kBusyWait{10000};
  std::chrono::steady_clock::time_point busy_since_;

  // Migrate's batches (connection.cpp explains the figures).
  static constexpr std::chrono::milliseconds kBatchTime{20}, kLongestHold{40}, kWriterWindow{30};
  static constexpr std::chrono::seconds kWriterMemory{2};
  static constexpr long long kSynchronousNormal = 1;
  void relax_sync(bool relax);
  long long pragma(const std::string& sql);
  std::optional<long long> synchronous_before_walk_;  // during a walk that may relax it
  bool sync_relaxed_ = false;
  long long data_version_ = 0;
  std::chrono::steady_clock::time_point writer_seen_;  // when another connection last committed
  bool writer_seen_ever_ = false;
  std::chrono::milliseconds held_{0};  // batches since the last pause
};

}  // namespace tandem::sqlite
