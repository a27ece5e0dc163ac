#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ (in build-fuzz/, clang with ASan and UBSan) and runs
# each for a while, one after the other:
#   tools/fuzz.sh [seconds] [target...]     targets: sql url unit config (default: all), 600 s each
# Prints, per target, the executions per second and whether it found anything; a finding
# (crash, sanitizer report, uncaught exception, hang, leak) is kept under
# build-fuzz/findings/<target>/ and makes the script exit 1. New inputs the fuzzer keeps go
# to build-fuzz/corpus/<target>/; fuzz/corpus/<target>/ (the seeds) is only read.
# Installs what it needs on Debian (clang, libFuzzer, the build dependencies) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source_dir=$PWD
seconds=${1:-600}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(sql url unit config)
case $seconds in
  ''|*[!0-9]*) echo "usage: tools/fuzz.sh [seconds] [target...] (targets: sql url unit config)" >&2; exit 64 ;;
esac
for target in "${targets[@]}"; do
  [ -f "fuzz/fuzz_$target.cpp" ] || { echo "fuzz.sh: no target '$target' (targets: sql url unit config)" >&2; exit 64; }
done

tools/install-deps.sh
fuzz_packages=(clang libclang-rt-dev)
missing=()
for package in "${fuzz_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build=$source_dir/build-fuzz
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTANDEM_FUZZ=ON -DBUILD_TESTING=OFF \
  -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" >/dev/null
cmake --build "$build" -j"${FUZZ_BUILD_JOBS:-2}" --target $(printf 'fuzz_%s ' "${targets[@]}")

scratch=$(mktemp -d "$([ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")/tandem-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export TANDEM_FUZZ_SCRATCH=$scratch
# A finding stops at once, names its kind, and shows the whole stack.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
summary=()
for target in "${targets[@]}"; do
  corpus=$build/corpus/$target
  findings=$build/findings/$target
  log=$build/fuzz-$target.log
  mkdir -p "$corpus" "$findings"
  seeds=("fuzz/corpus/$target")
  [ -d "fuzz/regressions/$target" ] && seeds+=("fuzz/regressions/$target")
  dict=()
  [ -f "fuzz/dict/$target.dict" ] && dict=(-dict="fuzz/dict/$target.dict")
  command=("$build/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
           -max_len=8192 -print_final_stats=1 -artifact_prefix="$findings/" "${dict[@]}" "$corpus" "${seeds[@]}")
  echo "== $target: ${command[*]}"
  start=$(date +%s)
  set +e
  "${command[@]}" >"$log" 2>&1
  rc=$?
  set -e
  elapsed=$(( $(date +%s) - start ))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  artifacts=$(find "$findings" -type f -newer "$log" 2>/dev/null | wc -l)
  if [ $rc -eq 0 ] && [ "$artifacts" -eq 0 ]; then
    result="nothing found"
  else
    result="FOUND (exit $rc): $(grep -m1 -E '^==[0-9]+==ERROR|runtime error|deadly signal|timeout|leak|uncaught|terminate' "$log" || echo 'see log') -> $(ls -t "$findings" | head -1)"
    status=1
    tail -60 "$log" >&2
  fi
  line="$target: ${elapsed} s, ${runs:-?} runs, ${rate:-?} exec/s, corpus $(ls "$corpus" | wc -l) new files: $result (log $log)"
  echo "$line"
  summary+=("$line")
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
