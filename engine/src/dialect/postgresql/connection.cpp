#include <fmt/format.h>

#include <pqxx/pqxx>

#include <algorithm>
#include <cctype>
#include <regex>
#include <string_view>

#include "dialect/postgresql/postgresql.h"
#include "dialect/registry.h"
#include "sql/lexer.h"
#include "tandem/error.h"

namespace tandem::postgresql {

namespace {

// libpq keyword values: single-quoted, with \ and ' escaped.
std::string conninfo_value(const std::string& value) {
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "'";
}

std::string connection_string(const DatabaseUrl& url, const std::string& application_name) {
  std::vector<std::string> keywords;
  auto add = [&](const std::string& keyword, const std::string& value) {
    keywords.push_back(keyword + "=" + conninfo_value(value));
  };
  if (!url.host.empty()) add("host", url.host);
  if (url.port) add("port", std::to_string(*url.port));
  if (!url.user.empty()) add("user", url.user);
  // Without one in the URL, libpq's own PGPASSWORD and ~/.pgpass apply.
  if (url.password) add("password", *url.password);
  add("dbname", url.database);
  // libpq waits forever by default on a host that drops packets.
  if (!url.options.contains("connect_timeout")) add("connect_timeout", "10");
  add("fallback_application_name", "tandem");
  for (const auto& [keyword, value] : url.options) add(keyword, value);
  if (!application_name.empty()) add("application_name", application_name);
  return fmt::format("{}", fmt::join(keywords, " "));
}

// libpq messages span lines ("...failed: FATAL: ...\n\tIs the server running...").
std::string one_line(const std::string& message) {
  static const std::regex line_breaks(R"(\s*\n\s*)");
  std::string text = std::regex_replace(message, line_breaks, " ");
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

std::string trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

bool has_code(const Error& error, std::initializer_list<const char*> codes) {
  return std::any_of(codes.begin(), codes.end(), [&](const char* code) { return error.code() == code; });
}

}  // namespace

std::unique_ptr<pqxx::connection> open_session(const DatabaseUrl& url, const std::string& application_name) {
  std::unique_ptr<pqxx::connection> session;
  try {
    session = std::make_unique<pqxx::connection>(connection_string(url, application_name));
    pqxx::nontransaction work(*session);
    // NOTICEs (IF NOT EXISTS skips, identifier truncation) would clutter the output;
    // warnings and errors still show.
    work.exec("SET client_min_messages = warning");
    // PostgreSQL 14+: a killed run's statement (a long CREATE INDEX CONCURRENTLY) stops
    // within a second instead of running on, holding locks, after its client is gone; and a
    // server-wide idle_session_timeout must not end the idle session that holds the run lock.
    if (session->server_version() >= 140000) {
      work.exec("SET client_connection_check_interval = 1000");
      work.exec("SET idle_session_timeout = 0");
    }
  } catch (const pqxx::failure& error) {
    const std::string message = url.hide_password(one_line(error.what()));
    const bool bad_option = message.find("invalid connection option") != std::string::npos ||
                            message.find("invalid sslmode value") != std::string::npos;
    throw Error(bad_option ? ErrorKind::bad_config : ErrorKind::unreachable,
                fmt::format("cannot connect to {}: {}", url.redacted(), message));
  }
  return session;
}

PostgresqlConnection::PostgresqlConnection(const DatabaseUrl& url) : url_(url), session_(open_session(url, "")) {}

PostgresqlConnection::~PostgresqlConnection() = default;

const SqlRenderer& PostgresqlConnection::renderer() const { return postgresql_renderer(); }

template <typename Body>
auto PostgresqlConnection::translated(const std::string& sql, Body&& body) {
  try {
    return body();
  } catch (const pqxx::sql_error& error) {
    // Class 08 (connection exception) and 57P01-57P03 (the session was terminated, the
    // server shuts down or cannot take connections): the server, not the statement, failed.
    const std::string state = error.sqlstate();
    if (state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03") {
      in_transaction_ = false;
      throw Error(ErrorKind::unreachable, fmt::format("lost the connection to {}: {}", url_.redacted(), trimmed(error.what())))
          .with_sql(sql)
          .with_code(state);
    }
    throw Error(ErrorKind::step_failed, fmt::format("{}: {}", url_.redacted(), trimmed(error.what())))
        .with_sql(sql)
        .with_code(error.sqlstate());
  } catch (const pqxx::broken_connection& error) {
    in_transaction_ = false;
    throw Error(ErrorKind::unreachable,
                fmt::format("lost the connection to {}: {}", url_.redacted(), url_.hide_password(one_line(error.what()))))
        .with_sql(sql);
  } catch (const pqxx::failure& error) {
    throw Error(ErrorKind::step_failed, fmt::format("{}: {}", url_.redacted(), trimmed(error.what()))).with_sql(sql);
  }
}

// The current transaction's tuple counts, which include writes made by functions and
// triggers the statement called.
long long PostgresqlConnection::rows_written() {
  const auto rows = query(
      "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables "
      "WHERE relname NOT LIKE 'tandem\\_%'",
      {});
  return std::stoll(rows.at(0).at(0).value_or("0"));
}

void PostgresqlConnection::execute(const std::string& sql) {
  // An earlier attempt at a CREATE INDEX CONCURRENTLY (one that lost a lock fight and is
  // retried, or was killed) left an INVALID index, which IF NOT EXISTS would take for done.
  clean_up_interrupted({sql, false});
  try {
    translated(sql, [&] {
      pqxx::nontransaction work(*session_);
      // The extended protocol, where the server refuses a second statement: the simple
      // protocol of exec() would run every statement in the text.
      work.exec_params(sql);
    });
  } catch (const Error& error) {
    if (error.kind() == ErrorKind::step_failed) {
      // An INVALID unique index still refuses duplicates on the application's writes: it
      // goes now rather than at the next attempt.
      try {
        clean_up_interrupted({sql, false});
      } catch (const Error&) {
        // The next attempt drops it first; the error to report is the statement's.
      }
    }
    throw;
  }
}

namespace {

pqxx::result run_with_params(pqxx::connection& session, const std::string& sql, const std::vector<Value>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  // A null pointer is how libpqxx passes SQL NULL.
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  pqxx::nontransaction work(session);
  return work.exec_params(numbered_placeholders(sql), pqxx::prepare::make_dynamic_params(values));
}

}  // namespace

std::vector<Row> PostgresqlConnection::query(const std::string& sql, const std::vector<Value>& params) {
  const pqxx::result result = translated(sql, [&] { return run_with_params(*session_, sql, params); });
  std::vector<Row> rows;
  rows.reserve(result.size());
  for (const auto& record : result) {
    Row row;
    row.reserve(record.size());
    for (const auto& field : record) row.push_back(field.is_null() ? Value() : Value(field.c_str()));
    rows.push_back(std::move(row));
  }
  return rows;
}

long long PostgresqlConnection::update(const std::string& sql, const std::vector<Value>& params) {
  return translated(sql, [&] { return static_cast<long long>(run_with_params(*session_, sql, params).affected_rows()); });
}

void PostgresqlConnection::begin() {
  execute("BEGIN");
  in_transaction_ = true;
}

void PostgresqlConnection::commit() {
  in_transaction_ = false;
  execute("COMMIT");
}

void PostgresqlConnection::rollback() {
  if (!in_transaction_) return;
  in_transaction_ = false;
  try {
    execute("ROLLBACK");
  } catch (const Error& error) {
    // The server rolls back a transaction whose session is gone; a failure to say so
    // must not hide the error the caller is rolling back for.
    if (error.kind() != ErrorKind::unreachable) throw;
  }
}

void PostgresqlConnection::set_lock_timeout(std::chrono::milliseconds timeout) {
  execute(fmt::format("SET lock_timeout = '{}ms'", timeout.count()));
}

bool PostgresqlConnection::is_lock_timeout(const Error& error) const {
  // "tuple concurrently updated" (internal_error): another session changed the same
  // catalog row first, as beside a killed run's session; a later attempt wins.
  if (error.code() == "XX000" && std::string_view(error.what()).find("tuple concurrently updated") != std::string_view::npos)
    return true;
  return has_code(error, {"55P03" /* lock_not_available */, "40P01" /* deadlock_detected */});
}

bool PostgresqlConnection::is_already_applied(const Error& error) const {
  return has_code(error, {"42701" /* duplicate_column */, "42P07" /* duplicate_table, also indexes */,
                          "42710" /* duplicate_object */, "42704" /* undefined_object */,
                          "42703" /* undefined_column */, "42P01" /* undefined_table */});
}

void PostgresqlConnection::clean_up_interrupted(const Step& step) {
  // A killed CREATE INDEX CONCURRENTLY leaves an INVALID index behind, which IF NOT
  // EXISTS would then take for done: drop it so the re-run builds it again.
  static const std::regex concurrent_index(
      R"(^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*))",
      std::regex::icase);
  std::smatch match;
  if (!std::regex_search(step.sql, match, concurrent_index)) return;
  std::string name = match[1];
  if (name.front() == '"') {
    name = name.substr(1, name.size() - 2);
    for (size_t at = name.find("\"\""); at != std::string::npos; at = name.find("\"\"", at + 1)) name.erase(at, 1);
  } else {
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (name == "on") return;  // an unnamed index: nothing to find it by
  }
  const auto invalid = query(
      "SELECT 1 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace "
      "WHERE n.nspname = current_schema() AND i.relname = ? AND NOT x.indisvalid",
      {name});
  if (!invalid.empty()) execute(fmt::format("DROP INDEX CONCURRENTLY IF EXISTS {}", renderer().quote(name)));
}

std::string numbered_placeholders(const std::string& sql) {
  std::string out;
  out.reserve(sql.size() + 8);
  size_t copied = 0;
  int number = 0;
  for (const size_t at : sql::placeholders(sql, DialectKind::postgresql)) {
    out.append(sql, copied, at - copied);
    out += fmt::format("${}", ++number);
    copied = at + 1;
  }
  out.append(sql, copied);
  return out;
}

}  // namespace tandem::postgresql

namespace tandem {

std::unique_ptr<Connection> connect_postgresql(const DatabaseUrl& url) {
  return std::make_unique<postgresql::PostgresqlConnection>(url);
}

const SqlRenderer& postgresql_renderer() {
  static const postgresql::PostgresqlRenderer renderer;
  return renderer;
}

}  // namespace tandem
