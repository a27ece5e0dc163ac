// The dialect interface: everything tandem needs from a database, in three parts.
// SqlRenderer (operations/renderer.h) turns operations into SQL text (pure, no
// connection, so dry runs and `check` can use it); Connection runs SQL, reads the
// schema and takes the run lock; Dialect ties them to URL schemes and holds what the
// rest of the engine asks about a dialect without a connection (the state tables' types,
// verify's scratch databases). Nothing outside dialect/ branches on DialectKind: it asks
// one of these three.
//
// How to add a dialect (the three existing folders, sqlite/, postgresql/, mysql/, are
// the examples; each holds the same files):
//  1. Make dialect/<name>/ with <name>.h declaring its SqlRenderer and Connection
//     subclasses, and add its value to DialectKind (tandem/url.h, the public name of a
//     URL's dialect).
//  2. render.cpp: the SqlRenderer. Override what the ANSI defaults of
//     dialect/render_common.cpp get wrong for it, and every pure method; column_type maps
//     the portable types of DESIGN §2.
//  3. triggers.cpp: sync_column, sync_table, forbid_writes and drop_trigger (DESIGN §4).
//     Each step lists in `installs` what it creates, so contract drops exactly that.
//  4. connection.cpp: the Connection, every method as its comment below says, with
//     `?` placeholders bound as values and errors as Error(step_failed) carrying the SQL.
//  5. inspect.cpp: snapshot() as a schema::Schema, tandem's own tables left out.
//  6. lock.cpp: lock(), a run lock that the server releases when the process dies.
//  7. normalize.cpp: its DialectNormalizer (dialect/normalize.h), so compare and verify
//     see a declared model and a live snapshot alike.
//  8. archive.cpp and releases.cpp: the renderer's archive and release-registry SQL.
//  9. dialect.cpp: its Dialect (below): name and schemes, the URL form and default port,
//     its sql::Syntax (quoting and comment rules, which the lexer, the splitter and the
//     lint read), factories, state-table types, scratch databases. Then add it to the
//     list in dialect/registry.cpp; that is the one file outside its folder that names it.
// 10. Run the suite with its server (tools/test-servers.sh): every dialect passes the
//     same tests, tests/test_connection_contract.cpp among them.
// tools/check-layers.sh (CTest: dialect_knowledge) fails when a file outside dialect/
// names a DialectKind value.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "operations/renderer.h"
#include "sql/syntax.h"
#include "tandem/error.h"
#include "tandem/schema.h"
#include "tandem/status.h"
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

// One session on one database, used by one thread. Opened by connect() for each database
// of a run (the lock takes a session of its own where the dialect needs one), closed when
// destroyed.
class Connection {
 public:
  virtual ~Connection() = default;
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The dialect's one renderer (Dialect::renderer()); the runners render each step with it.
  virtual const SqlRenderer& renderer() const = 0;
  DialectKind kind() const { return renderer().kind(); }
  // The database's URL as it may be printed (no password).
  virtual std::string describe() const = 0;

  // Runs exactly one statement (a trailing ';' and comments aside): a text holding a
  // second one is refused, never run, so nothing rides along with what tandem meant to
  // run. Throws Error(step_failed) carrying the SQL. Called by the unit runner for each
  // step, and for the state tables' DDL.
  virtual void execute(const std::string& sql) = 0;
  // Runs one statement with `?` placeholders bound to `params` (nullopt binds NULL);
  // returns its rows, none for a query that matches nothing. Called by the state store,
  // the batch runner (key fetches) and inspect.
  virtual std::vector<Row> query(const std::string& sql, const std::vector<Value>& params = {}) = 0;
  // Runs one statement with `?` placeholders; returns the number of rows changed (0 when
  // none matched). Called by the state store and for each batch.
  virtual long long update(const std::string& sql, const std::vector<Value>& params = {}) = 0;

  // Called around a transactional unit, each batch, each journaled step where DDL is
  // transactional, and state writes that go together. Not nested: begin() inside an open
  // transaction is a caller's bug. rollback() with none open is no error.
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

  // The application's schema: tandem's own tables left out, tandem triggers kept; an empty
  // Schema for an empty database. Called before and after each unit (the phase rules),
  // before each operation renders, by dry runs, status, compare and verify.
  virtual schema::Schema snapshot() = 0;

  // How long one DDL statement may wait for a table lock (PostgreSQL lock_timeout,
  // MySQL lock_wait_timeout) before it gives up, so the tool loses lock fights and the
  // application does not; the runner retries with backoff. SQLite: no-op (a wait for
  // its write lock queues nobody behind it).
  virtual void set_lock_timeout(std::chrono::milliseconds timeout) = 0;
  // Whether `error`, thrown by execute(), means the statement lost a lock fight (lock
  // timeout, deadlock) and may be retried. Called by the runners' retry loop; false for
  // any other error, an Error not from this connection included.
  virtual bool is_lock_timeout(const Error& error) const = 0;
  // Whether `error` means the statement's effect is already there (column or index
  // exists, object to drop is gone): a journaled step re-run after a crash is then done.
  virtual bool is_already_applied(const Error& error) const = 0;
  // Runs a step whose statement builds an index from every row of a table, or rebuilds
  // the table (Step::builds_index, copies_table), the way that spares the application's
  // writers best here, and returns a line saying how. One server: the statement. A
  // Galera cluster (DESIGN §14), where the statement under TOI stalls every node's
  // commits for the whole build: TOI for a small table, else node by node under RSU or
  // an online copy swapped in by one RENAME; a rerun finishes what a killed run began.
  virtual std::optional<std::string> execute_build(const Step& step) {
    execute(step.sql);
    return std::nullopt;
  }
  // Clears what an interrupted non-transactional step left behind before it is re-run
  // (PostgreSQL: the INVALID index of a killed CREATE INDEX CONCURRENTLY).
  virtual void clean_up_interrupted(const Step& step) { (void)step; }

  // How migrate's batches share the database with the application's writers (DESIGN §7).
  // A server locks rows, so a writer of other rows never waits for a batch and these do
  // nothing. SQLite has one write lock for the whole file:
  // - the batch duration --batch-time aims at when neither --batch-size nor --batch-time
  //   nor the unit's `batch:` sets one (nullopt: the 1000 rows of DESIGN §7);
  virtual std::optional<std::chrono::milliseconds> default_batch_time() const { return std::nullopt; }
  // - called before a walk's first batch (true) and after its last (false), also when the
  //   walk throws: what the walk may relax for its many small commits, and restores;
  virtual void batch_walk(bool starting) { (void)starting; }
  // - after each committed batch, which took `took`: how long to pause before the next,
  //   so a writer waiting for the lock gets it in time.
  virtual std::chrono::milliseconds writer_pause(std::chrono::milliseconds took) {
    (void)took;
    return std::chrono::milliseconds{0};
  }

  // What a batch's transaction may hold, where the server bounds it (a Galera cluster
  // refuses a transaction that writes more than wsrep_max_ws_rows rows or
  // wsrep_max_ws_size bytes). Called once per walk, before its first batch: the most rows
  // one batch over `table` may change, its cursor's row and the writes of the table's
  // triggers left room for; nullopt (every dialect but a clustered one) when nothing
  // bounds it. The runner lowers a larger batch size to it, and says so.
  virtual std::optional<long long> batch_row_limit(const std::string& table) {
    (void)table;
    return std::nullopt;
  }
  // Whether `error`, thrown by a batch's statement or commit, means the transaction wrote
  // more than the server lets one hold (the bound above, missed because triggers wrote
  // more than foreseen): the runner halves the batch and runs it again.
  virtual bool is_transaction_too_large(const Error& error) const {
    (void)error;
    return false;
  }
  // Called before each batch: why the database asks writers to hold back now (a Galera
  // node under flow control, its receive queue long), or nullopt to go on. The runner
  // waits while it says so, and says so once.
  virtual std::optional<std::string> asks_to_hold_back() { return std::nullopt; }
  // Why every table tandem creates, changes or writes must have a primary key here (a
  // Galera cluster certifies rows by it), or nullopt where none must. Called once per run
  // and database: the engine refuses, before anything runs, a run whose units would touch
  // a table without one.
  virtual std::optional<std::string> requires_primary_keys() const { return std::nullopt; }

  // Takes the run lock, waiting up to `wait` (0: not at all); throws Error(lock_held)
  // naming the holder. Called once per database at the start of every run that may
  // write, before the state tables are read. `holder` (host, pid, time) is what a waiting
  // run is shown. The lock must go when the RunLock is destroyed and when the process
  // dies, so a killed run never leaves it held.
  virtual std::unique_ptr<RunLock> lock(std::chrono::seconds wait, const std::string& holder) = 0;

  // - by status: the cluster that serves the database, its nodes each asked for its own
  //   state (a node that cannot be reached is listed with the reason); nullopt when the
  //   database is one server or a file, as it is for every dialect but a clustered one.
  virtual std::optional<ClusterStatus> cluster() { return std::nullopt; }

  // On a cluster, whether every node has the `triggers` a unit just created through this
  // one (DESIGN §14: created once, checked on every node). Returns one line per node that
  // could not be asked (with the reason); throws Error(step_failed) naming each node and
  // the triggers it lacks. One server or a file: nothing to check.
  virtual std::vector<std::string> require_triggers_on_every_node(const std::vector<std::string>& triggers) {
    (void)triggers;
    return {};
  }
};

// A walk of many small batches (migrate's, archive's) on `connection`: batch_walk(true)
// when made, batch_walk(false) when destroyed, also while an error unwinds.
class BatchWalk {
 public:
  explicit BatchWalk(Connection& connection) : connection_(connection) { connection_.batch_walk(true); }
  ~BatchWalk() {
    try {
      connection_.batch_walk(false);
    } catch (...) {  // the walk's own error, if any, is the one to report
    }
  }
  BatchWalk(const BatchWalk&) = delete;
  BatchWalk& operator=(const BatchWalk&) = delete;

 private:
  Connection& connection_;
};

// How a connection opens its database. Commands that only read (status, history,
// inspect, compare, dry runs) open SQLite read-only: a mistyped path is reported as
// missing instead of becoming an empty database. Server databases are never created by
// connecting, and ignore it.
enum class Access { read_write, read_only };

class DialectNormalizer;

// Column types of tandem's own state tables (state/state_store.cpp writes their DDL once).
enum class StateType {
  short_text,  // a name, a version, a time stamp, a checksum: at most `length` characters, fit for a key
  long_text,   // an error message, a cursor
  document,    // a JSON document of any size (a journal's plan, a schema)
  integer,
  bigint,
  serial_key,  // the whole definition of an auto-numbered primary key column's type
};

// A dialect as the registry knows it: one instance per dialect, defined in
// dialect/<name>/dialect.cpp and listed in dialect/registry.cpp. Stateless and shared.
// How a URL of the dialect names its database (DatabaseUrl::parse): a file path
// (sqlite:relative.db, sqlite:///absolute.db, sqlite::memory:) or a server
// (scheme://user:password@host:port/database?options).
enum class UrlForm { file, server };

class Dialect {
 public:
  virtual ~Dialect() = default;
  virtual DialectKind kind() const = 0;
  // Its name (dialect_name()): the syntax's name.
  const char* name() const { return syntax().name; }
  // The URL schemes that name it, its own name first: "postgresql", "postgres".
  virtual std::vector<std::string> schemes() const = 0;
  virtual UrlForm url_form() const { return UrlForm::server; }
  // The port a server URL without one means (0 for a file dialect).
  virtual int default_port() const { return 0; }
  // How its server reads SQL text: the lexer, the splitter and the lint go by it.
  virtual const sql::Syntax& syntax() const = 0;

  // Called by connect() for every database tandem opens. Throws Error(unreachable),
  // never quoting the password; a server dialect ignores `access`.
  virtual std::unique_ptr<Connection> connect(const DatabaseUrl& url, Access access) const = 0;
  // Called for dry runs and static checks with no connection, and by Connection::renderer.
  virtual const SqlRenderer& renderer() const = 0;
  // Called by compare and verify to bring a model and a snapshot to one form.
  virtual const DialectNormalizer& normalizer() const = 0;

  // Called by the engine before a dry run opens a database: whether the database `url`
  // names is known not to exist without connecting (SQLite: its file is missing), so the
  // dry run simulates from empty. Servers: false (connecting tells).
  virtual bool is_missing(const DatabaseUrl& url) const { (void)url; return false; }

  // Called once per database by the state store, for each column of tandem's tables.
  // `length` is the longest text a short_text holds (a dialect whose text types have no
  // length ignores it).
  virtual std::string state_type(StateType type, int length) const = 0;
  // Appended to each CREATE TABLE of a state table (MySQL: engine and collation). Empty
  // by default.
  virtual std::string state_table_options() const { return ""; }

  // Called by verify for --dev-db: whether it can make scratch databases on a server of
  // this dialect. false (SQLite): verify makes its own files and refuses --dev-db.
  virtual bool makes_scratch_databases() const { return false; }
  // Called by verify, on a connection to the --dev-db server, for each role: makes the
  // empty database `name` (the name is tandem's own, safe to quote). Only called when
  // makes_scratch_databases().
  virtual void create_database(Connection& admin, const std::string& name) const;
  // Called when verify ends, however it ends: drops `name`, even when a connection the
  // engine left open still uses it; IF EXISTS, so a database never made is no error.
  virtual void drop_database(Connection& admin, const std::string& name) const;
};

// Every dialect, in the order messages list them (postgresql, mysql, sqlite).
const std::vector<const Dialect*>& dialects();
// The dialect of `kind`.
const Dialect& dialect_of(DialectKind kind);
// The dialect a URL scheme names, or nullptr.
const Dialect* dialect_for_scheme(const std::string& scheme);

// Opens a connection for the URL's dialect; throws Error(unreachable) without the password.
std::unique_ptr<Connection> connect(const DatabaseUrl& url, Access access = Access::read_write);

// The SQL renderer for a dialect (no connection), for dry runs and static checks.
const SqlRenderer& renderer_for(DialectKind kind);

}  // namespace tandem
