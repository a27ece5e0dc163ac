// The release registry's SQL on SQLite (DESIGN §15).
#include "dialect/sqlite/sqlite.h"

namespace tandem::sqlite {

std::string SqliteRenderer::server_utc_now() const { return "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"; }

std::string SqliteRenderer::release_heartbeat() const {
  return "INSERT INTO tandem_releases (service, instance, \"release\", host, pid, started_at, heartbeat_at, ttl_seconds) "
         "VALUES (?, ?, ?, ?, ?, " + server_utc_now() + ", " + server_utc_now() + ", ?) "
         "ON CONFLICT (service, instance) DO UPDATE SET "
         "started_at = CASE WHEN tandem_releases.\"release\" = excluded.\"release\" AND tandem_releases.host = "
         "excluded.host AND tandem_releases.pid = excluded.pid THEN tandem_releases.started_at ELSE excluded.started_at "
         "END, \"release\" = excluded.\"release\", host = excluded.host, pid = excluded.pid, "
         "heartbeat_at = excluded.heartbeat_at, ttl_seconds = excluded.ttl_seconds";
}

}  // namespace tandem::sqlite
