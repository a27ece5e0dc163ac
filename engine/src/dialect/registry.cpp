// The one list of dialects. A new dialect adds its line here and nothing else outside
// its folder (the how-to in dialect.h).
#include "dialect/registry.h"

#include <fmt/format.h>

#include <algorithm>

namespace tandem {

const std::vector<const Dialect*>& dialects() {
  static const std::vector<const Dialect*> all = {&postgresql_dialect(), &mysql_dialect(), &sqlite_dialect()};
  return all;
}

namespace sql {

const std::vector<const Syntax*>& syntaxes() {
  static const std::vector<const Syntax*> all = [] {
    std::vector<const Syntax*> list;
    for (const Dialect* dialect : dialects()) list.push_back(&dialect->syntax());
    return list;
  }();
  return all;
}

const Syntax& syntax_of(DialectKind kind) { return dialect_of(kind).syntax(); }

}  // namespace sql

const Dialect& dialect_of(DialectKind kind) {
  for (const Dialect* dialect : dialects())
    if (dialect->kind() == kind) return *dialect;
  throw Error(ErrorKind::usage, fmt::format("no dialect {} in this build", static_cast<int>(kind)));
}

const Dialect* dialect_for_scheme(const std::string& scheme) {
  for (const Dialect* dialect : dialects()) {
    const auto schemes = dialect->schemes();
    if (std::find(schemes.begin(), schemes.end(), scheme) != schemes.end()) return dialect;
  }
  return nullptr;
}

std::unique_ptr<Connection> connect(const DatabaseUrl& url, Access access) {
  return dialect_of(url.dialect).connect(url, access);
}

const SqlRenderer& renderer_for(DialectKind kind) { return dialect_of(kind).renderer(); }

void Dialect::create_database(Connection& admin, const std::string& name) const {
  admin.execute(fmt::format("CREATE DATABASE {}", admin.renderer().quote(name)));
}

void Dialect::drop_database(Connection& admin, const std::string& name) const {
  admin.execute(fmt::format("DROP DATABASE IF EXISTS {}", admin.renderer().quote(name)));
}

}  // namespace tandem
