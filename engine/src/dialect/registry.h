// Each dialect folder implements its pair of these; connect.cpp picks by URL scheme.
#pragma once

#include <memory>

#include "dialect/dialect.h"

namespace tandem {

std::unique_ptr<Connection> connect_sqlite(const DatabaseUrl& url, Access access);
const SqlRenderer& sqlite_renderer();

std::unique_ptr<Connection> connect_postgresql(const DatabaseUrl& url);
const SqlRenderer& postgresql_renderer();

std::unique_ptr<Connection> connect_mysql(const DatabaseUrl& url);
const SqlRenderer& mysql_renderer();

}  // namespace tandem
