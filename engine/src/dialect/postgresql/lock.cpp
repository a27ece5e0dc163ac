// The PostgreSQL run lock: a session-level advisory lock held by a session of its own,
// so the run's transactions (committed, rolled back, or lost with their session) never
// release it early, and a killed run releases it with its session. The holder names
// itself in application_name, where a waiting run reads it from pg_stat_activity.
#include <fmt/format.h>

#include <pqxx/pqxx>

#include <thread>

#include "dialect/postgresql/postgresql.h"
#include "tandem/error.h"

namespace tandem::postgresql {

namespace {

// Every tandem run on a database takes this one key ("tand", 1); advisory locks are per
// database, so runs on other databases of the same server do not contend.
constexpr int kLockSpace = 0x74616e64;
constexpr int kLockKey = 1;

class AdvisoryLock final : public RunLock {
 public:
  explicit AdvisoryLock(std::unique_ptr<pqxx::connection> session) : session_(std::move(session)) {}

 private:
  // Closing the session releases the lock.
  std::unique_ptr<pqxx::connection> session_;
};

bool try_lock(pqxx::connection& session) {
  pqxx::nontransaction work(session);
  return work.exec(fmt::format("SELECT pg_try_advisory_lock({}, {})", kLockSpace, kLockKey))[0][0].as<bool>();
}

std::string current_holder(pqxx::connection& session) {
  pqxx::nontransaction work(session);
  const auto rows = work.exec(fmt::format(
      "SELECT a.application_name, a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
      "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {} AND l.objid = {} AND l.objsubid = 2 "
      "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      kLockSpace, kLockKey));
  if (rows.empty()) return "holder unknown: it has just let go";
  const std::string name = rows[0][0].is_null() ? "" : rows[0][0].c_str();
  return fmt::format("{}{}server process {}", name, name.empty() ? "" : "; ", rows[0][1].c_str());
}

}  // namespace

std::unique_ptr<RunLock> PostgresqlConnection::lock(std::chrono::seconds wait, const std::string& holder) {
  auto session = open_session(url_, holder);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  try {
    while (!try_lock(*session)) {
      if (std::chrono::steady_clock::now() >= deadline)
        throw Error(ErrorKind::lock_held,
                    fmt::format("another tandem run holds the lock on {} ({}); waited {}s (raise --wait to wait longer)",
                                url_.redacted(), current_holder(*session), wait.count()));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  } catch (const pqxx::failure& error) {
    throw Error(ErrorKind::unreachable, fmt::format("cannot take the run lock on {}: {}", url_.redacted(), error.what()));
  }
  return std::make_unique<AdvisoryLock>(std::move(session));
}

}  // namespace tandem::postgresql
