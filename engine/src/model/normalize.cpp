#include "model/normalize.h"

#include <algorithm>
#include <cctype>

namespace tandem::model {

namespace {

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// Whether the parenthesis at 0 closes at the very end: "(0)" yes, "(a) + (b)" no.
bool wrapped(const std::string& text) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')') return false;
  int depth = 0;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && --depth == 0 && i + 1 < text.size()) {
      return false;
    }
  }
  return true;
}

// A single-quoted literal's content, or nullopt when `text` is not exactly one.
std::optional<std::string> literal_content(const std::string& text) {
  if (text.size() < 2 || text.front() != '\'' || text.back() != '\'') return std::nullopt;
  std::string content;
  for (size_t i = 1; i + 1 < text.size(); ++i) {
    if (text[i] == '\'') {
      if (i + 2 < text.size() && text[i + 1] == '\'') {
        content += '\'';
        ++i;
        continue;
      }
      return std::nullopt;  // 'a' || 'b'
    }
    content += text[i];
  }
  return content;
}

// A number in one spelling: no sign for positives, no trailing fraction zeros.
std::optional<std::string> canonical_number(std::string text) {
  if (!text.empty() && text.front() == '+') text.erase(0, 1);
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.erase(0, 1);
  if (text.empty() || text.find_first_not_of("0123456789.") != std::string::npos ||
      std::count(text.begin(), text.end(), '.') > 1 || text == ".")
    return std::nullopt;
  const auto dot = text.find('.');
  std::string whole = text.substr(0, dot);
  std::string fraction = dot == std::string::npos ? "" : text.substr(dot + 1);
  whole.erase(0, std::min(whole.find_first_not_of('0'), whole.size()));
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  text = (whole.empty() ? "0" : whole) + (fraction.empty() ? "" : "." + fraction);
  if (negative && text != "0") text.insert(text.begin(), '-');
  return text;
}

std::optional<std::string> canonical_default(const std::optional<std::string>& value, const std::string& type,
                                             const DialectNormalizer& dialect) {
  if (!value) return std::nullopt;
  std::string expression = trim(dialect.strip_default(trim(*value)));
  while (wrapped(expression)) expression = trim(expression.substr(1, expression.size() - 2));
  const std::string word = lower(expression);
  if (word == "null") return std::nullopt;
  if (word == "current_timestamp" || word == "current_timestamp()" || word == "now()" || word == "localtimestamp")
    return "current_timestamp";
  const std::string portable = dialect.portable_type(type);
  const bool boolean = portable == "boolean";
  const bool numeric = portable == "integer" || portable == "bigint" || portable == "smallint" || portable == "float" ||
                       portable == "double" || portable.rfind("decimal(", 0) == 0;
  // '0' and 0 are one default for a number; MySQL reports a boolean's as 0 or 1.
  std::string bare = expression;
  if (boolean || numeric)
    if (auto content = literal_content(expression)) bare = trim(*content);
  if (boolean) {
    const std::string flag = lower(bare);
    if (flag == "1" || flag == "true" || flag == "t") return "true";
    if (flag == "0" || flag == "false" || flag == "f") return "false";
  }
  if (boolean || numeric)
    if (auto number = canonical_number(bare)) return number;
  if (word == "true" || word == "false") return word;
  return expression;
}

}  // namespace

schema::Schema canonical(const schema::Schema& schema, const DialectNormalizer& dialect) {
  schema::Schema out;
  for (const auto& source : schema.tables) {
    schema::Table table{source.name};
    for (auto column : source.columns) {
      column.type = dialect.canonical_type(column.type);
      if (column.primary_key) column.nullable = false;
      column.default_value = column.autoincrement ? std::nullopt : canonical_default(column.default_value, column.type, dialect);
      table.columns.push_back(std::move(column));
    }
    for (const auto& index : source.indexes) {
      if (index.unique)
        table.unique_constraints.push_back({index.name, index.columns});
      else
        table.indexes.push_back(index);
    }
    for (const auto& unique : source.unique_constraints) table.unique_constraints.push_back(unique);
    for (auto key : source.foreign_keys) {
      key.on_delete = lower(key.on_delete);
      if (key.on_delete == "no action") key.on_delete.clear();
      table.foreign_keys.push_back(std::move(key));
    }
    dialect.canonical_table(table);
    out.tables.push_back(std::move(table));
  }
  for (const auto& trigger : schema.triggers)
    if (schema::is_tandem_trigger(trigger.name)) out.triggers.push_back(trigger);
  for (const auto& function : schema.functions)
    if (schema::is_tandem_trigger(function.name)) out.functions.push_back(function);
  return out;
}

}  // namespace tandem::model
