// Schema snapshots as JSON: the journal of a non-transactional unit keeps the schema
// from before the unit, so a resumed run can still judge the unit by its phase rule.
#pragma once

#include <nlohmann/json.hpp>

#include "tandem/schema.h"

namespace tandem::schema {

// Hand-written: the default is optional, and absent must stay distinct from "".
void to_json(nlohmann::json& out, const Column& column);
void from_json(const nlohmann::json& in, Column& column);

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Index, name, columns, unique)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(UniqueConstraint, name, columns)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ForeignKey, name, columns, referenced_table, referenced_columns, on_delete)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Check, name, expression)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Table, name, columns, indexes, unique_constraints, foreign_keys, checks)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(View, name, sql)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Trigger, name, table, sql)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Function, name)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Schema, tables, views, triggers, functions)

}  // namespace tandem::schema
