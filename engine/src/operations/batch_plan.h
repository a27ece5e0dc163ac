// What a migrate operation runs, batch by batch (DESIGN §7), as plain data: written by
// the operation itself with the dialect's renderer, executed as it is by BatchRunner,
// and printed as it is by `migrate --dry-run`. Statements hold `?` placeholders; a key
// fetch's last one is the batch size. A batch after the first of a pass has a lower
// bound (the cursor), the first has none: each statement exists in both forms.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "operations/context.h"

namespace tandem::ops {

// How batches walk a table's key (keyset pagination: key > cursor ORDER BY key LIMIT n).
struct KeyWalk {
  std::string table;             // unquoted
  std::vector<std::string> key;  // the columns walked
  std::string count;             // the rows the operation needs, counted once at its start
  std::string any_left;          // at the end of a pass: whether a row still matches
  // The next batch's keys; parameters: the cursor (next_keys only), the batch size.
  // With last_key_only, the batch's last key alone (parameter: the batch size less one,
  // an offset), and none when fewer rows remain: then first_tail / next_tail (parameter:
  // the cursor, next_tail only) give the table's last key.
  std::string first_keys, next_keys;
  bool last_key_only = false;
  std::string first_tail, next_tail;
  // The key range of a batch, a condition; parameters: the cursor (next_range only),
  // then the batch's last key.
  std::string first_range, next_range;
  // A final pass repeats until a pass changes nothing; copy_rows, whose upserts may
  // count unchanged rows, stops after one final pass.
  int max_passes = 20;
};

// backfill, copy_rows, delete_rows: one statement for the rows of the batch's key range,
// in the transaction that saves the cursor; it changes, and so counts, only rows that
// still need it. Parameters: those of the range.
struct RangePlan {
  KeyWalk walk;
  std::string first_batch, next_batch;
};

// move_rows: the batch's rows are read (key, moved values, their stored forms), copied
// into the target and committed there, one row at a time (found by its `unique` values:
// inserted, or updated where it holds other content); then, in the source transaction
// that saves the cursor, deleted where they still hold what was copied (`then: delete`).
struct MovePlan {
  KeyWalk walk;
  std::string target_role;
  std::string target_table;
  // The rows of the range; parameters: those of the range.
  std::string first_read, next_read;
  size_t values = 0;                   // moved values per row, after the key's columns
  std::vector<size_t> unique_positions;  // of the `unique` columns among the values
  // On the target: parameters the unique values; the values; the values then the unique values.
  std::string find, insert, update;
  bool keep = false;  // then: keep
  // On the source: `delete_row` is one row's condition (parameters: its key, then the
  // stored forms); a delete joins at most kRowsPerDelete of them with OR.
  static constexpr size_t kRowsPerDelete = 100;
  std::string delete_from;  // "DELETE FROM <table> WHERE "
  std::string delete_row;
  std::string table_condition;  // " AND (<where>)", or empty
  // The source delete of `rows` rows.
  std::string source_delete(size_t rows) const;
};

using BatchPlan = std::variant<RangePlan, MovePlan>;

// The walk over `table` for operation `operation` (its name, for errors): its key is
// `declared`, else the table's primary key in context.schema; `where` the rows' condition.
KeyWalk key_walk(const RenderContext& context, const char* operation, const std::string& table,
                 const std::vector<std::string>& declared, const std::optional<std::string>& where);

// What `--dry-run` prints for a plan: the statements of a batch after the first of a
// pass, exactly as the runner sends them, placeholders and all.
std::vector<Step> batch_steps(const BatchPlan& plan);

}  // namespace tandem::ops
