// ANSI forms shared by the dialects; each dialect overrides what it does differently.
#include <fmt/format.h>

#include "dialect/dialect.h"
#include "operations/common.h"
#include "sha256.h"

namespace tandem {

std::string SqlRenderer::quote(const std::string& identifier) const {
  std::string quoted = "\"";
  for (char c : identifier) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string SqlRenderer::literal(const std::string& text) const {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

std::string SqlRenderer::differs(const std::string& a, const std::string& b) const {
  return fmt::format("({}) IS DISTINCT FROM ({})", a, b);
}

std::string SqlRenderer::stored(const std::string& expression) const {
  return fmt::format("CAST(({}) AS text)", expression);
}

std::string SqlRenderer::trigger_expression(const std::string& expression) const {
  const std::string column = ops::new_column_reference(expression);
  return column.empty() ? expression : "NEW." + quote(column);
}

std::string SqlRenderer::column_definition(const ops::ColumnSpec& column, const std::string& table) const {
  std::string definition = quote(column.name) + " " + column_type(column, table);
  if (!column.nullable && !column.primary_key) definition += " NOT NULL";
  if (column.default_value) definition += " DEFAULT " + *column.default_value;
  return definition;
}

namespace {

// `name` when it fits in `limit` bytes, else a readable prefix made unique with a hash.
std::string shortened(const std::string& name, size_t limit) {
  if (limit == 0 || name.size() <= limit) return name;
  return fmt::format("{}_{}", name.substr(0, limit - 9), sha256_hex(name).substr(0, 8));
}

}  // namespace

std::string SqlRenderer::trigger_name(const std::string& version, const std::string& table,
                                      const std::string& purpose) const {
  // 63 on every dialect (DESIGN §4), so the names recorded in tandem_triggers do not
  // depend on the server.
  return shortened(fmt::format("tandem_{}_{}_{}", version, table, purpose), 63);
}

std::string SqlRenderer::generated_name(const std::string& name) const { return shortened(name, name_limit()); }

namespace {

std::string quoted_list(const SqlRenderer& sql, const std::vector<std::string>& names) {
  std::vector<std::string> quoted;
  for (const auto& name : names) quoted.push_back(sql.quote(name));
  return fmt::format("{}", fmt::join(quoted, ", "));
}

}  // namespace

std::vector<Step> SqlRenderer::create_table(const ops::CreateTable& op, const RenderContext& context) const {
  auto body = [&](bool shadow) {
    std::vector<std::string> items;
    std::vector<std::string> key;
    for (const auto& column : op.columns)
      if (column.primary_key) key.push_back(column.name);
    for (auto column : op.columns) {
      if (shadow) column.autoincrement = false;
      if (key.size() > 1) column.primary_key = false;
      items.push_back(column_definition(column, op.name));
    }
    if (key.size() > 1) items.push_back(fmt::format("PRIMARY KEY ({})", quoted_list(*this, key)));
    if (shadow) return items;
    for (const auto& column : op.columns)
      if (column.unique) items.push_back(fmt::format("CONSTRAINT {} UNIQUE ({})", quote(generated_name(op.name + "_" + column.name + "_key")), quote(column.name)));
    for (const auto& columns : op.unique)
      items.push_back(fmt::format("CONSTRAINT {} UNIQUE ({})", quote(generated_name(fmt::format("{}_{}_key", op.name, fmt::join(columns, "_")))),
                                  quoted_list(*this, columns)));
    for (const auto& column : op.columns)
      if (column.references) {
        auto dot = column.references->find('.');
        items.push_back(fmt::format("CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}){}",
                                    quote(generated_name(op.name + "_" + column.name + "_fkey")), quote(column.name),
                                    quote(column.references->substr(0, dot)), quote(column.references->substr(dot + 1)),
                                    column.on_delete ? " ON DELETE " + *column.on_delete : ""));
      }
    return items;
  };
  std::vector<Step> steps;
  steps.push_back({fmt::format("CREATE TABLE {} (\n  {}\n)", quote(op.name), fmt::join(body(false), ",\n  "))});
  for (const auto& index : op.indexes)
    steps.push_back({fmt::format("CREATE {}INDEX {} ON {} ({})", index.unique ? "UNIQUE " : "", quote(index.name),
                                 quote(op.name), quoted_list(*this, index.columns))});
  if (op.shadow)
    steps.push_back({fmt::format("CREATE TABLE {} (\n  {}\n)", quote(ops::shadow_name(op.name)),
                                 fmt::join(body(true), ",\n  "))});
  (void)context;
  return steps;
}

std::vector<Step> SqlRenderer::add_column(const ops::AddColumn& op, const RenderContext& context) const {
  const std::string& table = op.table;
  const ops::ColumnSpec& column = op.column;
  std::vector<Step> steps;
  std::string definition = column_definition(column, table);
  if (column.references) {
    auto dot = column.references->find('.');
    definition += fmt::format(" REFERENCES {} ({}){}", quote(column.references->substr(0, dot)),
                              quote(column.references->substr(dot + 1)),
                              column.on_delete ? " ON DELETE " + *column.on_delete : "");
  }
  steps.push_back({fmt::format("ALTER TABLE {} ADD COLUMN {}", quote(table), definition)});
  if (column.unique)
    for (auto& step :
         create_index({table, {generated_name(table + "_" + column.name + "_key"), {column.name}, true}}, context))
      steps.push_back(step);
  return steps;
}

std::vector<Step> SqlRenderer::create_index(const ops::CreateIndex& op, const RenderContext&) const {
  return {{fmt::format("CREATE {}INDEX {} ON {} ({})", op.index.unique ? "UNIQUE " : "", quote(op.index.name),
                       quote(op.table), quoted_list(*this, op.index.columns))}};
}

std::vector<Step> SqlRenderer::add_unique(const ops::AddUnique& op, const RenderContext&) const {
  return {{fmt::format("ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({})", quote(op.table), quote(op.name),
                       quoted_list(*this, op.columns))}};
}

std::vector<Step> SqlRenderer::add_foreign_key(const ops::AddForeignKey& op, const RenderContext&) const {
  return {{fmt::format("ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}){}", quote(op.table),
                       quote(op.name), quoted_list(*this, op.columns), quote(op.referenced_table),
                       quoted_list(*this, op.referenced_columns), op.on_delete ? " ON DELETE " + *op.on_delete : "")}};
}

std::vector<Step> SqlRenderer::add_check(const ops::AddCheck& op, const RenderContext&) const {
  return {{fmt::format("ALTER TABLE {} ADD CONSTRAINT {} CHECK ({})", quote(op.table), quote(op.name), op.expression)}};
}

std::vector<Step> SqlRenderer::create_view(const ops::CreateView& op, const RenderContext&) const {
  return {{fmt::format("CREATE VIEW {} AS {}", quote(op.name), op.sql)}};
}

std::vector<Step> SqlRenderer::drop_column(const ops::DropColumn& op, const RenderContext&) const {
  return {{fmt::format("ALTER TABLE {} DROP COLUMN {}", quote(op.table), quote(op.column))}};
}

std::vector<Step> SqlRenderer::drop_table(const ops::DropTable& op, const RenderContext&) const {
  return {{fmt::format("DROP TABLE {}", quote(op.name))}};
}

std::vector<Step> SqlRenderer::drop_index(const ops::DropIndex& op, const RenderContext&) const {
  return {{fmt::format("DROP INDEX {}", quote(op.name))}};
}

std::vector<Step> SqlRenderer::drop_view(const ops::DropView& op, const RenderContext&) const {
  return {{fmt::format("DROP VIEW {}", quote(op.name))}};
}

std::vector<Step> SqlRenderer::rename_column(const ops::RenameColumn& op, const RenderContext&) const {
  return {{fmt::format("ALTER TABLE {} RENAME COLUMN {} TO {}", quote(op.table), quote(op.from), quote(op.to))}};
}

std::vector<Step> SqlRenderer::rename_table(const ops::RenameTable& op, const RenderContext&) const {
  return {{fmt::format("ALTER TABLE {} RENAME TO {}", quote(op.from), quote(op.to))}};
}

std::vector<std::string> SqlRenderer::archive_copy_then_delete(const ArchiveRows& rows, const std::string& shadow) const {
  const std::string list = quoted_list(*this, rows.columns);
  std::string selected = list;
  if (!rows.alias.empty()) {
    std::vector<std::string> qualified;
    for (const auto& column : rows.columns) qualified.push_back(rows.alias + "." + quote(column));
    selected = fmt::format("{}", fmt::join(qualified, ", "));
  }
  return {fmt::format("INSERT INTO {} ({}) SELECT {} FROM {} WHERE {}", shadow, list, selected, rows.from, rows.where),
          fmt::format("DELETE {}FROM {} WHERE {}", rows.alias.empty() ? "" : rows.alias + " ", rows.from, rows.where)};
}

}  // namespace tandem
