// The databases the conformance suite runs against: SQLite always; PostgreSQL and
// MariaDB when their dialects and test servers are available.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dialect/dialect.h"
#include "support.h"

namespace tandem::test {

// A fresh, empty database of one dialect for one test.
class ScratchDatabase {
 public:
  virtual ~ScratchDatabase() = default;
  virtual std::string url() const = 0;
  virtual std::string dialect() const = 0;
};

// One scratch database per available dialect.
std::vector<std::unique_ptr<ScratchDatabase>> scratch_databases();

// Runs a phase command of the CLI on `url` with the repositories in `repos`.
Result run_phase(const std::string& command, const std::string& url, const std::filesystem::path& repos,
                 const std::vector<std::string>& extra = {});

// Rows of `sql` on `url`, each row's columns joined by '|', NULL as "NULL".
std::vector<std::string> query_rows(const std::string& url, const std::string& sql);
void execute(const std::string& url, const std::string& sql);
schema::Schema snapshot(const std::string& url);

}  // namespace tandem::test
