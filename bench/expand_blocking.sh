#!/usr/bin/env bash
# How long a concurrent writer is blocked while `tandem expand` adds a column and an
# index to a 1,000,000-row table, beside the same DDL run naively, on PostgreSQL and
# MariaDB (private servers started for the run). Usage: bench/expand_blocking.sh [rows]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j2 --target tandem bench_expand_blocking >/dev/null
export TANDEM="$root/build/tools/tandem"
exec "$root/tools/test-servers.sh" "$root/build/bench/bench_expand_blocking" "${1:-1000000}"
