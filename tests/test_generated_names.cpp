// Names tandem makes up (constraints, indexes, enum types, shadow tables) stay within the
// server's limit (63 bytes on PostgreSQL, 64 on MySQL): long ones are shortened with a
// hash, so a unit with long table and column names applies whole, and the live schema
// still matches the model (issue 10 item 6).
#include <doctest/doctest.h>

#include "conformance.h"

using namespace tandem::test;

namespace {

// 56 bytes: shadow_<it> is 63, what PostgreSQL keeps.
const std::string kTable = "customer_subscription_renewal_reminders_sent_by_the_team";
const std::string kColumn = "external_reference_of_the_reminder";

}  // namespace

TEST_CASE("conformance: generated names longer than the server allows are shortened, and the unit applies whole") {
  REQUIRE(kTable.size() == 56);
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    TempDir repos;
    write_version(repos.path(), "001", "long_names",
                  "description: long generated names\noperations:\n"
                  "  - create_table:\n      name: owners_of_the_reminders\n      columns:\n"
                  "        - {name: id, type: integer, primary_key: true}\n"
                  "  - create_table:\n      name: " + kTable + "\n      shadow: true\n      columns:\n"
                  "        - {name: id, type: integer, primary_key: true}\n"
                  "        - {name: " + kColumn + ", type: string(32), unique: true}\n"
                  "        - {name: owner_of_the_reminder, type: integer, references: owners_of_the_reminders.id}\n"
                  "        - {name: delivery_channel_of_the_reminder, type: \"enum(mail,text)\"}\n"
                  "      unique: [[owner_of_the_reminder, delivery_channel_of_the_reminder]]\n"
                  "  - add_column:\n      table: " + kTable + "\n"
                  "      column: {name: second_reference_of_the_reminder, type: string(32), unique: true}\n"
                  "  - add_column:\n      table: " + kTable + "\n"
                  "      column: {name: second_owner_of_the_reminder, type: integer, references: owners_of_the_reminders.id}\n",
                  "", "");
    auto expand = run_phase("expand", database->url(), repos.path());
    REQUIRE_MESSAGE(expand.exit_code == 0, expand.all());
    const auto live = snapshot(database->url());
    const auto* table = live.find_table(kTable);
    REQUIRE(table != nullptr);
    CHECK(live.find_table("shadow_" + kTable) != nullptr);
    CHECK(table->foreign_keys.size() == 2);
    size_t unique = table->unique_constraints.size();
    for (const auto& index : table->indexes) unique += index.unique ? 1 : 0;
    CHECK(unique == 3);
    if (database->dialect() != "sqlite") {  // SQLite keeps names of any length
      const size_t limit = database->dialect() == "mysql" ? 64 : 63;
      for (const auto& index : table->indexes) CHECK(index.name.size() <= limit);
      for (const auto& constraint : table->unique_constraints) CHECK(constraint.name.size() <= limit);
      for (const auto& key : table->foreign_keys) CHECK(key.name.size() <= limit);
    }
    // The unique columns refuse duplicates: the constraints are there under their short names.
    execute(database->url(), "INSERT INTO owners_of_the_reminders (id) VALUES (1)");
    execute(database->url(), "INSERT INTO " + kTable + " (id, " + kColumn + ") VALUES (1, 'a')");
    CHECK_THROWS(execute(database->url(), "INSERT INTO " + kTable + " (id, " + kColumn + ") VALUES (2, 'a')"));

    write_file(repos / "model" / "main.yaml",
               "tables:\n  - name: owners_of_the_reminders\n    columns:\n"
               "      - {name: id, type: integer, primary_key: true}\n"
               "  - name: " + kTable + "\n    shadow: true\n    columns:\n"
               "      - {name: id, type: integer, primary_key: true}\n"
               "      - {name: " + kColumn + ", type: string(32)}\n"
               "      - {name: owner_of_the_reminder, type: integer}\n"
               "      - {name: delivery_channel_of_the_reminder, type: \"enum(mail,text)\"}\n"
               "      - {name: second_reference_of_the_reminder, type: string(32)}\n"
               "      - {name: second_owner_of_the_reminder, type: integer}\n"
               "    unique: [[" + kColumn + "], [owner_of_the_reminder, delivery_channel_of_the_reminder], "
               "[second_reference_of_the_reminder]]\n"
               "    foreign_keys:\n"
               "      - {columns: [owner_of_the_reminder], references: {table: owners_of_the_reminders, columns: [id]}}\n"
               "      - {columns: [second_owner_of_the_reminder], references: {table: owners_of_the_reminders, columns: [id]}}\n");
    const auto compared =
        run_tandem({"compare", "--db", database->url(), "--database", "main", "--model", (repos / "model").string()});
    CHECK_MESSAGE(compared.exit_code == 0, compared.all());
  }
}

TEST_CASE("check: a name the unit gives longer than 63 bytes is an error with file and line") {
  TempDir repos;
  const std::string name(64, 'x');
  write_version(repos.path(), "001", "long_name",
                "description: a long index name\noperations:\n"
                "  - create_table:\n      name: t\n      columns:\n        - {name: id, type: integer, primary_key: true}\n"
                "  - create_index: {table: t, name: " + name + ", columns: [id]}\n",
                "", "");
  const auto result = run_tandem({"check", "--repos", repos.path().string()});
  CHECK(result.exit_code != 0);
  CHECK_MESSAGE(result.all().find("001_long_name.yaml:7: error: bad-identifier") != std::string::npos, result.all());
}
