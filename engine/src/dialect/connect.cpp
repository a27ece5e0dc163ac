#include <fmt/format.h>

#include "dialect/dialect.h"
#include "dialect/sqlite/sqlite.h"
#include "tandem/error.h"

namespace tandem {

std::unique_ptr<Connection> connect(const DatabaseUrl& url) {
  switch (url.dialect) {
    case DialectKind::sqlite: return std::make_unique<sqlite::SqliteConnection>(url);
    case DialectKind::postgresql:
    case DialectKind::mysql: break;
  }
  throw Error(ErrorKind::bad_config,
              fmt::format("{}: the {} dialect is not built into this tandem yet", url.redacted(), dialect_name(url.dialect)));
}

const SqlRenderer& renderer_for(DialectKind kind) {
  static const sqlite::SqliteRenderer sqlite_renderer;
  switch (kind) {
    case DialectKind::sqlite: return sqlite_renderer;
    case DialectKind::postgresql:
    case DialectKind::mysql: break;
  }
  throw Error(ErrorKind::bad_config, fmt::format("the {} dialect is not built into this tandem yet", dialect_name(kind)));
}

}  // namespace tandem
