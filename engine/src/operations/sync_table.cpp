#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

SyncTable SyncTable::parse(FieldReader& fields) {
  SyncTable op;
  op.from = fields.required_string("from");
  op.to = fields.required_string("to");
  op.key = fields.required_string("key");
  op.columns = fields.required_assignments("columns");
  op.both_ways = fields.optional_bool("both_ways", false);
  fields.finish();
  return op;
}

std::string SyncTable::source_key() const {
  for (const auto& [target, expression] : columns)
    if (target == key) return new_column_reference(expression);
  return "";
}

void SyncTable::validate(ValidationContext& context) const {
  context.require_identifier(from, "table");
  context.require_identifier(to, "table");
  context.require_identifier(key, "column");
  for (const auto& [target, expression] : columns) {
    context.require_identifier(target, "column");
    context.require_expression(expression, fmt::format("sync_table {} -> {} column {}", from, to, target));
    if (both_ways && new_column_reference(expression).empty())
      context.error("bad-sync", fmt::format("version {}: sync_table {} -> {} both_ways needs plain NEW.<column> "
                                            "expressions, but {} is '{}'",
                                            context.version, from, to, target, expression));
  }
  if (source_key().empty())
    context.error("bad-sync", fmt::format("version {}: sync_table {} -> {}: key '{}' must be mapped in columns to a "
                                          "plain NEW.<column> of {}",
                                          context.version, from, to, key, from));
  if (from == to) context.error("bad-sync", fmt::format("version {}: sync_table from and to are both {}", context.version, from));
}

std::vector<Step> SyncTable::render(const RenderContext& context) const {
  if (!context.install_triggers) return {};
  return context.sql.sync_table(*this, context);
}

std::string SyncTable::describe() const {
  return fmt::format("sync rows {} {} {} with triggers", from, both_ways ? "<->" : "->", to);
}

void SyncTable::apply(schema::Schema&) const {}

// Its triggers are recorded in tandem_triggers, and the abort drops them first.
Reversal SyncTable::reverse(const ReverseContext&) const { return Reversal::nothing(); }

}  // namespace tandem::ops
