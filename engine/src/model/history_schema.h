// The schema each database role holds at a state of the history (DESIGN §18): simulated
// from the operations where they say what they change, and built on scratch SQLite
// databases, by running the units, for a role whose schema raw `sql` in expand or
// contract hides from the simulation.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "tandem/schema.h"
#include "unit/history_simulation.h"
#include "unit/unit.h"

namespace tandem {

struct HistorySchema {
  schema::Schema schema;
  // Set when the schema was built on a scratch SQLite database rather than simulated:
  // the raw SQL ("file:line") that made the simulation unknowable.
  std::optional<std::string> built_because;
};

// Every role's schema at `state` (all versions when not given). Throws
// Error(invalid_unit) naming the unit when the history does not build on SQLite (raw
// SQL with no SQLite text, or SQL SQLite rejects). `on_event` gets the scratch run's
// lines.
std::map<std::string, HistorySchema> history_schemas(const Repositories& repositories,
                                                     std::optional<SchemaState> state = std::nullopt,
                                                     const std::function<void(const std::string&)>& on_event = nullptr);

}  // namespace tandem
