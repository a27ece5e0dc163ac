// `check` judges each operation against the schema the history builds up to it (DESIGN
// §18, model/history_simulation): an operation that always changes the schema but leaves
// the simulated one as it was names something the history does not hold at that point:
// a drop_column of a column never added, an add_column to a table created later or
// dropped before. A role the history changed by raw SQL is no longer judged.
#include <fmt/format.h>

#include <type_traits>
#include <variant>

#include "unit/history_simulation.h"
#include "unit/history_check.h"

namespace tandem {

namespace {

// What an operation's apply() does to the simulated schema:
//   changes  it always adds, removes or renames something, so a schema it leaves as it
//            was lacks what it names
//   may      it may find the schema as it wants it already (set_nullable of a nullable
//            column), or names an object by a name the database chose (drop_constraint)
//   none     data (migrate's operations) or triggers only, which the schema does not hold
enum class SchemaEffect { changes, may, none };

SchemaEffect schema_effect(const ops::Operation& operation) {
  return std::visit(
      [](const auto& op) {
        using T = std::decay_t<decltype(op)>;
        if constexpr (std::is_same_v<T, ops::RawSql> || std::is_same_v<T, ops::SyncColumn> || std::is_same_v<T, ops::SyncTable> ||
                           std::is_same_v<T, ops::ForbidWrites>)
          return SchemaEffect::none;
        else if constexpr (std::is_same_v<T, ops::SetNullable> || std::is_same_v<T, ops::SetNotNull> ||
                           std::is_same_v<T, ops::AlterType> || std::is_same_v<T, ops::DropConstraint>)
          return SchemaEffect::may;
        else return T::kPhases == ops::kMigrate ? SchemaEffect::none : SchemaEffect::changes;
      },
      operation.body);
}

}  // namespace

void check_against_history(const Repositories& repositories, Findings& findings) {
  if (repositories.versions.empty()) return;
  const std::string first = repositories.versions.front().version;
  simulate_history(repositories, std::nullopt,
                   [&](const Unit& unit, const ops::Operation& operation, const schema::Schema& before,
                       const schema::Schema& after) {
                     if (schema_effect(operation) != SchemaEffect::changes || !(before == after))
                       return;
                     findings.error(unit.path, operation.line, "not-in-history",
                                    fmt::format("version {}: {} ({}) names what the history has not created on the {} "
                                                "database by this point, or has removed before it (simulated from "
                                                "version {} up to this {} unit)",
                                                unit.version, operation.name(), operation.describe(),
                                                unit.role_of(operation), first, phase_name(unit.phase)));
                   });
}

}  // namespace tandem
