#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

CopyRows CopyRows::parse(FieldReader& fields) {
  CopyRows op;
  op.from = fields.required_string("from");
  op.to = fields.required_string("to");
  op.columns = fields.required_assignments("columns");
  op.key = fields.optional_names("key");
  op.where = fields.optional_string("where");
  op.on_conflict = fields.optional_string("on_conflict");
  if (op.on_conflict && *op.on_conflict != "skip" && *op.on_conflict != "update")
    fields.fail(fields.node()["on_conflict"],
                fmt::format("copy_rows: on_conflict takes skip or update, not '{}'", *op.on_conflict));
  fields.finish();
  return op;
}

void CopyRows::validate(ValidationContext& context) const {
  context.require_identifier(from, "table");
  context.require_identifier(to, "table");
  for (const auto& [column, expression] : columns) {
    context.require_identifier(column, "column");
    context.require_expression(expression, fmt::format("copy_rows {} -> {} column {}", from, to, column));
  }
  if (where) context.require_expression(*where, fmt::format("copy_rows {} where", from));
  require_identifiers(key, "key column", context);
}

std::vector<Step> CopyRows::render(const RenderContext& context) const { return {{context.sql.copy_rows(*this, context)}}; }

std::string CopyRows::describe() const { return fmt::format("copy rows {} -> {}", from, to); }

void CopyRows::apply(schema::Schema&) const {}

}  // namespace tandem::ops
