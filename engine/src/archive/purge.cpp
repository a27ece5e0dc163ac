#include <fmt/format.h>

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
    for (const auto& table : connection.snapshot().tables) {
      if (!table.name.starts_with(ops::shadow_name(""))) continue;
      std::string statement = fmt::format("DELETE FROM {}", sql.quote(table.name));
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
        statement += " WHERE " + sql.older_than(column);
        params.push_back(*options.before);
      }
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
