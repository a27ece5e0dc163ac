// Index builds and table rebuilds on a Galera cluster (DESIGN §14).
//
// Under TOI, the default, an index build holds every node's commits until it ends, even
// commits to other tables (measured on 1,000,000 rows: 0.9 s for a writer on another
// node). Chosen per table by its rows:
// - below kToiRows, TOI: the build is short, and so is the cluster's pause;
// - from there, node by node under RSU: one node builds the index by itself, out of the
//   cluster's order, while the others go on committing, and then applies what they
//   committed (its own commits wait meanwhile, longer the larger the table); each node
//   on a session of its own with the URL's credentials, the next once the last is back
//   in sync.
// The online copy (galera_copy.cpp), which pauses no node for longer than a RENAME, is
// taken only when galera_ddl=copy asks for it: under writers updating the table through
// other nodes, the sanitizer CI run once found updates lost (6 rows of 20,000), a race
// not found yet. A table's rebuild (a column's type or nullability changed in place)
// cannot go node by node (the nodes would replicate rows of two shapes): it runs under
// TOI, or copied when asked.
//
// A node that has the index already is skipped: that is how a run killed part-way is
// finished by the next one, through any node, the index's name saying what is done where.
// A build the server was still running when its client died holds the table's metadata
// lock on its node; the rerun's statement there waits for it (the lock timeout, retried
// by the runner) and then finds the index made. A copy a killed run left is finished by
// the copy. The URL option galera_ddl=toi|rsu|copy forces one way (auto: by size).
#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <thread>

#include "dialect/mysql/mysql.h"
#include "failpoint.h"
#include "tandem/error.h"

namespace tandem::mysql {

namespace {

// Below this many rows an index builds in well under a tenth of a second: the cluster's
// pause under TOI is shorter than the round of sessions and sync waits RSU costs.
constexpr long long kToiRows = 100000;
// Up to this many rows the table's size is counted rather than estimated.
constexpr long long kCopyRows = 500000;
// How long a node may take to apply what the cluster committed while it built.
constexpr auto kSyncLimit = std::chrono::minutes(30);

void wait_until_synced(MysqlConnection& node, const std::string& address) {
  const auto deadline = std::chrono::steady_clock::now() + kSyncLimit;
  for (std::string state = wsrep_status_now(node, "wsrep_local_state_comment"); state != "Synced";
       state = wsrep_status_now(node, "wsrep_local_state_comment")) {
    if (std::chrono::steady_clock::now() > deadline)
      throw Error(ErrorKind::step_failed,
                  fmt::format("Galera node {} is not back in sync after 30 minutes (its state: {}); the index is built "
                              "on the nodes before it only: rerun once it is Synced",
                              address, state.empty() ? "unknown" : state));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

std::optional<std::string> MysqlConnection::execute_build(const Step& step) {
  if (!galera_) {
    execute(step.sql);
    return std::nullopt;
  }
  const auto forced = url_.options.find("galera_ddl");
  const std::string method = forced == url_.options.end() ? "auto" : forced->second;
  if (!step.copies_table.empty()) return rebuild_table(step, method);
  const std::string what = fmt::format("index {} on {}", step.builds_index, step.index_table);
  OnlineCopy copy(*this, url_.database, step.index_table);
  // A copy a stopped run left is finished the same way, whatever the method now.
  if (copy.interrupted())
    return fmt::format("built {} by an online copy, as a stopped run began: {}", what, copy.run(step.sql));

  // Every node is asked, whatever the method: a node that has the index while another
  // lacks it (a killed run's) must be finished node by node, since the statement under
  // TOI would fail on the nodes that have it and succeed on the others.
  std::vector<GaleraNode> nodes;
  std::vector<std::string> unreachable;
  for (const auto& address : node_addresses(*this)) {
    try {
      GaleraNode node{address, std::make_unique<MysqlConnection>(node_url(url_, address))};
      node.has_index = std::stoll(node.session
                                      ->query("SELECT count(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? "
                                              "AND TABLE_NAME = ? AND INDEX_NAME = ?",
                                              {url_.database, step.index_table, step.builds_index})
                                      .at(0)
                                      .at(0)
                                      .value_or("0")) > 0;
      nodes.push_back(std::move(node));
    } catch (const Error& error) {
      unreachable.push_back(fmt::format("{} ({})", address, url_.hide_password(error.what())));
    }
  }
  long long having = 0;
  for (const auto& node : nodes) having += node.has_index ? 1 : 0;
  const std::string cannot_reach = fmt::format("{}", fmt::join(unreachable, ", "));
  if (having > 0) {
    if (!unreachable.empty())
      throw Error(ErrorKind::step_failed,
                  fmt::format("{}: {} is on some nodes only (a run stopped while it built it node by node), and node "
                              "{} cannot be reached to finish it: bring the node back and rerun",
                              url_.redacted(), what, cannot_reach))
          .with_sql(step.sql);
    if (having == static_cast<long long>(nodes.size()))
      return fmt::format("{} is on every node of the Galera cluster already", what);
    build_node_by_node(step, nodes);
    // Begun by a stopped run, or by this one before it lost a lock fight on a node.
    return fmt::format("finished {} node by node under RSU, on the {} of {} nodes that lacked it", what,
                       nodes.size() - having, nodes.size());
  }

  const long long rows = table_size(step.index_table);
  const std::string sized = fmt::format("{} ({}{} rows)", what, rows < kCopyRows ? "" : "about ", rows);
  auto under_toi = [&](const std::string& why) {
    execute(step.sql);
    return fmt::format("built {} under TOI{}", sized, why);
  };
  auto by_copy = [&] { return fmt::format("built {} by an online copy: {}", sized, copy.run(step.sql)); };
  auto by_rsu = [&](const std::string& why) {
    build_node_by_node(step, nodes);
    std::vector<std::string> addresses;
    for (const auto& node : nodes) addresses.push_back(node.address);
    return fmt::format("built {} node by node under RSU ({}): each node paused only its own commits while it "
                       "built{}",
                       sized, fmt::join(addresses, ", "), why);
  };
  if (method == "toi") return under_toi(" (galera_ddl=toi)");
  if (method == "copy") return by_copy();
  if (method == "rsu") {
    if (!unreachable.empty() || nodes.empty())
      throw Error(ErrorKind::step_failed,
                  fmt::format("{}: galera_ddl=rsu builds {} on every node in turn, and node {} cannot be reached; "
                              "nothing was built",
                              url_.redacted(), what, cannot_reach))
          .with_sql(step.sql);
    return by_rsu("");
  }
  if (rows < kToiRows) return under_toi(": the table is small, the cluster's pause short");
  if (unreachable.empty() && !nodes.empty()) return by_rsu("");
  return under_toi(fmt::format(": node by node needs every node, and {} cannot be reached", cannot_reach));
}

long long MysqlConnection::table_size(const std::string& table) {
  const auto estimate =
      query("SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            {url_.database, table});
  const long long rows = estimate.empty() ? 0 : std::stoll(estimate.at(0).at(0).value_or("0"));
  if (rows >= kCopyRows) return rows;
  // The server's estimate lags a bulk load (statistics are recalculated in the
  // background): below the copy's threshold the rows are counted, up to it.
  return std::stoll(
      query(fmt::format("SELECT count(*) FROM (SELECT 1 FROM {} LIMIT {}) counted", renderer().quote(table), kCopyRows),
            {})
          .at(0)
          .at(0)
          .value_or("0"));
}

// A column's type or nullability changed in place rebuilds the whole table, and under
// TOI every node's commits wait for it. Node by node cannot do it: the nodes would
// replicate rows of two shapes. So it runs under TOI unless galera_ddl=copy asks for the
// copy.
std::optional<std::string> MysqlConnection::rebuild_table(const Step& step, const std::string& method) {
  const std::string& table = step.copies_table;
  OnlineCopy copy(*this, url_.database, table);
  if (copy.interrupted())
    return fmt::format("rebuilt {} by an online copy, as a stopped run began: {}", table, copy.run(step.sql));
  const long long rows = table_size(table);
  const std::string sized = fmt::format("{} ({}{} rows)", table, rows < kCopyRows ? "" : "about ", rows);
  auto under_toi = [&](const std::string& why) {
    execute(step.sql);
    return fmt::format("rebuilt {} under TOI{}", sized, why);
  };
  if (method == "copy") return fmt::format("rebuilt {} by an online copy: {}", sized, copy.run(step.sql));
  if (method == "toi") return under_toi(" (galera_ddl=toi)");
  if (method == "rsu") return under_toi(" (galera_ddl=rsu builds indexes node by node; a table's rebuild cannot be)");
  if (rows < kToiRows) return under_toi(": the table is small, the cluster's pause short");
  return under_toi(": every node's commits waited for it (galera_ddl=copy copies it instead)");
}

void MysqlConnection::build_node_by_node(const Step& step, std::vector<GaleraNode>& nodes) {
  int built = 0;
  for (auto& node : nodes) {
    if (node.has_index) continue;
    MysqlConnection& session = *node.session;
    wait_until_synced(session, node.address);
    if (lock_timeout_) session.set_lock_timeout(*lock_timeout_);
    session.execute("SET SESSION wsrep_OSU_method = 'RSU'");
    try {
      session.execute(step.sql);
    } catch (const Error& error) {
      // Built there already: a killed run's statement that the server finished after
      // this run found the node without it.
      if (!session.is_already_applied(error)) throw;
    }
    session.execute("SET SESSION wsrep_OSU_method = 'TOI'");
    node.has_index = true;
    failpoint::reach(failpoint::Moment::after, failpoint::Site::node, ++built);
    wait_until_synced(session, node.address);
  }
}

}  // namespace tandem::mysql
