// The model file: read strictly (every key known, every name it points at declared),
// written back in the same shape, YAML or JSON.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "model/model_internal.h"
#include "operations/field_reader.h"
#include "operations/operations.h"
#include "tandem/error.h"
#include "tandem/model.h"
#include "yaml_document.h"

namespace tandem {

namespace fs = std::filesystem;
using ops::FieldReader;

namespace {

const std::set<std::string> kOnDeleteActions = {"cascade", "set null", "restrict", "no action", "set default"};

// No length limit: each database has its own (PostgreSQL cuts at 63 bytes, which compare
// forgives), and a model may declare what another dialect allows.
void require_identifier(const FieldReader& fields, const YAML::Node& at, const std::string& name, const char* what) {
  static const std::regex plain("[A-Za-z_][A-Za-z0-9_]*");
  if (!std::regex_match(name, plain))
    fields.fail(at, fmt::format("{} name '{}' is not a plain identifier (letters, digits, _)", what, name));
}

// The columns `key` lists, each one `table` declares.
std::vector<std::string> table_columns(FieldReader& fields, const std::string& key, const schema::Table& table,
                                       const char* what) {
  const YAML::Node node = fields.node()[key];
  auto columns = fields.required_list(key);
  for (const auto& column : columns)
    if (!table.find_column(column))
      fields.fail(node, fmt::format("{} of table {} names column '{}' that the table does not declare", what, table.name,
                                    column));
  return columns;
}

schema::Column read_column(const YAML::Node& node, const std::string& file, const schema::Table& table) {
  FieldReader fields(node, file, "column");
  // {name: x, type: decimal(10,2)}: the comma ends the type inside a flow mapping.
  for (const auto& key : fields.keys())
    if (!key.empty() && key.back() == ')')
      fields.fail(node, fmt::format("column: unknown key '{}': quote a type with a comma, as in type: \"decimal(10,2)\"",
                                    key));
  schema::Column column;
  column.name = fields.required_string("name");
  require_identifier(fields, node["name"], column.name, "column");
  if (table.find_column(column.name))
    fields.fail(node["name"], fmt::format("table {} declares column {} twice", table.name, column.name));
  column.type = fields.required_string("type");
  column.nullable = fields.optional_bool("nullable", true);
  column.default_value = fields.optional_string("default");
  column.primary_key = fields.optional_bool("primary_key", false);
  column.autoincrement = fields.optional_bool("autoincrement", false);
  fields.finish();
  if (column.autoincrement && !column.primary_key)
    fields.fail(node, fmt::format("column {}.{} is autoincrement but not the primary key", table.name, column.name));
  if (column.primary_key) column.nullable = false;
  return column;
}

schema::Index read_index(const YAML::Node& node, const std::string& file, const schema::Table& table) {
  FieldReader fields(node, file, "index");
  schema::Index index;
  index.name = fields.required_string("name");
  require_identifier(fields, node["name"], index.name, "index");
  index.columns = table_columns(fields, "columns", table, "an index");
  index.unique = fields.optional_bool("unique", false);
  fields.finish();
  return index;
}

// `[a, b]` or `{name, columns}`; unnamed ones are named as create_table names them.
schema::UniqueConstraint read_unique(const YAML::Node& node, const std::string& file, const schema::Table& table,
                                     const FieldReader& table_fields) {
  schema::UniqueConstraint unique;
  if (node.IsSequence()) {
    if (node.size() == 0) table_fields.fail(node, fmt::format("a unique constraint of table {} lists no column", table.name));
    for (const auto& column : node) {
      if (!column.IsScalar()) table_fields.fail(column, "a unique constraint lists column names");
      if (!table.find_column(column.Scalar()))
        table_fields.fail(column, fmt::format("a unique constraint of table {} names column '{}' that the table does "
                                              "not declare",
                                              table.name, column.Scalar()));
      unique.columns.push_back(column.Scalar());
    }
    unique.name = fmt::format("{}_{}_key", table.name, fmt::join(unique.columns, "_"));
    return unique;
  }
  FieldReader fields(node, file, "unique constraint");
  unique.name = fields.required_string("name");
  require_identifier(fields, node["name"], unique.name, "unique constraint");
  unique.columns = table_columns(fields, "columns", table, "a unique constraint");
  fields.finish();
  return unique;
}

struct PendingReference {
  std::string table;
  std::string referenced_table;
  std::vector<std::string> referenced_columns;
  YAML::Node at;
};

schema::ForeignKey read_foreign_key(const YAML::Node& node, const std::string& file, const schema::Table& table,
                                    std::vector<PendingReference>& references) {
  FieldReader fields(node, file, "foreign key");
  schema::ForeignKey key;
  key.columns = table_columns(fields, "columns", table, "a foreign key");
  key.name = fields.optional_string("name").value_or(fmt::format("{}_{}_fkey", table.name, fmt::join(key.columns, "_")));
  require_identifier(fields, node, key.name, "foreign key");
  const YAML::Node target = fields.required_node("references");
  FieldReader reference(target, file, "references");
  key.referenced_table = reference.required_string("table");
  key.referenced_columns = reference.required_list("columns");
  reference.finish();
  if (key.referenced_columns.size() != key.columns.size())
    fields.fail(target, fmt::format("foreign key {} of table {} has {} columns but references {}", key.name, table.name,
                                    key.columns.size(), key.referenced_columns.size()));
  key.on_delete = fields.optional_string("on_delete").value_or("");
  if (!key.on_delete.empty() && !kOnDeleteActions.count(key.on_delete))
    fields.fail(node["on_delete"], fmt::format("foreign key {}: on_delete must be cascade, set null, restrict, no action "
                                               "or set default, not '{}'",
                                               key.name, key.on_delete));
  fields.finish();
  references.push_back({table.name, key.referenced_table, key.referenced_columns, target});
  return key;
}

template <typename Reader>
void read_list(FieldReader& fields, const std::string& key, Reader&& read) {
  const YAML::Node list = fields.optional_node(key);
  if (!list.IsDefined() || list.IsNull()) return;
  if (!list.IsSequence()) fields.fail(list, fmt::format("table: '{}' must be a list", key));
  for (const auto& item : list) read(item);
}

}  // namespace

schema::Table model::shadow_of(const schema::Table& table) {
  schema::Table shadow{ops::shadow_name(table.name)};
  for (auto column : table.columns) {
    column.autoincrement = false;
    shadow.columns.push_back(std::move(column));
  }
  return shadow;
}

bool model::same_table(const schema::Table& a, const schema::Table& b) {
  if (a.columns.size() != b.columns.size()) return false;
  for (const auto& column : a.columns)
    if (const auto* other = b.find_column(column.name); !other || !(*other == column)) return false;
  return a.indexes == b.indexes && a.unique_constraints == b.unique_constraints && a.foreign_keys == b.foreign_keys &&
         a.checks == b.checks;
}

schema::Schema load_model(const fs::path& file) {
  const std::string display = file.string();
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorKind::invalid_unit, "cannot read the model file").with_file(display);
  std::ostringstream text;
  text << in.rdbuf();
  const YAML::Node document = load_yaml(text.str(), display, ErrorKind::invalid_unit);
  if (!document.IsMap())
    throw Error(ErrorKind::invalid_unit, "a model must be a mapping with a 'tables' list").with_file(display, 1);
  FieldReader top(document, display, "model");
  const YAML::Node tables = top.required_node("tables");
  if (!tables.IsSequence()) top.fail(tables, "model: 'tables' must be a list");
  top.finish();

  schema::Schema model;
  std::vector<PendingReference> references;
  std::map<std::string, YAML::Node> declared;  // table name -> where, for duplicates
  auto declare = [&](const FieldReader& fields, const YAML::Node& at, const std::string& name) {
    if (declared.count(name))
      fields.fail(at, fmt::format("table {} is declared twice (also at line {})", name, FieldReader::line_of(declared[name])));
    declared[name] = at;
  };
  for (const auto& node : tables) {
    FieldReader fields(node, display, "table");
    schema::Table table;
    table.name = fields.required_string("name");
    require_identifier(fields, node["name"], table.name, "table");
    declare(fields, node["name"], table.name);
    const YAML::Node columns = fields.required_node("columns");
    if (!columns.IsSequence() || columns.size() == 0)
      fields.fail(columns, fmt::format("table {}: 'columns' must be a list of columns", table.name));
    for (const auto& column : columns) table.columns.push_back(read_column(column, display, table));
    read_list(fields, "indexes", [&](const YAML::Node& item) { table.indexes.push_back(read_index(item, display, table)); });
    read_list(fields, "unique", [&](const YAML::Node& item) {
      table.unique_constraints.push_back(read_unique(item, display, table, fields));
    });
    read_list(fields, "foreign_keys", [&](const YAML::Node& item) {
      table.foreign_keys.push_back(read_foreign_key(item, display, table, references));
    });
    const bool shadow = fields.optional_bool("shadow", false);
    fields.finish();
    model.tables.push_back(table);
    if (shadow) {
      declare(fields, node["shadow"], ops::shadow_name(table.name));
      model.tables.push_back(model::shadow_of(table));
    }
  }
  for (const auto& reference : references) {
    const schema::Table* target = model.find_table(reference.referenced_table);
    if (!target)
      throw Error(ErrorKind::invalid_unit, fmt::format("a foreign key of table {} references table '{}' that the model "
                                                       "does not declare",
                                                       reference.table, reference.referenced_table))
          .with_file(display, FieldReader::line_of(reference.at));
    for (const auto& column : reference.referenced_columns)
      if (!target->find_column(column))
        throw Error(ErrorKind::invalid_unit, fmt::format("a foreign key of table {} references column '{}.{}' that the "
                                                         "model does not declare",
                                                         reference.table, target->name, column))
            .with_file(display, FieldReader::line_of(reference.at));
  }
  return model;
}

std::map<std::string, fs::path> model_files(const fs::path& folder) {
  std::map<std::string, fs::path> files;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(folder, error))
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") files[entry.path().stem().string()] = entry.path();
  return files;
}

namespace {

using Document = nlohmann::ordered_json;

Document column_document(const schema::Column& column) {
  Document out = {{"name", column.name}, {"type", column.type}};
  if (!column.nullable && !column.primary_key) out["nullable"] = false;
  if (column.default_value) out["default"] = *column.default_value;
  if (column.primary_key) out["primary_key"] = true;
  if (column.autoincrement) out["autoincrement"] = true;
  return out;
}

// The model as a document in the file's shape, shadow tables folded into their flag.
Document model_document(const schema::Schema& model) {
  Document tables = Document::array();
  std::set<std::string> folded;
  for (const auto& table : model.tables)
    if (const auto* shadow = model.find_table(ops::shadow_name(table.name));
        shadow && model::same_table(*shadow, model::shadow_of(table)))
      folded.insert(shadow->name);
  for (const auto& table : model.tables) {
    if (folded.count(table.name)) continue;
    Document out = {{"name", table.name}, {"columns", Document::array()}};
    for (const auto& column : table.columns) out["columns"].push_back(column_document(column));
    for (const auto& index : table.indexes) {
      Document item = {{"name", index.name}, {"columns", index.columns}};
      if (index.unique) item["unique"] = true;
      out["indexes"].push_back(item);
    }
    // Names the reader would give anyway are left out.
    for (const auto& unique : table.unique_constraints) {
      if (unique.name == fmt::format("{}_{}_key", table.name, fmt::join(unique.columns, "_")))
        out["unique"].push_back(unique.columns);
      else
        out["unique"].push_back({{"name", unique.name}, {"columns", unique.columns}});
    }
    for (const auto& key : table.foreign_keys) {
      Document item = Document::object();
      if (key.name != fmt::format("{}_{}_fkey", table.name, fmt::join(key.columns, "_"))) item["name"] = key.name;
      item["columns"] = key.columns;
      item["references"] = {{"table", key.referenced_table}, {"columns", key.referenced_columns}};
      if (!key.on_delete.empty()) item["on_delete"] = key.on_delete;
      out["foreign_keys"].push_back(item);
    }
    if (folded.count(ops::shadow_name(table.name))) out["shadow"] = true;
    tables.push_back(out);
  }
  return {{"tables", tables}};
}

// Items of the lists inside a table (columns, indexes, ...) go on one line each.
void emit(YAML::Emitter& out, const Document& value, int depth) {
  if (value.is_object()) {
    if (depth >= 4) out << YAML::Flow;
    out << YAML::BeginMap;
    for (const auto& [key, item] : value.items()) {
      out << YAML::Key << key << YAML::Value;
      emit(out, item, depth + 1);
    }
    out << YAML::EndMap;
  } else if (value.is_array()) {
    if (depth >= 4) out << YAML::Flow;
    out << YAML::BeginSeq;
    for (const auto& item : value) emit(out, item, depth + 1);
    out << YAML::EndSeq;
  } else if (value.is_boolean()) {
    out << (value.get<bool>() ? "true" : "false");
  } else {
    out << value.get<std::string>();
  }
}

}  // namespace

std::string model_yaml(const schema::Schema& model) {
  YAML::Emitter out;
  out.SetIndent(2);
  emit(out, model_document(model), 0);
  return std::string(out.c_str()) + "\n";
}

std::string model_json(const schema::Schema& model) { return model_document(model).dump(2) + "\n"; }

}  // namespace tandem
