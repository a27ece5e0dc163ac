// The dynamic phase rule for data (DESIGN §5): expand and contract may not change rows.
// The static rule classifies what a unit says; this one watches what its statements do,
// so a write hidden where the classifier cannot see it (a function called by a SELECT, a
// DO block, a step that says `allow:`) stops the unit like a schema violation.
#pragma once

#include <optional>
#include <string>

#include "dialect/dialect.h"
#include "unit/unit.h"

namespace tandem {

// Runs `step` of `unit` on `connection` (the database named `database`). In expand and
// contract, throws Error(step_failed) naming the unit, version and statement when the
// statement changed rows of the application's tables; its writes are then undone with the
// caller's transaction (`in_transaction`), or, outside one, with a transaction of its own
// that a statement other than DDL runs in. The migrate phase, and steps whose writes are
// the schema change itself (Step::rebuilds_table), run unwatched. An index build or a
// table's rebuild (Step::builds_index, copies_table) runs by Connection::execute_build; what it says of how it ran is
// returned, for the run's events.
std::optional<std::string> execute_under_data_rule(Connection& connection, const Unit& unit,
                                                   const std::string& database, const Step& step, bool in_transaction);

}  // namespace tandem
