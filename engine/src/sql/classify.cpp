#include "sql/sql_text.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sql/lexer.h"

namespace tandem::sql {

const char* class_name(StatementClass cls) {
  switch (cls) {
    case StatementClass::neutral: return "neutral";
    case StatementClass::additive: return "additive";
    case StatementClass::data: return "data";
    case StatementClass::contractive: return "contractive";
    case StatementClass::unknown: return "unknown";
  }
  return "?";
}

StatementClass strictest(StatementClass a, StatementClass b) { return std::max(a, b); }

namespace {

struct Piece {
  enum class Kind { word, quoted, symbol };

  Kind kind;
  std::string text;  // words upper-cased, so keywords compare directly

  bool is(std::string_view word) const { return kind == Kind::word && text == word; }
  bool is(char symbol) const { return kind == Kind::symbol && text.size() == 1 && text[0] == symbol; }
  bool is_one_of(std::initializer_list<std::string_view> words) const {
    return kind == Kind::word && std::find(words.begin(), words.end(), text) != words.end();
  }
};

using Tokens = std::span<const Piece>;

// The statement's tokens as classification reads them: comments and space dropped, words
// upper-cased so keywords compare directly.
std::vector<Piece> tokenize(std::string_view text, DialectKind dialect) {
  std::vector<Piece> tokens;
  Lexer lexer(text, dialect);
  while (!lexer.done()) {
    const Token token = lexer.next();
    switch (token.kind) {
      case TokenKind::space:
      case TokenKind::comment: break;
      case TokenKind::quoted: tokens.push_back({Piece::Kind::quoted, std::string(token.text)}); break;
      case TokenKind::symbol: tokens.push_back({Piece::Kind::symbol, std::string(token.text)}); break;
      case TokenKind::word: {
        std::string word(token.text);
        for (char& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        tokens.push_back({Piece::Kind::word, std::move(word)});
        break;
      }
    }
  }
  return tokens;
}

bool word_at(Tokens tokens, size_t at, std::string_view word) { return at < tokens.size() && tokens[at].is(word); }
bool symbol_at(Tokens tokens, size_t at, char symbol) { return at < tokens.size() && tokens[at].is(symbol); }

// Index just past the parenthesised group opening at `open`.
size_t after_group(Tokens tokens, size_t open) {
  int depth = 0;
  for (size_t at = open; at < tokens.size(); ++at) {
    if (tokens[at].is('(')) ++depth;
    if (tokens[at].is(')') && --depth == 0) return at + 1;
  }
  return tokens.size();
}

bool has_top_level_word(Tokens tokens, std::string_view word) {
  int depth = 0;
  for (const Piece& token : tokens) {
    if (token.is('(')) ++depth;
    if (token.is(')')) --depth;
    if (depth == 0 && token.is(word)) return true;
  }
  return false;
}

// Comma-separated clauses at parenthesis depth 0, as in ALTER TABLE t ADD a int, DROP b.
std::vector<Tokens> split_clauses(Tokens tokens) {
  std::vector<Tokens> clauses;
  int depth = 0;
  size_t begin = 0;
  for (size_t at = 0; at <= tokens.size(); ++at) {
    if (at == tokens.size() || (depth == 0 && tokens[at].is(','))) {
      if (at > begin) clauses.push_back(tokens.subspan(begin, at - begin));
      begin = at + 1;
    } else if (tokens[at].is('(')) {
      ++depth;
    } else if (tokens[at].is(')')) {
      --depth;
    }
  }
  return clauses;
}

Classification unrecognised(const std::string& what) {
  return {StatementClass::unknown, "unrecognised statement '" + what + "'"};
}

Classification classify_tokens(Tokens tokens);

// Index just past a MySQL option value such as CURRENT_USER(), `app`@`%` or 'app'@localhost,
// where `at` is the first token of the value.
size_t after_option_value(Tokens tokens, size_t at) {
  ++at;
  if (symbol_at(tokens, at, '@')) return at + 2;
  if (symbol_at(tokens, at, '(') && symbol_at(tokens, at + 1, ')')) return at + 2;
  return at;
}

// `tokens` follow CREATE.
Classification classify_create(Tokens tokens) {
  const bool or_replace = word_at(tokens, 0, "OR") && word_at(tokens, 1, "REPLACE");
  std::string summary = or_replace ? "CREATE OR REPLACE" : "CREATE";
  size_t at = or_replace ? 2 : 0;
  while (at < tokens.size()) {
    const Piece& token = tokens[at];
    if (token.is_one_of({"TABLE", "INDEX", "VIEW", "TRIGGER", "FUNCTION", "PROCEDURE", "TYPE", "SEQUENCE", "SCHEMA",
                         "EXTENSION", "DOMAIN", "EVENT"})) {
      // OR REPLACE may change an object that already exists, which only contract may do.
      return {or_replace ? StatementClass::contractive : StatementClass::additive, summary + " " + token.text};
    }
    if (token.is_one_of({"DEFINER", "ALGORITHM"}) && symbol_at(tokens, at + 1, '=')) {
      at = after_option_value(tokens, at + 2);
    } else if (token.is_one_of({"SQL", "SECURITY", "DEFINER", "INVOKER"})) {
      ++at;
    } else if (token.is_one_of({"TEMP", "TEMPORARY", "GLOBAL", "LOCAL", "UNLOGGED", "UNIQUE", "FULLTEXT", "SPATIAL",
                                "MATERIALIZED", "RECURSIVE", "CONSTRAINT", "VIRTUAL", "AGGREGATE", "TRUSTED",
                                "PROCEDURAL"})) {
      summary += " " + token.text;
      ++at;
    } else {
      return unrecognised(summary + " " + token.text);
    }
  }
  return unrecognised(summary);
}

// Index just past an object name such as s.t, "T" *, or f(int, text).
size_t after_name(Tokens tokens, size_t at) {
  if (at < tokens.size()) ++at;
  while (symbol_at(tokens, at, '.')) at += 2;
  if (symbol_at(tokens, at, '*')) ++at;
  if (symbol_at(tokens, at, '(')) at = after_group(tokens, at);
  return std::min(at, tokens.size());
}

// `tokens` follow ALTER.
Classification classify_alter(Tokens tokens) {
  size_t at = 0;
  while (at < tokens.size() && tokens[at].is_one_of({"IGNORE", "ONLINE", "OFFLINE"})) ++at;  // old MySQL modifiers
  std::string object;
  if (word_at(tokens, at, "MATERIALIZED") && word_at(tokens, at + 1, "VIEW")) {
    object = "MATERIALIZED VIEW";
    at += 2;
  } else if (at < tokens.size() && tokens[at].is_one_of({"TABLE", "INDEX", "VIEW", "SEQUENCE", "TYPE", "DOMAIN",
                                                           "FUNCTION", "PROCEDURE", "TRIGGER", "SCHEMA", "EXTENSION",
                                                           "EVENT"})) {
    object = tokens[at].text;
    ++at;
  } else {
    return unrecognised(at < tokens.size() ? "ALTER " + tokens[at].text : "ALTER");
  }
  const std::string label = "ALTER " + object;
  if (word_at(tokens, at, "IF") && word_at(tokens, at + 1, "EXISTS")) at += 2;
  if (word_at(tokens, at, "ONLY")) ++at;
  at = after_name(tokens, at);
  if (object == "TRIGGER" && word_at(tokens, at, "ON")) at = after_name(tokens, at + 1);  // PostgreSQL names the table

  StatementClass cls = StatementClass::neutral;
  std::vector<std::string> actions;
  for (Tokens clause : split_clauses(tokens.subspan(at))) {
    const Piece& verb = clause.front();
    StatementClass clause_cls = StatementClass::unknown;
    std::string action = verb.text;
    if (verb.is_one_of({"ADD", "VALIDATE"})) {
      // VALIDATE CONSTRAINT completes an ADD CONSTRAINT ... NOT VALID, the usual online way to add one.
      clause_cls = StatementClass::additive;
    } else if (verb.is_one_of({"DROP", "ALTER", "MODIFY", "CHANGE", "RENAME"})) {
      clause_cls = StatementClass::contractive;
    } else if (verb.is_one_of({"ALGORITHM", "LOCK"})) {
      continue;  // MySQL online DDL options say how the change is made, not what it changes
    } else {
      action += " (unrecognised)";
    }
    cls = strictest(cls, clause_cls);
    if (std::find(actions.begin(), actions.end(), action) == actions.end()) actions.push_back(action);
  }
  if (actions.empty()) return {StatementClass::unknown, label + " with no recognised change"};
  std::string summary = label + " ...";
  for (size_t i = 0; i < actions.size(); ++i) summary += (i == 0 ? " " : " + ") + actions[i];
  return {cls, summary};
}

// `tokens` follow WITH. The statement is data when its final statement or any of its
// CTEs (PostgreSQL's WITH d AS (DELETE ...) SELECT ...) modifies rows.
Classification classify_with(Tokens tokens) {
  std::string cte_change;
  int depth = 0;
  for (size_t at = 0; at < tokens.size(); ++at) {
    const Piece& token = tokens[at];
    if (token.is('(')) {
      if (depth == 0 && at + 1 < tokens.size() && tokens[at + 1].is_one_of({"INSERT", "UPDATE", "DELETE", "MERGE"}))
        cte_change = tokens[at + 1].text;
      ++depth;
    } else if (token.is(')')) {
      --depth;
    } else if (depth == 0 && token.is_one_of({"INSERT", "UPDATE", "DELETE", "MERGE"})) {
      return {StatementClass::data, "WITH ... " + token.text};
    } else if (depth == 0 && token.is_one_of({"SELECT", "VALUES", "TABLE"})) {
      if (!cte_change.empty()) return {StatementClass::data, "WITH (" + cte_change + ") ... " + token.text};
      return {StatementClass::neutral, "WITH ... " + token.text};
    }
  }
  return unrecognised("WITH");
}

// `tokens` follow EXPLAIN. EXPLAIN ANALYZE runs its statement, so it takes that statement's class.
Classification classify_explain(Tokens tokens) {
  bool analyze = false;
  size_t at = 0;
  while (at < tokens.size()) {
    const Piece& token = tokens[at];
    if (token.is('(')) {  // PostgreSQL's option list: EXPLAIN (ANALYZE, BUFFERS) ...
      const size_t end = after_group(tokens, at);
      for (; at < end; ++at) analyze = analyze || tokens[at].is_one_of({"ANALYZE", "ANALYSE"});
      continue;
    }
    if (token.is_one_of({"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE", "WITH", "VALUES", "TABLE",
                         "CREATE", "EXECUTE", "DECLARE"}))
      break;
    analyze = analyze || token.is_one_of({"ANALYZE", "ANALYSE"});
    ++at;
  }
  if (!analyze) return {StatementClass::neutral, "EXPLAIN"};
  const Classification explained = classify_tokens(tokens.subspan(at));
  return {explained.cls, "EXPLAIN ANALYZE " + explained.summary};
}

struct Verb {
  std::string_view word;
  StatementClass cls;
};

// Statements recognised by their first word alone.
constexpr Verb simple_verbs[] = {
    {"INSERT", StatementClass::data},       {"UPDATE", StatementClass::data},
    {"DELETE", StatementClass::data},       {"REPLACE", StatementClass::data},
    {"MERGE", StatementClass::data},        {"TRUNCATE", StatementClass::data},
    {"COPY", StatementClass::data},         {"UPSERT", StatementClass::data},
    {"VALUES", StatementClass::neutral},    {"SET", StatementClass::neutral},
    {"SHOW", StatementClass::neutral},      {"COMMENT", StatementClass::neutral},
    {"ANALYZE", StatementClass::neutral},   {"ANALYSE", StatementClass::neutral},
    {"VACUUM", StatementClass::neutral},    {"PRAGMA", StatementClass::neutral},
    {"BEGIN", StatementClass::neutral},     {"COMMIT", StatementClass::neutral},
    {"ROLLBACK", StatementClass::neutral},  {"SAVEPOINT", StatementClass::neutral},
    {"RELEASE", StatementClass::neutral},
};

Classification classify_tokens(Tokens tokens) {
  while (!tokens.empty() && tokens.front().is('(')) tokens = tokens.subspan(1);  // (SELECT ...) UNION ...
  if (tokens.empty()) return {StatementClass::unknown, "empty statement"};
  const Piece& first = tokens.front();
  const Tokens rest = tokens.subspan(1);
  if (first.is("CREATE")) return classify_create(rest);
  if (first.is("ALTER")) return classify_alter(rest);
  if (first.is("DROP") || first.is("RENAME")) {
    std::string summary = first.text;
    if (!rest.empty() && rest[0].kind == Piece::Kind::word) summary += " " + rest[0].text;
    if (word_at(rest, 0, "MATERIALIZED") || word_at(rest, 0, "TEMPORARY") || word_at(rest, 0, "FOREIGN"))
      summary += rest.size() > 1 ? " " + rest[1].text : "";
    return {StatementClass::contractive, summary};
  }
  if (first.is("WITH")) return classify_with(rest);
  if (first.is("EXPLAIN")) return classify_explain(rest);
  if (first.is("SELECT")) {
    // SELECT ... INTO creates a table on PostgreSQL and writes variables or files on MySQL.
    if (has_top_level_word(rest, "INTO")) return {StatementClass::unknown, "SELECT ... INTO"};
    return {StatementClass::neutral, "SELECT"};
  }
  if (first.is("START") && word_at(rest, 0, "TRANSACTION")) return {StatementClass::neutral, "START TRANSACTION"};
  if (first.is("DO")) return {StatementClass::unknown, "DO block (opaque code)"};
  if (first.is("SET") && word_at(rest, 0, "STATEMENT")) {
    // MariaDB's SET STATEMENT <settings> FOR <statement>: the settings last for the one
    // statement, which is what the statement is.
    int depth = 0;
    for (size_t at = 1; at < rest.size(); ++at) {
      if (rest[at].is('(')) ++depth;
      if (rest[at].is(')')) --depth;
      if (depth == 0 && rest[at].is("FOR")) return classify_tokens(rest.subspan(at + 1));
    }
    return {StatementClass::unknown, "SET STATEMENT without FOR"};
  }
  for (const Verb& verb : simple_verbs) {
    if (first.is(verb.word)) return {verb.cls, first.text};
  }
  return unrecognised(first.text);
}

}  // namespace

Classification classify(std::string_view statement, DialectKind dialect) {
  const std::vector<Piece> tokens = tokenize(statement, dialect);
  return classify_tokens(tokens);
}

bool is_schema_change(std::string_view statement, DialectKind dialect) {
  const StatementClass cls = classify(statement, dialect).cls;
  return cls == StatementClass::additive || cls == StatementClass::contractive;
}

}  // namespace tandem::sql
