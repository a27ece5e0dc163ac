#include <fmt/format.h>

#include "dialect/dialect.h"
#include "operations/common.h"
#include "unit/field_reader.h"

namespace tandem::ops {

SetNullable SetNullable::parse(FieldReader& fields) {
  SetNullable op;
  op.table = fields.required_string("table");
  op.column = fields.required_string("column");
  fields.finish();
  return op;
}

void SetNullable::validate(ValidationContext& context) const {
  context.require_identifier(table, "table");
  context.require_identifier(column, "column");
}

std::vector<Step> SetNullable::render(const RenderContext& context) const {
  return context.sql.set_nullable(table, column, context);
}

std::string SetNullable::describe() const { return fmt::format("make {}.{} nullable", table, column); }

void SetNullable::apply(schema::Schema& schema) const {
  if (auto* found = schema.find_table(table))
    if (auto* spec = found->find_column(column)) spec->nullable = true;
}

}  // namespace tandem::ops
