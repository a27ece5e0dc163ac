// What archive asks of MySQL/MariaDB: read committed, row locks on every table a batch
// touches (its rows are copied, then deleted: the copy locks them, so no write lands
// between the two), and paths joined rather than IN (subquery).
#include <fmt/format.h>

#include "dialect/mysql/mysql.h"

namespace tandem::mysql {

// InnoDB then keeps locks only on the rows a batch moves, not on every live row its scan
// passes, so the application's writes to those go on.
std::vector<std::string> MysqlRenderer::archive_session() const {
  return {"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"};
}

std::string MysqlRenderer::archive_row_lock() const { return " FOR UPDATE"; }

// MariaDB runs `IN (subquery)` in a DELETE once per row of the table.
ArchivePaths MysqlRenderer::archive_paths() const { return ArchivePaths::joined; }

// The copy locks the rows it reads, so a table without children of its own needs no
// statement just to lock them first (one read of its rows per batch instead of two).
ArchiveLocks MysqlRenderer::archive_locks() const { return ArchiveLocks::with_children; }

// In read committed, INSERT ... SELECT reads its rows without locking them (a consistent
// read): FOR UPDATE keeps them as copied until the delete and the commit.
std::vector<std::string> MysqlRenderer::archive_move(const ArchiveRows& rows, const std::string& shadow) const {
  auto statements = archive_copy_then_delete(rows, shadow);
  statements.front() += archive_row_lock();
  return statements;
}

std::string MysqlRenderer::older_than(const std::string& column) const { return fmt::format("{} < ?", quote(column)); }

}  // namespace tandem::mysql
