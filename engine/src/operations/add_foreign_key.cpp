#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

AddForeignKey AddForeignKey::parse(FieldReader& fields) {
  AddForeignKey op;
  op.table = fields.required_string("table");
  op.name = fields.required_string("name");
  op.columns = fields.required_list("columns");
  FieldReader references(fields.required_node("references"), fields.file(), "references");
  op.referenced_table = references.required_string("table");
  op.referenced_columns = references.required_list("columns");
  references.finish();
  op.on_delete = fields.optional_string("on_delete");
  fields.finish();
  return op;
}

void AddForeignKey::validate(ValidationContext& context) const {
  context.require_identifier(table, "table");
  context.require_identifier(name, "foreign key");
  context.require_identifier(referenced_table, "table");
  require_identifiers(columns, "column", context);
  require_identifiers(referenced_columns, "column", context);
  if (columns.size() != referenced_columns.size())
    context.error("bad-foreign-key", fmt::format("version {}: foreign key {} has {} columns but references {}",
                                                 context.version, name, columns.size(), referenced_columns.size()));
  validate_on_delete(on_delete, context);
}

std::vector<Step> AddForeignKey::render(const RenderContext& context) const {
  return context.sql.add_foreign_key(*this, context);
}

std::string AddForeignKey::describe() const {
  return fmt::format("add foreign key {} on {} ({}) -> {} ({})", name, table, fmt::join(columns, ", "),
                     referenced_table, fmt::join(referenced_columns, ", "));
}

void AddForeignKey::apply(schema::Schema& schema) const {
  if (auto* found = schema.find_table(table))
    found->foreign_keys.push_back({name, columns, referenced_table, referenced_columns, on_delete.value_or("")});
}

Reversal AddForeignKey::reverse(const ReverseContext&) const { return Reversal::by({DropConstraint{table, name}}); }

}  // namespace tandem::ops
