#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sql/sql_text.h"

using tandem::DialectKind;
using tandem::sql::Classification;
using tandem::sql::Statement;
using tandem::sql::StatementClass;

namespace {

constexpr DialectKind kPostgresql = DialectKind::postgresql;
constexpr DialectKind kMysql = DialectKind::mysql;
constexpr DialectKind kSqlite = DialectKind::sqlite;

// PostgreSQL's rules unless a test names another dialect.
std::vector<Statement> split(std::string_view script, DialectKind dialect = kPostgresql) {
  return tandem::sql::split(script, dialect);
}
Classification classify(std::string_view statement, DialectKind dialect = kPostgresql) {
  return tandem::sql::classify(statement, dialect);
}
std::string normalize(std::string_view statement, DialectKind dialect = kPostgresql) {
  return tandem::sql::normalize(statement, dialect);
}

std::vector<std::string> texts(const std::vector<Statement>& statements) {
  std::vector<std::string> out;
  for (const Statement& statement : statements) out.push_back(statement.text);
  return out;
}

StatementClass class_of(const std::string& sql, DialectKind dialect = kPostgresql) { return classify(sql, dialect).cls; }

}  // namespace

TEST_CASE("split: semicolons separate trimmed statements, empty ones are dropped") {
  CHECK(texts(split("CREATE TABLE a (id int);\n  DROP TABLE b ;")) ==
        std::vector<std::string>{"CREATE TABLE a (id int)", "DROP TABLE b"});
  CHECK(texts(split("SELECT 1")) == std::vector<std::string>{"SELECT 1"});
  CHECK(texts(split(";;  ;\n-- nothing here\n/* nor here */;")).empty());
  CHECK(split("").empty());
}

TEST_CASE("split: statements carry the line of their first token") {
  const auto statements = split("-- header\n\n  /* block\n comment */ SELECT 1;\nSELECT\n2; SELECT 3");
  REQUIRE(statements.size() == 3);
  CHECK(statements[0].text == "SELECT 1");
  CHECK(statements[0].line == 4);
  CHECK(statements[1].text == "SELECT\n2");
  CHECK(statements[1].line == 5);
  CHECK(statements[2].line == 6);
}

TEST_CASE("split: line numbers count newlines inside quotes and dollar quotes") {
  const auto statements = split("INSERT INTO t VALUES ('a;\nb');\nCREATE FUNCTION f() AS $$\n;\n$$;\nDROP TABLE x;");
  REQUIRE(statements.size() == 3);
  CHECK(statements[0].line == 1);
  CHECK(statements[1].line == 3);
  CHECK(statements[2].line == 6);
  CHECK(statements[2].text == "DROP TABLE x");
}

TEST_CASE("split: a semicolon in a string does not end the statement") {
  const auto statements = split("SELECT ';'; DROP TABLE x");
  REQUIRE(statements.size() == 2);
  CHECK(statements[0].text == "SELECT ';'");
  CHECK(statements[1].text == "DROP TABLE x");
  CHECK(classify(statements[1].text).cls == StatementClass::contractive);
}

TEST_CASE("split: doubled quotes, double quotes and backticks") {
  CHECK(texts(split("SELECT 'it''s; fine'; SELECT \"a;\"\"b\"; SELECT `c;``d`", kSqlite)) ==
        std::vector<std::string>{"SELECT 'it''s; fine'", "SELECT \"a;\"\"b\"", "SELECT `c;``d`"});
  CHECK(texts(split("SELECT '\"; `'; SELECT \"'; `\"")) ==
        std::vector<std::string>{"SELECT '\"; `'", "SELECT \"'; `\""});
  CHECK(texts(split("SELECT ''; SELECT ''''")) == std::vector<std::string>{"SELECT ''", "SELECT ''''"});
}

TEST_CASE("split: E-strings take backslash escapes, plain strings do not") {
  CHECK(texts(split("SELECT E'a\\';b'; SELECT 2")) == std::vector<std::string>{"SELECT E'a\\';b'", "SELECT 2"});
  CHECK(texts(split("SELECT 'C:\\'; SELECT 2")) == std::vector<std::string>{"SELECT 'C:\\'", "SELECT 2"});
  CHECK(texts(split("SELECT type'x\\'; SELECT 2")) == std::vector<std::string>{"SELECT type'x\\'", "SELECT 2"});
}

TEST_CASE("split: comments hide semicolons and are cut from the ends of statements") {
  const auto statements = split("SELECT 1 /* ; */; -- ;\nDROP TABLE x");
  REQUIRE(statements.size() == 2);
  CHECK(statements[0].text == "SELECT 1");
  CHECK(statements[1].text == "DROP TABLE x");
  CHECK(statements[1].line == 2);
  CHECK(texts(split("SELECT /* keep */ 1 -- trailing\n;")) == std::vector<std::string>{"SELECT /* keep */ 1"});
  CHECK(texts(split("DROP TABLE x -- no semicolon at the end")) == std::vector<std::string>{"DROP TABLE x"});
}

TEST_CASE("split: # is not a comment on PostgreSQL") {
  CHECK(texts(split("SELECT a #> '{b}' FROM t; SELECT 2")) ==
        std::vector<std::string>{"SELECT a #> '{b}' FROM t", "SELECT 2"});
}

TEST_CASE("split: PostgreSQL dollar quoting, with and without tags") {
  const std::string body =
      "CREATE FUNCTION purge() RETURNS void AS $$\nBEGIN\n  DELETE FROM x;\nEND;\n$$ LANGUAGE plpgsql";
  auto statements = split(body + ";\nSELECT 1;");
  REQUIRE(statements.size() == 2);
  CHECK(statements[0].text == body);
  CHECK(statements[1].line == 6);

  const std::string tagged = "CREATE FUNCTION f() RETURNS text AS $fn$ SELECT '$$;'; $body$ ; $fn$ LANGUAGE sql";
  statements = split(tagged + "; SELECT 2");
  REQUIRE(statements.size() == 2);
  CHECK(statements[0].text == tagged);
  CHECK(statements[1].text == "SELECT 2");
}

TEST_CASE("split: $1 parameters and $ inside identifiers are not dollar quotes") {
  CHECK(texts(split("SELECT $1; SELECT $2")) == std::vector<std::string>{"SELECT $1", "SELECT $2"});
  CHECK(texts(split("SELECT a$b$ FROM t; SELECT 2")) == std::vector<std::string>{"SELECT a$b$ FROM t", "SELECT 2"});
}

TEST_CASE("split: unterminated quotes and comments run to the end") {
  CHECK(texts(split("SELECT 'open; DROP TABLE x")) == std::vector<std::string>{"SELECT 'open; DROP TABLE x"});
  CHECK(texts(split("SELECT 1 /* open; DROP TABLE x")) == std::vector<std::string>{"SELECT 1"});
  CHECK(texts(split("SELECT $$ open; DROP TABLE x")) == std::vector<std::string>{"SELECT $$ open; DROP TABLE x"});
}

TEST_CASE("split: SQLite trigger bodies between BEGIN and END stay in one statement") {
  const std::string trigger =
      "CREATE TRIGGER audit AFTER UPDATE ON t\nBEGIN\n"
      "  INSERT INTO log VALUES (CASE WHEN new.a > 0 THEN 'up' ELSE 'down' END);\n"
      "  UPDATE t SET n = n + 1;\nEND";
  const auto statements = split("BEGIN;\n" + trigger + ";\nCOMMIT;");
  REQUIRE(statements.size() == 3);
  CHECK(statements[0].text == "BEGIN");
  CHECK(statements[1].text == trigger);
  CHECK(statements[1].line == 2);
  CHECK(statements[2].text == "COMMIT");
  CHECK(classify(statements[1].text).cls == StatementClass::additive);
}

TEST_CASE("split: temporary triggers and lower-case keywords") {
  const std::string trigger = "create temp trigger t after insert on x begin select case when 1 then 2 end; end";
  CHECK(texts(split(trigger + "; drop table x")) == std::vector<std::string>{trigger, "drop table x"});
}

TEST_CASE("split: MySQL routines with nested blocks and END IF / END CASE") {
  const std::string procedure =
      "CREATE DEFINER=`app`@`%` PROCEDURE p()\nBEGIN\n"
      "  IF (SELECT 1) THEN SELECT 1; END IF;\n"
      "  CASE x WHEN 1 THEN SELECT 2; END CASE;\n"
      "  lbl: BEGIN SELECT 3; END lbl;\n"
      "  WHILE x DO SET x = 0; END WHILE;\nEND";
  CHECK(texts(split(procedure + ";\nDROP TABLE x", kMysql)) == std::vector<std::string>{procedure, "DROP TABLE x"});
}

TEST_CASE("split: PostgreSQL BEGIN ATOMIC bodies") {
  const std::string function =
      "CREATE FUNCTION one() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END";
  CHECK(texts(split(function + "; SELECT one()")) == std::vector<std::string>{function, "SELECT one()"});
}

TEST_CASE("split: BEGIN outside a trigger or routine is an ordinary statement") {
  CHECK(texts(split("BEGIN; CREATE TABLE t (begin int); END; SELECT 1")) ==
        std::vector<std::string>{"BEGIN", "CREATE TABLE t (begin int)", "END", "SELECT 1"});
  CHECK(texts(split("CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW EXECUTE FUNCTION f(); SELECT 1")) ==
        std::vector<std::string>{"CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW EXECUTE FUNCTION f()", "SELECT 1"});
}

TEST_CASE("normalize: comments removed, whitespace folded, quoted text kept") {
  CHECK(normalize("  SELECT\t a ,\n\n b  -- c\n FROM /* d */ t  ") == "SELECT a , b FROM t");
  CHECK(normalize("SELECT 'a   b', \"c  d\", $$g   h$$") == "SELECT 'a   b', \"c  d\", $$g   h$$");
  CHECK(normalize("SELECT `e  f`", kMysql) == "SELECT `e  f`");
  CHECK(normalize("SELECT '-- not a comment', '/* nor this */'") == "SELECT '-- not a comment', '/* nor this */'");
  CHECK(normalize("a/**/b") == "a b");
  CHECK(normalize("-- only a comment") == "");
}

TEST_CASE("classify: additive CREATE statements") {
  for (const char* sql : {"CREATE TABLE t (id int)", "CREATE TABLE IF NOT EXISTS t (id int)",
                          "CREATE TEMPORARY TABLE t (id int)", "CREATE INDEX i ON t (a)",
                          "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a)", "CREATE UNIQUE INDEX i ON t (a)",
                          "CREATE VIEW v AS SELECT 1", "CREATE MATERIALIZED VIEW v AS SELECT 1",
                          "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END",
                          "CREATE TYPE mood AS ENUM ('sad', 'ok')", "CREATE SEQUENCE s",
                          "CREATE SCHEMA app", "CREATE EXTENSION IF NOT EXISTS pgcrypto",
                          "CREATE PROCEDURE p() BEGIN SELECT 1; END"}) {
    CAPTURE(sql);
    CHECK(class_of(sql) == StatementClass::additive);
  }
  for (const char* sql : {"CREATE DEFINER=`app`@`%` TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1",
                          "CREATE DEFINER = CURRENT_USER() PROCEDURE p() SELECT 1"}) {
    CAPTURE(sql);
    CHECK(class_of(sql, kMysql) == StatementClass::additive);
  }
  CHECK(classify("CREATE INDEX CONCURRENTLY i ON t (a)").summary == "CREATE INDEX");
  CHECK(classify("CREATE UNIQUE INDEX i ON t (a)").summary == "CREATE UNIQUE INDEX");
  CHECK(classify("CREATE DEFINER=`app`@`%` TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1", kMysql).summary ==
        "CREATE TRIGGER");
}

TEST_CASE("classify: a function body is opaque, only the leading keywords count") {
  const auto result = classify(
      "CREATE FUNCTION purge() RETURNS void AS $body$ BEGIN DELETE FROM x; DROP TABLE y; END $body$ LANGUAGE plpgsql");
  CHECK(result.cls == StatementClass::additive);
  CHECK(result.summary == "CREATE FUNCTION");
  CHECK(class_of("CREATE FUNCTION f() RETURNS int AS 'DELETE FROM x; SELECT 1' LANGUAGE sql") ==
        StatementClass::additive);
}

TEST_CASE("classify: CREATE OR REPLACE is contractive") {
  const auto result = classify("CREATE OR REPLACE VIEW v AS SELECT 1");
  CHECK(result.cls == StatementClass::contractive);
  CHECK(result.summary == "CREATE OR REPLACE VIEW");
  CHECK(class_of("create or replace function f() returns int as $$ select 1 $$ language sql") ==
        StatementClass::contractive);
  CHECK(class_of("CREATE OR REPLACE ALGORITHM=MERGE DEFINER=`a`@`b` SQL SECURITY DEFINER VIEW v AS SELECT 1", kMysql) ==
        StatementClass::contractive);
}

TEST_CASE("classify: CREATE of objects outside the schema is unknown") {
  const auto result = classify("CREATE ROLE reader");
  CHECK(result.cls == StatementClass::unknown);
  CHECK(result.summary == "unrecognised statement 'CREATE ROLE'");
  CHECK(class_of("CREATE PUBLICATION p FOR TABLE t") == StatementClass::unknown);
}

TEST_CASE("classify: DROP and RENAME are contractive") {
  CHECK(classify("DROP TABLE x").summary == "DROP TABLE");
  CHECK(classify("DROP TABLE IF EXISTS x").cls == StatementClass::contractive);
  CHECK(classify("DROP INDEX CONCURRENTLY i").summary == "DROP INDEX");
  CHECK(classify("DROP MATERIALIZED VIEW v").summary == "DROP MATERIALIZED VIEW");
  const auto rename = classify("RENAME TABLE a TO b");
  CHECK(rename.cls == StatementClass::contractive);
  CHECK(rename.summary == "RENAME TABLE");
}

TEST_CASE("classify: comments before a DROP do not hide it") {
  const auto result = classify("-- harmless?\n/* still harmless */ DROP TABLE users");
  CHECK(result.cls == StatementClass::contractive);
  CHECK(result.summary == "DROP TABLE");
}

TEST_CASE("classify: keywords are case-insensitive") {
  CHECK(classify("drop table x").summary == "DROP TABLE");
  CHECK(class_of("Alter Table t Add Column a int") == StatementClass::additive);
  CHECK(class_of("insert into t values (1)") == StatementClass::data);
  CHECK(class_of("sElEcT 1") == StatementClass::neutral);
}

TEST_CASE("classify: ALTER TABLE clauses") {
  for (const char* sql : {"ALTER TABLE t ADD COLUMN a int", "ALTER TABLE t ADD a int",
                          "ALTER TABLE ONLY public.t ADD CONSTRAINT c CHECK (a > 0) NOT VALID",
                          "ALTER TABLE IF EXISTS \"T\" ADD COLUMN a numeric(10, 2) DEFAULT 0",
                          "ALTER TABLE t ADD INDEX i (a, b)", "ALTER TABLE t ADD COLUMN a int, ADD COLUMN b int",
                          "ALTER TABLE t VALIDATE CONSTRAINT c"}) {
    CAPTURE(sql);
    CHECK(class_of(sql) == StatementClass::additive);
  }
  for (const char* sql : {"ALTER TABLE t DROP COLUMN a", "ALTER TABLE t ALTER COLUMN a SET NOT NULL",
                          "ALTER TABLE t ALTER COLUMN a TYPE bigint USING a::bigint", "ALTER TABLE t MODIFY a bigint",
                          "ALTER TABLE t CHANGE a b int", "ALTER TABLE t RENAME TO u",
                          "ALTER TABLE t RENAME COLUMN a TO b"}) {
    CAPTURE(sql);
    CHECK(class_of(sql) == StatementClass::contractive);
  }
  CHECK(classify("ALTER TABLE t ADD COLUMN a int").summary == "ALTER TABLE ... ADD");
  CHECK(classify("ALTER TABLE t ALTER COLUMN a DROP DEFAULT").summary == "ALTER TABLE ... ALTER");
}

TEST_CASE("classify: a mixed ALTER TABLE takes its strictest clause") {
  const auto result = classify("ALTER TABLE t ADD COLUMN a int, DROP COLUMN b");
  CHECK(result.cls == StatementClass::contractive);
  CHECK(result.summary == "ALTER TABLE ... ADD + DROP");
  CHECK(classify("ALTER TABLE t ADD a int, ADD b int, DROP c, ADD d int").summary == "ALTER TABLE ... ADD + DROP");
}

TEST_CASE("classify: commas inside parentheses and quotes do not start clauses") {
  CHECK(class_of("ALTER TABLE t ADD CONSTRAINT c CHECK (a IN ('x, DROP y', 'z'))") == StatementClass::additive);
  CHECK(class_of("ALTER TABLE t ADD COLUMN `drop, me` int", kMysql) == StatementClass::additive);
  CHECK(class_of("ALTER TABLE t ADD COLUMN a enum('a', 'b'), ADD COLUMN c set('x','y')") ==
        StatementClass::additive);
}

TEST_CASE("classify: MySQL ALGORITHM and LOCK options are neutral") {
  const auto result = classify("ALTER TABLE t ADD COLUMN a int, ALGORITHM=INPLACE, LOCK=NONE");
  CHECK(result.cls == StatementClass::additive);
  CHECK(result.summary == "ALTER TABLE ... ADD");
  CHECK(class_of("ALTER TABLE t ALGORITHM=INSTANT, DROP COLUMN a") == StatementClass::contractive);
}

TEST_CASE("classify: unrecognised ALTER TABLE clauses make the statement unknown") {
  const auto result = classify("ALTER TABLE t OWNER TO bob");
  CHECK(result.cls == StatementClass::unknown);
  CHECK(result.summary == "ALTER TABLE ... OWNER (unrecognised)");
  CHECK(class_of("ALTER TABLE t ADD a int, ENGINE=InnoDB") == StatementClass::unknown);
  CHECK(class_of("ALTER TABLE t") == StatementClass::unknown);
}

TEST_CASE("classify: ALTER of other objects") {
  const auto add_value = classify("ALTER TYPE mood ADD VALUE IF NOT EXISTS 'happy' AFTER 'ok'");
  CHECK(add_value.cls == StatementClass::additive);
  CHECK(add_value.summary == "ALTER TYPE ... ADD");
  CHECK(class_of("ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'") == StatementClass::contractive);
  const auto rename = classify("ALTER INDEX IF EXISTS i RENAME TO j");
  CHECK(rename.cls == StatementClass::contractive);
  CHECK(rename.summary == "ALTER INDEX ... RENAME");
  CHECK(class_of("ALTER VIEW s.v RENAME TO w") == StatementClass::contractive);
  CHECK(class_of("ALTER MATERIALIZED VIEW v RENAME TO w") == StatementClass::contractive);
  CHECK(class_of("ALTER FUNCTION f(int, text) RENAME TO g") == StatementClass::contractive);
  CHECK(class_of("ALTER TRIGGER tr ON t RENAME TO tr2") == StatementClass::contractive);
  CHECK(classify("ALTER ROLE r LOGIN").summary == "unrecognised statement 'ALTER ROLE'");
}

TEST_CASE("classify: data statements") {
  for (const char* sql : {"INSERT INTO t VALUES (1)", "UPDATE t SET a = 1", "DELETE FROM t",
                          "REPLACE INTO t VALUES (1)", "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE",
                          "COPY t FROM STDIN", "UPSERT INTO t VALUES (1)", "TRUNCATE t"}) {
    CAPTURE(sql);
    CHECK(class_of(sql) == StatementClass::data);
  }
  const auto truncate = classify("TRUNCATE TABLE t");
  CHECK(truncate.cls == StatementClass::data);
  CHECK(truncate.summary == "TRUNCATE");
  CHECK(classify("INSERT INTO t SELECT * FROM s").summary == "INSERT");
}

TEST_CASE("classify: WITH takes the class of what it runs") {
  const auto insert = classify("WITH s AS (SELECT * FROM u) INSERT INTO t SELECT * FROM s");
  CHECK(insert.cls == StatementClass::data);
  CHECK(insert.summary == "WITH ... INSERT");
  CHECK(class_of("WITH RECURSIVE r(n) AS (SELECT 1 UNION SELECT n + 1 FROM r) UPDATE t SET a = 1") ==
        StatementClass::data);
  const auto select = classify("WITH a AS (SELECT 1), b AS MATERIALIZED (SELECT 2) SELECT * FROM a, b");
  CHECK(select.cls == StatementClass::neutral);
  CHECK(select.summary == "WITH ... SELECT");
  const auto cte_delete = classify("WITH gone AS (DELETE FROM t RETURNING *) SELECT count(*) FROM gone");
  CHECK(cte_delete.cls == StatementClass::data);
  CHECK(cte_delete.summary == "WITH (DELETE) ... SELECT");
  CHECK(class_of("WITH x AS (SELECT 'DELETE FROM t') SELECT * FROM x") == StatementClass::neutral);
}

TEST_CASE("classify: neutral statements") {
  for (const char* sql : {"SELECT 1", "(SELECT 1) UNION (SELECT 2)", "SET lock_timeout = '5s'", "SHOW TABLES",
                          "COMMENT ON TABLE t IS 'x'", "EXPLAIN SELECT 1", "EXPLAIN DELETE FROM t", "ANALYZE t",
                          "VACUUM t", "BEGIN", "START TRANSACTION", "COMMIT", "PRAGMA foreign_keys = ON",
                          "VALUES (1)"}) {
    CAPTURE(sql);
    CHECK(class_of(sql) == StatementClass::neutral);
  }
}

TEST_CASE("classify: EXPLAIN ANALYZE runs its statement") {
  const auto analyzed = classify("EXPLAIN ANALYZE DELETE FROM t");
  CHECK(analyzed.cls == StatementClass::data);
  CHECK(analyzed.summary == "EXPLAIN ANALYZE DELETE");
  CHECK(class_of("EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1") == StatementClass::data);
  CHECK(class_of("EXPLAIN (FORMAT JSON) UPDATE t SET a = 1") == StatementClass::neutral);
  CHECK(class_of("EXPLAIN ANALYZE SELECT 1") == StatementClass::neutral);
}

TEST_CASE("classify: unknown statements") {
  const auto grant = classify("GRANT SELECT ON t TO reader");
  CHECK(grant.cls == StatementClass::unknown);
  CHECK(grant.summary == "unrecognised statement 'GRANT'");
  CHECK(class_of("REVOKE SELECT ON t FROM reader") == StatementClass::unknown);
  CHECK(class_of("CALL p()") == StatementClass::unknown);
  CHECK(class_of("LOCK TABLE t IN ACCESS EXCLUSIVE MODE") == StatementClass::unknown);
  CHECK(class_of("SELECT * INTO t2 FROM t") == StatementClass::unknown);
  CHECK(class_of("") == StatementClass::unknown);
  const auto block = classify("DO $$ BEGIN DROP TABLE x; END $$");
  CHECK(block.cls == StatementClass::unknown);
  CHECK(block.summary == "DO block (opaque code)");
}

TEST_CASE("class_name and strictest follow the declared order") {
  CHECK(std::string(tandem::sql::class_name(StatementClass::neutral)) == "neutral");
  CHECK(std::string(tandem::sql::class_name(StatementClass::additive)) == "additive");
  CHECK(std::string(tandem::sql::class_name(StatementClass::data)) == "data");
  CHECK(std::string(tandem::sql::class_name(StatementClass::contractive)) == "contractive");
  CHECK(std::string(tandem::sql::class_name(StatementClass::unknown)) == "unknown");
  using tandem::sql::strictest;
  CHECK(strictest(StatementClass::additive, StatementClass::contractive) == StatementClass::contractive);
  CHECK(strictest(StatementClass::data, StatementClass::neutral) == StatementClass::data);
  CHECK(strictest(StatementClass::unknown, StatementClass::contractive) == StatementClass::unknown);
}

TEST_CASE("split then classify a migration script") {
  const auto statements = split(
      "-- expand\nSET lock_timeout = '5s';\n"
      "ALTER TABLE users ADD COLUMN email text;\n"
      "CREATE INDEX CONCURRENTLY users_email ON users (email);\n"
      "CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN DELETE FROM x; RETURN NEW; END $$ LANGUAGE plpgsql;\n"
      "UPDATE users SET email = '';\n");
  REQUIRE(statements.size() == 5);
  CHECK(statements[0].line == 2);
  CHECK(classify(statements[0].text).cls == StatementClass::neutral);
  CHECK(classify(statements[1].text).cls == StatementClass::additive);
  CHECK(classify(statements[2].text).cls == StatementClass::additive);
  CHECK(classify(statements[3].text).cls == StatementClass::additive);
  CHECK(statements[4].line == 6);
  CHECK(classify(statements[4].text).cls == StatementClass::data);
}

TEST_CASE("split: dollar quoting is PostgreSQL's alone") {
  const std::string text = "SELECT $a$ ; DELETE FROM t; SELECT $a$";
  CHECK(texts(split(text, kPostgresql)) == std::vector<std::string>{text});
  const std::vector<std::string> three = {"SELECT $a$", "DELETE FROM t", "SELECT $a$"};
  CHECK(texts(split(text, kSqlite)) == three);
  CHECK(texts(split(text, kMysql)) == three);
  CHECK(class_of("DELETE FROM t", kSqlite) == StatementClass::data);
}

TEST_CASE("split: backticks quote on MySQL and SQLite, not on PostgreSQL") {
  const std::string text = "SELECT `a;b` FROM t";
  CHECK(texts(split(text, kMysql)) == std::vector<std::string>{text});
  CHECK(texts(split(text, kSqlite)) == std::vector<std::string>{text});
  CHECK(texts(split(text, kPostgresql)) == std::vector<std::string>{"SELECT `a", "b` FROM t"});
}

TEST_CASE("split: SQLite's [bracketed] identifiers") {
  CHECK(texts(split("SELECT [a;b] FROM t; SELECT 2", kSqlite)) == std::vector<std::string>{"SELECT [a;b] FROM t", "SELECT 2"});
}

TEST_CASE("split: # comments are MySQL's") {
  const std::string text = "SELECT 1 # it's a comment;\nDELETE FROM t";
  CHECK(texts(split(text, kMysql)) == std::vector<std::string>{"SELECT 1 # it's a comment;\nDELETE FROM t"});
  CHECK(texts(split("SELECT 1 # ' ;\nDELETE FROM t; SELECT '", kMysql)) ==
        std::vector<std::string>{"SELECT 1 # ' ;\nDELETE FROM t", "SELECT '"});
  CHECK(tandem::sql::script_problem("SELECT 1 # ' ;\nDELETE FROM t", kPostgresql).has_value());
  CHECK_FALSE(tandem::sql::script_problem("SELECT 1 # ' ;\nDELETE FROM t", kMysql).has_value());
}

TEST_CASE("split: MySQL's -- needs a space after it, 1--1 is arithmetic there") {
  CHECK(texts(split("SELECT 1--1; DELETE FROM t", kMysql)) == std::vector<std::string>{"SELECT 1--1", "DELETE FROM t"});
  CHECK(texts(split("SELECT 1--1; DELETE FROM t", kPostgresql)) == std::vector<std::string>{"SELECT 1"});
  CHECK(texts(split("SELECT 1 -- ; DELETE FROM t", kMysql)) == std::vector<std::string>{"SELECT 1"});
}

TEST_CASE("split: MySQL strings take backslash escapes") {
  const std::string text = "SELECT 'a\\'; DELETE FROM t; -- '";
  CHECK(texts(split(text, kMysql)) == std::vector<std::string>{"SELECT 'a\\'; DELETE FROM t; -- '"});
  CHECK(texts(split(text, kSqlite)) == std::vector<std::string>{"SELECT 'a\\'", "DELETE FROM t"});
  CHECK(texts(split("SELECT \"a\\\"; b\"; SELECT 2", kMysql)) == std::vector<std::string>{"SELECT \"a\\\"; b\"", "SELECT 2"});
}

TEST_CASE("split and classify: MySQL runs the content of /*! */ comments") {
  CHECK(texts(split("SELECT 1 /*! ; DELETE FROM t */", kMysql)) == std::vector<std::string>{"SELECT 1", "DELETE FROM t"});
  CHECK(texts(split("SELECT 1 /*! ; DELETE FROM t */", kSqlite)) == std::vector<std::string>{"SELECT 1"});
  CHECK(class_of("/*!50000 DROP TABLE t */", kMysql) == StatementClass::contractive);
  CHECK(class_of("/*M!100100 DELETE FROM t */", kMysql) == StatementClass::data);
  CHECK(class_of("SELECT /*+ MAX_EXECUTION_TIME(10) */ 1", kMysql) == StatementClass::neutral);
  CHECK(tandem::sql::script_problem("SELECT 1 /*! , 2", kMysql).has_value());
}

TEST_CASE("split: PostgreSQL nests block comments, the others do not") {
  const std::string text = "SELECT 1 /* /* */ ; DELETE FROM t */; SELECT 2";
  CHECK(texts(split(text, kPostgresql)) == std::vector<std::string>{"SELECT 1", "SELECT 2"});
  CHECK(texts(split(text, kSqlite)) == std::vector<std::string>{"SELECT 1", "DELETE FROM t */", "SELECT 2"});
}

TEST_CASE("script_problem: quotes and comments never closed") {
  CHECK(tandem::sql::script_problem("SELECT 'open; DROP TABLE x", kSqlite).value().find("quote '") != std::string::npos);
  CHECK(tandem::sql::script_problem("SELECT 1 /* open", kPostgresql).value().find("comment") != std::string::npos);
  CHECK(tandem::sql::script_problem("SELECT $$ open", kPostgresql).has_value());
  CHECK_FALSE(tandem::sql::script_problem("SELECT $$ open", kSqlite).has_value());
  CHECK_FALSE(tandem::sql::script_problem("DROP TABLE x -- no semicolon at the end", kSqlite).has_value());
}

TEST_CASE("expression_problem: exactly one expression") {
  using tandem::sql::expression_problem;
  for (DialectKind dialect : {kPostgresql, kMysql, kSqlite}) {
    CAPTURE(tandem::dialect_name(dialect));
    CHECK_FALSE(expression_problem("0", dialect));
    CHECK_FALSE(expression_problem("lower(NEW.email) || ';'", dialect));
    CHECK_FALSE(expression_problem("(SELECT max(id) FROM t) + 1 /* a note */", dialect));
    CHECK_FALSE(expression_problem("a = 1 -- a note\n AND b = 2", dialect));
    CHECK(expression_problem("0; DELETE FROM t", dialect).value().find("';'") != std::string::npos);
    CHECK(expression_problem("1) ; DROP TABLE t; SELECT (1", dialect).value().find("')'") != std::string::npos);
    CHECK(expression_problem("1) OR (1", dialect).value().find("never opened") != std::string::npos);
    CHECK(expression_problem("(1", dialect).value().find("never closed") != std::string::npos);
    CHECK(expression_problem("'open", dialect).value().find("never closed") != std::string::npos);
    CHECK(expression_problem("1 /* open", dialect).value().find("never closed") != std::string::npos);
    CHECK(expression_problem("1 -- hides the key range", dialect).value().find("hide") != std::string::npos);
    CHECK(expression_problem("  ", dialect).value() == "it is empty");
  }
  CHECK(expression_problem("data #> '{a}'", kMysql).has_value());  // a comment on MySQL
  CHECK_FALSE(expression_problem("data #> '{a}'", kPostgresql));
  CHECK(expression_problem("'a\\'; DELETE FROM t; --'", kSqlite).has_value());
  CHECK_FALSE(expression_problem("'a\\'; DELETE FROM t; --'", kMysql));
  CHECK(expression_problem("0 /*! ; DELETE FROM t */", kMysql).has_value());
  CHECK_FALSE(expression_problem("0 /*! ; DELETE FROM t */", kSqlite));
  CHECK(expression_problem("$q$ x $q$; DELETE FROM t", kPostgresql).has_value());
}

TEST_CASE("query_problem: exactly one SELECT") {
  using tandem::sql::query_problem;
  CHECK_FALSE(query_problem("SELECT id FROM t", kSqlite));
  CHECK_FALSE(query_problem("SELECT id FROM t;", kSqlite));
  CHECK_FALSE(query_problem("WITH x AS (SELECT 1) SELECT * FROM x", kPostgresql));
  CHECK_FALSE(query_problem("(SELECT 1) UNION (SELECT 2)", kMysql));
  CHECK(query_problem("SELECT 1; DELETE FROM t", kSqlite).has_value());
  CHECK(query_problem("SELECT 1; ", kSqlite) == std::nullopt);
  CHECK(query_problem("DELETE FROM t", kSqlite).value().find("not a query") != std::string::npos);
  CHECK(query_problem("WITH d AS (DELETE FROM t RETURNING 1) SELECT 1", kPostgresql).has_value());
  CHECK(query_problem("SELECT 1 -- and", kSqlite).has_value());
}

TEST_CASE("classify: MariaDB SET STATEMENT ... FOR is the statement after FOR") {
  // A per-statement setting does not hide what runs under it from the phase rules.
  CHECK(class_of("SET STATEMENT max_statement_time = 5 FOR DROP TABLE accounts", kMysql) == StatementClass::contractive);
  CHECK(class_of("SET STATEMENT foreign_key_checks = 0, lock_wait_timeout = 1 FOR\n"
                 "ALTER TABLE t ADD COLUMN c int, ALGORITHM=INPLACE, LOCK=NONE",
                 kMysql) == StatementClass::additive);
  CHECK(class_of("/* rebuilds t */ SET STATEMENT lock_wait_timeout = GREATEST(@@session.lock_wait_timeout, 1) FOR\n"
                 "ALTER TABLE t MODIFY COLUMN c varchar(64) NULL",
                 kMysql) == StatementClass::contractive);
  CHECK(class_of("SET STATEMENT sql_mode = 'x FOR DROP' FOR UPDATE t SET a = 1", kMysql) == StatementClass::data);
  CHECK(class_of("SET STATEMENT lock_wait_timeout = 1", kMysql) == StatementClass::unknown);
  CHECK(class_of("SET lock_wait_timeout = 1", kMysql) == StatementClass::neutral);
}
