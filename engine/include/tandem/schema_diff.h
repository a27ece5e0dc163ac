// Changes between two schemas as plain data, one type per kind of change. The
// dynamic phase rules judge them; compare and verify report them.
#pragma once

#include <string>
#include <vector>

#include "tandem/schema.h"

namespace tandem::schema {

enum class ObjectKind { table, column, index, unique_constraint, foreign_key, check, view, trigger, function };
enum class ChangeKind { add, drop, modify, rename };

// What a `modify` changed, as bits.
enum ColumnChange : unsigned {
  kTypeChanged = 1u << 0,
  kNullabilityRelaxed = 1u << 1,   // NOT NULL -> NULL
  kNullabilityTightened = 1u << 2,  // NULL -> NOT NULL
  kDefaultChanged = 1u << 3,
  kKeyChanged = 1u << 4,           // primary key or autoincrement
  kDefinitionChanged = 1u << 5,    // index/foreign key/view/trigger content
};

struct SchemaChange {
  ChangeKind change = ChangeKind::add;
  ObjectKind object = ObjectKind::table;
  std::string table;  // owning table for columns, indexes, constraints, triggers
  std::string name;   // the object's name (new name for a rename)
  std::string old_name;  // for renames
  unsigned what = 0;  // ColumnChange bits for modify
  std::string detail; // human-readable "varchar(64) -> varchar(255)"

  // "added column instances.compute_id", "dropped table key_pairs", ...
  std::string describe() const;
};

const char* object_kind_name(ObjectKind kind);

// Changes that turn `before` into `after`. A table or column that disappears while one
// with the same content appears is reported as a rename.
std::vector<SchemaChange> diff(const Schema& before, const Schema& after);

}  // namespace tandem::schema
