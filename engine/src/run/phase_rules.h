// The dynamic phase rules (DESIGN §5): judged on what a unit actually changed.
#pragma once

#include <string>
#include <vector>

#include "tandem/phase.h"
#include "tandem/schema_diff.h"

namespace tandem {

// The changes `phase` does not allow, described: expand may only add (and relax a
// column's NOT NULL), migrate may change nothing, contract may only drop, rename or alter.
std::vector<std::string> phase_violations(Phase phase, const std::vector<schema::SchemaChange>& changes);

}  // namespace tandem
