#!/usr/bin/env bash
# Runs COMMAND with a private PostgreSQL server, a private MariaDB server and a private
# 3-node MariaDB Galera cluster, then stops them all and removes their data, whatever
# happens (normal exit, failure, Ctrl-C, SIGTERM, SIGHUP).
#
# Usage: tools/test-servers.sh COMMAND [ARGS...]
#
# All of them live in a fresh temporary folder, listen on 127.0.0.1 only, on free ports,
# with their unix sockets inside that folder: they never touch the system services and two
# runs side by side do not see each other. COMMAND gets, in its environment:
#   TANDEM_TEST_POSTGRESQL_URL=postgresql://tandem:<pw>@127.0.0.1:<port>/postgres
#   TANDEM_TEST_MYSQL_URL=mysql://tandem:<pw>@127.0.0.1:<port>/mysql
#   TANDEM_TEST_GALERA_URLS=mysql://tandem:<pw>@127.0.0.1:<port1>/mysql,...<port2>...,...<port3>...
# All users are superusers (they create and drop scratch databases), with a password, so
# the tests go through real password authentication.
#
# A missing server package is a loud warning (COMMAND runs without that variable), unless
# servers are required (CI=true or TANDEM_REQUIRE_SERVERS=1): then it is an error (exit 1).
# The script exits with COMMAND's exit code (1 when a server fails to start; 128+N on signal N).

# The stop and cleanup functions run from traps, which shellcheck does not follow.
# shellcheck disable=SC2317
set -euo pipefail

readonly start_timeout=60 # seconds to wait for a server to accept connections
readonly port_attempts=5  # a free port can be taken by someone else before the server binds it
readonly max_socket_dir=80 # unix socket paths are limited to 107 bytes

# mariadbd lives in /usr/sbin, which a normal user's PATH may not include (PostgreSQL's
# server programs are found in their versioned folder, see find_postgresql).
PATH=$PATH:/usr/sbin:/sbin

workdir=""
command_pid=""
pg_bin=""
pg_data=""
pg_port=""
my_pid=""
my_port=""
my_install_pid=""
my_started=""
my_user=""
my_dir=""
my_password=""
# Options shared by MariaDB's bootstrap and server: a redo log created at one size and
# opened at another would be resized on every start. Small and not durable, for speed;
# a benchmark on large tables sets TANDEM_TEST_INNODB_BUFFER_POOL and
# TANDEM_TEST_INNODB_LOG_FILE (each server's, each Galera node's) to what a production
# server would have.
readonly innodb_buffer_pool=${TANDEM_TEST_INNODB_BUFFER_POOL:-64M}
readonly innodb_log_file=${TANDEM_TEST_INNODB_LOG_FILE:-16M}
readonly innodb_options=(--innodb-buffer-pool-size="$innodb_buffer_pool" --innodb-log-file-size="$innodb_log_file"
  --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0)
cleaned_up=0

log() { echo "test-servers: $*" >&2; }

die() {
  log "ERROR: $*"
  exit 1
}

servers_required() { [ "${CI:-}" = true ] || [ "${TANDEM_REQUIRE_SERVERS:-}" = 1 ]; }

# A missing server is fatal in CI (the suite would silently skip a dialect), a warning elsewhere.
missing_server() {
  local name=$1 variable=$2 reason=$3
  if servers_required; then
    die "$name test server unavailable: $reason (servers are required: CI=true or TANDEM_REQUIRE_SERVERS=1)"
  fi
  log "################################################################################"
  log "WARNING: $name test server unavailable: $reason"
  log "WARNING: running without $variable: the $name tests will be SKIPPED"
  log "WARNING: install it with tools/install-deps.sh"
  log "################################################################################"
  unset "$variable"
}

# The unprivileged account that runs a server: ourselves, or the Debian package's user
# when we are root (PostgreSQL refuses to run as root; MariaDB should not).
server_user() {
  if [ "$(id -u)" -eq 0 ]; then echo "$1"; else id -un; fi
}

# Sets as_server to the command prefix that runs a program as `user`: setpriv execs it
# directly, so a background server's $! is the server itself (su/runuser would fork).
set_as_server() {
  as_server=()
  [ "$(id -u)" -ne 0 ] || as_server=(setpriv --reuid="$1" --regid="$1" --init-groups --)
}

# Runs a command as the server's account, from a folder that account can enter (initdb and
# pg_ctl complain when the current folder, e.g. /root, is not readable), with its temporary
# files there too (our TMPDIR may be one it cannot write).
as_user() {
  local user=$1 dir=$2 as_server
  shift 2
  set_as_server "$user"
  (cd "$dir" && TMPDIR=$dir exec "${as_server[@]}" "$@")
}

# A folder owned by `user`, private to it, inside the work folder.
make_user_dir() {
  local user=$1 dir=$2
  mkdir -p "$dir"
  chmod 700 "$dir"
  [ "$(id -u)" -ne 0 ] || chown "$user:" "$dir"
}

# True when `name` is an executable file on PATH.
have_program() {
  local path
  path=$(command -v "$1" 2>/dev/null) && [ -f "$path" ] && [ -x "$path" ]
}

# have_programs NAME VARIABLE PACKAGES PROGRAM...: whether every PROGRAM is installed; the
# first that is not is a missing_server of NAME (fatal where servers are required).
have_programs() {
  local name=$1 variable=$2 packages=$3 tool
  shift 3
  for tool in "$@"; do
    if ! have_program "$tool"; then
      missing_server "$name" "$variable" "$tool ($packages) is not installed"
      return 1
    fi
  done
}

random_password() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

# A port nobody listens on now. Another process may still take it before our server binds
# it: callers retry with a new port when the server says the address is in use.
free_port() {
  if have_program python3; then
    python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])" && return
  fi
  local port
  while true; do
    port=$((20000 + RANDOM % 40000))
    # A refused connection means nothing listens there.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

# True while `pid` runs: kill -0 alone also succeeds for a zombie child not yet reaped.
process_alive() {
  local pid=$1 state
  kill -0 "$pid" 2>/dev/null || return 1
  state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != Z ]
}

elapsed_since() { awk -v start="$1" -v now="$(date +%s.%N)" 'BEGIN { printf "%.1f", now - start }'; }

log_tail() {
  local file=$1
  log "last lines of $file:"
  if [ -r "$file" ]; then tail -n 40 "$file" | sed 's/^/    /' >&2; else log "    (no log)"; fi
}

# The work folder. As root, the server accounts must be able to traverse it and its parent,
# and the sockets inside must fit the unix socket path limit: otherwise fall back to /tmp.
make_workdir() {
  local base=${TMPDIR:-/tmp} dir
  [ ${#base} -le $((max_socket_dir - 30)) ] || base=/tmp
  dir=$(mktemp -d "$base/tandem-servers.XXXXXX")
  chmod 711 "$dir"
  if [ "$(id -u)" -eq 0 ] && [ "$base" != /tmp ] &&
    ! setpriv --reuid=nobody --regid=nogroup --clear-groups -- test -x "$dir" 2>/dev/null; then
    rmdir "$dir"
    dir=$(mktemp -d /tmp/tandem-servers.XXXXXX)
    chmod 711 "$dir"
  fi
  echo "$dir"
}

# ---------------------------------------------------------------------------- PostgreSQL

find_postgresql() {
  local dir
  # Debian 12 ships 15; take any other installed major version rather than none.
  for dir in /usr/lib/postgresql/15/bin $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ] && [ -x "$dir/pg_isready" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

start_postgresql() {
  local started user dir password attempt version
  started=$(date +%s.%N)
  if ! pg_bin=$(find_postgresql); then
    missing_server PostgreSQL TANDEM_TEST_POSTGRESQL_URL "package postgresql-15 is not installed"
    return 0
  fi
  if ! have_program psql; then
    missing_server PostgreSQL TANDEM_TEST_POSTGRESQL_URL "psql (package postgresql-client) is not installed"
    return 0
  fi
  user=$(server_user postgres)
  if ! id "$user" >/dev/null 2>&1; then
    missing_server PostgreSQL TANDEM_TEST_POSTGRESQL_URL "user $user does not exist"
    return 0
  fi
  dir=$workdir/postgresql
  make_user_dir "$user" "$dir"
  password=$(random_password)
  # initdb reads the password from a file, so it never shows in ps.
  (umask 077 && echo "$password" >"$dir/password")
  [ "$(id -u)" -ne 0 ] || chown "$user:" "$dir/password"
  # Password authentication everywhere (scram), and settings that trade durability for speed.
  if ! as_user "$user" "$dir" "$pg_bin/initdb" -D "$dir/data" -U tandem --pwfile="$dir/password" \
    -A scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync --no-instructions >"$dir/initdb.log" 2>&1; then
    log_tail "$dir/initdb.log"
    die "PostgreSQL initdb failed"
  fi
  rm -f "$dir/password"
  cat >>"$dir/data/postgresql.conf" <<EOF
# tandem test server: loopback only, sockets in the private folder, fast and not durable.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 200
EOF
  pg_data=$dir/data
  for attempt in $(seq "$port_attempts"); do
    pg_port=$(free_port)
    rm -f "$dir/server.log"
    if as_user "$user" "$dir" "$pg_bin/pg_ctl" -D "$pg_data" -l "$dir/server.log" -o "-p $pg_port" \
      -w -t "$start_timeout" start >"$dir/pg_ctl.log" 2>&1; then
      break
    fi
    if grep -q "Address already in use" "$dir/server.log" 2>/dev/null && [ "$attempt" -lt "$port_attempts" ]; then
      log "PostgreSQL: port $pg_port was taken, retrying with another"
      continue
    fi
    cat "$dir/pg_ctl.log" >&2
    log_tail "$dir/server.log"
    die "PostgreSQL did not start within ${start_timeout}s"
  done
  wait_for_postgresql "$dir"
  version=$("$pg_bin/postgres" --version | awk '{ print $3 }')
  export TANDEM_TEST_POSTGRESQL_URL="postgresql://tandem:$password@127.0.0.1:$pg_port/postgres"
  log "PostgreSQL $version up on 127.0.0.1:$pg_port ($(elapsed_since "$started")s)"
}

# pg_ctl -w has seen the server ready; check it answers on the TCP port the tests use.
wait_for_postgresql() {
  local dir=$1 deadline=$((SECONDS + start_timeout))
  until "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" -t 2; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log_tail "$dir/server.log"
      die "PostgreSQL does not accept connections on 127.0.0.1:$pg_port after ${start_timeout}s"
    fi
    sleep 0.1
  done
}

stop_postgresql() {
  [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ] || return 0
  local user pid
  user=$(server_user postgres)
  pid=$(head -n 1 "$pg_data/postmaster.pid" 2>/dev/null || true)
  # Fast shutdown: the data is thrown away, but a clean stop releases shared memory.
  if ! as_user "$user" "$workdir" "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w -t 30 stop >/dev/null 2>&1; then
    [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
  fi
  log "PostgreSQL on 127.0.0.1:$pg_port stopped"
}

# ------------------------------------------------------------------------------- MariaDB

# The bootstrap (mariadb-install-db, the slow part: seconds on a busy machine) runs in the
# background while PostgreSQL starts; start_mariadb waits for it.
prepare_mariadb() {
  my_started=$(date +%s.%N)
  have_programs MariaDB TANDEM_TEST_MYSQL_URL "package mariadb-server" mariadb-install-db mariadbd mariadb-admin \
    mariadb || return 0
  my_user=$(server_user mysql)
  if ! id "$my_user" >/dev/null 2>&1; then
    missing_server MariaDB TANDEM_TEST_MYSQL_URL "user $my_user does not exist"
    return 0
  fi
  my_dir=$workdir/mariadb
  make_user_dir "$my_user" "$my_dir"
  make_user_dir "$my_user" "$my_dir/tmp"
  my_password=$(random_password)
  # The bootstrap runs with grant tables off, where CREATE USER and GRANT fail: FLUSH
  # PRIVILEGES loads them first. 'localhost' is the socket, '127.0.0.1' the TCP port.
  (umask 077 && cat >"$my_dir/init.sql") <<EOF
FLUSH PRIVILEGES;
CREATE USER 'tandem'@'127.0.0.1' IDENTIFIED BY '$my_password';
GRANT ALL PRIVILEGES ON *.* TO 'tandem'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER 'tandem'@'localhost' IDENTIFIED BY '$my_password';
GRANT ALL PRIVILEGES ON *.* TO 'tandem'@'localhost' WITH GRANT OPTION;
EOF
  [ "$(id -u)" -ne 0 ] || chown "$my_user:" "$my_dir/init.sql"
  # --no-defaults: never read /etc/mysql (the system service's socket, port and data).
  # root@localhost authenticates by unix socket only: no password-less account on TCP.
  as_user "$my_user" "$my_dir" mariadb-install-db --no-defaults --datadir="$my_dir/data" \
    --auth-root-authentication-method=socket --auth-root-socket-user="$my_user" --skip-test-db \
    --skip-name-resolve --extra-file="$my_dir/init.sql" "${innodb_options[@]}" >"$my_dir/install.log" 2>&1 &
  my_install_pid=$!
}

start_mariadb() {
  [ -n "$my_install_pid" ] || return 0
  local user=$my_user dir=$my_dir password=$my_password attempt version as_server status=0
  set_as_server "$user"
  wait "$my_install_pid" || status=$?
  my_install_pid=""
  if [ "$status" -ne 0 ]; then
    log_tail "$dir/install.log"
    die "mariadb-install-db failed"
  fi
  rm -f "$dir/init.sql"
  for attempt in $(seq "$port_attempts"); do
    my_port=$(free_port)
    rm -f "$dir/error.log"
    # Started in the background without job control, the server ignores SIGINT: Ctrl-C
    # reaches COMMAND, and the server is stopped cleanly by our trap. utf8mb4 as in
    # Debian's stock configuration (which --no-defaults skips); fast shutdown=2 skips
    # flushing data that is deleted right after.
    (cd "$dir" && TMPDIR=$dir/tmp exec "${as_server[@]}" mariadbd --no-defaults --datadir="$dir/data" \
      --bind-address=127.0.0.1 --port="$my_port" --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" \
      --log-error="$dir/error.log" --tmpdir="$dir/tmp" --skip-log-bin --skip-name-resolve "${innodb_options[@]}" \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci --innodb-fast-shutdown=2 \
      </dev/null >/dev/null 2>&1) &
    my_pid=$!
    if wait_for_mariadb "$dir" "$password"; then
      break
    fi
    wait "$my_pid" 2>/dev/null || true
    my_pid=""
    if grep -q "Address already in use" "$dir/error.log" 2>/dev/null && [ "$attempt" -lt "$port_attempts" ]; then
      log "MariaDB: port $my_port was taken, retrying with another"
      continue
    fi
    log_tail "$dir/error.log"
    die "MariaDB did not start"
  done
  version=$(MYSQL_PWD=$password mariadb --no-defaults -h 127.0.0.1 -P "$my_port" -u tandem -N -B -e 'SELECT VERSION()')
  export TANDEM_TEST_MYSQL_URL="mysql://tandem:$password@127.0.0.1:$my_port/mysql"
  log "MariaDB $version up on 127.0.0.1:$my_port ($(elapsed_since "$my_started")s)"
}

# Waits until the server answers on its TCP port as `tandem`. Fails when the server exits
# (the caller looks at its log) or when the timeout passes. `mariadb-admin status` rather
# than `ping`, which succeeds without logging in: on a port taken by another server, only
# ours knows the password.
wait_for_mariadb() {
  local dir=$1 password=$2 deadline=$((SECONDS + start_timeout))
  while true; do
    process_alive "$my_pid" || return 1
    if MYSQL_PWD=$password mariadb-admin --no-defaults -h 127.0.0.1 -P "$my_port" -u tandem \
      --connect-timeout=2 status >/dev/null 2>&1; then
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log_tail "$dir/error.log"
      die "MariaDB does not accept connections on 127.0.0.1:$my_port after ${start_timeout}s"
    fi
    sleep 0.1
  done
}

stop_mariadb() {
  [ -n "$my_pid" ] || return 0
  local deadline=$((SECONDS + 30))
  kill -TERM "$my_pid" 2>/dev/null || true
  while process_alive "$my_pid"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      kill -KILL "$my_pid" 2>/dev/null || true
      break
    fi
    sleep 0.05
  done
  wait "$my_pid" 2>/dev/null || true
  log "MariaDB on 127.0.0.1:$my_port stopped"
}

# ------------------------------------------------------------------------ MariaDB Galera

# A 3-node MariaDB Galera cluster (galera-4, rsync SST) in the work folder, loopback only:
# node 1 is bootstrapped from its own mariadb-install-db (in the background, beside the
# single server's), nodes 2 and 3 start empty and receive node 1's data by SST, the tandem
# user included. Each node reads only its own option file (--defaults-file, never
# /etc/mysql), which the SST script reads too.
readonly galera_nodes=3
readonly galera_provider=/usr/lib/galera/libgalera_smm.so
galera_dir=""
galera_password=""
galera_install_pid=""
galera_started=""
galera_pids=()
galera_ports=()

prepare_galera() {
  galera_started=$(date +%s.%N)
  if [ ! -r "$galera_provider" ]; then
    missing_server Galera TANDEM_TEST_GALERA_URLS "$galera_provider (package galera-4) is not installed"
    return 0
  fi
  have_programs Galera TANDEM_TEST_GALERA_URLS "packages rsync, mariadb-server" mariadb-install-db mariadbd mariadb \
    rsync wsrep_sst_rsync my_print_defaults || return 0
  my_user=$(server_user mysql)
  if ! id "$my_user" >/dev/null 2>&1; then
    missing_server Galera TANDEM_TEST_GALERA_URLS "user $my_user does not exist"
    return 0
  fi
  galera_dir=$workdir/galera
  make_user_dir "$my_user" "$galera_dir"
  local node
  for node in $(seq "$galera_nodes"); do
    make_user_dir "$my_user" "$galera_dir/n$node"
    make_user_dir "$my_user" "$galera_dir/n$node/tmp"
    make_user_dir "$my_user" "$galera_dir/n$node/data"
  done
  galera_password=$(random_password)
  (umask 077 && cat >"$galera_dir/init.sql") <<EOF
FLUSH PRIVILEGES;
CREATE USER 'tandem'@'127.0.0.1' IDENTIFIED BY '$galera_password';
GRANT ALL PRIVILEGES ON *.* TO 'tandem'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER 'tandem'@'localhost' IDENTIFIED BY '$galera_password';
GRANT ALL PRIVILEGES ON *.* TO 'tandem'@'localhost' WITH GRANT OPTION;
EOF
  [ "$(id -u)" -ne 0 ] || chown "$my_user:" "$galera_dir/init.sql"
  as_user "$my_user" "$galera_dir" mariadb-install-db --no-defaults --datadir="$galera_dir/n1/data" \
    --auth-root-authentication-method=socket --auth-root-socket-user="$my_user" --skip-test-db \
    --skip-name-resolve --extra-file="$galera_dir/init.sql" "${innodb_options[@]}" \
    >"$galera_dir/install.log" 2>&1 &
  galera_install_pid=$!
}

# Four distinct free ports per node: client, group communication, IST and SST.
galera_pick_ports() {
  local port seen=" "
  galera_ports=()
  while [ ${#galera_ports[@]} -lt $((4 * galera_nodes)) ]; do
    port=$(free_port)
    case $seen in *" $port "*) continue ;; esac
    seen="$seen$port "
    galera_ports+=("$port")
  done
}

galera_port() { echo "${galera_ports[$((4 * ($1 - 1) + $2))]}"; } # node, 0..3

# The node's option file: wsrep with the galera-4 provider, every listener on 127.0.0.1 on
# its own port, a small gcache and InnoDB, and what Galera requires (row binlog format,
# interleaved auto-increment locks).
galera_write_config() {
  local node=$1 dir=$galera_dir/n$1 cluster="" other
  for other in $(seq "$galera_nodes"); do
    cluster="$cluster${cluster:+,}127.0.0.1:$(galera_port "$other" 1)"
  done
  cat >"$dir/my.cnf" <<EOF
[mysqld]
datadir=$dir/data
bind-address=127.0.0.1
port=$(galera_port "$node" 0)
socket=$dir/mysqld.sock
pid-file=$dir/mysqld.pid
log-error=$dir/error.log
tmpdir=$dir/tmp
skip-name-resolve
character-set-server=utf8mb4
collation-server=utf8mb4_general_ci
innodb-buffer-pool-size=$innodb_buffer_pool
innodb-log-file-size=$innodb_log_file
innodb-flush-log-at-trx-commit=0
innodb-doublewrite=0
innodb-fast-shutdown=2
innodb-autoinc-lock-mode=2
binlog-format=ROW
default-storage-engine=InnoDB
wsrep-on=ON
wsrep-provider=$galera_provider
wsrep-cluster-name=tandem-test
wsrep-cluster-address=gcomm://$cluster
wsrep-node-name=n$node
wsrep-node-address=127.0.0.1:$(galera_port "$node" 1)
wsrep-node-incoming-address=127.0.0.1:$(galera_port "$node" 0)
wsrep-sst-method=rsync
wsrep-sst-receive-address=127.0.0.1:$(galera_port "$node" 3)
wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:$(galera_port "$node" 1);ist.recv_addr=127.0.0.1:$(galera_port "$node" 2);gcache.size=32M;gcache.page_size=32M
wsrep-slave-threads=2
EOF
  [ "$(id -u)" -ne 0 ] || chown "$my_user:" "$dir/my.cnf"
}

galera_sql() {
  local node=$1
  shift
  MYSQL_PWD=$galera_password mariadb --no-defaults -h 127.0.0.1 -P "$(galera_port "$node" 0)" -u tandem \
    --connect-timeout=2 -N -B -e "$@"
}

# Starts node N (1 bootstraps a new cluster) and waits until it is Synced. Fails when the
# node exits or the timeout passes; the caller looks at the log.
galera_start_node() {
  local node=$1 dir=$galera_dir/n$1 as_server extra=() deadline state
  set_as_server "$my_user"
  [ "$node" -ne 1 ] || extra=(--wsrep-new-cluster)
  # The SST script and rsync are found on PATH by the server, which runs them.
  (cd "$dir" && TMPDIR=$dir/tmp exec "${as_server[@]}" mariadbd --defaults-file="$dir/my.cnf" "${extra[@]}" \
    </dev/null >/dev/null 2>&1) &
  galera_pids[node]=$!
  deadline=$((SECONDS + start_timeout))
  while true; do
    process_alive "${galera_pids[node]}" || return 1
    state=$(galera_sql "$node" "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null | awk '{ print $2 }') || true
    [ "$state" != Synced ] || return 0
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

start_galera() {
  [ -n "$galera_install_pid" ] || return 0
  local status=0 node attempt urls="" size
  wait "$galera_install_pid" || status=$?
  galera_install_pid=""
  if [ "$status" -ne 0 ]; then
    log_tail "$galera_dir/install.log"
    die "mariadb-install-db failed for the Galera cluster"
  fi
  rm -f "$galera_dir/init.sql"
  for attempt in $(seq "$port_attempts"); do
    galera_pick_ports
    for node in $(seq "$galera_nodes"); do galera_write_config "$node"; done
    status=0
    for node in $(seq "$galera_nodes"); do
      rm -f "$galera_dir/n$node/error.log"
      if ! galera_start_node "$node"; then
        status=$node
        break
      fi
    done
    [ "$status" -ne 0 ] || break
    if grep -q "Address already in use" "$galera_dir/n$status/error.log" 2>/dev/null &&
      [ "$attempt" -lt "$port_attempts" ]; then
      log "Galera: a port of node $status was taken, retrying with others"
      stop_galera
      rm -f "$galera_dir/n1/data/grastate.dat"
      for node in $(seq 2 "$galera_nodes"); do
        rm -rf "${galera_dir:?}/n$node/data" && make_user_dir "$my_user" "$galera_dir/n$node/data"
      done
      continue
    fi
    log_tail "$galera_dir/n$status/error.log"
    die "Galera node $status did not reach Synced within ${start_timeout}s"
  done
  size=$(galera_sql 1 "SHOW STATUS LIKE 'wsrep_cluster_size'" | awk '{ print $2 }')
  [ "$size" = "$galera_nodes" ] || die "Galera cluster has $size nodes, expected $galera_nodes"
  for node in $(seq "$galera_nodes"); do
    urls="$urls${urls:+,}mysql://tandem:$galera_password@127.0.0.1:$(galera_port "$node" 0)/mysql"
  done
  export TANDEM_TEST_GALERA_URLS=$urls
  log "MariaDB Galera cluster of $galera_nodes nodes up on 127.0.0.1:$(galera_port 1 0),$(galera_port 2 0),$(galera_port 3 0) ($(elapsed_since "$galera_started")s)"
}

# Joiners first, then node 1, each by the pid we started; all asked at once, then waited.
stop_galera() {
  [ ${#galera_pids[@]} -gt 0 ] || return 0
  local node pid deadline=$((SECONDS + 30))
  for node in $(seq "$galera_nodes" -1 1); do
    pid=${galera_pids[node]:-}
    [ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null || true
  done
  for node in $(seq "$galera_nodes" -1 1); do
    pid=${galera_pids[node]:-}
    [ -n "$pid" ] || continue
    while process_alive "$pid"; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.05
    done
    wait "$pid" 2>/dev/null || true
  done
  galera_pids=()
  log "Galera cluster stopped"
}

# ------------------------------------------------------------------------------- main

# Runs once, from the EXIT trap (which the signal traps end in): a COMMAND still running
# (we were interrupted) is asked to stop first, then both servers, then the folder goes.
cleanup() {
  [ "$cleaned_up" -eq 0 ] || return 0
  cleaned_up=1
  set +e
  if [ -n "$command_pid" ] && process_alive "$command_pid"; then
    local deadline=$((SECONDS + 10))
    kill -TERM "$command_pid" 2>/dev/null
    while process_alive "$command_pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    kill -KILL "$command_pid" 2>/dev/null
    wait "$command_pid" 2>/dev/null
  fi
  # An interrupted bootstrap is left to finish (seconds): it writes into the folder.
  [ -z "$my_install_pid" ] || wait "$my_install_pid" 2>/dev/null
  [ -z "$galera_install_pid" ] || wait "$galera_install_pid" 2>/dev/null
  stop_postgresql
  stop_mariadb
  stop_galera
  [ -z "$workdir" ] || rm -rf "$workdir"
}

on_signal() {
  local name=$1 number=$2
  log "caught SIG$name: stopping"
  trap - "$name"
  exit $((128 + number))
}

main() {
  if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 64
  fi
  trap cleanup EXIT
  trap 'on_signal INT 2' INT
  trap 'on_signal TERM 15' TERM
  trap 'on_signal HUP 1' HUP
  workdir=$(make_workdir)
  prepare_mariadb
  prepare_galera
  start_postgresql
  start_mariadb
  start_galera
  # COMMAND runs in the background so that a signal reaches our trap at once (bash runs
  # traps only between commands); the subshell restores SIGINT/SIGQUIT, which background
  # jobs otherwise ignore, and keeps our standard input (for interactive use).
  (
    trap - INT QUIT TERM
    exec "$@"
  ) <&0 &
  command_pid=$!
  local status=0
  wait "$command_pid" || status=$?
  command_pid=""
  exit "$status"
}

main "$@"
