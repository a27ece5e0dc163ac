// Reading raw SQL from units: splitting a script into statements and classifying
// each statement for the static phase rules (DESIGN §5).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tandem::sql {

struct Statement {
  std::string text;  // the statement without its terminating ';', trimmed
  int line = 1;      // 1-based line in the input where the statement starts
};

// Splits on ';' outside single/double quotes, backticks, -- and /* */ comments,
// and PostgreSQL dollar quoting ($$...$$, $tag$...$tag$). Empty statements
// (only whitespace or comments) are dropped.
std::vector<Statement> split(std::string_view script);

// Ordered from least to most strict: a statement with several clauses takes the
// strictest class among them.
enum class StatementClass { neutral, additive, data, contractive, unknown };

const char* class_name(StatementClass cls);

struct Classification {
  StatementClass cls = StatementClass::unknown;
  std::string summary;  // what was recognised, e.g. "DROP TABLE", "ALTER TABLE ... ADD + DROP"
};

// Classifies one statement (comments ignored, case-insensitive):
//   additive:    CREATE ... (not CREATE OR REPLACE), ALTER TABLE ... ADD ...
//   contractive: DROP, RENAME, ALTER TABLE ... DROP/ALTER/MODIFY/CHANGE/RENAME, CREATE OR REPLACE
//   data:        INSERT, UPDATE, DELETE, REPLACE, MERGE, TRUNCATE, COPY, WITH ... (DML)
//   neutral:     SELECT, SET, SHOW, COMMENT, BEGIN/COMMIT (not DML-bearing)
//   unknown:     anything else
StatementClass strictest(StatementClass a, StatementClass b);
Classification classify(std::string_view statement);

// The statement's text with comments removed and whitespace folded to single spaces;
// quoted literals kept as written. Used by the lint to look for keywords.
std::string normalize(std::string_view statement);

}  // namespace tandem::sql
