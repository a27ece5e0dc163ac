#include <fmt/format.h>

#include "dialect/registry.h"

namespace tandem {

std::unique_ptr<Connection> connect_mysql(const DatabaseUrl& url) {
  throw Error(ErrorKind::bad_config, fmt::format("{}: the mysql dialect is not built into this tandem yet", url.redacted()));
}

const SqlRenderer& mysql_renderer() {
  throw Error(ErrorKind::bad_config, "the mysql dialect is not built into this tandem yet");
}

}  // namespace tandem
