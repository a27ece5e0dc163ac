#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

SyncColumn SyncColumn::parse(FieldReader& fields) {
  SyncColumn op;
  op.table = fields.required_string("table");
  op.old_column = fields.required_string("old");
  op.new_column = fields.required_string("new");
  op.up = fields.optional_string("up").value_or("NEW." + op.old_column);
  op.down = fields.optional_string("down").value_or("NEW." + op.new_column);
  fields.finish();
  return op;
}

void SyncColumn::validate(ValidationContext& context) const {
  context.require_identifier(table, "table");
  context.require_identifier(old_column, "column");
  context.require_identifier(new_column, "column");
  context.require_expression(up, fmt::format("sync_column {} up", table));
  context.require_expression(down, fmt::format("sync_column {} down", table));
  if (old_column == new_column)
    context.error("bad-sync", fmt::format("version {}: sync_column on {} needs two different columns", context.version, table));
}

std::vector<Step> SyncColumn::render(const RenderContext& context) const {
  if (!context.install_triggers) return {};
  return context.sql.sync_column(*this, context);
}

std::string SyncColumn::describe() const {
  return fmt::format("sync {}.{} <-> {}.{} with triggers", table, old_column, table, new_column);
}

void SyncColumn::apply(schema::Schema&) const {}

// Its triggers are recorded in tandem_triggers, and the abort drops them first.
Reversal SyncColumn::reverse(const ReverseContext&) const { return Reversal::nothing(); }

}  // namespace tandem::ops
