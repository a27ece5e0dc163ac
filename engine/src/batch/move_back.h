// The rows a move_rows (then: delete) took out of a database, moved back into it when its
// version is aborted (DESIGN §16). The target kept a record of each row it received and
// where from (StateStore::record_moved); the rows go back in batches of those records,
// each batch as the forward move does it, the other way round: copied into the source
// (inserted, or updated where a row with its `unique` values is there) and committed
// there first, then deleted from the target with their records. A kill in between leaves
// the rows in both places and their records, and the next run copies them again (an
// update to the same values) before it deletes them: nothing lost, nothing doubled.
#pragma once

#include <functional>
#include <string>

#include "dialect/dialect.h"
#include "operations/operations.h"

namespace tandem {

// Moves back into `source`, the database named `source_name`, what `move` of version
// `version` moved from it into `target`; returns the rows it moved. `on_event` gets a line
// per batch. A row another database's move also delivered (the same unique values) is
// copied back but stays in the target until the last of them takes it.
long long move_rows_back(Connection& source, const std::string& source_name, Connection& target,
                         const ops::MoveRows& move, const std::string& version,
                         const std::function<void(const std::string&)>& on_event);

// How many rows that would move back (0 where the target keeps no records yet).
long long rows_to_move_back(const std::string& source_name, Connection& target, const ops::MoveRows& move,
                            const std::string& version);

}  // namespace tandem
