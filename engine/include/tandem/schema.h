// The schema as plain data: what a snapshot of a live database holds, what the
// declared model holds, and what operations simulate. Shared by the dynamic phase
// rules, compare and verify. Lookups return the object or nullptr.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tandem::schema {

struct Column {
  std::string name;
  std::string type;  // as the dialect reports it (snapshot) or the portable type (model)
  bool nullable = true;
  std::optional<std::string> default_value;  // SQL expression
  bool primary_key = false;
  bool autoincrement = false;
  bool operator==(const Column&) const = default;
};

struct Index {
  std::string name;
  std::vector<std::string> columns;
  bool unique = false;
  bool operator==(const Index&) const = default;
};

struct UniqueConstraint {
  std::string name;
  std::vector<std::string> columns;
  bool operator==(const UniqueConstraint&) const = default;
};

struct ForeignKey {
  std::string name;
  std::vector<std::string> columns;
  std::string referenced_table;
  std::vector<std::string> referenced_columns;
  std::string on_delete;  // "", "cascade", "set null", "restrict", "no action"
  bool operator==(const ForeignKey&) const = default;
};

struct Check {
  std::string name;
  std::string expression;
  bool operator==(const Check&) const = default;
};

struct Table {
  std::string name;
  std::vector<Column> columns;
  std::vector<Index> indexes;
  std::vector<UniqueConstraint> unique_constraints;
  std::vector<ForeignKey> foreign_keys;
  std::vector<Check> checks;

  const Column* find_column(const std::string& column) const;
  Column* find_column(const std::string& column);
  const Index* find_index(const std::string& index) const;
  std::vector<std::string> primary_key() const;
  bool operator==(const Table&) const = default;
};

struct View {
  std::string name;
  std::string sql;
  bool operator==(const View&) const = default;
};

struct Trigger {
  std::string name;
  std::string table;
  std::string sql;  // definition as the database reports it, for comparison
  bool operator==(const Trigger&) const = default;
};

// A stored function (PostgreSQL trigger functions); empty on SQLite.
struct Function {
  std::string name;
  bool operator==(const Function&) const = default;
};

struct Schema {
  std::vector<Table> tables;
  std::vector<View> views;
  std::vector<Trigger> triggers;
  std::vector<Function> functions;

  const Table* find_table(const std::string& table) const;
  Table* find_table(const std::string& table);
  const View* find_view(const std::string& view) const;
  const Trigger* find_trigger(const std::string& trigger) const;
  // Any object (table, view, index, trigger) called `name`: names share one namespace
  // in SQLite and PostgreSQL, so a new object must not reuse one.
  bool has_object_named(const std::string& name) const;
  bool operator==(const Schema&) const = default;
};

// True for the tables and triggers tandem owns (tandem_version, tandem_history, ...),
// which a snapshot leaves out of the application's schema.
bool is_tandem_table(const std::string& table);
// True for triggers and functions tandem generated (tandem_<version>_...).
bool is_tandem_trigger(const std::string& name);

}  // namespace tandem::schema
