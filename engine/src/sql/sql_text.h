// Reading raw SQL from units: splitting a script into statements and classifying
// each statement for the static phase rules (DESIGN §5).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/url.h"

namespace tandem::sql {

struct Statement {
  std::string text;  // the statement without its terminating ';', trimmed
  int line = 1;      // 1-based line in the input where the statement starts
};

// Splits on ';' outside quotes and comments as `dialect` reads them (sql/lexer.h: dollar
// quoting is PostgreSQL's, backticks and # comments MySQL's, ...), keeping BEGIN ... END
// bodies of triggers and routines whole. Empty statements (only whitespace or comments)
// are dropped.
std::vector<Statement> split(std::string_view script, DialectKind dialect);

// Why `script` cannot be split as written (a quote or comment it never closes), or nullopt.
std::optional<std::string> script_problem(std::string_view script, DialectKind dialect);

// Why `text` is not exactly one expression that tandem can write into a statement of its
// own (a default, a SET value, a WHERE condition, a trigger's expression), read by
// `dialect`'s rules, or nullopt: a ';' outside quotes, a ')' that closes more than was
// opened or a '(' never closed, an unterminated quote or comment, a -- or # comment that
// would hide what tandem writes after it, or nothing at all.
std::optional<std::string> expression_problem(std::string_view text, DialectKind dialect);

// Why `text` is not exactly one query (SELECT, WITH ... SELECT, VALUES), as a view holds.
std::optional<std::string> query_problem(std::string_view text, DialectKind dialect);

// Ordered from least to most strict: a statement with several clauses takes the
// strictest class among them.
enum class StatementClass { neutral, additive, data, contractive, unknown };

const char* class_name(StatementClass cls);

struct Classification {
  StatementClass cls = StatementClass::unknown;
  std::string summary;  // what was recognised, e.g. "DROP TABLE", "ALTER TABLE ... ADD + DROP"
};

// Classifies one statement (comments ignored, case-insensitive; MySQL's executable
// comments are code, so their content counts):
//   additive:    CREATE ... (not CREATE OR REPLACE), ALTER TABLE ... ADD ...
//   contractive: DROP, RENAME, ALTER TABLE ... DROP/ALTER/MODIFY/CHANGE/RENAME, CREATE OR REPLACE
//   data:        INSERT, UPDATE, DELETE, REPLACE, MERGE, TRUNCATE, COPY, WITH ... (DML)
//   neutral:     SELECT, SET, SHOW, COMMENT, BEGIN/COMMIT (not DML-bearing)
//   unknown:     anything else
StatementClass strictest(StatementClass a, StatementClass b);
Classification classify(std::string_view statement, DialectKind dialect);
// Whether `statement` changes the schema (classifies additive or contractive): DDL, which
// writes no rows of its own even where the driver reports rows (a MySQL ALTER's copy).
bool is_schema_change(std::string_view statement, DialectKind dialect);

// The statement's text with comments removed and whitespace folded to single spaces;
// quoted literals kept as written. Used by the lint to look for keywords.
std::string normalize(std::string_view statement, DialectKind dialect);

}  // namespace tandem::sql
