#!/usr/bin/env bash
# What the smallest MariaDB trigger that looks at a column costs, beside an empty one: the
# floor under issue 12's goal for sync_column (an UPDATE of a column no trigger syncs
# within 1.1x of the same UPDATE under an empty BEFORE UPDATE trigger). MariaDB fires
# every row trigger on every UPDATE (there is no UPDATE OF), and runs each statement of a
# trigger body anew for every row; an empty body runs none. Each variant below replaces
# the trigger on one table of N rows; `UPDATE t SET other = other + 1` is timed, median of
# the rounds, each beside the empty trigger:
#   one_if     IF NEW.name <=> OLD.name THEN BEGIN END; END IF     (one statement, does nothing)
#   one_set    SET NEW.other = NEW.other                          (one statement, no condition)
#   tandem     the body tandem's sync_column installed until now (two byte-wise comparisons,
#              two statements when neither column was written)
#   combined   the same decisions, one statement when neither column was written
# Usage: bench/trigger_floor.sh [rows] [rounds]   (starts a private MariaDB)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${TANDEM_TEST_MYSQL_URL:-}" ]; then
  exec "$root/tools/test-servers.sh" "$0" "$@"
fi
rows=${1:-100000}
rounds=${2:-5}
parts=$(echo "$TANDEM_TEST_MYSQL_URL" | sed -E 's#mysql://([^:]*):([^@]*)@([^:/]*):([0-9]+)/.*#\1 \2 \3 \4#')
read -r user password host port <<<"$parts"
export MYSQL_PWD=$password # not on the command line, where ps would show it
sql() { mariadb -u"$user" -h"$host" -P"$port" --protocol=tcp "$@"; }
sql -e "DROP DATABASE IF EXISTS trigger_floor; CREATE DATABASE trigger_floor"
sql trigger_floor -e "CREATE TABLE t (id bigint PRIMARY KEY, name varchar(64), full_name varchar(64),
  other int NOT NULL DEFAULT 0) ENGINE=InnoDB;
  INSERT INTO t (id, name, full_name) SELECT seq, concat('n', seq), concat('n', seq) FROM seq_1_to_$rows"

declare -A body
body[empty]="BEGIN END"
body[one_if]="IF NEW.name <=> OLD.name THEN BEGIN END; END IF"
body[one_set]="SET NEW.other = NEW.other"
body[tandem]="IF CAST(NEW.name AS BINARY) <=> CAST(OLD.name AS BINARY) THEN
  IF NOT (CAST(NEW.full_name AS BINARY) <=> CAST(OLD.full_name AS BINARY)) THEN SET NEW.name = (NEW.full_name); END IF;
ELSEIF CAST(NEW.full_name AS BINARY) <=> CAST(OLD.full_name AS BINARY) THEN SET NEW.full_name = (NEW.name);
END IF"
# The same decisions with one statement in the common case (neither column written): one
# IF over both comparisons, the copy decided inside it only when one of them changed.
body[combined]="IF NOT (CAST(NEW.name AS BINARY) <=> CAST(OLD.name AS BINARY) AND
        CAST(NEW.full_name AS BINARY) <=> CAST(OLD.full_name AS BINARY)) THEN
  IF CAST(NEW.name AS BINARY) <=> CAST(OLD.name AS BINARY) THEN SET NEW.name = (NEW.full_name);
  ELSEIF CAST(NEW.full_name AS BINARY) <=> CAST(OLD.full_name AS BINARY) THEN SET NEW.full_name = (NEW.name);
  END IF;
END IF"
variants=(empty one_if one_set tandem combined)

install() {
  printf 'DROP TRIGGER IF EXISTS floor_upd;\nDELIMITER //\nCREATE TRIGGER floor_upd BEFORE UPDATE ON t FOR EACH ROW\n%s//\nDELIMITER ;\n' \
    "${body[$1]}" | sql trigger_floor
}
seconds() {
  local start end
  start=$(date +%s%N)
  sql trigger_floor -e "UPDATE t SET other = other + 1"
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
median() { tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A times
for ((round = 1; round <= rounds; round++)); do
  for variant in "${variants[@]}"; do
    install "$variant"
    seconds >/dev/null # warm: the first UPDATE after CREATE TRIGGER also loads it
    times[$variant]+="$(seconds) "
  done
done
echo "MariaDB: UPDATE t SET other = other + 1 over $rows rows, median of $rounds rounds (ms), ratio to the empty trigger"
empty=$(echo "${times[empty]}" | median)
for variant in "${variants[@]}"; do
  ms=$(echo "${times[$variant]}" | median)
  awk -v v="$variant" -v ms="$ms" -v e="$empty" 'BEGIN { printf "  %-8s %7d ms  %5.2fx\n", v, ms, ms / e }'
done
echo "goal for tandem's trigger: <= 1.10x (issue 12); one_if and one_set show what one statement costs"
