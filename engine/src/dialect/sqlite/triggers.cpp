// Sync and forbid triggers on SQLite: AFTER triggers writing back by primary key (or
// rowid), each with a WHEN clause so it costs nothing unless a synced column is written.
// recursive_triggers stays off, and every write-back only touches a row that differs,
// so the two directions settle instead of firing each other.
#include <fmt/format.h>

#include <regex>
#include <set>

#include "dialect/sqlite/sqlite.h"
#include "operations/common.h"

namespace tandem::sqlite {

namespace {

// "rowid = NEW.rowid", or the primary key when the table has one (WITHOUT ROWID tables).
std::string row_match(const SqlRenderer& sql, const schema::Schema& schema, const std::string& table) {
  const auto* found = schema.find_table(table);
  const auto key = found ? found->primary_key() : std::vector<std::string>{};
  if (key.empty()) return "rowid = NEW.rowid";
  std::vector<std::string> parts;
  for (const auto& column : key) parts.push_back(fmt::format("{} = NEW.{}", sql.quote(column), sql.quote(column)));
  return fmt::format("{}", fmt::join(parts, " AND "));
}

std::set<std::string> referenced_new_columns(const std::string& expression) {
  static const std::regex reference(R"(\bNEW\.\"?([A-Za-z_][A-Za-z0-9_]*))", std::regex::icase);
  std::set<std::string> columns;
  for (auto it = std::sregex_iterator(expression.begin(), expression.end(), reference); it != std::sregex_iterator(); ++it)
    columns.insert((*it)[1]);
  return columns;
}

Step trigger_step(std::string sql, const std::string& name, const std::string& table) {
  Step step{std::move(sql)};
  step.installs.push_back({name, table, ""});
  return step;
}

}  // namespace

std::vector<Step> SqliteRenderer::sync_column(const ops::SyncColumn& op, const RenderContext& context) const {
  const std::string table = quote(op.table), old_column = quote(op.old_column), new_column = quote(op.new_column);
  const std::string up = trigger_expression(op.up), down = trigger_expression(op.down);
  const std::string match = row_match(*this, context.schema, op.table);
  auto name = [&](const char* purpose) { return trigger_name(context.version, op.table, op.new_column + "_" + purpose); };
  std::vector<Step> steps;
  // A row written by the old release (new column NULL) gets new = up, and the reverse.
  steps.push_back(trigger_step(
      fmt::format("CREATE TRIGGER {} AFTER INSERT ON {} WHEN NEW.{} IS NULL AND NEW.{} IS NOT NULL\n"
                  "BEGIN UPDATE {} SET {} = ({}) WHERE {}; END",
                  quote(name("ins_up")), table, new_column, old_column, table, new_column, up, match),
      name("ins_up"), op.table));
  steps.push_back(trigger_step(
      fmt::format("CREATE TRIGGER {} AFTER INSERT ON {} WHEN NEW.{} IS NULL AND NEW.{} IS NOT NULL\n"
                  "BEGIN UPDATE {} SET {} = ({}) WHERE {}; END",
                  quote(name("ins_down")), table, old_column, new_column, table, old_column, down, match),
      name("ins_down"), op.table));
  // On UPDATE, whichever side alone changed is copied to the other. Compared as stored
  // (COLLATE BINARY): under a NOCASE column 'abc' IS 'ABC', and a change of case would be lost.
  steps.push_back(trigger_step(
      fmt::format("CREATE TRIGGER {} AFTER UPDATE OF {} ON {} WHEN NEW.{} IS NOT OLD.{} COLLATE BINARY AND NEW.{} IS "
                  "OLD.{} COLLATE BINARY\n"
                  "BEGIN UPDATE {} SET {} = ({}) WHERE {} AND {} IS NOT ({}) COLLATE BINARY; END",
                  quote(name("upd_up")), old_column, table, old_column, old_column, new_column, new_column, table,
                  new_column, up, match, new_column, up),
      name("upd_up"), op.table));
  steps.push_back(trigger_step(
      fmt::format("CREATE TRIGGER {} AFTER UPDATE OF {} ON {} WHEN NEW.{} IS NOT OLD.{} COLLATE BINARY AND NEW.{} IS "
                  "OLD.{} COLLATE BINARY\n"
                  "BEGIN UPDATE {} SET {} = ({}) WHERE {} AND {} IS NOT ({}) COLLATE BINARY; END",
                  quote(name("upd_down")), new_column, table, new_column, new_column, old_column, old_column, table,
                  old_column, down, match, old_column, down),
      name("upd_down"), op.table));
  return steps;
}

namespace {

struct Direction {
  std::string from, to, to_key, from_key;
  ops::Assignments columns;  // to column: expression over NEW.<from column>
};

std::vector<Step> sync_direction(const SqliteRenderer& sql, const Direction& d, const std::string& version,
                                 const std::string& suffix) {
  std::vector<std::string> targets, values, differs, updates;
  std::set<std::string> watched;
  for (const auto& [target, written] : d.columns) {
    const std::string expression = sql.trigger_expression(written);
    targets.push_back(sql.quote(target));
    values.push_back("(" + expression + ")");
    if (target != d.to_key) {
      differs.push_back(fmt::format("{} IS NOT ({}) COLLATE BINARY", sql.quote(target), expression));
      updates.push_back(fmt::format("{} = ({})", sql.quote(target), expression));
    }
    for (const auto& column : referenced_new_columns(expression)) watched.insert(column);
  }
  const std::string to = sql.quote(d.to), key = sql.quote(d.to_key), from_key = sql.quote(d.from_key);
  const std::string upsert = fmt::format(
      "UPDATE {} SET {} WHERE {} = NEW.{} AND ({});\n"
      "  INSERT INTO {} ({}) SELECT {} WHERE NOT EXISTS (SELECT 1 FROM {} WHERE {} = NEW.{});",
      to, updates.empty() ? key + " = " + key : fmt::format("{}", fmt::join(updates, ", ")), key, from_key,
      differs.empty() ? "false" : fmt::format("{}", fmt::join(differs, " OR ")), to, fmt::join(targets, ", "),
      fmt::join(values, ", "), to, key, from_key);
  std::vector<std::string> changed;
  for (const auto& column : watched) changed.push_back(fmt::format("NEW.{0} IS NOT OLD.{0} COLLATE BINARY", sql.quote(column)));
  auto name = [&](const char* purpose) { return sql.trigger_name(version, d.from, suffix + purpose); };
  std::vector<Step> steps;
  steps.push_back(trigger_step(fmt::format("CREATE TRIGGER {} AFTER INSERT ON {}\nBEGIN {} END", sql.quote(name("ins")),
                                           sql.quote(d.from), upsert),
                               name("ins"), d.from));
  steps.push_back(trigger_step(
      fmt::format("CREATE TRIGGER {} AFTER UPDATE ON {} WHEN {}\nBEGIN DELETE FROM {} WHERE {} = OLD.{} AND OLD.{} IS NOT "
                  "NEW.{} COLLATE BINARY;\n  {} END",
                  sql.quote(name("upd")), sql.quote(d.from), fmt::join(changed, " OR "), to, key, from_key, from_key,
                  from_key, upsert),
      name("upd"), d.from));
  steps.push_back(trigger_step(fmt::format("CREATE TRIGGER {} AFTER DELETE ON {}\nBEGIN DELETE FROM {} WHERE {} = OLD.{}; END",
                                           sql.quote(name("del")), sql.quote(d.from), to, key, from_key),
                               name("del"), d.from));
  return steps;
}

}  // namespace

std::vector<Step> SqliteRenderer::sync_table(const ops::SyncTable& op, const RenderContext& context) const {
  Direction forward{op.from, op.to, op.key, op.source_key(), op.columns};
  auto steps = sync_direction(*this, forward, context.version, "to_" + op.to + "_");
  if (op.both_ways) {
    Direction back{op.to, op.from, op.source_key(), op.key, {}};
    for (const auto& [target, expression] : op.columns)
      back.columns.emplace_back(ops::new_column_reference(expression), "NEW." + quote(target));
    for (auto& step : sync_direction(*this, back, context.version, "to_" + op.from + "_")) steps.push_back(step);
  }
  return steps;
}

std::vector<Step> SqliteRenderer::forbid_writes(const ops::ForbidWrites& op, const RenderContext& context) const {
  std::vector<Step> steps;
  for (auto kind : op.on) {
    const char* event = kind == ops::WriteKind::insert ? "INSERT" : kind == ops::WriteKind::update ? "UPDATE" : "DELETE";
    const char* purpose = kind == ops::WriteKind::insert ? "forbid_ins" : kind == ops::WriteKind::update ? "forbid_upd" : "forbid_del";
    const std::string name = trigger_name(context.version, op.table, purpose);
    // The migrate phase's own writes (re-encrypting the very rows) pass: see bypass_forbid.
    const std::string when = "NOT EXISTS (SELECT 1 FROM tandem_bypass)" + (op.when ? " AND (" + *op.when + ")" : "");
    steps.push_back(trigger_step(fmt::format("CREATE TRIGGER {} BEFORE {} ON {} WHEN {}\nBEGIN SELECT RAISE(ABORT, {}); END",
                                             quote(name), event, quote(op.table), when, literal(op.message)),
                                 name, op.table));
  }
  return steps;
}

std::vector<Step> SqliteRenderer::drop_trigger(const TriggerRecord& record) const {
  return {{fmt::format("DROP TRIGGER IF EXISTS {}", quote(record.trigger))}};
}

}  // namespace tandem::sqlite
