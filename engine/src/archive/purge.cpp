#include <fmt/format.h>

#include "archive/also_delete.h"
#include "archive/common.h"
#include "tandem/archive.h"
#include "tandem/error.h"

namespace tandem {

long long PurgeReport::total() const {
  long long rows = 0;
  for (const auto& count : purged) rows += count.rows;
  return rows;
}

PurgeReport purge(const Deployment& deployment, const PurgeOptions& options) {
  PurgeReport report;
  for (const auto* target : deployment.select(options.role, options.database)) {
    auto database = archiving::open_locked(*target, options.wait);
    Connection& connection = *database.connection;
    const SqlRenderer& sql = connection.renderer();
    const auto snapshot = connection.snapshot();
    archiving::AlsoDeleter also_delete(deployment, target->name);
    for (const auto& table : snapshot.tables) {
      if (!table.name.starts_with(ops::shadow_name(""))) continue;
      std::string statement = fmt::format("DELETE FROM {}", sql.quote(table.name));
      std::string where;
      std::vector<Value> params;
      if (options.before) {
        // The best record of when the row died: deleted_at, else its last change, else its birth.
        const char* column = nullptr;
        for (const char* candidate : {"deleted_at", "updated_at", "created_at"})
          if (!column && table.find_column(candidate)) column = candidate;
        if (!column) {
          report.skipped.push_back({target->name, table.name,
                                    "it has no deleted_at, updated_at or created_at column to compare with --before"});
          continue;
        }
        where = sql.older_than(column);
        statement += " WHERE " + where;
        params.push_back(*options.before);
      }
      // The shadow rows are what records the also_delete rows still pending (also_delete.h):
      // those go first, so a crash in between leaves shadow rows with nothing pending.
      also_delete.sweep(connection, snapshot, report.also_deleted, table.name, where, params);
      connection.begin();
      try {
        const long long rows = connection.update(statement, params);
        connection.commit();
        if (rows > 0) archiving::add_count(report.purged, target->name, table.name, rows);
      } catch (...) {
        connection.rollback();
        throw;
      }
    }
  }
  return report;
}

}  // namespace tandem
