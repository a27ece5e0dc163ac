// A snapshot (what inspect, compare and every operation's phase rules read) sends the
// same number of statements for a schema of N tables as for one of 3N, on every dialect:
// the catalogue is read with one query per kind of object, never one per table.
// PostgreSQL and MySQL/MariaDB: the dialect's inspect runs on a Connection that counts
// what it forwards to the real one. SQLite: inspect runs on a handle of the same file
// whose statement trace counts the statements it starts.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include "conformance.h"
#include "dialect/mysql/mysql.h"
#include "dialect/postgresql/postgresql.h"
#include "dialect/sqlite/sqlite.h"

using namespace tandem;
using namespace tandem::test;

namespace {

// Every statement sent through it is counted, then passed on to `inner`.
class CountingConnection : public Connection {
 public:
  explicit CountingConnection(Connection& inner) : inner_(inner) {}
  int statements() const { return statements_; }

  const SqlRenderer& renderer() const override { return inner_.renderer(); }
  std::string describe() const override { return inner_.describe(); }
  void execute(const std::string& sql) override {
    ++statements_;
    inner_.execute(sql);
  }
  std::vector<Row> query(const std::string& sql, const std::vector<Value>& params) override {
    ++statements_;
    return inner_.query(sql, params);
  }
  long long update(const std::string& sql, const std::vector<Value>& params) override {
    ++statements_;
    return inner_.update(sql, params);
  }
  void begin() override {
    ++statements_;
    inner_.begin();
  }
  void commit() override {
    ++statements_;
    inner_.commit();
  }
  void rollback() override {
    ++statements_;
    inner_.rollback();
  }
  long long rows_written() override { return inner_.rows_written(); }
  bool transactional_ddl() const override { return inner_.transactional_ddl(); }
  schema::Schema snapshot() override { throw std::logic_error("the test calls the dialect's inspect itself"); }
  void set_lock_timeout(std::chrono::milliseconds timeout) override { inner_.set_lock_timeout(timeout); }
  bool is_lock_timeout(const Error& error) const override { return inner_.is_lock_timeout(error); }
  bool is_already_applied(const Error& error) const override { return inner_.is_already_applied(error); }
  std::unique_ptr<RunLock> lock(std::chrono::seconds wait, const std::string& holder) override {
    return inner_.lock(wait, holder);
  }

 private:
  Connection& inner_;
  int statements_ = 0;
};

// Tables first..last, each with a unique constraint, an index, a check and a foreign key
// to the one before it: every kind of object a snapshot reads per table.
void create_tables(Connection& db, int first, int last) {
  for (int i = first; i <= last; ++i) {
    const std::string parent =
        i > 1 ? fmt::format(", CONSTRAINT q{0}_parent_fkey FOREIGN KEY (parent_id) REFERENCES q{1} (id)", i, i - 1)
              : "";
    db.execute(fmt::format("CREATE TABLE q{0} (id integer PRIMARY KEY, name varchar(40) NOT NULL, parent_id integer, "
                           "note varchar(20) DEFAULT 'x', CONSTRAINT q{0}_name_key UNIQUE (name), "
                           "CONSTRAINT q{0}_id_check CHECK (id > 0){1})",
                           i, parent));
    db.execute(fmt::format("CREATE INDEX q{0}_note_idx ON q{0} (note, name)", i));
  }
}

int statements_sent(Connection& db, const ScratchDatabase& database, size_t& tables) {
  const std::string dialect = database.dialect();
  const DatabaseUrl url = DatabaseUrl::parse(database.url());
  if (dialect == "sqlite") {
    sqlite3* handle = nullptr;
    REQUIRE(sqlite3_open_v2(url.database.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    // Statements started while none runs: the pragma functions run statements of their
    // own inside the one that calls them, and those are not inspect's.
    struct Trace {
      int started = 0, running = 0;
    } trace;
    sqlite3_trace_v2(
        handle, SQLITE_TRACE_STMT | SQLITE_TRACE_PROFILE,
        [](unsigned event, void* context, void*, void*) {
          auto& t = *static_cast<Trace*>(context);
          if (event == SQLITE_TRACE_PROFILE) {
            --t.running;
          } else if (t.running++ == 0) {
            ++t.started;
          }
          return 0;
        },
        &trace);
    tables = sqlite::inspect(handle).tables.size();
    sqlite3_close(handle);
    return trace.started;
  }
  CountingConnection counting(db);
  if (dialect == "postgresql") {
    tables = postgresql::inspect(counting).tables.size();
  } else {
    const bool mariadb = db.query("SELECT VERSION() LIKE '%MariaDB%'").at(0).at(0) == "1";
    tables = mysql::inspect(counting, url.database, mariadb).tables.size();
  }
  return counting.statements();
}

}  // namespace

TEST_CASE("conformance: a snapshot reads the catalogue in as many statements for 3N tables as for N") {
  constexpr int kTables = 4;
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    auto db = connect(DatabaseUrl::parse(database->url()));
    create_tables(*db, 1, kTables);
    size_t tables = 0;
    const int for_n = statements_sent(*db, *database, tables);
    CHECK(tables == kTables);
    create_tables(*db, kTables + 1, 3 * kTables);
    const int for_3n = statements_sent(*db, *database, tables);
    CHECK(tables == 3 * kTables);
    CHECK(for_n > 0);
    CHECK(for_3n == for_n);
    MESSAGE(database->dialect() << ": " << for_n << " statements for " << kTables << " tables, " << for_3n << " for "
                                << 3 * kTables);
  }
}
