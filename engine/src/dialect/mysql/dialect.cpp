// MySQL and MariaDB as the registry knows them (dialect.h).
#include <fmt/format.h>

#include "dialect/mysql/mysql.h"
#include "dialect/normalize.h"
#include "dialect/registry.h"

namespace tandem {

namespace {

class MysqlDialect final : public Dialect {
 public:
  DialectKind kind() const override { return DialectKind::mysql; }
  std::vector<std::string> schemes() const override { return {"mysql", "mariadb"}; }
  UrlForm url_form() const override { return UrlForm::server; }
  int default_port() const override { return 3306; }
  const sql::Syntax& syntax() const override {
    static const sql::Syntax syntax = [] {
      sql::Syntax s{DialectKind::mysql, "mysql"};
      s.backslash_escapes = true;  // NO_BACKSLASH_ESCAPES is off by default
      s.backtick_identifiers = true;
      s.hash_comments = true;
      s.dash_comment_needs_space = true;
      s.executable_comments = true;
      return s;
    }();
    return syntax;
  }
  std::unique_ptr<Connection> connect(const DatabaseUrl& url, Access) const override { return connect_mysql(url); }
  const SqlRenderer& renderer() const override { return mysql_renderer(); }
  const DialectNormalizer& normalizer() const override { return mysql::normalizer(); }

  // Keys are varchar(191) at most: utf8mb4 index keys of older row formats stop at 767 bytes.
  std::string state_type(StateType type, int length) const override {
    switch (type) {
      case StateType::short_text: return fmt::format("varchar({})", length);
      case StateType::long_text: return "mediumtext";
      case StateType::document: return "longtext";
      case StateType::integer: return "int";
      case StateType::bigint: return "bigint";
      case StateType::serial_key: return "bigint NOT NULL AUTO_INCREMENT PRIMARY KEY";
    }
    return "mediumtext";
  }
  std::string state_table_options() const override { return mysql::kTableOptions; }

  bool makes_scratch_databases() const override { return true; }
  void create_database(Connection& admin, const std::string& name) const override {
    admin.execute(fmt::format("CREATE DATABASE {} CHARACTER SET utf8mb4", admin.renderer().quote(name)));
  }
};

}  // namespace

const Dialect& mysql_dialect() {
  static const MysqlDialect instance;
  return instance;
}

}  // namespace tandem
