// The one table from operation name to operation type.
#include <fmt/format.h>

#include <concepts>

#include "operations/field_reader.h"
#include "operations/operations.h"
#include "overloaded.h"
#include "tandem/error.h"

namespace tandem::ops {

template <typename T>
concept OperationType = requires(const T op, FieldReader& fields, ValidationContext& validation,
                                 const RenderContext& render, schema::Schema& schema, const ReverseContext& reverse) {
  { T::kName } -> std::convertible_to<const char*>;
  { T::kPhases } -> std::convertible_to<PhaseSet>;
  { T::parse(fields) } -> std::same_as<T>;
  { op.validate(validation) } -> std::same_as<void>;
  { op.render(render) } -> std::same_as<std::vector<Step>>;
  { op.describe() } -> std::same_as<std::string>;
  { op.apply(schema) } -> std::same_as<void>;
  { op.reverse(reverse) } -> std::same_as<Reversal>;
};

// A migrate operation runs in batches: it says what each batch runs.
template <typename T>
concept Batched = requires(const T op, const RenderContext& render) {
  { op.batch_plan(render) } -> std::same_as<BatchPlan>;
};

namespace {

template <typename... Types>
struct Registry {
  static_assert((OperationType<Types> && ...), "every operation implements the operation interface");
  static_assert(((Types::kPhases != kMigrate || Batched<Types>) && ...),
                "every migrate operation has its batch plan (batch_plan)");

  static bool parse(const std::string& name, FieldReader& fields, OperationBody& out) {
    return ((name == Types::kName ? (out = Types::parse(fields), true) : false) || ...);
  }
  static bool known(const std::string& name) { return ((name == Types::kName) || ...); }
  static std::string names() {
    std::string list;
    ((list += (list.empty() ? "" : ", ") + std::string(Types::kName)), ...);
    return list;
  }
};

template <typename Variant>
struct RegistryOf;
template <typename... Types>
struct RegistryOf<std::variant<Types...>> {
  using type = Registry<Types...>;
};
using AllOperations = RegistryOf<OperationBody>::type;

}  // namespace

ColumnSpec ColumnSpec::parse(FieldReader& fields) {
  ColumnSpec spec;
  spec.line = fields.line();
  spec.name = fields.required_string("name");
  spec.type = fields.required_string("type");
  spec.nullable = fields.optional_bool("nullable", true);
  spec.default_value = fields.optional_string("default");
  spec.primary_key = fields.optional_bool("primary_key", false);
  spec.autoincrement = fields.optional_bool("autoincrement", false);
  spec.unique = fields.optional_bool("unique", false);
  spec.references = fields.optional_string("references");
  spec.on_delete = fields.optional_string("on_delete");
  spec.enum_name = fields.optional_string("enum_name");
  fields.finish();
  if (spec.primary_key) spec.nullable = false;
  return spec;
}

Operation parse_operation(FieldReader& item) {
  Operation operation;
  operation.line = item.line();
  operation.database = item.optional_string("database");
  std::vector<std::string> names;
  for (const auto& key : item.keys())
    if (key != "database") names.push_back(key);
  if (names.size() != 1)
    item.fail(item.node(), fmt::format("an operation is a mapping with one key naming it ({}); found {} keys",
                                       AllOperations::names(), names.size()));
  const std::string& name = names.front();
  YAML::Node body = item.optional_node(name);
  if (!AllOperations::known(name))
    item.fail(item.node(), fmt::format("unknown operation '{}' (expected one of: {})", name, AllOperations::names()));
  if (name == RawSql::kName && body.IsScalar()) {
    RawSql raw;
    raw.all = body.Scalar();
    operation.body = std::move(raw);
  } else {
    FieldReader fields(body, item.file(), name);
    AllOperations::parse(name, fields, operation.body);
  }
  item.finish();
  return operation;
}

const char* Operation::name() const {
  return std::visit([](const auto& op) { return std::decay_t<decltype(op)>::kName; }, body);
}

PhaseSet Operation::phases() const {
  return std::visit([](const auto& op) { return std::decay_t<decltype(op)>::kPhases; }, body);
}

std::string Operation::describe() const {
  return std::visit([](const auto& op) { return op.describe(); }, body);
}

Reversal Operation::reverse(const ReverseContext& context) const {
  return std::visit([&](const auto& op) { return op.reverse(context); }, body);
}

std::optional<BatchPlan> batch_plan(const Operation& operation, const RenderContext& context) {
  return std::visit(
      [&](const auto& op) -> std::optional<BatchPlan> {
        if constexpr (Batched<std::decay_t<decltype(op)>>)
          return op.batch_plan(context);
        else
          return std::nullopt;
      },
      operation.body);
}

namespace {

// The tables of the operation's own database.
std::vector<TableRef> on_own(std::initializer_list<std::string> tables) {
  std::vector<TableRef> refs;
  for (const auto& table : tables) refs.push_back({"", table});
  return refs;
}

}  // namespace

// One case per operation, so a new one is a compile error until it says what it touches.
std::vector<TableRef> tables_touched(const Operation& operation) {
  return std::visit(
      Overloaded{
          [](const CreateTable& op) {
            return op.shadow ? on_own({op.name, shadow_name(op.name)}) : on_own({op.name});
          },
          [](const AddColumn& op) { return on_own({op.table}); },
          [](const CreateIndex& op) { return on_own({op.table}); },
          [](const AddUnique& op) { return on_own({op.table}); },
          [](const AddForeignKey& op) { return on_own({op.table}); },
          [](const AddCheck& op) { return on_own({op.table}); },
          [](const CreateView&) { return std::vector<TableRef>{}; },
          [](const SetNullable& op) { return on_own({op.table}); },
          [](const SyncColumn& op) { return on_own({op.table}); },
          [](const SyncTable& op) { return on_own({op.from, op.to}); },
          [](const ForbidWrites& op) { return on_own({op.table}); },
          [](const Backfill& op) { return on_own({op.table}); },
          [](const CopyRows& op) { return on_own({op.from, op.to}); },
          [](const MoveRows& op) { return std::vector<TableRef>{{"", op.from.table}, op.to}; },
          [](const DeleteRows& op) { return on_own({op.table}); },
          [](const DropColumn& op) { return on_own({op.table}); },
          [](const DropTable&) { return std::vector<TableRef>{}; },
          [](const DropIndex& op) { return on_own({op.table}); },
          [](const DropConstraint& op) { return on_own({op.table}); },
          [](const DropView&) { return std::vector<TableRef>{}; },
          [](const RenameColumn& op) { return on_own({op.table}); },
          [](const RenameTable& op) { return on_own({op.from}); },
          [](const SetNotNull& op) { return on_own({op.table}); },
          [](const AlterType& op) { return on_own({op.table}); },
          [](const RawSql&) { return std::vector<TableRef>{}; },
      },
      operation.body);
}

std::string shadow_name(const std::string& table) { return "shadow_" + table; }

}  // namespace tandem::ops
