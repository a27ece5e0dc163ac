// The MySQL run lock: GET_LOCK on a session of its own, so it lasts exactly as long as
// the run (the server releases it when that session ends, even when tandem is killed)
// and nothing the run does on its main session can release it. GET_LOCK names are
// server-wide: the name carries the database, so runs on two databases of one server do
// not wait for each other.
//
// A waiting run names the holder from tandem_lock, a row the holder writes under its
// connection id: a row left behind by a killed run names a connection that no longer
// holds the lock, and is ignored.
#include <fmt/format.h>
#include <openssl/evp.h>

#include "dialect/mysql/mysql.h"
#include "tandem/error.h"

namespace tandem::mysql {

namespace {

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

}  // namespace

std::unique_ptr<RunLock> MysqlConnection::lock(std::chrono::seconds wait, const std::string& holder) {
  auto session = std::make_unique<MysqlConnection>(url_);
  const std::string name = lock_name(url_.database);
  session->execute(fmt::format("CREATE TABLE IF NOT EXISTS {} (lock_name varchar(64) NOT NULL PRIMARY KEY, "
                               "connection_id bigint NOT NULL, holder text NOT NULL){}",
                               kLockTable, kTableOptions));
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
