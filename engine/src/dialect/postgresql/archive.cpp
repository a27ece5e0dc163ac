// What archive asks of PostgreSQL: row locks, and each table's rows moved in one
// statement (DELETE ... RETURNING into the shadow).
#include <fmt/format.h>

#include "dialect/postgresql/postgresql.h"

namespace tandem::postgresql {

std::vector<std::string> PostgresqlRenderer::archive_session() const { return {}; }

std::string PostgresqlRenderer::archive_row_lock() const { return " FOR UPDATE"; }

// PostgreSQL plans IN (subquery) and a join alike.
ArchivePaths PostgresqlRenderer::archive_paths() const { return ArchivePaths::nested_in; }

// A table moving in one statement needs no lock of its own; its children's parents do.
ArchiveLocks PostgresqlRenderer::archive_locks() const { return ArchiveLocks::with_children; }

std::vector<std::string> PostgresqlRenderer::archive_move(const ArchiveRows& rows, const std::string& shadow) const {
  std::vector<std::string> quoted;
  for (const auto& column : rows.columns) quoted.push_back(quote(column));
  const std::string list = fmt::format("{}", fmt::join(quoted, ", "));
  return {fmt::format("WITH moved AS (DELETE FROM {} WHERE {} RETURNING {}) INSERT INTO {} ({}) SELECT {} FROM moved",
                      rows.from, rows.where, list, shadow, list, list)};
}

std::string PostgresqlRenderer::older_than(const std::string& column) const {
  return fmt::format("{} < ?", quote(column));
}

}  // namespace tandem::postgresql
