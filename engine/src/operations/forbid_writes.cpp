#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

ForbidWrites ForbidWrites::parse(FieldReader& fields) {
  ForbidWrites op;
  op.table = fields.required_string("table");
  auto kinds = fields.optional_list("on");
  if (kinds.empty()) kinds = {"insert", "update", "delete"};
  for (const auto& kind : kinds) {
    if (kind == "insert") op.on.push_back(WriteKind::insert);
    else if (kind == "update") op.on.push_back(WriteKind::update);
    else if (kind == "delete") op.on.push_back(WriteKind::del);
    else fields.fail(fields.node()["on"], fmt::format("forbid_writes: 'on' takes insert, update, delete, not '{}'", kind));
  }
  op.when = fields.optional_string("when");
  op.message = fields.required_string("message");
  fields.finish();
  return op;
}

void ForbidWrites::validate(ValidationContext& context) const {
  context.require_identifier(table, "table");
  if (when) context.require_expression(*when, fmt::format("forbid_writes {} when", table));
}

std::vector<Step> ForbidWrites::render(const RenderContext& context) const {
  if (!context.install_triggers) return {};
  return context.sql.forbid_writes(*this, context);
}

std::string ForbidWrites::describe() const { return fmt::format("forbid writes to {}: {}", table, message); }

void ForbidWrites::apply(schema::Schema&) const {}

// Its triggers are recorded in tandem_triggers, and the abort drops them first.
Reversal ForbidWrites::reverse(const ReverseContext&) const { return Reversal::nothing(); }

}  // namespace tandem::ops
