// Fail-points: a test hook that stops a run at an exact place instead of a timing window.
//
// TANDEM_FAILPOINT holds one point or several, comma-separated:
//   point  = [ "hold_" ] ( "before_step" | "after_step" | "before_commit" | "after_batch" | "after_node" |
//              "after_copy" ) ":" N
//            (N >= 1)
// A point fires when the run reaches that place:
//   before_step:N  before step N (from 1, in plan order) of the unit being run starts; in a
//                  journaled unit, steps 1..N-1 are then applied and journaled
//   after_step:N   right after step N's statement succeeded on the server: inside the unit's
//                  transaction, or, in a journaled unit, before the journal records it (the
//                  hardest moment to recover from)
//   before_commit:N  batch N (counted as after_batch counts) has run its statements and
//                  saved its cursor, inside its open transaction, before the commit: a
//                  kill here must leave nothing of the batch
//   after_batch:N  once batch N (from 1, per batched operation, in this run) has committed;
//                  in an archive run, once its Nth batch (from 1, over every table and
//                  database of the run) has committed; in an abort, once batch N of rows
//                  moving back into this database (from 1, per move_rows) committed there,
//                  before the target's copies are deleted (before_commit:N: inside it)
//   after_node:N   on a Galera cluster, once node N (from 1, in the order the step builds
//                  them) has built the index a step builds node by node under RSU, before
//                  the node is back in sync and the next one starts
//   after_copy:N   on a Galera cluster, once batch N (from 1) of an online copy of a
//                  table has committed, before the next
// A plain point kills the process (SIGKILL: no clean-up, as a crash). A hold_ point keeps
// it alive where it is, holding whatever it holds (the run lock, a transaction): it
// creates the file $TANDEM_FAILPOINT_HOLD.reached, then waits until
// $TANDEM_FAILPOINT_HOLD.go exists (at most two minutes, so a test that failed before
// releasing it does not leave a run behind for ever), and carries on.
// A value that does not follow the grammar is an Error(usage) at the first place reached.
#pragma once

namespace tandem::failpoint {

enum class Moment { before, after };
enum class Site { step, batch, node, copy };

// Called by the unit runner around every step, by the batch runner and the archiver
// before and after every batch commits (Moment::before, Site::batch: before_commit), and
// by a Galera build after each node (Site::node) or copy batch (Site::copy); does nothing unless
// TANDEM_FAILPOINT names this place.
void reach(Moment moment, Site site, int number);

}  // namespace tandem::failpoint
