#include "run/data_rule.h"

#include <fmt/format.h>

#include "sql/sql_text.h"
#include "tandem/error.h"

namespace tandem {

std::optional<std::string> execute_under_data_rule(Connection& connection, const Unit& unit,
                                                   const std::string& database, const Step& step, bool in_transaction) {
  std::optional<std::string> how;
  auto run = [&] {
    if (step.builds_index.empty() && step.copies_table.empty())
      connection.execute(step.sql);
    else
      how = connection.execute_build(step);
  };
  if (unit.phase == Phase::migrate || step.rebuilds_table) {
    run();
    return how;
  }
  // Outside the unit's transaction (a journaled step), a statement that may write gets a
  // transaction of its own, so that a violation leaves the rows as they were. DDL cannot
  // ride in one there (MySQL commits it, CONCURRENTLY refuses it) and writes no rows.
  const bool own_transaction = !in_transaction && !sql::is_schema_change(step.sql, connection.kind());
  if (own_transaction) connection.begin();
  try {
    const long long before = connection.rows_written();
    run();
    const long long changed = connection.rows_written() - before;
    if (changed > 0)
      throw Error(ErrorKind::step_failed,
                  fmt::format("version {} broke the {} rule on {}: a statement changed {} row{} of the application's "
                              "tables, which {} may not do (DESIGN §5); its writes were undone and the unit stopped",
                              unit.version, phase_name(unit.phase), database, changed, changed == 1 ? "" : "s",
                              phase_name(unit.phase)))
          .with_sql(step.sql)
          .with_file(unit.path);
    if (own_transaction) connection.commit();
  } catch (...) {
    if (own_transaction) connection.rollback();
    throw;
  }
  return how;
}

}  // namespace tandem
