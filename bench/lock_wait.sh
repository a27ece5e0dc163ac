#!/usr/bin/env bash
# The application's longest wait behind each expand and contract operation, beside
# --lock-timeout (500 ms), on PostgreSQL and MariaDB (private servers started for the run).
# Usage: bench/lock_wait.sh [rows]     (default 2000000; a smaller count runs quickly)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j2 --target tandem bench_lock_wait >/dev/null
export TANDEM="$root/build/tools/tandem"
exec "$root/tools/test-servers.sh" "$root/build/bench/bench_lock_wait" "${1:-2000000}"
