// `check` judges each operation against the schema the history before it builds (DESIGN
// §18): one that names what is not there at that point is an error (not-in-history).
#pragma once

#include "tandem/findings.h"
#include "unit/unit.h"

namespace tandem {

void check_against_history(const Repositories& repositories, Findings& findings);

}  // namespace tandem
