#include "tandem/schema_diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

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

// What content matching pairs items on (content_key), how a pair can still differ
// (content_difference: "" when it does not) and how an unpaired item is told (summary).
std::string column_list(const std::vector<std::string>& columns) { return fmt::format("({})", fmt::join(columns, ", ")); }

std::string content_key(const Index& index) { return column_list(index.columns); }
std::string content_key(const UniqueConstraint& unique) { return column_list(unique.columns); }
std::string content_key(const ForeignKey& key) {
  return fmt::format("{} -> {}{}", column_list(key.columns), key.referenced_table, column_list(key.referenced_columns));
}
std::string content_key(const Check& check) { return check.expression; }

std::string content_difference(const Index& before, const Index& after) {
  if (before.unique == after.unique) return "";
  return before.unique ? "unique -> not unique" : "not unique -> unique";
}
std::string content_difference(const UniqueConstraint&, const UniqueConstraint&) { return ""; }
std::string content_difference(const ForeignKey& before, const ForeignKey& after) {
  if (before.on_delete == after.on_delete) return "";
  auto action = [](const std::string& on_delete) { return on_delete.empty() ? std::string("no action") : on_delete; };
  return fmt::format("on delete {} -> {}", action(before.on_delete), action(after.on_delete));
}
std::string content_difference(const Check&, const Check&) { return ""; }

std::string summary(const Index& index) { return (index.unique ? "unique " : "") + content_key(index); }
std::string summary(const UniqueConstraint& unique) { return content_key(unique); }
std::string summary(const ForeignKey& key) {
  return content_key(key) + (key.on_delete.empty() ? "" : " on delete " + key.on_delete);
}
std::string summary(const Check& check) { return check.expression; }

// Pairs each item of `before` with an unpaired one of `after` that has its content key,
// preferring one that also has its name.
template <typename Item>
void diff_by_content(const std::vector<Item>& before, const std::vector<Item>& after, ObjectKind kind,
                     const std::string& table, std::vector<SchemaChange>& out) {
  std::vector<bool> paired(after.size(), false);
  for (const auto& old_item : before) {
    const std::string key = content_key(old_item);
    std::optional<size_t> match;
    for (size_t i = 0; i < after.size(); ++i) {
      if (paired[i] || content_key(after[i]) != key) continue;
      if (!match || after[i].name == old_item.name) match = i;
      if (after[i].name == old_item.name) break;
    }
    if (!match) {
      out.push_back({ChangeKind::drop, kind, table, old_item.name, "", 0, summary(old_item)});
      continue;
    }
    paired[*match] = true;
    if (std::string difference = content_difference(old_item, after[*match]); !difference.empty())
      out.push_back({ChangeKind::modify, kind, table, old_item.name, "", kDefinitionChanged, difference});
  }
  for (size_t i = 0; i < after.size(); ++i)
    if (!paired[i]) out.push_back({ChangeKind::add, kind, table, after[i].name, "", 0, summary(after[i])});
}

template <typename Item>
void diff_items(const std::vector<Item>& before, const std::vector<Item>& after, ObjectKind kind,
                const std::string& table, const DiffOptions& options, std::vector<SchemaChange>& out) {
  if (options.match_by_content)
    diff_by_content(before, after, kind, table, out);
  else
    diff_named(before, after, kind, table, out);
}

bool same_shape(const Column& a, const Column& b) {
  return a.type == b.type && a.nullable == b.nullable && a.default_value == b.default_value &&
         a.primary_key == b.primary_key && a.autoincrement == b.autoincrement;
}

void diff_columns(const Table& before, const Table& after, const DiffOptions& options, std::vector<SchemaChange>& out) {
  std::vector<const Column*> dropped, added;
  for (const auto& column : before.columns)
    if (!after.find_column(column.name)) dropped.push_back(&column);
  for (const auto& column : after.columns)
    if (!before.find_column(column.name)) added.push_back(&column);
  // One column gone and one of the same shape come: a rename.
  if (options.detect_renames && dropped.size() == 1 && added.size() == 1 && same_shape(*dropped[0], *added[0])) {
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

void diff_table(const Table& before, const Table& after, const DiffOptions& options, std::vector<SchemaChange>& out) {
  diff_columns(before, after, options, out);
  diff_items(before.indexes, after.indexes, ObjectKind::index, after.name, options, out);
  diff_items(before.unique_constraints, after.unique_constraints, ObjectKind::unique_constraint, after.name, options, out);
  diff_items(before.foreign_keys, after.foreign_keys, ObjectKind::foreign_key, after.name, options, out);
  diff_items(before.checks, after.checks, ObjectKind::check, after.name, options, out);
}

bool same_columns(const Table& a, const Table& b) {
  return a.columns.size() == b.columns.size() &&
         std::equal(a.columns.begin(), a.columns.end(), b.columns.begin(),
                    [](const Column& x, const Column& y) { return x.name == y.name && same_shape(x, y); });
}

}  // namespace

std::vector<SchemaChange> diff(const Schema& before, const Schema& after, const DiffOptions& options) {
  std::vector<SchemaChange> out;
  std::vector<const Table*> dropped, added;
  for (const auto& table : before.tables)
    if (!after.find_table(table.name)) dropped.push_back(&table);
  for (const auto& table : after.tables)
    if (!before.find_table(table.name)) added.push_back(&table);
  for (auto* old_table : options.detect_renames ? std::vector<const Table*>(dropped) : std::vector<const Table*>{}) {
    auto match = std::find_if(added.begin(), added.end(), [&](const Table* t) { return same_columns(*old_table, *t); });
    if (match == added.end()) continue;
    out.push_back({ChangeKind::rename, ObjectKind::table, "", (*match)->name, old_table->name});
    added.erase(match);
    dropped.erase(std::find(dropped.begin(), dropped.end(), old_table));
  }
  for (const auto* table : dropped) out.push_back({ChangeKind::drop, ObjectKind::table, "", table->name});
  for (const auto* table : added) out.push_back({ChangeKind::add, ObjectKind::table, "", table->name});
  for (const auto& old_table : before.tables)
    if (const Table* new_table = after.find_table(old_table.name)) diff_table(old_table, *new_table, options, out);
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
