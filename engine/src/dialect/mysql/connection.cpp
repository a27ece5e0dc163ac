#include <fmt/format.h>
#include <mysql.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <set>
#include <string_view>

#include "dialect/mysql/mysql.h"
#include "sql/sql_text.h"
#include "dialect/registry.h"
#include "tandem/error.h"

namespace tandem::mysql {

namespace {

// PIPES_AS_CONCAT: units write portable SQL, where `'v2:' || col` concatenates. MySQL
// stores the sql_mode with each trigger and runs the trigger under it whatever the
// application's session says, so the sync expressions tandem installs keep meaning what
// the unit wrote. Strict mode makes a backfill or sync that would truncate data fail
// instead of warn; NO_ENGINE_SUBSTITUTION keeps ENGINE=InnoDB from quietly becoming
// something else. ANSI_QUOTES stays off: MySQL-specific SQL in units writes "strings".
constexpr const char* kSessionSqlMode =
    "PIPES_AS_CONCAT,STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION";
constexpr unsigned kDefaultConnectTimeout = 10;
constexpr unsigned kDefaultPort = 3306;
constexpr std::string_view kInstant = "ALGORITHM=INSTANT";

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// The URL options a connection understands; MySQL and PostgreSQL spellings both work.
const std::string* option(const DatabaseUrl& url, std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (auto it = url.options.find(name); it != url.options.end()) return &it->second;
  return nullptr;
}

void check_options(const DatabaseUrl& url) {
  static const std::set<std::string> known = {
      "ssl-mode", "ssl_mode", "sslmode", "ssl-ca", "ssl_ca", "sslrootcert",     "ssl-cert",        "ssl_cert",
      "sslcert",  "ssl-key",  "ssl_key", "sslkey", "socket", "connect_timeout", "connect-timeout", "galera_ddl",
  };
  for (const auto& [name, value] : url.options)
    if (!known.contains(name))
      throw Error(ErrorKind::bad_config,
                  fmt::format("database URL {}: unknown option '{}' (known: ssl-mode, ssl-ca, ssl-cert, ssl-key, "
                              "connect_timeout, socket, galera_ddl)",
                              url.redacted(), name));
  if (const auto* method = option(url, {"galera_ddl"}); method && *method != "auto" && *method != "toi" &&
                                                        *method != "rsu" && *method != "copy")
    throw Error(ErrorKind::bad_config,
                fmt::format("database URL {}: galera_ddl is '{}', not one of auto, toi, rsu, copy", url.redacted(), *method));
}

// Returns whether the URL requires TLS.
bool set_tls_options(MYSQL* session, const DatabaseUrl& url) {
  const std::string* mode_text = option(url, {"ssl-mode", "ssl_mode", "sslmode"});
  std::string mode = mode_text ? lower(*mode_text) : "preferred";
  std::replace(mode.begin(), mode.end(), '_', '-');
  if (mode == "disabled" || mode == "disable") return false;
  // A certificate file turns TLS on; without one Connector/C does not try TLS, so
  // "preferred" means TLS only when certificates are given.
  if (const auto* ca = option(url, {"ssl-ca", "ssl_ca", "sslrootcert"}))
    mysql_optionsv(session, MYSQL_OPT_SSL_CA, ca->c_str());
  if (const auto* cert = option(url, {"ssl-cert", "ssl_cert", "sslcert"}))
    mysql_optionsv(session, MYSQL_OPT_SSL_CERT, cert->c_str());
  if (const auto* key = option(url, {"ssl-key", "ssl_key", "sslkey"}))
    mysql_optionsv(session, MYSQL_OPT_SSL_KEY, key->c_str());
  if (mode == "preferred" || mode == "prefer" || mode == "allow") return false;
  const bool verify = mode == "verify-ca" || mode == "verify-identity" || mode == "verify-full";
  if (!verify && mode != "required" && mode != "require")
    throw Error(ErrorKind::bad_config,
                fmt::format("database URL {}: ssl-mode '{}' is not one of disabled, preferred, required, verify_ca, "
                            "verify_identity",
                            url.redacted(), *mode_text));
  my_bool yes = 1, verify_flag = verify ? 1 : 0;
  mysql_optionsv(session, MYSQL_OPT_SSL_ENFORCE, &yes);
  mysql_optionsv(session, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify_flag);
  return true;
}

unsigned connect_timeout(const DatabaseUrl& url) {
  const std::string* text = option(url, {"connect_timeout", "connect-timeout"});
  if (!text) return kDefaultConnectTimeout;
  if (text->empty() || text->size() > 6 || text->find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(*text) == 0)
    throw Error(ErrorKind::bad_config,
                fmt::format("database URL {}: connect_timeout '{}' is not a number of seconds", url.redacted(), *text));
  return static_cast<unsigned>(std::stoi(*text));
}

// Result columns are read into buffers of this size; a longer value is fetched again
// whole, at its length.
constexpr unsigned long kResultBuffer = 256;

// Owns a prepared statement.
struct StatementCloser {
  void operator()(MYSQL_STMT* statement) const { mysql_stmt_close(statement); }
};
using Statement = std::unique_ptr<MYSQL_STMT, StatementCloser>;

}  // namespace

MysqlConnection::MysqlConnection(const DatabaseUrl& url) : url_(url) {
  check_options(url);
  // Once per process, before any thread opens a session (--jobs opens them in parallel).
  static const bool library_ready = mysql_library_init(0, nullptr, nullptr) == 0;
  session_ = library_ready ? mysql_init(nullptr) : nullptr;
  if (!session_)
    throw Error(ErrorKind::unreachable, fmt::format("cannot connect to {}: out of memory", url.redacted()));
  const std::string* socket = option(url, {"socket"});
  // TCP even for "localhost", which Connector/C would otherwise take to mean the
  // default unix socket: the URL names a host and port.
  unsigned protocol = socket ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
  const unsigned timeout = connect_timeout(url);
  mysql_optionsv(session_, MYSQL_OPT_PROTOCOL, &protocol);
  mysql_optionsv(session_, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_optionsv(session_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  bool tls_required = false;
  try {
    tls_required = set_tls_options(session_, url);
  } catch (...) {
    mysql_close(session_);
    throw;
  }
  const char* password = url.password ? url.password->c_str() : std::getenv("MYSQL_PWD");
  // Affected rows count the rows a statement matched, as on the other dialects, not
  // only those whose values changed. No CLIENT_MULTI_STATEMENTS: the server then refuses
  // a text holding a second statement instead of running it; CLIENT_MULTI_RESULTS still
  // lets a CALL return its result sets.
  const unsigned long flags = CLIENT_MULTI_RESULTS | CLIENT_FOUND_ROWS;
  if (!mysql_real_connect(session_, url.host.empty() ? "localhost" : url.host.c_str(),
                          url.user.empty() ? nullptr : url.user.c_str(), password, url.database.c_str(),
                          url.port.value_or(kDefaultPort), socket ? socket->c_str() : nullptr, flags)) {
    const std::string message = url.hide_password(mysql_error(session_));
    mysql_close(session_);
    session_ = nullptr;
    throw Error(ErrorKind::unreachable, fmt::format("cannot connect to {}: {}", url.redacted(), message));
  }
  // Connector/C 3.3 refuses a server without TLS only when it verifies certificates:
  // under ssl-mode=required the session would otherwise quietly run unencrypted.
  if (tls_required && !mysql_get_ssl_cipher(session_)) {
    mysql_close(session_);
    session_ = nullptr;
    throw Error(
        ErrorKind::unreachable,
        fmt::format("cannot connect to {}: ssl-mode requires TLS but the server did not offer it", url.redacted()));
  }
  mariadb_ = std::string(mysql_get_server_info(session_)).find("MariaDB") != std::string::npos;
  try {
    execute(fmt::format("SET SESSION sql_mode = '{}'", kSessionSqlMode));
    // SHOW VARIABLES rather than @@wsrep_on, which is an error where the server has no
    // wsrep at all (MySQL, MariaDB built without it).
    const auto wsrep = query("SHOW VARIABLES LIKE 'wsrep_on'", {});
    galera_ = !wsrep.empty() && wsrep[0].size() > 1 && wsrep[0][1] == "ON";
    // On Galera a node applies the other nodes' commits a moment after they are
    // certified: 15 makes every read, UPDATE/DELETE, INSERT/REPLACE and SHOW of this
    // session first wait until this node has applied everything the cluster committed
    // before it, so tandem never decides on stale state (a version, a cursor, the lease
    // row, a run through another node's schema change). It costs one round trip per
    // statement, little beside DDL and batches of many rows; the application's sessions
    // keep their own setting.
    if (galera_) execute("SET SESSION wsrep_sync_wait = 15");
  } catch (const Error& error) {
    mysql_close(session_);
    session_ = nullptr;
    throw Error(ErrorKind::unreachable, fmt::format("cannot set up a session on {}: {}", url.redacted(), error.what()));
  }
}

MysqlConnection::~MysqlConnection() {
  if (session_) mysql_close(session_);
}

const SqlRenderer& MysqlConnection::renderer() const { return mysql_renderer(); }

void MysqlConnection::fail(const std::string& sql) const { fail(sql, mysql_errno(session_), mysql_error(session_)); }

void MysqlConnection::fail(const std::string& sql, unsigned code, const char* message) const {
  // 2006 server gone away, 2013 lost during the query, 1927 the session was killed,
  // 4031 closed for inactivity: the server, not the statement, is what failed.
  static const std::set<unsigned> lost = {2006, 2013, 1927, 4031};
  if (lost.contains(code))
    throw Error(ErrorKind::unreachable, fmt::format("lost the connection to {}: {}", url_.redacted(), message))
        .with_sql(sql)
        .with_code(std::to_string(code));
  throw Error(ErrorKind::step_failed, fmt::format("{}: {}", url_.redacted(), message))
      .with_sql(sql)
      .with_code(std::to_string(code));
}

void MysqlConnection::refuse_if_lease_lost(const std::string& sql) const {
  if (!lease_watch_ || sql == "ROLLBACK") return;
  if (auto reason = lease_watch_->lost()) throw Error(ErrorKind::lock_held, *reason).with_sql(sql);
}

std::vector<Row> MysqlConnection::run(const std::string& sql, long long* changed) {
  refuse_if_lease_lost(sql);
  if (mysql_real_query(session_, sql.data(), sql.size()) != 0) fail(sql);
  std::vector<Row> rows;
  bool have_rows = false;
  while (true) {
    if (MYSQL_RES* result = mysql_store_result(session_)) {
      if (!have_rows) {
        const unsigned columns = mysql_num_fields(result);
        while (MYSQL_ROW values = mysql_fetch_row(result)) {
          const unsigned long* lengths = mysql_fetch_lengths(result);
          Row row;
          for (unsigned i = 0; i < columns; ++i)
            row.push_back(values[i] ? Value(std::string(values[i], lengths[i])) : std::nullopt);
          rows.push_back(std::move(row));
        }
        have_rows = true;
      }
      mysql_free_result(result);
    } else if (mysql_field_count(session_) != 0) {
      fail(sql);
    } else if (changed) {
      *changed = static_cast<long long>(mysql_affected_rows(session_));
    }
    const int next = mysql_next_result(session_);
    if (next > 0) fail(sql);
    if (next < 0) break;
  }
  return rows;
}

long long MysqlConnection::rows_written() { return rows_written_; }

void MysqlConnection::execute(const std::string& sql) {
  long long changed = 0;
  try {
    run(sql, &changed);
  } catch (const Error& error) {
    // ADD COLUMN asks for INSTANT (a metadata change only); where the server cannot do
    // that for this table (1845/1846: not supported, with the reason) the online
    // rebuild is the next best: it still lets the application read and write.
    const size_t instant = sql.find(kInstant);
    if ((error.code() != "1845" && error.code() != "1846") || instant == std::string::npos) throw;
    run(sql.substr(0, instant) + "ALGORITHM=INPLACE, LOCK=NONE" + sql.substr(instant + kInstant.size()), &changed);
  }
  // An ALTER reports the rows its copy wrote: only statements that are not DDL count.
  if (changed > 0 && !sql::is_schema_change(sql, DialectKind::mysql)) rows_written_ += changed;
}

std::vector<Row> MysqlConnection::run_prepared(const std::string& sql, const std::vector<Value>& params,
                                              long long* changed) {
  refuse_if_lease_lost(sql);
  const Statement statement(mysql_stmt_init(session_));
  if (!statement) fail(sql);
  MYSQL_STMT* const stmt = statement.get();
  const auto fail_statement = [&] { fail(sql, mysql_stmt_errno(stmt), mysql_stmt_error(stmt)); };
  if (mysql_stmt_prepare(stmt, sql.data(), sql.size()) != 0) fail_statement();
  const unsigned long placeholders = mysql_stmt_param_count(stmt);
  if (placeholders != params.size())
    throw Error(ErrorKind::step_failed, fmt::format("{}: the statement has {} placeholders but {} values were given",
                                                    url_.redacted(), placeholders, params.size()))
        .with_sql(sql);
  // Values as text at their length (binary-safe), NULL as NULL: the server converts
  // them to the column's type as it would a string literal.
  std::vector<MYSQL_BIND> values(params.size());
  std::vector<unsigned long> value_lengths(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    values[i] = MYSQL_BIND{};
    if (!params[i]) {
      values[i].buffer_type = MYSQL_TYPE_NULL;
      continue;
    }
    value_lengths[i] = params[i]->size();
    values[i].buffer_type = MYSQL_TYPE_STRING;
    values[i].buffer = const_cast<char*>(params[i]->data());
    values[i].buffer_length = value_lengths[i];
    values[i].length = &value_lengths[i];
  }
  if (!values.empty() && mysql_stmt_bind_param(stmt, values.data())) fail_statement();
  if (mysql_stmt_execute(stmt) != 0) fail_statement();

  std::vector<Row> rows;
  MYSQL_RES* metadata = mysql_stmt_result_metadata(stmt);
  if (!metadata) {
    if (changed) *changed = static_cast<long long>(mysql_stmt_affected_rows(stmt));
    return rows;
  }
  const unsigned columns = mysql_num_fields(metadata);
  mysql_free_result(metadata);
  // Every column read as text, as the text protocol gives it.
  std::vector<MYSQL_BIND> results(columns);
  std::vector<std::string> buffers(columns, std::string(kResultBuffer, '\0'));
  std::vector<unsigned long> lengths(columns);
  std::vector<my_bool> nulls(columns), truncated(columns);
  for (unsigned i = 0; i < columns; ++i) {
    results[i] = MYSQL_BIND{};
    results[i].buffer_type = MYSQL_TYPE_STRING;
    results[i].buffer = buffers[i].data();
    results[i].buffer_length = kResultBuffer;
    results[i].length = &lengths[i];
    results[i].is_null = &nulls[i];
    results[i].error = &truncated[i];
  }
  if (mysql_stmt_bind_result(stmt, results.data())) fail_statement();
  while (true) {
    const int status = mysql_stmt_fetch(stmt);
    if (status == MYSQL_NO_DATA) break;
    if (status == 1) fail_statement();
    Row row;
    row.reserve(columns);
    for (unsigned i = 0; i < columns; ++i) {
      if (nulls[i]) {
        row.emplace_back();
      } else if (lengths[i] <= kResultBuffer) {
        row.emplace_back(std::string(buffers[i].data(), lengths[i]));
      } else {
        std::string whole(lengths[i], '\0');
        unsigned long whole_length = 0;
        MYSQL_BIND column{};
        column.buffer_type = MYSQL_TYPE_STRING;
        column.buffer = whole.data();
        column.buffer_length = lengths[i];
        column.length = &whole_length;
        if (mysql_stmt_fetch_column(stmt, &column, i, 0) != 0) fail_statement();
        whole.resize(std::min<unsigned long>(whole_length, lengths[i]));
        row.emplace_back(std::move(whole));
      }
    }
    rows.push_back(std::move(row));
  }
  // A CALL's further results, read to the end so the session is ready for the next statement.
  while (mysql_stmt_more_results(stmt) && mysql_stmt_next_result(stmt) == 0) {
  }
  return rows;
}

// Without values the text protocol runs the statement; with them, a prepared statement.
std::vector<Row> MysqlConnection::query(const std::string& sql, const std::vector<Value>& params) {
  return params.empty() ? run(sql) : run_prepared(sql, params);
}

long long MysqlConnection::update(const std::string& sql, const std::vector<Value>& params) {
  long long changed = 0;
  if (params.empty())
    run(sql, &changed);
  else
    run_prepared(sql, params, &changed);
  return changed;
}

void MysqlConnection::set_lock_timeout(std::chrono::milliseconds timeout) {
  // lock_wait_timeout bounds the wait for a table's metadata lock, which every DDL
  // statement takes (briefly, even online ones) and which queues the application's
  // queries behind it while it waits; innodb_lock_wait_timeout bounds row-lock waits
  // of tandem's own data statements. Both count whole seconds. The metadata wait is
  // rounded down, to 0 (do not queue at all) below a second: every second tandem queues
  // is a second the application's writes queue behind it, and the runner retries with
  // backoff anyway. Row-lock waits start at 1 second, their minimum.
  const long long metadata_seconds = timeout.count() / 1000;
  const long long row_seconds = std::max<long long>(1, (timeout.count() + 999) / 1000);
  execute(fmt::format("SET SESSION lock_wait_timeout = {}, SESSION innodb_lock_wait_timeout = {}", metadata_seconds,
                      row_seconds));
  lock_timeout_ = timeout;
}

bool MysqlConnection::is_lock_timeout(const Error& error) const {
  // 1205 lock wait timeout (metadata or row lock), 1213 deadlock, 3572 NOWAIT (MySQL).
  static const std::set<std::string> codes = {"1205", "1213", "3572"};
  return codes.contains(error.code());
}

bool MysqlConnection::is_already_applied(const Error& error) const {
  static const std::set<std::string> codes = {
      "1050",  // table or view already exists
      "1051",  // unknown table (DROP TABLE)
      "1060",  // duplicate column name
      "1061",  // duplicate key name
      "1091",  // can't DROP column / key / FOREIGN KEY / CONSTRAINT: it does not exist
      "1359",  // trigger already exists
      "1360",  // trigger does not exist
      "1826",  // duplicate foreign key (MySQL) or CHECK constraint (MariaDB) name
      "3822",  // duplicate check constraint name (MySQL)
      "3940",  // constraint does not exist (MySQL)
      "4092",  // unknown VIEW (MariaDB DROP VIEW)
  };
  if (codes.contains(error.code())) return true;
  const std::string sql = error.sql().value_or("");
  // MariaDB reports a duplicate foreign key name as InnoDB's errno 121 inside 1005.
  if (error.code() == "1005") return std::string(error.what()).find("errno: 121") != std::string::npos;
  // A rename that already happened finds its old name gone.
  if (error.code() == "1054") return sql.find(" RENAME COLUMN ") != std::string::npos;
  if (error.code() == "1146") return sql.rfind("RENAME TABLE ", 0) == 0;
  return false;
}

}  // namespace tandem::mysql

namespace tandem {

std::unique_ptr<Connection> connect_mysql(const DatabaseUrl& url) {
  return std::make_unique<mysql::MysqlConnection>(url);
}

const SqlRenderer& mysql_renderer() {
  static const mysql::MysqlRenderer renderer;
  return renderer;
}

}  // namespace tandem
