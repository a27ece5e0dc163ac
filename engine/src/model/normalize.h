// Normalization for compare (DESIGN §9): a declared model and a live snapshot are both
// brought to one canonical form per dialect, so that they compare equal when they mean
// the same. The shared rules live in normalize.cpp; what differs per dialect is a
// DialectNormalizer (dialect/normalize.h).
#pragma once

#include "dialect/normalize.h"
#include "tandem/schema.h"

namespace tandem::model {

// The canonical form of `schema` for comparison: types and defaults respelled, a
// primary key NOT NULL, no default on an autoincrement column, unique indexes as unique
// constraints; views, checks and triggers that are not tandem's left out.
schema::Schema canonical(const schema::Schema& schema, const DialectNormalizer& dialect);

}  // namespace tandem::model
