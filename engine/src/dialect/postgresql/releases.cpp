// The release registry's SQL on PostgreSQL (DESIGN §15).
#include "dialect/postgresql/postgresql.h"

namespace tandem::postgresql {

// clock_timestamp(), not now(): the time of the heartbeat, not of its transaction's start.
std::string PostgresqlRenderer::server_utc_now() const {
  return "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";
}

std::string PostgresqlRenderer::release_heartbeat() const {
  return "INSERT INTO tandem_releases (service, instance, \"release\", host, pid, started_at, heartbeat_at, ttl_seconds) "
         "VALUES (?, ?, CAST(? AS bigint), ?, CAST(? AS bigint), " + server_utc_now() + ", " + server_utc_now() +
         ", CAST(? AS integer)) ON CONFLICT (service, instance) DO UPDATE SET "
         "started_at = CASE WHEN tandem_releases.\"release\" = excluded.\"release\" AND tandem_releases.host = "
         "excluded.host AND tandem_releases.pid = excluded.pid THEN tandem_releases.started_at ELSE excluded.started_at "
         "END, \"release\" = excluded.\"release\", host = excluded.host, pid = excluded.pid, "
         "heartbeat_at = excluded.heartbeat_at, ttl_seconds = excluded.ttl_seconds";
}

}  // namespace tandem::postgresql
