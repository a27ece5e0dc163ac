#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

CreateIndex CreateIndex::parse(FieldReader& fields) {
  CreateIndex op;
  op.table = fields.required_string("table");
  op.index.name = fields.required_string("name");
  op.index.columns = fields.required_list("columns");
  op.index.unique = fields.optional_bool("unique", false);
  fields.finish();
  return op;
}

void CreateIndex::validate(ValidationContext& context) const {
  context.require_identifier(table, "table");
  context.require_identifier(index.name, "index");
  require_identifiers(index.columns, "column", context);
  if (index.unique)
    context.warning("unique-over-existing-rows",
                    fmt::format("version {}: unique index {} on {} fails if existing rows hold duplicates",
                                context.version, index.name, table));
}

std::vector<Step> CreateIndex::render(const RenderContext& context) const {
  return context.sql.create_index(*this, context);
}

std::string CreateIndex::describe() const {
  return fmt::format("create {}index {} on {} ({})", index.unique ? "unique " : "", index.name, table,
                     fmt::join(index.columns, ", "));
}

void CreateIndex::apply(schema::Schema& schema) const {
  if (auto* found = schema.find_table(table)) found->indexes.push_back({index.name, index.columns, index.unique});
}

Reversal CreateIndex::reverse(const ReverseContext&) const { return Reversal::by({DropIndex{table, index.name}}); }

}  // namespace tandem::ops
