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
  if (const auto on_conflict = fields.optional_string("on_conflict")) {
    if (*on_conflict == "skip")
      op.on_conflict = OnConflict::skip;
    else if (*on_conflict == "update")
      op.on_conflict = OnConflict::update;
    else
      fields.fail(fields.node()["on_conflict"],
                  fmt::format("copy_rows: on_conflict takes skip or update, not '{}'", *on_conflict));
  }
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

// The walk follows the source's key; each batch upserts the rows of its key range with
// the dialect's copy statement, whose conflict is the target's (`key`).
BatchPlan CopyRows::batch_plan(const RenderContext& context) const {
  RangePlan plan{key_walk(context, kName, from, key, where), "", ""};
  plan.walk.max_passes = 2;
  const auto statement = [&](const std::string& range) {
    CopyRows batch = *this;
    batch.key.clear();  // here the key walks the source; the upsert's conflict is the target's
    batch.where = range + (where ? " AND (" + *where + ")" : "");
    return context.sql.copy_rows(batch, context);
  };
  plan.first_batch = statement(plan.walk.first_range);
  plan.next_batch = statement(plan.walk.next_range);
  return plan;
}

std::vector<Step> CopyRows::render(const RenderContext& context) const { return batch_steps(batch_plan(context)); }

std::string CopyRows::describe() const { return fmt::format("copy rows {} -> {}", from, to); }

void CopyRows::apply(schema::Schema&) const {}

// Its copies went into what expand added, and go with it.
Reversal CopyRows::reverse(const ReverseContext&) const { return Reversal::nothing(); }

}  // namespace tandem::ops
