#!/usr/bin/env bash
# Runs every test: installs the Debian packages, builds, and runs the CTest suite.
# Usage: tools/test.sh            (from anywhere; builds into build/ at the repo root)
set -euo pipefail
# In CI a dialect whose test server cannot start must fail the run, not be skipped.
[ "${CI:-}" != true ] || export TANDEM_REQUIRE_SERVERS=1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/tools/install-deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTANDEM_WERROR=ON
cmake --build "$root/build" -j2
cd "$root/build"
"$root/tools/test-servers.sh" ctest --output-on-failure -j2 --timeout 600
