// The operations of a unit (DESIGN §3) as plain data types mirroring the YAML, each
// implemented in its own file with one interface:
//   static T parse(FieldReader&)               strict: unknown or missing keys are errors
//   void validate(ValidationContext&) const    identifiers, online-safety lint
//   std::vector<Step> render(const RenderContext&) const   SQL for one dialect
//   std::string describe() const               one line for logs and dry runs
//   void apply(schema::Schema&) const          what it adds or removes, simulated
//   Reversal reverse(const ReverseContext&) const   what undoes it when its version is
//                                              aborted (DESIGN §16), or why nothing can
// plus `kName` and `kPhases`; a migrate operation also has
//   BatchPlan batch_plan(const RenderContext&) const   what each of its batches runs
// and renders that plan. `Operation` below is the one variant over all of them;
// the concept check in registry.cpp proves each type implements the interface.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "operations/batch_plan.h"
#include "operations/context.h"
#include "tandem/phase.h"
#include "tandem/schema.h"

namespace tandem::ops {

class FieldReader;

// Which phases an operation belongs to, as bits of Phase.
using PhaseSet = unsigned;
constexpr PhaseSet phase_bit(Phase phase) { return 1u << static_cast<unsigned>(phase); }
constexpr PhaseSet kExpand = phase_bit(Phase::expand);
constexpr PhaseSet kMigrate = phase_bit(Phase::migrate);
constexpr PhaseSet kContract = phase_bit(Phase::contract);
constexpr PhaseSet kAnyPhase = kExpand | kMigrate | kContract;

// Ordered (target, expression) pairs: YAML mappings keep their order.
using Assignments = std::vector<std::pair<std::string, std::string>>;

struct ColumnSpec {
  std::string name;
  std::string type;  // portable type, DESIGN §2
  bool nullable = true;
  std::optional<std::string> default_value;
  bool primary_key = false;
  bool autoincrement = false;
  bool unique = false;
  std::optional<std::string> references;  // "table.column"
  std::optional<std::string> on_delete;
  std::optional<std::string> enum_name;
  int line = 0;
  static ColumnSpec parse(FieldReader& fields);
};

struct Reversal;

// What an operation's reversal may ask of the database it is undone on.
struct ReverseContext {
  const schema::Schema& schema;  // the live schema before the abort
  DialectKind dialect;
  // Whether `table`.`column` holds a NULL now (set_nullable's reversal asks). Static
  // checks (`tandem check`) answer false: they cannot know.
  std::function<bool(const std::string& table, const std::string& column)> holds_null;
};

#define TANDEM_OPERATION_INTERFACE(Type)                    \
  static Type parse(FieldReader& fields);                   \
  void validate(ValidationContext& context) const;          \
  std::vector<Step> render(const RenderContext& context) const; \
  std::string describe() const;                             \
  void apply(schema::Schema& schema) const;                 \
  Reversal reverse(const ReverseContext& context) const;

struct IndexSpec {
  std::string name;
  std::vector<std::string> columns;
  bool unique = false;
};

struct CreateTable {
  static constexpr const char* kName = "create_table";
  static constexpr PhaseSet kPhases = kExpand;
  std::string name;
  std::vector<ColumnSpec> columns;
  std::vector<IndexSpec> indexes;
  std::vector<std::vector<std::string>> unique;
  bool shadow = false;
  TANDEM_OPERATION_INTERFACE(CreateTable)
};

struct AddColumn {
  static constexpr const char* kName = "add_column";
  static constexpr PhaseSet kPhases = kExpand;
  std::string table;
  ColumnSpec column;
  TANDEM_OPERATION_INTERFACE(AddColumn)
};

struct CreateIndex {
  static constexpr const char* kName = "create_index";
  static constexpr PhaseSet kPhases = kExpand;
  std::string table;
  IndexSpec index;
  TANDEM_OPERATION_INTERFACE(CreateIndex)
};

struct AddUnique {
  static constexpr const char* kName = "add_unique";
  static constexpr PhaseSet kPhases = kExpand;
  std::string table;
  std::string name;
  std::vector<std::string> columns;
  TANDEM_OPERATION_INTERFACE(AddUnique)
};

struct AddForeignKey {
  static constexpr const char* kName = "add_foreign_key";
  static constexpr PhaseSet kPhases = kExpand;
  std::string table;
  std::string name;
  std::vector<std::string> columns;
  std::string referenced_table;
  std::vector<std::string> referenced_columns;
  std::optional<std::string> on_delete;
  TANDEM_OPERATION_INTERFACE(AddForeignKey)
};

struct AddCheck {
  static constexpr const char* kName = "add_check";
  static constexpr PhaseSet kPhases = kExpand;
  std::string table;
  std::string name;
  std::string expression;
  TANDEM_OPERATION_INTERFACE(AddCheck)
};

struct CreateView {
  static constexpr const char* kName = "create_view";
  static constexpr PhaseSet kPhases = kExpand;
  std::string name;
  std::string sql;
  TANDEM_OPERATION_INTERFACE(CreateView)
};

struct SetNullable {
  static constexpr const char* kName = "set_nullable";
  static constexpr PhaseSet kPhases = kExpand;
  std::string table;
  std::string column;
  TANDEM_OPERATION_INTERFACE(SetNullable)
};

struct SyncColumn {
  static constexpr const char* kName = "sync_column";
  static constexpr PhaseSet kPhases = kExpand;
  std::string table;
  std::string old_column;
  std::string new_column;
  std::string up;    // new = up, over NEW.<column>
  std::string down;  // old = down
  TANDEM_OPERATION_INTERFACE(SyncColumn)
};

struct SyncTable {
  static constexpr const char* kName = "sync_table";
  static constexpr PhaseSet kPhases = kExpand;
  std::string from;
  std::string to;
  std::string key;        // column of `to`; columns[key] is NEW.<key column of `from`>
  Assignments columns;    // to_column: expression over NEW.<from column>
  bool both_ways = false;
  // The `from` column that `key` is copied from (columns[key] is "NEW.<it>").
  std::string source_key() const;
  TANDEM_OPERATION_INTERFACE(SyncTable)
};

enum class WriteKind { insert, update, del };

struct ForbidWrites {
  static constexpr const char* kName = "forbid_writes";
  static constexpr PhaseSet kPhases = kExpand;
  std::string table;
  std::vector<WriteKind> on;
  std::optional<std::string> when;
  std::string message;
  TANDEM_OPERATION_INTERFACE(ForbidWrites)
};

struct Backfill {
  static constexpr const char* kName = "backfill";
  static constexpr PhaseSet kPhases = kMigrate;
  std::string table;
  Assignments set;
  std::optional<std::string> where;
  std::vector<std::string> key;
  std::optional<int> batch;
  TANDEM_OPERATION_INTERFACE(Backfill)
  BatchPlan batch_plan(const RenderContext& context) const;
};

// What copy_rows does with a row whose key the target already holds.
enum class OnConflict {
  fail,    // (not given) the copy fails
  skip,    // the target's row stays
  update,  // the target's row takes the source's values
};

struct CopyRows {
  static constexpr const char* kName = "copy_rows";
  static constexpr PhaseSet kPhases = kMigrate;
  std::string from;
  std::string to;
  Assignments columns;  // target: source expression
  std::vector<std::string> key;
  std::optional<std::string> where;
  OnConflict on_conflict = OnConflict::fail;
  TANDEM_OPERATION_INTERFACE(CopyRows)
  BatchPlan batch_plan(const RenderContext& context) const;
};

struct TableRef {
  std::string database;  // role
  std::string table;
};

// What move_rows leaves in the source once a row is copied.
enum class MoveThen {
  remove,  // then: delete
  keep,    // then: keep
};

struct MoveRows {
  static constexpr const char* kName = "move_rows";
  static constexpr PhaseSet kPhases = kMigrate;
  TableRef from;
  TableRef to;
  Assignments columns;
  std::vector<std::string> key;
  std::vector<std::string> unique;
  std::optional<std::string> where;
  MoveThen then = MoveThen::remove;
  TANDEM_OPERATION_INTERFACE(MoveRows)
  BatchPlan batch_plan(const RenderContext& context) const;
  // The source column a target column was copied from, when its expression is one (trimmed).
  static std::string source_column(const std::string& expression);
};

struct DeleteRows {
  static constexpr const char* kName = "delete_rows";
  static constexpr PhaseSet kPhases = kMigrate;
  std::string table;
  std::string where;
  std::vector<std::string> key;
  TANDEM_OPERATION_INTERFACE(DeleteRows)
  BatchPlan batch_plan(const RenderContext& context) const;
};

struct DropColumn {
  static constexpr const char* kName = "drop_column";
  static constexpr PhaseSet kPhases = kContract;
  std::string table;
  std::string column;
  TANDEM_OPERATION_INTERFACE(DropColumn)
};

struct DropTable {
  static constexpr const char* kName = "drop_table";
  static constexpr PhaseSet kPhases = kContract;
  std::string name;
  TANDEM_OPERATION_INTERFACE(DropTable)
};

struct DropIndex {
  static constexpr const char* kName = "drop_index";
  static constexpr PhaseSet kPhases = kContract;
  std::string table;
  std::string name;
  TANDEM_OPERATION_INTERFACE(DropIndex)
};

struct DropConstraint {
  static constexpr const char* kName = "drop_constraint";
  static constexpr PhaseSet kPhases = kContract;
  std::string table;
  std::string name;
  TANDEM_OPERATION_INTERFACE(DropConstraint)
};

struct DropView {
  static constexpr const char* kName = "drop_view";
  static constexpr PhaseSet kPhases = kContract;
  std::string name;
  TANDEM_OPERATION_INTERFACE(DropView)
};

struct RenameColumn {
  static constexpr const char* kName = "rename_column";
  static constexpr PhaseSet kPhases = kContract;
  std::string table;
  std::string from;
  std::string to;
  TANDEM_OPERATION_INTERFACE(RenameColumn)
};

struct RenameTable {
  static constexpr const char* kName = "rename_table";
  static constexpr PhaseSet kPhases = kContract;
  std::string from;
  std::string to;
  TANDEM_OPERATION_INTERFACE(RenameTable)
};

struct SetNotNull {
  static constexpr const char* kName = "set_not_null";
  static constexpr PhaseSet kPhases = kContract;
  std::string table;
  std::string column;
  TANDEM_OPERATION_INTERFACE(SetNotNull)
};

struct AlterType {
  static constexpr const char* kName = "alter_type";
  static constexpr PhaseSet kPhases = kContract;
  std::string table;
  std::string column;
  std::string type;
  TANDEM_OPERATION_INTERFACE(AlterType)
};

struct RawSql {
  static constexpr const char* kName = "sql";
  static constexpr PhaseSet kPhases = kAnyPhase;
  std::optional<std::string> all;  // the plain-string form: one text for every dialect
  std::map<DialectKind, std::string> per_dialect;
  std::optional<std::string> allow;
  // `abort:`: the SQL that undoes it when its version is aborted (DESIGN §16), as a plain
  // string for every dialect or per dialect.
  std::optional<std::string> abort_all;
  std::map<DialectKind, std::string> abort_per_dialect;
  // The text for `dialect`, or nullptr when the step says nothing for it.
  const std::string* text_for(DialectKind dialect) const;
  const std::string* abort_text_for(DialectKind dialect) const;
  TANDEM_OPERATION_INTERFACE(RawSql)
};

#undef TANDEM_OPERATION_INTERFACE

using OperationBody =
    std::variant<CreateTable, AddColumn, CreateIndex, AddUnique, AddForeignKey, AddCheck, CreateView, SetNullable,
                 SyncColumn, SyncTable, ForbidWrites, Backfill, CopyRows, MoveRows, DeleteRows, DropColumn, DropTable,
                 DropIndex, DropConstraint, DropView, RenameColumn, RenameTable, SetNotNull, AlterType, RawSql>;

// What undoes one operation of a version being aborted (DESIGN §16): the operations that
// take its change back, in the order they run (none for one whose change goes with
// others', a sync trigger, a backfill), or, when nothing can, why: the abort then refuses
// before it changes anything.
// A move_rows that took rows out of its source is undone by moving them back, a data
// step across two databases that the abort runs before its schema steps.
struct Reversal {
  std::vector<OperationBody> undo;
  std::optional<std::string> refusal;
  bool moves_rows_back = false;

  static Reversal nothing() { return {}; }
  static Reversal by(std::vector<OperationBody> operations) { return {std::move(operations), std::nullopt}; }
  static Reversal refused(std::string why) { return {{}, std::move(why)}; }
  static Reversal moving_rows_back() { return {{}, std::nullopt, true}; }
};

struct Operation {
  OperationBody body;
  std::optional<std::string> database;  // role override
  int line = 0;

  const char* name() const;
  PhaseSet phases() const;
  std::string describe() const;
  Reversal reverse(const ReverseContext& context) const;
};

// Parses one list item `{operation_name: {...}, database?: role}`; throws Error(invalid_unit).
Operation parse_operation(FieldReader& item);

// What each batch of `operation` runs, or nullopt for an operation that runs once (raw
// SQL in migrate, in one transaction with its mark).
std::optional<BatchPlan> batch_plan(const Operation& operation, const RenderContext& context);

// The tables `operation` creates, changes or writes rows of, each with the role of its
// database when that is not the operation's own (move_rows' target). Views, and what raw
// SQL touches, which tandem cannot know, are not among them.
std::vector<TableRef> tables_touched(const Operation& operation);

// The shadow table of `table`: "shadow_<table>".
std::string shadow_name(const std::string& table);

}  // namespace tandem::ops
