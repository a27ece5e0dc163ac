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

struct DiffOptions {
  // A table or column that disappears while one of the same shape appears is a rename:
  // what the phase rules judge. Compare turns this off, so a model and a database that
  // disagree are told as one missing and one extra object.
  bool detect_renames = true;
  // Pair indexes, unique constraints, foreign keys and checks by what they cover, not by
  // name: databases rename what a model declares (PostgreSQL cuts names at 63 bytes,
  // MySQL generates foreign-key names). A pair then differs only in what the key leaves
  // out (an index's uniqueness, a foreign key's on-delete), and adds and drops carry
  // their columns in `detail`.
  bool match_by_content = false;
};

// Changes that turn `before` into `after`.
std::vector<SchemaChange> diff(const Schema& before, const Schema& after, const DiffOptions& options = {});

}  // namespace tandem::schema
