#include "operations/common.h"

#include <fmt/format.h>

#include <algorithm>
#include <regex>
#include <string_view>
#include <utility>

#include "operations/portable_type.h"
#include "sql/syntax.h"
#include "tandem/error.h"

namespace tandem::ops {

bool is_identifier(const std::string& name) {
  static const std::regex plain("[A-Za-z_][A-Za-z0-9_]*");
  return !name.empty() && name.size() <= 63 && std::regex_match(name, plain);
}

void ValidationContext::require_identifier(const std::string& name, const char* what) const {
  if (!is_identifier(name))
    error("bad-identifier",
          fmt::format("version {}: {} '{}' is not a plain name (letters, digits and _, at most 63 bytes)", version, what,
                      name));
}

namespace {

// Reports `problem` of `text` as each dialect reads it; a problem only some dialects see says which.
void require_one_piece(const ValidationContext& context, const std::string& text, const std::string& what, int line,
                       std::optional<std::string> (*problem)(std::string_view, DialectKind)) {
  const auto& dialects = sql::syntaxes();
  std::vector<std::pair<std::string, std::vector<std::string>>> found;
  for (const sql::Syntax* dialect : dialects) {
    auto text_problem = problem(text, dialect->kind);
    if (!text_problem) continue;
    auto same = std::find_if(found.begin(), found.end(), [&](const auto& entry) { return entry.first == *text_problem; });
    if (same == found.end()) same = found.insert(found.end(), {*text_problem, {}});
    same->second.push_back(dialect->name);
  }
  for (const auto& [message, names] : found) {
    ValidationContext at = context;
    if (line > 0) at.line = line;
    at.error("bad-expression",
             fmt::format("version {}: {} \"{}\" is not {}: {}{}", context.version, what, text,
                         problem == sql::query_problem ? "one query" : "one expression", message,
                         names.size() < dialects.size() ? fmt::format(" (as {} read it)", fmt::join(names, " and "))
                                                            : ""));
  }
}

}  // namespace

void ValidationContext::require_expression(const std::string& text, const std::string& what, int line) const {
  require_one_piece(*this, text, what, line, sql::expression_problem);
}

void ValidationContext::require_query(const std::string& text, const std::string& what) const {
  require_one_piece(*this, text, what, 0, sql::query_problem);
}

void require_identifiers(const std::vector<std::string>& names, const char* what, ValidationContext& context) {
  for (const auto& name : names) context.require_identifier(name, what);
}

schema::Column to_schema_column(const ColumnSpec& spec) {
  schema::Column column;
  column.name = spec.name;
  column.type = spec.type;
  column.nullable = spec.nullable && !spec.primary_key;
  column.default_value = spec.default_value;
  column.primary_key = spec.primary_key;
  column.autoincrement = spec.autoincrement;
  return column;
}

void add_inline_constraints(schema::Table& table, const ColumnSpec& spec) {
  if (spec.unique) table.unique_constraints.push_back({fmt::format("{}_{}_key", table.name, spec.name), {spec.name}});
  if (spec.references) {
    const auto dot = spec.references->find('.');
    table.foreign_keys.push_back({fmt::format("{}_{}_fkey", table.name, spec.name), {spec.name},
                                  spec.references->substr(0, dot), {spec.references->substr(dot + 1)},
                                  spec.on_delete.value_or("")});
  }
}

void validate_on_delete(const std::optional<std::string>& on_delete, ValidationContext& context) {
  if (on_delete && *on_delete != "cascade" && *on_delete != "set null" && *on_delete != "restrict" &&
      *on_delete != "no action")
    context.error("bad-on-delete", fmt::format("version {}: on_delete '{}' must be cascade, set null or restrict",
                                               context.version, *on_delete));
}

void validate_column(const ColumnSpec& column, ValidationContext& context, const std::string& table) {
  context.require_identifier(column.name, "column");
  if (!parse_portable_type(column.type))
    context.error("bad-type", fmt::format("version {}: column {}.{} has unknown type '{}'", context.version, table,
                                          column.name, column.type));
  if (column.autoincrement && !column.primary_key)
    context.error("bad-column", fmt::format("version {}: column {}.{} is autoincrement but not the primary key",
                                            context.version, table, column.name));
  if (column.references) {
    auto dot = column.references->find('.');
    if (dot == std::string::npos || !is_identifier(column.references->substr(0, dot)) ||
        !is_identifier(column.references->substr(dot + 1)))
      context.error("bad-identifier", fmt::format("version {}: column {}.{} references '{}', expected table.column",
                                                  context.version, table, column.name, *column.references));
  } else if (column.on_delete) {
    context.error("bad-column", fmt::format("version {}: column {}.{} has on_delete but no references",
                                            context.version, table, column.name));
  }
  validate_on_delete(column.on_delete, context);
  if (column.default_value)
    context.require_expression(*column.default_value, fmt::format("the default of column {}.{}", table, column.name),
                               column.line);
  if (column.enum_name) context.require_identifier(*column.enum_name, "enum type");
}

const schema::Table& require_table(const schema::Schema& schema, const std::string& name, const char* operation) {
  if (const auto* table = schema.find_table(name)) return *table;
  throw Error(ErrorKind::step_failed, fmt::format("{}: table '{}' does not exist", operation, name));
}

const schema::Column& require_column(const schema::Table& table, const std::string& column, const char* operation) {
  if (const auto* found = table.find_column(column)) return *found;
  throw Error(ErrorKind::step_failed,
              fmt::format("{}: column '{}.{}' does not exist", operation, table.name, column));
}

const char* phase_rule_code(Phase phase, sql::StatementClass cls) {
  using sql::StatementClass;
  if (cls == StatementClass::unknown) return "unknown-statement";
  if (cls == StatementClass::data) return phase == Phase::expand ? "data-in-expand" : "data-in-contract";
  if (phase == Phase::migrate) return "schema-change-in-migrate";
  return phase == Phase::expand ? "contractive-in-expand" : "additive-in-contract";
}

std::string new_column_reference(const std::string& expression) {
  static const std::regex reference(R"(\s*NEW\.([A-Za-z_][A-Za-z0-9_]*)\s*)", std::regex::icase);
  std::smatch match;
  return std::regex_match(expression, match, reference) ? match[1].str() : "";
}

std::vector<std::string> row_key(const schema::Table& table) {
  if (auto key = table.primary_key(); !key.empty()) return key;
  std::vector<std::vector<std::string>> candidates;
  for (const auto& unique : table.unique_constraints) candidates.push_back(unique.columns);
  for (const auto& index : table.indexes)
    if (index.unique) candidates.push_back(index.columns);
  // A NULL is no key: two rows may both hold one, and `key > ?` never matches it.
  auto not_null = [&](const std::vector<std::string>& columns) {
    return !columns.empty() && std::all_of(columns.begin(), columns.end(), [&](const std::string& name) {
      const auto* column = table.find_column(name);
      return column && !column->nullable;
    });
  };
  std::vector<std::string> best;
  for (const auto& columns : candidates)
    if (not_null(columns) && (best.empty() || columns.size() < best.size())) best = columns;
  return best;
}

}  // namespace tandem::ops
