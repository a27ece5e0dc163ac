#include "tandem/phase.h"

namespace tandem {

const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::expand: return "expand";
    case Phase::migrate: return "migrate";
    case Phase::contract: return "contract";
  }
  return "?";
}

const char* repository_folder(Phase phase) {
  switch (phase) {
    case Phase::expand: return "expand_repo";
    case Phase::migrate: return "data_migration_repo";
    case Phase::contract: return "contract_repo";
  }
  return "?";
}

std::optional<Phase> parse_phase(std::string_view name) {
  for (Phase phase : kPhases)
    if (name == phase_name(phase)) return phase;
  return std::nullopt;
}

}  // namespace tandem
