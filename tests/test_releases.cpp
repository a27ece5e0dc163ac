// The release registry and the guarded contract (DESIGN §15), on every dialect.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include <chrono>
#include <functional>
#include <thread>

#include "conformance.h"

using namespace tandem;
using namespace tandem::test;

namespace {

// 001 creates accounts(id, name); 002 adds email in expand and drops name in contract:
// release 001 reads name, so contract 002 must wait for it.
void write_history(const std::filesystem::path& repos) {
  write_version(repos, "001", "accounts", R"Y(description: accounts
operations:
  - create_table: {name: accounts, columns: [{name: id, type: integer, primary_key: true}, {name: name, type: text}]}
)Y",
                "", "");
  write_version(repos, "002", "email", R"Y(description: email
operations:
  - add_column: {table: accounts, column: {name: email, type: text}}
)Y",
                "", R"Y(description: no more name
operations:
  - drop_column: {table: accounts, column: name}
)Y");
}

struct Window {
  TempDir repos;
  std::unique_ptr<ScratchDatabase> database;

  Result tandem(std::vector<std::string> args) const {
    args.insert(args.end(), {"--db", database->url(), "--repos", repos.path().string()});
    return run_tandem(args, repos.path());
  }
  void phase(const std::string& command, const std::string& to) const {
    const auto result = tandem({command, "--to", to});
    REQUIRE_MESSAGE(result.exit_code == 0, result.all());
  }
  // Contract 001 done, expand and migrate 002 done: contract 002 is due.
  void open_window() const {
    write_history(repos.path());
    for (const char* command : {"expand", "migrate", "contract"}) phase(command, "1");
    phase("expand", "2");
    phase("migrate", "2");
  }
  long long contract_version() const {
    const auto status = tandem({"status", "--format", "json"});
    REQUIRE_MESSAGE(status.exit_code == 0, status.all());
    return nlohmann::json::parse(status.out)["databases"][0]["contract"].get<long long>();
  }
  nlohmann::json releases() const {
    const auto listed = tandem({"release", "list", "--format", "json"});
    REQUIRE_MESSAGE(listed.exit_code == 0, listed.all());
    return nlohmann::json::parse(listed.out)["releases"];
  }
  bool name_column_left() const {
    const auto live = snapshot(database->url());
    return live.find_table("accounts")->find_column("name") != nullptr;
  }
};

std::vector<std::unique_ptr<Window>> windows() {
  std::vector<std::unique_ptr<Window>> result;
  for (auto& database : scratch_databases()) {
    result.push_back(std::make_unique<Window>());
    result.back()->database = std::move(database);
  }
  return result;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return condition();
}

}  // namespace

TEST_CASE("releases: a heartbeating older release holds contract back until it is gone and its ttl has passed") {
  for (auto& window : windows()) {
    CAPTURE(window->database->dialect());
    window->open_window();
    const int heartbeat = spawn_tandem({"release", "register", "--service", "app", "--release", "1", "--instance",
                                        "old 1's", "--ttl", "3", "--every", "1", "--db", window->database->url()},
                                       window->repos.path());
    REQUIRE(wait_until([&] { return window->releases().size() == 1; }, std::chrono::seconds(20)));
    const auto row = window->releases()[0];
    CHECK(row["service"] == "app");
    CHECK(row["instance"] == "old 1's");
    CHECK(row["release"] == 1);
    CHECK(row["pid"] == heartbeat);
    CHECK(row["live"] == true);

    const auto status = window->tandem({"status", "--check"});
    CHECK_MESSAGE(status.exit_code == 5, status.all());
    CHECK(contains(status.out, "live  release 001 app/old 1's"));

    const auto refused = window->tandem({"contract"});
    CHECK(refused.exit_code == 1);
    CHECK_MESSAGE(contains(refused.err, fmt::format("pid {}", heartbeat)), refused.all());
    CHECK(contains(refused.err, "host " + row["host"].get<std::string>()));
    CHECK(contains(refused.err, "app/old 1's (release 1"));
    CHECK(contains(refused.err, "nothing was contracted"));
    CHECK(window->contract_version() == 1);
    CHECK(window->name_column_left());

    // kill -9: no goodbye, the row stays until its ttl has passed.
    kill(heartbeat, SIGKILL);
    CHECK(wait_for(heartbeat) == -SIGKILL);
    const auto still = window->tandem({"contract"});
    CHECK_MESSAGE(still.exit_code == 1, still.all());
    CHECK(window->contract_version() == 1);
    REQUIRE(wait_until([&] { return window->releases()[0]["live"] == false; }, std::chrono::seconds(10)));
    CHECK(window->tandem({"status", "--check"}).exit_code == 4);
    const auto listed = window->tandem({"release", "list"});
    CHECK(has_line_with(listed.out, {"app", "old 1's", "001", "stale (ttl 3 s)"}));
    const auto ran = window->tandem({"contract"});
    CHECK_MESSAGE(ran.exit_code == 0, ran.all());
    CHECK(window->contract_version() == 2);
    CHECK_FALSE(window->name_column_left());
    CHECK(window->tandem({"status", "--check"}).exit_code == 0);
  }
}

TEST_CASE("releases: forget lets contract run at once, and --serves answers through the versions") {
  for (auto& window : windows()) {
    CAPTURE(window->database->dialect());
    write_history(window->repos.path());
    auto serves = [&](const char* release) { return window->tandem({"status", "--serves", release}).exit_code; };
    window->phase("expand", "1");
    CHECK(serves("1") == 0);
    CHECK(serves("2") == 1);
    window->phase("migrate", "1");
    window->phase("contract", "1");
    window->phase("expand", "2");
    CHECK(serves("1") == 0);
    CHECK(serves("2") == 0);
    window->phase("migrate", "2");
    CHECK(serves("1") == 0);

    const auto registered = window->tandem({"release", "register", "--service", "app", "--release", "1", "--instance",
                                           "web-1", "--ttl", "600"});
    REQUIRE_MESSAGE(registered.exit_code == 0, registered.all());
    CHECK(window->tandem({"contract"}).exit_code == 1);
    CHECK(window->tandem({"release", "forget", "app/nobody"}).exit_code == 1);
    CHECK(window->tandem({"release", "forget", "no-slash"}).exit_code == 64);
    const auto forgot = window->tandem({"release", "forget", "app/web-1"});
    CHECK_MESSAGE(forgot.exit_code == 0, forgot.all());
    CHECK(window->releases().empty());
    const auto ran = window->tandem({"contract"});
    CHECK_MESSAGE(ran.exit_code == 0, ran.all());
    CHECK(serves("1") == 1);
    const auto why = window->tandem({"status", "--serves", "1"});
    CHECK(contains(why.out, "contract is at 002"));
    CHECK(serves("2") == 0);
    CHECK(serves("3") == 1);
  }
}

TEST_CASE("releases: --ignore-releases contracts under a live older release and history says so") {
  for (auto& window : windows()) {
    CAPTURE(window->database->dialect());
    window->open_window();
    REQUIRE(window->tandem({"release", "register", "--service", "app", "--release", "1", "--instance", "web-1"})
                .exit_code == 0);
    // A release as new as the version does not hold it back.
    REQUIRE(window->tandem({"release", "register", "--service", "app", "--release", "2", "--instance", "web-2"})
                .exit_code == 0);
    const auto dry = window->tandem({"contract", "--dry-run"});
    CHECK_MESSAGE(dry.exit_code == 0, dry.all());
    CHECK(contains(dry.out, "contract 002 would be refused"));
    CHECK_FALSE(contains(dry.out, "web-2"));
    const auto ran = window->tandem({"contract", "--ignore-releases"});
    CHECK_MESSAGE(ran.exit_code == 0, ran.all());
    CHECK(window->contract_version() == 2);
    const auto history = window->tandem({"history", "--format", "json"});
    REQUIRE(history.exit_code == 0);
    bool recorded = false;
    for (const auto& entry : nlohmann::json::parse(history.out))
      if (entry["status"] == "releases_ignored" && entry["version"] == "002")
        recorded = contains(entry["error"].get<std::string>(), "app/web-1 (release 1");
    CHECK_MESSAGE(recorded, history.out);
  }
}

TEST_CASE("releases: bad register and forget input is refused with exit 64, naming what is wrong") {
  TempDir dir;
  const std::string url = "sqlite:" + (dir.path() / "app.db").string();
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--db", url});
    return run_tandem(args, dir.path());
  };
  CHECK(contains(run({"release", "register", "--release", "1"}).err, "--service"));
  CHECK(run({"release", "register", "--release", "1"}).exit_code == 64);
  CHECK(run({"release", "register", "--service", "app"}).exit_code == 64);
  CHECK(contains(run({"release", "register", "--service", "a/b", "--release", "1"}).err, "no '/'"));
  CHECK(run({"release", "register", "--service", "app", "--release", "1", "--ttl", "0"}).exit_code == 64);
  CHECK(run({"release", "register", "--service", "app", "--release", "1", "--ttl", "3", "--every", "5"}).exit_code ==
        64);
  CHECK(run({"release", "dance"}).exit_code == 64);
  // A name with a quote and a space is data, not SQL.
  const auto odd = run({"release", "register", "--service", "app'); DROP TABLE x; --", "--release", "1"});
  CHECK_MESSAGE(odd.exit_code == 0, odd.all());
  CHECK(has_line_with(run({"release", "list"}).out, {"app'); DROP TABLE x; --", "001", "live"}));
}
