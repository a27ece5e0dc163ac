#include "model/units_from_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <regex>
#include <set>
#include <vector>

#include "model/history_schema.h"
#include "tandem/error.h"
#include "tandem/model.h"
#include "tandem/repository_tools.h"
#include "unit/repository_files.h"

namespace tandem {

namespace {

// ---- YAML spelling --------------------------------------------------------------------

// A scalar as YAML reads it back unchanged: plain when it is an identifier YAML takes for
// nothing else, double-quoted otherwise (types with parentheses, defaults with quotes).
std::string scalar(const std::string& value) {
  static const std::regex plain("[A-Za-z_][A-Za-z0-9_]*");
  static const std::set<std::string> reserved = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"};
  std::string lower = value;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (std::regex_match(value, plain) && !reserved.count(lower)) return value;
  std::string quoted = "\"";
  for (const char c : value) {
    switch (c) {
      case '"': quoted += "\\\""; break;
      case '\\': quoted += "\\\\"; break;
      case '\n': quoted += "\\n"; break;
      case '\t': quoted += "\\t"; break;
      case '\r': quoted += "\\r"; break;
      default: quoted += c;
    }
  }
  return quoted + "\"";
}

std::string list(const std::vector<std::string>& values) {
  std::vector<std::string> spelled;
  for (const auto& value : values) spelled.push_back(scalar(value));
  return fmt::format("[{}]", fmt::join(spelled, ", "));
}

// A column spec in flow style; `nullable` as the unit must declare it, which may differ
// from the model's (a new NOT NULL column without a default is added nullable).
std::string column_spec(const schema::Column& column, bool nullable, const schema::ForeignKey* reference) {
  std::string spec = fmt::format("{{name: {}, type: {}", scalar(column.name), scalar(column.type));
  if (column.primary_key) spec += ", primary_key: true";
  if (column.autoincrement) spec += ", autoincrement: true";
  if (!nullable && !column.primary_key) spec += ", nullable: false";
  if (column.default_value) spec += ", default: " + scalar(*column.default_value);
  if (reference) {
    spec += ", references: " + scalar(reference->referenced_table + "." + reference->referenced_columns.front());
    if (!reference->on_delete.empty()) spec += ", on_delete: " + scalar(reference->on_delete);
  }
  return spec + "}";
}

std::string comment(const std::string& text, const std::string& indent = "") {
  std::string out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    out += indent + (line.empty() ? "#" : "# " + line) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

// ---- what each phase does -----------------------------------------------------------

// One operation of a generated unit: its role, a comment above it, and its YAML body
// ("add_column: {...}", continuation lines indented by four spaces).
struct PlannedOperation {
  std::string role;
  std::string body;
  std::string note;
};

// A commented-out backfill for a column migrate must give values; `unit_role` is the
// migrate unit's own role.
struct BackfillStub {
  std::string role, table, column;

  std::string text(const std::string& unit_role) const {
    const std::string body = fmt::format("backfill: {{table: {}, set: {{{}: \"<SQL expression>\"}}, where: {}}}",
                                         scalar(table), scalar(column), scalar(column + " IS NULL"));
    if (role == unit_role) return "#  - " + body + "\n";
    return fmt::format("#  - database: {}\n#    {}\n", scalar(role), body);
  }
};

struct Plan {
  std::map<Phase, std::vector<PlannedOperation>> operations;
  std::map<Phase, std::vector<std::string>> notes;  // unit-level comments where a person decides
  std::vector<BackfillStub> stubs;

  void add(Phase phase, const std::string& role, std::string body, std::string note = "") {
    operations[phase].push_back({role, std::move(body), std::move(note)});
  }
};

std::string normalized_type(const std::string& type) {
  std::string out;
  for (const char c : type)
    if (!std::isspace(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool nullable(const schema::Column& column) { return column.nullable && !column.primary_key; }

bool same_foreign_key(const schema::ForeignKey& a, const schema::ForeignKey& b) {
  return a.columns == b.columns && a.referenced_table == b.referenced_table &&
         a.referenced_columns == b.referenced_columns && a.on_delete == b.on_delete;
}

template <typename Item, typename Same>
const Item* find_same(const std::vector<Item>& items, const Item& wanted, Same same) {
  for (const auto& item : items)
    if (same(item, wanted)) return &item;
  return nullptr;
}

std::string foreign_key_body(const std::string& table, const schema::ForeignKey& key) {
  std::string body = fmt::format("add_foreign_key: {{table: {}, name: {}, columns: {}, references: {{table: {}, columns: {}}}",
                                 scalar(table), scalar(key.name), list(key.columns), scalar(key.referenced_table),
                                 list(key.referenced_columns));
  if (!key.on_delete.empty()) body += ", on_delete: " + scalar(key.on_delete);
  return body + "}";
}

// Tables in an order where each comes after the tables among them it references
// (`parents_first`) or before them.
std::vector<const schema::Table*> ordered(std::vector<const schema::Table*> tables, bool parents_first) {
  std::vector<const schema::Table*> out;
  std::set<std::string> placed;
  std::set<std::string> names;
  for (const auto* table : tables) names.insert(table->name);
  while (!tables.empty()) {
    auto ready = std::find_if(tables.begin(), tables.end(), [&](const schema::Table* table) {
      for (const auto& key : table->foreign_keys)
        if (key.referenced_table != table->name && names.count(key.referenced_table) && !placed.count(key.referenced_table))
          return false;
      return true;
    });
    if (ready == tables.end()) ready = tables.begin();  // a cycle: the foreign keys say which order fails
    placed.insert((*ready)->name);
    out.push_back(*ready);
    tables.erase(ready);
  }
  if (!parents_first) std::reverse(out.begin(), out.end());
  return out;
}

void plan_new_table(const std::string& role, const schema::Table& table, bool shadow, Plan& plan) {
  std::string body = fmt::format("create_table:\n      name: {}\n      columns:\n", scalar(table.name));
  std::vector<const schema::ForeignKey*> separate;
  std::set<std::string> inline_references;
  for (const auto& key : table.foreign_keys)
    if (key.columns.size() == 1 && key.referenced_columns.size() == 1 && !inline_references.count(key.columns.front()) &&
        key.name == fmt::format("{}_{}_fkey", table.name, key.columns.front()))
      inline_references.insert(key.columns.front());
    else
      separate.push_back(&key);
  for (const auto& column : table.columns) {
    const schema::ForeignKey* reference = nullptr;
    for (const auto& key : table.foreign_keys)
      if (inline_references.count(column.name) && key.columns.front() == column.name) reference = &key;
    body += "        - " + column_spec(column, nullable(column), reference) + "\n";
  }
  if (!table.indexes.empty()) {
    body += "      indexes:\n";
    for (const auto& index : table.indexes)
      body += fmt::format("        - {{name: {}, columns: {}{}}}\n", scalar(index.name), list(index.columns),
                          index.unique ? ", unique: true" : "");
  }
  std::vector<const schema::UniqueConstraint*> named_unique;
  std::vector<std::string> unique_lists;
  for (const auto& unique : table.unique_constraints)
    if (unique.name == fmt::format("{}_{}_key", table.name, fmt::join(unique.columns, "_")))
      unique_lists.push_back("        - " + list(unique.columns) + "\n");
    else
      named_unique.push_back(&unique);
  if (!unique_lists.empty()) body += "      unique:\n" + fmt::format("{}", fmt::join(unique_lists, ""));
  if (shadow) body += "      shadow: true\n";
  body.pop_back();
  plan.add(Phase::expand, role, body);
  // Constraints whose names the create_table keys cannot carry keep the model's names.
  for (const auto* unique : named_unique)
    plan.add(Phase::expand, role, fmt::format("add_unique: {{table: {}, name: {}, columns: {}}}", scalar(table.name),
                                              scalar(unique->name), list(unique->columns)));
  for (const auto* key : separate) plan.add(Phase::expand, role, foreign_key_body(table.name, *key));
}

// What a column change does to a table's shadow is done by the table's own operation
// (add_column, drop_column, alter_type and set_nullable also change shadow_<table>).
struct ShadowCovered {
  std::set<std::string> added, dropped, retyped, relaxed;
};

void plan_columns(const std::string& role, const schema::Table& model, const schema::Table& history,
                  const ShadowCovered* covered, ShadowCovered& covers, Plan& plan) {
  std::vector<std::string> added, dropped;
  for (const auto& column : model.columns) {
    const schema::Column* before = history.find_column(column.name);
    if (!before) {
      if (covered && covered->added.count(column.name)) continue;
      covers.added.insert(column.name);
      added.push_back(column.name);
      const bool needs_values = !nullable(column) && !column.default_value && !column.primary_key;
      plan.add(Phase::expand, role,
               fmt::format("add_column: {{table: {}, column: {}}}", scalar(model.name),
                           column_spec(column, nullable(column) || needs_values, nullptr)),
               needs_values ? fmt::format("NOT NULL in the model; added nullable, so that the old release's INSERTs still "
                                          "work,\nand made NOT NULL in contract once migrate has given every row a value")
                            : "");
      if (needs_values) {
        plan.add(Phase::contract, role,
                 fmt::format("set_not_null: {{table: {}, column: {}}}", scalar(model.name), scalar(column.name)),
                 fmt::format("fails while a row of {} has no {}: see the backfill in migrate", model.name, column.name));
        plan.stubs.push_back({role, model.name, column.name});
      }
      continue;
    }
    if (normalized_type(before->type) != normalized_type(column.type)) {
      if (!(covered && covered->retyped.count(column.name))) {
        covers.retyped.insert(column.name);
        plan.add(Phase::contract, role,
                 fmt::format("alter_type: {{table: {}, column: {}, type: {}}}", scalar(model.name), scalar(column.name),
                             scalar(column.type)),
                 fmt::format("{} -> {}: both releases see {} until contract; if the old release cannot\n"
                             "write the new type, add a new column with sync_column instead",
                             before->type, column.type, before->type));
      }
    }
    if (nullable(*before) && !nullable(column)) {
      plan.add(Phase::contract, role,
               fmt::format("set_not_null: {{table: {}, column: {}}}", scalar(model.name), scalar(column.name)),
               fmt::format("fails while a row of {} has no {}: see the backfill in migrate", model.name, column.name));
      plan.stubs.push_back({role, model.name, column.name});
    } else if (!nullable(*before) && nullable(column) && !(covered && covered->relaxed.count(column.name))) {
      covers.relaxed.insert(column.name);
      plan.add(Phase::expand, role,
               fmt::format("set_nullable: {{table: {}, column: {}}}", scalar(model.name), scalar(column.name)));
    }
    if (before->default_value != column.default_value)
      plan.notes[Phase::expand].push_back(
          fmt::format("{}.{}: the default is {} in the history and {} in the model; no operation changes a default:\n"
                      "write a sql operation for each dialect if it must change",
                      model.name, column.name, before->default_value.value_or("none"), column.default_value.value_or("none")));
    if (before->primary_key != column.primary_key || before->autoincrement != column.autoincrement)
      plan.notes[Phase::expand].push_back(
          fmt::format("{}.{}: its primary key or autoincrement differs from the history's; no operation changes it",
                      model.name, column.name));
  }
  for (const auto& column : history.columns) {
    if (model.find_column(column.name)) continue;
    if (covered && covered->dropped.count(column.name)) continue;
    covers.dropped.insert(column.name);
    dropped.push_back(column.name);
    plan.add(Phase::contract, role,
             fmt::format("drop_column: {{table: {}, column: {}}}", scalar(history.name), scalar(column.name)));
  }
  if (!added.empty() && !dropped.empty()) {
    // The example pairs columns of one type when there are such, as a rename would.
    std::string from = dropped.front(), to = added.front();
    bool paired = false;
    for (const auto& old_column : dropped)
      for (const auto& new_column : added)
        if (!paired &&
            normalized_type(history.find_column(old_column)->type) == normalized_type(model.find_column(new_column)->type)) {
          from = old_column;
          to = new_column;
          paired = true;
        }
    const std::string note = fmt::format(
        "{}: column{} {} dropped and {} added in one version. tandem does not guess a rename.\n"
        "If {} is {} renamed, keep both through the rolling window and let triggers keep them in step:\n"
        "  expand:   - sync_column: {{table: {}, old: {}, new: {}}}\n"
        "  migrate:  - backfill: {{table: {}, set: {{{}: {}}}, where: \"{} IS NULL\"}}\n"
        "  contract: - drop_column: {{table: {}, column: {}}}   (as this version's contract has it)",
        model.name, dropped.size() > 1 ? "s" : "", fmt::join(dropped, ", "), fmt::join(added, ", "), to, from, model.name,
        from, to, model.name, to, from, to, model.name, from);
    plan.notes[Phase::expand].push_back(note);
    plan.notes[Phase::contract].push_back(note);
  }
}

// A unique index and a unique constraint on the same columns are one thing to compare
// (as compare's canonical form has it): either satisfies the other.
std::vector<std::vector<std::string>> unique_column_lists(const schema::Table& table) {
  std::vector<std::vector<std::string>> lists;
  for (const auto& unique : table.unique_constraints) lists.push_back(unique.columns);
  for (const auto& index : table.indexes)
    if (index.unique) lists.push_back(index.columns);
  return lists;
}

bool has_columns(const std::vector<std::vector<std::string>>& lists, const std::vector<std::string>& columns) {
  return std::find(lists.begin(), lists.end(), columns) != lists.end();
}

void plan_keys(const std::string& role, const schema::Table& model, const schema::Table& history, Plan& plan) {
  const std::string& table = model.name;
  const auto model_unique = unique_column_lists(model);
  const auto history_unique = unique_column_lists(history);
  for (const auto& index : model.indexes) {
    if (index.unique && has_columns(history_unique, index.columns)) continue;
    const schema::Index* before = history.find_index(index.name);
    if (!before) {
      plan.add(Phase::expand, role,
               fmt::format("create_index: {{table: {}, name: {}, columns: {}{}}}", scalar(table), scalar(index.name),
                           list(index.columns), index.unique ? ", unique: true" : ""));
    } else if (!(*before == index)) {
      plan.notes[Phase::contract].push_back(
          fmt::format("{}: index {} covers other columns or uniqueness in the model; create it under a new name in\n"
                      "expand and drop this one here",
                      table, index.name));
    }
  }
  for (const auto& index : history.indexes) {
    if (index.unique && has_columns(model_unique, index.columns)) continue;
    if (!model.find_index(index.name))
      plan.add(Phase::contract, role, fmt::format("drop_index: {{table: {}, name: {}}}", scalar(table), scalar(index.name)));
  }
  for (const auto& unique : model.unique_constraints)
    if (!has_columns(history_unique, unique.columns))
      plan.add(Phase::expand, role, fmt::format("add_unique: {{table: {}, name: {}, columns: {}}}", scalar(table),
                                                scalar(unique.name), list(unique.columns)));
  for (const auto& unique : history.unique_constraints)
    if (!has_columns(model_unique, unique.columns))
      plan.add(Phase::contract, role,
               fmt::format("drop_constraint: {{table: {}, name: {}}}", scalar(table), scalar(unique.name)));
  std::set<std::string> dropped_keys;
  for (const auto& key : history.foreign_keys)
    if (!find_same(model.foreign_keys, key, same_foreign_key)) dropped_keys.insert(key.name);
  for (const auto& key : model.foreign_keys) {
    if (find_same(history.foreign_keys, key, same_foreign_key)) continue;
    if (dropped_keys.count(key.name)) {
      plan.notes[Phase::contract].push_back(fmt::format(
          "{}: foreign key {} differs in the model; add the new one under another name in expand", table, key.name));
      continue;
    }
    plan.add(Phase::expand, role, foreign_key_body(table, key));
  }
  for (const auto& name : dropped_keys)
    plan.add(Phase::contract, role, fmt::format("drop_constraint: {{table: {}, name: {}}}", scalar(table), scalar(name)));
}

void plan_role(const std::string& role, const RoleSchemas& schemas, Plan& plan) {
  const schema::Schema& model = schemas.model;
  const schema::Schema& history = schemas.history;
  auto is_shadow_of_new = [&](const schema::Table& table) {
    if (table.name.rfind("shadow_", 0) != 0) return false;
    const std::string base = table.name.substr(7);
    return model.find_table(base) && !history.find_table(base);
  };
  std::vector<const schema::Table*> added, dropped;
  for (const auto& table : model.tables)
    if (!history.find_table(table.name) && !is_shadow_of_new(table)) added.push_back(&table);
  for (const auto& table : history.tables)
    if (!model.find_table(table.name)) dropped.push_back(&table);
  for (const auto* table : ordered(added, true))
    plan_new_table(role, *table, model.find_table("shadow_" + table->name) != nullptr, plan);

  // Constraints and indexes go before columns and tables in contract, expand adds them
  // after the columns they cover: each phase's operations are planned in its order.
  std::map<std::string, ShadowCovered> covers;
  std::vector<const schema::Table*> common;
  for (const auto& table : model.tables)
    if (history.find_table(table.name) && table.name.rfind("shadow_", 0) != 0) common.push_back(&table);
  for (const auto& table : model.tables)
    if (history.find_table(table.name) && table.name.rfind("shadow_", 0) == 0) common.push_back(&table);
  Plan keys;
  for (const auto* table : common) {
    const schema::Table& before = *history.find_table(table->name);
    const ShadowCovered* covered = nullptr;
    if (table->name.rfind("shadow_", 0) == 0 && covers.count(table->name.substr(7))) covered = &covers[table->name.substr(7)];
    ShadowCovered mine;
    plan_columns(role, *table, before, covered, mine, plan);
    covers[table->name] = mine;
    plan_keys(role, *table, before, keys);
  }
  for (auto& [phase, operations] : keys.operations) {
    auto& target = plan.operations[phase];
    // Contract drops keys first, since a dropped column or table may hold them.
    target.insert(phase == Phase::contract ? target.begin() : target.end(), operations.begin(), operations.end());
  }
  for (auto& [phase, notes] : keys.notes) plan.notes[phase].insert(plan.notes[phase].end(), notes.begin(), notes.end());
  for (const auto* table : ordered(dropped, false))
    plan.add(Phase::contract, role, fmt::format("drop_table: {{name: {}}}", scalar(table->name)),
             table->name.rfind("shadow_", 0) == 0 ? "" : std::string("its rows are gone for good once contract runs"));
}

const char* phase_header(Phase phase) {
  switch (phase) {
    case Phase::expand:
      return "Written by `tandem new --from-model`: what the model adds. Review before committing:\n"
             "expand runs while the old release still reads and writes these tables.";
    case Phase::migrate:
      return "Written by `tandem new --from-model`: the data the new columns need.";
    case Phase::contract:
      return "Written by `tandem new --from-model`: what the model removes or tightens, once the old release\n"
             "is gone. The triggers expand installed for this version are dropped automatically first.";
  }
  return "";
}

std::string unit_text(Phase phase, const Plan& plan, const std::string& description, const std::string& first_role) {
  std::string out = comment(phase_header(phase));
  const auto notes = plan.notes.find(phase);
  if (notes != plan.notes.end())
    for (const auto& note : notes->second) out += "#\n" + comment(note);
  const auto found = plan.operations.find(phase);
  const std::vector<PlannedOperation> none;
  const auto& operations = found == plan.operations.end() ? none : found->second;
  const std::string role = operations.empty() ? first_role : operations.front().role;
  out += fmt::format("description: {}\n", scalar(fmt::format("{} ({})", description, phase_name(phase))));
  out += fmt::format("database: {}\n", scalar(role));
  if (phase == Phase::migrate && !plan.stubs.empty()) {
    out += comment(
        "Each column below must hold a value in every row before contract makes it NOT NULL, and tandem cannot\n"
        "know which. Write each SET expression, replace `operations: []` with `operations:` and uncomment.\n"
        "Rows the old release inserts after migrate still get NULL: give the column a sync_column or a default\n"
        "in expand if it keeps writing them.");
    out += "operations: []\n";
    for (const auto& stub : plan.stubs) out += stub.text(role);
    return out;
  }
  if (operations.empty()) return out + "operations: []\n";
  out += "operations:\n";
  for (const auto& operation : operations) {
    if (!operation.note.empty()) out += comment(operation.note, "  ");
    if (operation.role == role)
      out += "  - " + operation.body + "\n";
    else
      out += fmt::format("  - database: {}\n    {}\n", scalar(operation.role), operation.body);
  }
  return out;
}

}  // namespace

UnitsFromModel units_from_model(const std::map<std::string, RoleSchemas>& roles, const std::string& description) {
  Plan plan;
  for (const auto& [role, schemas] : roles) plan_role(role, schemas, plan);
  UnitsFromModel units;
  for (const auto& [phase, operations] : plan.operations) units.empty = units.empty && operations.empty();
  for (const auto& [phase, notes] : plan.notes) units.empty = units.empty && notes.empty();
  units.empty = units.empty && plan.stubs.empty();
  std::string first_role = roles.count("main") || roles.empty() ? "main" : roles.begin()->first;
  for (Phase phase : kPhases)
    if (const auto found = plan.operations.find(phase); found != plan.operations.end() && !found->second.empty()) {
      first_role = found->second.front().role;
      break;
    }
  for (Phase phase : kPhases) units.text[phase] = unit_text(phase, plan, description, first_role);
  return units;
}

std::vector<GeneratedUnit> new_version_from_model(const std::filesystem::path& root, const std::string& name,
                                                  const std::filesystem::path& model_folder, bool dry_run) {
  require_unit_name(name);
  const Repositories repositories = load_repositories_or_throw(root);
  if (!std::filesystem::is_directory(model_folder))
    throw Error(ErrorKind::invalid_unit, fmt::format("model folder '{}' does not exist", model_folder.string()));
  // Raw SQL in the history: that role's schema is built on scratch SQLite databases.
  const auto history = history_schemas(repositories);
  std::map<std::string, RoleSchemas> roles;
  for (const auto& [role, file] : model_files(model_folder)) roles[role].model = load_model(file);
  for (auto& [role, schemas] : roles) {
    const auto found = history.find(role);
    if (found != history.end()) schemas.history = found->second.schema;
  }
  const UnitsFromModel units = units_from_model(roles, name);
  if (units.empty) return {};
  const std::string version = next_version(repositories);
  std::vector<GeneratedUnit> generated;
  for (Phase phase : kPhases)
    generated.push_back({root / repository_folder(phase) / fmt::format("{}_{}.yaml", version, name), units.text.at(phase)});
  if (dry_run) return generated;
  for (const auto& unit : generated) {
    std::filesystem::create_directories(unit.path.parent_path());
    write_unit(unit.path, unit.text);
  }
  return generated;
}

}  // namespace tandem
