// The release registry through the public API alone (tandem/releases.h), as an
// application embeds it: a heartbeat that outlives its database going away and coming
// back, and serves_release refusing a schema too old for the release.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "conformance.h"
#include "tandem/releases.h"
#include "tandem/url.h"

using namespace tandem;
using namespace tandem::test;

namespace {

bool eventually(const std::function<bool()>& condition, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return condition();
}

}  // namespace

TEST_CASE("release api: ReleaseHeartbeat survives its PostgreSQL database going away, and serves_release refuses an old schema") {
  const std::string admin = test_server_url("postgresql");
  if (admin.empty()) return;
  auto database = server_scratch("postgresql", admin);
  const std::string name = DatabaseUrl::parse(database->url()).database;
  TempDir repos;
  write_version(repos.path(), "001", "accounts", R"Y(description: accounts
operations:
  - create_table: {name: accounts, columns: [{name: id, type: integer, primary_key: true}]}
)Y",
                "", "");
  write_version(repos.path(), "002", "email", R"Y(description: email
operations:
  - add_column: {table: accounts, column: {name: email, type: text}}
)Y",
                "", "");
  REQUIRE(run_phase("expand", database->url(), repos.path(), {"--to", "1"}).exit_code == 0);
  Deployment deployment = Deployment::single(DatabaseUrl::parse(database->url()));
  deployment.repos = repos.path();
  // Release 2 must not start on a schema expand 2 has not reached; release 1 may.
  CHECK_FALSE(serves_release(deployment, 2));
  CHECK(serves_release(deployment, 1));

  ReleaseIdentity identity;
  identity.service = "api-test";
  identity.release = 1;
  identity.ttl = std::chrono::seconds(5);
  {
    ReleaseHeartbeat heartbeat(deployment, identity, std::chrono::milliseconds(200));
    CHECK(contains(heartbeat.identity().instance, ":"));  // host:pid by default
    REQUIRE(eventually([&] { return heartbeat.beats() >= 1; }, std::chrono::seconds(20)));
    auto listed = list_releases(deployment);
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].service == "api-test");
    CHECK(listed[0].release == 1);
    CHECK(listed[0].live);
    const std::string started = listed[0].started_at;

    // The database goes away as in a restart: every session cut, new ones refused.
    client_query(admin, "ALTER DATABASE \"" + name + "\" ALLOW_CONNECTIONS false");
    client_query(admin, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" + name + "'");
    CHECK(eventually([&] { return !heartbeat.last_error().empty(); }, std::chrono::seconds(10)));
    client_query(admin, "ALTER DATABASE \"" + name + "\" ALLOW_CONNECTIONS true");
    const long long before = heartbeat.beats();
    CHECK(eventually([&] { return heartbeat.beats() > before + 1 && heartbeat.last_error().empty(); },
                     std::chrono::seconds(20)));
    listed = list_releases(deployment);
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].live);
    CHECK(listed[0].started_at == started);  // the same process, still beating
  }
  // Destroyed: the row stays, live until its ttl has passed.
  const auto left = list_releases(deployment);
  REQUIRE(left.size() == 1);
  CHECK(left[0].live);

  REQUIRE(run_phase("expand", database->url(), repos.path(), {"--to", "2"}).exit_code == 0);
  CHECK(serves_release(deployment, 2));
  CHECK(serves_release(deployment, 1));
}
