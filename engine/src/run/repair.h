// `tandem repair` (DESIGN §6): the way out for a journaled unit that stopped part-way and
// was edited since. Its applied steps are undone, back to the schema its journal recorded
// before it, so the edited unit can run afresh.
#pragma once

#include <string>
#include <vector>

#include "dialect/dialect.h"
#include "unit/unit.h"

namespace tandem {

// The statements that take `live` back to `before` (the journal's schema from before
// `unit` on `database`): the reverse of every object the unit added, dependants first,
// with `triggers` (those the unit installed) dropped before anything else. Throws
// Error(step_failed), naming the unit and the object, when the unit did anything other than
// add (a drop, a rename, a change of type cannot be undone from the schema alone):
// nothing is then changed.
std::vector<Step> repair_steps(const SqlRenderer& sql, const Unit& unit, const std::string& database,
                               const schema::Schema& before, const schema::Schema& live,
                               const std::vector<TriggerRecord>& triggers);

}  // namespace tandem
