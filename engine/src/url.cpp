#include "tandem/url.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

#include "dialect/registry.h"
#include "tandem/error.h"

namespace tandem {

const char* dialect_name(DialectKind kind) { return dialect_of(kind).name(); }

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

bool is_scheme(const std::string& text) {
  return !text.empty() && std::isalpha(static_cast<unsigned char>(text.front())) &&
         std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '+' || c == '-' || c == '.'; });
}

// A server URL cut into its parts, undecoded, by position alone, so that a URL too
// broken to parse can still be named without its credentials.
struct ServerParts {
  std::string scheme;
  std::optional<std::string> credentials;  // before the '@', password included
  std::string host_port, path, query;

  // The credentials end at the last '@' that a '/' follows (a server URL names its
  // database), else at the last '@': a password typed without percent-encoding its '/',
  // '?', '@' or ':' is still read whole, and so is an '@' in the query string.
  static ServerParts split(const std::string& scheme, std::string rest) {
    ServerParts parts;
    parts.scheme = scheme;
    size_t at = std::string::npos;
    for (size_t i = rest.find('@'); i != std::string::npos; i = rest.find('@', i + 1))
      if (rest.find('/', i) != std::string::npos) at = i;
    if (at == std::string::npos) at = rest.rfind('@');
    if (at != std::string::npos) {
      parts.credentials = rest.substr(0, at);
      rest = rest.substr(at + 1);
    }
    if (auto q = rest.find('?'); q != std::string::npos) {
      parts.query = rest.substr(q + 1);
      rest = rest.substr(0, q);
    }
    if (auto slash = rest.find('/'); slash != std::string::npos) {
      parts.path = rest.substr(slash + 1);
      rest = rest.substr(0, slash);
    }
    parts.host_port = rest;
    return parts;
  }

  // Scheme, user and host: what error messages may quote of a URL that did not parse.
  std::string shown() const {
    std::string text = scheme + "://";
    if (credentials) {
      const auto colon = credentials->find(':');
      text += colon == std::string::npos ? *credentials + "@" : credentials->substr(0, colon) + ":***@";
    }
    return text + host_port;
  }
};

}  // namespace

std::string redact_passwords(const std::string& text) {
  try {
    return DatabaseUrl::parse(text).redacted();
  } catch (const Error&) {
    const auto scheme_end = text.find("://");
    if (scheme_end == std::string::npos || !is_scheme(text.substr(0, scheme_end))) return "(a malformed database URL)";
    return ServerParts::split(text.substr(0, scheme_end), text.substr(scheme_end + 3)).shown();
  }
}

DatabaseUrl DatabaseUrl::parse(const std::string& text) {
  DatabaseUrl url;
  auto scheme_end = text.find(':');
  // The text is not quoted: without a scheme it may be anything, a password pasted by mistake included.
  if (scheme_end == std::string::npos || !is_scheme(text.substr(0, scheme_end)))
    throw Error(ErrorKind::bad_config, "the database URL does not start with a scheme (expected sqlite:, postgresql://, "
                                       "mysql://)");
  const std::string scheme = text.substr(0, scheme_end);
  std::string rest = text.substr(scheme_end + 1);

  const Dialect* dialect = dialect_for_scheme(scheme);
  if (!dialect) {
    std::vector<std::string> known;
    for (const Dialect* each : dialects())
      for (const std::string& name : each->schemes()) known.push_back(name);
    throw Error(ErrorKind::bad_config,
                fmt::format("database URL: unknown scheme '{}' (expected {})", scheme, fmt::join(known, ", ")));
  }
  url.dialect = dialect->kind();
  if (dialect->url_form() == UrlForm::file) {
    // A file path holds no credentials: it may be quoted whole.
    const std::string& shown = text;
    if (rest == ":memory:" || rest == "///:memory:") {
      url.database = ":memory:";
    } else if (rest.rfind("///", 0) == 0) {
      url.database = "/" + rest.substr(3);
    } else if (rest.rfind("//", 0) == 0) {
      throw Error(ErrorKind::bad_config, fmt::format("database URL '{}': use {}:///absolute/path.db or {}:relative/path.db",
                                                     shown, scheme, scheme));
    } else {
      url.database = rest;
    }
    if (url.database.empty() || url.database == "/")
      throw Error(ErrorKind::bad_config, fmt::format("database URL '{}' names no file", shown));
    return url;
  }
  if (rest.rfind("//", 0) != 0)
    throw Error(ErrorKind::bad_config, fmt::format("database URL {}:...: expected {}://host/database", scheme, scheme));
  const ServerParts parts = ServerParts::split(scheme, rest.substr(2));
  const std::string shown = parts.shown();
  if (parts.credentials) {
    const std::string& credentials = *parts.credentials;
    if (auto colon = credentials.find(':'); colon != std::string::npos) {
      url.user = percent_decode(credentials.substr(0, colon), shown);
      url.password = percent_decode(credentials.substr(colon + 1), shown);
    } else {
      url.user = percent_decode(credentials, shown);
    }
  }
  std::string host_port = parts.host_port;
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
  url.database = percent_decode(parts.path, shown);
  std::string query = parts.query;
  if (url.database.empty())
    throw Error(ErrorKind::bad_config, fmt::format("database URL '{}' names no database", shown));
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string pair = query.substr(0, amp);
    query = amp == std::string::npos ? "" : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    // Not quoted when the query holds a password: the pair may be a piece of it, cut at an '&'.
    if (eq == std::string::npos)
      throw Error(ErrorKind::bad_config,
                  parts.query.find("password") == std::string::npos
                      ? fmt::format("database URL '{}': option '{}' has no value", shown, pair)
                      : fmt::format("database URL '{}': an option has no value (options are key=value; the query's "
                                    "password=*** is not shown)",
                                    shown));
    url.options[percent_decode(pair.substr(0, eq), shown)] = percent_decode(pair.substr(eq + 1), shown);
  }
  return url;
}

bool DatabaseUrl::is_memory() const {
  return dialect_of(dialect).url_form() == UrlForm::file && database == ":memory:";
}

std::string DatabaseUrl::redacted() const {
  const std::string scheme = dialect_name(dialect);
  if (dialect_of(dialect).url_form() == UrlForm::file) {
    if (is_memory()) return scheme + "::memory:";
    return database.front() == '/' ? scheme + "://" + database : scheme + ":" + database;
  }
  std::string text = fmt::format("{}://", scheme);
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

std::string DatabaseUrl::hide_password(const std::string& text) const {
  std::vector<std::string> secrets;
  auto add = [&](const std::string& secret) {
    if (secret.empty()) return;
    // As libpq's connection string quotes it, too.
    std::string escaped;
    for (char c : secret) {
      if (c == '\'' || c == '\\') escaped += '\\';
      escaped += c;
    }
    secrets.push_back(escaped);
    secrets.push_back(secret);
  };
  if (password) add(*password);
  for (const char* key : {"password", "sslpassword"})
    if (auto it = options.find(key); it != options.end()) add(it->second);
  std::string out = text;
  for (const auto& secret : secrets)
    for (size_t at = out.find(secret); at != std::string::npos; at = out.find(secret, at + 3))
      out.replace(at, secret.size(), "***");
  return out;
}

}  // namespace tandem
