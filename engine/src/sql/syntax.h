// How one dialect's server reads SQL text: the plain data the lexer and the static checks
// go by, so that nothing in sql/ or operations/ branches on which dialect it is.
#pragma once

#include <vector>

#include "tandem/url.h"

namespace tandem::sql {

struct Syntax {
  DialectKind kind;
  const char* name;  // as messages and the sql operation's keys name it: "postgresql"

  // Quoting. '...' (a doubled quote escapes) and "..." are quoted everywhere.
  bool backslash_escapes = false;      // a backslash escapes the next character in '...' and "..." (MySQL)
  bool escape_string_prefix = false;   // E'...' takes backslash escapes (PostgreSQL)
  bool dollar_quotes = false;          // $$...$$ and $tag$...$tag$ (PostgreSQL)
  bool backtick_identifiers = false;   // `...` (MySQL, SQLite)
  bool bracket_identifiers = false;    // [...] (SQLite)

  // Comments. -- and /* */ are comments everywhere.
  bool nested_block_comments = false;  // /* /* */ */ nests (PostgreSQL)
  bool hash_comments = false;          // # to the end of the line (MySQL)
  bool dash_comment_needs_space = false;  // -- opens a comment only before a space or control character (MySQL)
  bool executable_comments = false;    // /*! ... */, /*!50700 ... */, /*M! ... */ hold code the server runs (MySQL)

  // What a plain statement costs: CREATE INDEX without CONCURRENTLY holds writes while it
  // builds (PostgreSQL), so the lint warns about it in raw SQL.
  bool plain_create_index_blocks_writes = false;
};

// The syntax of `kind`, and of every dialect in the build (in the order messages list
// them). Defined by the dialect registry (dialect/registry.cpp), the one list of
// dialects: each dialect states its own syntax in its folder.
const Syntax& syntax_of(DialectKind kind);
const std::vector<const Syntax*>& syntaxes();

}  // namespace tandem::sql
