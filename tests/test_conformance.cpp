// Every operation, the sync triggers and the state store, run through the CLI and
// checked through the dialect interface, on every available dialect.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>

#include "conformance.h"

using namespace tandem::test;
namespace schema = tandem::schema;

namespace {

const char* kBase = R"Y(description: base schema
operations:
  - create_table:
      name: parents
      shadow: true
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: name, type: string(64), nullable: false}
        - {name: kind, type: "enum(small,large)", default: "'small'"}
        - {name: active, type: boolean, default: "true"}
        - {name: price, type: "decimal(10,2)"}
        - {name: data, type: json}
        - {name: created_at, type: datetime}
        - {name: deleted, type: integer, nullable: false, default: "0"}
      unique: [[name, deleted]]
      indexes:
        - {name: parents_kind_idx, columns: [kind]}
  - create_table:
      name: children
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: parent_id, type: integer, references: parents.id, on_delete: cascade}
        - {name: label, type: string(32)}
)Y";

struct Repo {
  TempDir dir;
  int next = 1;
  Repo() { add("base", kBase, "", ""); }
  void add(const std::string& name, const std::string& expand, const std::string& migrate, const std::string& contract) {
    char version[8];
    std::snprintf(version, sizeof version, "%03d", next++);
    write_version(dir.path(), version, name, expand, migrate, contract);
  }
};

void require_ok(const Result& result) { REQUIRE_MESSAGE(result.exit_code == 0, result.all()); }

const schema::Table& table_of(const schema::Schema& s, const std::string& name) {
  const auto* table = s.find_table(name);
  REQUIRE_MESSAGE(table != nullptr, "no table " << name);
  return *table;
}

bool has_unique(const schema::Table& table, const std::vector<std::string>& columns) {
  return std::any_of(table.unique_constraints.begin(), table.unique_constraints.end(),
                     [&](const auto& u) { return u.columns == columns; }) ||
         std::any_of(table.indexes.begin(), table.indexes.end(),
                     [&](const auto& i) { return i.unique && i.columns == columns; });
}

}  // namespace

TEST_CASE("conformance: create_table with constraints, indexes and a shadow") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    Repo repo;
    require_ok(run_phase("upgrade", database->url(), repo.dir.path()));
    const auto s = snapshot(database->url());
    const auto& parents = table_of(s, "parents");
    CHECK(parents.find_column("name")->nullable == false);
    CHECK(parents.find_column("kind")->nullable == true);
    CHECK(parents.primary_key() == std::vector<std::string>{"id"});
    CHECK(has_unique(parents, {"name", "deleted"}));
    REQUIRE(parents.find_index("parents_kind_idx") != nullptr);
    CHECK(parents.find_index("parents_kind_idx")->columns == std::vector<std::string>{"kind"});
    const auto& children = table_of(s, "children");
    REQUIRE(children.foreign_keys.size() == 1);
    CHECK(children.foreign_keys[0].referenced_table == "parents");
    CHECK(children.foreign_keys[0].columns == std::vector<std::string>{"parent_id"});
    CHECK(children.foreign_keys[0].on_delete == "cascade");
    const auto& shadow = table_of(s, "shadow_parents");
    CHECK(shadow.columns.size() == parents.columns.size());
    CHECK(shadow.foreign_keys.empty());
    // The enum refuses values outside its list.
    execute(database->url(), "INSERT INTO parents (id, name, kind) VALUES (1, 'a', 'large')");
    CHECK_THROWS(execute(database->url(), "INSERT INTO parents (id, name, kind) VALUES (2, 'b', 'huge')"));
  }
}

TEST_CASE("conformance: expand operations") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    Repo repo;
    repo.add("expand_all", R"Y(description: every additive operation
operations:
  - add_column: {table: parents, column: {name: note, type: text, nullable: false, default: "'none'"}}
  - add_column: {table: children, column: {name: other_id, type: integer}}
  - create_index: {table: children, name: children_label_idx, columns: [label]}
  - add_unique: {table: children, name: children_label_key, columns: [label, parent_id]}
  - add_foreign_key:
      table: children
      name: children_other_fkey
      columns: [other_id]
      references: {table: parents, columns: [id]}
      on_delete: set null
  - add_check: {table: children, name: children_label_check, expression: "label <> ''"}
  - create_view: {name: parent_names, sql: "SELECT id, name FROM parents"}
  - set_nullable: {table: parents, column: name}
)Y",
             "", "");
    require_ok(run_phase("upgrade", database->url(), repo.dir.path(), {"--to", "1"}));
    execute(database->url(), "INSERT INTO parents (id, name) VALUES (1, 'p')");
    execute(database->url(), "INSERT INTO children (id, parent_id, label) VALUES (10, 1, 'c')");
    require_ok(run_phase("expand", database->url(), repo.dir.path()));
    const auto s = snapshot(database->url());
    const auto& parents = table_of(s, "parents");
    CHECK(parents.find_column("note") != nullptr);
    CHECK(parents.find_column("name")->nullable == true);
    CHECK(table_of(s, "shadow_parents").find_column("note") != nullptr);
    const auto& children = table_of(s, "children");
    CHECK(children.find_index("children_label_idx") != nullptr);
    CHECK(has_unique(children, {"label", "parent_id"}));
    CHECK(children.foreign_keys.size() == 2);
    CHECK(s.find_view("parent_names") != nullptr);
    // Rows survive, the old release's INSERT without the new column still works, and
    // the new constraints hold.
    CHECK(query_rows(database->url(), "SELECT id, parent_id, label FROM children") == std::vector<std::string>{"10|1|c"});
    CHECK(query_rows(database->url(), "SELECT note FROM parents WHERE id = 1") == std::vector<std::string>{"none"});
    execute(database->url(), "INSERT INTO parents (id, name) VALUES (2, 'q')");
    CHECK_THROWS(execute(database->url(), "INSERT INTO children (id, parent_id, label) VALUES (11, 1, '')"));
    CHECK_THROWS(execute(database->url(), "INSERT INTO children (id, parent_id, label) VALUES (12, 1, 'c')"));
  }
}

TEST_CASE("conformance: contract operations") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    Repo repo;
    repo.add("prepare", R"Y(description: objects to remove later
operations:
  - create_view: {name: parent_names, sql: "SELECT id, name FROM parents"}
  - add_column: {table: children, column: {name: size, type: string(8)}}
  - add_check: {table: children, name: children_label_check, expression: "label <> ''"}
  - create_table:
      name: leftovers
      columns: [{name: id, type: integer, primary_key: true}]
)Y",
             "", "");
    repo.add("contract_all", "", R"Y(description: fill size before it becomes NOT NULL
operations:
  - backfill: {table: children, set: {size: "'s'"}, where: size IS NULL}
)Y",
             R"Y(description: every contract operation
operations:
  - drop_view: {name: parent_names}
  - drop_index: {table: parents, name: parents_kind_idx}
  - drop_constraint: {table: children, name: children_label_check}
  - drop_column: {table: parents, column: data}
  - rename_column: {table: children, from: label, to: title}
  - set_not_null: {table: children, column: size}
  - alter_type: {table: children, column: size, type: string(64)}
  - drop_table: {name: leftovers}
  - rename_table: {from: children, to: kids}
)Y");
    require_ok(run_phase("upgrade", database->url(), repo.dir.path(), {"--to", "2"}));
    execute(database->url(), "INSERT INTO parents (id, name) VALUES (1, 'p')");
    execute(database->url(), "INSERT INTO children (id, parent_id, label) VALUES (10, 1, 'c')");
    require_ok(run_phase("expand", database->url(), repo.dir.path()));
    require_ok(run_phase("migrate", database->url(), repo.dir.path()));
    require_ok(run_phase("contract", database->url(), repo.dir.path()));
    const auto s = snapshot(database->url());
    CHECK(s.find_view("parent_names") == nullptr);
    CHECK(s.find_table("leftovers") == nullptr);
    CHECK(s.find_table("children") == nullptr);
    const auto& parents = table_of(s, "parents");
    CHECK(parents.find_index("parents_kind_idx") == nullptr);
    CHECK(parents.find_column("data") == nullptr);
    CHECK(table_of(s, "shadow_parents").find_column("data") == nullptr);
    const auto& kids = table_of(s, "kids");
    CHECK(kids.checks.empty());
    CHECK(kids.find_column("title") != nullptr);
    CHECK(kids.find_column("size")->nullable == false);
    CHECK(kids.foreign_keys.size() == 1);
    CHECK(query_rows(database->url(), "SELECT id, parent_id, title, size FROM kids") ==
          std::vector<std::string>{"10|1|c|s"});
    CHECK_THROWS(execute(database->url(), "INSERT INTO kids (id, parent_id, title) VALUES (11, 1, 'x')"));
  }
}

TEST_CASE("conformance: data operations") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    Repo repo;
    repo.add("archive_table", R"Y(description: a copy target
operations:
  - create_table:
      name: parent_copy
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: name, type: string(64)}
)Y",
             R"Y(description: copy, backfill and delete
operations:
  - copy_rows: {from: parents, to: parent_copy, columns: {id: id, name: name}, where: "deleted = 0", on_conflict: skip}
  - copy_rows: {from: parents, to: parent_copy, columns: {id: id, name: "upper(name)"}, on_conflict: update}
  - backfill: {table: children, set: {label: "'child of ' || parent_id"}, where: label IS NULL}
  - delete_rows: {table: children, where: "parent_id = 2"}
)Y",
             "");
    require_ok(run_phase("upgrade", database->url(), repo.dir.path(), {"--to", "1"}));
    execute(database->url(), "INSERT INTO parents (id, name, deleted) VALUES (1, 'a', 0), (2, 'b', 2)");
    execute(database->url(), "INSERT INTO children (id, parent_id) VALUES (10, 1), (20, 2)");
    require_ok(run_phase("expand", database->url(), repo.dir.path()));
    require_ok(run_phase("migrate", database->url(), repo.dir.path()));
    CHECK(query_rows(database->url(), "SELECT id, name FROM parent_copy ORDER BY id") ==
          std::vector<std::string>{"1|A", "2|B"});
    CHECK(query_rows(database->url(), "SELECT id, label FROM children ORDER BY id") ==
          std::vector<std::string>{"10|child of 1"});
  }
}

TEST_CASE("conformance: sync_table mirrors rows one way and both ways without looping") {
  for (bool both_ways : {false, true}) {
    CAPTURE(both_ways);
    for (const auto& database : scratch_databases()) {
      CAPTURE(database->dialect());
      Repo repo;
      repo.add("policies", std::string(R"Y(description: a new table mirrored from parents
operations:
  - create_table:
      name: parent_labels
      columns:
        - {name: parent_id, type: integer, primary_key: true}
        - {name: label, type: string(64)}
  - sync_table:
      from: parents
      to: parent_labels
      key: parent_id
      columns: {parent_id: NEW.id, label: NEW.name}
      both_ways: )Y") + (both_ways ? "true" : "false") + "\n",
               "", "");
      require_ok(run_phase("upgrade", database->url(), repo.dir.path(), {"--to", "1"}));
      require_ok(run_phase("expand", database->url(), repo.dir.path()));
      const auto url = database->url();
      execute(url, "INSERT INTO parents (id, name) VALUES (1, 'one'), (2, 'two')");
      execute(url, "UPDATE parents SET name = 'uno' WHERE id = 1");
      execute(url, "DELETE FROM parents WHERE id = 2");
      CHECK(query_rows(url, "SELECT parent_id, label FROM parent_labels ORDER BY parent_id") ==
            std::vector<std::string>{"1|uno"});
      execute(url, "UPDATE parent_labels SET label = 'eins' WHERE parent_id = 1");
      execute(url, "INSERT INTO parent_labels (parent_id, label) VALUES (3, 'drei')");
      const auto names = query_rows(url, "SELECT id, name FROM parents ORDER BY id");
      if (both_ways)
        CHECK(names == std::vector<std::string>{"1|eins", "3|drei"});
      else
        CHECK(names == std::vector<std::string>{"1|uno"});
      CHECK(query_rows(url, "SELECT count(*) FROM tandem_triggers") == std::vector<std::string>{both_ways ? "6" : "3"});
      require_ok(run_phase("migrate", url, repo.dir.path()));
      require_ok(run_phase("contract", url, repo.dir.path()));
      CHECK(query_rows(url, "SELECT count(*) FROM tandem_triggers") == std::vector<std::string>{"0"});
      const auto s = snapshot(url);
      CHECK(std::none_of(s.triggers.begin(), s.triggers.end(),
                         [](const auto& t) { return schema::is_tandem_trigger(t.name); }));
    }
  }
}

TEST_CASE("conformance: state store records versions, history and checksums") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    Repo repo;
    require_ok(run_phase("expand", database->url(), repo.dir.path()));
    CHECK(query_rows(database->url(), "SELECT phase, version FROM tandem_version ORDER BY phase") ==
          std::vector<std::string>{"contract|0", "expand|1", "migrate|0"});
    const auto history = query_rows(database->url(), "SELECT phase, version, name, status, length(checksum) FROM tandem_history");
    CHECK(history == std::vector<std::string>{"expand|001|base|done|64"});
    // Application schema snapshots leave tandem's own tables out.
    const auto s = snapshot(database->url());
    CHECK(s.find_table("tandem_version") == nullptr);
    CHECK(s.find_table("tandem_history") == nullptr);
  }
}

TEST_CASE("conformance: a second run waits --wait seconds, then exits 75 naming the holder") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    Repo repo;
    // The first run stands after its first step, holding the lock, until released.
    const FailpointHold hold(repo.dir / "hold");
    const int first = spawn_tandem({"expand", "--db", database->url(), "--repos", repo.dir.path().string()},
                                   repo.dir.path(), hold.environment("hold_after_step:1"));
    REQUIRE(hold.wait_reached(first));
    // The lock is per database: another database of the same kind is not held up.
    for (const auto& other : scratch_databases())
      if (other->dialect() == database->dialect()) require_ok(run_phase("expand", other->url(), repo.dir.path()));
    const auto started = std::chrono::steady_clock::now();
    const Result second = run_phase("expand", database->url(), repo.dir.path(), {"--wait", "1"});
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    CHECK(second.exit_code == 75);
    CHECK(second.err.find("holds the lock") != std::string::npos);
    CHECK(second.err.find("pid " + std::to_string(first)) != std::string::npos);
    CHECK(waited >= 1.0);
    hold.release();
    CHECK(wait_for(first) == 0);
    const Result again = run_phase("expand", database->url(), repo.dir.path(), {"--wait", "1"});
    CHECK(again.exit_code == 0);
    CHECK(again.out.find("nothing to do") != std::string::npos);
    CHECK(query_rows(database->url(), "SELECT status FROM tandem_history WHERE phase = 'expand'") ==
          std::vector<std::string>{"done"});
  }
}

TEST_CASE("conformance: sync_table mirrors the rows an ON DELETE CASCADE removes") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    Repo repo;
    repo.add("copy", R"Y(description: children mirrored both ways into a new table
operations:
  - create_table:
      name: child_copy
      columns:
        - {name: child_id, type: integer, primary_key: true}
        - {name: label, type: string(32)}
  - sync_table:
      from: children
      to: child_copy
      key: child_id
      columns: {child_id: NEW.id, label: NEW.label}
      both_ways: true
)Y",
             "", "");
    require_ok(run_phase("expand", database->url(), repo.dir.path()));
    const auto url = database->url();
    execute(url, "INSERT INTO parents (id, name) VALUES (1, 'one'), (2, 'two')");
    execute(url, "INSERT INTO children (id, parent_id, label) VALUES (10, 1, 'a'), (11, 1, 'b'), (20, 2, 'c')");
    execute(url, "UPDATE child_copy SET label = 'C' WHERE child_id = 20");
    CHECK(query_rows(url, "SELECT id, label FROM children ORDER BY id") == std::vector<std::string>{"10|a", "11|b", "20|C"});
    // SQLite enforces foreign keys only where the application turns them on.
    execute(url, std::string(database->dialect() == "sqlite" ? "PRAGMA foreign_keys = ON; " : "") +
                     "DELETE FROM parents WHERE id = 1");
    CHECK(query_rows(url, "SELECT id FROM children") == std::vector<std::string>{"20"});
    CHECK(query_rows(url, "SELECT child_id, label FROM child_copy ORDER BY child_id") == std::vector<std::string>{"20|C"});
  }
}

TEST_CASE("conformance: contract --dry-run says that alter_type rewrites the table and holds its writes, on both servers") {
  for (const char* dialect : {"postgresql", "mysql"}) {
    CAPTURE(dialect);
    const std::string admin = test_server_url(dialect);
    if (admin.empty()) continue;
    auto database = server_scratch(dialect, admin);
    TempDir repos;
    write_version(repos.path(), "001", "widen", R"Y(description: a table
operations:
  - create_table: {name: counters, columns: [{name: id, type: integer, primary_key: true}, {name: hits, type: integer}]}
)Y",
                  "", R"Y(description: wider counts
operations:
  - alter_type: {table: counters, column: hits, type: bigint}
)Y");
    for (const char* phase : {"expand", "migrate"}) {
      const auto ran = run_phase(phase, database->url(), repos.path());
      REQUIRE_MESSAGE(ran.exit_code == 0, ran.all());
    }
    const auto dry = run_phase("contract", database->url(), repos.path(), {"--dry-run"});
    REQUIRE_MESSAGE(dry.exit_code == 0, dry.all());
    CHECK_MESSAGE(has_line_with(dry.out, {"rewrites counters", "writes"}), dry.out);
    CHECK(contains(dry.out, "ALTER TABLE"));
  }
}
