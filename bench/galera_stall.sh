#!/usr/bin/env bash
# How long a writer on each node of a 3-node MariaDB Galera cluster (private, started for
# the run) stalls while `tandem expand` adds an index, and separately a column, to a table
# of N rows through node 1, beside the same DDL run naively under TOI: one block per N.
# Usage: bench/galera_stall.sh [rows...]        (default 1000000; e.g. 1000000 10000000)
# GALERA_DDL=auto|toi|rsu|copy passes galera_ddl=... in the URL tandem is given (unset:
# tandem chooses). BUILD_DIR (default build/) is where tandem and the benchmark are built.
# tools/test-servers.sh starts PostgreSQL and a single MariaDB too; this uses only the cluster.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
# A folder already configured keeps its build type (Release, RelWithDebInfo).
[ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target tandem bench_galera_stall >/dev/null
export TANDEM="$build/tools/tandem"
# Each node sized as a production server is, not as the test suite's: a table of ten
# million rows fits in memory, and the redo log does not force a checkpoint every batch.
export TANDEM_TEST_INNODB_BUFFER_POOL=${TANDEM_TEST_INNODB_BUFFER_POOL:-2G}
export TANDEM_TEST_INNODB_LOG_FILE=${TANDEM_TEST_INNODB_LOG_FILE:-512M}
[ $# -gt 0 ] || set -- 1000000
exec "$root/tools/test-servers.sh" "$build/bench/bench_galera_stall" "$@"
