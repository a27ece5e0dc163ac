// Where a batched walk stands: its pass, what the pass changed, and the key of the last
// row done. Stored in tandem_progress.cursor as JSON, written and read here alone:
//   {"pass": 2, "changed": 0, "after_hex": ["3137", "62"]}   (null at a pass's start)
// Key values are kept as the database gave them, bytes (in hex) or NULL, and bound as
// such; a cursor of an earlier tandem, with plain values in "after", is read as well.
#pragma once

#include <string>
#include <vector>

#include "dialect/dialect.h"

namespace tandem {

struct BatchCursor {
  int pass = 1;
  long long changed = 0;     // rows the pass has changed so far
  std::vector<Value> after;  // the last key done; empty at the start of a pass

  bool at_start() const { return after.empty(); }
  // The cursor of the pass after this one.
  BatchCursor next_pass() const { return {pass + 1, 0, {}}; }

  std::string dump() const;
  // Reads a stored cursor (key values stored as text, numbers or null); throws
  // Error(step_failed) naming what is wrong with a damaged one.
  static BatchCursor parse(const std::string& text);
};

}  // namespace tandem
