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

BatchPlan DeleteRows::batch_plan(const RenderContext& context) const {
  RangePlan plan{key_walk(context, kName, table, key, where), "", ""};
  const auto statement = [&](const std::string& range) {
    return fmt::format("DELETE FROM {} WHERE {} AND ({})", context.sql.quote(table), range, where);
  };
  plan.first_batch = statement(plan.walk.first_range);
  plan.next_batch = statement(plan.walk.next_range);
  return plan;
}

std::vector<Step> DeleteRows::render(const RenderContext& context) const { return batch_steps(batch_plan(context)); }

std::string DeleteRows::describe() const { return fmt::format("delete rows from {} where {}", table, where); }

void DeleteRows::apply(schema::Schema&) const {}

Reversal DeleteRows::reverse(const ReverseContext&) const {
  return Reversal::refused(fmt::format("delete_rows on {} deleted rows that nothing can bring back", table));
}

}  // namespace tandem::ops
