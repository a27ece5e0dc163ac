#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

CreateView CreateView::parse(FieldReader& fields) {
  CreateView op;
  op.name = fields.required_string("name");
  op.sql = fields.required_string("sql");
  fields.finish();
  return op;
}

void CreateView::validate(ValidationContext& context) const {
  context.require_identifier(name, "view");
  context.require_query(sql, fmt::format("view {} sql", name));
}

std::vector<Step> CreateView::render(const RenderContext& context) const { return context.sql.create_view(*this, context); }

std::string CreateView::describe() const { return fmt::format("create view {}", name); }

void CreateView::apply(schema::Schema& schema) const { schema.views.push_back({name, sql}); }

Reversal CreateView::reverse(const ReverseContext&) const { return Reversal::by({DropView{name}}); }

}  // namespace tandem::ops
