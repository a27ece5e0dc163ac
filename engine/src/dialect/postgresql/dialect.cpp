// PostgreSQL as the registry knows it (dialect.h).
#include <fmt/format.h>

#include "dialect/normalize.h"
#include "dialect/postgresql/postgresql.h"
#include "dialect/registry.h"

namespace tandem {

namespace {

class PostgresqlDialect final : public Dialect {
 public:
  DialectKind kind() const override { return DialectKind::postgresql; }
  std::vector<std::string> schemes() const override { return {"postgresql", "postgres"}; }
  UrlForm url_form() const override { return UrlForm::server; }
  int default_port() const override { return 5432; }
  const sql::Syntax& syntax() const override {
    static const sql::Syntax syntax = [] {
      sql::Syntax s{DialectKind::postgresql, "postgresql"};
      s.escape_string_prefix = true;
      s.dollar_quotes = true;
      s.nested_block_comments = true;
      s.plain_create_index_blocks_writes = true;
      return s;
    }();
    return syntax;
  }
  std::unique_ptr<Connection> connect(const DatabaseUrl& url, Access) const override { return connect_postgresql(url); }
  const SqlRenderer& renderer() const override { return postgresql_renderer(); }
  const DialectNormalizer& normalizer() const override { return postgresql::normalizer(); }

  std::string state_type(StateType type, int) const override {
    switch (type) {
      case StateType::short_text:
      case StateType::long_text:
      case StateType::document: return "text";
      case StateType::integer: return "integer";
      case StateType::bigint: return "bigint";
      case StateType::serial_key: return "bigserial PRIMARY KEY";
    }
    return "text";
  }

  bool makes_scratch_databases() const override { return true; }
  void drop_database(Connection& admin, const std::string& name) const override {
    // FORCE: a connection the engine left open must not keep the database alive.
    admin.execute(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", admin.renderer().quote(name)));
  }
};

}  // namespace

const Dialect& postgresql_dialect() {
  static const PostgresqlDialect instance;
  return instance;
}

}  // namespace tandem
