// `tandem check` and `tandem new` run as a release engineer or CI runs them: the real
// binary on unit files written to a temporary folder, judged by exit code and output.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "support.h"

using namespace tandem::test;
namespace fs = std::filesystem;

namespace {

// Version 002 with `expand`, `migrate` and `contract` ("" for a placeholder), then check.
Result check_version_002(const std::string& expand, const std::string& migrate, const std::string& contract,
                         const std::vector<std::string>& options = {}) {
  TempDir dir;
  write_clean_history(dir.path());
  write_version(dir.path(), "002", "change", expand, migrate, contract);
  std::vector<std::string> args = {"check"};
  args.insert(args.end(), options.begin(), options.end());
  return run_tandem(args, dir.path());
}

// A rule error: exit 1, one line naming the file, the code and version 002.
void expect_rule_error(const Result& result, const std::string& file, const std::string& code) {
  INFO("stdout:\n" << result.out << "stderr:\n" << result.err);
  CHECK(result.exit_code == 1);
  CHECK(has_line_with(result.out, {file, "error: " + code + ":", "version 002"}));
}

// A repository that cannot be read or does not line up: exit 65 and the finding.
void expect_unreadable(const Result& result, std::initializer_list<std::string> parts) {
  INFO("stdout:\n" << result.out << "stderr:\n" << result.err);
  CHECK(result.exit_code == 65);
  CHECK(has_line_with(result.out, parts));
}

// A unit holding `operations` (list items, indented two spaces), for any phase.

}  // namespace

TEST_CASE("check: a clean repository passes") {
  TempDir dir;
  write_clean_history(dir.path());
  write_version(dir.path(), "002", "names",
                unit_with("  - add_column: {table: accounts, column: {name: name, type: string(64), nullable: false, "
                            "default: \"''\"}}\n"
                            "  - create_index: {table: accounts, name: accounts_email, columns: [email]}\n"),
                unit_with("  - backfill: {table: accounts, set: {name: email}, where: name = ''}\n"),
                unit_with("  - drop_column: {table: accounts, column: email}\n"));
  const Result result = run_tandem({"check"}, dir.path());
  INFO(result.all());
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "check: 0 errors"));
  CHECK_FALSE(contains(result.out, "error:"));
}

TEST_CASE("check: a version missing from one repository is named with the file that has it") {
  TempDir dir;
  write_clean_history(dir.path());
  write_file(dir / "expand_repo/002_orphan.yaml", "description: only here\noperations: []\n");
  write_file(dir / "data_migration_repo/002_orphan.yaml", "description: only here\noperations: []\n");
  expect_unreadable(run_tandem({"check"}, dir.path()),
                    {"expand_repo/002_orphan.yaml", "error: missing-version:", "version 002", "contract_repo"});
}

TEST_CASE("check: a gap between versions names the version after it") {
  TempDir dir;
  write_clean_history(dir.path());
  write_version(dir.path(), "002", "second", "", "", "");
  write_version(dir.path(), "004", "fourth", "", "", "");
  expect_unreadable(run_tandem({"check"}, dir.path()),
                    {"expand_repo/004_fourth.yaml", "error: version-gap:", "002", "004"});
}

TEST_CASE("check: a version twice in one repository") {
  TempDir dir;
  write_clean_history(dir.path());
  write_version(dir.path(), "002", "a", "", "", "");
  write_file(dir / "contract_repo/002_b.yaml", "description: twin\noperations: []\n");
  const Result result = run_tandem({"check"}, dir.path());
  expect_unreadable(result, {"contract_repo/002_b.yaml", "error: duplicate-version:", "version 002"});
  CHECK(has_line_with(result.out, {"duplicate-version", "contract_repo/002_a.yaml", "contract_repo/002_b.yaml"}));
}

TEST_CASE("check: a unit file with a bad name") {
  TempDir dir;
  write_clean_history(dir.path());
  std::string file;
  SUBCASE("two digits") { file = "contract_repo/02_x.yaml"; }
  SUBCASE("a dash") { file = "expand_repo/003-foo.yaml"; }
  SUBCASE("upper case") { file = "data_migration_repo/002_Foo.yaml"; }
  SUBCASE("a version too large to order") { file = "expand_repo/99999999999999999999_huge.yaml"; }
  write_file(dir / file, "description: misnamed\noperations: []\n");
  expect_unreadable(run_tandem({"check"}, dir.path()), {file + ":", "error: bad-file-name:"});
}

TEST_CASE("check: broken YAML is reported with its file, line and version") {
  const Result result = check_version_002("description: [unclosed\noperations: []\n", "", "");
  expect_unreadable(result, {"expand_repo/002_change.yaml:", "error: invalid-unit:", "version 002", "broken YAML"});
}

TEST_CASE("check: an unknown operation") {
  const Result result = check_version_002(unit_with("  - frobnicate: {table: accounts}\n"), "", "");
  expect_unreadable(result, {"expand_repo/002_change.yaml:3:", "error: invalid-unit:", "version 002",
                             "unknown operation 'frobnicate'"});
}

TEST_CASE("check: an unknown key in an operation") {
  std::string expand, contract, file, part;
  SUBCASE("in the operation's body") {
    contract = unit_with("  - drop_table: {name: accounts, cascade: true}\n");
    file = "contract_repo/002_change.yaml:3:";
    part = "unknown key 'cascade'";
  }
  SUBCASE("beside the operation") {
    contract = unit_with("  - drop_table: {name: accounts}\n    cascade: true\n");
    file = "contract_repo/002_change.yaml:3:";
    part = "found 2 keys";
  }
  SUBCASE("in a column spec") {
    expand = unit_with("  - add_column: {table: accounts, column: {name: x, type: text, colour: red}}\n");
    file = "expand_repo/002_change.yaml:3:";
    part = "unknown key 'colour'";
  }
  expect_unreadable(check_version_002(expand, "", contract), {file, "error: invalid-unit:", "version 002", part});
}

TEST_CASE("check: a data change in expand") {
  std::string operation;
  SUBCASE("backfill operation") { operation = "  - backfill: {table: accounts, set: {email: \"''\"}}\n"; }
  SUBCASE("raw UPDATE") { operation = "  - sql: \"UPDATE accounts SET email = ''\"\n"; }
  SUBCASE("raw DELETE for one dialect") { operation = "  - sql: {sqlite: \"DELETE FROM accounts\"}\n"; }
  expect_rule_error(check_version_002(unit_with(operation), "", ""), "expand_repo/002_change.yaml:3:",
                    "data-in-expand");
}

TEST_CASE("check: a data change in contract") {
  std::string operation;
  SUBCASE("TRUNCATE") { operation = "  - sql: TRUNCATE accounts\n"; }
  SUBCASE("raw DELETE") { operation = "  - sql: DELETE FROM accounts WHERE id = 1\n"; }
  SUBCASE("delete_rows operation") { operation = "  - delete_rows: {table: accounts, where: id = 1}\n"; }
  expect_rule_error(check_version_002("", "", unit_with(operation)), "contract_repo/002_change.yaml:3:",
                    "data-in-contract");
}

TEST_CASE("check: a schema change in migrate") {
  std::string operation;
  SUBCASE("raw CREATE TABLE") { operation = "  - sql: CREATE TABLE sneaky (id integer)\n"; }
  SUBCASE("add_column operation") { operation = "  - add_column: {table: accounts, column: {name: x, type: text}}\n"; }
  SUBCASE("drop_table operation") { operation = "  - drop_table: {name: accounts}\n"; }
  expect_rule_error(check_version_002("", unit_with(operation), ""), "data_migration_repo/002_change.yaml:3:",
                    "schema-change-in-migrate");
}

TEST_CASE("check: an additive change in contract") {
  std::string operation;
  SUBCASE("add_column operation") { operation = "  - add_column: {table: accounts, column: {name: x, type: text}}\n"; }
  SUBCASE("raw ALTER TABLE ADD COLUMN") { operation = "  - sql: ALTER TABLE accounts ADD COLUMN x text\n"; }
  expect_rule_error(check_version_002("", "", unit_with(operation)), "contract_repo/002_change.yaml:3:",
                    "additive-in-contract");
}

TEST_CASE("check: a drop in expand") {
  std::string operation;
  SUBCASE("drop_table operation") { operation = "  - drop_table: {name: accounts}\n"; }
  SUBCASE("raw DROP TABLE") { operation = "  - sql: DROP TABLE accounts\n"; }
  const Result result = check_version_002(unit_with(operation), "", "");
  expect_rule_error(result, "expand_repo/002_change.yaml:3:", "contractive-in-expand");
  CHECK(has_line_with(result.out, {"contractive-in-expand", "accounts"}));
}

TEST_CASE("check: a NOT NULL column without a default in expand") {
  const Result result = check_version_002(
      unit_with("  - add_column: {table: accounts, column: {name: age, type: integer, nullable: false}}\n"), "", "");
  expect_rule_error(result, "expand_repo/002_change.yaml:3:", "not-null-without-default");
  CHECK(has_line_with(result.out, {"not-null-without-default", "accounts.age"}));
}

TEST_CASE("check: an identifier that is not a plain name") {
  std::string name;
  SUBCASE("with a statement after a semicolon") { name = "instances; drop"; }
  SUBCASE("with a dash") { name = "bad-name"; }
  SUBCASE("longer than 63 bytes") { name = std::string(64, 'n'); }
  const Result result = check_version_002(
      unit_with("  - add_column: {table: \"" + name + "\", column: {name: x, type: text}}\n"), "", "");
  expect_rule_error(result, "expand_repo/002_change.yaml:3:", "bad-identifier");
  CHECK(has_line_with(result.out, {"bad-identifier", "'" + name + "'"}));
}

TEST_CASE("check: a DROP hidden from a quick look is still found") {
  std::string operation;
  int line = 3;
  SUBCASE("after a quoted semicolon") { operation = "  - sql: \"SELECT ';'; DROP TABLE x\"\n"; }
  SUBCASE("after a block comment holding a semicolon") { operation = "  - sql: \"/* ; */ DROP TABLE x\"\n"; }
  SUBCASE("on the line after a line comment") {
    operation = "  - sql: \"-- x\\nDROP TABLE x\"\n";
    line = 4;  // the second line of the SQL text
  }
  SUBCASE("after a dollar-quoted string") { operation = "  - sql: {postgresql: \"SELECT $$;$$; DROP TABLE x\"}\n"; }
  const Result result = check_version_002(unit_with(operation), "", "");
  expect_rule_error(result, "expand_repo/002_change.yaml:" + std::to_string(line) + ":", "contractive-in-expand");
  CHECK(has_line_with(result.out, {"contractive-in-expand", "DROP TABLE x"}));
}

TEST_CASE("check: an ALTER that both adds and drops takes the stricter class") {
  const Result result =
      check_version_002(unit_with("  - sql: ALTER TABLE accounts ADD COLUMN x text, DROP COLUMN email\n"), "", "");
  expect_rule_error(result, "expand_repo/002_change.yaml:3:", "contractive-in-expand");
  CHECK(has_line_with(result.out, {"contractive-in-expand", "ADD + DROP"}));
}

TEST_CASE("check: a CREATE FUNCTION whose dollar-quoted body deletes rows is additive") {
  const Result result = check_version_002(
      unit_with("  - sql: {postgresql: \"CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN DELETE FROM t; RETURN NULL; "
                  "END $$ LANGUAGE plpgsql\"}\n"),
      "", "");
  INFO(result.all());
  CHECK(result.exit_code == 0);
  // Its one warning: raw SQL without abort: makes version 002 impossible to abort.
  CHECK(has_line_with(result.out, {"expand_repo/002_change.yaml:3:", "warning: cannot-abort:", "no abort: key"}));
  CHECK(contains(result.out, "check: 0 errors, 1 warning"));
}

TEST_CASE("check: raw SQL with an abort: key can be aborted, and check says nothing of it") {
  const Result result = check_version_002(
      unit_with("  - sql: {sqlite: \"CREATE TABLE audit (id integer)\", abort: \"DROP TABLE audit\"}\n"), "", "");
  INFO(result.all());
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "check: 0 errors, 0 warnings"));
}

TEST_CASE("check: a forbidden statement with allow is a warning") {
  const Result result = check_version_002(
      unit_with("  - sql: {sqlite: \"DELETE FROM accounts\", allow: \"clears rows no release reads\"}\n"), "", "");
  INFO(result.all());
  CHECK(result.exit_code == 0);
  CHECK(has_line_with(result.out,
                      {"expand_repo/002_change.yaml:3:", "warning: allowed:", "version 002", "clears rows no release reads"}));
  CHECK(has_line_with(result.out, {"expand_repo/002_change.yaml:3:", "warning: cannot-abort:"}));
  CHECK(contains(result.out, "check: 0 errors, 2 warnings"));
}

TEST_CASE("check: a missing repository folder exits 65 naming it") {
  TempDir dir;
  SUBCASE("the whole folder") {
    const Result result = run_tandem({"check", "--repos", (dir / "missing").string()}, dir.path());
    CHECK(result.exit_code == 65);
    CHECK(contains(result.err, (dir / "missing").string()));
  }
  SUBCASE("one of the three") {
    write_clean_history(dir.path());
    fs::remove_all(dir / "data_migration_repo");
    const Result result = run_tandem({"check"}, dir.path());
    CHECK(result.exit_code == 65);
    CHECK(contains(result.err, "data_migration_repo"));
  }
}

TEST_CASE("check: --format json is an array of findings with file, line and code") {
  const Result result =
      check_version_002(unit_with("  - sql: \"UPDATE accounts SET email = ''\"\n"), "", "", {"--format", "json"});
  CHECK(result.exit_code == 1);
  const nlohmann::json findings = nlohmann::json::parse(result.out);  // throws, failing the test, unless valid JSON
  REQUIRE(findings.is_array());
  REQUIRE(findings.size() == 1);
  CHECK(findings[0]["file"] == "expand_repo/002_change.yaml");
  CHECK(findings[0]["line"] == 3);
  CHECK(findings[0]["code"] == "data-in-expand");
  CHECK(findings[0]["severity"] == "error");
  CHECK(contains(findings[0]["message"].get<std::string>(), "version 002"));

  TempDir clean;
  write_clean_history(clean.path());
  const Result none = run_tandem({"check", "--format", "json"}, clean.path());
  CHECK(none.exit_code == 0);
  CHECK(nlohmann::json::parse(none.out) == nlohmann::json::array());
}

TEST_CASE("check: --format json stays valid JSON when a unit is not UTF-8") {
  const Result result = check_version_002(
      unit_with("  - add_column: {table: \"t\xe9\", column: {name: x, type: text}}\n"), "", "", {"--format", "json"});
  INFO(result.all());
  CHECK(result.exit_code == 1);
  const nlohmann::json findings = nlohmann::json::parse(result.out);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0]["code"] == "bad-identifier");
}

TEST_CASE("check: --format github writes workflow commands") {
  TempDir dir;
  write_clean_history(dir.path());
  write_version(dir.path(), "002", "change", unit_with("  - sql: \"UPDATE accounts SET email = ''\"\n"), "", "");
  write_file(dir / "expand_repo/003-bad.yaml", "description: misnamed\noperations: []\n");
  const Result result = run_tandem({"check", "--format", "github"}, dir.path());
  INFO(result.out);
  CHECK(result.exit_code == 65);
  CHECK(contains(result.out, "::error file=expand_repo/002_change.yaml,line=3::data-in-expand: version 002"));
  // A finding without a line points at the file's first line.
  CHECK(contains(result.out, "::error file=expand_repo/003-bad.yaml,line=1::bad-file-name:"));
}

TEST_CASE("new: creates the next version as placeholders that check accepts") {
  TempDir dir;
  const Result first = run_tandem({"new", "first_step"}, dir.path());
  INFO(first.all());
  CHECK(first.exit_code == 0);
  CHECK(contains(first.out, "created expand_repo/001_first_step.yaml"));
  CHECK(contains(first.out, "created data_migration_repo/001_first_step.yaml"));
  CHECK(contains(first.out, "created contract_repo/001_first_step.yaml"));

  write_file(dir / "expand_repo/001_first_step.yaml", kCreateAccounts);
  const Result second = run_tandem({"new", "second"}, dir.path());
  CHECK(second.exit_code == 0);
  for (const char* repo : {"expand_repo", "data_migration_repo", "contract_repo"}) {
    const std::string text = read_file(dir / repo / "002_second.yaml");
    CHECK(contains(text, "operations: []"));
    CHECK(contains(text, "description: second"));
  }
  const Result check = run_tandem({"check"}, dir.path());
  INFO(check.all());
  CHECK(check.exit_code == 0);
  CHECK(contains(check.out, "check: 0 errors, 0 warnings"));
}

TEST_CASE("new: keeps the width of existing version numbers") {
  TempDir dir;
  write_version(dir.path(), "0009", "ninth", "", "", "");
  const Result result = run_tandem({"new", "tenth", "--repos", dir.path().string()}, dir.path());
  CHECK(result.exit_code == 0);
  CHECK(fs::exists(dir / "contract_repo/0010_tenth.yaml"));
  CHECK(run_tandem({"check"}, dir.path()).exit_code == 0);
}

TEST_CASE("new: a bad name exits 64 and writes nothing") {
  TempDir dir;
  write_clean_history(dir.path());
  std::vector<std::string> args;
  SUBCASE("upper case and a dash") { args = {"new", "Bad-Name"}; }
  SUBCASE("a path") { args = {"new", "../escape"}; }
  SUBCASE("a space") { args = {"new", "two words"}; }
  SUBCASE("no name") { args = {"new"}; }
  SUBCASE("two names") { args = {"new", "one", "two"}; }
  const Result result = run_tandem(args, dir.path());
  INFO(result.all());
  CHECK(result.exit_code == 64);
  CHECK(contains(result.err, "tandem: error:"));
  for (const char* repo : {"expand_repo", "data_migration_repo", "contract_repo"})
    CHECK(std::distance(fs::directory_iterator(dir / repo), fs::directory_iterator()) == 1);
}

TEST_CASE("new: refuses to add to a repository that does not load") {
  TempDir dir;
  write_clean_history(dir.path());
  write_file(dir / "expand_repo/001_accounts.yaml", "description: [broken\n");
  const Result result = run_tandem({"new", "next"}, dir.path());
  CHECK(result.exit_code == 65);
  CHECK(contains(result.err, "expand_repo/001_accounts.yaml"));
  CHECK_FALSE(fs::exists(dir / "expand_repo/002_next.yaml"));
}

TEST_CASE("check: dropping a column that no migrate unit reads is a warning, by whole word") {
  const std::string add_columns = unit_with(
      "  - add_column: {table: accounts, column: {name: blob, type: text}}\n"
      "  - add_column: {table: accounts, column: {name: key_hash, type: text}}\n"
      "  - add_column: {table: accounts, column: {name: key_hash_v2, type: text}}\n"
      "  - add_column: {table: accounts, column: {name: blob_v2, type: text}}\n");
  const std::string migrate = unit_with(
      "  - sql: {sqlite: \"UPDATE accounts SET blob_v2 = blob\", postgresql: \"UPDATE accounts SET blob_v2 = blob\"}\n"
      "  - backfill: {table: accounts, set: {key_hash_v2: \"'fixed'\"}}\n");
  const std::string contract = unit_with(
      "  - drop_column: {table: accounts, column: blob}\n"
      "  - drop_column: {table: accounts, column: key_hash}\n");
  const Result result = check_version_002(add_columns, migrate, contract);
  INFO(result.all());
  CHECK(result.exit_code == 0);
  // blob is read by the raw SQL of migrate; key_hash only looks read inside key_hash_v2.
  CHECK_FALSE(contains(result.out, "dropping accounts.blob,"));
  CHECK(has_line_with(result.out, {"contract_repo/002_change.yaml", "warning: drop-unread-column", "accounts.key_hash"}));
}

TEST_CASE("check: add_check warns that MySQL and MariaDB block writes for a table copy") {
  const Result result =
      check_version_002(unit_with("  - add_check: {table: accounts, name: accounts_email_check, expression: \"email <> ''\"}\n"), "", "");
  INFO(result.all());
  CHECK(result.exit_code == 0);
  CHECK(has_line_with(result.out, {"expand_repo/002_change.yaml:3:", "warning: blocking-ddl:", "add_check accounts_email_check",
                                   "MySQL"}));
}

TEST_CASE("check: alter_type warns that a converting type change blocks writes while the table is rewritten") {
  const Result result = check_version_002("", "", unit_with("  - alter_type: {table: accounts, column: email, type: text}\n"));
  INFO(result.all());
  CHECK(result.exit_code == 0);
  CHECK(has_line_with(result.out, {"contract_repo/002_change.yaml:3:", "warning: blocking-ddl:", "alter_type accounts.email",
                                   "rewrites the table"}));
}

TEST_CASE("check: an operation on what the history has not created by then is an error naming file and line") {
  std::string expand, contract, file;
  SUBCASE("drop_column of a column never added") {
    contract = unit_with("  - drop_column: {table: accounts, column: nickname}\n");
    file = "contract_repo/002_change.yaml:3:";
  }
  SUBCASE("add_column to a table that does not exist") {
    expand = unit_with("  - add_column: {table: acounts, column: {name: nickname, type: text}}\n");
    file = "expand_repo/002_change.yaml:3:";
  }
  SUBCASE("drop_index of an index never created") {
    contract = unit_with("  - drop_index: {table: accounts, name: accounts_email_idx}\n");
    file = "contract_repo/002_change.yaml:3:";
  }
  SUBCASE("a column dropped in contract and used again by the next version") {
    contract = unit_with("  - drop_column: {table: accounts, column: email}\n");
    file = "contract_repo/003_again.yaml:3:";
  }
  TempDir dir;
  write_clean_history(dir.path());
  write_version(dir.path(), "002", "change", expand, "", contract);
  if (file.rfind("contract_repo/003", 0) == 0)
    write_version(dir.path(), "003", "again", "", "", unit_with("  - drop_column: {table: accounts, column: email}\n"));
  const Result result = run_tandem({"check"}, dir.path());
  INFO(result.all());
  CHECK(result.exit_code == 1);
  CHECK(has_line_with(result.out, {file, "error: not-in-history:"}));
  CHECK(contains(result.out, "check: 1 error"));
}

TEST_CASE("check: what raw SQL created is not judged, and a column the history added can be dropped") {
  TempDir dir;
  write_clean_history(dir.path());
  write_version(dir.path(), "002", "change",
                unit_with("  - add_column: {table: accounts, column: {name: nickname, type: text}}\n"
                          "  - sql: {sqlite: \"CREATE TABLE audit (id integer)\", abort: \"DROP TABLE audit\"}\n"
                          "  - create_index: {table: audit, name: audit_id_idx, columns: [id]}\n"),
                "", unit_with("  - drop_column: {table: accounts, column: nickname}\n"));
  const Result result = run_tandem({"check"}, dir.path());
  INFO(result.all());
  CHECK_FALSE(contains(result.out, "not-in-history"));
}
