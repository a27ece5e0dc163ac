// A migrate operation's batch plan (operations/batch_plan.h): `migrate --dry-run` prints
// exactly the statements its batches send, on every dialect, and `batch:` sets the
// operation's batch size unless --batch-size is given. What the runner sent is recorded
// through its test hook (TANDEM_TEST_BATCH_SQL), on the real servers.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "conformance.h"

using namespace tandem::test;

namespace {

const char* kTables = R"Y(description: items and their copies
operations:
  - create_table:
      name: items
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: a, type: integer, nullable: false}
        - {name: b, type: integer}
  - create_table:
      name: copies
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: a, type: integer}
)Y";

const char* kMigrate = R"Y(description: every kind of batched operation
operations:
  - backfill: {table: items, set: {b: "a * 2"}, where: b IS NULL}
  - copy_rows: {from: items, to: copies, columns: {id: id, a: a}, on_conflict: update}
  - delete_rows: {table: items, where: "a > 7"}
)Y";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The statements a dry run printed: its lines ending in ';' that are not comments.
std::vector<std::string> printed_statements(const std::string& out) {
  std::vector<std::string> statements;
  for (const auto& line : lines_of(out))
    if (!line.empty() && line.back() == ';' && line.rfind("--", 0) != 0) statements.push_back(line.substr(0, line.size() - 1));
  return statements;
}

struct Project {
  TempDir dir;
  std::string url;
  Project(std::string database_url, const std::string& migrate, int rows) : url(std::move(database_url)) {
    write_version(dir.path(), "001", "tables", kTables, migrate, "");
    REQUIRE(run_phase("expand", url, dir.path()).exit_code == 0);
    std::string sql = "INSERT INTO items (id, a) VALUES ";
    for (int i = 0; i < rows; ++i) sql += fmt::format("{}({}, {})", i ? ", " : "", i + 1, i);
    execute(url, sql);
  }
  // migrate, with every statement its batches send recorded; returns them.
  std::vector<std::string> migrate(const std::vector<std::string>& extra, Result& result) const {
    const auto log = dir / "batch.sql";
    std::vector<std::string> args = {"migrate", "--db", url, "--repos", dir.path().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    result = run_tandem(args, dir.path(), {{"TANDEM_TEST_BATCH_SQL", log.string()}});
    return std::filesystem::exists(log) ? lines_of(read_file(log)) : std::vector<std::string>{};
  }
};

}  // namespace

TEST_CASE("batch plans: migrate --dry-run prints exactly the statements the batches send, on every dialect") {
  for (const auto& scratch : scratch_databases()) {
    CAPTURE(scratch->dialect());
    Project project(scratch->url(), kMigrate, 10);
    const Result dry = run_phase("migrate", project.url, project.dir.path(), {"--dry-run"});
    REQUIRE_MESSAGE(dry.exit_code == 0, dry.all());
    const auto printed = printed_statements(dry.out);
    // Per operation the key fetch and its batch statement; where the fetch reads a batch's
    // last key alone (SQLite), also the fetch of the table's last key, for the last batch.
    const bool tails = std::any_of(printed.begin(), printed.end(),
                                   [](const std::string& sql) { return sql.ends_with("LIMIT 1 OFFSET ?"); });
    CHECK(tails == (scratch->dialect() == "sqlite"));
    REQUIRE_MESSAGE(printed.size() == (tails ? 9u : 6u), dry.out);
    CHECK(std::count_if(printed.begin(), printed.end(), [](const std::string& sql) { return sql.rfind("SELECT", 0) == 0; }) ==
          (tails ? 6 : 3));

    Result run;
    const auto sent = project.migrate({"--batch-size", "3"}, run);
    REQUIRE_MESSAGE(run.exit_code == 0, run.all());
    const std::set<std::string> executed(sent.begin(), sent.end());
    for (const auto& statement : printed) {
      CAPTURE(statement);
      CHECK(executed.count(statement) == 1);
    }
    // And the batches did what the unit says.
    CHECK(query_rows(project.url, "SELECT count(*), sum(b) FROM items") == std::vector<std::string>{"8|56"});
    CHECK(query_rows(project.url, "SELECT count(*), sum(a) FROM copies") == std::vector<std::string>{"10|45"});
  }
}

TEST_CASE("batch plans: backfill's batch: sets its batch size, --batch-size overrides it") {
  const char* kBatched = R"Y(description: b is twice a, four rows a batch
operations:
  - backfill: {table: items, set: {b: "a * 2"}, batch: 4}
)Y";
  // Key fetches: a pass over 10 rows in batches of n fetches ceil(10 / n) + 1 times (the
  // last finds no key), and the final pass as many again. Where a fetch reads the batch's
  // last key alone (LIMIT 1 OFFSET n-1, SQLite), the fetch past the end finds none.
  auto fetches = [](const std::vector<std::string>& sent) {
    return std::count_if(sent.begin(), sent.end(), [](const std::string& sql) {
      return sql.rfind("SELECT", 0) == 0 && (sql.ends_with("LIMIT ?") || sql.ends_with("LIMIT 1 OFFSET ?"));
    });
  };
  const std::vector<std::pair<std::vector<std::string>, long>> cases = {
      {{}, 8},                     // batch: 4 -> batches of 4, 4, 2
      {{"--batch-size", "5"}, 6},  // batches of 5, 5
  };
  for (const auto& [extra, expected] : cases) {
    for (const auto& scratch : scratch_databases()) {
      CAPTURE(scratch->dialect());
      CAPTURE(extra.size());
      Project project(scratch->url(), kBatched, 10);
      Result run;
      const auto sent = project.migrate(extra, run);
      REQUIRE_MESSAGE(run.exit_code == 0, run.all());
      CHECK(fetches(sent) == expected);
      CHECK(query_rows(project.url, "SELECT sum(b) FROM items") == std::vector<std::string>{"90"});
    }
  }
}

TEST_CASE("batch plans: a bad then or on_conflict is refused naming its file and line") {
  TempDir dir;
  write_version(dir.path(), "001", "tables", kTables,
                "description: bad\noperations:\n  - copy_rows: {from: items, to: copies, columns: {id: id}, "
                "on_conflict: replace}\n  - move_rows:\n      from: {database: cell, table: items}\n"
                "      to: {database: api, table: copies}\n      columns: {id: id}\n      unique: [id]\n"
                "      then: drop\n",
                "");
  const Result result = run_tandem({"check", "--repos", dir.path().string()}, dir.path());
  CHECK(result.exit_code != 0);
  CHECK_MESSAGE(has_line_with(result.all(), {"001_tables.yaml:3:", "on_conflict takes skip or update, not 'replace'"}),
                result.all());
}
