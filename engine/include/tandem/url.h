// Database URLs: sqlite:///abs/path.db, sqlite:rel/path.db, sqlite::memory:,
// postgresql://user:pass@host:port/db?sslmode=require, mysql:// (mariadb:// too).
#pragma once

#include <map>
#include <optional>
#include <string>

namespace tandem {

enum class DialectKind { sqlite, postgresql, mysql };

const char* dialect_name(DialectKind kind);

struct DatabaseUrl {
  DialectKind dialect = DialectKind::sqlite;
  std::string user;
  std::optional<std::string> password;
  std::string host;
  std::optional<int> port;
  std::string database;  // server dialects: database name; sqlite: file path or ":memory:"
  std::map<std::string, std::string> options;  // query parameters, e.g. sslmode

  // Throws Error(bad_config) on anything malformed, naming the URL by its scheme, user and
  // host only: a URL that does not parse may hold its password anywhere.
  static DatabaseUrl parse(const std::string& text);

  // An in-memory SQLite database (sqlite::memory:).
  bool is_memory() const;

  // The URL as it may be printed: the password, when there is one, is "***".
  std::string redacted() const;
  // `text` (a driver's message) with this URL's password, wherever it is quoted, as "***".
  std::string hide_password(const std::string& text) const;
};

// The URL `text` as it may be printed, whether it parses or not: redacted() when it
// does, else only its scheme, user and host (never anything of its credentials).
std::string redact_passwords(const std::string& text);

}  // namespace tandem
