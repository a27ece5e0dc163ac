#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

RenameTable RenameTable::parse(FieldReader& fields) {
  RenameTable op;
  op.from = fields.required_string("from");
  op.to = fields.required_string("to");
  fields.finish();
  return op;
}

void RenameTable::validate(ValidationContext& context) const {
  context.require_identifier(from, "table");
  context.require_identifier(to, "table");
}

std::vector<Step> RenameTable::render(const RenderContext& context) const { return context.sql.rename_table(*this, context); }

std::string RenameTable::describe() const { return fmt::format("rename table {} to {}", from, to); }

void RenameTable::apply(schema::Schema& schema) const {
  if (auto* found = schema.find_table(from)) found->name = to;
}

// An abort undoes a version before its contract starts: a contract operation never ran.
Reversal RenameTable::reverse(const ReverseContext&) const {
  return Reversal::refused("contract operations are not undone: abort works only until contract starts");
}

}  // namespace tandem::ops
