#include "unit/history_simulation.h"

#include <fmt/format.h>

#include <variant>

namespace tandem {

std::map<std::string, SimulatedSchema> simulate_history(const Repositories& repositories,
                                                        std::optional<SchemaState> state,
                                                        const SimulationStep& on_step) {
  const SchemaState at = state.value_or(SchemaState{repositories.latest(), repositories.latest()});
  std::map<std::string, SimulatedSchema> roles;
  for (const auto& version : repositories.versions) {
    if (version.number > at.expand) break;
    for (Phase phase : {Phase::expand, Phase::migrate, Phase::contract}) {
      if (phase == Phase::contract && version.number > at.contract) continue;
      const auto unit = version.units.find(phase);
      if (unit == version.units.end()) continue;
      for (const auto& operation : unit->second.operations) {
        SimulatedSchema& simulated = roles[unit->second.role_of(operation)];
        if (!simulated.known()) continue;
        // In migrate, raw SQL changes data only: the phase rules see to that.
        if (std::holds_alternative<ops::RawSql>(operation.body) && phase != Phase::migrate) {
          simulated.unknown_since = fmt::format("{}:{}", unit->second.path, operation.line);
          continue;
        }
        if (!on_step) {
          std::visit([&](const auto& op) { op.apply(simulated.schema); }, operation.body);
          continue;
        }
        const schema::Schema before = simulated.schema;
        std::visit([&](const auto& op) { op.apply(simulated.schema); }, operation.body);
        on_step(unit->second, operation, before, simulated.schema);
      }
    }
  }
  return roles;
}

}  // namespace tandem
