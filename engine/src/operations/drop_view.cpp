#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

DropView DropView::parse(FieldReader& fields) {
  DropView op;
  op.name = fields.required_string("name");
  fields.finish();
  return op;
}

void DropView::validate(ValidationContext& context) const { context.require_identifier(name, "view"); }

std::vector<Step> DropView::render(const RenderContext& context) const { return context.sql.drop_view(*this, context); }

std::string DropView::describe() const { return fmt::format("drop view {}", name); }

void DropView::apply(schema::Schema& schema) const {
  std::erase_if(schema.views, [&](const schema::View& v) { return v.name == name; });
}

// An abort undoes a version before its contract starts: a contract operation never ran.
Reversal DropView::reverse(const ReverseContext&) const {
  return Reversal::refused("contract operations are not undone: abort works only until contract starts");
}

}  // namespace tandem::ops
