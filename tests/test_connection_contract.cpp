// The Connection contract (engine/src/dialect/dialect.h), held by every dialect against a
// real database: SQLite always, PostgreSQL and MariaDB on the servers tools/test-servers.sh
// starts (a dialect without its server is skipped loudly, and fails where servers are
// required). Each case runs once per dialect, on a fresh database.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "conformance.h"
#include "dialect/dialect.h"

using namespace tandem;
using namespace tandem::test;

namespace {

std::unique_ptr<Connection> open(const ScratchDatabase& database) { return connect(DatabaseUrl::parse(database.url())); }

// A table every case starts from, in SQL all three dialects read alike.
void create_notes(Connection& connection) {
  connection.execute("CREATE TABLE notes (id integer PRIMARY KEY, body text, n integer)");
}

long long count_notes(Connection& connection) {
  return std::stoll(connection.query("SELECT count(*) FROM notes").at(0).at(0).value_or("-1"));
}

// Values a placeholder must carry as they are: a quote, a space, a backslash, multi-byte
// text, control bytes (no NUL: PostgreSQL text has none), a question mark, nothing, and
// a long one.
const std::vector<std::string> kAwkwardValues = {
    "it's",
    "two words",
    "back\\slash \\' \\\\",
    "żółw 🐢 日本語",
    std::string("\x01\x02\t\n\r\x1a\x1b\x7f end"),
    "what? ?",
    "\"double\" `back` [square]",
    "",
    // Longer than a driver's first buffer.
    std::string(3000, 'x') + " ü " + std::string(3000, 'y'),
};

}  // namespace

TEST_CASE("connection contract: ? placeholders bind outside literals, comments and quoted identifiers") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    auto connection = open(*database);
    // A column whose name holds a question mark, quoted as the dialect quotes identifiers.
    const std::string odd = connection->renderer().quote("we?ird");
    connection->execute("CREATE TABLE marks (id integer PRIMARY KEY, " + odd + " text, body text)");
    CHECK(connection->update("INSERT INTO marks (id, " + odd + ", body) VALUES (?, ?, ?)", {"1", "x", "first"}) == 1);
    CHECK(connection->update("INSERT INTO marks (id, " + odd + ", body) VALUES (?, 'literal ?', ?)", {"2", "second"}) ==
          1);
    const auto rows = connection->query("SELECT id, " + odd +
                                            ", '?', 'it''s ?' /* a ? in a comment */ FROM marks -- and ? here\n"
                                            "WHERE id >= ? AND body <> ? ORDER BY id",
                                        {"1", "?"});
    REQUIRE(rows.size() == 2);
    CHECK(rows[0] == Row{"1", "x", "?", "it's ?"});
    CHECK(rows[1] == Row{"2", "literal ?", "?", "it's ?"});
    // As many values as placeholders, no more, no fewer.
    CHECK_THROWS_AS(connection->query("SELECT id FROM marks WHERE id = ? AND body = ?", {"1"}), Error);
    CHECK_THROWS_AS(connection->query("SELECT id FROM marks WHERE id = ?", {"1", "2"}), Error);
    CHECK_THROWS_AS(connection->query("SELECT '?' FROM marks WHERE id = 1", {"1"}), Error);
  }
}

TEST_CASE("connection contract: values go through placeholders byte for byte") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    auto connection = open(*database);
    create_notes(*connection);
    for (size_t i = 0; i < kAwkwardValues.size(); ++i)
      REQUIRE(connection->update("INSERT INTO notes (id, body) VALUES (?, ?)", {std::to_string(i + 1), kAwkwardValues[i]}) == 1);
    const auto rows = connection->query("SELECT id, body FROM notes ORDER BY id");
    REQUIRE(rows.size() == kAwkwardValues.size());
    for (size_t i = 0; i < kAwkwardValues.size(); ++i) {
      CAPTURE(kAwkwardValues[i]);
      CHECK(rows[i] == Row{std::to_string(i + 1), kAwkwardValues[i]});
      // The server compares the bound value with what it stored: equal, not just alike.
      CHECK(connection->query("SELECT id FROM notes WHERE body = ?", {kAwkwardValues[i]}) ==
            std::vector<Row>{{std::to_string(i + 1)}});
    }
    // What the server stored is the value itself, as its own literal spells it.
    CHECK(connection->query("SELECT id FROM notes WHERE body = " + connection->renderer().literal("it's")) ==
          std::vector<Row>{{"1"}});
    CHECK(connection->query("SELECT id FROM notes WHERE body = " + connection->renderer().literal("back\\slash \\' \\\\")) ==
          std::vector<Row>{{"3"}});
  }
}

TEST_CASE("connection contract: NULL binds and reads back as nullopt") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    auto connection = open(*database);
    create_notes(*connection);
    CHECK(connection->update("INSERT INTO notes (id, body, n) VALUES (?, ?, ?)", {"1", std::nullopt, std::nullopt}) == 1);
    CHECK(connection->update("INSERT INTO notes (id, body, n) VALUES (?, ?, ?)", {"2", "", "0"}) == 1);
    CHECK(connection->query("SELECT id, body, n FROM notes ORDER BY id") ==
          std::vector<Row>{{"1", std::nullopt, std::nullopt}, {"2", "", "0"}});
    // A NULL parameter is NULL, not the text "NULL" nor an empty string.
    CHECK(connection->query("SELECT id FROM notes WHERE body IS NULL") == std::vector<Row>{{"1"}});
    CHECK(connection->query("SELECT count(*) FROM notes WHERE body = ?", {std::nullopt}) == std::vector<Row>{{"0"}});
    CHECK(connection->update("UPDATE notes SET body = ? WHERE id = ?", {std::nullopt, "2"}) == 1);
    CHECK(connection->update("UPDATE notes SET body = ? WHERE id = ?", {"NULL", "1"}) == 1);
    CHECK(connection->query("SELECT id, body FROM notes ORDER BY id") ==
          std::vector<Row>{{"1", "NULL"}, {"2", std::nullopt}});
  }
}

TEST_CASE("connection contract: integers and text, and the row counts of query and update") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    auto connection = open(*database);
    create_notes(*connection);
    for (int i = 1; i <= 5; ++i)
      CHECK(connection->update("INSERT INTO notes (id, body, n) VALUES (?, ?, ?)",
                               {std::to_string(i), "row " + std::to_string(i), std::to_string(i * 10 - 30)}) == 1);
    // Integers compare as numbers (10 > 9), negatives included, and read back as their digits.
    CHECK(connection->query("SELECT id, n FROM notes WHERE n > ? ORDER BY id", {"9"}) == std::vector<Row>{{"4", "10"}, {"5", "20"}});
    CHECK(connection->query("SELECT n FROM notes WHERE id = ?", {"1"}) == std::vector<Row>{{"-20"}});
    CHECK(connection->query("SELECT n + ? FROM notes WHERE id = ?", {"5", "2"}) == std::vector<Row>{{"-5"}});
    CHECK(connection->query("SELECT body FROM notes WHERE body LIKE ? ORDER BY id", {"row 4%"}) == std::vector<Row>{{"row 4"}});
    CHECK(connection->query("SELECT id FROM notes WHERE id > ?", {"5"}).empty());
    CHECK(connection->query("SELECT id FROM notes ORDER BY id").size() == 5);
    // update() counts the rows matched, also where a value does not change.
    CHECK(connection->update("UPDATE notes SET body = body WHERE id <= ?", {"3"}) == 3);
    CHECK(connection->update("UPDATE notes SET n = ? WHERE id > ?", {"7", "100"}) == 0);
    CHECK(connection->update("DELETE FROM notes WHERE n < ?", {"0"}) == 2);
    CHECK(count_notes(*connection) == 3);
  }
}

TEST_CASE("connection contract: begin, commit and rollback") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    auto connection = open(*database);
    create_notes(*connection);
    auto other = open(*database);
    connection->begin();
    connection->update("INSERT INTO notes (id, body) VALUES (?, ?)", {"1", "rolled back"});
    CHECK(count_notes(*connection) == 1);
    connection->rollback();
    CHECK(count_notes(*connection) == 0);
    CHECK(count_notes(*other) == 0);

    connection->begin();
    connection->update("INSERT INTO notes (id, body) VALUES (?, ?)", {"2", "committed"});
    connection->commit();
    CHECK(count_notes(*other) == 1);
    CHECK(other->query("SELECT body FROM notes") == std::vector<Row>{{"committed"}});
  }
}

TEST_CASE("connection contract: execute runs exactly one statement") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    auto connection = open(*database);
    create_notes(*connection);
    CHECK_THROWS_AS(connection->execute("INSERT INTO notes (id) VALUES (1); INSERT INTO notes (id) VALUES (2)"), Error);
    // Refused, never run: not even the first.
    CHECK(count_notes(*connection) == 0);
    // A ';' in a literal or a comment, and a trailing ';' and comment, are one statement.
    connection->execute("INSERT INTO notes (id, body) VALUES (1, 'a; b') /* ; */; -- done");
    CHECK(connection->query("SELECT body FROM notes") == std::vector<Row>{{"a; b"}});
  }
}

TEST_CASE("connection contract: is_already_applied knows an effect that is already there") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    auto connection = open(*database);
    create_notes(*connection);
    const std::string index = "CREATE INDEX notes_n_idx ON notes (n)";
    connection->execute(index);
    const std::vector<std::string> applied = {index, "ALTER TABLE notes DROP COLUMN missing",
                                              "ALTER TABLE notes ADD COLUMN body text"};
    for (const auto& sql : applied) {
      CAPTURE(sql);
      try {
        connection->execute(sql);
        FAIL("ran twice without an error");
      } catch (const Error& error) {
        CHECK(error.sql() == std::optional<std::string>(sql));
        CHECK(connection->is_already_applied(error));
        CHECK_FALSE(connection->is_lock_timeout(error));
      }
    }
    // A statement that fails for what it is, not for having run before.
    connection->execute("INSERT INTO notes (id) VALUES (1)");
    try {
      connection->execute("INSERT INTO notes (id) VALUES (1)");
      FAIL("a duplicate primary key was inserted");
    } catch (const Error& error) {
      CHECK_FALSE(connection->is_already_applied(error));
      CHECK_FALSE(connection->is_lock_timeout(error));
    }
  }
}

TEST_CASE("connection contract: is_lock_timeout knows a lost lock wait") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    auto connection = open(*database);
    create_notes(*connection);
    connection->update("INSERT INTO notes (id, body) VALUES (?, ?)", {"1", "before"});
    // An open transaction that wrote the row: a row lock on the servers, SQLite's write lock.
    auto holder = open(*database);
    holder->begin();
    CHECK(holder->update("UPDATE notes SET body = ? WHERE id = ?", {"held", "1"}) == 1);
    connection->set_lock_timeout(std::chrono::milliseconds(100));
    const auto started = std::chrono::steady_clock::now();
    try {
      connection->update("UPDATE notes SET body = ? WHERE id = ?", {"waiting", "1"});
      FAIL("the update did not wait for the lock");
    } catch (const Error& error) {
      CHECK(connection->is_lock_timeout(error));
      CHECK_FALSE(connection->is_already_applied(error));
    }
    // SQLite waits out its own busy time (set_lock_timeout does not shorten it), the servers much less.
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
    holder->rollback();
    CHECK(connection->update("UPDATE notes SET body = ? WHERE id = ?", {"after", "1"}) == 1);
    CHECK(holder->query("SELECT body FROM notes") == std::vector<Row>{{"after"}});
  }
}

TEST_CASE("connection contract: the run lock is held until its RunLock goes away") {
  for (const auto& database : scratch_databases()) {
    CAPTURE(database->dialect());
    auto first = open(*database);
    auto second = open(*database);
    {
      const auto held = first->lock(std::chrono::seconds(0), "contract-suite holder 4242");
      try {
        second->lock(std::chrono::seconds(0), "contract-suite waiter");
        FAIL("a second lock was granted while the first was held");
      } catch (const Error& error) {
        CHECK(error.kind() == ErrorKind::lock_held);
        CHECK_MESSAGE(std::string(error.what()).find("contract-suite holder 4242") != std::string::npos, error.what());
      }
    }
    // Released with the RunLock: the next one is granted without waiting.
    const auto again = second->lock(std::chrono::seconds(0), "contract-suite waiter");
    CHECK(again != nullptr);
  }
}
