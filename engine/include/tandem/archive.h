// Archive and purge (DESIGN §10), as nova-manage's `db archive_deleted_rows` and
// `db purge` do: soft-deleted rows leave the live tables for their shadow tables, with
// the rows that reference them, and are later deleted from the shadow tables.
//
//   tandem::ArchiveOptions options;
//   options.until_complete = true;
//   const auto report = tandem::archive(deployment, options);
//
// Both take each database's run lock, so they never overlap a phase run (which may be
// changing the very tables they copy between) or each other.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tandem/deployment.h"

namespace tandem {

// Rows moved or deleted in one table of one database.
struct TableCount {
  std::string database;  // "cell1", "main"
  std::string table;
  long long rows = 0;
};

// A table left alone, and why (no shadow for a child table, a shadow lacking a column, ...).
struct SkippedTable {
  std::string database;
  std::string table;
  std::string reason;
};

// An archived table's live value of `deleted` (DESIGN §10): a row whose `deleted` differs
// from it (NULL counts as live) is soft-deleted.
struct LiveValue {
  std::string database;
  std::string table;
  std::string value;   // an SQL expression: "0", "''", "false", a server default
  std::string source;  // "server default", "model" or "by type"
};

struct ArchiveOptions {
  // At most this many soft-deleted rows per table per round, not counting the rows that
  // reference them and move with them. Must be positive.
  long long max_rows = 1000;
  // Only rows whose deleted_at is older than this timestamp, as parse_timestamp returns it.
  std::optional<std::string> before;
  // Repeat rounds of max_rows per table until a round finds nothing to move.
  bool until_complete = false;
  std::chrono::milliseconds sleep{0};  // pause between batches
  std::chrono::seconds wait{0};        // how long to wait for another run's lock
  std::optional<std::string> role;      // only databases of this role
  std::optional<std::string> database;  // only the database with this name
};

struct ArchiveReport {
  std::vector<TableCount> archived;  // tables with rows moved, in the order they first moved
  std::vector<SkippedTable> skipped;
  std::vector<LiveValue> live_values;   // of every table archive looked for soft-deleted rows in
  std::vector<TableCount> also_deleted;  // rows deleted in other databases (archive.also_delete)
  long long total() const;
};

// Moves soft-deleted rows (the `deleted` column not at its live value, and with `before`
// deleted_at older than it) of every table that has shadow_<table> into the shadow,
// together with the rows of other tables that reference them through foreign keys,
// transitively, children first. Each batch is one transaction: a killed run leaves every
// row either in its table or in its shadow, never both, never neither. Tables whose rows
// cannot be moved without losing data are skipped and reported, never half-moved. The
// deployment's also_delete rows of a batch's rows are deleted once the batch commits, and
// those of rows archived by an earlier run that stopped before deleting them first.
// Throws Error (unreachable, lock_held, step_failed) on the first database failure; the
// batches committed before it stay archived.
ArchiveReport archive(const Deployment& deployment, const ArchiveOptions& options);

struct PurgeOptions {
  // Only rows older than this timestamp (as parse_timestamp returns it); nullopt: all rows.
  std::optional<std::string> before;
  std::chrono::seconds wait{0};
  std::optional<std::string> role;
  std::optional<std::string> database;
};

struct PurgeReport {
  std::vector<TableCount> purged;  // shadow tables with rows deleted
  std::vector<SkippedTable> skipped;
  std::vector<TableCount> also_deleted;  // rows deleted in other databases before their shadow rows went
  long long total() const;
};

// Deletes rows from every shadow table: with `before`, those whose deleted_at (else
// updated_at, else created_at) is older; a shadow table with none of these columns is
// then skipped and reported. One transaction per table.
PurgeReport purge(const Deployment& deployment, const PurgeOptions& options);

// An ISO 8601 date or date-time (2026-01-31, 2026-01-31T12:00:00, with a space instead of
// the T, seconds and fraction optional, a trailing Z allowed) as the timestamp
// "2026-01-31 12:00:00[.fff]" that archive and purge compare with; nullopt when `text` is
// not one or names no real day. Times are those stored in the database (no time zone).
std::optional<std::string> parse_timestamp(const std::string& text);

}  // namespace tandem
