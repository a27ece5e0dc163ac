// Sync and forbid triggers on PostgreSQL (DESIGN §4): one plpgsql function per trigger,
// both under the trigger's name. They sit on the application's write path, so each
// trigger says in its WHEN clause (and UPDATE OF list) when it has work to do, and the
// function is not even called otherwise.
#include <fmt/format.h>

#include <algorithm>
#include <regex>
#include <set>

#include "dialect/postgresql/postgresql.h"
#include "operations/common.h"

namespace tandem::postgresql {

std::vector<Step> PostgresqlRenderer::trigger_with_function(const std::string& name, const std::string& table,
                                                            const std::string& event, const std::string& when,
                                                            const std::string& body) const {
  Step function{fmt::format("CREATE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $tandem$\nBEGIN\n{}\nEND\n$tandem$",
                            quote(name), body)};
  Step trigger{fmt::format("CREATE TRIGGER {} {} ON {} FOR EACH ROW{} EXECUTE FUNCTION {}()", quote(name), event,
                           quote(table), when.empty() ? "" : "\nWHEN (" + when + ")", quote(name))};
  trigger.installs.push_back({name, table, name});
  return {function, trigger};
}

namespace {

void append(std::vector<Step>& steps, std::vector<Step> more) {
  for (auto& step : more) steps.push_back(std::move(step));
}

std::set<std::string> referenced_new_columns(const std::string& expression) {
  static const std::regex reference(R"(\bNEW\.\"?([A-Za-z_][A-Za-z0-9_]*))", std::regex::icase);
  std::set<std::string> columns;
  for (auto it = std::sregex_iterator(expression.begin(), expression.end(), reference); it != std::sregex_iterator(); ++it)
    columns.insert((*it)[1]);
  return columns;
}

// Whether OLD.<column> and NEW.<column> differ as stored, byte for byte (the record image
// comparison): IS DISTINCT FROM follows the type's equality, under which citext 'abc'
// equals 'ABC' and numeric 1.5 equals 1.50, and such a change would not be synced. Two
// NULLs are the same image, a NULL and a value are not.
std::string image_differs(const SqlRenderer& sql, const std::string& a, const std::string& b, const std::string& column) {
  return fmt::format("ROW({0}.{2})::record *<> ROW({1}.{2})::record", a, b, sql.quote(column));
}

}  // namespace

std::vector<Step> PostgresqlRenderer::sync_column(const ops::SyncColumn& op, const RenderContext& context) const {
  const std::string old_column = quote(op.old_column), new_column = quote(op.new_column);
  const std::string up = trigger_expression(op.up), down = trigger_expression(op.down);
  auto name = [&](const char* purpose) { return trigger_name(context.version, op.table, op.new_column + "_" + purpose); };
  std::vector<Step> steps;
  // A row written by the old release (new column NULL) gets new = up, and the reverse;
  // BEFORE triggers set NEW, so the row is written once.
  append(steps, trigger_with_function(
                    name("ins"), op.table, "BEFORE INSERT",
                    fmt::format("(NEW.{} IS NULL) <> (NEW.{} IS NULL)", new_column, old_column),
                    fmt::format("  IF NEW.{0} IS NULL THEN\n    NEW.{0} := ({1});\n  ELSE\n    NEW.{2} := ({3});\n  END IF;\n"
                                "  RETURN NEW;",
                                new_column, up, old_column, down)));
  // On UPDATE, whichever side alone changed is copied to the other.
  append(steps, trigger_with_function(
                    name("upd"), op.table, fmt::format("BEFORE UPDATE OF {}, {}", old_column, new_column),
                    fmt::format("{} OR {}", image_differs(*this, "OLD", "NEW", op.old_column),
                                image_differs(*this, "OLD", "NEW", op.new_column)),
                    fmt::format("  IF NOT ({0}) THEN\n    NEW.{1} := ({2});\n"
                                "  ELSIF NOT ({3}) THEN\n    NEW.{4} := ({5});\n  END IF;\n"
                                "  RETURN NEW;",
                                image_differs(*this, "NEW", "OLD", op.new_column), new_column, up,
                                image_differs(*this, "NEW", "OLD", op.old_column), old_column, down)));
  return steps;
}

namespace {

struct Direction {
  std::string from, to, to_key, from_key;
  ops::Assignments columns;  // to column: expression over NEW.<from column>
};

// The write-back of one direction runs with a transaction-local flag on, and both
// directions return at once while it is: they never fire each other. A flag rather than
// pg_trigger_depth(), because rows deleted by ON DELETE CASCADE, or written by the
// application's own triggers, arrive at depth 2 too and must still be mirrored.
std::vector<Step> sync_direction(const PostgresqlRenderer& sql, const Direction& d, const std::string& guard,
                                 const std::string& version, const std::string& suffix) {
  std::vector<std::string> targets, values, differs, updates;
  std::set<std::string> watched;
  for (const auto& [target, written] : d.columns) {
    const std::string expression = sql.trigger_expression(written);
    targets.push_back(sql.quote(target));
    values.push_back("(" + expression + ")");
    if (target != d.to_key) {
      // The stored value and the expression may be of different types (no record image
      // comparison then): their stored forms differ whenever the values do, also where
      // the type's equality calls them equal.
      differs.push_back(sql.differs(sql.stored(sql.quote(target)), sql.stored(expression)));
      updates.push_back(fmt::format("{} = ({})", sql.quote(target), expression));
    }
    for (const auto& column : referenced_new_columns(expression)) watched.insert(column);
  }
  const std::string to = sql.quote(d.to), key = sql.quote(d.to_key), from_key = sql.quote(d.from_key);
  const std::string flag = sql.literal(guard);
  auto guarded = [&](const std::string& work) {
    return fmt::format("  IF current_setting({0}, true) = 'on' THEN\n    RETURN NULL;\n  END IF;\n"
                       "  PERFORM set_config({0}, 'on', true);\n{1}"
                       "  PERFORM set_config({0}, 'off', true);\n  RETURN NULL;",
                       flag, work);
  };
  // Only a row that differs is updated, and only a missing one inserted: no key of `to`
  // needs to be unique for this to be an upsert.
  std::string upsert;
  if (!updates.empty())
    upsert += fmt::format("  UPDATE {} SET {} WHERE {} = NEW.{} AND ({});\n", to, fmt::join(updates, ", "), key,
                          from_key, fmt::join(differs, " OR "));
  upsert += fmt::format("  INSERT INTO {} ({}) SELECT {} WHERE NOT EXISTS (SELECT 1 FROM {} WHERE {} = NEW.{});\n", to,
                        fmt::join(targets, ", "), fmt::join(values, ", "), to, key, from_key);
  std::vector<std::string> changed;
  for (const auto& column : watched) changed.push_back(image_differs(sql, "OLD", "NEW", column));
  auto name = [&](const char* purpose) { return sql.trigger_name(version, d.from, suffix + purpose); };
  std::vector<Step> steps;
  append(steps, sql.trigger_with_function(name("ins"), d.from, "AFTER INSERT", "", guarded(upsert)));
  // No UPDATE OF list: it names the columns the statement's SET lists, and a column a
  // BEFORE trigger set (sync_column's, when the new release wrote the other column)
  // would not be mirrored. The WHEN clause still keeps the function from being called.
  append(steps, sql.trigger_with_function(
                    name("upd"), d.from, "AFTER UPDATE", fmt::format("{}", fmt::join(changed, " OR ")),
                    guarded(fmt::format("  IF {0} THEN\n"
                                        "    DELETE FROM {1} WHERE {2} = OLD.{3};\n  END IF;\n{4}",
                                        image_differs(sql, "OLD", "NEW", d.from_key), to, key, from_key, upsert))));
  append(steps, sql.trigger_with_function(name("del"), d.from, "AFTER DELETE", "",
                                          guarded(fmt::format("  DELETE FROM {} WHERE {} = OLD.{};\n", to, key, from_key))));
  return steps;
}

}  // namespace

std::vector<Step> PostgresqlRenderer::sync_table(const ops::SyncTable& op, const RenderContext& context) const {
  // One flag per pair of tables, whichever way round they are declared.
  const std::string guard = fmt::format("tandem.sync_{}_{}", std::min(op.from, op.to), std::max(op.from, op.to));
  Direction forward{op.from, op.to, op.key, op.source_key(), op.columns};
  auto steps = sync_direction(*this, forward, guard, context.version, "to_" + op.to + "_");
  if (op.both_ways) {
    Direction back{op.to, op.from, op.source_key(), op.key, {}};
    for (const auto& [target, expression] : op.columns)
      back.columns.emplace_back(ops::new_column_reference(expression), "NEW." + quote(target));
    append(steps, sync_direction(*this, back, guard, context.version, "to_" + op.from + "_"));
  }
  return steps;
}

std::vector<Step> PostgresqlRenderer::forbid_writes(const ops::ForbidWrites& op, const RenderContext& context) const {
  std::vector<Step> steps;
  for (auto kind : op.on) {
    const char* event = kind == ops::WriteKind::insert ? "INSERT" : kind == ops::WriteKind::update ? "UPDATE" : "DELETE";
    const char* purpose = kind == ops::WriteKind::insert ? "forbid_ins" : kind == ops::WriteKind::update ? "forbid_upd" : "forbid_del";
    // The migrate phase's own writes (re-encrypting the very rows) pass: see bypass_forbid.
    // The setting is the cheaper test, so it comes first.
    const std::string when =
        "current_setting('tandem.bypass', true) IS DISTINCT FROM 'on'" + (op.when ? " AND (" + *op.when + ")" : "");
    append(steps, trigger_with_function(trigger_name(context.version, op.table, purpose), op.table,
                                        fmt::format("BEFORE {}", event), when,
                                        fmt::format("  RAISE EXCEPTION USING MESSAGE = {};", literal(op.message))));
  }
  return steps;
}

std::vector<Step> PostgresqlRenderer::drop_trigger(const TriggerRecord& record) const {
  std::vector<Step> steps = {{fmt::format("DROP TRIGGER IF EXISTS {} ON {}", quote(record.trigger), quote(record.table))}};
  // The function serves its one trigger only: CASCADE takes that trigger along even when
  // its table was renamed since, which the DROP TRIGGER above cannot find.
  if (!record.function.empty())
    steps.push_back({fmt::format("DROP FUNCTION IF EXISTS {}() CASCADE", quote(record.function))});
  return steps;
}

}  // namespace tandem::postgresql
