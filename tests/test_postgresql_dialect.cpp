// The PostgreSQL dialect beyond the conformance suite: the bundled history offline and
// rolling, crash and lock safety, online index builds, connection failures, and the
// Connection contract itself. Needs a server: TANDEM_TEST_POSTGRESQL_URL (the admin URL
// tools/test-servers.sh sets); without one the server tests are skipped with a warning,
// or fail where servers are required (CI=true or TANDEM_REQUIRE_SERVERS=1).
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <random>
#include <thread>

#include "conformance.h"
#include "dialect/postgresql/postgresql.h"
#include "tandem/schema_diff.h"

using namespace tandem::test;
using tandem::DatabaseUrl;
using tandem::Error;

namespace {

// A fresh database on the test server (tests/conformance.h), read through the command-line
// client, independently of the dialect under test.
class Scratch {
 public:
  explicit Scratch(const std::string& admin_url) : database_(server_scratch("postgresql", admin_url)) {}
  std::string url() const { return database_->url(); }
  std::vector<std::string> rows(const std::string& sql) const { return client_query(url(), sql); }

 private:
  std::unique_ptr<ScratchDatabase> database_;
};

void require_ok(const Result& result) { REQUIRE_MESSAGE(result.exit_code == 0, result.all()); }


std::vector<std::string> differences(const tandem::schema::Schema& a, const tandem::schema::Schema& b) {
  std::vector<std::string> out;
  for (const auto& change : tandem::schema::diff(a, b)) out.push_back(change.describe());
  return out;
}

// What a finished contract must leave: no tandem trigger, no trigger function, no record.
void check_no_tandem_triggers(const Scratch& database) {
  CHECK(database.rows("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'tandem\\_%'").empty());
  CHECK(database.rows("SELECT proname FROM pg_proc WHERE proname LIKE 'tandem\\_%'").empty());
  CHECK(database.rows("SELECT count(*) FROM tandem_triggers") == std::vector<std::string>{"0"});
}

const char* kAccounts = R"Y(description: accounts
operations:
  - create_table:
      name: accounts
      shadow: true
      columns:
        - {name: id, type: integer, primary_key: true, autoincrement: true}
        - {name: email, type: string(255)}
        - {name: plan, type: "enum(free,pro)", default: "'free'"}
)Y";

// Every kind of step the dialect renders for expand: enum types, columns on a table and
// its shadow, CONCURRENTLY indexes (the unit is journaled), NOT VALID constraints, triggers.
const char* kAccountsMore = R"Y(description: more on accounts
operations:
  - add_column: {table: accounts, column: {name: email_lower, type: string(255)}}
  - add_column: {table: accounts, column: {name: tier, type: "enum(a,b)", enum_name: account_tier}}
  - add_column: {table: accounts, column: {name: referrer_id, type: integer, references: accounts.id, on_delete: set null}}
  - create_index: {table: accounts, name: accounts_email_idx, columns: [email]}
  - add_unique: {table: accounts, name: accounts_email_key, columns: [email]}
  - add_check: {table: accounts, name: accounts_email_check, expression: "email <> ''"}
  - sync_column: {table: accounts, old: email, new: email_lower, up: "lower(NEW.email)", down: "NEW.email_lower"}
)Y";

}  // namespace

TEST_CASE("postgresql dialect: ? placeholders become $n outside quotes, identifiers and comments") {
  using tandem::postgresql::numbered_placeholders;
  CHECK(numbered_placeholders("SELECT a FROM t WHERE b = ? AND c = ?") == "SELECT a FROM t WHERE b = $1 AND c = $2");
  CHECK(numbered_placeholders("SELECT '?', 'it''s ?', \"we?ird\" FROM t WHERE x = ?") ==
        "SELECT '?', 'it''s ?', \"we?ird\" FROM t WHERE x = $1");
  CHECK(numbered_placeholders("SELECT $$ ? $$, $q$ ? $q$ -- ?\n/* ? */ , ?") == "SELECT $$ ? $$, $q$ ? $q$ -- ?\n/* ? */ , $1");
  // Read by the one SQL lexer: E'' strings with backslash escapes, nested comments.
  CHECK(numbered_placeholders("SELECT E'it\\'s ?', ? /* a /* nested ? */ comment ? */, ?") ==
        "SELECT E'it\\'s ?', $1 /* a /* nested ? */ comment ? */, $2");
}

TEST_CASE("postgresql dialect: the Connection contract") {
  const std::string admin = test_server_url("postgresql");
  if (admin.empty()) return;
  Scratch database(admin);
  auto connection = tandem::connect(DatabaseUrl::parse(database.url()));
  // One statement per execute(): a second one in the text is refused, not run.
  CHECK_THROWS_AS(connection->execute("CREATE TABLE notes (id integer PRIMARY KEY, body text); CREATE TABLE other (id integer)"),
                  Error);
  connection->execute("CREATE TABLE notes (id integer PRIMARY KEY, body text)");
  connection->execute("CREATE TABLE other (id integer)");

  SUBCASE("parameters, NULL and quoted question marks") {
    CHECK(connection->update("INSERT INTO notes (id, body) VALUES (?, ?), (?, ?)", {"1", "what's ?", "2", std::nullopt}) == 2);
    const auto rows = connection->query("SELECT id, body FROM notes WHERE body = '?' OR id >= ? ORDER BY id", {"1"});
    REQUIRE(rows.size() == 2);
    CHECK(rows[0] == tandem::Row{"1", "what's ?"});
    CHECK(rows[1] == tandem::Row{"2", std::nullopt});
  }

  SUBCASE("a rolled-back transaction takes its DDL with it") {
    connection->begin();
    connection->execute("CREATE TABLE scratch (id integer)");
    connection->rollback();
    CHECK(connection->snapshot().find_table("scratch") == nullptr);
  }

  SUBCASE("errors carry the SQL and the SQLSTATE the runner classifies") {
    connection->execute("ALTER TABLE notes ADD COLUMN extra integer");
    try {
      connection->execute("ALTER TABLE notes ADD COLUMN extra integer");
      FAIL("adding a column twice succeeded");
    } catch (const Error& error) {
      CHECK(error.code() == "42701");
      CHECK(error.sql() == std::optional<std::string>("ALTER TABLE notes ADD COLUMN extra integer"));
      CHECK(connection->is_already_applied(error));
      CHECK_FALSE(connection->is_lock_timeout(error));
    }
    auto holder = tandem::connect(DatabaseUrl::parse(database.url()));
    holder->begin();
    holder->execute("LOCK TABLE notes IN ACCESS EXCLUSIVE MODE");
    connection->set_lock_timeout(std::chrono::milliseconds(100));
    try {
      connection->execute("ALTER TABLE notes ADD COLUMN late integer");
      FAIL("the ALTER did not wait for the lock");
    } catch (const Error& error) {
      CHECK(connection->is_lock_timeout(error));
    }
    holder->rollback();
    connection->execute("ALTER TABLE notes ADD COLUMN late integer");
  }

  SUBCASE("the snapshot reads the application's schema") {
    run_script(*connection,
        "CREATE TABLE parents (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, code varchar(8) NOT NULL "
        "DEFAULT 'x', CONSTRAINT parents_code_key UNIQUE (code));"
        "CREATE TABLE kids (id serial PRIMARY KEY, parent_id integer, name text, "
        "CONSTRAINT kids_parent_fkey FOREIGN KEY (parent_id) REFERENCES parents (id) ON DELETE SET NULL, "
        "CONSTRAINT kids_name_check CHECK (name <> ''));"
        "CREATE INDEX kids_lower_name_idx ON kids (parent_id, lower(name));"
        "CREATE VIEW kid_names AS SELECT name FROM kids;"
        "CREATE TABLE tandem_version (phase text)");
    const auto s = connection->snapshot();
    CHECK(s.find_table("tandem_version") == nullptr);
    CHECK(s.find_view("kid_names") != nullptr);
    const auto* parents = s.find_table("parents");
    REQUIRE(parents != nullptr);
    CHECK(parents->find_column("id")->autoincrement);
    CHECK(parents->find_column("id")->primary_key);
    CHECK_FALSE(parents->find_column("id")->default_value.has_value());
    CHECK(parents->find_column("code")->type == "character varying(8)");
    CHECK_FALSE(parents->find_column("code")->nullable);
    REQUIRE(parents->unique_constraints.size() == 1);
    CHECK(parents->unique_constraints[0].columns == std::vector<std::string>{"code"});
    CHECK(parents->indexes.empty());  // the unique constraint's index is the constraint
    const auto* kids = s.find_table("kids");
    REQUIRE(kids != nullptr);
    CHECK(kids->find_column("id")->autoincrement);
    CHECK_FALSE(kids->find_column("id")->default_value.has_value());
    REQUIRE(kids->foreign_keys.size() == 1);
    CHECK(kids->foreign_keys[0].on_delete == "set null");
    CHECK(kids->foreign_keys[0].referenced_columns == std::vector<std::string>{"id"});
    REQUIRE(kids->checks.size() == 1);
    CHECK(kids->checks[0].name == "kids_name_check");
    REQUIRE(kids->indexes.size() == 1);
    CHECK(kids->indexes[0].columns == std::vector<std::string>{"parent_id", "lower(name)"});
  }
}

TEST_CASE("postgresql dialect: connection failures exit 69 and never show the password") {
  const std::string admin = test_server_url("postgresql");
  if (admin.empty()) return;
  const auto url = DatabaseUrl::parse(admin);
  const std::string host = url.host.empty() ? "127.0.0.1" : url.host;
  const std::string port = url.port ? std::to_string(*url.port) : "5432";
  const std::string password = url.password.value_or("");
  std::vector<std::pair<std::string, std::string>> cases = {
      {"missing database", with_database(admin, "tandem_no_such_database")},
      {"no server there", "postgresql://" + url.user + ":" + (password.empty() ? "pw-123456" : password) +
                              "@127.0.0.1:1/" + url.database},
  };
  if (url.password)
    cases.push_back({"wrong password", "postgresql://" + url.user + ":wrong-pw-738291@" + host + ":" + port + "/" + url.database});
  else
    MESSAGE("the test server URL has no password: the wrong-password case is skipped");
  for (const auto& [what, bad_url] : cases) {
    CAPTURE(what);
    const Result result = run_tandem({"status", "--db", bad_url, "--repos", TANDEM_SOURCE_DIR, "--database", "cell"});
    CHECK(result.exit_code == 69);
    CHECK(result.err.find("cannot connect to") != std::string::npos);
    CHECK(result.all().find("wrong-pw-738291") == std::string::npos);
    if (!password.empty()) CHECK(result.all().find(password) == std::string::npos);
  }
}

TEST_CASE("postgresql dialect: the bundled history, offline and as a rolling upgrade, on cell and api databases") {
  const std::string admin = test_server_url("postgresql");
  if (admin.empty()) return;
  for (const char* role : {"cell", "api"}) {
    CAPTURE(role);
    Scratch offline(admin), rolling(admin);
    require_ok(run_bundled("upgrade", offline.url(), role));
    check_no_tandem_triggers(offline);

    require_ok(run_bundled("upgrade", rolling.url(), role, {"--to", "1"}));
    if (std::string(role) == "cell") {
      rolling.rows("INSERT INTO compute_nodes (uuid, hypervisor_hostname) VALUES ('cn1', 'node-a'), ('cn2', 'node-b');"
                   "INSERT INTO instances (uuid, node) VALUES ('before', 'node-b')");
    } else {
      rolling.rows("INSERT INTO projects (id, name, domain_id) VALUES ('p1', 'one', 'd1'), ('p2', 'two', 'd2');"
                   "INSERT INTO assignments (actor_id, project_id, role) VALUES ('u1', 'p1', 'admin');"
                   "INSERT INTO credentials (id, user_id, type, encrypted_blob, key_hash) VALUES ('c1', 'u1', 'ec2', 'b1', 'k1')");
    }
    require_ok(run_bundled("expand", rolling.url(), role));
    if (std::string(role) == "cell") {
      // sync_column both ways: the old release writes node, the new one compute_id.
      rolling.rows("INSERT INTO instances (uuid, node) VALUES ('old', 'node-a');"
                   "INSERT INTO instances (uuid, compute_id) VALUES ('new', 2);"
                   "UPDATE instances SET node = 'node-b' WHERE uuid = 'old';"
                   "UPDATE instances SET compute_id = 1 WHERE uuid = 'new'");
      CHECK(rolling.rows("SELECT uuid, node, compute_id FROM instances ORDER BY id") ==
            std::vector<std::string>{"before|node-b|", "old|node-b|2", "new|node-a|1"});
    } else {
      // credentials are read-only for both releases during the window.
      CHECK_THROWS_WITH(rolling.rows("INSERT INTO credentials (id, user_id, type, encrypted_blob, key_hash) "
                                     "VALUES ('c2', 'u1', 'ec2', 'b2', 'k2')"),
                        doctest::Contains("credentials are read-only while the upgrade re-encrypts them"));
      CHECK_THROWS(rolling.rows("UPDATE credentials SET type = 'x'"));
      CHECK_THROWS(rolling.rows("DELETE FROM credentials"));
      rolling.rows("INSERT INTO assignments (actor_id, project_id, role) VALUES ('u2', 'p2', 'member')");
      CHECK(rolling.rows("SELECT actor_id, domain_id FROM assignments ORDER BY id") == std::vector<std::string>{"u1|", "u2|d2"});
    }
    require_ok(run_bundled("migrate", rolling.url(), role));
    if (std::string(role) == "cell") {
      CHECK(rolling.rows("SELECT uuid, compute_id FROM instances ORDER BY id") ==
            std::vector<std::string>{"before|2", "old|2", "new|1"});
    } else {
      // migrate wrote the frozen table through its own bypass.
      CHECK(rolling.rows("SELECT encrypted_blob_v2 FROM credentials") == std::vector<std::string>{"v2:b1"});
      CHECK(rolling.rows("SELECT actor_id, domain_id FROM assignments ORDER BY id") == std::vector<std::string>{"u1|d1", "u2|d2"});
    }
    require_ok(run_bundled("contract", rolling.url(), role));
    check_no_tandem_triggers(rolling);
    // Up to date to 006; 007 on need the other role's database: expand needed (2).
    CHECK(run_bundled("status", rolling.url(), role, {"--check"}).exit_code == 2);
    if (std::string(role) == "api")
      rolling.rows("INSERT INTO credentials (id, user_id, type, encrypted_blob, key_hash) VALUES ('c3', 'u1', 'ec2', 'b', 'k')");
    CHECK(differences(snapshot(offline.url()), snapshot(rolling.url())).empty());
  }
}

TEST_CASE("postgresql dialect: kill -9 in the middle of a journaled unit, then a rerun leaves the same schema") {
  const std::string admin = test_server_url("postgresql");
  if (admin.empty()) return;
  TempDir repos;
  write_version(repos.path(), "001", "accounts", kAccounts, "", "");
  write_version(repos.path(), "002", "more", kAccountsMore, "", "");
  auto expand = [&](const Scratch& database, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"expand", "--db", database.url(), "--repos", repos.path().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_tandem(args, repos.path());
  };
  Scratch reference(admin), killed(admin);
  for (const auto* database : {&reference, &killed}) {
    require_ok(expand(*database, {"--to", "1"}));
    database->rows("INSERT INTO accounts (email) VALUES ('A@example.org'), ('b@example.org')");
  }
  require_ok(expand(reference));

  // Each run resumes where the last one was killed, and is killed between two later steps.
  for (int step : {2, 4, 6}) {
    CAPTURE(step);
    // --wait: the server may not yet have ended the killed run's session, which holds the lock.
    const Result kill = run_tandem({"expand", "--wait", "10", "--db", killed.url(), "--repos", repos.path().string()},
                                   repos.path(), {{"TANDEM_FAILPOINT", "before_step:" + std::to_string(step)}});
    CHECK_MESSAGE(kill.exit_code == -SIGKILL, kill.all());
    CHECK(killed.rows("SELECT version FROM tandem_version WHERE phase = 'expand'") == std::vector<std::string>{"1"});
  }
  CHECK(killed.rows("SELECT step > 0 FROM tandem_journal") == std::vector<std::string>{"t"});
  const Result rerun = expand(killed, {"--wait", "10"});
  REQUIRE_MESSAGE(rerun.exit_code == 0, rerun.all());
  CHECK(rerun.out.find("resuming expand 002") != std::string::npos);
  CHECK(differences(snapshot(reference.url()), snapshot(killed.url())).empty());
  const char* triggers = "SELECT trigger_name, table_name, function_name FROM tandem_triggers ORDER BY trigger_name";
  CHECK(killed.rows(triggers) == reference.rows(triggers));
  CHECK(killed.rows("SELECT count(*) FROM pg_index WHERE NOT indisvalid") == std::vector<std::string>{"0"});
  // The resumed triggers work.
  killed.rows("INSERT INTO accounts (email) VALUES ('C@example.org')");
  CHECK(killed.rows("SELECT email_lower FROM accounts WHERE email = 'C@example.org'") ==
        std::vector<std::string>{"c@example.org"});
}

TEST_CASE("postgresql dialect: an INVALID index a failed CREATE INDEX CONCURRENTLY left is rebuilt by the rerun") {
  const std::string admin = test_server_url("postgresql");
  if (admin.empty()) return;
  TempDir repos;
  write_version(repos.path(), "001", "accounts", kAccounts, "", "");
  write_version(repos.path(), "002", "more", kAccountsMore, "", "");
  Scratch database(admin);
  auto expand = [&](std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"expand", "--db", database.url(), "--repos", repos.path().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_tandem(args, repos.path());
  };
  require_ok(expand({"--to", "1"}));
  database.rows("INSERT INTO accounts (email) VALUES ('dup@example.org'), ('dup@example.org')");
  const Result failed = expand();
  CHECK(failed.exit_code == 1);
  CHECK(failed.err.find("accounts_email_key") != std::string::npos);
  // Dropped at once, so that no retry takes it for built.
  CHECK(database.rows("SELECT count(*) FROM pg_class WHERE relname = 'accounts_email_key'") == std::vector<std::string>{"0"});
  database.rows("DELETE FROM accounts WHERE id = (SELECT max(id) FROM accounts)");
  // An INVALID index as a killed build leaves it: the rerun drops and rebuilds it.
  database.rows("CREATE UNIQUE INDEX accounts_email_key ON accounts (email);"
                "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'accounts_email_key'::regclass");
  require_ok(expand());
  CHECK(database.rows("SELECT indisvalid FROM pg_index WHERE indexrelid = 'accounts_email_key'::regclass") ==
        std::vector<std::string>{"t"});
  CHECK(database.rows("SELECT conname FROM pg_constraint WHERE conname = 'accounts_email_key'") ==
        std::vector<std::string>{"accounts_email_key"});
}

TEST_CASE("postgresql dialect: a CREATE INDEX CONCURRENTLY that loses a lock fight is retried until it builds") {
  const std::string admin = test_server_url("postgresql");
  if (admin.empty()) return;
  TempDir repos;
  write_version(repos.path(), "001", "accounts", kAccounts, "", "");
  write_version(repos.path(), "002", "index", R"Y(description: an index on a table the application is writing
operations:
  - create_index: {table: accounts, name: accounts_email_idx, columns: [email]}
)Y",
                "", "");
  Scratch database(admin);
  require_ok(run_tandem({"expand", "--to", "1", "--db", database.url(), "--repos", repos.path().string()}, repos.path()));
  database.rows("INSERT INTO accounts (email) VALUES ('a@example.org')");
  // An application transaction that wrote the table: the build waits for it, past
  // --lock-timeout, and leaves an INVALID index each time it gives up.
  auto application = tandem::connect(DatabaseUrl::parse(database.url()));
  application->begin();
  application->execute("UPDATE accounts SET email = email");
  std::thread finish([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    application->commit();
  });
  const Result result = run_tandem({"expand", "--lock-timeout", "200", "--lock-retries", "20", "--db", database.url(),
                                    "--repos", repos.path().string()},
                                   repos.path());
  finish.join();
  REQUIRE_MESSAGE(result.exit_code == 0, result.all());
  CHECK(result.all().find("lost a lock fight") != std::string::npos);
  CHECK(database.rows("SELECT indisvalid FROM pg_index WHERE indexrelid = 'accounts_email_idx'::regclass") ==
        std::vector<std::string>{"t"});
}

TEST_CASE("postgresql dialect: add_check validates in its own transaction, so a one-row UPDATE does not wait for the scan") {
  const std::string admin = test_server_url("postgresql");
  if (admin.empty()) return;
  Scratch database(admin);
  // A check that takes its time over the existing rows (1 s in all, whatever the machine),
  // and none over the row the application writes.
  database.rows(
      "CREATE FUNCTION slow_ok(v integer) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS "
      "$$ BEGIN IF v % 1000 = 999 THEN PERFORM pg_sleep(0.01); END IF; RETURN true; END $$");
  database.rows("CREATE TABLE big (id integer PRIMARY KEY, v integer NOT NULL)");
  database.rows("INSERT INTO big SELECT g, g FROM generate_series(1, 100000) g");
  TempDir repos;
  write_version(repos.path(), "001", "check", R"Y(description: a check over existing rows
operations:
  - add_check: {table: big, name: big_v_check, expression: "slow_ok(v)"}
)Y",
                "", "");
  const auto dry = run_tandem({"expand", "--dry-run", "--db", database.url(), "--repos", repos.path().string()},
                              repos.path());
  REQUIRE_MESSAGE(dry.exit_code == 0, dry.all());
  std::atomic<bool> done{false};
  std::atomic<int> writes{0}, failures{0};
  std::atomic<long long> longest{0};
  std::thread application([&] {
    auto connection = tandem::connect(DatabaseUrl::parse(database.url()));
    connection->execute("SET lock_timeout = '500ms'");
    while (!done) {
      const auto start = std::chrono::steady_clock::now();
      try {
        connection->execute("UPDATE big SET v = v WHERE id = 1");
        ++writes;
      } catch (const Error&) {
        ++failures;
      }
      const long long waited =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
      if (waited > longest) longest = waited;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  const int pid = spawn_tandem({"expand", "--lock-timeout", "200", "--db", database.url(), "--repos",
                                repos.path().string()},
                               repos.path());
  const int code = wait_for(pid);
  done = true;
  application.join();
  CHECK(code == 0);
  CHECK(failures.load() == 0);
  CHECK(writes.load() > 20);
  CHECK_MESSAGE(longest.load() < 500, "longest wait " << longest.load() << " ms");
  CHECK(database.rows("SELECT convalidated FROM pg_constraint WHERE conname = 'big_v_check'") ==
        std::vector<std::string>{"t"});
}

TEST_CASE("postgresql dialect: 'tuple concurrently updated' on a catalog row is a lost lock fight, retried") {
  // What a rerun's DROP INDEX CONCURRENTLY met beside a killed run's session: two sessions
  // changing one catalog row. Two GRANTs on one table do it on purpose: the second waits
  // for the first's transaction, then fails with XX000 "tuple concurrently updated".
  const std::string admin = test_server_url("postgresql");
  if (admin.empty()) return;
  Scratch database(admin);
  database.rows("CREATE TABLE shared (id integer)");
  auto first = tandem::connect(DatabaseUrl::parse(database.url()));
  auto second = tandem::connect(DatabaseUrl::parse(database.url()));
  first->begin();
  first->execute("GRANT SELECT ON shared TO PUBLIC");
  std::optional<Error> failure;
  std::thread waiting([&] {
    try {
      second->execute("GRANT INSERT ON shared TO PUBLIC");
    } catch (const Error& error) {
      failure = error;
    }
  });
  bool blocked = false;
  for (int attempt = 0; attempt < 200 && !blocked; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    blocked = database.rows("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                            "wait_event_type = 'Lock'") == std::vector<std::string>{"1"};
  }
  first->commit();
  waiting.join();
  REQUIRE(blocked);
  REQUIRE(failure.has_value());
  CHECK(std::string(failure->what()).find("tuple concurrently updated") != std::string::npos);
  CHECK(second->is_lock_timeout(*failure));
}
