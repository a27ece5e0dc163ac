#!/usr/bin/env bash
# How long `tandem compare` takes on a 500-table schema on SQLite, PostgreSQL and MariaDB
# (private servers started for the run); target under 1 s on SQLite and PostgreSQL.
# Usage: bench/compare.sh [tables] [runs]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target tandem bench_compare >/dev/null
export TANDEM="$build/tools/tandem"
exec "$root/tools/test-servers.sh" "$build/bench/bench_compare" "${1:-500}" "${2:-5}"
