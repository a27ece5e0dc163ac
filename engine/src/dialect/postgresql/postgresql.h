// The PostgreSQL dialect, through libpqxx 6: online DDL (CONCURRENTLY, NOT VALID then
// VALIDATE), plpgsql trigger functions for sync and forbid, an advisory run lock.
#pragma once

#include <pqxx/connection>

#include <memory>
#include <string>
#include <vector>

#include "dialect/dialect.h"

namespace tandem::postgresql {

class PostgresqlRenderer final : public SqlRenderer {
 public:
  DialectKind kind() const override { return DialectKind::postgresql; }
  size_t name_limit() const override { return 63; }
  std::string column_type(const ops::ColumnSpec& column, const std::string& table) const override;
  std::string column_definition(const ops::ColumnSpec& column, const std::string& table) const override;

  std::vector<Step> create_table(const ops::CreateTable& op, const RenderContext& context) const override;
  std::vector<Step> add_column(const ops::AddColumn& op, const RenderContext& context) const override;
  std::vector<Step> create_index(const ops::CreateIndex& op, const RenderContext& context) const override;
  std::vector<Step> add_unique(const ops::AddUnique& op, const RenderContext& context) const override;
  std::vector<Step> add_foreign_key(const ops::AddForeignKey& op, const RenderContext& context) const override;
  std::vector<Step> add_check(const ops::AddCheck& op, const RenderContext& context) const override;
  std::vector<Step> set_nullable(const ops::SetNullable& op, const RenderContext& context) const override;
  std::vector<Step> set_not_null(const ops::SetNotNull& op, const RenderContext& context) const override;
  std::vector<Step> alter_type(const ops::AlterType& op, const RenderContext& context) const override;
  std::vector<Step> drop_index(const ops::DropIndex& op, const RenderContext& context) const override;
  std::vector<Step> drop_constraint(const ops::DropConstraint& op, const RenderContext& context) const override;
  std::string copy_rows(const ops::CopyRows& op, const RenderContext& context) const override;

  std::vector<Step> sync_column(const ops::SyncColumn& op, const RenderContext& context) const override;
  std::vector<Step> sync_table(const ops::SyncTable& op, const RenderContext& context) const override;
  std::vector<Step> forbid_writes(const ops::ForbidWrites& op, const RenderContext& context) const override;
  std::vector<Step> drop_trigger(const TriggerRecord& record) const override;

  std::vector<std::string> bypass_forbid(bool on) const override;
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

  // The PostgreSQL type for a portable type, or `type` itself when it is not one (a
  // type as a snapshot reports it). Enums need their column: see column_type.
  std::string declared_type(const std::string& type) const;
  // A trigger function and the row trigger that calls it, both called `name`; the
  // trigger step records the pair for contract to drop.
  std::vector<Step> trigger_with_function(const std::string& name, const std::string& table, const std::string& event,
                                          const std::string& when, const std::string& body) const;
};

// The application schema of current_schema(), tandem's own tables left out.
schema::Schema inspect(Connection& connection);

// A libpq session for `url`; `application_name` is what other sessions see in
// pg_stat_activity. Throws Error(unreachable) naming the URL without its password.
std::unique_ptr<pqxx::connection> open_session(const DatabaseUrl& url, const std::string& application_name);

class PostgresqlConnection final : public Connection {
 public:
  explicit PostgresqlConnection(const DatabaseUrl& url);
  ~PostgresqlConnection() override;

  const SqlRenderer& renderer() const override;
  std::string describe() const override { return url_.redacted(); }
  void execute(const std::string& sql) override;
  std::vector<Row> query(const std::string& sql, const std::vector<Value>& params) override;
  long long update(const std::string& sql, const std::vector<Value>& params) override;
  long long rows_written() override;
  void begin() override;
  void commit() override;
  void rollback() override;
  bool transactional_ddl() const override { return true; }
  schema::Schema snapshot() override { return inspect(*this); }
  void set_lock_timeout(std::chrono::milliseconds timeout) override;
  bool is_lock_timeout(const Error& error) const override;
  bool is_already_applied(const Error& error) const override;
  void clean_up_interrupted(const Step& step) override;
  std::unique_ptr<RunLock> lock(std::chrono::seconds wait, const std::string& holder) override;

 private:
  // Runs `body`, turning libpqxx exceptions into Error carrying `sql` and the SQLSTATE.
  template <typename Body>
  auto translated(const std::string& sql, Body&& body);

  DatabaseUrl url_;
  std::unique_ptr<pqxx::connection> session_;
  bool in_transaction_ = false;
};

// `?` placeholders outside quotes, quoted identifiers, dollar quotes and comments
// become $1, $2, ...: engine SQL is written once for every dialect.
std::string numbered_placeholders(const std::string& sql);

}  // namespace tandem::postgresql
