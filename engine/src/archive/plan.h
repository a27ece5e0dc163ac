// Which tables archive moves rows out of, and what moves with them, read from a schema
// snapshot: a table with shadow_<table> and a `deleted` column is archived; the tables
// that reference it through foreign keys, transitively, move their referencing rows in
// the same batch, deepest first, so no foreign key ever points at a row already gone.
#pragma once

#include <string>
#include <vector>

#include "dialect/dialect.h"
#include "dialect/normalize.h"
#include "tandem/schema.h"

namespace tandem::archiving {

// One foreign key followed from the referenced table down to `table`, which references
// it: table.columns -> referenced.referenced_columns.
struct Link {
  std::string table;
  std::vector<std::string> columns;
  std::vector<std::string> referenced_columns;
};

// Rows of the last table of `path` that reference, along `path`, the rows being archived.
struct Descendant {
  std::vector<Link> path;            // from the archived table down
  std::vector<std::string> columns;  // of path.back().table, all of which its shadow has
};

struct ArchivedTable {
  std::string name;
  std::vector<std::string> columns;  // all of which its shadow has
  std::vector<std::string> key;      // batches walk it: primary key, NOT NULL unique key or row locator
  // The value of `deleted` in a live row (an SQL expression), and where it came from:
  // "server default", "model" or "by type" (DESIGN §10).
  std::string live_value;
  std::string live_source;
  // SQL true for a soft-deleted row: `deleted` not at its live value (NULL counts as live).
  std::string deleted_condition;
  // Deepest first: a step runs after every step for the rows referencing its rows.
  std::vector<Descendant> descendants;
};

struct ArchivePlan {
  std::vector<ArchivedTable> tables;  // a table referenced by another archived table comes first
  std::vector<std::pair<std::string, std::string>> skipped;  // table, reason
};

// `before`: --before was given, so an archived table needs deleted_at. `model`: the
// declared model of the database's role, where a `deleted` column without a server
// default finds its live value first (nullptr: none at hand); `types` reads the
// snapshot's column types for the last fallback, the live value by type.
ArchivePlan plan_archive(const schema::Schema& schema, const schema::Schema* model, const SqlRenderer& sql,
                         const DialectNormalizer& types, bool before);

}  // namespace tandem::archiving
