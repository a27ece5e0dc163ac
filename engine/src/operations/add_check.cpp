#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

AddCheck AddCheck::parse(FieldReader& fields) {
  AddCheck op;
  op.table = fields.required_string("table");
  op.name = fields.required_string("name");
  op.expression = fields.required_string("expression");
  fields.finish();
  return op;
}

void AddCheck::validate(ValidationContext& context) const {
  context.require_identifier(table, "table");
  context.require_identifier(name, "check constraint");
  context.require_expression(expression, fmt::format("check {} expression", name));
  // MySQL and MariaDB check a new CHECK's rows only by copying the table, writes held all
  // the while: say so where the unit is written, since `check` knows no database.
  context.warning("blocking-ddl", fmt::format("version {}: add_check {} on {} copies the table on MySQL/MariaDB, "
                                              "blocking writes until it is done (PostgreSQL validates online)",
                                              context.version, name, table));
}

std::vector<Step> AddCheck::render(const RenderContext& context) const { return context.sql.add_check(*this, context); }

std::string AddCheck::describe() const { return fmt::format("add check {} on {}: {}", name, table, expression); }

void AddCheck::apply(schema::Schema& schema) const {
  if (auto* found = schema.find_table(table)) found->checks.push_back({name, expression});
}

Reversal AddCheck::reverse(const ReverseContext&) const { return Reversal::by({DropConstraint{table, name}}); }

}  // namespace tandem::ops
