#include "run/phase_rules.h"

namespace tandem {

using schema::ChangeKind;

namespace {

bool allowed(Phase phase, const schema::SchemaChange& change) {
  switch (phase) {
    case Phase::expand:
      return change.change == ChangeKind::add ||
             (change.change == ChangeKind::modify && change.object == schema::ObjectKind::column &&
              change.what == schema::kNullabilityRelaxed);
    case Phase::migrate: return false;
    case Phase::contract: return change.change != ChangeKind::add;
  }
  return false;
}

}  // namespace

std::vector<std::string> phase_violations(Phase phase, const std::vector<schema::SchemaChange>& changes) {
  std::vector<std::string> violations;
  for (const auto& change : changes)
    if (!allowed(phase, change)) violations.push_back(change.describe());
  return violations;
}

}  // namespace tandem
