#include "sql/sql_text.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "sql/lexer.h"

namespace tandem::sql {

namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool is_one_of(const std::string& word, std::initializer_list<std::string_view> words) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

// What an unterminated token leaves open, as a message names it.
std::string never_closed(const Token& token) {
  if (token.kind == TokenKind::comment) return fmt::format("a comment opened on line {} is never closed", token.line);
  size_t opener = 1;
  if (token.text.front() == '$') opener = token.text.find('$', 1) + 1;
  if (token.text.front() == 'E' || token.text.front() == 'e') opener = 2;
  return fmt::format("a quote {} opened on line {} is never closed", token.text.substr(0, opener), token.line);
}

constexpr const char* kExecutableCommentOpen = "a /*! comment (which MySQL runs as code) is never closed";

// Decides whether a ';' ends the statement. Trigger and routine bodies written as
// BEGIN ... END (SQLite and MySQL triggers, MySQL procedures, PostgreSQL's BEGIN
// ATOMIC) hold ';' of their own, so such a body is one block up to its matching END.
class BlockTracker {
 public:
  bool inside_block() const { return depth_ > 0; }

  void feed(const Token& token) {
    if (token.kind != TokenKind::word) {
      close_pending_end();
      if (token.text == "(") ++parens_;
      if (token.text == ")") --parens_;
      return;
    }
    const std::string word = upper(token.text);
    if (pending_end_) {
      pending_end_ = false;
      // IF, LOOP, WHILE, REPEAT and FOR are not counted as openers, so their END is not a closer;
      // END CASE closes a counted CASE.
      if (is_one_of(word, {"IF", "LOOP", "WHILE", "REPEAT", "FOR"})) return;
      --depth_;
      if (word == "CASE") return;
    }
    switch (header_) {
      case Header::first_word:
        header_ = word == "CREATE" ? Header::create : Header::other;
        return;
      case Header::create:
        // Stop at the object kind; the words before it are modifiers such as OR REPLACE,
        // TEMP or a MySQL DEFINER clause.
        if (is_one_of(word, {"TRIGGER", "FUNCTION", "PROCEDURE", "EVENT"}))
          header_ = Header::routine;
        else if (is_one_of(word, {"TABLE", "INDEX", "VIEW", "SEQUENCE", "TYPE", "SCHEMA", "DATABASE", "EXTENSION",
                                  "DOMAIN", "ROLE", "USER"}))
          header_ = Header::other;
        return;
      case Header::routine:
        break;
      case Header::other:
        return;
    }
    if (depth_ == 0) {
      if (word == "BEGIN" && parens_ == 0) depth_ = 1;
    } else if (word == "BEGIN" || word == "CASE") {
      ++depth_;
    } else if (word == "END") {
      pending_end_ = true;  // whether it closes a block depends on the next word
    }
  }

  void close_pending_end() {
    if (pending_end_) --depth_;
    pending_end_ = false;
  }

 private:
  enum class Header { first_word, create, routine, other };

  Header header_ = Header::first_word;
  int depth_ = 0;
  int parens_ = 0;
  bool pending_end_ = false;
};


}  // namespace

std::vector<Statement> split(std::string_view script, DialectKind dialect) {
  std::vector<Statement> statements;
  std::optional<Statement> current;
  size_t begin = 0;
  size_t end = 0;  // past the last token that is not space or comment, so trailing comments are cut
  BlockTracker block;
  const auto finish = [&] {
    if (current) {
      current->text = std::string(script.substr(begin, end - begin));
      statements.push_back(std::move(*current));
    }
    current.reset();
    block = BlockTracker{};
  };

  Lexer lexer(script, dialect);
  while (!lexer.done()) {
    const Token token = lexer.next();
    if (is_blank(token.kind)) continue;
    if (token.kind == TokenKind::symbol && token.text == ";") {
      block.close_pending_end();
      if (!block.inside_block()) {
        finish();
        continue;
      }
    }
    if (!current) {
      current = Statement{{}, token.line};
      begin = token.offset;
    }
    block.feed(token);
    end = token.offset + token.text.size();
  }
  finish();
  return statements;
}

std::string normalize(std::string_view statement, DialectKind dialect) {
  std::string out;
  bool separate = false;
  Lexer lexer(statement, dialect);
  while (!lexer.done()) {
    const Token token = lexer.next();
    if (is_blank(token.kind)) {
      // A comment separates tokens like whitespace does: a/**/b is two words.
      separate = true;
      continue;
    }
    if (separate && !out.empty()) out += ' ';
    separate = false;
    out += token.text;
  }
  return out;
}

std::optional<std::string> script_problem(std::string_view script, DialectKind dialect) {
  Lexer lexer(script, dialect);
  while (!lexer.done()) {
    const Token token = lexer.next();
    if (token.unterminated) return never_closed(token);
  }
  if (lexer.inside_executable_comment()) return kExecutableCommentOpen;
  return std::nullopt;
}

namespace {

// The checks expression_problem() and query_problem() share; `final_semicolon` lets a
// ';' stand at the very end.
std::optional<std::string> one_piece_problem(std::string_view text, DialectKind dialect, bool final_semicolon) {
  Lexer lexer(text, dialect);
  int depth = 0;
  bool any = false;
  std::optional<Token> semicolon;
  while (!lexer.done()) {
    const Token token = lexer.next();
    if (token.unterminated) return never_closed(token);
    if (token.line_comment && token.offset + token.text.size() == text.size())
      return fmt::format("the comment '{}' runs to the end and would hide what tandem writes after it",
                         token.text.substr(0, 2));
    if (is_blank(token.kind)) continue;
    if (semicolon) return fmt::format("the ';' on line {} ends the statement and starts another", semicolon->line);
    any = true;
    if (token.kind != TokenKind::symbol) continue;
    if (token.text == ";") {
      if (!final_semicolon) return fmt::format("the ';' on line {} would end tandem's statement", token.line);
      semicolon = token;
    } else if (token.text == "(") {
      ++depth;
    } else if (token.text == ")" && --depth < 0) {
      return fmt::format("the ')' on line {} closes a parenthesis it never opened", token.line);
    }
  }
  if (lexer.inside_executable_comment()) return kExecutableCommentOpen;
  if (!any) return "it is empty";
  if (depth > 0) return fmt::format("{} '(' never closed", depth == 1 ? "a" : std::to_string(depth));
  return std::nullopt;
}

}  // namespace

std::optional<std::string> expression_problem(std::string_view text, DialectKind dialect) {
  return one_piece_problem(text, dialect, false);
}

std::optional<std::string> query_problem(std::string_view text, DialectKind dialect) {
  if (auto problem = one_piece_problem(text, dialect, true)) return problem;
  const Classification query = classify(text, dialect);
  const bool select = query.summary == "SELECT" || query.summary == "VALUES" || query.summary.starts_with("WITH");
  if (query.cls != StatementClass::neutral || !select)
    return fmt::format("it is not a query but {} ({})", query.summary, class_name(query.cls));
  return std::nullopt;
}

}  // namespace tandem::sql
