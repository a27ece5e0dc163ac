#!/bin/sh
# Checks two rules of engine/src's shape (STYLE.md), read from the #include lines and the
# code itself, so that a change that breaks one fails the suite (CTest runs both).
#
#   check-layers.sh SRC_DIR layers
#     Folders depend downward only: the folder -> folder graph drawn from every
#     `#include "folder/..."` line has no cycle (tsort finds them). Prints each cycle and
#     the include lines that close it.
#   check-layers.sh SRC_DIR dialects [FOLDER|FILE ...]
#     Dialect knowledge lives in dialect/: no file outside it names a value of DialectKind
#     (`DialectKind::`). The FOLDERs (or top-level files) given are left out: work still
#     moving into dialect/.
#
# Exit status 1 when a rule is broken.
set -eu
src=$1
rule=$2
shift 2
cd "$src"

# "from to file:line" for every include of another folder's header.
edges() {
  grep -rn --include='*.h' --include='*.cpp' '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[a-z_]*/' . |
    sed -n 's|^\./\([a-z_]*\)/\([^:]*\):\([0-9]*\):[^"]*"\([a-z_]*\)/\([^"]*\)".*|\1 \4 \1/\2:\3 includes \4/\5|p' |
    while read -r from to where; do
      # An if, not an && list: a list that fails on the last line would fail the pipeline.
      if [ "$from" != "$to" ] && [ -d "$to" ]; then echo "$from $to $where"; fi
    done
  return 0
}

case $rule in
  layers)
    all=$(edges)
    loops=$(echo "$all" | awk '{print $1, $2}' | sort -u | tsort 2>&1 >/dev/null | grep -v 'input contains a loop' | sed 's/^tsort: //' | sort -u) || true
    if [ -n "$loops" ]; then
      echo "include cycle between folders: $(echo $loops)"
      echo "$all" | while read -r from to where; do
        case " $(echo $loops) " in *" $from "*) case " $(echo $loops) " in *" $to "*) echo "  $from -> $to: $where" ;; esac ;; esac
      done
      exit 1
    fi
    echo "no include cycles: $(echo "$all" | awk '{print $1 "->" $2}' | sort -u | tr '\n' ' ')"
    ;;
  dialects)
    found=$(grep -rn --include='*.h' --include='*.cpp' 'DialectKind::' . | grep -v '^\./dialect/' || true)
    for allowed in "$@"; do
      found=$(echo "$found" | grep -v "^\./$allowed[/:]" || true)
    done
    if [ -n "$found" ]; then
      echo "DialectKind values named outside dialect/:"
      echo "$found"
      exit 1
    fi
    echo "no DialectKind value outside dialect/${*:+ (left out: $*)}"
    ;;
  *)
    echo "usage: $0 SRC_DIR layers|dialects [FOLDER ...]" >&2
    exit 2
    ;;
esac
