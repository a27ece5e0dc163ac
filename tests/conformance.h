// The databases the conformance suite runs against: SQLite always; PostgreSQL and
// MariaDB when their dialects and test servers are available.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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

// One scratch database per available dialect, SQLite first. PostgreSQL and MariaDB come
// from the test servers that tools/test-servers.sh starts (TANDEM_TEST_POSTGRESQL_URL,
// TANDEM_TEST_MYSQL_URL: admin URLs of a maintenance database); each is a fresh database
// dropped when its object goes away. A variable that is not set leaves its dialect out
// with a warning, or throws when servers_required().
std::vector<std::unique_ptr<ScratchDatabase>> scratch_databases();

// A fresh database of `dialect` ("postgresql", "mysql") on the server of `admin_url`,
// dropped when the object goes away.
std::unique_ptr<ScratchDatabase> server_scratch(const std::string& dialect, const std::string& admin_url);

// `url` with its database replaced by `database`, credentials and options kept.
std::string with_database(const std::string& url, const std::string& database);

// The admin URL of the test server of `dialect` ("postgresql", "mysql"), or "" after a
// loud warning that the calling test skips; a test failure where servers are required.
std::string test_server_url(const std::string& dialect);
// The value of the test server variable `variable`, or "" after the same loud warning
// (naming the skipped `what` test), or the same failure where servers are required.
std::string test_server_variable(const std::string& variable, const std::string& what);

// A phase command on one database of `role` alone with the bundled history, which such a
// database takes up to 006: from 007 on rows move between the cell and api databases
// (tests/test_bundled_history.cpp runs the whole of it).
Result run_bundled(const std::string& command, const std::string& url, const std::string& role,
                   const std::vector<std::string>& extra = {});

// True when the test servers must be there: CI=true or TANDEM_REQUIRE_SERVERS=1.
bool servers_required();

// Runs `sql` on a postgresql:// or mysql:// URL through the psql / mariadb command-line
// client (not through tandem's dialects), the password passed in the environment. Returns
// the rows, columns joined by '|'; throws std::runtime_error with the client's output.
std::vector<std::string> client_query(const std::string& url, const std::string& sql);

// Runs a phase command of the CLI on `url` with the repositories in `repos`.
Result run_phase(const std::string& command, const std::string& url, const std::filesystem::path& repos,
                 const std::vector<std::string>& extra = {});

// Rows of `sql` on `url`, each row's columns joined by '|', NULL as "NULL".
std::vector<std::string> query_rows(const std::string& url, const std::string& sql);
// Runs the statements of `sql` one by one on `connection` (execute() runs one only).
void run_script(Connection& connection, const std::string& sql);
// Runs the statements of `sql` one by one on one session of `url`.
void execute(const std::string& url, const std::string& sql);
schema::Schema snapshot(const std::string& url);

// An application's writer: from construction until finish(), runs `statement(n)` every
// 5 ms on a session of its own on `url`, n being one more than the statements committed
// so far. One that fails (a lost certification) is not counted, and the same n is tried
// again; the last error is kept.
class PeriodicWriter {
 public:
  PeriodicWriter(std::string url, std::function<std::string(int)> statement);
  ~PeriodicWriter() { finish(); }
  PeriodicWriter(const PeriodicWriter&) = delete;
  PeriodicWriter& operator=(const PeriodicWriter&) = delete;
  void finish();
  int written() const { return written_; }
  std::string last_error() const;

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> written_{0};
  mutable std::mutex mutex_;
  std::string last_error_;
  std::thread thread_;
};

}  // namespace tandem::test
