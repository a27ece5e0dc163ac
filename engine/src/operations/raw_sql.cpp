#include <fmt/format.h>

#include <algorithm>
#include <regex>

#include "dialect/dialect.h"
#include "operations/common.h"
#include "sql/sql_text.h"
#include "tandem/error.h"
#include "unit/field_reader.h"

namespace tandem::ops {

namespace {

bool phase_allows(Phase phase, sql::StatementClass cls) {
  using sql::StatementClass;
  if (cls == StatementClass::neutral) return true;
  switch (phase) {
    case Phase::expand: return cls == StatementClass::additive;
    case Phase::migrate: return cls == StatementClass::data;
    case Phase::contract: return cls == StatementClass::contractive;
  }
  return false;
}

// The statement as a message quotes it: enough to find the object, one line however long the statement.
std::string excerpt(const std::string& statement) {
  constexpr size_t kMaxLength = 80;
  std::string text = sql::normalize(statement);
  // normalize() keeps quoted text as written, line breaks included.
  std::replace_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  if (text.size() > kMaxLength) {
    size_t cut = kMaxLength - 3;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
    text = text.substr(0, cut) + "...";
  }
  return text;
}

}  // namespace

RawSql RawSql::parse(FieldReader& fields) {
  RawSql op;
  for (DialectKind dialect : {DialectKind::postgresql, DialectKind::mysql, DialectKind::sqlite})
    if (auto text = fields.optional_string(dialect_name(dialect))) op.per_dialect[dialect] = *text;
  op.allow = fields.optional_string("allow");
  if (op.allow && op.allow->empty()) fields.fail(fields.node()["allow"], "sql: 'allow' must give a reason");
  if (op.per_dialect.empty()) fields.fail(fields.node(), "sql: give the SQL as a string or under postgresql, mysql, sqlite");
  fields.finish();
  return op;
}

const std::string* RawSql::text_for(DialectKind dialect) const {
  if (all) return &*all;
  auto it = per_dialect.find(dialect);
  return it == per_dialect.end() ? nullptr : &it->second;
}

void RawSql::validate(ValidationContext& context) const {
  std::vector<std::pair<std::string, const std::string*>> texts;
  if (all) texts.emplace_back("sql", &*all);
  for (const auto& [dialect, text] : per_dialect) texts.emplace_back(dialect_name(dialect), &text);
  static const std::regex blocking_index(R"(^CREATE\s+(UNIQUE\s+)?INDEX\s+(?!CONCURRENTLY))", std::regex::icase);
  for (const auto& [label, text] : texts) {
    for (const auto& statement : sql::split(*text)) {
      const auto classification = sql::classify(statement.text);
      const std::string where =
          fmt::format("version {}: {} statement \"{}\" ({}, {})", context.version, label, excerpt(statement.text),
                      classification.summary, sql::class_name(classification.cls));
      ValidationContext at = context;
      // statement.line counts from 1 within the SQL text, which (written inline) starts on the operation's line.
      at.line = context.line + statement.line - 1;
      if (!phase_allows(context.phase, classification.cls)) {
        if (allow)
          at.warning("allowed", fmt::format("{} is not allowed in {} but the step says allow: \"{}\"", where,
                                            phase_name(context.phase), *allow));
        else
          at.error(phase_rule_code(context.phase, classification.cls),
                   fmt::format("{} is not allowed in {} (add allow: \"reason\" to the step if it must run)", where,
                               phase_name(context.phase)));
      }
      if ((label == "sql" || label == "postgresql") && std::regex_search(sql::normalize(statement.text), blocking_index))
        at.warning("blocking-index",
                   fmt::format("version {}: \"{}\": CREATE INDEX without CONCURRENTLY blocks writes on PostgreSQL "
                               "while it builds; prefer create_index",
                               context.version, excerpt(statement.text)));
    }
  }
}

std::vector<Step> RawSql::render(const RenderContext& context) const {
  const std::string* text = text_for(context.sql.kind());
  if (!text)
    throw Error(ErrorKind::invalid_unit,
                fmt::format("sql step has no text for {} (give a plain string or a {} key)", dialect_name(context.sql.kind()),
                            dialect_name(context.sql.kind())));
  std::vector<Step> steps;
  static const std::regex concurrently(R"(\bCONCURRENTLY\b)", std::regex::icase);
  for (const auto& statement : sql::split(*text))
    steps.push_back({statement.text, !std::regex_search(statement.text, concurrently)});
  return steps;
}

std::string RawSql::describe() const {
  if (allow) return fmt::format("raw SQL (allowed: {})", *allow);
  return "raw SQL";
}

void RawSql::apply(schema::Schema&) const {}

}  // namespace tandem::ops
