#include "tandem/schema_diff.h"

#include <fmt/format.h>

#include <algorithm>

namespace tandem::schema {

const char* object_kind_name(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::table: return "table";
    case ObjectKind::column: return "column";
    case ObjectKind::index: return "index";
    case ObjectKind::unique_constraint: return "unique constraint";
    case ObjectKind::foreign_key: return "foreign key";
    case ObjectKind::check: return "check constraint";
    case ObjectKind::view: return "view";
    case ObjectKind::trigger: return "trigger";
    case ObjectKind::function: return "function";
  }
  return "object";
}

std::string SchemaChange::describe() const {
  const std::string qualified =
      table.empty() || object == ObjectKind::table ? name : fmt::format("{}.{}", table, name);
  switch (change) {
    case ChangeKind::add: return fmt::format("added {} {}", object_kind_name(object), qualified);
    case ChangeKind::drop: return fmt::format("dropped {} {}", object_kind_name(object), qualified);
    case ChangeKind::rename:
      return fmt::format("renamed {} {} to {}", object_kind_name(object),
                         table.empty() || object == ObjectKind::table ? old_name : table + "." + old_name, name);
    case ChangeKind::modify:
      return fmt::format("changed {} {}{}", object_kind_name(object), qualified, detail.empty() ? "" : ": " + detail);
  }
  return qualified;
}

namespace {

// Adds, drops and modifications of named items of one kind (indexes, foreign keys, ...).
template <typename Item>
void diff_named(const std::vector<Item>& before, const std::vector<Item>& after, ObjectKind kind,
                const std::string& table, std::vector<SchemaChange>& out) {
  for (const auto& old_item : before) {
    auto it = std::find_if(after.begin(), after.end(), [&](const Item& item) { return item.name == old_item.name; });
    if (it == after.end())
      out.push_back({ChangeKind::drop, kind, table, old_item.name});
    else if (!(*it == old_item))
      out.push_back({ChangeKind::modify, kind, table, old_item.name, "", kDefinitionChanged, "definition changed"});
  }
  for (const auto& new_item : after)
    if (std::none_of(before.begin(), before.end(), [&](const Item& item) { return item.name == new_item.name; }))
      out.push_back({ChangeKind::add, kind, table, new_item.name});
}

bool same_shape(const Column& a, const Column& b) {
  return a.type == b.type && a.nullable == b.nullable && a.default_value == b.default_value &&
         a.primary_key == b.primary_key && a.autoincrement == b.autoincrement;
}

void diff_columns(const Table& before, const Table& after, std::vector<SchemaChange>& out) {
  std::vector<const Column*> dropped, added;
  for (const auto& column : before.columns)
    if (!after.find_column(column.name)) dropped.push_back(&column);
  for (const auto& column : after.columns)
    if (!before.find_column(column.name)) added.push_back(&column);
  // One column gone and one of the same shape come: a rename.
  if (dropped.size() == 1 && added.size() == 1 && same_shape(*dropped[0], *added[0])) {
    out.push_back({ChangeKind::rename, ObjectKind::column, after.name, added[0]->name, dropped[0]->name});
  } else {
    for (const auto* column : dropped) out.push_back({ChangeKind::drop, ObjectKind::column, after.name, column->name});
    for (const auto* column : added) out.push_back({ChangeKind::add, ObjectKind::column, after.name, column->name});
  }
  for (const auto& old_column : before.columns) {
    const Column* new_column = after.find_column(old_column.name);
    if (!new_column) continue;
    unsigned what = 0;
    std::vector<std::string> details;
    if (new_column->type != old_column.type) {
      what |= kTypeChanged;
      details.push_back(fmt::format("type {} -> {}", old_column.type, new_column->type));
    }
    if (new_column->nullable != old_column.nullable) {
      what |= new_column->nullable ? kNullabilityRelaxed : kNullabilityTightened;
      details.push_back(new_column->nullable ? "NOT NULL -> NULL" : "NULL -> NOT NULL");
    }
    if (new_column->default_value != old_column.default_value) {
      what |= kDefaultChanged;
      details.push_back(fmt::format("default {} -> {}", old_column.default_value.value_or("none"),
                                    new_column->default_value.value_or("none")));
    }
    if (new_column->primary_key != old_column.primary_key || new_column->autoincrement != old_column.autoincrement) {
      what |= kKeyChanged;
      details.push_back("primary key changed");
    }
    if (what)
      out.push_back({ChangeKind::modify, ObjectKind::column, after.name, old_column.name, "", what,
                     fmt::format("{}", fmt::join(details, ", "))});
  }
}

void diff_table(const Table& before, const Table& after, std::vector<SchemaChange>& out) {
  diff_columns(before, after, out);
  diff_named(before.indexes, after.indexes, ObjectKind::index, after.name, out);
  diff_named(before.unique_constraints, after.unique_constraints, ObjectKind::unique_constraint, after.name, out);
  diff_named(before.foreign_keys, after.foreign_keys, ObjectKind::foreign_key, after.name, out);
  diff_named(before.checks, after.checks, ObjectKind::check, after.name, out);
}

bool same_columns(const Table& a, const Table& b) {
  return a.columns.size() == b.columns.size() &&
         std::equal(a.columns.begin(), a.columns.end(), b.columns.begin(),
                    [](const Column& x, const Column& y) { return x.name == y.name && same_shape(x, y); });
}

}  // namespace

std::vector<SchemaChange> diff(const Schema& before, const Schema& after) {
  std::vector<SchemaChange> out;
  std::vector<const Table*> dropped, added;
  for (const auto& table : before.tables)
    if (!after.find_table(table.name)) dropped.push_back(&table);
  for (const auto& table : after.tables)
    if (!before.find_table(table.name)) added.push_back(&table);
  for (auto* old_table : std::vector<const Table*>(dropped)) {
    auto match = std::find_if(added.begin(), added.end(), [&](const Table* t) { return same_columns(*old_table, *t); });
    if (match == added.end()) continue;
    out.push_back({ChangeKind::rename, ObjectKind::table, "", (*match)->name, old_table->name});
    added.erase(match);
    dropped.erase(std::find(dropped.begin(), dropped.end(), old_table));
  }
  for (const auto* table : dropped) out.push_back({ChangeKind::drop, ObjectKind::table, "", table->name});
  for (const auto* table : added) out.push_back({ChangeKind::add, ObjectKind::table, "", table->name});
  for (const auto& old_table : before.tables)
    if (const Table* new_table = after.find_table(old_table.name)) diff_table(old_table, *new_table, out);
  diff_named(before.views, after.views, ObjectKind::view, "", out);
  diff_named(before.triggers, after.triggers, ObjectKind::trigger, "", out);
  diff_named(before.functions, after.functions, ObjectKind::function, "", out);
  for (auto& change : out)
    if (change.object == ObjectKind::trigger)
      for (const auto* schema : {&after, &before})
        if (const Trigger* trigger = schema->find_trigger(change.name); trigger && change.table.empty())
          change.table = trigger->table;
  return out;
}

}  // namespace tandem::schema
