#include <fmt/format.h>

#include "dialect/registry.h"

namespace tandem {

std::unique_ptr<Connection> connect_postgresql(const DatabaseUrl& url) {
  throw Error(ErrorKind::bad_config, fmt::format("{}: the postgresql dialect is not built into this tandem yet", url.redacted()));
}

const SqlRenderer& postgresql_renderer() {
  throw Error(ErrorKind::bad_config, "the postgresql dialect is not built into this tandem yet");
}

}  // namespace tandem
