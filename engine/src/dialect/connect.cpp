#include "dialect/registry.h"

namespace tandem {

std::unique_ptr<Connection> connect(const DatabaseUrl& url, Access access) {
  switch (url.dialect) {
    case DialectKind::sqlite: return connect_sqlite(url, access);
    case DialectKind::postgresql: return connect_postgresql(url);
    case DialectKind::mysql: return connect_mysql(url);
  }
  return connect_sqlite(url, access);
}

const SqlRenderer& renderer_for(DialectKind kind) {
  switch (kind) {
    case DialectKind::sqlite: return sqlite_renderer();
    case DialectKind::postgresql: return postgresql_renderer();
    case DialectKind::mysql: return mysql_renderer();
  }
  return sqlite_renderer();
}

}  // namespace tandem
