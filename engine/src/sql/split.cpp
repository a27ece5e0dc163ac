#include "sql/sql_text.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tandem::sql {

namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Bytes of multi-byte UTF-8 characters count as letters, as PostgreSQL and MySQL allow them in identifiers.
bool is_word_start(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return std::isalnum(byte) || c == '_' || byte >= 0x80;
}

bool is_word_char(char c) { return is_word_start(c) || c == '$'; }

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool is_one_of(const std::string& word, std::initializer_list<std::string_view> words) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

enum class TokenKind { space, comment, quoted, word, symbol };

struct Token {
  TokenKind kind;
  std::string_view text;
  size_t offset;  // into the lexed text
  int line;       // of the token's first character
};

// Cuts SQL into tokens. An unterminated quote or comment runs to the end of the
// input: the database will reject it, and splitting should not invent statements.
class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  bool done() const { return pos_ >= text_.size(); }

  Token next() {
    const size_t begin = pos_;
    const int line = line_;
    const TokenKind kind = scan();
    const std::string_view token = text_.substr(begin, pos_ - begin);
    line_ += static_cast<int>(std::count(token.begin(), token.end(), '\n'));
    return {kind, token, begin, line};
  }

 private:
  TokenKind scan() {
    const char c = text_[pos_];
    if (is_space(c)) {
      while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
      return TokenKind::space;
    }
    if (text_.substr(pos_, 2) == "--") {
      pos_ = std::min(text_.find('\n', pos_), text_.size());
      return TokenKind::comment;
    }
    if (text_.substr(pos_, 2) == "/*") {
      pos_ = after("*/", pos_ + 2);
      return TokenKind::comment;
    }
    if (c == '\'' || c == '"' || c == '`') {
      pos_ = after_quoted(c);
      return TokenKind::quoted;
    }
    if (c == '$') {
      if (const auto opener_end = dollar_opener_end()) {
        pos_ = after(text_.substr(pos_, *opener_end - pos_), *opener_end);
        return TokenKind::quoted;
      }
    }
    if (is_word_start(c)) {
      const size_t begin = pos_;
      while (pos_ < text_.size() && is_word_char(text_[pos_])) ++pos_;
      if (pos_ - begin == 1 && (c == 'E' || c == 'e') && pos_ < text_.size() && text_[pos_] == '\'') {
        pos_ = after_escape_string(pos_);
        return TokenKind::quoted;
      }
      return TokenKind::word;
    }
    ++pos_;
    return TokenKind::symbol;
  }

  size_t after(std::string_view closer, size_t from) const {
    const size_t at = text_.find(closer, from);
    return at == std::string_view::npos ? text_.size() : at + closer.size();
  }

  // A doubled quote character stands for itself inside the quotes.
  size_t after_quoted(char quote) const {
    size_t at = pos_ + 1;
    while (true) {
      at = text_.find(quote, at);
      if (at == std::string_view::npos) return text_.size();
      if (at + 1 < text_.size() && text_[at + 1] == quote) {
        at += 2;
        continue;
      }
      return at + 1;
    }
  }

  // PostgreSQL's E'...' strings are the one quoting where a backslash escapes the quote.
  size_t after_escape_string(size_t quote) const {
    size_t at = quote + 1;
    while (at < text_.size()) {
      if (text_[at] == '\\') {
        at += 2;
      } else if (text_[at] == '\'') {
        if (at + 1 < text_.size() && text_[at + 1] == '\'')
          at += 2;
        else
          return at + 1;
      } else {
        ++at;
      }
    }
    return text_.size();
  }

  // $$ or $tag$ opens a dollar quote; $1 is a positional parameter, since a tag cannot start with a digit.
  std::optional<size_t> dollar_opener_end() const {
    size_t at = pos_ + 1;
    if (at < text_.size() && is_word_start(text_[at]) && !std::isdigit(static_cast<unsigned char>(text_[at]))) {
      while (at < text_.size() && is_word_start(text_[at])) ++at;
    }
    if (at < text_.size() && text_[at] == '$') return at + 1;
    return std::nullopt;
  }

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
};

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

bool is_blank(TokenKind kind) { return kind == TokenKind::space || kind == TokenKind::comment; }

}  // namespace

std::vector<Statement> split(std::string_view script) {
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

  Lexer lexer(script);
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

std::string normalize(std::string_view statement) {
  std::string out;
  bool separate = false;
  Lexer lexer(statement);
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

}  // namespace tandem::sql
