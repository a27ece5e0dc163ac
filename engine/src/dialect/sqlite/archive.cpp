// What archive asks of SQLite: a batch holds the database's write lock (BEGIN
// IMMEDIATE), which already keeps the application from changing the rows it moves.
#include <fmt/format.h>

#include "dialect/sqlite/sqlite.h"

namespace tandem::sqlite {

std::vector<std::string> SqliteRenderer::archive_session() const { return {}; }

std::string SqliteRenderer::archive_row_lock() const { return ""; }

// SQLite has no DELETE with a join.
ArchivePaths SqliteRenderer::archive_paths() const { return ArchivePaths::nested_in; }

ArchiveLocks SqliteRenderer::archive_locks() const { return ArchiveLocks::none; }

std::vector<std::string> SqliteRenderer::archive_move(const ArchiveRows& rows, const std::string& shadow) const {
  return archive_copy_then_delete(rows, shadow);
}

// Datetimes are text, written with a space or a T: julianday() reads both, where
// comparing the text would not.
std::string SqliteRenderer::older_than(const std::string& column) const {
  return fmt::format("julianday({}) < julianday(?)", quote(column));
}

}  // namespace tandem::sqlite
