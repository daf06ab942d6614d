#!/usr/bin/env bash
# A real 3-node MariaDB Galera cluster on 127.0.0.1, for the cluster tests and
# for trying the product on one by hand. Each node is a plain mariadbd process
# with its own folder, SQL port and Galera ports; node 1 bootstraps the cluster
# (--wsrep-new-cluster) and nodes 2 and 3 join it, copying its data by rsync
# (State Snapshot Transfer). Stopped by PID, never through the system's service:
# the machine's own MariaDB on 3306 keeps running.
#
#   galera.sh start DIR [SQL_BASE [GALERA_BASE]]   start nodes 1-3 (prints the SQL ports)
#   galera.sh stop DIR                             stop every node that runs, delete nothing
#   galera.sh kill DIR N                           SIGKILL node N (a crash)
#   galera.sh restart DIR N                        node N rejoins (a full rsync copy after a crash)
#   galera.sh status DIR                           wsrep state of each node
#   galera.sh clean DIR                            stop, then delete DIR
#
# Ports: node N serves SQL on SQL_BASE+N (default 3310+N) and uses
# GALERA_BASE+10N (group communication), +1 (incremental transfer) and +2
# (rsync snapshot transfer); GALERA_BASE defaults to 4560. Needs galera-4,
# mariadb-server and rsync (Debian: apt-get install galera-4 rsync).
set -euo pipefail

provider=${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}
mariadbd=${MARIADBD:-/usr/sbin/mariadbd}

usage () { sed -n '9,14p' "$0" >&2; exit 2; }

[ $# -ge 2 ] || usage
cmd=$1
dir=$(realpath -m "$2")

node_pid () {
  local file="$dir/node$1/pid"
  [ -s "$file" ] || return 1
  local pid
  pid=$(cat "$file")
  alive "$pid" || return 1
  echo "$pid"
}

# A process that exists and is no zombie (an unreaped dead server is not running).
alive () { [ -r "/proc/$1/status" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2> /dev/null; }

sql () { mariadb --no-defaults -uroot -h127.0.0.1 -P"$1" -N -B -e "$2" 2> /dev/null; }

# One option file per node, so a developer can read what it runs with.
write_config () {
  local n=$1 sql_port=$2 galera_base=$3
  local g=$((galera_base + 10 * n))
  local members="gcomm://127.0.0.1:$((galera_base + 10)),127.0.0.1:$((galera_base + 20)),127.0.0.1:$((galera_base + 30))"
  local user_line=''
  # Run as root, a node runs as mysql, as Debian's service does: the rsync
  # daemon a joiner starts for its snapshot would otherwise drop to "nobody"
  # and could not write into root's folders.
  [ "$(id -u)" = 0 ] && user_line='user=mysql'
  mkdir -p "$dir/node$n/data"
  cat > "$dir/node$n/my.cnf" <<EOF
[mariadbd]
$user_line
datadir=$dir/node$n/data
socket=$dir/node$n/sock
pid-file=$dir/node$n/mariadbd.pid
log-error=$dir/node$n/error.log
port=$sql_port
bind-address=127.0.0.1
skip-grant-tables
skip-name-resolve
skip-log-bin
performance-schema=OFF
max-connections=300
innodb-buffer-pool-size=32M
innodb-log-file-size=16M
# Containers often forbid io_setup; plain I/O is plenty for a test.
innodb-use-native-aio=0
# Galera's requirements: row events, InnoDB, interleaved auto-increment locks.
binlog-format=ROW
default-storage-engine=InnoDB
innodb-autoinc-lock-mode=2
# A test cluster: durability comes from the other nodes, not from fsync.
innodb-flush-log-at-trx-commit=0
wsrep-on=ON
wsrep-provider=$provider
wsrep-cluster-name=chat-test
wsrep-cluster-address=$members
wsrep-node-name=node$n
wsrep-node-address=127.0.0.1:$g
wsrep-sst-method=rsync
wsrep-sst-receive-address=127.0.0.1:$((g + 2))
wsrep-provider-options="base_port=$g;ist.recv_addr=127.0.0.1:$((g + 1));gcache.size=32M;pc.wait_prim_timeout=PT30S"
wsrep-slave-threads=2
EOF
}

# Waits until node N answers SQL and is a synced member of the primary component.
wait_synced () {
  local n=$1 port=$2 state
  for _ in $(seq 1 600); do
    if ! node_pid "$n" > /dev/null; then
      echo "galera: node $n exited while starting; its log:" >&2
      tail -40 "$dir/node$n/error.log" >&2
      return 1
    fi
    state=$(sql "$port" "SHOW STATUS LIKE 'wsrep_local_state_comment'" | cut -f2 || true)
    [ "$state" = Synced ] && return 0
    sleep 0.1
  done
  echo "galera: node $n did not reach Synced (state: ${state:-none}); its log:" >&2
  tail -40 "$dir/node$n/error.log" >&2
  return 1
}

start_node () {
  local n=$1 port=$2 extra=${3:-}
  # A stale pid file from a killed node must not be taken for the new process.
  rm -f "$dir/node$n/pid"
  # setsid: the node outlives this script and is stopped by its PID alone.
  # shellcheck disable=SC2086
  setsid "$mariadbd" --defaults-file="$dir/node$n/my.cnf" $extra < /dev/null >> "$dir/node$n/error.log" 2>&1 &
  # Without job control the background child is no group leader, so setsid
  # does not fork: $! is the server itself.
  echo $! > "$dir/node$n/pid"
  wait_synced "$n" "$port"
}

# SIGTERM (a clean shutdown, a second or two), SIGKILL past 20 s.
stop_nodes () {
  local pids=() pid running
  for n in "$@"; do
    if pid=$(node_pid "$n"); then kill -TERM "$pid"; pids+=("$pid"); fi
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  for _ in $(seq 1 200); do
    running=0
    for pid in "${pids[@]}"; do alive "$pid" && running=1; done
    [ $running = 0 ] && return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2> /dev/null || true; done
}

case $cmd in
  start)
    sql_base=${3:-3310}
    galera_base=${4:-4560}
    [ -x "$mariadbd" ] || { echo "galera: $mariadbd not found (apt-get install mariadb-server)" >&2; exit 3; }
    [ -f "$provider" ] || { echo "galera: $provider not found (apt-get install galera-4)" >&2; exit 3; }
    command -v rsync > /dev/null || { echo "galera: rsync not found (apt-get install rsync)" >&2; exit 3; }
    mkdir -p "$dir"
    for n in 1 2 3; do write_config "$n" $((sql_base + n)) "$galera_base"; done
    echo "$sql_base $galera_base" > "$dir/ports"
    [ "$(id -u)" = 0 ] && chown -R mysql: "$dir"
    if ! node_pid 1 > /dev/null; then
      # Node 1 forms a new cluster. From an empty data folder InnoDB creates
      # its files, skip-grant-tables needs no grant tables, and Galera creates
      # its own tables in an empty mysql folder (mariadb-install-db would take
      # seconds).
      mkdir -p "$dir/node1/data/mysql"
      [ "$(id -u)" = 0 ] && chown mysql: "$dir/node1/data/mysql"
      start_node 1 $((sql_base + 1)) --wsrep-new-cluster
    fi
    # The joiners copy node 1's data by rsync (about 15 s each, mostly the
    # SST scripts' waits), one after the other: a donor serves one transfer at
    # a time, and starting both at once measured slower.
    for n in 2 3; do
      node_pid "$n" > /dev/null || start_node "$n" $((sql_base + n))
    done
    echo "$((sql_base + 1)) $((sql_base + 2)) $((sql_base + 3))"
    ;;
  restart)
    read -r sql_base _ < "$dir/ports"
    n=${3:?node number}
    node_pid "$n" > /dev/null || start_node "$n" $((sql_base + n))
    ;;
  kill)
    n=${3:?node number}
    pid=$(node_pid "$n") || { echo "galera: node $n is not running" >&2; exit 1; }
    kill -KILL "$pid"
    while alive "$pid"; do sleep 0.05; done
    ;;
  stop|clean)
    stop_nodes 1 2 3
    [ "$cmd" = clean ] && rm -rf "$dir"
    ;;
  status)
    read -r sql_base _ < "$dir/ports"
    for n in 1 2 3; do
      if node_pid "$n" > /dev/null; then
        echo "node $n (port $((sql_base + n))): $(sql $((sql_base + n)) "SHOW STATUS WHERE Variable_name IN ('wsrep_local_state_comment','wsrep_cluster_size','wsrep_cluster_status')" | tr '\t\n' '= ')"
      else
        echo "node $n: not running"
      fi
    done
    ;;
  *) usage ;;
esac
