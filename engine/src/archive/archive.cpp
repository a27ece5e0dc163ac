#include "tandem/archive.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <thread>
#include <tuple>

#include "archive/also_delete.h"
#include "archive/common.h"
#include "archive/plan.h"
#include "batch/batch_cursor.h"
#include "failpoint.h"
#include "tandem/error.h"
#include "tandem/model.h"

namespace tandem {

namespace archiving {

namespace {

// Parent rows per transaction: big enough to amortize a round trip, small enough that
// the rows it locks are released quickly.
constexpr long long kBatchRows = 1000;

// The batches of one archive run, over every table and database: --sleep pauses before
// each but the first, and each one reaches the before_commit and after_batch fail-points.
class RunBatches {
 public:
  explicit RunBatches(std::chrono::milliseconds pause) : pause_(pause) {}
  void before_batch() {
    if (started_ && pause_.count() > 0) std::this_thread::sleep_for(pause_);
    started_ = true;
  }
  void before_commit() const { failpoint::reach(failpoint::Moment::before, failpoint::Site::batch, committed_ + 1); }
  void after_commit() { failpoint::reach(failpoint::Moment::after, failpoint::Site::batch, ++committed_); }

 private:
  std::chrono::milliseconds pause_;
  bool started_ = false;
  int committed_ = 0;
};

// Moves the soft-deleted rows of one table, with their descendants, batch by batch.
class TableArchiver {
 public:
  TableArchiver(Connection& connection, const std::string& database, const ArchivedTable& table,
                const ArchiveOptions& options, AlsoDeleter& also_delete)
      : connection_(connection),
        sql_(connection.renderer()),
        database_(database),
        table_(table),
        options_(options),
        also_delete_(also_delete) {}

  // Moves at most `budget` rows of the table (and the rows referencing them), from
  // `cursor` on; returns how many of the table's own rows moved. `cursor` is where the
  // walk over the table stands, as migrate's batches keep it: the next round of
  // --until-complete goes on from there (a round restarting at the table's first key
  // would walk again every live row before it, more each round), and once a round has
  // reached the table's end it starts over, for rows soft-deleted behind it.
  // Batches take at most `batch_rows` rows.
  long long run(long long budget, long long batch_rows, ArchiveReport& report, RunBatches& batches,
                BatchCursor& cursor) {
    long long moved = 0;
    bool exhausted = false;
    while (moved < budget && !exhausted) {
      const long long limit = std::min({kBatchRows, batch_rows, budget - moved});
      batches.before_batch();
      const auto started = std::chrono::steady_clock::now();
      std::vector<TableCount> counts;
      pending_.clear();
      connection_.begin();
      try {
        const auto keys = connection_.query(select_keys(cursor, limit), key_params(cursor));
        if (keys.empty()) {
          connection_.rollback();
          exhausted = true;
          break;
        }
        move_batch(keys, counts);
        batches.before_commit();
        connection_.commit();
        cursor.after = keys.back();
        moved += static_cast<long long>(keys.size());
        exhausted = static_cast<long long>(keys.size()) < limit;
      } catch (...) {
        connection_.rollback();
        throw;
      }
      for (const auto& count : counts) add_count(report.archived, count.database, count.table, count.rows);
      batches.after_commit();
      // After the commit: a crash before these deletes leaves the values in the shadow,
      // where the next run's sweep finds them (also_delete.h).
      for (const auto& [rule, values] : pending_) also_delete_.remove(*rule, values, report.also_deleted);
      // SQLite: a writer waiting for the write lock gets it in time (dialect.h).
      const auto pause = connection_.writer_pause(
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started));
      if (pause.count() > 0) std::this_thread::sleep_for(pause);
    }
    if (exhausted) cursor = BatchCursor{};
    return moved;
  }

 private:
  std::string tuple(const std::vector<std::string>& columns) const {
    const std::string list = quoted_list(sql_, columns);
    return columns.size() == 1 ? list : "(" + list + ")";
  }

  // The next `limit` soft-deleted keys after `cursor`, locked until the batch commits so
  // that no new row can start referencing them (the foreign-key check waits for the lock).
  std::string select_keys(const BatchCursor& cursor, long long limit) const {
    std::string where = table_.deleted_condition;
    if (options_.before) where += " AND " + sql_.older_than("deleted_at");
    if (!cursor.at_start())
      where += fmt::format(" AND {} > {}", tuple(table_.key),
                           cursor.after.size() == 1 ? "?" : "(" + placeholders(cursor.after.size()) + ")");
    return fmt::format("SELECT {0} FROM {1} WHERE {2} ORDER BY {0} LIMIT {3}{4}", quoted_list(sql_, table_.key),
                       sql_.quote(table_.name), where, limit, sql_.archive_row_lock());
  }

  std::vector<Value> key_params(const BatchCursor& cursor) const {
    std::vector<Value> params;
    if (options_.before) params.push_back(*options_.before);
    params.insert(params.end(), cursor.after.begin(), cursor.after.end());
    return params;
  }

  // SQL true for the table's rows in `keys` (columns prefixed with `qualifier`), and its
  // parameters. The keys come in key order (the fetch's ORDER BY, the same comparison),
  // so they also lie between the first and the last: that range adds no row, but gives
  // the planner a bound it can estimate. With the list alone PostgreSQL planned
  // sequential scans and hash joins over whole tables in every batch, a cost that grows
  // with the table, not the batch.
  std::pair<std::string, std::vector<Value>> key_condition(const std::vector<Row>& keys,
                                                           const std::string& qualifier) const {
    std::vector<Value> params;
    for (const auto& key : keys) params.insert(params.end(), key.begin(), key.end());
    std::vector<std::string> qualified;
    for (const auto& column : table_.key) qualified.push_back(qualifier + sql_.quote(column));
    const std::string columns = fmt::format("{}", fmt::join(qualified, ", "));
    const std::string one_key = placeholders(table_.key.size());
    std::string listed;
    if (table_.key.size() == 1) {
      listed = fmt::format("{} IN ({})", columns, placeholders(keys.size()));
    } else {
      std::vector<std::string> equal;
      for (const auto& column : qualified) equal.push_back(column + " = ?");
      const std::string one = fmt::format("({})", fmt::join(equal, " AND "));
      std::vector<std::string> any(keys.size(), one);
      listed = fmt::format("({})", fmt::join(any, " OR "));
    }
    const std::string tuple = table_.key.size() == 1 ? columns : "(" + columns + ")";
    const std::string bound = table_.key.size() == 1 ? one_key : "(" + one_key + ")";
    params.insert(params.end(), keys.front().begin(), keys.front().end());
    params.insert(params.end(), keys.back().begin(), keys.back().end());
    return {fmt::format("{0} AND {1} >= {2} AND {1} <= {2}", listed, tuple, bound), params};
  }

  // The rows of one table a batch moves, and the parameters of their condition.
  struct RowSet {
    ArchiveRows rows;
    std::vector<Value> params;
  };

  // The batch's rows of the table, by key and still soft-deleted. Their locks (FOR
  // UPDATE on the servers, the write lock SQLite's batch holds) already keep the
  // application from un-deleting or changing them between the copy into the shadow and
  // the delete: its write waits for the batch, then finds the row archived. The
  // condition says so again in each statement, and a copy and a delete that disagree roll
  // the batch back, so a shadow row never stays beside a live one and no live row goes.
  RowSet root_rows(const std::vector<Row>& keys) const {
    RowSet set{{table_.name, table_.columns, sql_.quote(table_.name)}};
    std::tie(set.rows.where, set.params) = key_condition(keys, "");
    set.rows.where = fmt::format("{} AND ({})", set.rows.where, table_.deleted_condition);
    return set;
  }

  // The rows of `descendant` referencing, along its path, the rows in the batch: by
  // nested IN (subquery), or with the path joined where the dialect wants it so.
  RowSet descendant_rows(const Descendant& descendant, const std::vector<Row>& keys) const {
    const std::string& table = descendant.path.back().table;
    RowSet set{{table, descendant.columns}};
    ArchiveRows& rows = set.rows;
    if (sql_.archive_paths() == ArchivePaths::nested_in) {
      std::tie(rows.where, set.params) = key_condition(keys, "");
      std::string parent = table_.name;
      for (const auto& link : descendant.path) {
        rows.where = fmt::format("{} IN (SELECT {} FROM {} WHERE {})", tuple(link.columns),
                                 quoted_list(sql_, link.referenced_columns), sql_.quote(parent), rows.where);
        parent = link.table;
      }
      rows.from = sql_.quote(table);
      return set;
    }
    // t<depth> is the table at that depth of the path, t0 the archived table.
    const size_t depth = descendant.path.size();
    rows.alias = fmt::format("t{}", depth);
    rows.from = fmt::format("{} AS {}", sql_.quote(table), rows.alias);
    for (size_t level = depth; level > 0; --level) {
      const Link& link = descendant.path[level - 1];
      const std::string& parent = level == 1 ? table_.name : descendant.path[level - 2].table;
      std::vector<std::string> equal;
      for (size_t i = 0; i < link.columns.size(); ++i)
        equal.push_back(fmt::format("t{}.{} = t{}.{}", level, sql_.quote(link.columns[i]), level - 1,
                                    sql_.quote(link.referenced_columns[i])));
      rows.from += fmt::format(" JOIN {} AS t{} ON {}", sql_.quote(parent), level - 1, fmt::join(equal, " AND "));
    }
    std::tie(rows.where, set.params) = key_condition(keys, "t0.");
    return set;
  }

  // Whether rows of other descendants reference `descendant`'s rows.
  bool has_children(const Descendant& descendant) const {
    return std::any_of(table_.descendants.begin(), table_.descendants.end(), [&](const Descendant& other) {
      return other.path.size() == descendant.path.size() + 1 &&
             std::equal(descendant.path.begin(), descendant.path.end(), other.path.begin(),
                        [](const Link& a, const Link& b) { return a.table == b.table && a.columns == b.columns; });
    });
  }

  void move_batch(const std::vector<Row>& keys, std::vector<TableCount>& counts) {
    // Lock the referencing rows that have children of their own top down before moving
    // any: a row whose parent is locked cannot gain a new child. Where the dialect locks
    // rows at all (ArchiveLocks); each table's move keeps its own rows as it moves them.
    if (sql_.archive_locks() != ArchiveLocks::none)
      for (auto descendant = table_.descendants.rbegin(); descendant != table_.descendants.rend(); ++descendant)
        if (has_children(*descendant)) {
          const RowSet set = descendant_rows(*descendant, keys);
          connection_.query(fmt::format("SELECT 1 FROM {} WHERE {}{}", set.rows.from, set.rows.where,
                                        sql_.archive_row_lock()),
                            set.params);
        }
    for (const auto& descendant : table_.descendants) {
      const RowSet set = descendant_rows(descendant, keys);
      collect_also_delete(set);
      counts.push_back({database_, set.rows.table, move(set)});
    }
    const RowSet root = root_rows(keys);
    collect_also_delete(root);
    const long long moved = move(root);
    if (moved != static_cast<long long>(keys.size()))
      throw Error(ErrorKind::step_failed,
                  fmt::format("{}: {}: {} rows were selected for archiving but {} moved; the batch was rolled back",
                              database_, table_.name, keys.size(), moved));
    counts.push_back({database_, table_.name, moved});
    std::erase_if(counts, [](const TableCount& count) { return count.rows == 0; });
  }

  // The `of` column values of the rows of `set` that also_delete rules name, read before
  // they move, for the deletes after the commit.
  void collect_also_delete(const RowSet& set) {
    for (const AlsoDelete* rule : also_delete_.rules_of(set.rows.table)) {
      if (std::find(set.rows.columns.begin(), set.rows.columns.end(), rule->of_column) == set.rows.columns.end())
        throw Error(ErrorKind::bad_config, fmt::format("archive.also_delete: {} of: {}.{}: {} has no column {}",
                                                       rule->database, rule->of_table, rule->of_column,
                                                       set.rows.table, rule->of_column));
      const std::string qualifier = set.rows.alias.empty() ? "" : set.rows.alias + ".";
      std::vector<Value> values;
      for (const auto& row : connection_.query(fmt::format("SELECT {}{} FROM {} WHERE {}", qualifier,
                                                           sql_.quote(rule->of_column), set.rows.from,
                                                           set.rows.where),
                                               set.params))
        if (row.front()) values.push_back(row.front());
      if (!values.empty()) pending_.emplace_back(rule, std::move(values));
    }
  }

  // Moves `set` into its table's shadow; returns how many rows.
  long long move(const RowSet& set) {
    const auto statements = sql_.archive_move(set.rows, sql_.quote(ops::shadow_name(set.rows.table)));
    if (statements.size() == 1) return connection_.update(statements.front(), set.params);
    const long long copied = connection_.update(statements.at(0), set.params);
    const long long deleted = connection_.update(statements.at(1), set.params);
    if (copied != deleted)
      throw Error(ErrorKind::step_failed,
                  fmt::format("{}: {}: {} rows were copied to {} but {} deleted; the batch was rolled back", database_,
                              set.rows.table, copied, ops::shadow_name(set.rows.table), deleted));
    return deleted;
  }

  Connection& connection_;
  const SqlRenderer& sql_;
  const std::string& database_;
  const ArchivedTable& table_;
  const ArchiveOptions& options_;
  AlsoDeleter& also_delete_;
  std::vector<std::pair<const AlsoDelete*, std::vector<Value>>> pending_;  // of the batch being moved
};

// The declared model of `role` (model/<role>.yaml), or nullopt when the deployment has none.
std::optional<schema::Schema> declared_model(const Deployment& deployment, const std::string& role) {
  const auto files = model_files(deployment.model);
  const auto file = files.find(role);
  if (file == files.end()) return std::nullopt;
  return load_model(file->second);
}

}  // namespace

}  // namespace archiving

long long ArchiveReport::total() const {
  long long rows = 0;
  for (const auto& count : archived) rows += count.rows;
  return rows;
}

ArchiveReport archive(const Deployment& deployment, const ArchiveOptions& options) {
  if (options.max_rows <= 0)
    throw Error(ErrorKind::usage, fmt::format("max_rows must be positive, got {}", options.max_rows));
  ArchiveReport report;
  archiving::RunBatches batches(options.sleep);
  for (const auto* target : deployment.select(options.role, options.database)) {
    auto database = archiving::open_locked(*target, options.wait);
    Connection& connection = *database.connection;
    const auto snapshot = connection.snapshot();
    const auto model = archiving::declared_model(deployment, target->role);
    const auto plan = archiving::plan_archive(snapshot, model ? &*model : nullptr, connection.renderer(),
                                              dialect_of(target->url.dialect).normalizer(), options.before.has_value());
    for (const auto& [table, reason] : plan.skipped) report.skipped.push_back({target->name, table, reason});
    for (const auto& table : plan.tables)
      report.live_values.push_back({target->name, table.name, table.live_value, table.live_source});
    archiving::AlsoDeleter also_delete(deployment, target->name);
    // What an earlier run archived but stopped before deleting elsewhere.
    also_delete.sweep(connection, snapshot, report.also_deleted);
    for (const auto& statement : connection.renderer().archive_session()) connection.execute(statement);
    // SQLite: no fsync per batch while no other connection writes (dialect.h).
    const BatchWalk walk(connection);
    std::vector<BatchCursor> cursors(plan.tables.size());
    long long moved = 0;
    // Until a round moves nothing: a round that went on from a table's cursor and moved
    // nothing has reached the table's end and starts over, so one more round is taken.
    // With --until-complete a round walks each table to its end, in batches of --max-rows,
    // before the next: the rows of a referencing table soft-deleted with their parent
    // (nova's instance_metadata) then move in the parent's batches, not in batches of
    // their own ahead of it, one transaction instead of two.
    const long long budget = options.until_complete ? std::numeric_limits<long long>::max() : options.max_rows;
    bool restarted = false;
    do {
      moved = 0;
      bool any_midway = false;
      for (size_t i = 0; i < plan.tables.size(); ++i) {
        const bool midway = !cursors[i].at_start();
        moved += archiving::TableArchiver(connection, target->name, plan.tables[i], options, also_delete)
                     .run(budget, options.max_rows, report, batches, cursors[i]);
        any_midway = any_midway || midway;
      }
      restarted = moved == 0 && any_midway;
    } while (options.until_complete && (moved > 0 || restarted));
  }
  return report;
}

}  // namespace tandem
