// The MySQL / MariaDB dialect, through the MariaDB Connector/C: online DDL
// (ALGORITHM=INSTANT / INPLACE with LOCK=NONE), BEFORE/AFTER row triggers for sync and
// forbid, a GET_LOCK run lock (a lease row on a Galera cluster, DESIGN §14). DDL commits implicitly here, so units run journaled and
// every step is written to be re-run after a crash, or to fail with an error that
// is_already_applied() recognises.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dialect/dialect.h"

typedef struct st_mysql MYSQL;

namespace tandem::mysql {

// Appended to the CREATE TABLE of tandem's own tables: InnoDB, text compared byte for byte.
constexpr const char* kTableOptions = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
// The table that records who holds the run lock (lock.cpp): tandem's, not the application's.
constexpr const char* kLockTable = "tandem_lock";
// How the tables and triggers of an online copy (galera_copy.cpp) begin: tandem's work in
// progress, which a snapshot leaves out.
constexpr const char* kOnlineCopyPrefix = "_tandem_";

class MysqlRenderer final : public SqlRenderer {
 public:
  DialectKind kind() const override { return DialectKind::mysql; }
  size_t name_limit() const override { return 64; }
  std::string quote(const std::string& identifier) const override;
  std::string literal(const std::string& text) const override;
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
  std::vector<Step> drop_column(const ops::DropColumn& op, const RenderContext& context) const override;
  std::vector<Step> drop_index(const ops::DropIndex& op, const RenderContext& context) const override;
  std::vector<Step> drop_constraint(const ops::DropConstraint& op, const RenderContext& context) const override;
  std::vector<Step> rename_table(const ops::RenameTable& op, const RenderContext& context) const override;
  std::string copy_rows(const ops::CopyRows& op, const RenderContext& context) const override;
  std::string differs(const std::string& a, const std::string& b) const override;
  std::string stored(const std::string& expression) const override;

  std::vector<Step> sync_column(const ops::SyncColumn& op, const RenderContext& context) const override;
  std::vector<Step> sync_table(const ops::SyncTable& op, const RenderContext& context) const override;
  std::vector<Step> forbid_writes(const ops::ForbidWrites& op, const RenderContext& context) const override;
  std::vector<Step> drop_trigger(const TriggerRecord& record) const override;

  std::vector<std::string> bypass_forbid(bool on) const override;
  std::string release_heartbeat() const override;
  std::string server_utc_now() const override;

  // Archive (DESIGN §10): archive.cpp.
  std::vector<std::string> archive_session() const override;
  std::string archive_row_lock() const override;
  ArchivePaths archive_paths() const override;
  ArchiveLocks archive_locks() const override;
  std::vector<std::string> archive_move(const ArchiveRows& rows, const std::string& shadow) const override;
  std::string older_than(const std::string& column) const override;

  // The MySQL type for a portable type, or `type` itself when it is not one (a type as
  // a snapshot reports it: "int(11)", "varchar(64) COLLATE latin1_bin").
  std::string declared_type(const std::string& type) const;
  // `DEFAULT <expression>` for a column of `type`: TEXT, BLOB and JSON columns take only
  // expression defaults on MySQL 8, so theirs go in parentheses (MariaDB accepts both).
  std::string default_clause(const std::string& type, const std::string& expression) const;
  // `ALTER TABLE t MODIFY COLUMN ...` restating the column's whole definition, as MySQL
  // requires: nullability, default and auto-increment are kept unless changed here.
  Step modify_column(const std::string& table, const schema::Column& column, const std::string& algorithm,
                     const std::string& comment) const;
};

// The application schema of `database`: tandem's own tables (and its run-lock table)
// left out. MariaDB reports JSON columns as LONGTEXT with a json_valid() CHECK; they are
// given back as type "json" without that check.
schema::Schema inspect(Connection& connection, const std::string& database, bool mariadb);

// The Galera run lock's word to the run's own session (lock.cpp): once its renewer finds
// the lease gone (another run took it after it expired), the run must do nothing more.
class LeaseWatch {
 public:
  void lose(std::string reason);
  // Why the lease was lost, or nothing while it is held.
  std::optional<std::string> lost() const;

 private:
  std::atomic<bool> lost_{false};
  mutable std::mutex mutex_;
  std::string reason_;
};

class MysqlConnection;
// The client addresses ("host:port") of the Galera nodes in `session`'s component
// (wsrep_incoming_addresses), and the URL of one of them with `url`'s credentials and
// database (galera.cpp).
std::vector<std::string> node_addresses(MysqlConnection& session);
// The wsrep status variable `name` of `session`'s node, asked without the causality wait
// (which would queue the question behind the backlog it may be about); "" when unknown.
std::string wsrep_status_now(MysqlConnection& session, const std::string& name);
DatabaseUrl node_url(const DatabaseUrl& url, const std::string& address);

// An index built on a copy of a table, kept in step by triggers, filled in batches and
// swapped in by one RENAME (galera_copy.cpp), as pt-online-schema-change does on Galera.
class OnlineCopy {
 public:
  OnlineCopy(MysqlConnection& session, std::string database, std::string table);
  // Why the table cannot be copied so, or nullopt (also learns its key for run()).
  std::optional<std::string> refusal();
  // Whether a stopped copy of the table left something: a copy not swapped in, a swap
  // not tidied.
  bool interrupted();
  // Runs `alter` (an ALTER TABLE of the table) on a copy and swaps the copy in, or
  // finishes what interrupted() found; returns what it did. Throws Error(step_failed)
  // with refusal()'s reason when the table cannot be copied.
  std::string run(const std::string& alter);

 private:
  bool exists(const std::string& table);
  std::vector<std::string> triggers_of(const std::string& table);
  std::string copy_trigger(const char* event) const;
  // A short statement that waits for the table's open transactions: retried here.
  void ddl(const std::string& statement);
  void discard_unswapped();
  void finish_swap();
  // Steps 1-3 of run(): the copy made, the change applied to it, kept in step and
  // filled; what it did, or nullopt when the change was in the table already.
  std::optional<std::string> fill(const std::string& alter);

  MysqlConnection& session_;
  const SqlRenderer& sql_;
  std::string database_, table_, copy_, old_, key_;
};

// A node of the cluster as a node-by-node build sees it (galera_build.cpp).
struct GaleraNode {
  std::string address;
  std::unique_ptr<MysqlConnection> session;
  bool has_index = false;
};

class MysqlConnection final : public Connection {
 public:
  // Connects over TCP (or the URL's `socket` option); throws Error(unreachable) naming
  // the URL without its password.
  explicit MysqlConnection(const DatabaseUrl& url);
  ~MysqlConnection() override;

  const SqlRenderer& renderer() const override;
  std::string describe() const override { return url_.redacted(); }
  void execute(const std::string& sql) override;
  std::vector<Row> query(const std::string& sql, const std::vector<Value>& params) override;
  long long update(const std::string& sql, const std::vector<Value>& params) override;
  long long rows_written() override;
  void begin() override { execute("START TRANSACTION"); }
  void commit() override { execute("COMMIT"); }
  void rollback() override { execute("ROLLBACK"); }
  bool transactional_ddl() const override { return false; }
  schema::Schema snapshot() override { return inspect(*this, url_.database, mariadb_); }
  void set_lock_timeout(std::chrono::milliseconds timeout) override;
  bool is_lock_timeout(const Error& error) const override;
  bool is_already_applied(const Error& error) const override;
  std::unique_ptr<RunLock> lock(std::chrono::seconds wait, const std::string& holder) override;
  std::optional<ClusterStatus> cluster() override;
  std::vector<std::string> require_triggers_on_every_node(const std::vector<std::string>& triggers) override;
  // Galera (galera.cpp): the writeset bounds, the flow control, the primary keys.
  std::optional<long long> batch_row_limit(const std::string& table) override;
  bool is_transaction_too_large(const Error& error) const override;
  std::optional<std::string> asks_to_hold_back() override;
  std::optional<std::string> requires_primary_keys() const override;
  // Galera index builds (galera_build.cpp): TOI, node by node under RSU, or an online copy.
  std::optional<std::string> execute_build(const Step& step) override;

 private:
  // The Galera run lock (lock.cpp): a lease row in tandem_lock on a session of its own.
  std::unique_ptr<RunLock> lease(std::unique_ptr<MysqlConnection> session, const std::string& name,
                                 std::chrono::seconds wait, const std::string& holder);

  // Sends `sql` (one or more statements) and reads every result; rows of the first
  // result set are returned, the affected-row count of the last statement in `changed`.
  std::vector<Row> run(const std::string& sql, long long* changed = nullptr);
  // Runs one statement as a prepared statement with its `?` placeholders bound to
  // `params`, so the server reads the values apart from the SQL and nothing is escaped
  // on the client; returns its rows as text, the rows it changed in `changed`.
  std::vector<Row> run_prepared(const std::string& sql, const std::vector<Value>& params, long long* changed = nullptr);
  // The rows of `table`: the server's estimate, counted where it says fewer than the
  // copy's threshold (galera_build.cpp).
  long long table_size(const std::string& table);
  // execute_build for a step that rebuilds a table (Step::copies_table).
  std::optional<std::string> rebuild_table(const Step& step, const std::string& method);
  // Builds `step`'s index under RSU on each of `nodes` that lacks it, one after another.
  void build_node_by_node(const Step& step, std::vector<GaleraNode>& nodes);
  // Throws Error(lock_held) once this session's Galera lease is lost, for any statement
  // but ROLLBACK (which only undoes).
  void refuse_if_lease_lost(const std::string& sql) const;
  // Throws the session's last error, or the one given, for `sql`.
  [[noreturn]] void fail(const std::string& sql) const;
  [[noreturn]] void fail(const std::string& sql, unsigned code, const char* message) const;

  DatabaseUrl url_;
  MYSQL* session_ = nullptr;
  long long rows_written_ = 0;  // see rows_written()
  bool mariadb_ = false;
  bool galera_ = false;  // a node of a Galera cluster (wsrep_on = ON), seen at connect
  // Set while a Galera lease taken for this session's run exists (lock.cpp).
  std::shared_ptr<const LeaseWatch> lease_watch_;
  // wsrep_max_ws_rows and wsrep_max_ws_size (0: no bound), read once by batch_row_limit.
  struct WritesetBounds {
    long long rows = 0;
    long long bytes = 0;
  };
  std::optional<WritesetBounds> writeset_bounds_;
  // What set_lock_timeout() last set, for the sessions a node-by-node build opens.
  std::optional<std::chrono::milliseconds> lock_timeout_;
};

}  // namespace tandem::mysql
