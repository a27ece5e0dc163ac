// `tandem new NAME --from-model` (DESIGN §18): the units it writes for each kind of model
// change pass check, and verify then finds the model, on SQLite and on the test servers.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "conformance.h"
#include "support.h"

namespace fs = std::filesystem;
using namespace tandem::test;

namespace {

// Version 001: three tables, one of them with a foreign key, a unique constraint and an index.
const char* const kHistory = R"Y(description: base
operations:
  - create_table:
      name: accounts
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: email, type: string(255)}
        - {name: name, type: string(64)}
      indexes:
        - {name: accounts_email_idx, columns: [email]}
  - create_table:
      name: notes
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: account_id, type: integer}
        - {name: body, type: text}
  - create_table:
      name: memberships
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: account_id, type: integer, references: accounts.id}
        - {name: team, type: string(32)}
      unique:
        - [team]
)Y";

// What version 001 builds, as the model declares it.
const char* const kModel = R"Y(tables:
  - name: accounts
    columns:
      - {name: id, type: integer, primary_key: true}
      - {name: email, type: string(255)}
      - {name: name, type: string(64)}
    indexes:
      - {name: accounts_email_idx, columns: [email]}
  - name: notes
    columns:
      - {name: id, type: integer, primary_key: true}
      - {name: account_id, type: integer}
      - {name: body, type: text}
  - name: memberships
    columns:
      - {name: id, type: integer, primary_key: true}
      - {name: account_id, type: integer}
      - {name: team, type: string(32)}
    unique:
      - [team]
    foreign_keys:
      - {columns: [account_id], references: {table: accounts, columns: [id]}}
)Y";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  return text.replace(at, from.size(), to);
}

// One kind of model change and what the units written for it must hold.
struct ModelChange {
  std::string name;
  std::string model;
  std::vector<std::string> expand, migrate, contract;  // each must appear in that unit
};

std::vector<ModelChange> model_changes() {
  const std::string accounts_name = "      - {name: name, type: string(64)}\n";
  return {
      {"new table",
       std::string(kModel) + R"Y(  - name: tags
    columns:
      - {name: id, type: integer, primary_key: true}
      - {name: account_id, type: integer, nullable: false}
      - {name: label, type: string(32), nullable: false, default: "'a \"quoted\" label'"}
    indexes:
      - {name: tags_account_idx, columns: [account_id]}
    unique:
      - [label]
    foreign_keys:
      - {columns: [account_id], references: {table: accounts, columns: [id]}, on_delete: cascade}
)Y",
       {"create_table:", "name: tags", "references: \"accounts.id\", on_delete: cascade", "tags_account_idx", "- [label]",
        R"(default: "'a \"quoted\" label'")"},
       {"operations: []"},
       {"operations: []"}},
      {"new nullable column", replaced(kModel, accounts_name, accounts_name + "      - {name: nickname, type: text}\n"),
       {"add_column: {table: accounts, column: {name: nickname, type: text}}"},
       {"operations: []"},
       {"operations: []"}},
      {"new NOT NULL column without a default",
       replaced(kModel, accounts_name, accounts_name + "      - {name: status, type: string(16), nullable: false}\n"),
       {"add_column: {table: accounts, column: {name: status, type: \"string(16)\"}}", "added nullable"},
       {"operations: []", "#  - backfill: {table: accounts, set: {status: \"<SQL expression>\"}, where: \"status IS NULL\"}"},
       {"set_not_null: {table: accounts, column: status}"}},
      {"new NOT NULL column with a default",
       replaced(kModel, accounts_name,
                accounts_name + "      - {name: kind, type: string(16), nullable: false, default: \"'it''s plain'\"}\n"),
       {"add_column: {table: accounts, column: {name: kind, type: \"string(16)\", nullable: false, default: \"'it''s plain'\"}}"},
       {"operations: []"},
       {"operations: []"}},
      {"new index",
       replaced(kModel, "      - {name: body, type: text}\n",
                "      - {name: body, type: text}\n    indexes:\n      - {name: notes_account_idx, columns: [account_id]}\n"),
       {"create_index: {table: notes, name: notes_account_idx, columns: [account_id]}"},
       {"operations: []"},
       {"operations: []"}},
      {"new unique constraint",
       replaced(kModel, "      - {name: accounts_email_idx, columns: [email]}\n",
                "      - {name: accounts_email_idx, columns: [email]}\n    unique:\n      - [email]\n"),
       {"add_unique: {table: accounts, name: accounts_email_key, columns: [email]}"},
       {"operations: []"},
       {"operations: []"}},
      {"new foreign key",
       replaced(kModel, "      - {name: body, type: text}\n",
                "      - {name: body, type: text}\n    foreign_keys:\n"
                "      - {columns: [account_id], references: {table: accounts, columns: [id]}}\n"),
       {"add_foreign_key: {table: notes, name: notes_account_id_fkey, columns: [account_id], references: {table: "
        "accounts, columns: [id]}}"},
       {"operations: []"},
       {"operations: []"}},
      {"dropped column", replaced(kModel, "      - {name: body, type: text}\n", ""),
       {"operations: []"},
       {"operations: []"},
       {"drop_column: {table: notes, column: body}"}},
      {"dropped table",
       replaced(kModel, "  - name: notes\n    columns:\n      - {name: id, type: integer, primary_key: true}\n"
                        "      - {name: account_id, type: integer}\n      - {name: body, type: text}\n",
                ""),
       {"operations: []"},
       {"operations: []"},
       {"drop_table: {name: notes}"}},
      {"dropped index", replaced(kModel, "    indexes:\n      - {name: accounts_email_idx, columns: [email]}\n", ""),
       {"operations: []"},
       {"operations: []"},
       {"drop_index: {table: accounts, name: accounts_email_idx}"}},
      {"dropped unique constraint", replaced(kModel, "    unique:\n      - [team]\n", ""),
       {"operations: []"},
       {"operations: []"},
       {"drop_constraint: {table: memberships, name: memberships_team_key}"}},
      {"dropped foreign key",
       replaced(kModel, "    foreign_keys:\n      - {columns: [account_id], references: {table: accounts, columns: [id]}}\n", ""),
       {"operations: []"},
       {"operations: []"},
       {"drop_constraint: {table: memberships, name: memberships_account_id_fkey}"}},
      {"type change", replaced(kModel, accounts_name, "      - {name: name, type: string(128)}\n"),
       {"operations: []"},
       {"operations: []"},
       {"alter_type: {table: accounts, column: name, type: \"string(128)\"}"}},
      {"nullable to NOT NULL",
       replaced(kModel, "      - {name: email, type: string(255)}\n", "      - {name: email, type: string(255), nullable: false}\n"),
       {"operations: []"},
       {"#  - backfill: {table: accounts, set: {email: \"<SQL expression>\"}, where: \"email IS NULL\"}"},
       {"set_not_null: {table: accounts, column: email}"}},
  };
}

std::string unit_file(const fs::path& root, const std::string& folder) {
  return read_file(root / folder / "002_change.yaml");
}

// Writes the history and the model, runs new --from-model, and demands that check passes
// and that verify (on SQLite, or on `dev_db`) finds the model.
void write_and_verify(const ModelChange& change, const std::string& dev_db) {
  CAPTURE(change.name);
  TempDir dir;
  write_version(dir.path(), "001", "base", kHistory, "", "");
  write_file(dir / "model" / "main.yaml", change.model);
  const auto made = run_tandem({"new", "change", "--from-model", "--repos", dir.path().string()}, dir.path());
  REQUIRE_MESSAGE(made.exit_code == 0, made.all());
  const std::string expand = unit_file(dir.path(), "expand_repo");
  const std::string migrate = unit_file(dir.path(), "data_migration_repo");
  const std::string contract = unit_file(dir.path(), "contract_repo");
  INFO("expand:\n" << expand << "migrate:\n" << migrate << "contract:\n" << contract);
  for (const auto& part : change.expand) CHECK_MESSAGE(contains(expand, part), part);
  for (const auto& part : change.migrate) CHECK_MESSAGE(contains(migrate, part), part);
  for (const auto& part : change.contract) CHECK_MESSAGE(contains(contract, part), part);
  for (const auto* text : {&expand, &migrate, &contract}) CHECK(contains(*text, "database: main\n"));

  const auto checked = run_tandem({"check", "--repos", dir.path().string()}, dir.path());
  CHECK_MESSAGE(checked.exit_code == 0, checked.all());
  CHECK_MESSAGE(contains(checked.out, "check: 0 errors"), checked.all());
  std::vector<std::string> verify = {"verify", "--repos", dir.path().string()};
  if (!dev_db.empty()) verify.insert(verify.end(), {"--dev-db", dev_db});
  const auto verified = run_tandem(verify, dir.path());
  CHECK_MESSAGE(verified.exit_code == 0, verified.all());

  // Once written, the history is the model: a second run has nothing to do.
  const auto again = run_tandem({"new", "again", "--from-model", "--repos", dir.path().string()}, dir.path());
  CHECK_MESSAGE(again.exit_code == 0, again.all());
  CHECK_MESSAGE(contains(again.out, "nothing to write"), again.all());
}

void verify_change(const std::string& name) {
  for (const auto& change : model_changes())
    if (change.name == name) return write_and_verify(change, "");
  FAIL("no model change named " << name);
}

}  // namespace

TEST_CASE("new --from-model: a new table") { verify_change("new table"); }
TEST_CASE("new --from-model: a new nullable column") { verify_change("new nullable column"); }
TEST_CASE("new --from-model: a new NOT NULL column without a default") { verify_change("new NOT NULL column without a default"); }
TEST_CASE("new --from-model: a new NOT NULL column with a default") { verify_change("new NOT NULL column with a default"); }
TEST_CASE("new --from-model: a new index") { verify_change("new index"); }
TEST_CASE("new --from-model: a new unique constraint") { verify_change("new unique constraint"); }
TEST_CASE("new --from-model: a new foreign key") { verify_change("new foreign key"); }
TEST_CASE("new --from-model: a dropped column") { verify_change("dropped column"); }
TEST_CASE("new --from-model: a dropped table") { verify_change("dropped table"); }
TEST_CASE("new --from-model: a dropped index") { verify_change("dropped index"); }
TEST_CASE("new --from-model: a dropped unique constraint") { verify_change("dropped unique constraint"); }
TEST_CASE("new --from-model: a dropped foreign key") { verify_change("dropped foreign key"); }
TEST_CASE("new --from-model: a type change") { verify_change("type change"); }
TEST_CASE("new --from-model: nullable to NOT NULL") { verify_change("nullable to NOT NULL"); }

TEST_CASE("new --from-model: every kind of change passes verify on PostgreSQL and MariaDB") {
  for (const std::string dialect : {"postgresql", "mysql"}) {
    const std::string server = test_server_url(dialect);
    if (server.empty()) continue;
    CAPTURE(dialect);
    for (const auto& change : model_changes()) write_and_verify(change, server);
  }
}

TEST_CASE("new --from-model: a column dropped while another is added is not taken for a rename") {
  TempDir dir;
  write_version(dir.path(), "001", "base", kHistory, "", "");
  write_file(dir / "model" / "main.yaml",
             replaced(kModel, "      - {name: name, type: string(64)}\n", "      - {name: full_name, type: string(64)}\n"));
  const auto made = run_tandem({"new", "change", "--from-model", "--repos", dir.path().string()}, dir.path());
  REQUIRE_MESSAGE(made.exit_code == 0, made.all());
  const std::string expand = unit_file(dir.path(), "expand_repo");
  const std::string contract = unit_file(dir.path(), "contract_repo");
  INFO("expand:\n" << expand << "contract:\n" << contract);
  CHECK(contains(expand, "add_column: {table: accounts, column: {name: full_name, type: \"string(64)\"}}"));
  CHECK(contains(contract, "drop_column: {table: accounts, column: name}"));
  for (const auto* text : {&expand, &contract}) {
    CHECK(contains(*text, "does not guess a rename"));
    CHECK(contains(*text, "#   expand:   - sync_column: {table: accounts, old: name, new: full_name}"));
    CHECK(contains(*text, "#   migrate:  - backfill: {table: accounts, set: {full_name: name}"));
    CHECK_FALSE(contains(*text, "  - rename_column"));
  }
  const auto checked = run_tandem({"check", "--repos", dir.path().string()}, dir.path());
  CHECK_MESSAGE(checked.exit_code == 0, checked.all());
  const auto verified = run_tandem({"verify", "--repos", dir.path().string()}, dir.path());
  CHECK_MESSAGE(verified.exit_code == 0, verified.all());
}

TEST_CASE("new --from-model: --dry-run prints the three units and writes nothing") {
  TempDir dir;
  write_version(dir.path(), "001", "base", kHistory, "", "");
  write_file(dir / "model" / "main.yaml", replaced(kModel, "      - {name: body, type: text}\n", ""));
  const auto shown = run_tandem({"new", "change", "--from-model", "--dry-run", "--repos", dir.path().string()}, dir.path());
  CHECK_MESSAGE(shown.exit_code == 0, shown.all());
  CHECK(contains(shown.out, "expand_repo/002_change.yaml (not written)"));
  CHECK(contains(shown.out, "data_migration_repo/002_change.yaml (not written)"));
  CHECK(contains(shown.out, "contract_repo/002_change.yaml (not written)"));
  CHECK(contains(shown.out, "drop_column: {table: notes, column: body}"));
  for (const std::string folder : {"expand_repo", "data_migration_repo", "contract_repo"})
    CHECK_FALSE(fs::exists(dir / folder / "002_change.yaml"));
}

TEST_CASE("new --from-model: a model that is what the history builds writes nothing") {
  TempDir dir;
  write_version(dir.path(), "001", "base", kHistory, "", "");
  write_file(dir / "model" / "main.yaml", kModel);
  const auto result = run_tandem({"new", "change", "--from-model", "--repos", dir.path().string()}, dir.path());
  CHECK_MESSAGE(result.exit_code == 0, result.all());
  CHECK(contains(result.out, "the model is what the history builds; nothing to write"));
  for (const std::string folder : {"expand_repo", "data_migration_repo", "contract_repo"})
    CHECK_FALSE(fs::exists(dir / folder / "002_change.yaml"));

  // The bundled history and its model, two roles: nothing either.
  const auto bundled = run_tandem({"new", "change", "--from-model", "--dry-run", "--repos", TANDEM_SOURCE_DIR}, dir.path());
  CHECK_MESSAGE(bundled.exit_code == 0, bundled.all());
  CHECK(contains(bundled.out, "nothing to write"));
}

TEST_CASE("new --from-model: a table raw sql made is known from a scratch SQLite build, and its new column written") {
  TempDir dir;
  write_version(dir.path(), "001", "base", kHistory, "", "");
  write_version(dir.path(), "002", "audit",
                unit_with("  - sql: {sqlite: \"CREATE TABLE audit (id integer PRIMARY KEY, note varchar(40))\", abort: "
                          "\"DROP TABLE audit\"}\n"),
                "", "");
  write_file(dir / "model" / "main.yaml",
             std::string(kModel) + "  - name: audit\n    columns:\n      - {name: id, type: integer, primary_key: true}\n"
                                   "      - {name: note, type: string(40)}\n      - {name: seen, type: integer}\n");
  const auto result = run_tandem({"new", "seen", "--from-model", "--repos", dir.path().string()}, dir.path());
  REQUIRE_MESSAGE(result.exit_code == 0, result.all());
  // Only the column the model adds: the table raw SQL made is not written again.
  const std::string expand = read_file(dir / "expand_repo" / "003_seen.yaml");
  CHECK_MESSAGE(contains(expand, "add_column"), expand);
  CHECK(contains(expand, "table: audit"));
  CHECK(contains(expand, "seen"));
  CHECK_FALSE(contains(expand, "create_table"));
  const std::string contract = read_file(dir / "contract_repo" / "003_seen.yaml");
  CHECK_MESSAGE(contains(contract, "operations: []"), contract);
  const auto check = run_tandem({"check", "--repos", dir.path().string()}, dir.path());
  CHECK_MESSAGE(check.exit_code == 0, check.all());
  const auto verify = run_tandem({"verify", "--repos", dir.path().string()}, dir.path());
  CHECK_MESSAGE(verify.exit_code == 0, verify.all());
}

TEST_CASE("new --from-model: raw sql with no SQLite text is named, and nothing is written") {
  TempDir dir;
  write_version(dir.path(), "001", "base", kHistory, "", "");
  write_version(dir.path(), "002", "audit",
                unit_with("  - sql: {mysql: \"CREATE TABLE audit (id integer)\", abort: \"DROP TABLE audit\"}\n"), "", "");
  write_file(dir / "model" / "main.yaml", kModel);
  const auto result = run_tandem({"new", "change", "--from-model", "--repos", dir.path().string()}, dir.path());
  CHECK(result.exit_code == 65);
  CHECK_MESSAGE(contains(result.err, "expand_repo/002_audit.yaml:3"), result.all());
  CHECK(contains(result.err, "did not build on a scratch SQLite database"));
  CHECK_FALSE(fs::exists(dir / "expand_repo" / "003_change.yaml"));
}

TEST_CASE("new --from-model: changes in two roles go into one unit per phase, each operation on its role") {
  TempDir dir;
  write_version(dir.path(), "001", "base", kHistory, "", "");
  write_file(dir / "model" / "main.yaml",
             replaced(replaced(kModel, "      - {name: body, type: text}\n", ""), "      - {name: name, type: string(64)}\n",
                      "      - {name: name, type: string(64)}\n      - {name: nickname, type: text}\n"));
  write_file(dir / "model" / "api.yaml",
             "tables:\n  - name: projects\n    columns:\n      - {name: id, type: integer, primary_key: true}\n"
             "      - {name: title, type: text, nullable: false}\n");
  const auto made = run_tandem({"new", "change", "--from-model", "--repos", dir.path().string()}, dir.path());
  REQUIRE_MESSAGE(made.exit_code == 0, made.all());
  const std::string expand = unit_file(dir.path(), "expand_repo");
  const std::string contract = unit_file(dir.path(), "contract_repo");
  INFO("expand:\n" << expand << "contract:\n" << contract);
  CHECK(contains(expand, "database: api\noperations:\n  - create_table:\n      name: projects\n"));
  CHECK(contains(expand, "\n  - database: main\n    add_column: {table: accounts, column: {name: nickname, type: text}}\n"));
  CHECK(contains(contract, "database: main\noperations:\n  - drop_column: {table: notes, column: body}\n"));
  const auto checked = run_tandem({"check", "--repos", dir.path().string()}, dir.path());
  CHECK_MESSAGE(checked.exit_code == 0, checked.all());
  const auto verified = run_tandem({"verify", "--repos", dir.path().string()}, dir.path());
  CHECK_MESSAGE(verified.exit_code == 0, verified.all());
}

TEST_CASE("new --from-model: shadow tables change with their table, by the table's own operations") {
  TempDir dir;
  write_version(dir.path(), "001", "base",
                unit_with("  - create_table:\n      name: things\n      columns:\n"
                          "        - {name: id, type: integer, primary_key: true}\n"
                          "        - {name: deleted, type: integer, default: \"0\"}\n"
                          "        - {name: old_note, type: text}\n      shadow: true\n"),
                "", "");
  write_file(dir / "model" / "main.yaml",
             "tables:\n  - name: things\n    columns:\n      - {name: id, type: integer, primary_key: true}\n"
             "      - {name: deleted, type: integer, default: \"0\"}\n      - {name: size, type: integer}\n"
             "    shadow: true\n"
             "  - name: boxes\n    columns:\n      - {name: id, type: integer, primary_key: true, autoincrement: true}\n"
             "    shadow: true\n");
  const auto made = run_tandem({"new", "change", "--from-model", "--repos", dir.path().string()}, dir.path());
  REQUIRE_MESSAGE(made.exit_code == 0, made.all());
  const std::string expand = unit_file(dir.path(), "expand_repo");
  const std::string contract = unit_file(dir.path(), "contract_repo");
  INFO("expand:\n" << expand << "contract:\n" << contract);
  CHECK(contains(expand, "add_column: {table: things, column: {name: size, type: integer}}"));
  CHECK_FALSE(contains(expand, "shadow_things"));
  CHECK(contains(expand, "name: boxes\n"));
  CHECK(contains(expand, "      shadow: true"));
  CHECK_FALSE(contains(expand, "shadow_boxes"));
  CHECK(contains(contract, "drop_column: {table: things, column: old_note}"));
  CHECK_FALSE(contains(contract, "shadow_things"));
  const auto checked = run_tandem({"check", "--repos", dir.path().string()}, dir.path());
  CHECK_MESSAGE(checked.exit_code == 0, checked.all());
  const auto verified = run_tandem({"verify", "--repos", dir.path().string()}, dir.path());
  CHECK_MESSAGE(verified.exit_code == 0, verified.all());
}
