// tandem baseline N (DESIGN §17), on every dialect: a database built by hand joins tandem
// at N only when it holds what 001..N build.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "conformance.h"

using namespace tandem;
using namespace tandem::test;

namespace {

// 001 makes items(id, name); 002 adds note and an index on name; 003 adds extra.
void write_history(const std::filesystem::path& repos) {
  write_version(repos, "001", "items", R"Y(description: items
operations:
  - create_table: {name: items, columns: [{name: id, type: integer, primary_key: true},
                                          {name: name, type: string(50), nullable: false}]}
)Y",
                "", "");
  write_version(repos, "002", "note", R"Y(description: note
operations:
  - add_column: {table: items, column: {name: note, type: text}}
  - create_index: {table: items, name: items_name_idx, columns: [name]}
)Y",
                "", "");
  write_version(repos, "003", "extra", R"Y(description: extra
operations:
  - add_column: {table: items, column: {name: extra, type: integer}}
)Y",
                "", "");
}

struct Adopted {
  TempDir repos;
  std::unique_ptr<ScratchDatabase> database;

  Result tandem(std::vector<std::string> args) const {
    args.insert(args.end(), {"--db", database->url(), "--repos", repos.path().string()});
    return run_tandem(args, repos.path());
  }
  std::vector<std::string> rows(const std::string& sql) const { return query_rows(database->url(), sql); }
  bool has_state() const {
    try {
      rows("SELECT count(*) FROM tandem_version");
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }
};

std::vector<std::unique_ptr<Adopted>> adopted_databases() {
  std::vector<std::unique_ptr<Adopted>> result;
  for (auto& database : scratch_databases()) {
    result.push_back(std::make_unique<Adopted>());
    result.back()->database = std::move(database);
    write_history(result.back()->repos.path());
  }
  return result;
}

// What 001..002 build, written by hand as another tool would: other index name, the
// column order of the final table, a row of the application's.
constexpr const char* kHandBuilt =
    "CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50) NOT NULL, note TEXT);\n"
    "CREATE INDEX hand_made_name_index ON items (name);\n"
    "INSERT INTO items (id, name, note) VALUES (1, 'it''s one', 'a note');\n";

}  // namespace

TEST_CASE("baseline: a hand-built database equal to 001..N records state N, and the next expand runs N+1") {
  for (auto& adopted : adopted_databases()) {
    CAPTURE(adopted->database->dialect());
    execute(adopted->database->url(), kHandBuilt);

    const auto dry = adopted->tandem({"baseline", "2", "--dry-run"});
    CHECK_MESSAGE(dry.exit_code == 0, dry.all());
    CHECK(contains(dry.out, "--dry-run recorded nothing"));
    CHECK_FALSE(adopted->has_state());

    const auto recorded = adopted->tandem({"baseline", "2"});
    REQUIRE_MESSAGE(recorded.exit_code == 0, recorded.all());
    CHECK(contains(recorded.out, "recorded at 002"));
    CHECK(adopted->rows("SELECT phase, version FROM tandem_version ORDER BY phase") ==
          std::vector<std::string>{"contract|2", "expand|2", "migrate|2"});
    // One history row per unit of 001..002, each with its file's checksum.
    CHECK(adopted->rows("SELECT count(*) FROM tandem_history WHERE status = 'baselined'") ==
          std::vector<std::string>{"6"});
    const auto history = adopted->tandem({"history", "--format", "json"});
    REQUIRE_MESSAGE(history.exit_code == 0, history.all());
    CHECK(contains(history.out, "\"baselined\""));

    const auto status = adopted->tandem({"status", "--check"});
    CHECK_MESSAGE(status.exit_code == 2, status.all());  // expand 003 is due
    const auto expand = adopted->tandem({"expand"});
    REQUIRE_MESSAGE(expand.exit_code == 0, expand.all());
    CHECK(contains(expand.out, "003"));
    CHECK_FALSE(contains(expand.out, "001"));
    CHECK(adopted->rows("SELECT name, extra FROM items") == std::vector<std::string>{"it's one|NULL"});
    for (const char* command : {"migrate", "contract"}) {
      const auto result = adopted->tandem({command});
      CHECK_MESSAGE(result.exit_code == 0, result.all());
    }
    CHECK(adopted->tandem({"status", "--check"}).exit_code == 0);

    // A unit of 001..002 edited after the baseline is caught as an edited unit.
    write_version(adopted->repos.path(), "001", "items", R"Y(description: items, edited
operations:
  - create_table: {name: items, columns: [{name: id, type: integer, primary_key: true},
                                          {name: name, type: string(60), nullable: false}]}
)Y",
                  "", "");
    const auto edited = adopted->tandem({"status", "--check"});
    CHECK_MESSAGE(edited.exit_code != 0, edited.all());
  }
}

TEST_CASE("baseline: a database that differs exits 1 naming each difference and records nothing") {
  for (auto& adopted : adopted_databases()) {
    CAPTURE(adopted->database->dialect());
    // name is 40 wide, not 50; no index on name; an extra column.
    execute(adopted->database->url(),
            "CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL, note TEXT, "
            "legacy INTEGER);\n");
    const auto result = adopted->tandem({"baseline", "2"});
    CHECK_MESSAGE(result.exit_code == 1, result.all());
    CHECK(contains(result.out, "column name"));
    CHECK(contains(result.out, "column legacy is in the database but not in the schema versions 001..002 build"));
    CHECK(contains(result.out, "is in the schema versions 001..002 build but missing from the database"));
    CHECK(contains(result.out, "nothing was recorded"));
    CHECK_FALSE(adopted->has_state());

    const auto json = adopted->tandem({"baseline", "2", "--format", "json"});
    CHECK(json.exit_code == 1);
    const auto report = nlohmann::json::parse(json.out);
    CHECK(report["differences"].size() == 3);
    CHECK(report["recorded"] == false);
  }
}

TEST_CASE("baseline: refused on a database with tandem state, and for a version the repositories lack") {
  for (auto& adopted : adopted_databases()) {
    CAPTURE(adopted->database->dialect());
    REQUIRE(adopted->tandem({"expand", "--to", "1"}).exit_code == 0);
    const auto refused = adopted->tandem({"baseline", "1"});
    CHECK_MESSAGE(refused.exit_code == 1, refused.all());
    CHECK(contains(refused.err, "already has tandem state (expand 001)"));
    CHECK(contains(refused.err, "nothing was recorded"));
    CHECK(adopted->rows("SELECT version FROM tandem_version WHERE phase = 'migrate'") == std::vector<std::string>{"0"});

    for (const char* version : {"0", "4", "two", "1;DROP"}) {
      CAPTURE(version);
      const auto bad = adopted->tandem({"baseline", version});
      CHECK_MESSAGE(bad.exit_code == 64, bad.all());
    }
    CHECK(adopted->tandem({"baseline"}).exit_code == 64);
    CHECK(adopted->tandem({"baseline", "1", "2"}).exit_code == 64);
  }
}
