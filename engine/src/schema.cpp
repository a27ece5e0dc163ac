#include "tandem/schema.h"

#include <algorithm>

namespace tandem::schema {

namespace {

template <typename Range>
auto find_named(Range& range, const std::string& name) -> decltype(&*range.begin()) {
  auto it = std::find_if(range.begin(), range.end(), [&](const auto& item) { return item.name == name; });
  return it == range.end() ? nullptr : &*it;
}

}  // namespace

const Column* Table::find_column(const std::string& column) const { return find_named(columns, column); }
Column* Table::find_column(const std::string& column) { return find_named(columns, column); }
const Index* Table::find_index(const std::string& index) const { return find_named(indexes, index); }

std::vector<std::string> Table::primary_key() const {
  std::vector<std::string> key;
  for (const auto& column : columns)
    if (column.primary_key) key.push_back(column.name);
  return key;
}

const Table* Schema::find_table(const std::string& table) const { return find_named(tables, table); }
Table* Schema::find_table(const std::string& table) { return find_named(tables, table); }
const View* Schema::find_view(const std::string& view) const { return find_named(views, view); }
const Trigger* Schema::find_trigger(const std::string& trigger) const { return find_named(triggers, trigger); }

bool Schema::has_object_named(const std::string& name) const {
  if (find_table(name) || find_view(name) || find_trigger(name)) return true;
  return std::any_of(tables.begin(), tables.end(), [&](const Table& table) {
    return table.find_index(name) != nullptr ||
           std::any_of(table.unique_constraints.begin(), table.unique_constraints.end(),
                       [&](const UniqueConstraint& unique) { return unique.name == name; });
  });
}

bool is_tandem_table(const std::string& table) {
  return table == "tandem_version" || table == "tandem_history" || table == "tandem_triggers" ||
         table == "tandem_progress" || table == "tandem_bypass" || table == "tandem_journal" ||
         table == "tandem_lock" || table == "tandem_releases" || table == "tandem_moved_rows";
}

bool is_tandem_trigger(const std::string& name) { return name.rfind("tandem_", 0) == 0; }

}  // namespace tandem::schema
