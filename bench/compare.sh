#!/usr/bin/env bash
# How long `tandem compare` takes, whole process, median of 5, on a 110-table, 1,319-column
# schema on SQLite, PostgreSQL and MariaDB (private servers started for the run); goals:
# MariaDB under 25 ms, SQLite and PostgreSQL under 1 s.
# Usage: bench/compare.sh [tables] [runs] [columns per table]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target tandem bench_compare >/dev/null
export TANDEM="$build/tools/tandem"
exec "$root/tools/test-servers.sh" "$build/bench/bench_compare" "${1:-110}" "${2:-5}" "${3:-12}"
