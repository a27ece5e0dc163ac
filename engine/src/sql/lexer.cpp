#include "sql/lexer.h"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace tandem::sql {

namespace {

constexpr size_t npos = std::string_view::npos;

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Bytes of multi-byte UTF-8 characters count as letters, as PostgreSQL and MySQL allow them in identifiers.
bool is_word_start(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return std::isalnum(byte) || c == '_' || byte >= 0x80;
}

bool is_word_char(char c) { return is_word_start(c) || c == '$'; }

}  // namespace

bool is_blank(TokenKind kind) { return kind == TokenKind::space || kind == TokenKind::comment; }

Token Lexer::next() {
  Token token{TokenKind::space, {}, pos_, line_};
  token.kind = scan(token);
  token.text = text_.substr(token.offset, pos_ - token.offset);
  line_ += static_cast<int>(std::count(token.text.begin(), token.text.end(), '\n'));
  return token;
}

TokenKind Lexer::scan(Token& token) {
  const char c = text_[pos_];
  const auto run_to = [&](size_t end) {
    token.unterminated = end == npos;
    pos_ = end == npos ? text_.size() : end;
  };
  if (is_space(c)) {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
    return TokenKind::space;
  }
  if (in_executable_comment_ && text_.substr(pos_, 2) == "*/") {
    in_executable_comment_ = false;
    pos_ += 2;
    return TokenKind::comment;
  }
  if (opens_line_comment()) {
    token.line_comment = true;
    pos_ = std::min(text_.find('\n', pos_), text_.size());
    return TokenKind::comment;
  }
  if (text_.substr(pos_, 2) == "/*") {
    size_t content = 0;
    if (opens_executable_comment(content)) {
      in_executable_comment_ = true;
      pos_ = content;
      return TokenKind::comment;
    }
    run_to(after_block_comment(pos_ + 2, syntax_->nested_block_comments));
    return TokenKind::comment;
  }
  if (c == '\'' || c == '"') {
    // MySQL reads both as strings (ANSI_QUOTES is off) with backslash escapes.
    run_to(after_quoted(c, syntax_->backslash_escapes));
    return TokenKind::quoted;
  }
  if (c == '`' && syntax_->backtick_identifiers) {
    run_to(after_quoted(c, false));
    return TokenKind::quoted;
  }
  if (c == '[' && syntax_->bracket_identifiers) {
    const size_t close = text_.find(']', pos_ + 1);
    run_to(close == npos ? npos : close + 1);
    return TokenKind::quoted;
  }
  if (c == '$' && syntax_->dollar_quotes) {
    if (const size_t opener_end = dollar_opener_end(); opener_end != npos) {
      const std::string_view tag = text_.substr(pos_, opener_end - pos_);
      const size_t close = text_.find(tag, opener_end);
      run_to(close == npos ? npos : close + tag.size());
      return TokenKind::quoted;
    }
  }
  if (is_word_start(c)) {
    const size_t begin = pos_;
    while (pos_ < text_.size() && is_word_char(text_[pos_])) ++pos_;
    if (syntax_->escape_string_prefix && pos_ - begin == 1 && (c == 'E' || c == 'e') && pos_ < text_.size() &&
        text_[pos_] == '\'') {
      // PostgreSQL's E'...' strings are its one quoting where a backslash escapes the quote.
      run_to(after_quoted('\'', true));
      return TokenKind::quoted;
    }
    return TokenKind::word;
  }
  ++pos_;
  return TokenKind::symbol;
}

bool Lexer::opens_line_comment() const {
  if (syntax_->hash_comments && text_[pos_] == '#') return true;
  if (syntax_->dash_comment_needs_space) {
    // MySQL reads 1--1 as 1 minus -1: its -- comment needs a space or control character after it.
    if (text_.substr(pos_, 2) != "--") return false;
    return pos_ + 2 >= text_.size() || std::iscntrl(static_cast<unsigned char>(text_[pos_ + 2])) ||
           text_[pos_ + 2] == ' ';
  }
  return text_.substr(pos_, 2) == "--";
}

// MySQL runs the text of /*! ... */, /*!50700 ... */ and MariaDB's /*M! ... */ as code.
bool Lexer::opens_executable_comment(size_t& content) const {
  if (!syntax_->executable_comments) return false;
  size_t at = pos_ + 2;
  if (text_.substr(at, 2) == "M!")
    at += 2;
  else if (text_.substr(at, 1) == "!")
    at += 1;
  else
    return false;
  while (at < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at]))) ++at;
  content = at;
  return true;
}

// Past the closing */ of a comment whose text starts at `from`; PostgreSQL nests them.
size_t Lexer::after_block_comment(size_t from, bool nested) const {
  int depth = 1;
  for (size_t at = from; at + 1 < text_.size(); ++at) {
    if (nested && text_[at] == '/' && text_[at + 1] == '*') {
      ++depth;
      ++at;
    } else if (text_[at] == '*' && text_[at + 1] == '/') {
      if (--depth == 0) return at + 2;
      ++at;
    }
  }
  return npos;
}

// Past the quote opening at pos_; a doubled quote character stands for itself.
size_t Lexer::after_quoted(char quote, bool backslash_escapes) const {
  for (size_t at = pos_ + 1; at < text_.size(); ++at) {
    if (backslash_escapes && text_[at] == '\\') {
      ++at;
    } else if (text_[at] == quote) {
      if (at + 1 < text_.size() && text_[at + 1] == quote)
        ++at;
      else
        return at + 1;
    }
  }
  return npos;
}

// $$ or $tag$ opens a dollar quote; $1 is a positional parameter, since a tag cannot start with a digit.
size_t Lexer::dollar_opener_end() const {
  size_t at = pos_ + 1;
  if (at < text_.size() && is_word_start(text_[at]) && !std::isdigit(static_cast<unsigned char>(text_[at]))) {
    while (at < text_.size() && is_word_start(text_[at])) ++at;
  }
  if (at < text_.size() && text_[at] == '$') return at + 1;
  return npos;
}

std::vector<size_t> placeholders(std::string_view text, DialectKind dialect) {
  std::vector<size_t> offsets;
  Lexer lexer(text, dialect);
  while (!lexer.done()) {
    const Token token = lexer.next();
    if (token.kind == TokenKind::symbol && token.text == "?") offsets.push_back(token.offset);
  }
  return offsets;
}

}  // namespace tandem::sql
