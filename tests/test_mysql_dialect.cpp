// The MySQL / MariaDB dialect beyond the conformance suite: the Connection contract, the
// snapshot, re-running every kind of step (what a resumed journaled unit does), the
// bundled history offline and rolling, triggers under the application's own sql_mode,
// crash and lock safety, connection failures. Needs a server: TANDEM_TEST_MYSQL_URL (the
// admin URL tools/test-servers.sh sets); without one the tests are skipped with a
// warning, or fail where servers are required (CI=true or TANDEM_REQUIRE_SERVERS=1).
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "conformance.h"
#include "tandem/schema_diff.h"

using namespace tandem::test;
using tandem::DatabaseUrl;
using tandem::Error;
namespace ops = tandem::ops;

namespace {

// A fresh database on the test server (tests/conformance.h), read through the command-line
// client, independently of the dialect under test.
class Scratch {
 public:
  explicit Scratch(const std::string& admin_url) : database_(server_scratch("mysql", admin_url)) {}
  std::string url() const { return database_->url(); }
  std::vector<std::string> rows(const std::string& sql) const { return client_query(url(), sql); }

 private:
  std::unique_ptr<ScratchDatabase> database_;
};

void require_ok(const Result& result) { REQUIRE_MESSAGE(result.exit_code == 0, result.all()); }


Result phase(const std::string& command, const std::string& url, const TempDir& repos,
             const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {command, "--db", url, "--repos", repos.path().string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_tandem(args, repos.path());
}

// What differs from `a` to `b`, one change a line ("" when nothing).
std::string differences(const tandem::schema::Schema& a, const tandem::schema::Schema& b) {
  std::string out;
  for (const auto& change : tandem::schema::diff(a, b)) out += change.describe() + "\n";
  return out;
}

// What a finished contract must leave: no tandem trigger and no record of one.
void check_no_tandem_triggers(const Scratch& database) {
  CHECK(database
            .rows("SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = DATABASE() "
                  "AND trigger_name LIKE 'tandem\\_%'")
            .empty());
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

// A unit of many DDL steps, each journaled on its own.
const char* kAccountsMore = R"Y(description: more on accounts
operations:
  - add_column: {table: accounts, column: {name: email_lower, type: string(255)}}
  - add_column: {table: accounts, column: {name: note, type: text, nullable: false, default: "'none'"}}
  - add_column: {table: accounts, column: {name: referrer_id, type: integer, references: accounts.id, on_delete: set null}}
  - create_index: {table: accounts, name: accounts_email_idx, columns: [email]}
  - add_unique: {table: accounts, name: accounts_email_key, columns: [email]}
  - add_check: {table: accounts, name: accounts_email_check, expression: "email <> ''"}
  - sync_column: {table: accounts, old: email, new: email_lower, up: "lower(NEW.email)", down: "NEW.email_lower"}
  - create_view: {name: account_emails, sql: "SELECT id, email FROM accounts"}
)Y";

}  // namespace

TEST_CASE("mysql dialect: the Connection contract") {
  const std::string admin = test_server_url("mysql");
  if (admin.empty()) return;
  Scratch database(admin);
  auto connection = tandem::connect(DatabaseUrl::parse(database.url()));
  CHECK_FALSE(connection->transactional_ddl());
  // One statement per execute(): a second one in the text is refused, not run.
  CHECK_THROWS_AS(connection->execute("CREATE TABLE notes (id int PRIMARY KEY, body text); CREATE TABLE other (id int)"),
                  Error);
  connection->execute("CREATE TABLE notes (id int PRIMARY KEY, body text)");
  connection->execute("CREATE TABLE other (id int)");

  SUBCASE("parameters, NULL, backslashes and question marks in quotes and comments") {
    CHECK(connection->update("INSERT INTO notes (id, body) VALUES (?, ?), (?, ?), (?, ?)",
                             {"1", "what's ?", "2", std::nullopt, "3", "back\\slash \"q\""}) == 3);
    const auto rows = connection->query(
        "SELECT id, body, '?', 'it''s ?', \"?\" FROM notes /* ? */ WHERE body <> '?' OR id >= ? -- ?\n"
        "ORDER BY id LIMIT ?",
        {"2", "10"});
    REQUIRE(rows.size() == 3);
    CHECK(rows[0] == tandem::Row{"1", "what's ?", "?", "it's ?", "?"});
    CHECK(rows[1] == tandem::Row{"2", std::nullopt, "?", "it's ?", "?"});
    CHECK(rows[2][1] == std::optional<std::string>("back\\slash \"q\""));
    CHECK_THROWS_AS(connection->query("SELECT ?, ?", {"1"}), Error);
    // Rows matched count, as on the other dialects, also when a value does not change.
    CHECK(connection->update("UPDATE notes SET body = body WHERE id <= ?", {"2"}) == 2);
  }

  SUBCASE("the session concatenates with || and refuses bad data") {
    CHECK(connection->query("SELECT 'v2:' || 'x'") == std::vector<tandem::Row>{{"v2:x"}});
    connection->execute("CREATE TABLE small (code varchar(2))");
    CHECK_THROWS_AS(connection->execute("INSERT INTO small VALUES ('too long')"), Error);
  }

  SUBCASE("errors carry the SQL and the error number the runner classifies") {
    connection->execute("ALTER TABLE notes ADD COLUMN extra int");
    try {
      connection->execute("ALTER TABLE notes ADD COLUMN extra int");
      FAIL("adding a column twice succeeded");
    } catch (const Error& error) {
      CHECK(error.code() == "1060");
      CHECK(error.sql() == std::optional<std::string>("ALTER TABLE notes ADD COLUMN extra int"));
      CHECK(connection->is_already_applied(error));
      CHECK_FALSE(connection->is_lock_timeout(error));
    }
    // An open transaction that read the table holds its metadata lock: the ALTER waits
    // lock_wait_timeout, then gives up with a lock timeout.
    auto holder = tandem::connect(DatabaseUrl::parse(database.url()));
    holder->begin();
    holder->query("SELECT count(*) FROM notes");
    connection->set_lock_timeout(std::chrono::milliseconds(100));
    const auto started = std::chrono::steady_clock::now();
    try {
      connection->execute("ALTER TABLE notes ADD COLUMN late int");
      FAIL("the ALTER did not wait for the lock");
    } catch (const Error& error) {
      CHECK(connection->is_lock_timeout(error));
      CHECK_FALSE(connection->is_already_applied(error));
    }
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
    holder->rollback();
    connection->execute("ALTER TABLE notes ADD COLUMN late int");
  }

  SUBCASE("a column the server cannot add instantly is added online instead") {
    // InnoDB has no instant ADD COLUMN for compressed tables.
    connection->execute("CREATE TABLE packed (id int PRIMARY KEY) ROW_FORMAT=COMPRESSED");
    const auto schema = connection->snapshot();
    const auto steps = connection->renderer().add_column({"packed", {.name = "extra", .type = "integer"}},
                                                         {connection->renderer(), schema, "001", true});
    REQUIRE(steps.size() == 1);
    CHECK(steps[0].sql.find("ALGORITHM=INSTANT") != std::string::npos);
    connection->execute(steps[0].sql);
    CHECK(connection->snapshot().find_table("packed")->find_column("extra") != nullptr);
  }

  SUBCASE("the snapshot reads the application's schema") {
    run_script(*connection,
        "CREATE TABLE parents (id int AUTO_INCREMENT PRIMARY KEY, code varchar(8) NOT NULL DEFAULT 'x', "
        "data json, flag tinyint(1) DEFAULT 1, name varchar(16) COLLATE utf8mb4_bin, "
        "CONSTRAINT parents_code_key UNIQUE (code)) ENGINE=InnoDB;"
        "CREATE TABLE kids (id int PRIMARY KEY, parent_id int, name varchar(32), "
        "CONSTRAINT kids_parent_fkey FOREIGN KEY (parent_id) REFERENCES parents (id) ON DELETE SET NULL, "
        "CONSTRAINT kids_plain_fkey FOREIGN KEY (id) REFERENCES parents (id), "
        "CONSTRAINT kids_name_check CHECK (name <> '')) ENGINE=InnoDB;"
        "CREATE INDEX kids_name_idx ON kids (name, parent_id);"
        "CREATE VIEW kid_names AS SELECT name FROM kids;"
        "CREATE TRIGGER kids_touch BEFORE INSERT ON kids FOR EACH ROW SET NEW.name = NEW.name;"
        "CREATE TABLE tandem_version (phase text); CREATE TABLE tandem_lock (lock_name text)");
    const auto s = connection->snapshot();
    CHECK(s.find_table("tandem_version") == nullptr);
    CHECK(s.find_table("tandem_lock") == nullptr);
    CHECK(s.find_view("kid_names") != nullptr);
    REQUIRE(s.find_trigger("kids_touch") != nullptr);
    CHECK(s.find_trigger("kids_touch")->table == "kids");
    const auto* parents = s.find_table("parents");
    REQUIRE(parents != nullptr);
    CHECK(parents->find_column("id")->autoincrement);
    CHECK(parents->find_column("id")->primary_key);
    CHECK_FALSE(parents->find_column("id")->nullable);
    CHECK(parents->find_column("code")->default_value == std::optional<std::string>("'x'"));
    CHECK_FALSE(parents->find_column("code")->nullable);
    CHECK(parents->find_column("flag")->type == "tinyint(1)");
    CHECK(parents->find_column("name")->type == "varchar(16) COLLATE utf8mb4_bin");
    CHECK_FALSE(parents->find_column("name")->default_value.has_value());
    // MariaDB's JSON is LONGTEXT with a json_valid() check: reported as the type it is.
    CHECK(parents->find_column("data")->type == "json");
    CHECK(parents->checks.empty());
    REQUIRE(parents->unique_constraints.size() == 1);
    CHECK(parents->unique_constraints[0].columns == std::vector<std::string>{"code"});
    CHECK(parents->indexes.empty());
    const auto* kids = s.find_table("kids");
    REQUIRE(kids != nullptr);
    REQUIRE(kids->foreign_keys.size() == 2);
    CHECK(kids->foreign_keys[0].name == "kids_parent_fkey");
    CHECK(kids->foreign_keys[0].on_delete == "set null");
    CHECK(kids->foreign_keys[1].on_delete == "");
    CHECK(kids->foreign_keys[0].referenced_columns == std::vector<std::string>{"id"});
    REQUIRE(kids->checks.size() == 1);
    CHECK(kids->checks[0].name == "kids_name_check");
    // The index InnoDB made for the foreign key, and the one declared.
    REQUIRE(kids->indexes.size() == 2);
    CHECK(kids->find_index("kids_parent_fkey")->columns == std::vector<std::string>{"parent_id"});
    CHECK(kids->find_index("kids_name_idx")->columns == std::vector<std::string>{"name", "parent_id"});
  }
}

// A journaled step whose effect landed just before a crash runs again when the unit
// resumes: it must succeed or fail with an error is_already_applied() recognises.
TEST_CASE("mysql dialect: every kind of step can run twice") {
  const std::string admin = test_server_url("mysql");
  if (admin.empty()) return;
  Scratch database(admin);
  auto connection = tandem::connect(DatabaseUrl::parse(database.url()));
  const auto& sql = connection->renderer();
  int steps = 0;
  auto twice = [&](const auto& op) {
    const auto schema = connection->snapshot();
    for (const auto& step : op.render({sql, schema, "001", true})) {
      CAPTURE(step.sql);
      connection->execute(step.sql);
      try {
        connection->execute(step.sql);
      } catch (const Error& error) {
        CHECK_MESSAGE(connection->is_already_applied(error), error.what());
      }
      ++steps;
    }
  };
  ops::ColumnSpec id{.name = "id", .type = "integer", .nullable = false, .primary_key = true, .autoincrement = true};
  twice(ops::CreateTable{.name = "parents",
                         .columns = {id,
                                     {.name = "name", .type = "string(64)", .nullable = false},
                                     {.name = "data", .type = "json"},
                                     {.name = "deleted", .type = "integer", .default_value = "0"}},
                         .indexes = {{"parents_name_idx", {"name"}}},
                         .unique = {{"name", "deleted"}},
                         .shadow = true});
  twice(ops::CreateTable{
      .name = "children",
      .columns = {{.name = "id", .type = "integer", .primary_key = true},
                  {.name = "parent_id", .type = "integer", .references = "parents.id", .on_delete = "cascade"},
                  {.name = "label", .type = "string(32)"}}});
  twice(ops::AddColumn{.table = "parents",
                       .column = {.name = "note", .type = "text", .nullable = false, .default_value = "'none'"}});
  twice(ops::AddColumn{.table = "parents", .column = {.name = "code", .type = "string(8)", .unique = true}});
  twice(ops::AddColumn{.table = "children",
                       .column = {.name = "other_id", .type = "integer", .references = "parents.id"}});
  twice(ops::CreateIndex{.table = "children", .index = {"children_label_idx", {"label"}}});
  twice(ops::AddUnique{.table = "children", .name = "children_label_key", .columns = {"label", "parent_id"}});
  twice(ops::AddForeignKey{.table = "children",
                           .name = "children_self_fkey",
                           .columns = {"other_id"},
                           .referenced_table = "children",
                           .referenced_columns = {"id"},
                           .on_delete = "set null"});
  twice(ops::AddCheck{.table = "children", .name = "children_label_check", .expression = "label <> ''"});
  twice(ops::CreateView{.name = "parent_names", .sql = "SELECT id, name FROM parents"});
  twice(ops::SetNullable{.table = "parents", .column = "name"});
  twice(ops::SyncColumn{
      .table = "parents", .old_column = "name", .new_column = "code", .up = "left(NEW.name, 8)", .down = "NEW.code"});
  twice(ops::SyncTable{.from = "children",
                       .to = "parents",
                       .key = "id",
                       .columns = {{"id", "NEW.id"}, {"name", "NEW.label"}},
                       .both_ways = true});
  twice(
      ops::ForbidWrites{.table = "children", .on = {ops::WriteKind::insert, ops::WriteKind::del}, .message = "frozen"});
  for (const auto& trigger : connection->snapshot().triggers)
    for (const auto& step : sql.drop_trigger({trigger.name, trigger.table, ""})) {
      connection->execute(step.sql);
      connection->execute(step.sql);
    }
  CHECK(connection->snapshot().triggers.empty());
  twice(ops::DropConstraint{.table = "children", .name = "children_label_check"});
  twice(ops::DropConstraint{.table = "children", .name = "children_label_key"});
  twice(ops::DropConstraint{.table = "children", .name = "children_self_fkey"});
  twice(ops::DropIndex{.table = "children", .name = "children_label_idx"});
  twice(ops::DropColumn{.table = "children", .column = "other_id"});
  twice(ops::DropColumn{.table = "parents", .column = "data"});
  twice(ops::RenameColumn{.table = "children", .from = "label", .to = "title"});
  twice(ops::SetNotNull{.table = "parents", .column = "name"});
  twice(ops::AlterType{.table = "parents", .column = "code", .type = "string(64)"});
  twice(ops::DropView{.name = "parent_names"});
  twice(ops::RenameTable{.from = "children", .to = "kids"});
  twice(ops::DropTable{.name = "kids"});
  CHECK(steps > 25);
  const auto s = connection->snapshot();
  CHECK(s.find_table("kids") == nullptr);
  REQUIRE(s.find_table("parents") != nullptr);
  CHECK(s.find_table("parents")->find_column("data") == nullptr);
  CHECK(s.find_table("shadow_parents")->find_column("data") == nullptr);
  CHECK(s.find_table("parents")->find_column("code")->type == "varchar(64)");
  CHECK_FALSE(s.find_table("parents")->find_column("name")->nullable);
  CHECK(s.find_table("parents")->find_column("note")->default_value == std::optional<std::string>("'none'"));
}

TEST_CASE("mysql dialect: connection failures exit 69 and never show the password") {
  const std::string admin = test_server_url("mysql");
  if (admin.empty()) return;
  const auto url = DatabaseUrl::parse(admin);
  const std::string host = url.host.empty() ? "127.0.0.1" : url.host;
  const std::string port = url.port ? std::to_string(*url.port) : "3306";
  const std::string password = url.password.value_or("");
  std::vector<std::pair<std::string, std::string>> cases = {
      {"missing database", with_database(admin, "tandem_no_such_database")},
      {"no server there",
       "mysql://" + url.user + ":" + (password.empty() ? "pw-123456" : password) + "@127.0.0.1:1/" + url.database},
      {"unknown host", "mysql://" + url.user + ":" + (password.empty() ? "pw-123456" : password) +
                           "@no-such-host.invalid:" + port + "/" + url.database},
      {"wrong password", "mysql://" + url.user + ":wrong-pw-738291@" + host + ":" + port + "/" + url.database},
      {"TLS required, none offered", with_database(admin, url.database + "?ssl-mode=required")},
  };
  for (const auto& [what, bad_url] : cases) {
    CAPTURE(what);
    const Result result = run_tandem({"status", "--db", bad_url, "--repos", TANDEM_SOURCE_DIR, "--database", "cell"});
    if (what == "TLS required, none offered" &&
        client_query(admin, "SELECT @@have_ssl") == std::vector<std::string>{"YES"}) {
      CHECK(result.exit_code == 0);
      continue;
    }
    CHECK(result.exit_code == 69);
    CHECK(result.err.find("cannot connect to") != std::string::npos);
    CHECK(result.all().find("wrong-pw-738291") == std::string::npos);
    if (!password.empty()) CHECK(result.all().find(password) == std::string::npos);
  }
  // The password may come from MYSQL_PWD instead of the URL.
  if (url.password) {
    const std::string without = "mysql://" + url.user + "@" + host + ":" + port + "/" + url.database;
    CHECK(run_tandem({"status", "--db", without, "--repos", TANDEM_SOURCE_DIR, "--database", "cell"}, ".",
                     {{"MYSQL_PWD", password}})
              .exit_code != 69);
  }
  const Result unknown =
      run_tandem({"status", "--db", admin + (admin.find('?') == std::string::npos ? "?" : "&") + "sslmod=x", "--repos",
                  TANDEM_SOURCE_DIR, "--database", "cell"});
  CHECK(unknown.exit_code == 78);
  CHECK(unknown.err.find("sslmod") != std::string::npos);
}

TEST_CASE("mysql dialect: the bundled history, offline and as a rolling upgrade, on cell and api databases") {
  const std::string admin = test_server_url("mysql");
  if (admin.empty()) return;
  for (const char* role : {"cell", "api"}) {
    CAPTURE(role);
    Scratch offline(admin), rolling(admin);
    require_ok(run_bundled("upgrade", offline.url(), role));
    check_no_tandem_triggers(offline);

    require_ok(run_bundled("upgrade", rolling.url(), role, {"--to", "1"}));
    if (std::string(role) == "cell") {
      rolling.rows(
          "INSERT INTO compute_nodes (uuid, hypervisor_hostname) VALUES ('cn1', 'node-a'), ('cn2', 'node-b');"
          "INSERT INTO instances (uuid, node) VALUES ('before', 'node-b')");
    } else {
      rolling.rows(
          "INSERT INTO projects (id, name, domain_id) VALUES ('p1', 'one', 'd1'), ('p2', 'two', 'd2');"
          "INSERT INTO assignments (actor_id, project_id, role) VALUES ('u1', 'p1', 'admin');"
          "INSERT INTO credentials (id, user_id, type, encrypted_blob, key_hash) VALUES ('c1', 'u1', 'ec2', 'b1', "
          "'k1')");
    }
    require_ok(run_bundled("expand", rolling.url(), role));
    if (std::string(role) == "cell") {
      // sync_column both ways: the old release writes node, the new one compute_id.
      rolling.rows(
          "INSERT INTO instances (uuid, node) VALUES ('old', 'node-a');"
          "INSERT INTO instances (uuid, compute_id) VALUES ('new', 2);"
          "UPDATE instances SET node = 'node-b' WHERE uuid = 'old';"
          "UPDATE instances SET compute_id = 1 WHERE uuid = 'new'");
      CHECK(rolling.rows("SELECT uuid, node, compute_id FROM instances ORDER BY id") ==
            std::vector<std::string>{"before|node-b|NULL", "old|node-b|2", "new|node-a|1"});
    } else {
      // credentials are read-only for both releases during the window.
      CHECK_THROWS_WITH(rolling.rows("INSERT INTO credentials (id, user_id, type, encrypted_blob, key_hash) "
                                     "VALUES ('c2', 'u1', 'ec2', 'b2', 'k2')"),
                        doctest::Contains("credentials are read-only while the upgrade re-encrypts them"));
      CHECK_THROWS(rolling.rows("UPDATE credentials SET type = 'x'"));
      CHECK_THROWS(rolling.rows("DELETE FROM credentials"));
      rolling.rows("INSERT INTO assignments (actor_id, project_id, role) VALUES ('u2', 'p2', 'member')");
      CHECK(rolling.rows("SELECT actor_id, domain_id FROM assignments ORDER BY id") ==
            std::vector<std::string>{"u1|NULL", "u2|d2"});
    }
    require_ok(run_bundled("migrate", rolling.url(), role));
    if (std::string(role) == "cell") {
      CHECK(rolling.rows("SELECT uuid, compute_id FROM instances ORDER BY id") ==
            std::vector<std::string>{"before|2", "old|2", "new|1"});
    } else {
      // migrate wrote the frozen table through its own bypass.
      CHECK(rolling.rows("SELECT encrypted_blob_v2 FROM credentials") == std::vector<std::string>{"v2:b1"});
      CHECK(rolling.rows("SELECT actor_id, domain_id FROM assignments ORDER BY id") ==
            std::vector<std::string>{"u1|d1", "u2|d2"});
    }
    require_ok(run_bundled("contract", rolling.url(), role));
    check_no_tandem_triggers(rolling);
    // Up to date to 006; 007 on need the other role's database: expand needed (2).
    CHECK(run_bundled("status", rolling.url(), role, {"--check"}).exit_code == 2);
    if (std::string(role) == "api")
      rolling.rows(
          "INSERT INTO credentials (id, user_id, type, encrypted_blob, key_hash) VALUES ('c3', 'u1', 'ec2', 'b', 'k')");
    CHECK(differences(snapshot(offline.url()), snapshot(rolling.url())) == "");
  }
}

TEST_CASE("mysql dialect: triggers keep || as concatenation for an application session in another sql_mode") {
  const std::string admin = test_server_url("mysql");
  if (admin.empty()) return;
  TempDir repos;
  write_version(repos.path(), "001", "tokens", R"Y(description: tokens
operations:
  - create_table:
      name: tokens
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: token, type: string(64)}
)Y",
                "", "");
  write_version(repos.path(), "002", "prefixed", R"Y(description: a prefixed copy of the token
operations:
  - add_column: {table: tokens, column: {name: token_v2, type: string(80)}}
  - sync_column: {table: tokens, old: token, new: token_v2, up: "'v2:' || NEW.token", down: "substr(NEW.token_v2, 4)"}
)Y",
                "", "");
  Scratch database(admin);
  require_ok(phase("expand", database.url(), repos));
  // The mariadb client's session has the server's default sql_mode, where || is OR.
  CHECK(database.rows("SELECT 'a' || 'b'") == std::vector<std::string>{"0"});
  database.rows(
      "INSERT INTO tokens (id, token) VALUES (1, 'abc'); INSERT INTO tokens (id, token_v2) VALUES (2, 'v2:xyz');"
      "UPDATE tokens SET token = 'def' WHERE id = 1");
  CHECK(database.rows("SELECT id, token, token_v2 FROM tokens ORDER BY id") ==
        std::vector<std::string>{"1|def|v2:def", "2|xyz|v2:xyz"});
}

TEST_CASE("mysql dialect: kill -9 in the middle of a journaled unit, then a rerun leaves the same schema") {
  const std::string admin = test_server_url("mysql");
  if (admin.empty()) return;
  TempDir repos;
  write_version(repos.path(), "001", "accounts", kAccounts, "", "");
  write_version(repos.path(), "002", "more", kAccountsMore, "", "");
  Scratch reference(admin), killed(admin);
  for (const auto* database : {&reference, &killed}) {
    require_ok(phase("expand", database->url(), repos, {"--to", "1"}));
    database->rows("INSERT INTO accounts (email) VALUES ('A@example.org'), ('b@example.org')");
  }
  require_ok(phase("expand", reference.url(), repos));

  // Each run resumes where the last one was killed, and is killed between two later steps.
  for (int step : {2, 4, 6}) {
    CAPTURE(step);
    // --wait: the server may not yet have ended the killed run's session, which holds the lock.
    const Result kill = run_tandem({"expand", "--wait", "10", "--db", killed.url(), "--repos", repos.path().string()},
                                   repos.path(), {{"TANDEM_FAILPOINT", "before_step:" + std::to_string(step)}});
    CHECK_MESSAGE(kill.exit_code == -SIGKILL, kill.all());
    CHECK(killed.rows("SELECT version FROM tandem_version WHERE phase = 'expand'") == std::vector<std::string>{"1"});
  }
  // As if the last kill came between a step and its journal entry: the resumed unit runs
  // that step again, over its own effect.
  const auto reached = killed.rows("SELECT step FROM tandem_journal");
  REQUIRE(reached.size() == 1);
  REQUIRE(std::stoi(reached[0]) > 1);
  killed.rows("UPDATE tandem_journal SET step = step - 1");
  const Result rerun = phase("expand", killed.url(), repos, {"--wait", "10"});
  REQUIRE_MESSAGE(rerun.exit_code == 0, rerun.all());
  CHECK(rerun.out.find("resuming expand 002") != std::string::npos);
  CHECK(differences(snapshot(reference.url()), snapshot(killed.url())) == "");
  const char* triggers = "SELECT trigger_name, table_name FROM tandem_triggers ORDER BY trigger_name";
  CHECK(killed.rows(triggers) == reference.rows(triggers));
  // The resumed triggers work.
  killed.rows("INSERT INTO accounts (email) VALUES ('C@example.org')");
  CHECK(killed.rows("SELECT email_lower FROM accounts WHERE email = 'C@example.org'") ==
        std::vector<std::string>{"c@example.org"});
}

TEST_CASE("mysql dialect: add_foreign_key is added in place, and rows that reference nothing fail it by name") {
  const std::string admin = test_server_url("mysql");
  if (admin.empty()) return;
  for (bool orphans : {false, true}) {
    CAPTURE(orphans);
    Scratch database(admin);
    database.rows("CREATE TABLE parents (id int PRIMARY KEY) ENGINE=InnoDB");
    database.rows("CREATE TABLE children (id int PRIMARY KEY, parent_id int, KEY (parent_id)) ENGINE=InnoDB");
    database.rows("INSERT INTO parents VALUES (1), (2)");
    database.rows("INSERT INTO children VALUES (1, 1), (2, 2), (3, NULL)");
    if (orphans) database.rows("INSERT INTO children VALUES (4, 7)");
    TempDir repos;
    write_version(repos.path(), "001", "key", R"Y(description: a foreign key over existing rows
operations:
  - add_foreign_key: {table: children, name: children_parent_fkey, columns: [parent_id], references: {table: parents, columns: [id]}}
)Y",
                  "", "");
    const auto dry = run_tandem({"expand", "--dry-run", "--db", database.url(), "--repos", repos.path().string()},
                                repos.path());
    REQUIRE_MESSAGE(dry.exit_code == 0, dry.all());
    CHECK(dry.out.find("ALGORITHM=INPLACE, LOCK=NONE") != std::string::npos);
    const auto result =
        run_tandem({"expand", "--db", database.url(), "--repos", repos.path().string()}, repos.path());
    if (!orphans) {
      CHECK_MESSAGE(result.exit_code == 0, result.all());
      // Enforced from now on.
      CHECK_THROWS(database.rows("INSERT INTO children VALUES (5, 9)"));
    } else {
      CHECK(result.exit_code == 1);
      CHECK_MESSAGE(result.all().find("foreign key children_parent_fkey: rows of children reference no row of parents") !=
                        std::string::npos,
                    result.all());
      // Fixed, the rerun resumes and completes.
      database.rows("DELETE FROM children WHERE id = 4");
      const auto rerun =
          run_tandem({"expand", "--db", database.url(), "--repos", repos.path().string()}, repos.path());
      CHECK_MESSAGE(rerun.exit_code == 0, rerun.all());
    }
    CHECK(database.rows("SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE "
                        "CONSTRAINT_SCHEMA = DATABASE()") == std::vector<std::string>{"children_parent_fkey"});
  }
}

TEST_CASE("mysql dialect: a column rebuild (set_nullable) completes under a steady writer, and the writer keeps going") {
  const std::string admin = test_server_url("mysql");
  if (admin.empty()) return;
  Scratch database(admin);
  database.rows("CREATE TABLE items (id bigint PRIMARY KEY, payload varchar(64) NOT NULL, n int) ENGINE=InnoDB");
  database.rows("INSERT INTO items SELECT seq, md5(seq), seq FROM seq_1_to_2000000");
  TempDir repos;
  write_version(repos.path(), "001", "nullable", R"Y(description: payload may be missing
operations:
  - set_nullable: {table: items, column: payload}
)Y",
                "", "");
  const auto dry = run_tandem({"expand", "--dry-run", "--db", database.url(), "--repos", repos.path().string()},
                              repos.path());
  REQUIRE_MESSAGE(dry.exit_code == 0, dry.all());
  CHECK_MESSAGE(dry.out.find("rebuilds items") != std::string::npos, dry.out);
  std::atomic<bool> done{false};
  std::atomic<int> writes{0};
  std::thread application([&] {
    auto connection = tandem::connect(DatabaseUrl::parse(database.url()));
    std::mt19937 random(7);
    std::uniform_int_distribution<int> row(1, 2000000);
    while (!done) {
      connection->update("UPDATE items SET n = n + 1 WHERE id = ?", {std::to_string(row(random))});
      ++writes;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  // The rebuild's last step swaps the rebuilt table in under an exclusive metadata lock;
  // waiting 0 s for it (500 ms rounded down to MariaDB's whole seconds) lost to the writer
  // every time, and each retry rebuilt the whole table again.
  const auto result = run_tandem({"expand", "--db", database.url(), "--repos", repos.path().string(),
                                  "--lock-timeout", "500", "--lock-retries", "3", "--no-progress"},
                                 repos.path());
  done = true;
  application.join();
  CHECK_MESSAGE(result.exit_code == 0, result.all());
  CHECK(writes > 0);
  CHECK(database.rows("SELECT IS_NULLABLE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND "
                      "TABLE_NAME = 'items' AND COLUMN_NAME = 'payload'") == std::vector<std::string>{"YES"});
}
