#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

DeleteRows DeleteRows::parse(FieldReader& fields) {
  DeleteRows op;
  op.table = fields.required_string("table");
  op.where = fields.required_string("where");
  op.key = fields.optional_names("key");
  fields.finish();
  return op;
}

void DeleteRows::validate(ValidationContext& context) const {
  context.require_identifier(table, "table");
  context.require_expression(where, fmt::format("delete_rows {} where", table));
  require_identifiers(key, "key column", context);
}

std::vector<Step> DeleteRows::render(const RenderContext& context) const {
  return {{fmt::format("DELETE FROM {} WHERE {}", context.sql.quote(table), where)}};
}

std::string DeleteRows::describe() const { return fmt::format("delete rows from {} where {}", table, where); }

void DeleteRows::apply(schema::Schema&) const {}

}  // namespace tandem::ops
