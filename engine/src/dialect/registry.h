// What each dialect folder gives the registry (dialect/registry.cpp, the one list of
// dialects): its Dialect, and the factories its Dialect and Connection share.
#pragma once

#include <memory>

#include "dialect/dialect.h"

namespace tandem {

std::unique_ptr<Connection> connect_sqlite(const DatabaseUrl& url, Access access);
const SqlRenderer& sqlite_renderer();
const Dialect& sqlite_dialect();

std::unique_ptr<Connection> connect_postgresql(const DatabaseUrl& url);
const SqlRenderer& postgresql_renderer();
const Dialect& postgresql_dialect();

std::unique_ptr<Connection> connect_mysql(const DatabaseUrl& url);
const SqlRenderer& mysql_renderer();
const Dialect& mysql_dialect();

}  // namespace tandem
