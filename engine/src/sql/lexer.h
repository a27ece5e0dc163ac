// The one SQL lexer: splitting, classification, normalisation and the expression
// checks all read SQL through it, by the rules of the dialect the text is for.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "sql/syntax.h"
#include "tandem/url.h"

namespace tandem::sql {

enum class TokenKind { space, comment, quoted, word, symbol };

struct Token {
  TokenKind kind;
  std::string_view text;
  size_t offset;  // into the lexed text
  int line;       // of the token's first character
  // A quote or comment that the text ends inside of: it swallowed the rest.
  bool unterminated = false;
  // A -- or # comment, which runs to the end of its line.
  bool line_comment = false;
};

bool is_blank(TokenKind kind);

// Cuts SQL into tokens the way `dialect`'s server reads it, by its Syntax (sql/syntax.h):
//   all:        '...' (doubled quote escapes), "...", -- and /* */ comments
//   and what the syntax adds: $$...$$ and $tag$...$tag$, E'...' with backslash escapes,
//   nested /* */ (PostgreSQL); `...`, # comments, -- only when followed by a space or
//   control character, backslash escapes in '...' and "...", and /*! ... */ (/*M! ... */)
//   executable comments, whose content is read as code (MySQL); `...` and [...] (SQLite)
// An unterminated quote or comment runs to the end of the input and is marked so.
class Lexer {
 public:
  Lexer(std::string_view text, DialectKind dialect) : text_(text), syntax_(&syntax_of(dialect)) {}

  bool done() const { return pos_ >= text_.size(); }
  Token next();
  // Inside a MySQL /*! ... */ whose */ has not come yet.
  bool inside_executable_comment() const { return in_executable_comment_; }

 private:
  TokenKind scan(Token& token);
  size_t after_quoted(char quote, bool backslash_escapes) const;
  size_t after_block_comment(size_t from, bool nested) const;
  bool opens_line_comment() const;
  bool opens_executable_comment(size_t& content) const;
  size_t dollar_opener_end() const;

  std::string_view text_;
  const Syntax* syntax_;
  size_t pos_ = 0;
  int line_ = 1;
  bool in_executable_comment_ = false;
};

// The offsets of the `?` placeholders in `text`: every `?` the lexer reads as a symbol,
// so none inside a string, a quoted identifier, a dollar quote or a comment (but those in
// a MySQL /*! ... */, which the server runs). Engine SQL is written once, with `?`, for
// every dialect; PostgreSQL's driver wants $1, $2, ... in their place.
std::vector<size_t> placeholders(std::string_view text, DialectKind dialect);

}  // namespace tandem::sql
