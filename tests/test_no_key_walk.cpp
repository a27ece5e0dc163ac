// Batched operations on tables without a primary key (DESIGN §7, issue 14 item 4): a NOT
// NULL unique key is walked as a key on every dialect; with none, SQLite walks rowid and
// PostgreSQL ctid page ranges, exactly, across kill -9 and reruns; MySQL refuses, naming
// the table and asking for `key:`.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <signal.h>

#include "conformance.h"

using namespace tandem::test;

namespace {

// No primary key; `a` repeats (every value twice), so no column tells the rows apart.
const char* kLoose = R"Y(description: rows without a key
operations:
  - create_table:
      name: loose
      columns:
        - {name: a, type: integer, nullable: false}
        - {name: b, type: integer}
        - {name: note, type: string(32)}
)Y";

// No primary key, but a NOT NULL unique column.
const char* kCoded = R"Y(description: rows named by a unique code
operations:
  - create_table:
      name: loose
      columns:
        - {name: code, type: string(16), nullable: false, unique: true}
        - {name: a, type: integer, nullable: false}
        - {name: b, type: integer}
        - {name: note, type: string(32)}
)Y";

const char* kBackfill = R"Y(description: b is twice a
operations:
  - backfill: {table: loose, set: {b: "a * 2"}, where: b IS NULL}
)Y";

const char* kDelete = R"Y(description: rows whose a is a multiple of 3 go
operations:
  - delete_rows: {table: loose, where: "a % 3 = 0"}
)Y";

constexpr int kRows = 6000;

struct Loose {
  TempDir dir;
  std::string url;
  Loose(std::string database_url, const char* table, const char* migrate) : url(std::move(database_url)) {
    write_version(dir.path(), "001", "loose", table, "", "");
    write_version(dir.path(), "002", "work", "", migrate, "");
    REQUIRE(run_phase("upgrade", url, dir.path(), {"--to", "1"}).exit_code == 0);
    const bool coded = table == kCoded;
    for (int start = 0; start < kRows; start += 1000) {
      std::string sql = fmt::format("INSERT INTO loose ({}a, note) VALUES ", coded ? "code, " : "");
      for (int i = start; i < start + 1000; ++i)
        sql += fmt::format("{}({}{}, 'it''s {}')", i > start ? ", " : "", coded ? fmt::format("'c {:05}', ", i) : "",
                           i / 2, i);
      execute(url, sql);
    }
    REQUIRE(run_phase("expand", url, dir.path()).exit_code == 0);
  }
  std::string value(const std::string& sql) const { return query_rows(url, sql).at(0); }
  std::string checksum() const {
    return value("SELECT count(*), sum(a), coalesce(sum(b), -1), sum(CASE WHEN b = a * 2 THEN 1 ELSE 0 END), count(DISTINCT note) FROM loose");
  }
  Result migrate(const std::vector<std::string>& extra = {}, const std::map<std::string, std::string>& env = {}) const {
    std::vector<std::string> args = {"migrate", "--wait", "10", "--batch-size", "500", "--db", url, "--repos",
                                     dir.path().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_tandem(args, dir.path(), env);
  }
};

// Each of `migrate` killed at several batches, inside a batch's transaction and after its
// commit, then finished by a rerun: the data is that of one uninterrupted run.
void check_killed_runs_end_exact(ScratchDatabase& database, const char* migrate, const std::string& expected) {
  Loose killed(database.url(), kLoose, migrate);
  int run_number = 0;
  for (int batch : {2, 2, 1, 2}) {
    const bool inside = ++run_number % 2 == 0;
    CAPTURE(batch);
    CAPTURE(inside);
    const Result run =
        killed.migrate({}, {{"TANDEM_FAILPOINT", fmt::format("{}:{}", inside ? "before_commit" : "after_batch", batch)}});
    CHECK_MESSAGE(run.exit_code == -SIGKILL, run.all());
  }
  const Result rerun = killed.migrate();
  REQUIRE_MESSAGE(rerun.exit_code == 0, rerun.all());
  CHECK(killed.checksum() == expected);
  CHECK(killed.value("SELECT version FROM tandem_version WHERE phase = 'migrate'") == "2");
}

}  // namespace

TEST_CASE("no-key walk: backfill and delete_rows on a table with no primary key end exact after kill -9, or are refused on MySQL") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    if (database->dialect() == "mysql") {
      auto fresh = scratch_databases();
      const ScratchDatabase* second = nullptr;
      for (const auto& other : fresh)
        if (other->dialect() == "mysql") second = other.get();
      REQUIRE(second);
      for (const char* migrate : {kBackfill, kDelete}) {
        Loose loose(migrate == kBackfill ? database->url() : second->url(), kLoose, migrate);
        const std::string before = loose.checksum();
        const Result run = loose.migrate();
        CHECK_MESSAGE(run.exit_code == 2, run.all());
        CHECK_MESSAGE(run.err.find("on loose: the table has no primary key and no NOT NULL unique key") != std::string::npos,
                      run.all());
        CHECK_MESSAGE(run.err.find("`key:`") != std::string::npos, run.all());
        CHECK(loose.checksum() == before);
        CHECK(loose.value("SELECT version FROM tandem_version WHERE phase = 'migrate'") == "1");
      }
      continue;
    }
    // Every row doubled, every third value of a deleted (a runs 0, 0, 1, 1, ...).
    const int kept_rows = kRows - 2 * ((kRows / 2 + 2) / 3);
    long long kept_sum = 0;
    for (int i = 0; i < kRows; ++i)
      if ((i / 2) % 3 != 0) kept_sum += i / 2;
    const long long sum = static_cast<long long>(kRows / 2) * (kRows / 2 - 1);
    check_killed_runs_end_exact(*database, kBackfill, fmt::format("{}|{}|{}|{}|{}", kRows, sum, 2 * sum, kRows, kRows));
    for (const auto& fresh : scratch_databases())
      if (fresh->dialect() == database->dialect())
        check_killed_runs_end_exact(*fresh, kDelete, fmt::format("{}|{}|-1|0|{}", kept_rows, kept_sum, kept_rows));
  }
}

TEST_CASE("no-key walk: a NOT NULL unique key is walked as the key, on every dialect") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    Loose coded(database->url(), kCoded, kBackfill);
    const Result dry = run_phase("migrate", coded.url, coded.dir.path(), {"--dry-run"});
    REQUIRE_MESSAGE(dry.exit_code == 0, dry.all());
    CHECK_MESSAGE(dry.out.find("ORDER BY " + std::string(database->dialect() == "mysql" ? "`code`" : "\"code\"")) !=
                      std::string::npos,
                  dry.out);
    const Result run = coded.migrate();
    REQUIRE_MESSAGE(run.exit_code == 0, run.all());
    const long long sum = static_cast<long long>(kRows / 2) * (kRows / 2 - 1);
    CHECK(coded.checksum() == fmt::format("{}|{}|{}|{}|{}", kRows, sum, 2 * sum, kRows, kRows));
  }
}

TEST_CASE("no-key walk: rows the application updates during a ctid or rowid walk are all backfilled") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    if (database->dialect() == "mysql") continue;  // refused: the first case
    Loose loose(database->url(), kLoose, kBackfill);
    // Stop after two batches; the application then rewrites every row (PostgreSQL puts
    // the new versions on other pages, some behind the walk's cursor), and the rerun
    // still reaches every row.
    const Result stopped = loose.migrate({"--max-count", "1000"});
    CHECK_MESSAGE(stopped.exit_code == 1, stopped.all());
    execute(loose.url, "UPDATE loose SET note = note || ' moved'");
    const Result rerun = loose.migrate();
    REQUIRE_MESSAGE(rerun.exit_code == 0, rerun.all());
    CHECK(loose.value("SELECT count(*) FROM loose WHERE b IS NULL OR b <> a * 2") == "0");
    CHECK(loose.value("SELECT count(*) FROM loose WHERE note LIKE '% moved'") == std::to_string(kRows));
  }
}

namespace {

// Soft-deleted rows in a table with no key and a shadow table.
const char* kArchived = R"Y(description: soft-deleted rows without a key
operations:
  - create_table:
      name: loose_logs
      shadow: true
      columns:
        - {name: a, type: integer, nullable: false}
        - {name: note, type: string(32)}
        - {name: deleted, type: integer, nullable: false, default: "0"}
)Y";

}  // namespace

TEST_CASE("no-key walk: archive moves exactly the soft-deleted rows of a table with no key after kill -9, MySQL skips it") {
  constexpr int kLogs = 5000;
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    TempDir dir;
    const std::string url = database->url();
    write_version(dir.path(), "001", "logs", kArchived, "", "");
    REQUIRE(run_phase("upgrade", url, dir.path()).exit_code == 0);
    for (int start = 0; start < kLogs; start += 1000) {
      std::string sql = "INSERT INTO loose_logs (a, note, deleted) VALUES ";
      for (int i = start; i < start + 1000; ++i)
        sql += fmt::format("{}({}, 'it''s {}', {})", i > start ? ", " : "", i / 2, i, i % 5 < 3 ? 1 : 0);
      execute(url, sql);
    }
    auto value = [&](const std::string& sql) { return query_rows(url, sql).at(0); };
    const std::string live = value("SELECT count(*), sum(a) FROM loose_logs WHERE deleted = 0");
    const std::string gone = value("SELECT count(*), sum(a) FROM loose_logs WHERE deleted <> 0");
    auto archive = [&](const std::vector<std::string>& extra, const std::map<std::string, std::string>& env = {}) {
      std::vector<std::string> args = {"archive", "--db", url, "--repos", dir.path().string()};
      args.insert(args.end(), extra.begin(), extra.end());
      return run_tandem(args, dir.path(), env);
    };
    if (database->dialect() == "mysql") {
      const Result run = archive({"--until-complete"});
      CHECK_MESSAGE(run.exit_code == 0, run.all());
      CHECK_MESSAGE(run.err.find("loose_logs: not archived: it has no primary key and no NOT NULL unique key") !=
                        std::string::npos,
                    run.all());
      CHECK(value("SELECT count(*) FROM shadow_loose_logs") == "0");
      continue;
    }
    // 3000 soft-deleted rows: three batches of 1000. Killed inside the second batch's
    // transaction, then after the first batch of the next run has committed.
    for (const char* failpoint : {"before_commit:2", "after_batch:1"}) {
      CAPTURE(failpoint);
      const Result run = archive({"--until-complete"}, {{"TANDEM_FAILPOINT", failpoint}});
      CHECK_MESSAGE(run.exit_code == -SIGKILL, run.all());
    }
    CHECK(value("SELECT count(*) FROM shadow_loose_logs") == "2000");
    const Result rerun = archive({"--until-complete"});
    CHECK_MESSAGE(rerun.exit_code == 1, rerun.all());
    CHECK(value("SELECT count(*), sum(a) FROM loose_logs") == live);
    CHECK(value("SELECT count(*) FROM loose_logs WHERE deleted <> 0") == "0");
    CHECK(value("SELECT count(*), sum(a) FROM shadow_loose_logs") == gone);
    CHECK(value("SELECT count(DISTINCT note) FROM shadow_loose_logs") == "3000");
    CHECK(archive({"--until-complete"}).exit_code == 0);
  }
}
