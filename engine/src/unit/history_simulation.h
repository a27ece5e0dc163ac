// The schema the history builds, without a database (DESIGN §18): the versions in order,
// each operation's apply() on the schema of its database role, from an empty schema.
// Used by `check` (an operation on what the history has not built), by `compare` during
// a rolling window (what a database holds at its own state) and by `new --from-model`.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "tandem/schema.h"
#include "unit/unit.h"

namespace tandem {

// Where a database stands for its schema: the last version expand and contract applied.
// Migrate changes data only, so it does not move the schema.
struct SchemaState {
  long long expand = 0;
  long long contract = 0;
};

// One role's simulated schema. Raw SQL in expand or contract changes the schema in ways
// only a database knows: from a role's first such operation on, its schema is not known,
// and `unknown_since` names that operation ("file:line").
struct SimulatedSchema {
  schema::Schema schema;
  std::optional<std::string> unknown_since;
  bool known() const { return !unknown_since; }
};

// Called for each operation the simulation applies, with the schema before and after it.
using SimulationStep = std::function<void(const Unit& unit, const ops::Operation& operation,
                                          const schema::Schema& before, const schema::Schema& after)>;

// Every role's schema at `state` (all versions when not given): for each version up to
// it, its expand, then its contract once the state has contracted it.
std::map<std::string, SimulatedSchema> simulate_history(const Repositories& repositories,
                                                        std::optional<SchemaState> state = std::nullopt,
                                                        const SimulationStep& on_step = nullptr);

}  // namespace tandem
