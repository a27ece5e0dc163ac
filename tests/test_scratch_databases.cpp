// The conformance suite's scratch databases: on the PostgreSQL and MariaDB test servers
// (tools/test-servers.sh), each is a fresh database that exists while its object lives and
// is gone after. Checked with the psql / mariadb clients, independently of tandem's dialects.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <thread>

#include "conformance.h"

using namespace tandem::test;

namespace {

struct ServerCase {
  std::string dialect;
  std::string variable;
};

const ServerCase kServers[] = {{"postgresql", "TANDEM_TEST_POSTGRESQL_URL"}, {"mysql", "TANDEM_TEST_MYSQL_URL"}};

std::string admin_url(const ServerCase& server) {
  const char* value = std::getenv(server.variable.c_str());
  return value ? value : "";
}

// The scratch database of `dialect` among `databases`, or null when the dialect was left out.
const ScratchDatabase* find_dialect(const std::vector<std::unique_ptr<ScratchDatabase>>& databases,
                                    const std::string& dialect) {
  for (const auto& database : databases)
    if (database->dialect() == dialect) return database.get();
  return nullptr;
}

bool database_exists(const ServerCase& server, const std::string& name) {
  const std::string sql = server.dialect == "postgresql"
                              ? "SELECT datname FROM pg_database WHERE datname = '" + name + "'"
                              : "SELECT schema_name FROM information_schema.schemata WHERE schema_name = '" + name + "'";
  return client_query(admin_url(server), sql) == std::vector<std::string>{name};
}

// Restores an environment variable when the test ends, failing or not.
class EnvironmentOverride {
 public:
  EnvironmentOverride(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) setenv(name, value, 1);
    else unsetenv(name);
  }
  ~EnvironmentOverride() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }
  EnvironmentOverride(const EnvironmentOverride&) = delete;
  EnvironmentOverride& operator=(const EnvironmentOverride&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("scratch databases: SQLite always comes first") {
  const auto databases = scratch_databases();
  REQUIRE(!databases.empty());
  CHECK(databases.front()->dialect() == "sqlite");
  CHECK(databases.front()->url().rfind("sqlite://", 0) == 0);
}

TEST_CASE("scratch databases: a server database exists while its object lives, and not after") {
  for (const auto& server : kServers) {
    CAPTURE(server.dialect);
    if (admin_url(server).empty()) {
      // scratch_databases() itself fails when servers are required; here, say what is skipped.
      REQUIRE_MESSAGE(!servers_required(), server.variable << " is not set and the test servers are required");
      MESSAGE("skipped: " << server.variable << " is not set (run tests under tools/test-servers.sh)");
      continue;
    }
    std::string name;
    {
      auto databases = scratch_databases();
      const auto* scratch = find_dialect(databases, server.dialect);
      REQUIRE(scratch != nullptr);
      name = tandem::DatabaseUrl::parse(scratch->url()).database;
      CHECK(name.rfind("tandem_scratch_", 0) == 0);
      CHECK(database_exists(server, name));
      // The URL reaches that database, with the admin URL's credentials.
      const std::string current = server.dialect == "postgresql" ? "SELECT current_database()"
                                                                               : "SELECT DATABASE()";
      CHECK(client_query(scratch->url(), current) == std::vector<std::string>{name});
      // It starts empty and takes tables.
      client_query(scratch->url(), "CREATE TABLE t (id INTEGER PRIMARY KEY)");
      client_query(scratch->url(), "INSERT INTO t VALUES (1)");
      CHECK(client_query(scratch->url(), "SELECT id FROM t") == std::vector<std::string>{"1"});
    }
    CHECK_FALSE(database_exists(server, name));
  }
}

TEST_CASE("scratch databases: two at a time are distinct databases") {
  const auto first = scratch_databases();
  const auto second = scratch_databases();
  REQUIRE(first.size() == second.size());
  for (size_t i = 0; i < first.size(); ++i) {
    CAPTURE(first[i]->dialect());
    CHECK(first[i]->dialect() == second[i]->dialect());
    CHECK(first[i]->url() != second[i]->url());
  }
}

TEST_CASE("scratch databases: a server dropped while a session is open on it") {
  // A leaked session (a killed tandem run) must not keep the database, or block its drop.
  for (const auto& server : kServers) {
    CAPTURE(server.dialect);
    if (admin_url(server).empty()) continue;
    std::string name;
    {
      auto databases = scratch_databases();
      const auto* scratch = find_dialect(databases, server.dialect);
      REQUIRE(scratch != nullptr);
      name = tandem::DatabaseUrl::parse(scratch->url()).database;
      // A background client holding a session for longer than the test.
      const std::string sleep_sql =
          server.dialect == "postgresql" ? "SELECT pg_sleep(30)" : "SELECT SLEEP(30)";
      const std::string url = scratch->url();
      std::thread([url, sleep_sql] {
        try {
          client_query(url, sleep_sql);
        } catch (const std::exception&) {
          // Ended by the drop.
        }
      }).detach();
      const std::string sessions = server.dialect == "postgresql"
                                       ? "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + name + "'"
                                       : "SELECT count(*) FROM information_schema.processlist WHERE db = '" + name + "'";
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (client_query(admin_url(server), sessions) == std::vector<std::string>{"0"} &&
             std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      REQUIRE(client_query(admin_url(server), sessions) != std::vector<std::string>{"0"});
    }
    CHECK_FALSE(database_exists(server, name));
  }
}

TEST_CASE("scratch databases: a missing server variable skips its dialect, or fails when servers are required") {
  for (const auto& server : kServers) {
    CAPTURE(server.dialect);
    EnvironmentOverride unset_url(server.variable.c_str(), nullptr);
    EnvironmentOverride ci("CI", nullptr);
    EnvironmentOverride required("TANDEM_REQUIRE_SERVERS", nullptr);
    CHECK_FALSE(servers_required());
    const auto databases = scratch_databases();
    CHECK(find_dialect(databases, server.dialect) == nullptr);
    CHECK(databases.front()->dialect() == "sqlite");
  }
  // Required: the first missing variable is named (PostgreSQL's, when both are missing).
  const auto required_failure = [](const char* ci_value, const char* require_value) {
    EnvironmentOverride ci("CI", ci_value);
    EnvironmentOverride required("TANDEM_REQUIRE_SERVERS", require_value);
    CHECK(servers_required());
    {
      EnvironmentOverride postgresql("TANDEM_TEST_POSTGRESQL_URL", nullptr);
      CHECK_THROWS_WITH(scratch_databases(), doctest::Contains("TANDEM_TEST_POSTGRESQL_URL is not set"));
    }
    if (admin_url(kServers[0]).empty()) return;
    EnvironmentOverride mysql("TANDEM_TEST_MYSQL_URL", nullptr);
    CHECK_THROWS_WITH(scratch_databases(), doctest::Contains("TANDEM_TEST_MYSQL_URL is not set"));
  };
  required_failure("true", nullptr);
  required_failure(nullptr, "1");
  EnvironmentOverride ci("CI", "false");
  EnvironmentOverride required("TANDEM_REQUIRE_SERVERS", "0");
  CHECK_FALSE(servers_required());
}
