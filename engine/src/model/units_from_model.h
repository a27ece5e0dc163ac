// `tandem new NAME --from-model` (DESIGN §18): the three units that take the schema the
// history builds to the declared model, as YAML text a person reviews before committing.
#pragma once

#include <map>
#include <string>

#include "tandem/phase.h"
#include "tandem/schema.h"

namespace tandem {

// What the next version must do, per role: the schema the history builds (`history`) and
// the model (`model`) of each role that has either.
struct RoleSchemas {
  schema::Schema history;
  schema::Schema model;
};

// The three units' text, by phase, and whether there is anything to do at all: empty
// when every role's model is what its history builds.
struct UnitsFromModel {
  std::map<Phase, std::string> text;
  bool empty = true;
};

// Additions in expand (new NOT NULL columns without a default added nullable), a
// commented backfill stub in migrate for each column that must be given values, removals,
// set_not_null and alter_type in contract. A column dropped while another is added in the
// same table is not taken for a rename: both units carry a comment with the sync_column +
// backfill pattern. `description` is each unit's first words ("nickname").
UnitsFromModel units_from_model(const std::map<std::string, RoleSchemas>& roles, const std::string& description);

}  // namespace tandem
