// The MySQL run lock: GET_LOCK on a session of its own, so it lasts exactly as long as
// the run (the server releases it when that session ends, even when tandem is killed)
// and nothing the run does on its main session can release it. GET_LOCK names are
// server-wide: the name carries the database, so runs on two databases of one server do
// not wait for each other.
//
// A waiting run names the holder from tandem_lock, a row the holder writes under its
// connection id: a row left behind by a killed run names a connection that no longer
// holds the lock, and is ignored.
//
// On a Galera cluster GET_LOCK holds on one node only (two runs through two nodes would
// both get it), so the lock is a lease: the tandem_lock row itself, with its holder, its
// run id and an expiry (DESIGN §14). It is taken and renewed by single autocommitted
// statements, which Galera certifies cluster-wide: of two nodes taking it at once, one
// commit fails certification (or, retried by the server, finds the row taken). The
// holder renews it from a thread of its own every quarter of the lease, so a long step
// keeps it; a holder that dies (kill -9, a lost node) loses it at expiry. A holder that
// lives on but whose renewals stopped landing (a node cut off for a whole lease) may find
// its lease taken: its renewer then tells the run's session, which refuses every statement
// after that, so two runs never go on side by side. The lease lasts
// kLeaseSeconds: long enough to ride out a stalled node or a slow TOI statement on the
// renewing session, short enough that a crashed run blocks the next one for seconds, not
// minutes. Expiry is judged by the clock of the node asked, so the nodes' clocks must
// agree to well within it (NTP does).
#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

#include "dialect/mysql/mysql.h"
#include "tandem/error.h"

namespace tandem::mysql {

namespace {

constexpr long long kLeaseSeconds = 20;

// The lease's length: kLeaseSeconds, or TANDEM_TEST_LEASE_SECONDS (a test hook, as
// TANDEM_TEST_BATCH_SQL is, so a test of expiry waits seconds, not tens).
std::chrono::seconds lease_length() {
  if (const char* value = std::getenv("TANDEM_TEST_LEASE_SECONDS")) {
    char* end = nullptr;
    const long long seconds = std::strtoll(value, &end, 10);
    if (end != value && *end == '\0' && seconds >= 2) return std::chrono::seconds(seconds);
    throw Error(ErrorKind::usage, fmt::format("TANDEM_TEST_LEASE_SECONDS='{}' is not a number of seconds >= 2", value));
  }
  return std::chrono::seconds(kLeaseSeconds);
}

// A run's id in the lease row: the holder's own row is the one it renews and deletes,
// whatever another run wrote after its lease expired.
std::string new_run_id() {
  std::random_device random;
  return fmt::format("{:08x}{:08x}{:08x}{:08x}", random(), random(), random(), random());
}

// GET_LOCK names are at most 64 characters.
std::string lock_name(const std::string& database) {
  const std::string name = "tandem_run." + database;
  if (name.size() <= 64) return name;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(database.data(), database.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < 16; ++i) hex += fmt::format("{:02x}", digest[i]);
  return "tandem_run." + hex;
}

class SessionLock final : public RunLock {
 public:
  SessionLock(std::unique_ptr<MysqlConnection> session, std::string name)
      : session_(std::move(session)), name_(std::move(name)) {}
  ~SessionLock() override {
    try {
      session_->update(fmt::format("DELETE FROM {} WHERE lock_name = ? AND connection_id = CONNECTION_ID()", kLockTable),
                       {name_});
      session_->query("SELECT RELEASE_LOCK(?)", {name_});
    } catch (const Error&) {
      // Closing the session releases the lock all the same.
    }
  }

 private:
  std::unique_ptr<MysqlConnection> session_;
  std::string name_;
};

class GaleraLease final : public RunLock {
 public:
  GaleraLease(std::unique_ptr<MysqlConnection> session, std::string name, std::string run_id,
              std::chrono::seconds length, std::shared_ptr<LeaseWatch> watch, std::string where)
      : session_(std::move(session)),
        name_(std::move(name)),
        run_id_(std::move(run_id)),
        length_(length),
        watch_(std::move(watch)),
        where_(std::move(where)) {
    renewer_ = std::thread([this] { renew_until_stopped(); });
  }
  ~GaleraLease() override {
    {
      std::lock_guard guard(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    renewer_.join();
    try {
      session_->update(fmt::format("DELETE FROM {} WHERE lock_name = ? AND run_id = ?", kLockTable),
                       {name_, run_id_});
    } catch (const Error&) {
      // The lease expires all the same.
    }
  }
  GaleraLease(const GaleraLease&) = delete;
  GaleraLease& operator=(const GaleraLease&) = delete;

 private:
  // The session is this thread's alone until the destructor has joined it. A renewal
  // that finds the row no longer this run's means another run took the lease after it
  // expired; renewals failing for a whole lease mean one may have: either way the run's
  // session is told, and refuses every statement from then on.
  void renew_until_stopped() {
    auto renewed = std::chrono::steady_clock::now();
    std::unique_lock guard(mutex_);
    while (!wake_.wait_for(guard, length_ / 4, [this] { return stopping_; })) {
      try {
        if (session_->update(fmt::format("UPDATE {} SET expires_at = UTC_TIMESTAMP(6) + INTERVAL {} SECOND "
                                         "WHERE lock_name = ? AND run_id = ?",
                                         kLockTable, length_.count()),
                             {name_, run_id_}) == 1) {
          renewed = std::chrono::steady_clock::now();
          continue;
        }
        const auto now_held = session_->query(fmt::format("SELECT holder FROM {} WHERE lock_name = ?", kLockTable), {name_});
        watch_->lose(fmt::format("this run lost the run lock on {}: its lease on the Galera cluster expired and {}; the "
                                 "run stopped before its next statement (rerun it once that run is done)",
                                 where_,
                                 now_held.empty() ? std::string("its row is gone")
                                                  : "was taken by " + now_held[0][0].value_or("another run")));
        return;
      } catch (const Error& error) {
        // A certification conflict or a node gone for a moment: the next renewal, a
        // quarter of the lease later, tries again before it expires.
        if (std::chrono::steady_clock::now() - renewed < length_) continue;
        watch_->lose(fmt::format("this run lost the run lock on {}: its lease on the Galera cluster could not be "
                                 "renewed for {}s ({}), so another run may hold it; the run stopped before its next "
                                 "statement",
                                 where_, length_.count(), error.what()));
        return;
      }
    }
  }

  std::unique_ptr<MysqlConnection> session_;
  std::string name_;
  std::string run_id_;
  std::chrono::seconds length_;
  std::shared_ptr<LeaseWatch> watch_;
  std::string where_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread renewer_;
};

// Takes the lease when it is free or expired; false when another run holds it (or took
// it in the same moment through another node: the certification failure, 1213).
bool take_lease(MysqlConnection& session, const std::string& name, const std::string& run_id,
                const std::string& holder, std::chrono::seconds length) {
  const std::string expiry = fmt::format("UTC_TIMESTAMP(6) + INTERVAL {} SECOND", length.count());
  try {
    // A row without an expiry was written under GET_LOCK, before the server joined a cluster.
    if (session.update(fmt::format("UPDATE {} SET connection_id = CONNECTION_ID(), holder = ?, run_id = ?, "
                                   "expires_at = {} WHERE lock_name = ? "
                                   "AND (expires_at IS NULL OR expires_at < UTC_TIMESTAMP(6))",
                                   kLockTable, expiry),
                       {holder, run_id, name}) == 1)
      return true;
    return session.update(fmt::format("INSERT IGNORE INTO {} (lock_name, connection_id, holder, run_id, expires_at) "
                                      "VALUES (?, CONNECTION_ID(), ?, ?, {})",
                                      kLockTable, expiry),
                          {name, holder, run_id}) == 1;
  } catch (const Error& error) {
    if (error.code() == "1213") return false;
    throw;
  }
}

}  // namespace

void LeaseWatch::lose(std::string reason) {
  std::lock_guard guard(mutex_);
  reason_ = std::move(reason);
  lost_ = true;
}

std::optional<std::string> LeaseWatch::lost() const {
  if (!lost_) return std::nullopt;
  std::lock_guard guard(mutex_);
  return reason_;
}

std::unique_ptr<RunLock> MysqlConnection::lease(std::unique_ptr<MysqlConnection> session, const std::string& name,
                                                std::chrono::seconds wait, const std::string& holder) {
  // The table as a server outside a cluster made it has no lease columns yet.
  const std::pair<std::string, std::string> columns[] = {{"run_id", "varchar(64) NULL"},
                                                         {"expires_at", "datetime(6) NULL"}};
  for (const auto& [column, type] : columns) {
    if (session
            ->query("SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? "
                    "AND COLUMN_NAME = ?",
                    {std::string(kLockTable), column})
            .empty())
      session->execute(fmt::format("ALTER TABLE {} ADD COLUMN {} {}", kLockTable, column, type));
  }
  const auto length = lease_length();
  const std::string run_id = new_run_id();
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    if (take_lease(*session, name, run_id, holder, length)) {
      auto watch = std::make_shared<LeaseWatch>();
      lease_watch_ = watch;
      return std::make_unique<GaleraLease>(std::move(session), name, run_id, length, std::move(watch), url_.redacted());
    }
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) break;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(250)));
  }
  const auto recorded = session->query(
      fmt::format("SELECT holder, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(6), expires_at) FROM {} WHERE lock_name = ?",
                  kLockTable),
      {name});
  const std::string current =
      recorded.empty() ? "holder unknown"
                       : fmt::format("{}; its lease on the Galera cluster expires in {}s unless renewed",
                                     recorded[0][0].value_or("holder unknown"), recorded[0][1].value_or("?"));
  throw Error(ErrorKind::lock_held,
              fmt::format("another tandem run holds the lock on {} ({}); waited {}s (raise --wait to wait longer)",
                          url_.redacted(), current, wait.count()));
}

std::unique_ptr<RunLock> MysqlConnection::lock(std::chrono::seconds wait, const std::string& holder) {
  auto session = std::make_unique<MysqlConnection>(url_);
  const std::string name = lock_name(url_.database);
  session->execute(fmt::format("CREATE TABLE IF NOT EXISTS {} (lock_name varchar(64) NOT NULL PRIMARY KEY, "
                               "connection_id bigint NOT NULL, holder text NOT NULL, run_id varchar(64) NULL, "
                               "expires_at datetime(6) NULL){}",
                               kLockTable, kTableOptions));
  if (galera_) return lease(std::move(session), name, wait, holder);
  const auto taken = session->query("SELECT GET_LOCK(?, ?)", {name, std::to_string(wait.count())});
  const Value result = taken.at(0).at(0);
  if (result == "1") {
    session->update(
        fmt::format("REPLACE INTO {} (lock_name, connection_id, holder) VALUES (?, CONNECTION_ID(), ?)", kLockTable),
        {name, holder});
    return std::make_unique<SessionLock>(std::move(session), name);
  }
  if (!result) throw Error(ErrorKind::step_failed, fmt::format("GET_LOCK('{}') failed on {}", name, url_.redacted()));
  const auto recorded = session->query(
      fmt::format("SELECT holder FROM {} WHERE lock_name = ? AND connection_id = IS_USED_LOCK(?)", kLockTable),
      {name, name});
  std::string current;
  if (!recorded.empty()) {
    current = recorded[0][0].value_or("");
  } else {
    // Taken a moment ago and not yet recorded, or by something other than tandem.
    const auto connection =
        session->query("SELECT ID, HOST FROM information_schema.PROCESSLIST WHERE ID = IS_USED_LOCK(?)", {name});
    current = connection.empty() ? "holder unknown"
                                 : fmt::format("connection {} from {}", connection[0][0].value_or("?"),
                                               connection[0][1].value_or("?"));
  }
  throw Error(ErrorKind::lock_held,
              fmt::format("another tandem run holds the lock on {} ({}); waited {}s (raise --wait to wait longer)",
                          url_.redacted(), current, wait.count()));
}

}  // namespace tandem::mysql
