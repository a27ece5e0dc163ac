#include "tandem/deployment.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "dialect/registry.h"
#include "operations/context.h"
#include "tandem/error.h"
#include "yaml_document.h"

namespace tandem {

namespace fs = std::filesystem;

namespace {

Error config_error(const fs::path& file, const YAML::Node& at, const std::string& message) {
  Error error(ErrorKind::bad_config, message);
  error.with_file(file.string(), at.IsDefined() ? at.Mark().line + 1 : 0);
  return error;
}

// Replaces ${NAME} by the environment variable; an unset one is an error naming it.
std::string expand_environment(const std::string& text, const fs::path& file, const YAML::Node& at, const std::string& key) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 2, "${") == 0) {
      const size_t close = text.find('}', i);
      if (close == std::string::npos) throw config_error(file, at, fmt::format("{}: unclosed '${{' in value", key));
      const std::string name = text.substr(i + 2, close - i - 2);
      const char* value = std::getenv(name.c_str());
      if (!value) throw config_error(file, at, fmt::format("{} uses ${{{}}}, which is not set in the environment", key, name));
      out += value;
      i = close + 1;
    } else {
      out += text[i++];
    }
  }
  return out;
}

DatabaseUrl parse_url(const YAML::Node& node, const fs::path& file, const std::string& key) {
  if (!node.IsScalar() || node.Scalar().empty())
    throw config_error(file, node, fmt::format("{} must be a database URL", key));
  // Outside the try: its errors already name the key.
  const std::string text = expand_environment(node.Scalar(), file, node, key);
  DatabaseUrl url;
  try {
    url = DatabaseUrl::parse(text);
  } catch (const Error& error) {
    throw config_error(file, node, fmt::format("{}: {}", key, error.what()));
  }
  if (dialect_of(url.dialect).url_form() == UrlForm::file && !url.is_memory() && fs::path(url.database).is_relative())
    url.database = (file.parent_path() / url.database).lexically_normal().string();
  return url;
}

// What makes two URLs one database: the file for SQLite, whatever the path or symlink
// leading to it (its folder's, when the file does not exist yet); the server and the
// database name otherwise, the local host however it is written. Empty for :memory:.
std::string identity(const DatabaseUrl& url) {
  if (dialect_of(url.dialect).url_form() == UrlForm::file) {
    if (url.is_memory()) return "";
    std::error_code error;
    const fs::path path = fs::absolute(url.database, error).lexically_normal();
    const fs::path resolved = fs::weakly_canonical(path, error);
    return fmt::format("{}://{}", dialect_name(url.dialect), (error ? path : resolved).string());
  }
  std::string host = url.host;
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
  // No host, a socket folder or a socket option: the server of this machine.
  if (host.empty() || host == "127.0.0.1" || host == "::1" || host.front() == '/' || url.options.contains("socket"))
    host = "localhost";
  const int port = url.port.value_or(dialect_of(url.dialect).default_port());
  return fmt::format("{}://{}:{}/{}", dialect_name(url.dialect), host, port, url.database);
}

// archive.also_delete: a list of {database, table, column, of: table.column}, each
// naming a database of `deployment` and identifiers only (they are quoted into SQL).
std::vector<AlsoDelete> parse_also_delete(const YAML::Node& archive, const fs::path& file,
                                          const Deployment& deployment) {
  if (!archive.IsMap()) throw config_error(file, archive, "archive must be a mapping (also_delete: [...])");
  for (const auto& entry : archive)
    if (entry.first.Scalar() != "also_delete")
      throw config_error(file, entry.first,
                         fmt::format("archive: unknown key '{}' (expected also_delete)", entry.first.Scalar()));
  std::vector<AlsoDelete> rules;
  const YAML::Node list = archive["also_delete"];
  if (!list) return rules;
  if (!list.IsSequence())
    throw config_error(file, list, "archive.also_delete must be a list of {database, table, column, of}");
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    const std::string at = fmt::format("archive.also_delete[{}]", i);
    if (!item.IsMap()) throw config_error(file, item, fmt::format("{} must be a mapping {{database, table, column, of}}", at));
    for (const auto& entry : item) {
      const std::string key = entry.first.Scalar();
      if (key != "database" && key != "table" && key != "column" && key != "of")
        throw config_error(file, entry.first,
                           fmt::format("{}: unknown key '{}' (expected database, table, column, of)", at, key));
    }
    auto field = [&](const char* key) {
      const YAML::Node value = item[key];
      if (!value || !value.IsScalar() || value.Scalar().empty())
        throw config_error(file, value ? value : item, fmt::format("{}: {} is missing or not a name", at, key));
      return value.Scalar();
    };
    auto identifier = [&](const char* key, const std::string& name) {
      if (!ops::is_identifier(name))
        throw config_error(file, item[key], fmt::format("{}: {} '{}' is not a valid identifier", at, key, name));
    };
    AlsoDelete rule;
    rule.database = field("database");
    rule.table = field("table");
    rule.column = field("column");
    const std::string of = field("of");
    identifier("table", rule.table);
    identifier("column", rule.column);
    const size_t dot = of.find('.');
    if (dot == std::string::npos)
      throw config_error(file, item["of"], fmt::format("{}: of '{}' must be <table>.<column>, e.g. instances.uuid", at, of));
    rule.of_table = of.substr(0, dot);
    rule.of_column = of.substr(dot + 1);
    if (!ops::is_identifier(rule.of_table) || !ops::is_identifier(rule.of_column))
      throw config_error(file, item["of"], fmt::format("{}: of '{}' must be <table>.<column>, e.g. instances.uuid", at, of));
    const auto target = std::find_if(deployment.databases.begin(), deployment.databases.end(),
                                     [&](const DatabaseTarget& database) { return database.name == rule.database; });
    if (target == deployment.databases.end()) {
      std::vector<std::string> names;
      for (const auto& database : deployment.databases) names.push_back(database.name);
      throw config_error(file, item["database"],
                         fmt::format("{}: database '{}' is not one of the deployment's ({})", at, rule.database,
                                     fmt::join(names, ", ")));
    }
    if (target->role == roles::cell)
      throw config_error(file, item["database"],
                         fmt::format("{}: database '{}' is a cell; also_delete deletes from a database the cells share "
                                     "(such as api)",
                                     at, rule.database));
    rules.push_back(std::move(rule));
  }
  return rules;
}

}  // namespace

Deployment Deployment::load(const fs::path& file) {
  if (!fs::is_regular_file(file)) throw Error(ErrorKind::bad_config, fmt::format("config file '{}' does not exist", file.string()));
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorKind::bad_config, fmt::format("cannot read the config file '{}'", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  const YAML::Node root = load_yaml(text.str(), file.string(), ErrorKind::bad_config);
  if (!root.IsMap()) throw config_error(file, root, "the config must be a mapping with repos, model and databases");
  Deployment deployment;
  const fs::path folder = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  for (const auto& entry : root) {
    const std::string key = entry.first.Scalar();
    if (key != "repos" && key != "model" && key != "databases" && key != "archive")
      throw config_error(file, entry.first,
                         fmt::format("unknown key '{}' (expected repos, model, databases, archive)", key));
  }
  if (root["repos"]) deployment.repos = (folder / root["repos"].Scalar()).lexically_normal();
  else deployment.repos = folder;
  if (root["model"]) deployment.model = (folder / root["model"].Scalar()).lexically_normal();
  else deployment.model = folder / "model";
  const YAML::Node databases = root["databases"];
  if (!databases || !databases.IsMap() || databases.size() == 0)
    throw config_error(file, databases.IsDefined() ? databases : root,
                       "databases: missing; give at least one database (api: URL, cells: {name: URL}, or main: URL)");
  std::vector<DatabaseTarget> singles, cells;
  // One database listed twice would run every unit twice on it, and lock itself out.
  std::map<std::string, std::string> listed;  // identity -> its key
  auto add = [&](std::vector<DatabaseTarget>& into, const std::string& name, const std::string& role,
                 const YAML::Node& node, const std::string& key) {
    DatabaseTarget target{name, role, parse_url(node, file, key)};
    if (const std::string id = identity(target.url); !id.empty()) {
      auto [first, inserted] = listed.emplace(id, key);
      if (!inserted)
        throw config_error(file, node,
                           fmt::format("{} and {} are the same database ({}); list each database once", first->second,
                                       key, id));
    }
    into.push_back(std::move(target));
  };
  for (const auto& entry : databases) {
    const std::string role = entry.first.Scalar();
    if (role == "cells") {
      if (!entry.second.IsMap() || entry.second.size() == 0)
        throw config_error(file, entry.second, "databases.cells must map cell names to database URLs");
      for (const auto& cell : entry.second) {
        const std::string name = cell.first.Scalar();
        add(cells, name, roles::cell, cell.second, "databases.cells." + name);
      }
    } else {
      add(singles, role, role, entry.second, "databases." + role);
    }
  }
  std::stable_sort(singles.begin(), singles.end(), [](const auto& a, const auto& b) { return a.role == roles::api && b.role != roles::api; });
  deployment.databases = singles;
  deployment.databases.insert(deployment.databases.end(), cells.begin(), cells.end());
  for (size_t i = 0; i < deployment.databases.size(); ++i)
    for (size_t j = i + 1; j < deployment.databases.size(); ++j)
      if (deployment.databases[i].name == deployment.databases[j].name)
        throw config_error(file, databases, fmt::format("database name '{}' is used twice", deployment.databases[i].name));
  if (root["archive"]) deployment.also_delete = parse_also_delete(root["archive"], file, deployment);
  return deployment;
}

Deployment Deployment::single(const DatabaseUrl& url, const std::string& role) {
  Deployment deployment;
  deployment.databases.push_back({role, role, url});
  return deployment;
}

std::vector<const DatabaseTarget*> Deployment::select(const std::optional<std::string>& role,
                                                      const std::optional<std::string>& name) const {
  std::vector<const DatabaseTarget*> targets;
  for (const auto& database : databases)
    if ((!role || database.role == *role) && (!name || database.name == *name)) targets.push_back(&database);
  if (targets.empty()) {
    std::vector<std::string> names;
    for (const auto& database : databases) names.push_back(fmt::format("{} ({})", database.name, database.role));
    throw Error(ErrorKind::usage, fmt::format("no database of the deployment matches {}{}; it has: {}",
                                              role ? "--database " + *role : "", name ? " --cell " + *name : "",
                                              fmt::join(names, ", ")));
  }
  return targets;
}

bool Deployment::has_role(const std::string& role) const {
  return std::any_of(databases.begin(), databases.end(), [&](const auto& database) { return database.role == role; });
}

std::vector<std::string> Deployment::roles() const {
  std::vector<std::string> roles;
  for (const auto& database : databases)
    if (std::find(roles.begin(), roles.end(), database.role) == roles.end()) roles.push_back(database.role);
  return roles;
}

}  // namespace tandem
