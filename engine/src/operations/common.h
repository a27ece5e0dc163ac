// Helpers shared by the operation files.
#pragma once

#include <string>
#include <vector>

#include "operations/operations.h"
#include "sql/sql_text.h"
#include "tandem/schema.h"

namespace tandem::ops {

schema::Column to_schema_column(const ColumnSpec& spec);
// The constraints a column spec declares inline (`unique: true`, `references:`), added to
// `table` under the names the dialects give them ({table}_{column}_key, _fkey).
void add_inline_constraints(schema::Table& table, const ColumnSpec& spec);

// Validates a column spec's name, type, reference and on_delete.
void validate_column(const ColumnSpec& column, ValidationContext& context, const std::string& table);
void validate_on_delete(const std::optional<std::string>& on_delete, ValidationContext& context);
void require_identifiers(const std::vector<std::string>& names, const char* what, ValidationContext& context);

// The table `name` in `schema`, or an Error(step_failed) naming it and the operation.
const schema::Table& require_table(const schema::Schema& schema, const std::string& name, const char* operation);
const schema::Column& require_column(const schema::Table& table, const std::string& column, const char* operation);

// The finding code for a change of class `cls` that `phase` forbids. Raw SQL and operations
// share it, so one broken rule has one code however the unit wrote the change.
const char* phase_rule_code(Phase phase, sql::StatementClass cls);

// The columns that name one row of `table`, as batches walk them (DESIGN §7): its primary
// key, else its NOT NULL unique key of fewest columns; empty when it has neither.
std::vector<std::string> row_key(const schema::Table& table);

// Text of `name` as it appears in an expression: "NEW.<column>" -> column, else "".
std::string new_column_reference(const std::string& expression);

}  // namespace tandem::ops
