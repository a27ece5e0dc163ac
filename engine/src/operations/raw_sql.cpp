#include <fmt/format.h>

#include <algorithm>
#include <regex>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"
#include "sql/sql_text.h"
#include "sql/syntax.h"
#include "tandem/error.h"

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
std::string excerpt(const std::string& statement, DialectKind dialect) {
  constexpr size_t kMaxLength = 80;
  std::string text = sql::normalize(statement, dialect);
  // normalize() keeps quoted text as written, line breaks included.
  std::replace_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  if (text.size() > kMaxLength) {
    size_t cut = kMaxLength - 3;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
    text = text.substr(0, cut) + "...";
  }
  return text;
}

// The findings of one SQL text read by one dialect's rules.
Findings findings_for(const RawSql& op, const std::string& label, const std::string& text, DialectKind dialect,
                      const ValidationContext& context) {
  Findings findings;
  ValidationContext at{context.phase, context.file, context.line, context.version, findings, context.migrated_text};
  if (auto problem = sql::script_problem(text, dialect)) {
    at.error("bad-sql", fmt::format("version {}: {} text cannot be split into statements: {}", context.version, label,
                                    *problem));
    return findings;
  }
  static const std::regex blocking_index(R"(^CREATE\s+(UNIQUE\s+)?INDEX\s+(?!CONCURRENTLY))", std::regex::icase);
  for (const auto& statement : sql::split(text, dialect)) {
    const auto classification = sql::classify(statement.text, dialect);
    const std::string where =
        fmt::format("version {}: {} statement \"{}\" ({}, {})", context.version, label, excerpt(statement.text, dialect),
                    classification.summary, sql::class_name(classification.cls));
    // statement.line counts from 1 within the SQL text, which (written inline) starts on the operation's line.
    at.line = context.line + statement.line - 1;
    if (!phase_allows(context.phase, classification.cls)) {
      if (op.allow)
        at.warning("allowed", fmt::format("{} is not allowed in {} but the step says allow: \"{}\"", where,
                                          phase_name(context.phase), *op.allow));
      else
        at.error(phase_rule_code(context.phase, classification.cls),
                 fmt::format("{} is not allowed in {} (add allow: \"reason\" to the step if it must run)", where,
                             phase_name(context.phase)));
    }
    if (sql::syntax_of(dialect).plain_create_index_blocks_writes &&
        std::regex_search(sql::normalize(statement.text, dialect), blocking_index))
      at.warning("blocking-index",
                 fmt::format("version {}: \"{}\": CREATE INDEX without CONCURRENTLY blocks writes on {} "
                             "while it builds; prefer create_index",
                             context.version, excerpt(statement.text, dialect), dialect_name(dialect)));
  }
  return findings;
}

}  // namespace

RawSql RawSql::parse(FieldReader& fields) {
  RawSql op;
  for (const sql::Syntax* dialect : sql::syntaxes())
    if (auto text = fields.optional_string(dialect->name)) op.per_dialect[dialect->kind] = *text;
  op.allow = fields.optional_string("allow");
  if (op.allow && op.allow->empty()) fields.fail(fields.node()["allow"], "sql: 'allow' must give a reason");
  if (YAML::Node abort = fields.optional_node("abort"); abort.IsDefined() && !abort.IsNull()) {
    if (abort.IsScalar()) {
      op.abort_all = abort.Scalar();
    } else {
      FieldReader per_dialect(abort, fields.file(), "sql abort");
      for (const sql::Syntax* dialect : sql::syntaxes())
        if (auto text = per_dialect.optional_string(dialect->name)) op.abort_per_dialect[dialect->kind] = *text;
      per_dialect.finish();
      if (op.abort_per_dialect.empty()) fields.fail(abort, "sql: 'abort' takes SQL as a string or per dialect");
    }
  }
  if (op.per_dialect.empty()) {
    std::vector<std::string> keys;
    for (const sql::Syntax* dialect : sql::syntaxes()) keys.push_back(dialect->name);
    fields.fail(fields.node(), fmt::format("sql: give the SQL as a string or under {}", fmt::join(keys, ", ")));
  }
  fields.finish();
  return op;
}

const std::string* RawSql::text_for(DialectKind dialect) const {
  if (all) return &*all;
  auto it = per_dialect.find(dialect);
  return it == per_dialect.end() ? nullptr : &it->second;
}

const std::string* RawSql::abort_text_for(DialectKind dialect) const {
  if (abort_all) return &*abort_all;
  auto it = abort_per_dialect.find(dialect);
  return it == abort_per_dialect.end() ? nullptr : &it->second;
}

void RawSql::validate(ValidationContext& context) const {
  for (const auto& [dialect, text] : per_dialect)
    context.findings.append(findings_for(*this, dialect_name(dialect), text, dialect, context));
  if (!all) return;
  // A plain string runs on every dialect, and each splits and reads it by its own rules: a
  // finding only some of them make says which.
  std::vector<std::pair<Finding, std::vector<std::string>>> merged;
  for (const sql::Syntax* dialect : sql::syntaxes()) {
    const Findings findings = findings_for(*this, "sql", *all, dialect->kind, context);
    for (const Finding& finding : findings.items()) {
      auto same = std::find_if(merged.begin(), merged.end(), [&](const auto& entry) {
        return entry.first.line == finding.line && entry.first.code == finding.code &&
               entry.first.message == finding.message;
      });
      if (same == merged.end()) same = merged.insert(merged.end(), {finding, {}});
      same->second.push_back(dialect->name);
    }
  }
  for (auto& [finding, dialects] : merged) {
    if (dialects.size() < sql::syntaxes().size())
      finding.message += fmt::format(" (as {} read it)", fmt::join(dialects, " and "));
    context.findings.add(std::move(finding));
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
  for (const auto& statement : sql::split(*text, context.sql.kind()))
    steps.push_back({statement.text, !std::regex_search(statement.text, concurrently)});
  return steps;
}

std::string RawSql::describe() const {
  if (allow) return fmt::format("raw SQL (allowed: {})", *allow);
  return "raw SQL";
}

void RawSql::apply(schema::Schema&) const {}

// A step that only reads or sets the session (SELECT, SET) changed nothing to undo; any
// other needs the unit author's `abort:` SQL, since tandem cannot know what it did.
Reversal RawSql::reverse(const ReverseContext& context) const {
  if (const std::string* undo = abort_text_for(context.dialect)) {
    RawSql reversal;
    reversal.all = *undo;
    return Reversal::by({std::move(reversal)});
  }
  const std::string* text = text_for(context.dialect);
  if (!text) return Reversal::nothing();
  for (const auto& statement : sql::split(*text, context.dialect))
    if (sql::classify(statement.text, context.dialect).cls != sql::StatementClass::neutral)
      return Reversal::refused(fmt::format("raw SQL \"{}\" has no abort: key saying what undoes it",
                                           excerpt(statement.text, context.dialect)));
  return Reversal::nothing();
}

}  // namespace tandem::ops
