// What `status` shows of a Galera cluster (DESIGN §14): its name and component, and each
// node the cluster announces (wsrep_incoming_addresses), asked for its own state through
// a session of its own with the URL's credentials: a node's state is its own to tell.
#include <fmt/format.h>

#include <algorithm>
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

}  // namespace

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

std::string wsrep_status_now(MysqlConnection& session, const std::string& name) {
  const auto rows = session.query(
      fmt::format("SET STATEMENT wsrep_sync_wait = 0 FOR SHOW STATUS LIKE {}", session.renderer().literal(name)), {});
  return rows.empty() || rows[0].size() < 2 ? "" : rows[0][1].value_or("");
}

std::vector<std::string> node_addresses(MysqlConnection& session) {
  std::vector<std::string> addresses;
  std::stringstream list(wsrep_status(session)["wsrep_incoming_addresses"]);
  for (std::string address; std::getline(list, address, ',');)
    if (!address.empty()) addresses.push_back(address);
  return addresses;
}

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

namespace tandem::mysql {

// A Galera node certifies each transaction as one writeset and refuses it whole (1180,
// "wsrep_max_ws_rows exceeded") when it holds more rows than wsrep_max_ws_rows or more
// bytes than wsrep_max_ws_size: the bounds are read once, on the first walk; each batch
// row is counted once for itself and once for every AFTER trigger of its table (a sync
// trigger writes a row of another table), and one row is kept for the cursor. Bytes go
// by the table's average row length, twice (a row-based writeset holds the row's before
// and after images), and half the bound is kept free for keys and headers.
std::optional<long long> MysqlConnection::batch_row_limit(const std::string& table) {
  if (!galera_) return std::nullopt;
  if (!writeset_bounds_) {
    const auto row = query("SELECT @@GLOBAL.wsrep_max_ws_rows, @@GLOBAL.wsrep_max_ws_size", {}).at(0);
    writeset_bounds_ = WritesetBounds{std::stoll(row.at(0).value_or("0")), std::stoll(row.at(1).value_or("0"))};
  }
  if (writeset_bounds_->rows <= 0 && writeset_bounds_->bytes <= 0) return std::nullopt;
  const std::vector<Value> names = {url_.database, table};
  const long long triggers = std::stoll(
      query("SELECT count(*) FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = ? AND "
            "EVENT_OBJECT_TABLE = ? AND ACTION_TIMING = 'AFTER'",
            names)
          .at(0)
          .at(0)
          .value_or("0"));
  const long long writes_per_row = 1 + triggers;
  std::optional<long long> limit;
  if (writeset_bounds_->rows > 0) limit = std::max<long long>(1, (writeset_bounds_->rows - 1) / writes_per_row);
  if (writeset_bounds_->bytes > 0) {
    const auto sizes = query("SELECT AVG_ROW_LENGTH FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND "
                             "TABLE_NAME = ?",
                             names);
    const long long row_length =
        std::max<long long>(256, sizes.empty() ? 0 : std::stoll(sizes.at(0).at(0).value_or("0")));
    const long long by_size = std::max<long long>(1, writeset_bounds_->bytes / 2 / (2 * row_length * writes_per_row));
    limit = limit ? std::min(*limit, by_size) : by_size;
  }
  return limit;
}

// 1180 "wsrep_max_ws_rows exceeded", 1105 "Maximum writeset size exceeded" (MariaDB 10.11).
bool MysqlConnection::is_transaction_too_large(const Error& error) const {
  if (!galera_ || (error.code() != "1180" && error.code() != "1105")) return false;
  const std::string message = error.what();
  return message.find("wsrep_max_ws_rows exceeded") != std::string::npos ||
         message.find("writeset size exceeded") != std::string::npos;
}

// Flow control: a node whose receive queue grows past gcs.fc_limit makes the whole
// cluster pause its commits until it has caught up; a batch sent meanwhile only
// lengthens the queue. Asked without the session's causality wait, which would queue
// the question behind the very backlog it asks about.
std::optional<std::string> MysqlConnection::asks_to_hold_back() {
  if (!galera_) return std::nullopt;
  if (wsrep_status_now(*this, "wsrep_flow_control_active") != "true") return std::nullopt;
  return "the Galera cluster is under flow control (a node is behind applying what the cluster committed)";
}

// Galera replicates a row change as a writeset certified by the row's key: without a
// primary key each node may pick another row, and a batch's conflicts go undetected.
std::optional<std::string> MysqlConnection::requires_primary_keys() const {
  if (!galera_) return std::nullopt;
  return "a Galera cluster certifies every row change by the table's primary key";
}

}  // namespace tandem::mysql
