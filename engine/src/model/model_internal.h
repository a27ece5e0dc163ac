// Helpers the model files share (model_file.cpp, compare.cpp, verify.cpp).
#pragma once

#include "tandem/schema.h"

namespace tandem::model {

// shadow_<name> as `shadow: true` declares it: the table's columns, autoincrement off,
// no index or constraint (what create_table makes).
schema::Table shadow_of(const schema::Table& table);

// The same columns (in any order), indexes and constraints.
bool same_table(const schema::Table& a, const schema::Table& b);

}  // namespace tandem::model
