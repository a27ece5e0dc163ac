#!/usr/bin/env bash
# Runs every test: installs the Debian packages, builds, and runs the CTest suite; then
# builds it again with AddressSanitizer and UBSan in build-asan/ and runs it once more
# (TANDEM_SKIP_SANITIZE=1 skips that second run).
# Usage: tools/test.sh            (from anywhere; builds into build/ and build-asan/ at the repo root)
set -euo pipefail
# In CI a dialect whose test server cannot start must fail the run, not be skipped.
[ "${CI:-}" != true ] || export TANDEM_REQUIRE_SERVERS=1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/tools/install-deps.sh"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTANDEM_WERROR=ON "${launcher[@]}"
cmake --build "$root/build" -j2
(cd "$root/build" && "$root/tools/test-servers.sh" ctest --output-on-failure -j2 --timeout 600)

[ "${TANDEM_SKIP_SANITIZE:-}" != 1 ] || exit 0
start=$SECONDS
cmake -S "$root" -B "$root/build-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTANDEM_WERROR=ON \
  -DTANDEM_SANITIZE=address,undefined "${launcher[@]}"
cmake --build "$root/build-asan" -j2
# Leaks of the system libraries' own, which tandem cannot free, are listed in lsan.supp;
# everything else any sanitizer finds fails the test that found it.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0
export LSAN_OPTIONS="suppressions=$root/tools/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd "$root/build-asan" && "$root/tools/test-servers.sh" ctest --output-on-failure -j2 --timeout 900)
echo "test.sh: sanitizer build and suite took $((SECONDS - start)) s"
