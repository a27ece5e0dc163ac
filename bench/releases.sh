#!/usr/bin/env bash
# How long `status` and contract's release check take with 1,000 heartbeating instances
# in tandem_releases, beside the same commands with none, and the 100 ms goal (DESIGN §15).
# SQLite always; PostgreSQL and MariaDB on private servers (tools/test-servers.sh).
# Usage: bench/releases.sh [instances]      (default 1000)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${TANDEM_BENCH_INNER:-}" ]; then
  cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$root/build" -j2 --target tandem >/dev/null
  TANDEM_BENCH_INNER=1 exec "$root/tools/test-servers.sh" "$0" "$@"
fi
instances=${1:-1000}
tandem=$root/build/tools/tandem
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/repos/expand_repo" "$work/repos/data_migration_repo" "$work/repos/contract_repo"
none='description: nothing
operations: []'
printf '%s\n' 'description: accounts' 'operations:' \
  '  - create_table: {name: accounts, columns: [{name: id, type: integer, primary_key: true}, {name: name, type: text}]}' \
  >"$work/repos/expand_repo/001_accounts.yaml"
printf '%s\n' 'description: email' 'operations:' '  - add_column: {table: accounts, column: {name: email, type: text}}' \
  >"$work/repos/expand_repo/002_email.yaml"
printf '%s\n' 'description: no name' 'operations:' '  - drop_column: {table: accounts, column: name}' \
  >"$work/repos/contract_repo/002_email.yaml"
echo "$none" >"$work/repos/contract_repo/001_accounts.yaml"
for v in 001_accounts 002_email; do echo "$none" >"$work/repos/data_migration_repo/$v.yaml"; done

ms() { local start end; start=$(date +%s%N); "$@" >/dev/null 2>&1 || true; end=$(date +%s%N); echo $(((end - start) / 1000000)); }
best() { local b=999999 t; for _ in 1 2 3 4 5; do t=$(ms "$@"); [ "$t" -lt "$b" ] && b=$t; done; echo "$b"; }

measure() {
  local name=$1 url=$2
  local run=("$tandem" --repos "$work/repos" --db "$url" --no-progress)
  for step in "expand --to 1" "migrate --to 1" "contract --to 1" "expand" "migrate"; do "${run[@]}" $step >/dev/null; done
  local status0 contract0 status1 contract1
  status0=$(best "${run[@]}" status)
  contract0=$(best "${run[@]}" contract --dry-run)
  for i in $(seq 1 "$instances"); do
    "${run[@]}" release register --service app --release 1 --instance "web-$i" --ttl 3600 >/dev/null
  done
  status1=$(best "${run[@]}" status)
  contract1=$(best "${run[@]}" contract --dry-run)
  local refused; refused=$(best "${run[@]}" contract)
  printf '%-11s %-28s %8s ms %8s ms %8s ms\n' "$name" "status" "$status0" "$status1" 100
  printf '%-11s %-28s %8s ms %8s ms %8s ms\n' "$name" "contract --dry-run (checked)" "$contract0" "$contract1" 100
  printf '%-11s %-28s %8s    %8s ms %8s ms\n' "$name" "contract (refused)" "-" "$refused" 100
}

echo "whole commands, best of 5, with 0 and with $instances live instances of an older release"
printf '%-11s %-28s %11s %11s %11s\n' dialect command "0 rows" "$instances rows" goal
measure sqlite "sqlite:$work/bench.db"
for pair in "postgresql TANDEM_TEST_POSTGRESQL_URL" "mysql TANDEM_TEST_MYSQL_URL"; do
  set -- $pair
  admin=${!2:-}
  if [ -z "$admin" ]; then echo "$1: skipped, no test server"; continue; fi
  db="bench_releases_$$"
  "$tandem" --db "$admin" status >/dev/null 2>&1 || true
  url="${admin%/*}/$db"
  if [ "$1" = postgresql ]; then
    PGPASSWORD=$(echo "$admin" | sed -E 's#^[^:]+://[^:]+:([^@]+)@.*#\1#') psql -q "$(echo "$admin" | sed -E 's#^postgresql://([^:]+):[^@]+@#postgresql://\1@#')" -c "CREATE DATABASE $db" >/dev/null
  else
    h=$(echo "$admin" | sed -E "s#mysql://([^:]*):([^@]*)@([^:/]*):([0-9]+)/.*#\1 \2 \3 \4#"); set -- $1 $h
    MYSQL_PWD=$3 mariadb -u"$2" -h"$4" -P"$5" -e "CREATE DATABASE $db"
  fi
  measure "$1" "$url"
done
