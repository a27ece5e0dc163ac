#!/usr/bin/env bash
# How fast `tandem archive` moves soft-deleted instances and their child rows into the
# shadow tables, beside one INSERT ... SELECT plus DELETE per table over the same rows,
# on SQLite, PostgreSQL and MariaDB (private servers started for the run).
# Also tandem on the nova-shaped schema (no server default on `deleted`) beside
# nova-manage's rows/s as issue 14 quotes it (not measured here).
# Usage: bench/archive.sh [soft-deleted instances, default 100000]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j2 --target tandem bench_archive >/dev/null
export TANDEM="$root/build/tools/tandem"
exec "$root/tools/test-servers.sh" "$root/build/bench/bench_archive" "${1:-100000}"
