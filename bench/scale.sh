#!/usr/bin/env bash
# Whether tandem migrate (a backfill) and tandem archive keep their rows/s and their peak
# memory from a small table to a large one (100,000 and 10,000,000 rows by default), on
# SQLite; BENCH_SERVERS=1 adds PostgreSQL and MariaDB (private servers started for the run).
# Prints both sizes' figures, their ratios and the targets.
# Usage: bench/scale.sh [small] [large]
# BUILD_DIR (default build/) is where tandem and the benchmark are built.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
[ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target tandem bench_scale >/dev/null
export TANDEM="$build/tools/tandem"
if [ -n "${BENCH_SERVERS:-}" ]; then
  exec "$root/tools/test-servers.sh" "$build/bench/bench_scale" "${1:-100000}" "${2:-10000000}"
fi
exec "$build/bench/bench_scale" "${1:-100000}" "${2:-10000000}"
