#!/usr/bin/env bash
# Runs every test: installs the Debian packages, builds, and runs the CTest suite.
# Usage: tools/test.sh            (from anywhere; builds into build/ at the repo root)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/tools/install-deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTANDEM_WERROR=ON
cmake --build "$root/build" -j2
cd "$root/build"
ctest --output-on-failure -j2 --timeout 600
