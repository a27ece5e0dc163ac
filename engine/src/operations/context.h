// What operations see while being validated and rendered.
#pragma once

#include <string>
#include <vector>

#include "tandem/findings.h"
#include "tandem/phase.h"
#include "tandem/schema.h"
#include "tandem/url.h"

namespace tandem {
class SqlRenderer;
}

namespace tandem::ops {

// A trigger (and on PostgreSQL its function) that a step installs; recorded in
// tandem_triggers so contract can drop exactly what expand installed.
struct TriggerRecord {
  std::string trigger;
  std::string table;
  std::string function;  // empty where the dialect has no trigger functions
};

// One SQL statement to run. Non-transactional steps (PostgreSQL CONCURRENTLY, MySQL
// DDL) are journaled one by one instead of riding in the unit's transaction.
struct Step {
  Step(std::string statement, bool in_transaction = true) : sql(std::move(statement)), transactional(in_transaction) {}
  std::string sql;
  bool transactional = true;
  // The rows it writes are the schema change itself (SQLite's table rebuild copies every
  // row into the new table): the data rule of expand and contract does not count them.
  bool rebuilds_table = false;
  std::vector<TriggerRecord> installs;
  // An index the statement builds from every row of `index_table` (its name in
  // `builds_index`, empty for any other statement): on a Galera cluster such a build
  // stalls every node's commits under TOI, so Connection::execute_build may run it
  // another way (DESIGN §14).
  std::string builds_index;
  std::string index_table;
  // The table the statement rebuilds from every row (a column's type or nullability
  // changed in place), which Connection::execute_build may copy another way.
  std::string copies_table;
};

struct ValidationContext {
  Phase phase;                 // the repository the unit sits in
  std::string file;
  int line = 0;                // the operation's line
  std::string version;
  Findings& findings;
  // Text of every migrate unit and sync expression, to warn about dropping a column
  // whose data was never carried over.
  const std::string* migrated_text = nullptr;

  void error(std::string code, std::string message) const { findings.error(file, line, std::move(code), std::move(message)); }
  void warning(std::string code, std::string message) const {
    findings.warning(file, line, std::move(code), std::move(message));
  }
  // Reports an error unless `name` is a plain identifier (letters, digits, _; at most 63 bytes).
  void require_identifier(const std::string& name, const char* what) const;
  // Reports an error unless `text` is exactly one expression by every dialect's rules, so
  // it cannot end or cut short the statement tandem writes around it (`line`: 0 for the
  // operation's). `what` names it, e.g. "backfill where".
  void require_expression(const std::string& text, const std::string& what, int line = 0) const;
  // The same for a query that must be exactly one SELECT (a view's).
  void require_query(const std::string& text, const std::string& what) const;
};

struct RenderContext {
  const SqlRenderer& sql;
  const schema::Schema& schema;  // the schema before this operation (live or simulated)
  std::string version;
  bool install_triggers = true;  // false for `tandem upgrade`
};

bool is_identifier(const std::string& name);

}  // namespace tandem::ops
