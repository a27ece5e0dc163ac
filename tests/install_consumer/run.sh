#!/usr/bin/env bash
# Installs a tandem build tree into a temporary prefix, builds main.cpp against it with
# find_package(tandem) and with pkg-config, and runs both programs (DESIGN §19).
# Usage: run.sh BUILD_DIR [EXTRA_CXXFLAGS]   (EXTRA_CXXFLAGS: e.g. the sanitizer flags)
set -euo pipefail
build=$(cd "$1" && pwd)
extra=${2:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
for file in bin/tandem share/man/man1/tandem.1 share/bash-completion/completions/tandem include/tandem/tandem.h \
            include/tandem/version.h lib/cmake/tandem/tandemConfig.cmake lib/cmake/tandem/tandemConfigVersion.cmake; do
  [ -f "$prefix/$file" ] || { echo "not installed: $file" >&2; exit 1; }
done
pc=$(find "$prefix" -name tandem.pc)
lib=$(find "$prefix" -name libtandem.a)
[ -n "$pc" ] && [ -n "$lib" ] || { echo "not installed: tandem.pc or libtandem.a" >&2; exit 1; }
"$prefix/bin/tandem" --version

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
echo "== find_package(tandem)"
cmake -S "$here" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS="$extra" -DCMAKE_EXE_LINKER_FLAGS="$extra" "${launcher[@]}" >/dev/null
cmake --build "$tmp/cmake-build" >/dev/null
mkdir "$tmp/run-cmake"
"$tmp/cmake-build/consumer" "$tmp/run-cmake"

echo "== pkg-config tandem"
flags=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs tandem)
compiler=${CXX:-c++}
command -v ccache >/dev/null && compiler="ccache $compiler"
# shellcheck disable=SC2086 # word splitting of the flags is wanted
$compiler -std=c++20 $extra -o "$tmp/consumer-pc" "$here/main.cpp" $flags
mkdir "$tmp/run-pc"
"$tmp/consumer-pc" "$tmp/run-pc"
