// Input a hostile user can give (issue 9, items 4 to 11): YAML with duplicate keys,
// version 000, narrowed or capped runs, repositories older than the database, passwords
// that need quoting, one database listed twice, mistyped paths. Each gets a clear refusal
// with its documented exit code, and nothing is run or created on the way.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support.h"

using namespace tandem::test;
namespace fs = std::filesystem;

namespace {


const char* kAccounts = R"Y(description: accounts
operations:
  - create_table:
      name: accounts
      columns:
        - {name: id, type: integer, primary_key: true}
)Y";

std::string version_of(const fs::path& db, const std::string& phase) {
  return Sqlite(db).value("SELECT version FROM tandem_version WHERE phase = '" + phase + "'");
}

}  // namespace

TEST_CASE("inputs: a duplicate key in a unit is an error with file and line, not the first one winning") {
  TempDir dir;
  write_version(dir.path(), "001", "accounts", kAccounts, "", "");
  write_version(dir.path(), "002", "old", R"Y(description: a table to drop
operations:
  - create_table:
      name: old_table
      columns: [{name: id, type: integer, primary_key: true}]
  - create_table:
      name: keep_me
      columns: [{name: id, type: integer, primary_key: true}]
)Y",
                "", "");
  write_version(dir.path(), "003", "drop", "", "", R"Y(description: drop one
operations:
  - drop_table: {name: old_table, name: keep_me}
)Y");
  const std::string unit = (dir / "contract_repo/003_drop.yaml").string();
  const Result check = run_tandem({"check"}, dir.path());
  INFO(check.all());
  CHECK(check.exit_code == 65);
  CHECK(contains(check.out, "contract_repo/003_drop.yaml:3"));
  CHECK(contains(check.out, "duplicate key 'name'"));
  const std::string db = dir.sqlite_url("app.db");
  const Result upgrade = run_tandem({"upgrade", "--db", db}, dir.path());
  INFO(upgrade.all());
  CHECK(upgrade.exit_code == 65);
  CHECK(contains(upgrade.err, "003_drop.yaml:3"));
  CHECK_FALSE(fs::exists(dir / "app.db"));
  // At the top level of a unit too.
  write_file(dir / "expand_repo/001_accounts.yaml", std::string(kAccounts) + "description: again\n");
  const Result top = run_tandem({"check"}, dir.path());
  CHECK(top.exit_code == 65);
  CHECK(contains(top.out, "expand_repo/001_accounts.yaml:7"));
  CHECK(contains(top.out, "duplicate key 'description'"));
}

TEST_CASE("inputs: a duplicate key in a model or in tandem.yaml is an error with file and line") {
  TempDir dir;
  write_version(dir.path(), "001", "accounts", kAccounts, "", "");
  SUBCASE("a model: 65") {
    fs::create_directories(dir / "model");
    write_file(dir / "model/main.yaml", "tables:\n  - name: accounts\n    name: other\n    columns:\n"
                                        "      - {name: id, type: integer, primary_key: true}\n");
    REQUIRE(run_tandem({"upgrade", "--db", dir.sqlite_url("app.db")}, dir.path()).exit_code == 0);
    const Result compare = run_tandem({"compare", "--db", dir.sqlite_url("app.db"), "--model", "model"}, dir.path());
    INFO(compare.all());
    CHECK(compare.exit_code == 65);
    CHECK(contains(compare.err, "main.yaml:3"));
    CHECK(contains(compare.err, "duplicate key 'name'"));
  }
  SUBCASE("the config: 78") {
    write_file(dir / "tandem.yaml", "repos: .\ndatabases:\n  api: sqlite:api.db\n  api: sqlite:other.db\n");
    const Result status = run_tandem({"status"}, dir.path());
    INFO(status.all());
    CHECK(status.exit_code == 78);
    CHECK(contains(status.err, "tandem.yaml:4"));
    CHECK(contains(status.err, "duplicate key 'api'"));
    CHECK_FALSE(fs::exists(dir / "api.db"));
  }
}

TEST_CASE("inputs: versions start at 001, a unit numbered 000 is refused with file and line") {
  TempDir dir;
  write_version(dir.path(), "000", "zero", kAccounts, "", "");
  write_version(dir.path(), "001", "next", "", "", "");
  const Result check = run_tandem({"check"}, dir.path());
  INFO(check.all());
  CHECK(check.exit_code == 65);
  CHECK(contains(check.out, "expand_repo/000_zero.yaml:1"));
  CHECK(contains(check.out, "start at 001"));
  const Result expand = run_tandem({"expand", "--db", dir.sqlite_url("app.db")}, dir.path());
  CHECK(expand.exit_code == 65);
  CHECK(contains(expand.err, "000_zero.yaml"));
}

namespace {

// An api database and two cells: version 002 backfills rows in every cell, 003 and 004
// have nothing to do on any database.
struct Cells {
  TempDir dir;
  Cells() {
    write_version(dir.path(), "001", "initial", R"Y(description: tables
database: cell
operations:
  - create_table:
      name: items
      columns: [{name: id, type: integer, primary_key: true}, {name: n, type: integer, nullable: true}]
  - database: api
    create_table:
      name: mappings
      columns: [{name: id, type: integer, primary_key: true}]
)Y",
                  "", "");
    write_version(dir.path(), "002", "fill", "", R"Y(description: fill n
database: cell
operations:
  - backfill: {table: items, set: {n: "id * 2"}, where: n IS NULL}
)Y",
                  "");
    write_version(dir.path(), "003", "three", "", "", "");
    write_version(dir.path(), "004", "four", "", "", "");
    write_file(dir / "tandem.yaml", "repos: .\ndatabases:\n  api: sqlite:api.db\n  cells:\n    cell1: sqlite:cell1.db\n"
                                    "    cell2: sqlite:cell2.db\n");
    REQUIRE(tandem({"expand"}).exit_code == 0);
    for (const char* db : {"cell1.db", "cell2.db"})
      Sqlite(dir / db).exec("WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 50) "
                            "INSERT INTO items (id) SELECT i FROM k");
  }
  Result tandem(const std::vector<std::string>& args) const { return run_tandem(args, dir.path()); }
  std::string migrated(const std::string& db) const { return version_of(dir / db, "migrate"); }
};

}  // namespace

TEST_CASE("inputs: migrate --max-count stops every database at the version the cells stopped in") {
  Cells cells;
  std::vector<std::string> args = {"migrate", "--max-count", "30", "--batch-size", "10"};
  SUBCASE("one cell at a time") {}
  SUBCASE("--jobs 2") { args.insert(args.end(), {"--jobs", "2"}); }
  const Result capped = cells.tandem(args);
  INFO(capped.all());
  CHECK(capped.exit_code == 1);
  CHECK(cells.migrated("api.db") == "2");
  CHECK(cells.migrated("cell1.db") == "1");
  CHECK(cells.migrated("cell2.db") == "1");
  const Result rest = cells.tandem({"migrate"});
  REQUIRE_MESSAGE(rest.exit_code == 0, rest.all());
  for (const char* db : {"api.db", "cell1.db", "cell2.db"}) CHECK(cells.migrated(db) == "4");
  CHECK(Sqlite(cells.dir / "cell2.db").value("SELECT count(*) FROM items WHERE n = id * 2") == "50");
}

TEST_CASE("inputs: a narrowed run does not start a version another database has not finished") {
  Cells cells;
  REQUIRE(cells.tandem({"migrate", "--to", "1"}).exit_code == 0);
  const Result api = cells.tandem({"migrate", "--database", "api"});
  INFO(api.all());
  CHECK(api.exit_code == 1);
  CHECK(contains(api.err, "migrate 003"));
  CHECK(contains(api.err, "cell1 (at migrate 001), cell2 (at migrate 001)"));
  CHECK(cells.migrated("api.db") == "2");
  const Result cell1 = cells.tandem({"migrate", "--cell", "cell1"});
  CHECK(cell1.exit_code == 1);
  CHECK(cells.migrated("cell1.db") == "2");
  REQUIRE(cells.tandem({"migrate"}).exit_code == 0);
  for (const char* db : {"api.db", "cell1.db", "cell2.db"}) CHECK(cells.migrated(db) == "4");
}

TEST_CASE("inputs: every phase command refuses a database ahead of the repositories") {
  Cells cells;
  REQUIRE(cells.tandem({"migrate"}).exit_code == 0);
  REQUIRE(cells.tandem({"contract"}).exit_code == 0);
  // An older checkout: the repositories end at 003, the databases are at 004.
  for (const char* folder : {"expand_repo", "data_migration_repo", "contract_repo"})
    fs::remove(cells.dir / folder / "004_four.yaml");
  const Result status = cells.tandem({"status", "--check"});
  CHECK(status.exit_code == 1);
  for (const char* command : {"expand", "migrate", "contract", "upgrade"}) {
    const Result result = cells.tandem({command});
    CAPTURE(command);
    INFO(result.all());
    CHECK(result.exit_code == 1);
    CHECK(contains(result.err, "api is at expand 004"));
    CHECK(contains(result.err, "ahead of the repositories"));
    CHECK(contains(result.err, "end at 003"));
    CHECK_FALSE(contains(result.out, "nothing to do"));
  }
}

TEST_CASE("inputs: an order refusal exits 1 from every phase command") {
  TempDir dir;
  write_version(dir.path(), "001", "accounts", kAccounts, "", "");
  const std::string db = dir.sqlite_url("app.db");
  for (const char* command : {"migrate", "contract"}) {
    const Result result = run_tandem({command, "--db", db}, dir.path());
    CAPTURE(command);
    INFO(result.all());
    CHECK(result.exit_code == 1);
    CHECK(contains(result.err, "needs"));
  }
}

namespace {

// Percent-encodes everything but letters and digits.
std::string encoded(const std::string& text) {
  std::string out;
  for (unsigned char c : text)
    if (std::isalnum(c)) out += static_cast<char>(c);
    else {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", c);
      out += buffer;
    }
  return out;
}

void expect_hidden(const Result& result) {
  INFO("stdout:\n" << result.out << "stderr:\n" << result.err);
  CHECK_FALSE(contains(result.all(), "hunter2"));
  CHECK_FALSE(contains(result.all(), "sesame"));
}

}  // namespace

TEST_CASE("inputs: a password with a space, tab, quote, @, : or / never reaches the output") {
  TempDir dir;
  write_version(dir.path(), "001", "accounts", kAccounts, "", "");
  for (const std::string separator : {" ", "\t", "'", "\"", "@", ":", "/", "\\"}) {
    const std::string password = "hunter2" + separator + "sesame";
    CAPTURE(encoded(separator));
    std::vector<std::pair<std::string, int>> urls;
    for (const std::string scheme : {"postgresql", "mysql", "mariadb"}) {
      // A closed loopback port: unreachable.
      // PostgreSQL also takes the password as an option; MySQL refuses one (78).
      const int option_code = scheme == "postgresql" ? 69 : 78;
      urls.push_back({scheme + "://u:" + encoded(password) + "@127.0.0.1:1/db", 69});
      urls.push_back({scheme + "://u@127.0.0.1:1/db?password=" + encoded(password), option_code});
      // Malformed: a bad port, no database, an option without a value.
      urls.push_back({scheme + "://u:" + encoded(password) + "@127.0.0.1:x1/db", 78});
      urls.push_back({scheme + "://u:" + encoded(password) + "@127.0.0.1:1", 78});
      urls.push_back({scheme + "://u@127.0.0.1:1/db?password=" + encoded(password) + "&sslmode", 78});
      if (separator != "/" && separator != "@") {
        // Typed without encoding, as a user would.
        urls.push_back({scheme + "://u:" + password + "@127.0.0.1:1/db", 69});
        urls.push_back({scheme + "://u@127.0.0.1:1/db?password=" + password, option_code});
        urls.push_back({scheme + "://u:" + password + "@127.0.0.1:x1/db", 78});
        urls.push_back({scheme + "://u@127.0.0.1:1/db?password=" + password + "&sslmode", 78});
      }
    }
    for (const auto& [url, code] : urls) {
      CAPTURE(url);
      const Result expand = run_tandem({"expand", "--db", url}, dir.path());
      CHECK(expand.exit_code == code);
      CHECK(contains(expand.err, "127.0.0.1"));
      expect_hidden(expand);
      const Result status = run_tandem({"status", "--db", url}, dir.path());
      CHECK(status.exit_code == code);
      expect_hidden(status);
    }
  }
}

TEST_CASE("inputs: a password with a tab or a space in tandem.yaml never reaches the output") {
  TempDir dir;
  write_version(dir.path(), "001", "accounts", kAccounts, "", "");
  SUBCASE("a tab, unreachable") {
    write_file(dir / "tandem.yaml", "databases:\n  main: \"postgresql://u:hunter2\\tsesame@127.0.0.1:1/db\"\n");
  }
  SUBCASE("a space in the password option, unreachable") {
    write_file(dir / "tandem.yaml", "databases:\n  main: postgresql://u@127.0.0.1:1/db?password=hunter2 sesame\n");
  }
  SUBCASE("a space, a bad port") {
    write_file(dir / "tandem.yaml", "databases:\n  main: postgresql://u:hunter2 sesame@127.0.0.1:x/db\n");
  }
  const Result result = run_tandem({"expand"}, dir.path());
  CHECK((result.exit_code == 69 || result.exit_code == 78));
  CHECK(contains(result.err, "127.0.0.1"));
  expect_hidden(result);
}

TEST_CASE("inputs: a config listing one database twice is refused at load with both names") {
  TempDir dir;
  write_version(dir.path(), "001", "accounts", kAccounts, "", "");
  fs::create_directories(dir / "data");
  std::string api = "sqlite:data/a.db", cell, first = "api", second = "cell1";
  SUBCASE("the same file") { cell = "sqlite:data/a.db"; }
  SUBCASE("another relative path to the file") { cell = "sqlite:data/../data/./a.db"; }
  SUBCASE("an absolute path to the file") { cell = "sqlite://" + (dir / "data/a.db").string(); }
  SUBCASE("a symlink to the file") {
    Sqlite(dir / "data/a.db").exec("CREATE TABLE t (id integer)");
    fs::create_directory_symlink(dir / "data", dir / "link");
    cell = "sqlite:link/a.db";
  }
  SUBCASE("two cells on one server database") {
    api = "postgresql://u@db.example:5432/api";
    write_file(dir / "tandem.yaml", "databases:\n  api: " + api +
                                        "\n  cells:\n    cell1: postgresql://u@localhost/c\n"
                                        "    cell2: postgresql://other:pw@127.0.0.1:5432/c\n");
    first = "cells.cell1";
    second = "cell2";
  }
  SUBCASE("two mysql cells, one by localhost") {
    api = "mysql://u@127.0.0.1/api";
    write_file(dir / "tandem.yaml", "databases:\n  api: " + api +
                                        "\n  cells:\n    cell1: mysql://u@127.0.0.1:3306/c\n"
                                        "    cell2: mariadb://u@localhost/c\n");
    first = "cells.cell1";
    second = "cell2";
  }
  if (!cell.empty())
    write_file(dir / "tandem.yaml", "databases:\n  api: " + api + "\n  cells:\n    cell1: " + cell + "\n");
  const Result result = run_tandem({"expand"}, dir.path());
  INFO(result.all());
  CHECK(result.exit_code == 78);
  CHECK(contains(result.err, "tandem.yaml"));
  CHECK(contains(result.err, "databases." + first));
  CHECK(contains(result.err, second));
  CHECK(contains(result.err, "same database"));
}

TEST_CASE("inputs: distinct databases on one server, or files of one name in two folders, are accepted") {
  TempDir dir;
  write_version(dir.path(), "001", "accounts", kAccounts, "", "");
  fs::create_directories(dir / "x");
  fs::create_directories(dir / "y");
  write_file(dir / "tandem.yaml", "databases:\n  main: sqlite:x/a.db\n  other: sqlite:y/a.db\n");
  const Result result = run_tandem({"expand"}, dir.path());
  INFO(result.all());
  CHECK(result.exit_code == 0);
}

TEST_CASE("inputs: commands that only read do not create a missing SQLite file") {
  TempDir dir;
  write_version(dir.path(), "001", "accounts", kAccounts, "", "");
  const std::string url = dir.sqlite_url("typo.db");
  std::vector<std::string> args;
  SUBCASE("status") { args = {"status", "--db", url}; }
  SUBCASE("status --check") { args = {"status", "--check", "--db", url}; }
  SUBCASE("history") { args = {"history", "--db", url}; }
  SUBCASE("inspect") { args = {"inspect", "--db", url}; }
  SUBCASE("compare") {
    fs::create_directories(dir / "model");
    write_file(dir / "model/main.yaml", "tables: []\n");
    args = {"compare", "--db", url, "--model", "model"};
  }
  const Result result = run_tandem(args, dir.path());
  INFO(result.all());
  CHECK(result.exit_code == 69);
  CHECK(contains(result.err, (dir / "typo.db").string()));
  CHECK(contains(result.err, "does not exist"));
  CHECK_FALSE(fs::exists(dir / "typo.db"));
}

TEST_CASE("inputs: status reads an existing SQLite database in WAL mode without writing to it") {
  TempDir dir;
  write_version(dir.path(), "001", "accounts", kAccounts, "", "");
  const std::string url = dir.sqlite_url("app.db");
  REQUIRE(run_tandem({"expand", "--db", url}, dir.path()).exit_code == 0);
  Sqlite(dir / "app.db").exec("PRAGMA journal_mode = WAL");
  const Result status = run_tandem({"status", "--check", "--db", url}, dir.path());
  INFO(status.all());
  CHECK(status.exit_code == 3);
  CHECK(run_tandem({"history", "--db", url}, dir.path()).exit_code == 0);
}

TEST_CASE("inputs: a dangling symlink or a folder named like a unit is unreadable, not a missing version") {
  TempDir dir;
  write_version(dir.path(), "001", "accounts", kAccounts, "", "");
  write_version(dir.path(), "002", "two", "", "", "");
  const fs::path unit = dir / "expand_repo/002_two.yaml";
  fs::remove(unit);
  SUBCASE("a dangling symlink") { fs::create_symlink(dir / "nowhere.yaml", unit); }
  SUBCASE("a folder") { fs::create_directory(unit); }
  const Result check = run_tandem({"check"}, dir.path());
  INFO(check.all());
  CHECK(check.exit_code == 65);
  CHECK(contains(check.out, "expand_repo/002_two.yaml"));
  CHECK(contains(check.out, "cannot read"));
  CHECK_FALSE(contains(check.out, "missing"));
  const Result expand = run_tandem({"expand", "--db", dir.sqlite_url("app.db")}, dir.path());
  CHECK(expand.exit_code == 65);
  CHECK(contains(expand.err, "cannot read"));
}
