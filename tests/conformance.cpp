#include "conformance.h"

#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <stdexcept>

#include "sql/sql_text.h"

namespace tandem::test {

namespace {

class SqliteScratch final : public ScratchDatabase {
 public:
  std::string url() const override { return dir_.sqlite_url("scratch.db"); }
  std::string dialect() const override { return "sqlite"; }

 private:
  TempDir dir_;
};

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// A fresh database on a PostgreSQL or MariaDB server, made and dropped through the
// command-line clients on the server's admin URL.
class ServerScratch final : public ScratchDatabase {
 public:
  ServerScratch(std::string dialect, std::string admin_url)
      : dialect_(std::move(dialect)), admin_url_(std::move(admin_url)), name_(unique_name()) {
    if (dialect_ == "postgresql") {
      // template0: no one is ever connected to it, so concurrent creations cannot fail with
      // "source database is being accessed by other users".
      client_query(admin_url_, "CREATE DATABASE " + name_ + " TEMPLATE template0");
    } else {
      client_query(admin_url_, "CREATE DATABASE " + name_ + " CHARACTER SET utf8mb4");
    }
    url_ = with_database(admin_url_, name_);
  }

  ~ServerScratch() override {
    try {
      if (dialect_ == "postgresql") {
        // FORCE ends sessions a test left open (a killed tandem, a leaked connection).
        client_query(admin_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
      } else {
        // MariaDB has no FORCE: end those sessions first, or DROP waits on their locks.
        for (const auto& id : client_query(admin_url_, "SELECT id FROM information_schema.processlist WHERE db = '" +
                                                           name_ + "' AND id <> CONNECTION_ID()")) {
          try {
            client_query(admin_url_, "KILL CONNECTION " + id);
          } catch (const std::exception&) {
            // It ended on its own meanwhile.
          }
        }
        client_query(admin_url_, "DROP DATABASE IF EXISTS " + name_);
      }
    } catch (const std::exception& error) {
      std::cerr << "warning: could not drop scratch database " << name_ << ": " << error.what() << "\n";
    }
  }

  ServerScratch(const ServerScratch&) = delete;
  ServerScratch& operator=(const ServerScratch&) = delete;

  std::string url() const override { return url_; }
  std::string dialect() const override { return dialect_; }

 private:
  // Unique across processes (pid), within one (counter), and across runs on a server that
  // outlives them, where a pid comes back (random suffix). Lower case: PostgreSQL folds.
  static std::string unique_name() {
    static int counter = 0;
    static std::mt19937 random(std::random_device{}());
    char suffix[8];
    std::snprintf(suffix, sizeof suffix, "%04x", static_cast<unsigned>(random() & 0xffff));
    return "tandem_scratch_" + std::to_string(getpid()) + "_" + std::to_string(++counter) + "_" + suffix;
  }

  std::string dialect_;
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

// Adds a scratch database of `dialect` when `variable` names a test server; otherwise
// leaves the dialect out with one warning per process, or throws when servers are required.
void add_server_scratch(std::vector<std::unique_ptr<ScratchDatabase>>& databases, const std::string& dialect,
                        const std::string& display_name, const char* variable) {
  const std::string admin_url = environment(variable);
  if (!admin_url.empty()) {
    databases.push_back(std::make_unique<ServerScratch>(dialect, admin_url));
    return;
  }
  if (servers_required())
    throw std::runtime_error(std::string(variable) + " is not set, and the test servers are required (CI=true or " +
                             "TANDEM_REQUIRE_SERVERS=1): run the tests under tools/test-servers.sh");
  static std::set<std::string> warned;
  if (warned.insert(dialect).second)
    std::cerr << "*** WARNING: SKIPPING " << display_name << " conformance: " << variable
              << " is not set (run tests under tools/test-servers.sh) ***\n";
}

}  // namespace

// `url` with its database replaced by `database`, the rest (credentials, options) kept as
// written. The database starts at the first '/' after the credentials' last '@', as
// DatabaseUrl::parse reads it.
std::string with_database(const std::string& url, const std::string& database) {
  const size_t authority = url.find("://");
  if (authority == std::string::npos) throw std::runtime_error("not a server URL: " + redact_passwords(url));
  const size_t query = url.find('?', authority);
  const size_t at = url.rfind('@', query);
  const size_t host = at == std::string::npos || at < authority ? authority + 3 : at + 1;
  const size_t slash = url.find('/', host);
  const size_t path_end = query == std::string::npos ? url.size() : query;
  const std::string tail = query == std::string::npos ? "" : url.substr(query);
  if (slash == std::string::npos || slash > path_end) return url.substr(0, path_end) + "/" + database + tail;
  return url.substr(0, slash + 1) + database + tail;
}

std::unique_ptr<ScratchDatabase> server_scratch(const std::string& dialect, const std::string& admin_url) {
  return std::make_unique<ServerScratch>(dialect, admin_url);
}

std::string test_server_variable(const std::string& variable, const std::string& what) {
  if (const char* value = std::getenv(variable.c_str()); value && *value) return value;
  if (servers_required())
    FAIL(variable << " is not set and the test servers are required (CI=true or TANDEM_REQUIRE_SERVERS=1): run the "
                     "tests under tools/test-servers.sh");
  MESSAGE("*** WARNING: SKIPPING this " << what << " test: " << variable
                                        << " is not set (run the tests under tools/test-servers.sh) ***");
  return "";
}

std::string test_server_url(const std::string& dialect) {
  const bool postgresql = dialect == "postgresql";
  return test_server_variable(postgresql ? "TANDEM_TEST_POSTGRESQL_URL" : "TANDEM_TEST_MYSQL_URL",
                              postgresql ? "PostgreSQL dialect" : "MariaDB dialect");
}

Result run_bundled(const std::string& command, const std::string& url, const std::string& role,
                   const std::vector<std::string>& extra) {
  std::vector<std::string> args = {command, "--db", url, "--database", role, "--repos", TANDEM_SOURCE_DIR};
  args.insert(args.end(), extra.begin(), extra.end());
  if (std::find(extra.begin(), extra.end(), "--to") == extra.end()) args.insert(args.end(), {"--to", "6"});
  return run_tandem(args, TANDEM_SOURCE_DIR);
}

bool servers_required() {
  return environment("CI") == "true" || environment("TANDEM_REQUIRE_SERVERS") == "1";
}

std::vector<std::unique_ptr<ScratchDatabase>> scratch_databases() {
  std::vector<std::unique_ptr<ScratchDatabase>> databases;
  databases.push_back(std::make_unique<SqliteScratch>());
  add_server_scratch(databases, "postgresql", "PostgreSQL", "TANDEM_TEST_POSTGRESQL_URL");
  add_server_scratch(databases, "mysql", "MariaDB", "TANDEM_TEST_MYSQL_URL");
  return databases;
}

std::vector<std::string> client_query(const std::string& url_text, const std::string& sql) {
  const auto url = DatabaseUrl::parse(url_text);
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  const std::string port = url.port ? std::to_string(*url.port) : "";
  if (url.dialect == DialectKind::postgresql) {
    // -X: no ~/.psqlrc; -A -t -F: bare rows, '|' between columns. Everything the
    // connection needs is given, so stray PG* variables cannot redirect it.
    args = {"psql", "-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", "-d", url.database, "-c", sql};
    if (!url.host.empty()) args.insert(args.end(), {"-h", url.host});
    if (!port.empty()) args.insert(args.end(), {"-p", port});
    if (!url.user.empty()) args.insert(args.end(), {"-U", url.user});
    if (url.password) env["PGPASSWORD"] = *url.password;
    env["PGCONNECT_TIMEOUT"] = "10";
  } else if (url.dialect == DialectKind::mysql) {
    // --no-defaults: no option files (the system server's socket, a user's password).
    args = {"mariadb", "--no-defaults", "-N", "-B", "--connect-timeout=10", "-e", sql};
    if (!url.host.empty()) args.insert(args.end(), {"-h", url.host, "--protocol=TCP"});
    if (!port.empty()) args.insert(args.end(), {"-P", port});
    if (!url.user.empty()) args.insert(args.end(), {"-u", url.user});
    args.push_back(url.database);
    if (url.password) env["MYSQL_PWD"] = *url.password;
  } else {
    throw std::runtime_error("client_query needs a postgresql:// or mysql:// URL, not " + url.redacted());
  }
  const auto result = run_process(args, ".", env);
  if (result.exit_code != 0)
    throw std::runtime_error(args.front() + " on " + url.redacted() + " failed (exit " +
                             std::to_string(result.exit_code) + ") running: " + sql + "\n" + result.err + result.out);
  auto rows = lines_of(result.out);
  if (url.dialect == DialectKind::mysql)
    for (auto& row : rows)
      for (auto& c : row)
        if (c == '\t') c = '|';
  return rows;
}

Result run_phase(const std::string& command, const std::string& url, const std::filesystem::path& repos,
                 const std::vector<std::string>& extra) {
  std::vector<std::string> args = {command, "--db", url, "--repos", repos.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_tandem(args, repos);
}

std::vector<std::string> query_rows(const std::string& url, const std::string& sql) {
  auto connection = connect(DatabaseUrl::parse(url));
  std::vector<std::string> out;
  for (const auto& row : connection->query(sql)) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) line += (i ? "|" : "") + row[i].value_or("NULL");
    out.push_back(line);
  }
  return out;
}

void run_script(Connection& connection, const std::string& sql) {
  for (const auto& statement : sql::split(sql, connection.kind())) connection.execute(statement.text);
}

void execute(const std::string& url, const std::string& sql) { run_script(*connect(DatabaseUrl::parse(url)), sql); }

schema::Schema snapshot(const std::string& url) { return connect(DatabaseUrl::parse(url))->snapshot(); }

PeriodicWriter::PeriodicWriter(std::string url, std::function<std::string(int)> statement)
    : thread_([this, url = std::move(url), statement = std::move(statement)] {
        auto session = connect(DatabaseUrl::parse(url));
        while (!stop_) {
          try {
            session->execute(statement(written_ + 1));
            ++written_;
          } catch (const std::exception& error) {
            const std::lock_guard<std::mutex> lock(mutex_);
            last_error_ = error.what();
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      }) {}

void PeriodicWriter::finish() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::string PeriodicWriter::last_error() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return last_error_;
}

}  // namespace tandem::test
