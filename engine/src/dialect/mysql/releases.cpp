// The release registry's SQL on MySQL and MariaDB (DESIGN §15). `release` is a reserved word.
#include "dialect/mysql/mysql.h"

namespace tandem::mysql {

std::string MysqlRenderer::server_utc_now() const { return "DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%dT%H:%i:%sZ')"; }

// ON DUPLICATE KEY UPDATE assigns left to right, each seeing the ones before: started_at
// is decided first, against the row as it was.
std::string MysqlRenderer::release_heartbeat() const {
  return "INSERT INTO tandem_releases (service, instance, `release`, host, pid, started_at, heartbeat_at, ttl_seconds) "
         "VALUES (?, ?, ?, ?, ?, " + server_utc_now() + ", " + server_utc_now() + ", ?) ON DUPLICATE KEY UPDATE "
         "started_at = IF(`release` = VALUES(`release`) AND host = VALUES(host) AND pid = VALUES(pid), started_at, "
         "VALUES(started_at)), `release` = VALUES(`release`), host = VALUES(host), pid = VALUES(pid), "
         "heartbeat_at = VALUES(heartbeat_at), ttl_seconds = VALUES(ttl_seconds)";
}

}  // namespace tandem::mysql
