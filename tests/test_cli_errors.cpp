// Bad input to the run commands: each mistake exits with its documented code (DESIGN §11)
// and a message, and a password given in a URL never reaches the output.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "support.h"

using namespace tandem::test;

namespace {

const char* kSecret = "hunter2secret";

const char* kCreateAccounts = R"Y(description: accounts
operations:
  - create_table:
      name: accounts
      columns:
        - {name: id, type: integer, primary_key: true}
)Y";


// A folder holding a clean one-version history, where the run commands find their repositories.
struct Project {
  TempDir dir;
  Project() { write_version(dir.path(), "001", "accounts", kCreateAccounts, "", ""); }
  Result run(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) const {
    return run_tandem(args, dir.path(), env);
  }
};

void expect_no_secret(const Result& result) {
  INFO("stdout:\n" << result.out << "stderr:\n" << result.err);
  CHECK_FALSE(contains(result.all(), kSecret));
}

}  // namespace

TEST_CASE("cli errors: a bad database URL exits 78 with a message") {
  Project project;
  std::string url, message;
  SUBCASE("unknown scheme") {
    url = "foo://x";
    message = "unknown scheme 'foo'";
  }
  SUBCASE("no database") {
    url = "postgresql://u:secretpw@host";
    message = "names no database";
  }
  SUBCASE("a port that is not a number") {
    url = "postgresql://u@host:abc/db";
    message = "port 'abc'";
  }
  SUBCASE("a port out of range") {
    url = "mysql://u@[::1]:99999999999/db";
    message = "from 1 to 65535";
  }
  SUBCASE("a sqlite URL with no file") {
    url = "sqlite:";
    message = "names no file";
  }
  const Result result = project.run({"expand", "--db", url});
  INFO(result.all());
  CHECK(result.exit_code == 78);
  CHECK(contains(result.err, "tandem: error:"));
  CHECK(contains(result.err, message));
  CHECK_FALSE(contains(result.all(), "secretpw"));
}

TEST_CASE("cli errors: a missing repository folder exits 65 naming it") {
  Project project;
  const std::string missing = (project.dir / "missing").string();
  std::string url;
  SUBCASE("sqlite") { url = project.dir.sqlite_url("app.db"); }
  SUBCASE("a server URL with a password") { url = std::string("postgresql://user:") + kSecret + "@127.0.0.1:1/db"; }
  const Result result = project.run({"expand", "--db", url, "--repos", missing});
  INFO(result.all());
  CHECK(result.exit_code == 65);
  CHECK(contains(result.err, missing));
  expect_no_secret(result);
}

TEST_CASE("cli errors: a config without databases exits 78 naming the file and the key") {
  Project project;
  write_file(project.dir / "deploy.yaml", "repos: .\nmodel: model\n");
  const Result result = project.run({"expand", "--config", "deploy.yaml"});
  INFO(result.all());
  CHECK(result.exit_code == 78);
  CHECK(contains(result.err, "deploy.yaml"));
  CHECK(contains(result.err, "databases"));
}

TEST_CASE("cli errors: an unset variable in a config URL exits 78 naming the file, the key and the variable") {
  REQUIRE(std::getenv("SOME_UNSET_VAR") == nullptr);
  Project project;
  write_file(project.dir / "tandem.yaml", std::string("databases:\n  api: postgresql://tandem:") + kSecret +
                                              "@127.0.0.1:1/api\n  cells:\n    cell1: "
                                              "mysql://tandem:${SOME_UNSET_VAR}@127.0.0.1:1/cell1\n");
  std::vector<std::string> args;
  SUBCASE("found as ./tandem.yaml") { args = {"expand"}; }
  SUBCASE("given with --config") { args = {"migrate", "--config", (project.dir / "tandem.yaml").string()}; }
  const Result result = project.run(args);
  INFO(result.all());
  CHECK(result.exit_code == 78);
  CHECK(contains(result.err, "tandem.yaml:4:"));
  CHECK(contains(result.err, "databases.cells.cell1"));
  CHECK(contains(result.err, "${SOME_UNSET_VAR}"));
  expect_no_secret(result);
}

TEST_CASE("cli errors: an unknown command or option exits 64") {
  Project project;
  std::vector<std::string> args;
  std::string message;
  SUBCASE("unknown command") {
    args = {"frobnicate"};
    message = "unknown command 'frobnicate'";
  }
  SUBCASE("unknown option") {
    args = {"expand", "--frobnicate"};
    message = "--frobnicate";
  }
  SUBCASE("an option value of the wrong kind") {
    args = {"expand", "--to", "latest"};
    message = "--to";
  }
  SUBCASE("an unknown format") {
    args = {"check", "--format", "xml"};
    message = "--format xml";
  }
  SUBCASE("a word after a command that takes none") {
    args = {"expand", "extra", "--db", project.dir.sqlite_url("app.db")};
    message = "extra";
  }
  SUBCASE("a word after check") {
    args = {"check", "expand_repo"};
    message = "expand_repo";
  }
  SUBCASE("a word after status") {
    args = {"status", "api", "--db", project.dir.sqlite_url("app.db")};
    message = "tandem status takes no arguments, got 'api'";
  }
  SUBCASE("a word after history") {
    args = {"history", "cell1", "--db", project.dir.sqlite_url("app.db")};
    message = "tandem history takes no arguments, got 'cell1'";
  }
  SUBCASE("no command") {
    args = {};
    message = "no command";
  }
  const Result result = project.run(args);
  INFO(result.all());
  CHECK(result.exit_code == 64);
  CHECK(contains(result.err, message));
}

TEST_CASE("cli errors: a sqlite file in a folder that does not exist exits 69") {
  Project project;
  const std::string url = project.dir.sqlite_url("no/such/folder/app.db");
  const Result result = project.run({"expand", "--db", url});
  INFO(result.all());
  CHECK(result.exit_code == 69);
  CHECK(contains(result.err, (project.dir / "no/such/folder").string()));
}

TEST_CASE("cli errors: a password in a server URL never reaches the output") {
  Project project;
  const std::vector<std::string> urls = {std::string("postgresql://user:") + kSecret + "@127.0.0.1:1/db",
                                         std::string("mysql://u:") + kSecret + "@127.0.0.1:1/db",
                                         std::string("mariadb://u:") + kSecret + "@127.0.0.1:1/db"};
  const std::vector<std::vector<std::string>> commands = {{"expand"}, {"migrate"},   {"contract"},
                                                          {"upgrade"}, {"status"},   {"history"},
                                                          {"expand", "--dry-run"}, {"status", "--check"}};
  for (const auto& url : urls)
    for (const auto& command : commands) {
      std::vector<std::string> args = command;
      args.insert(args.end(), {"--db", url});
      const Result result = project.run(args);
      CAPTURE(url);
      CAPTURE(command.front());
      INFO(result.all());
      // Nothing listens on port 1: a clean "unreachable", naming the database without its password.
      CHECK(result.exit_code == 69);
      CHECK(contains(result.err, ":***@127.0.0.1:1/db"));
      expect_no_secret(result);
    }
}

TEST_CASE("cli errors: a password from the environment or a config file never reaches the output") {
  Project project;
  Result result;
  SUBCASE("TANDEM_DATABASE_URL") {
    result = project.run({"expand"}, {{"TANDEM_DATABASE_URL", std::string("postgresql://u:") + kSecret + "@127.0.0.1:1/db"}});
  }
  SUBCASE("a config value taken from a variable") {
    write_file(project.dir / "tandem.yaml", "databases:\n  main: mysql://u:${MAIN_PASSWORD}@127.0.0.1:1/app\n");
    result = project.run({"expand"}, {{"MAIN_PASSWORD", kSecret}});
  }
  INFO(result.all());
  CHECK(result.exit_code == 69);
  CHECK(contains(result.err, ":***@127.0.0.1:1/"));
  expect_no_secret(result);
}

TEST_CASE("cli errors: a password stays hidden when its URL is malformed") {
  Project project;
  const std::string secret = kSecret;
  std::string url;
  int exit_code = 78;
  SUBCASE("no database") { url = "postgresql://u:" + secret + "@host"; }
  SUBCASE("a bad port") { url = "postgresql://u:" + secret + "@host:abc/db"; }
  SUBCASE("a bad percent escape") { url = "postgresql://u:" + secret + "%zz@host/db"; }
  SUBCASE("a bad option") { url = "mysql://u:" + secret + "@host/db?sslmode"; }
  SUBCASE("a password option") { url = "postgresql://u@host/db?password=" + secret + "&sslmode"; }
  SUBCASE("an unencoded slash in the password") { url = "postgresql://u:" + secret + "/x@host:abc/db"; }
  // These two are read whole, so the run gets as far as connecting.
  SUBCASE("an unencoded question mark in the password") {
    url = "postgresql://u:x?" + secret + "@127.0.0.1:1/db";
    exit_code = 69;
  }
  SUBCASE("an unencoded at sign in the password") {
    url = "mysql://u:x@" + secret + "@127.0.0.1:1/db";
    exit_code = 69;
  }
  const Result result = project.run({"expand", "--db", url});
  INFO(result.all());
  CHECK(result.exit_code == exit_code);
  CHECK(contains(result.err, "***"));
  expect_no_secret(result);
}
