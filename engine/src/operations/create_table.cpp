#include <fmt/format.h>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "operations/renderer.h"

namespace tandem::ops {

CreateTable CreateTable::parse(FieldReader& fields) {
  CreateTable op;
  op.name = fields.required_string("name");
  YAML::Node columns = fields.required_node("columns");
  if (!columns.IsSequence() || columns.size() == 0) fields.fail(columns, "create_table: 'columns' must be a list of column specs");
  for (const auto& column : columns) {
    FieldReader spec(column, fields.file(), "column spec");
    op.columns.push_back(ColumnSpec::parse(spec));
  }
  YAML::Node indexes = fields.optional_node("indexes");
  if (indexes.IsDefined() && !indexes.IsNull()) {
    if (!indexes.IsSequence()) fields.fail(indexes, "create_table: 'indexes' must be a list");
    for (const auto& index : indexes) {
      FieldReader spec(index, fields.file(), "index spec");
      IndexSpec parsed;
      parsed.name = spec.required_string("name");
      parsed.columns = spec.required_list("columns");
      parsed.unique = spec.optional_bool("unique", false);
      spec.finish();
      op.indexes.push_back(std::move(parsed));
    }
  }
  YAML::Node unique = fields.optional_node("unique");
  if (unique.IsDefined() && !unique.IsNull()) {
    if (!unique.IsSequence()) fields.fail(unique, "create_table: 'unique' must be a list of column lists");
    for (const auto& columns_node : unique) {
      if (!columns_node.IsSequence() || columns_node.size() == 0)
        fields.fail(columns_node, "create_table: each 'unique' entry must be a list of columns");
      std::vector<std::string> names;
      for (const auto& name : columns_node) names.push_back(name.Scalar());
      op.unique.push_back(std::move(names));
    }
  }
  op.shadow = fields.optional_bool("shadow", false);
  fields.finish();
  return op;
}

void CreateTable::validate(ValidationContext& context) const {
  context.require_identifier(name, "table");
  if (shadow) context.require_identifier(shadow_name(name), "shadow table");
  int primary_keys = 0;
  for (const auto& column : columns) {
    validate_column(column, context, name);
    primary_keys += column.primary_key;
  }
  if (primary_keys == 0)
    context.warning("no-primary-key", fmt::format("version {}: table {} has no primary key; online batches need a key",
                                                  context.version, name));
  auto known = [&](const std::string& column) {
    for (const auto& spec : columns)
      if (spec.name == column) return true;
    return false;
  };
  for (const auto& index : indexes) {
    context.require_identifier(index.name, "index");
    for (const auto& column : index.columns)
      if (!known(column))
        context.error("unknown-column", fmt::format("version {}: index {} names column '{}' that table {} lacks",
                                                    context.version, index.name, column, name));
  }
  for (const auto& columns_list : unique)
    for (const auto& column : columns_list)
      if (!known(column))
        context.error("unknown-column", fmt::format("version {}: unique constraint names column '{}' that table {} lacks",
                                                    context.version, column, name));
}

std::vector<Step> CreateTable::render(const RenderContext& context) const { return context.sql.create_table(*this, context); }

std::string CreateTable::describe() const {
  return fmt::format("create table {}{}", name, shadow ? fmt::format(" (and {})", shadow_name(name)) : "");
}

void CreateTable::apply(schema::Schema& schema) const {
  schema::Table table{name};
  for (const auto& spec : columns) table.columns.push_back(to_schema_column(spec));
  for (const auto& index : indexes) table.indexes.push_back({index.name, index.columns, index.unique});
  for (const auto& columns_list : unique)
    table.unique_constraints.push_back({fmt::format("{}_{}_key", name, fmt::join(columns_list, "_")), columns_list});
  for (const auto& spec : columns) add_inline_constraints(table, spec);
  schema.tables.push_back(table);
  if (shadow) {
    schema::Table copy{shadow_name(name)};
    for (auto column : table.columns) {
      column.autoincrement = false;
      copy.columns.push_back(column);
    }
    schema.tables.push_back(copy);
  }
}

// The shadow goes first: nothing references it.
Reversal CreateTable::reverse(const ReverseContext&) const {
  std::vector<OperationBody> undo;
  if (shadow) undo.push_back(DropTable{shadow_name(name)});
  undo.push_back(DropTable{name});
  return Reversal::by(std::move(undo));
}

}  // namespace tandem::ops
