#include "tandem/url.h"

#include <fmt/format.h>

#include <cctype>
#include <regex>

#include "tandem/error.h"

namespace tandem {

const char* dialect_name(DialectKind kind) {
  switch (kind) {
    case DialectKind::sqlite: return "sqlite";
    case DialectKind::postgresql: return "postgresql";
    case DialectKind::mysql: return "mysql";
  }
  return "?";
}

namespace {

std::string percent_decode(const std::string& text, const std::string& url_for_errors) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(text[i + 2])))
        throw Error(ErrorKind::bad_config, fmt::format("bad percent escape in database URL {}", url_for_errors));
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

int parse_port(const std::string& text, const std::string& url_for_errors) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(text) == 0 || std::stoi(text) > 65535)
    throw Error(ErrorKind::bad_config,
                fmt::format("database URL '{}': port '{}' is not a number from 1 to 65535", url_for_errors, text));
  return std::stoi(text);
}

}  // namespace

std::string redact_passwords(const std::string& text) {
  // Up to the last '@' of the URL, as parse() reads it, since a password may hold '@', '/' or '?';
  // and the password options of the query string.
  static const std::regex with_password(R"(([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):([^\s]*)@)");
  static const std::regex password_option(R"(([?&](ssl)?password=)[^&\s'"]*)");
  return std::regex_replace(std::regex_replace(text, with_password, "$1:***@"), password_option, "$1***");
}

DatabaseUrl DatabaseUrl::parse(const std::string& text) {
  const std::string shown = redact_passwords(text);
  DatabaseUrl url;
  auto scheme_end = text.find(':');
  if (scheme_end == std::string::npos)
    throw Error(ErrorKind::bad_config,
                fmt::format("database URL '{}' has no scheme (expected sqlite:, postgresql://, mysql://)", shown));
  const std::string scheme = text.substr(0, scheme_end);
  std::string rest = text.substr(scheme_end + 1);

  if (scheme == "sqlite") {
    url.dialect = DialectKind::sqlite;
    if (rest == ":memory:" || rest == "///:memory:") {
      url.database = ":memory:";
    } else if (rest.rfind("///", 0) == 0) {
      url.database = "/" + rest.substr(3);
    } else if (rest.rfind("//", 0) == 0) {
      throw Error(ErrorKind::bad_config,
                  fmt::format("database URL '{}': use sqlite:///absolute/path.db or sqlite:relative/path.db", shown));
    } else {
      url.database = rest;
    }
    if (url.database.empty() || url.database == "/")
      throw Error(ErrorKind::bad_config, fmt::format("database URL '{}' names no file", shown));
    return url;
  }
  if (scheme == "postgresql" || scheme == "postgres") {
    url.dialect = DialectKind::postgresql;
  } else if (scheme == "mysql" || scheme == "mariadb") {
    url.dialect = DialectKind::mysql;
  } else {
    throw Error(ErrorKind::bad_config,
                fmt::format("database URL '{}': unknown scheme '{}' (expected sqlite, postgresql, mysql, mariadb)",
                            shown, scheme));
  }
  if (rest.rfind("//", 0) != 0)
    throw Error(ErrorKind::bad_config, fmt::format("database URL '{}': expected {}://host/database", shown, scheme));
  rest = rest.substr(2);

  // Credentials first, up to the last '@': a password typed without percent-encoding its
  // '/', '?' or '@' is still read whole, instead of leaking into the host, port or options
  // that error messages quote.
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    std::string credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (auto colon = credentials.find(':'); colon != std::string::npos) {
      url.user = percent_decode(credentials.substr(0, colon), shown);
      url.password = percent_decode(credentials.substr(colon + 1), shown);
    } else {
      url.user = percent_decode(credentials, shown);
    }
  }
  std::string query;
  if (auto q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string path;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  std::string host_port = rest;
  if (!host_port.empty() && host_port.front() == '[') {
    auto close = host_port.find(']');
    if (close == std::string::npos)
      throw Error(ErrorKind::bad_config, fmt::format("database URL '{}': unclosed '[' in host", shown));
    url.host = host_port.substr(1, close - 1);
    host_port = host_port.substr(close + 1);
    if (!host_port.empty() && host_port.front() == ':') host_port = host_port.substr(1);
    else host_port.clear();
    if (!host_port.empty()) url.port = parse_port(host_port, shown);
  } else if (auto colon = host_port.find(':'); colon != std::string::npos) {
    url.host = host_port.substr(0, colon);
    url.port = parse_port(host_port.substr(colon + 1), shown);
  } else {
    url.host = host_port;
  }
  url.database = percent_decode(path, shown);
  if (url.database.empty())
    throw Error(ErrorKind::bad_config, fmt::format("database URL '{}' names no database", shown));
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string pair = query.substr(0, amp);
    query = amp == std::string::npos ? "" : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    if (eq == std::string::npos)
      throw Error(ErrorKind::bad_config, fmt::format("database URL '{}': option '{}' has no value", shown, pair));
    url.options[percent_decode(pair.substr(0, eq), shown)] = percent_decode(pair.substr(eq + 1), shown);
  }
  return url;
}

std::string DatabaseUrl::redacted() const {
  if (dialect == DialectKind::sqlite) {
    if (is_memory()) return "sqlite::memory:";
    return database.front() == '/' ? "sqlite://" + database : "sqlite:" + database;
  }
  std::string text = fmt::format("{}://", dialect_name(dialect));
  if (!user.empty() || password) {
    text += user;
    if (password) text += ":***";
    text += "@";
  }
  text += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port) text += fmt::format(":{}", *port);
  text += "/" + database;
  char separator = '?';
  for (const auto& [key, value] : options) {
    const bool secret = key == "password" || key == "sslpassword";
    text += fmt::format("{}{}={}", separator, key, secret ? "***" : value);
    separator = '&';
  }
  return text;
}

}  // namespace tandem
