#!/usr/bin/env bash
# How fast `tandem migrate` backfills a column over 1,000,000 rows (and over 100,000, for
# the throughput as the table grows), beside one UPDATE statement over the same rows, with
# the longest single batch, on SQLite, PostgreSQL and MariaDB (private servers started for
# the run). Prints each figure with its target. Usage: bench/backfill.sh [rows]
# BUILD_DIR (default build/) is where tandem and the benchmark are built.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
# A folder already configured keeps its build type (Release, RelWithDebInfo).
[ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target tandem bench_backfill >/dev/null
export TANDEM="$build/tools/tandem"
exec "$root/tools/test-servers.sh" "$build/bench/bench_backfill" "${1:-1000000}"
