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

  // Throws Error(bad_config) naming the URL (password hidden) on anything malformed.
  static DatabaseUrl parse(const std::string& text);

  bool is_memory() const { return dialect == DialectKind::sqlite && database == ":memory:"; }

  // The URL as it may be printed: the password, when there is one, is "***".
  std::string redacted() const;
};

// Replaces every password in URLs found in `text` by "***"; for messages that may
// quote a URL given by the user (driver errors, echoed config values).
std::string redact_passwords(const std::string& text);

}  // namespace tandem
