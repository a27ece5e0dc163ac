// Sync and forbid triggers on MySQL / MariaDB (DESIGN §4).
//
// sync_column: BEFORE triggers assign NEW.<column> directly, so they never write the
// table that fired them (MySQL forbids that, error 1442).
//
// MySQL fires every row trigger on every UPDATE, and MariaDB fixes (resolves types and
// collations of) each expression of a trigger statement anew for every row: that, not
// evaluating it, is most of a trigger's cost. So an UPDATE trigger starts with the
// comparisons of the watched columns and nothing else: sync_table's is one IF that holds
// when none changed and does nothing then, the session guard and the error handler in its
// ELSE branch, fixed only for rows whose watched columns were written.
//
// sync_table: AFTER triggers apply the row to the other table. Both directions of one
// sync share a session variable set around their write: the trigger the write fires on
// the other table sees it and does nothing. That is also what lets both_ways work at
// all, since the reverse write would hit error 1442 on the table the statement started
// from. The variable is cleared again when the write fails, so a failed statement does
// not switch syncing off for the rest of the application's session.
//
// Rows that ON DELETE CASCADE removes fire no trigger in MySQL: for each such foreign
// key of a synced table, a BEFORE DELETE trigger on the referenced table removes the
// mirrored rows while the children are still there to say which (one level of cascade).
#include <fmt/format.h>

#include <regex>
#include <set>

#include "dialect/mysql/mysql.h"
#include "operations/common.h"

namespace tandem::mysql {

namespace {

Step trigger_step(std::string sql, const std::string& name, const std::string& table) {
  Step step{std::move(sql)};
  step.installs.push_back({name, table, ""});
  return step;
}

std::set<std::string> referenced_new_columns(const std::string& expression) {
  static const std::regex reference(R"(\bNEW\.`?([A-Za-z_][A-Za-z0-9_]*))", std::regex::icase);
  std::set<std::string> columns;
  for (auto it = std::sregex_iterator(expression.begin(), expression.end(), reference); it != std::sregex_iterator();
       ++it)
    columns.insert((*it)[1]);
  return columns;
}

// SIGNAL's MESSAGE_TEXT holds 128 characters; strict mode turns a longer one into an
// error about the message instead of the message.
std::string signal_message(const std::string& message) {
  size_t characters = 0, end = 0;
  for (; end < message.size(); ++end) {
    const bool starts_character = (static_cast<unsigned char>(message[end]) & 0xC0) != 0x80;
    if (starts_character && ++characters > 128) break;
  }
  return message.substr(0, end);
}

// True when NEW.<column> and OLD.<column> are the same byte for byte (NULLs included):
// under a case-insensitive or PAD SPACE collation 'c' <=> 'C' holds, and a change of
// case would not be synced.
std::string same(const SqlRenderer& sql, const std::string& column) {
  return fmt::format("CAST(NEW.{0} AS BINARY) <=> CAST(OLD.{0} AS BINARY)", sql.quote(column));
}

struct Direction {
  std::string from, to, to_key, from_key;
  ops::Assignments columns;  // to column: expression over NEW.<from column>
};

// `statements` run with `guard` set, only while it is unset (and, when `unchanged` is
// given, only when it does not hold: see the top of this file).
std::string guarded_body(const std::string& guard, const std::string& unchanged, const std::string& statements) {
  const std::string guarded = fmt::format(
      "{0} IS NULL THEN BEGIN\n"
      "  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN SET {0} = NULL; RESIGNAL; END;\n"
      "  SET {0} = 1;\n"
      "{1}"
      "  SET {0} = NULL;\n"
      "END;\n"
      "END IF",
      guard, statements);
  if (unchanged.empty()) return "IF " + guarded;
  return fmt::format("IF {} THEN BEGIN END;\nELSEIF {}", unchanged, guarded);
}

std::vector<Step> sync_direction(const MysqlRenderer& sql, const Direction& d, const RenderContext& context,
                                 const std::string& suffix, const std::string& guard) {
  const std::string& version = context.version;
  std::vector<std::string> targets, values, updates;
  std::set<std::string> watched;
  for (const auto& [target, written] : d.columns) {
    const std::string expression = sql.trigger_expression(written);
    targets.push_back(sql.quote(target));
    values.push_back("(" + expression + ")");
    if (target != d.to_key) updates.push_back(fmt::format("{} = ({})", sql.quote(target), expression));
    for (const auto& column : referenced_new_columns(expression)) watched.insert(column);
  }
  const std::string to = sql.quote(d.to), key = sql.quote(d.to_key), from_key = sql.quote(d.from_key);
  std::string upsert;
  if (!updates.empty())
    upsert += fmt::format("    UPDATE {} SET {} WHERE {} = NEW.{};\n", to, fmt::join(updates, ", "), key, from_key);
  upsert += fmt::format(
      "    INSERT INTO {} ({}) SELECT {} FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM {} WHERE {} = NEW.{});\n", to,
      fmt::join(targets, ", "), fmt::join(values, ", "), to, key, from_key);
  std::vector<std::string> unchanged;
  for (const auto& column : watched) unchanged.push_back(same(sql, column));
  const std::string rekeyed =
      fmt::format("    DELETE FROM {} WHERE {} = OLD.{} AND NOT ({});\n", to, key, from_key, same(sql, d.from_key));
  const std::string deleted = fmt::format("    DELETE FROM {} WHERE {} = OLD.{};\n", to, key, from_key);

  auto name = [&](const char* purpose) { return sql.trigger_name(version, d.from, suffix + purpose); };
  auto create = [&](const char* purpose, const char* event, const std::string& body) {
    return trigger_step(fmt::format("CREATE TRIGGER {} AFTER {} ON {} FOR EACH ROW\n{}", sql.quote(name(purpose)),
                                    event, sql.quote(d.from), body),
                        name(purpose), d.from);
  };
  std::vector<Step> steps = {
      create("ins", "INSERT", guarded_body(guard, "", upsert)),
      create("upd", "UPDATE", guarded_body(guard, fmt::format("{}", fmt::join(unchanged, " AND ")), rekeyed + upsert)),
      create("del", "DELETE", guarded_body(guard, "", deleted)),
  };
  const auto* from_table = context.schema.find_table(d.from);
  if (!from_table) return steps;
  for (const auto& foreign_key : from_table->foreign_keys) {
    if (foreign_key.on_delete != "cascade") continue;
    std::vector<std::string> children;
    for (size_t i = 0; i < foreign_key.columns.size() && i < foreign_key.referenced_columns.size(); ++i)
      children.push_back(
          fmt::format("{} = OLD.{}", sql.quote(foreign_key.columns[i]), sql.quote(foreign_key.referenced_columns[i])));
    const std::string cascaded = fmt::format("    DELETE FROM {} WHERE {} IN (SELECT {} FROM {} WHERE {});\n", to, key,
                                             from_key, sql.quote(d.from), fmt::join(children, " AND "));
    const std::string parent = foreign_key.referenced_table;
    const std::string trigger = sql.trigger_name(version, parent, suffix + "cascade_" + foreign_key.name);
    steps.push_back(trigger_step(fmt::format("CREATE TRIGGER {} BEFORE DELETE ON {} FOR EACH ROW\n{}",
                                             sql.quote(trigger), sql.quote(parent), guarded_body(guard, "", cascaded)),
                                 trigger, parent));
  }
  return steps;
}

}  // namespace

std::vector<Step> MysqlRenderer::sync_column(const ops::SyncColumn& op, const RenderContext& context) const {
  const std::string table = quote(op.table), old_column = quote(op.old_column), new_column = quote(op.new_column);
  auto name = [&](const char* purpose) {
    return trigger_name(context.version, op.table, op.new_column + "_" + purpose);
  };
  // A row written by the old release (new column NULL) gets new = up, and the reverse.
  const std::string on_insert = fmt::format(
      "CREATE TRIGGER {0} BEFORE INSERT ON {1} FOR EACH ROW\n"
      "IF NEW.{2} IS NULL AND NEW.{3} IS NOT NULL THEN SET NEW.{2} = ({4});\n"
      "ELSEIF NEW.{3} IS NULL AND NEW.{2} IS NOT NULL THEN SET NEW.{3} = ({5});\n"
      "END IF",
      quote(name("ins")), table, new_column, old_column, trigger_expression(op.up), trigger_expression(op.down));
  // On UPDATE, whichever side alone changed is copied to the other; nothing when neither
  // changed (the common case) or both did. Each comparison is made once on every path:
  // nesting costs a statement, a third comparison would cost more (see the top of this file).
  const std::string on_update = fmt::format(
      "CREATE TRIGGER {0} BEFORE UPDATE ON {1} FOR EACH ROW\n"
      "IF {2} THEN\n"
      "  IF NOT ({3}) THEN SET NEW.{4} = ({7}); END IF;\n"
      "ELSEIF {3} THEN SET NEW.{5} = ({6});\n"
      "END IF",
      quote(name("upd")), table, same(*this, op.old_column), same(*this, op.new_column), old_column, new_column,
      trigger_expression(op.up), trigger_expression(op.down));
  return {trigger_step(on_insert, name("ins"), op.table), trigger_step(on_update, name("upd"), op.table)};
}

std::vector<Step> MysqlRenderer::sync_table(const ops::SyncTable& op, const RenderContext& context) const {
  // One guard per sync, so a chain of different syncs (a -> b, b -> c) still runs.
  const std::string guard = "@" + quote(trigger_name(context.version, op.from, "sync_" + op.to));
  Direction forward{op.from, op.to, op.key, op.source_key(), op.columns};
  auto steps = sync_direction(*this, forward, context, "to_" + op.to + "_", guard);
  if (op.both_ways) {
    Direction back{op.to, op.from, op.source_key(), op.key, {}};
    for (const auto& [target, expression] : op.columns)
      back.columns.emplace_back(ops::new_column_reference(expression), "NEW." + quote(target));
    for (auto& step : sync_direction(*this, back, context, "to_" + op.from + "_", guard)) steps.push_back(step);
  }
  return steps;
}

std::vector<Step> MysqlRenderer::forbid_writes(const ops::ForbidWrites& op, const RenderContext& context) const {
  std::vector<Step> steps;
  for (auto kind : op.on) {
    const char* event = kind == ops::WriteKind::insert   ? "INSERT"
                        : kind == ops::WriteKind::update ? "UPDATE"
                                                         : "DELETE";
    const char* purpose = kind == ops::WriteKind::insert   ? "forbid_ins"
                          : kind == ops::WriteKind::update ? "forbid_upd"
                                                           : "forbid_del";
    const std::string name = trigger_name(context.version, op.table, purpose);
    // The migrate phase's own writes pass (see bypass_forbid): the variable test is first
    // because it is the cheapest.
    const std::string when = "NOT (@tandem_bypass <=> 1)" + (op.when ? " AND (" + *op.when + ")" : "");
    steps.push_back(
        trigger_step(fmt::format("CREATE TRIGGER {} BEFORE {} ON {} FOR EACH ROW\n"
                                 "IF {} THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = {}; END IF",
                                 quote(name), event, quote(op.table), when, literal(signal_message(op.message))),
                     name, op.table));
  }
  return steps;
}

std::vector<Step> MysqlRenderer::drop_trigger(const TriggerRecord& record) const {
  return {{fmt::format("DROP TRIGGER IF EXISTS {}", quote(record.trigger))}};
}

}  // namespace tandem::mysql
