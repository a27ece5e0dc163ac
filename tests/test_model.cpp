// The declared model: strict model files, normalization per dialect, and the
// inspect / compare / verify commands against real databases (DESIGN §9).
#include <doctest/doctest.h>

#include <cstdlib>
#include <map>

#include "conformance.h"
#include "model/normalize.h"
#include "support.h"
#include "tandem/error.h"
#include "tandem/model.h"

namespace fs = std::filesystem;
using namespace tandem;
using namespace tandem::test;

namespace {

const fs::path kSource = TANDEM_SOURCE_DIR;

// The error load_model throws for `text`, as "line: message".
std::string model_error(const std::string& text) {
  TempDir dir;
  write_file(dir / "main.yaml", text);
  try {
    load_model(dir / "main.yaml");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::invalid_unit);
    CHECK(error.file() == (dir / "main.yaml").string());
    return std::to_string(error.line()) + ": " + error.what();
  }
  return "no error";
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Result compare(const std::string& url, const std::string& role, const fs::path& model = kSource / "model") {
  return run_tandem({"compare", "--db", url, "--database", role, "--model", model.string()});
}

// The server's admin URL for a dialect, or "" for SQLite.
std::string admin_url(const std::string& dialect) {
  const char* variable = dialect == "postgresql" ? "TANDEM_TEST_POSTGRESQL_URL"
                         : dialect == "mysql"    ? "TANDEM_TEST_MYSQL_URL"
                                                 : nullptr;
  const char* value = variable ? std::getenv(variable) : nullptr;
  return value ? value : "";
}

}  // namespace

TEST_CASE("model files are read strictly, with file and line") {
  CHECK(model_error("tables:\n  - name: a\n    columns:\n      - {name: id, type: integer, colour: red}\n") ==
        "4: column: unknown key 'colour'");
  CHECK(model_error("tables: []\nviews: []\n") == "2: model: unknown key 'views'");
  CHECK(model_error("tables:\n  - name: a\n    columns:\n      - {name: id, type: decimal(10,2)}\n") ==
        "4: column: unknown key '2)': quote a type with a comma, as in type: \"decimal(10,2)\"");
  CHECK(model_error("tables:\n  - name: a\n    columns: [{name: id, type: integer}]\n"
                    "    indexes: [{name: a_x_idx, columns: [x]}]\n") ==
        "4: an index of table a names column 'x' that the table does not declare");
  CHECK(model_error("tables:\n  - name: a\n    columns: [{name: id, type: integer}]\n"
                    "    foreign_keys:\n      - {columns: [id], references: {table: b, columns: [id]}}\n") ==
        "5: a foreign key of table a references table 'b' that the model does not declare");
  CHECK(model_error("tables:\n  - name: a\n    columns: [{name: id, type: integer}]\n"
                    "  - name: a\n    columns: [{name: id, type: integer}]\n") ==
        "4: table a is declared twice (also at line 2)");
  CHECK(model_error("tables:\n  - name: a\n    columns: [{name: id, type: integer, autoincrement: true}]\n") ==
        "3: column a.id is autoincrement but not the primary key");
  CHECK(model_error("tables:\n  - name: a\n    columns: [{name: id, type: integer}]\n"
                    "    foreign_keys:\n      - {columns: [id], references: {table: a, columns: [id]}, on_delete: "
                    "explode}\n") ==
        "5: foreign key a_id_fkey: on_delete must be cascade, set null, restrict, no action or set default, not "
        "'explode'");
  CHECK(model_error("tables:\n  - name: a\n    columns: [{name: id, type: integer}]\n    shadow: true\n"
                    "  - name: shadow_a\n    columns: [{name: id, type: integer}]\n") ==
        "5: table shadow_a is declared twice (also at line 4)");
}

TEST_CASE("shadow: true declares shadow_<name> with the table's columns and nothing else") {
  TempDir dir;
  write_file(dir / "main.yaml",
             "tables:\n  - name: items\n    columns:\n"
             "      - {name: id, type: integer, primary_key: true, autoincrement: true}\n"
             "      - {name: name, type: string(64), nullable: false, default: \"'x'\"}\n"
             "    unique: [[name]]\n    shadow: true\n");
  const auto model = load_model(dir / "main.yaml");
  REQUIRE(model.tables.size() == 2);
  const auto& shadow = model.tables[1];
  CHECK(shadow.name == "shadow_items");
  CHECK(shadow.columns.size() == 2);
  CHECK(shadow.columns[0].primary_key);
  CHECK_FALSE(shadow.columns[0].autoincrement);
  CHECK(shadow.columns[1].default_value == "'x'");
  CHECK(shadow.unique_constraints.empty());
  CHECK(model.tables[0].unique_constraints.at(0).name == "items_name_key");
  // Written back, the shadow table folds into its flag again.
  CHECK(model_yaml(model).find("shadow: true") != std::string::npos);
  CHECK(model_yaml(model).find("shadow_items") == std::string::npos);
}

TEST_CASE("types are compared in each dialect's one spelling") {
  const auto& sqlite = normalizer_for(DialectKind::sqlite);
  const auto& postgresql = normalizer_for(DialectKind::postgresql);
  const auto& mysql = normalizer_for(DialectKind::mysql);
  CHECK(postgresql.canonical_type("string(64)") == postgresql.canonical_type("character varying(64)"));
  CHECK(postgresql.canonical_type("integer") == postgresql.canonical_type("int4"));
  CHECK(postgresql.canonical_type("boolean") == postgresql.canonical_type("bool"));
  CHECK(postgresql.canonical_type("datetime") == postgresql.canonical_type("timestamp without time zone"));
  CHECK(postgresql.canonical_type("decimal(10,2)") == postgresql.canonical_type("numeric(10, 2)"));
  CHECK(mysql.canonical_type("integer") == mysql.canonical_type("int(11)"));
  CHECK(mysql.canonical_type("boolean") == mysql.canonical_type("tinyint(1)"));
  CHECK(mysql.canonical_type("tinyint(4)") != mysql.canonical_type("boolean"));
  CHECK(mysql.canonical_type("enum(ssh,x509)") == mysql.canonical_type("enum('ssh','x509')"));
  CHECK(sqlite.canonical_type("bigint") == sqlite.canonical_type("INTEGER"));
  CHECK(sqlite.canonical_type("smallint") == sqlite.canonical_type("integer"));
  CHECK(sqlite.canonical_type("string(64)") != sqlite.canonical_type("VARCHAR(255)"));
  CHECK(postgresql.portable_type(postgresql.canonical_type("character varying(64)")) == "string(64)");
  CHECK(mysql.portable_type(mysql.canonical_type("tinyint(1)")) == "boolean");
  CHECK(postgresql.strip_default("'ssh'::keypair_types") == "'ssh'");
  CHECK(postgresql.strip_default("'a::b'::character varying") == "'a::b'");
  CHECK(mysql.strip_default("_utf8mb4'none'") == "'none'");
}

TEST_CASE("defaults, keys and unique indexes compare by meaning") {
  schema::Schema declared, live;
  schema::Table table{"t"};
  table.columns = {{"id", "integer", true, std::nullopt, true, true},
                   {"flag", "boolean", true, std::string("false")},
                   {"price", "decimal(10,2)", false, std::string("0")},
                   {"name", "string(10)", true, std::string("NULL")}};
  table.indexes = {{"t_name_idx", {"name"}, true}};
  declared.tables = {table};
  schema::Table reported{"t"};
  reported.columns = {{"id", "int(11)", false, std::nullopt, true, true},
                      {"flag", "tinyint(1)", true, std::string("0")},
                      {"price", "decimal(10,2)", false, std::string("'0.00'")},
                      {"name", "varchar(10)", true, std::nullopt}};
  reported.unique_constraints = {{"name", {"name"}}};
  live.tables = {reported};
  const auto& mysql = normalizer_for(DialectKind::mysql);
  schema::DiffOptions options;
  options.detect_renames = false;
  options.match_by_content = true;
  const auto changes = schema::diff(model::canonical(declared, mysql), model::canonical(live, mysql), options);
  for (const auto& change : changes) INFO(change.describe());
  CHECK(changes.empty());
}

TEST_CASE("the bundled history has no drift, and each hand-made change is reported alone and exactly") {
  auto cells = scratch_databases();
  auto apis = scratch_databases();
  for (size_t i = 0; i < cells.size(); ++i) {
    const std::string dialect = cells[i]->dialect();
    const std::string cell = cells[i]->url(), api = apis[i]->url();
    CAPTURE(dialect);
    // The history moves rows between the cell and api databases: one deployment of both.
    TempDir deployment;
    write_file(deployment / "tandem.yaml", "repos: " + kSource.string() + "\ndatabases:\n  api: " + api +
                                               "\n  cells:\n    cell1: " + cell + "\n");
    const Result upgraded = run_tandem({"upgrade"}, deployment.path());
    REQUIRE_MESSAGE(upgraded.exit_code == 0, upgraded.all());
    const auto clean_cell = compare(cell, "cell");
    CHECK_MESSAGE(clean_cell.exit_code == 0, clean_cell.all());
    CHECK(clean_cell.out.empty());
    const auto clean_api = compare(api, "api");
    CHECK_MESSAGE(clean_api.exit_code == 0, clean_api.all());

    const bool sqlite = dialect == "sqlite", postgresql = dialect == "postgresql";
    // SQLite cannot alter a column or a constraint in place: those changes edit the
    // table's CREATE statement, as a hand-made rebuild would leave it.
    auto edit_sqlite = [](const std::string& table, const std::string& from, const std::string& to) {
      return "PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = replace(sql, '" + from + "', '" + to +
             "') WHERE name = '" + table + "'; PRAGMA writable_schema = OFF";
    };
    auto by_dialect = [&](const std::string& for_sqlite, const std::string& for_postgresql, const std::string& for_mysql) {
      return sqlite ? for_sqlite : postgresql ? for_postgresql : for_mysql;
    };
    struct Case {
      std::string what;
      std::string role;
      std::vector<std::string> change;
      std::vector<std::string> undo;
      std::string expected;
    };
    const std::vector<Case> cases = {
        {"an extra column", "cell", {"ALTER TABLE instances ADD COLUMN note VARCHAR(10)"},
         {"ALTER TABLE instances DROP COLUMN note"},
         "cell: table instances: column note is in the database but not in the model"},
        {"a missing column", "cell", {"ALTER TABLE instances DROP COLUMN vm_state"},
         {"ALTER TABLE instances ADD COLUMN vm_state VARCHAR(255)"},
         "cell: table instances: column vm_state is in the model but missing from the database"},
        {"varchar(64) widened to varchar(255)", "api",
         {by_dialect(edit_sqlite("credentials", "\"key_hash\" VARCHAR(64)", "\"key_hash\" VARCHAR(255)"),
                     "ALTER TABLE credentials ALTER COLUMN key_hash TYPE varchar(255)",
                     "ALTER TABLE credentials MODIFY key_hash varchar(255) NOT NULL")},
         {by_dialect(edit_sqlite("credentials", "\"key_hash\" VARCHAR(255)", "\"key_hash\" VARCHAR(64)"),
                     "ALTER TABLE credentials ALTER COLUMN key_hash TYPE varchar(64)",
                     "ALTER TABLE credentials MODIFY key_hash varchar(64) NOT NULL")},
         "api: table credentials: column key_hash differs (model -> database): type varchar(64) -> varchar(255)"},
        {"a nullability change", "cell",
         {by_dialect(edit_sqlite("instances", "\"host\" VARCHAR(255),", "\"host\" VARCHAR(255) NOT NULL,"),
                     "ALTER TABLE instances ALTER COLUMN host SET NOT NULL",
                     "ALTER TABLE instances MODIFY host varchar(255) NOT NULL")},
         {by_dialect(edit_sqlite("instances", "\"host\" VARCHAR(255) NOT NULL,", "\"host\" VARCHAR(255),"),
                     "ALTER TABLE instances ALTER COLUMN host DROP NOT NULL",
                     "ALTER TABLE instances MODIFY host varchar(255) NULL")},
         "cell: table instances: column host differs (model -> database): NULL -> NOT NULL"},
        {"a changed default", "cell",
         {by_dialect(edit_sqlite("compute_nodes", "\"vcpus\" INTEGER NOT NULL DEFAULT 0", "\"vcpus\" INTEGER NOT NULL DEFAULT 1"),
                     "ALTER TABLE compute_nodes ALTER COLUMN vcpus SET DEFAULT 1",
                     "ALTER TABLE compute_nodes ALTER COLUMN vcpus SET DEFAULT 1")},
         {by_dialect(edit_sqlite("compute_nodes", "\"vcpus\" INTEGER NOT NULL DEFAULT 1", "\"vcpus\" INTEGER NOT NULL DEFAULT 0"),
                     "ALTER TABLE compute_nodes ALTER COLUMN vcpus SET DEFAULT 0",
                     "ALTER TABLE compute_nodes ALTER COLUMN vcpus SET DEFAULT 0")},
         "cell: table compute_nodes: column vcpus differs (model -> database): default 0 -> 1"},
        {"a missing index", "cell",
         {by_dialect("DROP INDEX instances_project_id_deleted_idx", "DROP INDEX instances_project_id_deleted_idx",
                     "DROP INDEX instances_project_id_deleted_idx ON instances")},
         {"CREATE INDEX instances_project_id_deleted_idx ON instances (project_id, deleted)"},
         "cell: table instances: index instances_project_id_deleted_idx (project_id, deleted) is in the model but "
         "missing from the database"},
        {"an extra unique constraint", "cell",
         {by_dialect("CREATE UNIQUE INDEX compute_nodes_uuid_deleted_key ON compute_nodes (uuid, deleted)",
                     "ALTER TABLE compute_nodes ADD CONSTRAINT compute_nodes_uuid_deleted_key UNIQUE (uuid, deleted)",
                     "ALTER TABLE compute_nodes ADD CONSTRAINT compute_nodes_uuid_deleted_key UNIQUE (uuid, deleted)")},
         {by_dialect("DROP INDEX compute_nodes_uuid_deleted_key",
                     "ALTER TABLE compute_nodes DROP CONSTRAINT compute_nodes_uuid_deleted_key",
                     "DROP INDEX compute_nodes_uuid_deleted_key ON compute_nodes")},
         "cell: table compute_nodes: unique constraint compute_nodes_uuid_deleted_key (uuid, deleted) is in the "
         "database but not in the model"},
        {"a foreign key whose on-delete changed", "cell",
         sqlite ? std::vector<std::string>{edit_sqlite("instance_extra", "REFERENCES \"instances\" (\"uuid\")",
                                                       "REFERENCES \"instances\" (\"uuid\") ON DELETE CASCADE")}
                : std::vector<std::string>{by_dialect("", "ALTER TABLE instance_extra DROP CONSTRAINT instance_extra_instance_uuid_fkey",
                                                      "ALTER TABLE instance_extra DROP FOREIGN KEY instance_extra_instance_uuid_fkey"),
                                           "ALTER TABLE instance_extra ADD CONSTRAINT instance_extra_instance_uuid_fkey "
                                           "FOREIGN KEY (instance_uuid) REFERENCES instances (uuid) ON DELETE CASCADE"},
         sqlite ? std::vector<std::string>{edit_sqlite("instance_extra", " ON DELETE CASCADE", "")}
                : std::vector<std::string>{by_dialect("", "ALTER TABLE instance_extra DROP CONSTRAINT instance_extra_instance_uuid_fkey",
                                                      "ALTER TABLE instance_extra DROP FOREIGN KEY instance_extra_instance_uuid_fkey"),
                                           "ALTER TABLE instance_extra ADD CONSTRAINT instance_extra_instance_uuid_fkey "
                                           "FOREIGN KEY (instance_uuid) REFERENCES instances (uuid)"},
         "cell: table instance_extra: foreign key instance_extra_instance_uuid_fkey differs (model -> database): on "
         "delete no action -> cascade"},
        {"a shadow table missing a column", "cell", {"ALTER TABLE shadow_instances DROP COLUMN vm_state"},
         {"ALTER TABLE shadow_instances ADD COLUMN vm_state VARCHAR(255)"},
         "cell: table shadow_instances: column vm_state is in the model but missing from the database"},
        {"a tandem trigger left behind", "cell",
         {by_dialect("CREATE TRIGGER tandem_002_instances_leftover AFTER INSERT ON instances BEGIN SELECT 1; END",
                     "CREATE FUNCTION tandem_002_instances_leftover() RETURNS trigger LANGUAGE plpgsql AS "
                     "$$BEGIN RETURN NEW; END$$; CREATE TRIGGER tandem_002_instances_leftover BEFORE INSERT ON instances "
                     "FOR EACH ROW EXECUTE FUNCTION tandem_002_instances_leftover()",
                     "CREATE TRIGGER tandem_002_instances_leftover BEFORE INSERT ON instances FOR EACH ROW "
                     "SET @tandem_leftover = 1")},
         {by_dialect("DROP TRIGGER tandem_002_instances_leftover",
                     "DROP TRIGGER tandem_002_instances_leftover ON instances; DROP FUNCTION tandem_002_instances_leftover()",
                     "DROP TRIGGER tandem_002_instances_leftover")},
         "cell: table instances: tandem trigger tandem_002_instances_leftover left behind"},
    };
    for (const auto& item : cases) {
      CAPTURE(item.what);
      const std::string url = item.role == "api" ? api : cell;
      for (const auto& sql : item.change) execute(url, sql);
      const auto drift = compare(url, item.role);
      CHECK(drift.exit_code == 1);
      CHECK(lines(drift.out) == std::vector<std::string>{item.expected});
      for (const auto& sql : item.undo) execute(url, sql);
      const auto undone = compare(url, item.role);
      CHECK_MESSAGE(undone.exit_code == 0, undone.all());
    }
    const auto json = run_tandem({"compare", "--db", cell, "--database", "cell", "--model", (kSource / "model").string(),
                                  "--format", "json"});
    CHECK(json.exit_code == 0);
    CHECK(json.out.find("\"drift\": 0") != std::string::npos);
  }
}

TEST_CASE("inspect then compare reports nothing: enum, booleans, json, decimal, composite key, long index name") {
  // 64 bytes: longer than PostgreSQL keeps (it cuts at 63), as long as MySQL allows.
  const std::string long_index = "transfers_amount_and_account_region_for_the_monthly_report_index";
  REQUIRE(long_index.size() == 64);
  TempDir dir;
  write_file(dir / "declared" / "main.yaml",
             "tables:\n"
             "  - name: accounts\n"
             "    columns:\n"
             "      - {name: id, type: integer, primary_key: true, autoincrement: true}\n"
             "      - {name: region, type: string(16), nullable: false}\n"
             "      - {name: number, type: integer, nullable: false}\n"
             "      - {name: kind, type: \"enum(basic,premium)\", nullable: false, default: \"'basic'\"}\n"
             "      - {name: active, type: boolean, nullable: false, default: \"true\"}\n"
             "      - {name: verified, type: boolean, default: \"false\"}\n"
             "      - {name: settings, type: json}\n"
             "      - {name: balance, type: \"decimal(10,2)\", nullable: false, default: \"0\"}\n"
             "    unique: [[region, number]]\n"
             "  - name: transfers\n"
             "    columns:\n"
             "      - {name: id, type: bigint, primary_key: true}\n"
             "      - {name: account_region, type: string(16)}\n"
             "      - {name: account_number, type: integer}\n"
             "      - {name: amount, type: \"decimal(10,2)\"}\n"
             "    indexes:\n"
             "      - {name: " + long_index + ", columns: [amount, account_region]}\n"
             "    foreign_keys:\n"
             "      - {name: transfers_account_fkey, columns: [account_region, account_number],\n"
             "         references: {table: accounts, columns: [region, number]}, on_delete: cascade}\n");
  const std::map<std::string, std::string> ddl = {
      {"sqlite",
       "CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, region VARCHAR(16) NOT NULL, number INTEGER NOT "
       "NULL, kind TEXT NOT NULL DEFAULT 'basic' CHECK (kind IN ('basic', 'premium')), active BOOLEAN NOT NULL DEFAULT "
       "TRUE, verified BOOLEAN DEFAULT 0, settings TEXT, balance NUMERIC(10,2) NOT NULL DEFAULT 0.00, "
       "UNIQUE (region, number));"
       "CREATE TABLE transfers (id INTEGER PRIMARY KEY, account_region VARCHAR(16), account_number INTEGER, amount "
       "NUMERIC(10,2), CONSTRAINT transfers_account_fkey FOREIGN KEY (account_region, account_number) REFERENCES "
       "accounts (region, number) ON DELETE CASCADE);"
       "CREATE INDEX " + long_index + " ON transfers (amount, account_region)"},
      {"postgresql",
       "CREATE TYPE account_kind AS ENUM ('basic', 'premium');"
       "CREATE TABLE accounts (id serial PRIMARY KEY, region character varying(16) NOT NULL, number int4 NOT NULL, "
       "kind account_kind NOT NULL DEFAULT 'basic', active bool NOT NULL DEFAULT true, verified boolean DEFAULT false, "
       "settings jsonb, balance numeric(10, 2) NOT NULL DEFAULT 0, UNIQUE (region, number));"
       "CREATE TABLE transfers (id bigint PRIMARY KEY, account_region varchar(16), account_number integer, amount "
       "decimal(10,2), CONSTRAINT transfers_account_fkey FOREIGN KEY (account_region, account_number) REFERENCES "
       "accounts (region, number) ON DELETE CASCADE);"
       "CREATE INDEX " + long_index + " ON transfers (amount, account_region)"},
      {"mysql",
       "CREATE TABLE accounts (id int(11) AUTO_INCREMENT PRIMARY KEY, region varchar(16) NOT NULL, number int NOT NULL, "
       "kind enum('basic','premium') NOT NULL DEFAULT 'basic', active bool NOT NULL DEFAULT 1, verified tinyint(1) "
       "DEFAULT '0', settings json, balance decimal(10,2) NOT NULL DEFAULT 0, UNIQUE KEY (region, number));"
       "CREATE TABLE transfers (id bigint(20) PRIMARY KEY, account_region varchar(16), account_number int, amount "
       "decimal(10,2), CONSTRAINT transfers_account_fkey FOREIGN KEY (account_region, account_number) REFERENCES "
       "accounts (region, number) ON DELETE CASCADE);"
       "CREATE INDEX " + long_index + " ON transfers (amount, account_region)"}};
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    execute(database->url(), ddl.at(database->dialect()));
    const auto declared = compare(database->url(), "main", dir / "declared");
    CHECK_MESSAGE(declared.exit_code == 0, declared.all());
    const auto inspected = run_tandem({"inspect", "--db", database->url()});
    REQUIRE_MESSAGE(inspected.exit_code == 0, inspected.all());
    CHECK(inspected.out.find("enum(basic,premium)") != std::string::npos);
    CHECK(inspected.out.find("type: \"decimal(10,2)\"") != std::string::npos);
    write_file(dir / database->dialect() / "main.yaml", inspected.out);
    const auto round_trip = compare(database->url(), "main", dir / database->dialect());
    CHECK_MESSAGE(round_trip.exit_code == 0, std::string(inspected.out + round_trip.all()));
    CHECK(round_trip.out.empty());
    const auto as_json = run_tandem({"inspect", "--db", database->url(), "--format", "json"});
    CHECK(as_json.exit_code == 0);
    CHECK(as_json.out.find("\"transfers_account_fkey\"") != std::string::npos);
  }
}

TEST_CASE("verify applies the bundled history to scratch databases and finds the model") {
  std::vector<std::string> servers = {""};
  for (const char* dialect : {"postgresql", "mysql"})
    if (!admin_url(dialect).empty()) servers.push_back(admin_url(dialect));
  for (const auto& server : servers) {
    CAPTURE(redact_passwords(server));
    std::vector<std::string> args = {"verify", "--repos", kSource.string()};
    if (!server.empty()) args.insert(args.end(), {"--dev-db", server});
    const auto passed = run_tandem(args);
    CHECK_MESSAGE(passed.exit_code == 0, passed.all());
    CHECK(passed.out.find("verify: the migrations produce the model for api, cell") != std::string::npos);

    // A model that says otherwise fails, naming the difference on both tables it touches.
    TempDir dir;
    std::string cell = read_file(kSource / "model" / "cell.yaml");
    const std::string from = "{name: vm_state, type: string(255)}";
    REQUIRE(cell.find(from) != std::string::npos);
    cell.replace(cell.find(from), from.size(), "{name: vm_state, type: string(64)}");
    write_file(dir / "model" / "cell.yaml", cell);
    write_file(dir / "model" / "api.yaml", read_file(kSource / "model" / "api.yaml"));
    args.insert(args.end(), {"--model", (dir / "model").string()});
    const auto failed = run_tandem(args);
    CHECK(failed.exit_code == 1);
    const auto out = lines(failed.out);
    REQUIRE(out.size() == 3);
    CHECK(out[0] == "cell: table instances: column vm_state differs (model -> database): type varchar(64) -> varchar(255)");
    CHECK(out[1] ==
          "cell: table shadow_instances: column vm_state differs (model -> database): type varchar(64) -> varchar(255)");
  }
}

TEST_CASE("verify refuses a role the units use without a model") {
  TempDir dir;
  write_file(dir / "model" / "cell.yaml", read_file(kSource / "model" / "cell.yaml"));
  const auto result = run_tandem({"verify", "--repos", kSource.string(), "--model", (dir / "model").string()});
  CHECK(result.exit_code == 65);
  CHECK(result.err.find("changes databases of role 'api', but the model folder") != std::string::npos);
}
