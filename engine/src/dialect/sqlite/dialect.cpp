// SQLite as the registry knows it (dialect.h): a file, no server.
#include <filesystem>

#include "dialect/normalize.h"
#include "dialect/registry.h"
#include "dialect/sqlite/sqlite.h"

namespace tandem {

namespace {

class SqliteDialect final : public Dialect {
 public:
  DialectKind kind() const override { return DialectKind::sqlite; }
  std::vector<std::string> schemes() const override { return {"sqlite"}; }
  UrlForm url_form() const override { return UrlForm::file; }
  const sql::Syntax& syntax() const override {
    static const sql::Syntax syntax = [] {
      sql::Syntax s{DialectKind::sqlite, "sqlite"};
      s.backtick_identifiers = true;
      s.bracket_identifiers = true;
      return s;
    }();
    return syntax;
  }
  std::unique_ptr<Connection> connect(const DatabaseUrl& url, Access access) const override {
    return connect_sqlite(url, access);
  }
  const SqlRenderer& renderer() const override { return sqlite_renderer(); }
  const DialectNormalizer& normalizer() const override { return sqlite::normalizer(); }

  bool is_missing(const DatabaseUrl& url) const override {
    return !url.is_memory() && !std::filesystem::exists(url.database);
  }

  std::string state_type(StateType type, int) const override {
    switch (type) {
      case StateType::short_text:
      case StateType::long_text:
      case StateType::document: return "TEXT";
      case StateType::integer:
      case StateType::bigint: return "INTEGER";
      case StateType::serial_key: return "INTEGER PRIMARY KEY AUTOINCREMENT";
    }
    return "TEXT";
  }
};

}  // namespace

const Dialect& sqlite_dialect() {
  static const SqliteDialect instance;
  return instance;
}

}  // namespace tandem
