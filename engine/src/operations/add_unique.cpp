#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

AddUnique AddUnique::parse(FieldReader& fields) {
  AddUnique op;
  op.table = fields.required_string("table");
  op.name = fields.required_string("name");
  op.columns = fields.required_list("columns");
  fields.finish();
  return op;
}

void AddUnique::validate(ValidationContext& context) const {
  context.require_identifier(table, "table");
  context.require_identifier(name, "constraint");
  require_identifiers(columns, "column", context);
  context.warning("unique-over-existing-rows",
                  fmt::format("version {}: unique constraint {} on {} fails if existing rows hold duplicates",
                              context.version, name, table));
}

std::vector<Step> AddUnique::render(const RenderContext& context) const { return context.sql.add_unique(*this, context); }

std::string AddUnique::describe() const {
  return fmt::format("add unique constraint {} on {} ({})", name, table, fmt::join(columns, ", "));
}

void AddUnique::apply(schema::Schema& schema) const {
  if (auto* found = schema.find_table(table)) found->unique_constraints.push_back({name, columns});
}

Reversal AddUnique::reverse(const ReverseContext&) const { return Reversal::by({DropConstraint{table, name}}); }

}  // namespace tandem::ops
