#!/usr/bin/env bash
# How long the schema simulation of the bundled history plus generated versions takes
# (issue 17: under 200 ms for the bundled history and 1,000 more), beside the time to
# load the units and check's history check. No server needed.
# Usage: bench/simulate.sh [versions] [runs]
# BUILD_DIR (default build/) is where the benchmark is built.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
[ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target bench_simulate >/dev/null
exec "$build/bench/bench_simulate" "${1:-1000}" "${2:-5}"
