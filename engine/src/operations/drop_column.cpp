#include <fmt/format.h>

#include <regex>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

DropColumn DropColumn::parse(FieldReader& fields) {
  DropColumn op;
  op.table = fields.required_string("table");
  op.column = fields.required_string("column");
  fields.finish();
  return op;
}

void DropColumn::validate(ValidationContext& context) const {
  context.require_identifier(table, "table");
  context.require_identifier(column, "column");
  // A whole-word match: key_hash_v2 does not count as reading key_hash.
  if (context.migrated_text && is_identifier(column) &&
      !std::regex_search(*context.migrated_text, std::regex("\\b" + column + "\\b")))
    context.warning("drop-unread-column",
                    fmt::format("version {}: dropping {}.{}, which no migrate unit or sync trigger ever reads; "
                                "its data is lost",
                                context.version, table, column));
}

std::vector<Step> DropColumn::render(const RenderContext& context) const {
  auto steps = context.sql.drop_column(*this, context);
  if (const auto* shadow = context.schema.find_table(shadow_name(table)); shadow && shadow->find_column(column))
    for (auto& step : context.sql.drop_column({shadow->name, column}, context)) steps.push_back(step);
  return steps;
}

std::string DropColumn::describe() const { return fmt::format("drop column {}.{}", table, column); }

void DropColumn::apply(schema::Schema& schema) const {
  for (const auto& name : {table, shadow_name(table)})
    if (auto* found = schema.find_table(name))
      std::erase_if(found->columns, [&](const schema::Column& c) { return c.name == column; });
}

// An abort undoes a version before its contract starts: a contract operation never ran.
Reversal DropColumn::reverse(const ReverseContext&) const {
  return Reversal::refused("contract operations are not undone: abort works only until contract starts");
}

}  // namespace tandem::ops
