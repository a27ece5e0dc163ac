#!/usr/bin/env bash
# What tandem's sync_column triggers cost the application's UPDATEs on MariaDB and
# PostgreSQL (private servers started for the run), over one table of 300,000 rows: an
# UPDATE of a column no trigger syncs beside the same UPDATE under an empty trigger, and an
# UPDATE of the synced column beside one writing both columns with no trigger; each ratio
# with its goal. Usage: bench/triggers.sh [rows] [rounds]
# BUILD_DIR (default build/) is where tandem and the benchmark are built.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
# A folder already configured keeps its build type (Release, RelWithDebInfo).
[ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target tandem bench_triggers >/dev/null
export TANDEM="$build/tools/tandem"
exec "$root/tools/test-servers.sh" "$build/bench/bench_triggers" "${1:-300000}" "${2:-5}"
