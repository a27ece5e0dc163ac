#!/usr/bin/env bash
# A rolling upgrade on SQLite files, no server needed: an api database and two cell
# databases under .demo/ (wiped at start). The old release's schema (version 001) is
# installed offline and given some data; then the new release (version 010) is rolled
# out with expand / migrate / contract while two writer loops, one per release, keep
# writing. Every expectation is checked; the script exits non-zero if one fails.
#
#   tools/demo.sh             build/tools/tandem is built first if it is missing
#   DEMO_DIR=/tmp/x tools/demo.sh   another work folder
#   TANDEM=/path/to/tandem tools/demo.sh   another tandem binary
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${DEMO_DIR:-$root/.demo}"
tandem="${TANDEM:-$root/build/tools/tandem}"
started=$SECONDS

bold=$'\e[1m' red=$'\e[31m' green=$'\e[32m' reset=$'\e[0m'
[ -t 1 ] || bold='' red='' green='' reset=''
step_number=0
step() {
  step_number=$((step_number + 1))
  printf '\n%s== %d. %s%s\n' "$bold" "$step_number" "$*" "$reset"
}
ok() { printf '%s   ok:%s %s\n' "$green" "$reset" "$*"; }
fail() {
  printf '%s   FAILED:%s %s\n' "$red" "$reset" "$*" >&2
  exit 1
}
# `expect NAME ACTUAL WANTED`: fail unless the two are equal.
expect() {
  [ "$2" == "$3" ] || fail "$1: got '$2', expected '$3'"
  ok "$1 ($2)"
}
# `sql DB STATEMENTS`: one short sqlite3 session, waiting up to 5 s for a busy database.
sql() { sqlite3 -batch -cmd '.timeout 5000' "$work/$1" "$2"; }
# `show DB QUERY`: a query printed as a table.
show() { sqlite3 -batch -cmd '.timeout 5000' -cmd '.mode column' -cmd '.headers on' "$work/$1" "$2" | sed 's/^/   /'; }
run() {
  printf '   $ tandem %s\n' "$*"
  "$tandem" "$@" 2>&1 | sed 's/^/   /'
  return "${PIPESTATUS[0]}"
}

command -v sqlite3 >/dev/null || fail "the sqlite3 command-line shell is missing (tools/install-deps.sh installs it)"
if [ ! -x "$tandem" ]; then
  step "Building tandem (first run only)"
  build_log=$(mktemp)
  if ! (cd "$root" && cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2) >"$build_log" 2>&1; then
    tail -n 40 "$build_log" >&2
    fail "the build failed (full log: $build_log)"
  fi
  rm -f "$build_log"
  [ -x "$tandem" ] || fail "the build did not produce $tandem"
  ok "built $tandem"
  started=$SECONDS  # the demo's own time starts now
fi

writer_pids=()
heartbeat_pids=()
stop_writers() {
  touch "$work/stop-writers" 2>/dev/null || true
  for pid in "${writer_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
stop_heartbeats() {
  for pid in "${heartbeat_pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  heartbeat_pids=()
}
trap 'stop_writers; stop_heartbeats' EXIT

# ---------------------------------------------------------------------------------
step "A deployment of SQLite files in $work: one api database, two cells"
rm -rf "$work"
mkdir -p "$work"
printf '*\n' >"$work/.gitignore"  # nothing in here belongs in git
cat >"$work/tandem.yaml" <<EOF
repos: $root
databases:
  api: sqlite:api.db
  cells:
    cell1: sqlite:cell1.db
    cell2: sqlite:cell2.db
EOF
sed 's/^/   /' "$work/tandem.yaml"
for db in api cell1 cell2; do
  # WAL lets the application read while a writer (or tandem) writes.
  expect "$db.db journal mode" "$(sql $db.db 'PRAGMA journal_mode=WAL;')" wal
done
cd "$work"

step "The old release: install schema version 001 offline (nothing else runs yet)"
run upgrade --to 1 --no-progress | tail -n 1

step "The old release at work: compute nodes, instances, projects, assignments, credentials"
for cell in 1 2; do
  sql cell$cell.db "
    INSERT INTO compute_nodes (uuid, host, hypervisor_hostname, vcpus, memory_mb, created_at)
      VALUES ('cn-$cell-a', 'host$cell-a', 'node$cell-a', 16, 65536, datetime('now')),
             ('cn-$cell-b', 'host$cell-b', 'node$cell-b', 32, 131072, datetime('now'));
    INSERT INTO compute_nodes (uuid, host, hypervisor_hostname, created_at, deleted_at, deleted)
      VALUES ('cn-$cell-gone', 'host$cell-gone', 'node$cell-gone', datetime('now'), datetime('now'), 0);
    UPDATE compute_nodes SET deleted = id WHERE uuid = 'cn-$cell-gone';
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
    INSERT INTO instances (uuid, project_id, user_id, host, node, vm_state, created_at)
      SELECT printf('seed-$cell-%03d', i), 'p-web', 'u-alice', 'host$cell-' || (CASE i % 2 WHEN 0 THEN 'a' ELSE 'b' END),
             'node$cell-' || (CASE i % 2 WHEN 0 THEN 'a' ELSE 'b' END), 'active', datetime('now') FROM n;
    -- an instance whose compute node was deleted: it has no compute_id to find
    INSERT INTO instances (uuid, project_id, user_id, host, node, vm_state, created_at)
      VALUES ('seed-$cell-orphan', 'p-web', 'u-alice', 'host$cell-gone', 'node$cell-gone', 'stopped', datetime('now'));"
done
sql api.db "
  INSERT INTO projects (id, name, domain_id) VALUES ('p-web', 'web', 'd-default'), ('p-ops', 'ops', 'd-corp');
  INSERT INTO users (id, name, domain_id) VALUES ('u-alice', 'alice', 'd-default'), ('u-bob', 'bob', 'd-corp');
  INSERT INTO assignments (actor_id, project_id, role)
    VALUES ('u-alice', 'p-web', 'member'), ('u-bob', 'p-ops', 'admin'), ('u-bob', 'p-web', 'reader');
  INSERT INTO credentials (id, user_id, project_id, type, encrypted_blob, key_hash)
    VALUES ('cred-1', 'u-alice', 'p-web', 'ec2', 'blob-alice-ec2', 'key-v1'),
           ('cred-2', 'u-bob', 'p-ops', 'ec2', 'blob-bob-ec2', 'key-v1'),
           ('cred-3', 'u-bob', NULL, 'totp', 'blob-bob-totp', 'key-v1');"
for cell in 1 2; do
  # key pairs (alice's laptop key is in both cells), a server group, PCI devices
  sql cell$cell.db "
    INSERT INTO key_pairs (name, user_id, fingerprint, public_key, created_at)
      VALUES ('alice-laptop', 'u-alice', 'fp-alice', 'ssh-ed25519 AAAAalice alice@laptop', datetime('now')),
             ('bob-ci-$cell', 'u-bob', 'fp-bob-$cell', 'ssh-ed25519 AAAAbob$cell bob@ci', datetime('now'));
    INSERT INTO instance_extra (instance_uuid, flavor, created_at)
      SELECT uuid, 'm1.small', datetime('now') FROM instances WHERE uuid IN ('seed-$cell-010', 'seed-$cell-011', 'seed-$cell-012');
    INSERT INTO instance_groups (uuid, name, user_id, project_id, policy, created_at)
      VALUES ('group-$cell-web', 'web', 'u-alice', 'p-web', 'anti-affinity', datetime('now'));
    INSERT INTO instance_group_member (group_id, instance_uuid, created_at)
      SELECT (SELECT id FROM instance_groups WHERE uuid = 'group-$cell-web'), uuid, datetime('now')
      FROM instances WHERE uuid IN ('seed-$cell-010', 'seed-$cell-011', 'seed-$cell-012');
    INSERT INTO pci_devices (compute_node_id, address, vendor_id, product_id, dev_type, status, created_at)
      SELECT id, '0000:81:00.' || k, '8086', '1520', 'type-VF', 'available', datetime('now')
      FROM compute_nodes, (SELECT 1 AS k UNION ALL SELECT 2) WHERE deleted = 0;"
done
expect "instances in cell1" "$(sql cell1.db 'SELECT count(*) FROM instances')" 41
expect "credentials in api" "$(sql api.db 'SELECT count(*) FROM credentials')" 3
credentials_before=3

step "Where each database stands: the new release needs versions 002-010"
status_code=0
run status --check || status_code=$?
expect "tandem status --check (2 = expand needed)" "$status_code" 2

# ---------------------------------------------------------------------------------
step "Rolling window opens: tandem expand (new columns, sync and forbid triggers)"
run expand --no-progress
expect "instances.compute_id exists in cell1" \
  "$(sql cell1.db "SELECT count(*) FROM pragma_table_info('instances') WHERE name = 'compute_id'")" 1
expect "tandem triggers in api" "$(sql api.db "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'tandem_%'")" 7

step "Both releases run side by side: two writer loops start (old: node / project_id, new: compute_id)"
rm -f stop-writers
# The old release knows nothing of compute_id or domain_id.
(
  set -e
  i=0
  while [ ! -e stop-writers ]; do
    i=$((i + 1))
    for cell in 1 2; do
      node=node$cell-$([ $((i % 2)) -eq 0 ] && echo a || echo b)
      other=node$cell-$([ $((i % 2)) -eq 0 ] && echo b || echo a)
      sql cell$cell.db "
        INSERT INTO instances (uuid, project_id, user_id, host, node, vm_state, created_at)
          VALUES (printf('old-$cell-%04d', $i), 'p-web', 'u-alice', 'host', '$node', 'building', datetime('now'));
        -- a live migration, as the old release records it: only the node name changes
        UPDATE instances SET node = '$other', updated_at = datetime('now')
          WHERE uuid = printf('old-$cell-%04d', $((i - 1)));"
    done
    project=$([ $((i % 2)) -eq 0 ] && echo p-web || echo p-ops)
    sql api.db "INSERT INTO assignments (actor_id, project_id, role) VALUES ('u-old-$i', '$project', 'member');"
    sleep 0.05
  done
) >old-writer.log 2>&1 &
writer_pids+=($!)
# The new release writes compute_id only, and both project_id and domain_id.
(
  set -e
  i=0
  while [ ! -e stop-writers ]; do
    i=$((i + 1))
    for cell in 1 2; do
      sql cell$cell.db "
        INSERT INTO instances (uuid, project_id, user_id, host, compute_id, vm_state, created_at)
          VALUES (printf('new-$cell-%04d', $i), 'p-ops', 'u-bob', 'host',
                  (SELECT id FROM compute_nodes WHERE uuid = 'cn-$cell-$([ $((i % 2)) -eq 0 ] && echo a || echo b)'),
                  'building', datetime('now'));
        -- a live migration, as the new release records it: only compute_id changes
        UPDATE instances SET compute_id = (SELECT id FROM compute_nodes WHERE uuid = 'cn-$cell-a'), updated_at = datetime('now')
          WHERE uuid = printf('new-$cell-%04d', $((i - 1)));"
    done
    sql api.db "INSERT INTO assignments (actor_id, project_id, domain_id, role) VALUES ('u-new-$i', 'p-ops', 'd-corp', 'member');"
    sleep 0.05
  done
) >new-writer.log 2>&1 &
writer_pids+=($!)
# Each release says it runs: a sidecar heartbeats into tandem_releases of every database.
latest=$(cd "$root/expand_repo" && ls | tail -n 1 | cut -c1-3)
"$tandem" release register --service demo-app --release 1 --instance old-release --ttl 3 --every 1 \
  >old-heartbeat.log 2>&1 &
old_heartbeat=$!
heartbeat_pids+=($old_heartbeat)
"$tandem" release register --service demo-app --release "$((10#$latest))" --instance new-release --ttl 3 --every 1 \
  >new-heartbeat.log 2>&1 &
heartbeat_pids+=($!)
sleep 2
run release list

step "The triggers mirror each release's writes into the other's columns"
echo "   instances written by the old release (node only) in cell1:"
show cell1.db "SELECT uuid, node AS \"node (written)\", compute_id AS \"compute_id (trigger)\"
               FROM instances WHERE uuid LIKE 'old-%' ORDER BY id DESC LIMIT 4"
echo "   instances written by the new release (compute_id only) in cell1:"
show cell1.db "SELECT uuid, compute_id AS \"compute_id (written)\", node AS \"node (trigger)\"
               FROM instances WHERE uuid LIKE 'new-%' ORDER BY id DESC LIMIT 4"
echo "   assignments written by the old release (project_id only):"
show api.db "SELECT actor_id, project_id AS \"project_id (written)\", domain_id AS \"domain_id (trigger)\"
             FROM assignments WHERE actor_id LIKE 'u-old-%' ORDER BY id DESC LIMIT 4"
# A row agrees when compute_id is the live node named by `node` and node is the
# hypervisor hostname of compute_id's node.
mismatched_instances="
  SELECT count(*) FROM instances i
  WHERE (i.uuid LIKE 'old-%' OR i.uuid LIKE 'new-%')
    AND (i.compute_id IS NOT (SELECT id FROM compute_nodes c WHERE c.hypervisor_hostname = i.node AND c.deleted = 0)
         OR i.node IS NOT (SELECT hypervisor_hostname FROM compute_nodes c WHERE c.id = i.compute_id))"
for cell in 1 2; do
  expect "old-release instances in cell$cell with compute_id filled" \
    "$(sql cell$cell.db "SELECT count(*) >= 3 FROM instances WHERE uuid LIKE 'old-%' AND compute_id IS NOT NULL")" 1
  expect "new-release instances in cell$cell with node filled" \
    "$(sql cell$cell.db "SELECT count(*) >= 3 FROM instances WHERE uuid LIKE 'new-%' AND node IS NOT NULL")" 1
  expect "instances in cell$cell whose node and compute_id disagree" "$(sql cell$cell.db "$mismatched_instances")" 0
done
mismatched_assignments="
  SELECT count(*) FROM assignments a
  WHERE a.domain_id IS NOT (SELECT domain_id FROM projects p WHERE p.id = a.project_id)"
expect "old-release assignments with domain_id filled" \
  "$(sql api.db "SELECT count(*) >= 3 FROM assignments WHERE actor_id LIKE 'u-old-%' AND domain_id IS NOT NULL")" 1
expect "assignments written since expand whose domain_id is wrong" \
  "$(sql api.db "$mismatched_assignments AND (a.actor_id LIKE 'u-old-%' OR a.actor_id LIKE 'u-new-%')")" 0
expect "assignments from before expand, waiting for migrate" \
  "$(sql api.db "SELECT count(*) FROM assignments WHERE domain_id IS NULL")" 3

step "Credentials are read-only during the window: a write is refused"
printf '   %s\n' "\$ sqlite3 api.db \"INSERT INTO credentials ... VALUES ('cred-4', ...)\""
if refused=$(sql api.db "INSERT INTO credentials (id, user_id, type, encrypted_blob, key_hash)
                         VALUES ('cred-4', 'u-alice', 'ec2', 'blob-new', 'key-v1');" 2>&1); then
  fail "the INSERT into credentials was accepted"
fi
printf '   %s\n' "$refused"
case "$refused" in
  *"credentials are read-only while the upgrade re-encrypts them"*) ok "refused with the forbid_writes message" ;;
  *) fail "the INSERT failed, but not with the forbid_writes message" ;;
esac
if sql api.db "UPDATE credentials SET encrypted_blob = 'tampered' WHERE id = 'cred-1';" 2>/dev/null; then
  fail "the UPDATE of credentials was accepted"
fi
ok "an UPDATE is refused too"
expect "credentials in api" "$(sql api.db 'SELECT count(*) FROM credentials')" "$credentials_before"

step "tandem migrate: backfill compute_id and domain_id, re-encrypt credentials (the writers keep going)"
run migrate --no-progress
for cell in 1 2; do
  expect "instances in cell$cell still without compute_id (only the one on a deleted node)" \
    "$(sql cell$cell.db "SELECT group_concat(uuid) FROM instances WHERE compute_id IS NULL")" "seed-$cell-orphan"
done
expect "assignments without domain_id" "$(sql api.db "SELECT count(*) FROM assignments WHERE domain_id IS NULL")" 0
expect "credentials re-encrypted into encrypted_blob_v2" \
  "$(sql api.db "SELECT count(*) FROM credentials WHERE encrypted_blob_v2 = 'v2:' || encrypted_blob")" "$credentials_before"

step "Key pairs and server groups moved from the cells to the api database; PCI devices got uuids"
show api.db "SELECT user_id, name FROM key_pairs ORDER BY id"
expect "key pairs in api (alice-laptop, in both cells, once)" "$(sql api.db 'SELECT count(*) FROM key_pairs')" 3
expect "server groups / policies / members in api" \
  "$(sql api.db "SELECT (SELECT count(*) FROM instance_groups) || ' / ' || (SELECT count(*) FROM instance_group_policy) ||
                        ' / ' || (SELECT count(*) FROM instance_group_member)")" "2 / 2 / 6"
for cell in 1 2; do
  expect "cell$cell: live key pairs / group members left, PCI devices without uuid" \
    "$(sql cell$cell.db "SELECT (SELECT count(*) FROM key_pairs WHERE deleted = 0) || ' / ' ||
                                (SELECT count(*) FROM instance_group_member WHERE deleted = 0) || ' / ' ||
                                (SELECT count(*) FROM pci_devices WHERE uuid IS NULL)")" "0 / 0 / 0"
done
expect "cell1: instance_extra.keypairs of seed-1-010" \
  "$(sql cell1.db "SELECT keypairs FROM instance_extra WHERE instance_uuid = 'seed-1-010'")" \
  '[{"name": "alice-laptop", "user_id": "u-alice", "type": "ssh", "fingerprint": "fp-alice", "public_key": "ssh-ed25519 AAAAalice alice@laptop"}]'

step "Contract while the old release still runs is refused: it would drop what the old release reads"
status_code=0
run status --check >/dev/null || status_code=$?
expect "tandem status --check (contract due, an older release runs)" "$status_code" 5
if run contract --no-progress; then fail "contract ran while release 001 was heartbeating"; fi
ok "contract refused, nothing contracted"
expect "tandem triggers still in api" "$(sql api.db "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'tandem_%'")" 7

step "The old release is gone: the writers stop, its heartbeat stops"
sleep 1  # until the last old-release server is stopped its writes keep going through the triggers
stop_writers
kill "$old_heartbeat"
wait "$old_heartbeat" || true
heartbeat_pids=("${heartbeat_pids[@]/$old_heartbeat/}")
sleep 4  # its row goes stale once its ttl (3 s) has passed
status_code=0
run status --check >/dev/null || status_code=$?
expect "tandem status --check (the old release's row is stale)" "$status_code" 4
for pid in "${writer_pids[@]}"; do
  wait "$pid" || { cat old-writer.log new-writer.log >&2; fail "a writer loop failed: some write was refused or timed out"; }
done
writer_pids=()
ok "no write failed or timed out while tandem ran"
for cell in 1 2; do
  written=$(sql cell$cell.db "SELECT count(*) FROM instances WHERE uuid LIKE 'old-%' OR uuid LIKE 'new-%'")
  ok "cell$cell: $written instances written by the two releases during the window"
  mismatched=$(sql cell$cell.db "SELECT count(*) FROM instances i WHERE i.compute_id IS NOT
                 (SELECT id FROM compute_nodes c WHERE c.hypervisor_hostname = i.node AND c.deleted = 0)")
  expect "instances in cell$cell whose compute_id does not match node" "$mismatched" 0
done
expect "assignments whose domain_id does not match the project" "$(sql api.db "$mismatched_assignments")" 0

step "Rolling window closes: tandem contract (triggers dropped, old credential columns removed)"
run contract --no-progress || fail "contract failed"
for db in api cell1 cell2; do
  expect "tandem triggers left in $db" "$(sql $db.db "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")" 0
done
expect "credentials columns" \
  "$(sql api.db "SELECT group_concat(name, ',') FROM pragma_table_info('credentials')")" \
  "id,user_id,project_id,type,encrypted_blob,key_hash"
expect "credentials now re-encrypted" \
  "$(sql api.db "SELECT count(*) FROM credentials WHERE encrypted_blob LIKE 'v2:%' AND key_hash IS NOT NULL")" \
  "$credentials_before"
expect "assignments.domain_id is NOT NULL" \
  "$(sql api.db "SELECT \"notnull\" FROM pragma_table_info('assignments') WHERE name = 'domain_id'")" 1
sql api.db "INSERT INTO credentials (id, user_id, type, encrypted_blob, key_hash)
            VALUES ('cred-4', 'u-alice', 'ec2', 'v2:blob-new', 'key-v2');"
ok "credentials accept writes again"

step "Every database is up to date"
status_code=0
run status --check || status_code=$?
expect "tandem status --check" "$status_code" 0

step "Housekeeping: three instances per cell are deleted (soft: deleted = id); tandem archive moves them to the shadow tables"
for cell in 1 2; do
  gone="'seed-$cell-001', 'seed-$cell-002', 'seed-$cell-003'"
  # Nova-style: the instance's metadata is soft-deleted with it; its instance_extra row
  # is not, and moves only because it references the instance.
  sql cell$cell.db "
    INSERT INTO instance_metadata (instance_uuid, key, value, created_at)
      SELECT uuid, k.key, 'v', datetime('now') FROM instances, (SELECT 'role' AS key UNION ALL SELECT 'owner') k
      WHERE uuid IN ($gone, 'seed-$cell-004');
    INSERT INTO instance_extra (instance_uuid, flavor, created_at)
      SELECT uuid, 'm1.small', datetime('now') FROM instances WHERE uuid IN ($gone, 'seed-$cell-004');
    UPDATE instances SET deleted = id, deleted_at = datetime('now'), vm_state = 'deleted' WHERE uuid IN ($gone);
    UPDATE instance_metadata SET deleted = id, deleted_at = datetime('now') WHERE instance_uuid IN ($gone);"
done
archive_code=0
run archive --verbose || archive_code=$?
expect "tandem archive exit code (1 = rows archived)" "$archive_code" 1
for cell in 1 2; do
  expect "cell$cell: instances / metadata / extra rows in the shadow tables" \
    "$(sql cell$cell.db "SELECT (SELECT count(*) FROM shadow_instances) || ' / ' ||
                                (SELECT count(*) FROM shadow_instance_metadata) || ' / ' ||
                                (SELECT count(*) FROM shadow_instance_extra)")" "3 / 6 / 3"
  expect "cell$cell: soft-deleted instances left / metadata and extra rows of the live seed-$cell-004" \
    "$(sql cell$cell.db "SELECT (SELECT count(*) FROM instances WHERE deleted <> 0) || ' / ' ||
                                (SELECT count(*) FROM instance_metadata WHERE instance_uuid = 'seed-$cell-004') || ' / ' ||
                                (SELECT count(*) FROM instance_extra WHERE instance_uuid = 'seed-$cell-004')")" "0 / 2 / 1"
done
archive_code=0
run archive || archive_code=$?
expect "tandem archive again (0 = nothing archived)" "$archive_code" 0

step "What cell1 ran"
run history --cell cell1

printf '\n%sDemo finished in %ds: a rolling upgrade from 001 to 010 with both releases writing.%s\n' \
  "$green" "$((SECONDS - started))" "$reset"
