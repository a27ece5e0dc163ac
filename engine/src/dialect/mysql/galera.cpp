// What `status` shows of a Galera cluster (DESIGN §14): its name and component, and each
// node the cluster announces (wsrep_incoming_addresses), asked for its own state through
// a session of its own with the URL's credentials: a node's state is its own to tell.
#include <fmt/format.h>

#include <map>
#include <set>
#include <sstream>

#include "dialect/mysql/mysql.h"
#include "tandem/error.h"

namespace tandem::mysql {

namespace {

std::map<std::string, std::string> wsrep_status(MysqlConnection& session) {
  std::map<std::string, std::string> values;
  for (const auto& row : session.query("SHOW STATUS LIKE 'wsrep%'", {}))
    if (row.size() > 1 && row[0]) values[*row[0]] = row[1].value_or("");
  return values;
}

// "host:port": the host and port of a node's client address; a bare host keeps the URL's port.
DatabaseUrl node_url(const DatabaseUrl& url, const std::string& address) {
  DatabaseUrl node = url;
  node.options.erase("socket");  // the address is a TCP one
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || address.find(']', colon) != std::string::npos) {
    node.host = address;
    return node;
  }
  node.host = address.substr(0, colon);
  if (!node.host.empty() && node.host.front() == '[' && node.host.back() == ']')
    node.host = node.host.substr(1, node.host.size() - 2);
  node.port = std::stoi(address.substr(colon + 1));
  return node;
}

}  // namespace

namespace {

// The client addresses of the nodes in this node's component.
std::vector<std::string> node_addresses(MysqlConnection& session) {
  std::vector<std::string> addresses;
  std::stringstream list(wsrep_status(session)["wsrep_incoming_addresses"]);
  for (std::string address; std::getline(list, address, ',');)
    if (!address.empty()) addresses.push_back(address);
  return addresses;
}

}  // namespace

std::vector<std::string> MysqlConnection::require_triggers_on_every_node(const std::vector<std::string>& triggers) {
  if (!galera_ || triggers.empty()) return {};
  std::vector<std::string> unchecked;
  std::vector<std::string> lacking;
  for (const auto& address : node_addresses(*this)) {
    try {
      MysqlConnection node(node_url(url_, address));
      std::set<std::string> present;
      for (const auto& row : node.query("SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?",
                                        {url_.database}))
        if (row.at(0)) present.insert(*row.at(0));
      std::vector<std::string> missing;
      for (const auto& trigger : triggers)
        if (!present.count(trigger)) missing.push_back(trigger);
      if (!missing.empty()) lacking.push_back(fmt::format("node {} lacks {}", address, fmt::join(missing, ", ")));
    } catch (const std::exception& error) {
      unchecked.push_back(fmt::format("node {} could not be asked for its triggers: {}", address,
                                      url_.hide_password(error.what())));
    }
  }
  if (!lacking.empty())
    throw Error(ErrorKind::step_failed,
                fmt::format("{}: the triggers were created through one node but are not on every node of the Galera "
                            "cluster: {}",
                            url_.redacted(), fmt::join(lacking, "; ")));
  return unchecked;
}

std::optional<ClusterStatus> MysqlConnection::cluster() {
  if (!galera_) return std::nullopt;
  auto status = wsrep_status(*this);
  ClusterStatus cluster;
  cluster.kind = "Galera";
  cluster.name = query("SELECT @@wsrep_cluster_name", {}).at(0).at(0).value_or("");
  cluster.status = status["wsrep_cluster_status"];
  cluster.size = status["wsrep_cluster_size"].empty() ? 0 : std::stoll(status["wsrep_cluster_size"]);
  for (const auto& address : node_addresses(*this)) {
    ClusterNode node{address, ""};
    try {
      const DatabaseUrl url = node_url(url_, address);
      MysqlConnection session(url);
      node.state = wsrep_status(session)["wsrep_local_state_comment"];
    } catch (const std::exception& error) {
      node.state = fmt::format("unreachable: {}", url_.hide_password(error.what()));
    }
    cluster.nodes.push_back(std::move(node));
  }
  return cluster;
}

}  // namespace tandem::mysql
