#!/usr/bin/env bash
# A private three-node MariaDB Galera cluster for tests, in a directory of
# its own, set up by sql/install.sh as a user would.
#
#   tests/harness/galera.sh start DIR [--backend local|vault]
#   tests/harness/galera.sh stop DIR
#   tests/harness/galera.sh kill DIR N      # kill -9 node N (1, 2 or 3)
#
# start leaves:
#   DIR/nN/          node N: data/, mysql.sock, error.log, mariadbd.pid
#   DIR/nN/admin.cnf root on node N (its socket)
#   DIR/admin.cnf    root over TCP to node 1 (what install.sh copied)
#   DIR/ports        the three nodes' SQL ports, one a line
#   DIR/vaultctl.cnf the tools' configuration (accounts '...'@'127.0.0.1'),
#                    with its key files DIR/vaultctl.cnf.key (local store)
#                    and DIR/vaultctl.cnf.audit.key
#   DIR/vaultctl.cnf.admin          the administrative account (admin_config)
#   DIR/vaultctl.cnf.vault-storage  with --backend vault, Vault's storage account
#
# Every node listens on 127.0.0.1 only, on ports of its own: SQL,
# group communication (gmcast.listen_addr), incremental state transfer
# (ist.recv_addr) and rsync state transfer (--wsrep-sst-receive-address).
# Started by root, the servers run as the mysql user: rsync state transfer
# fails as root ("Permission denied").  Started by anyone else, they run as
# that user.  Nothing from /etc/mysql is read.  Needs Debian's galera-4 and
# rsync.  The cluster is synced in about 10 s; start gives up after
# $VC_GALERA_TIMEOUT seconds (90) and shows the nodes' logs.
set -euo pipefail

prog=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
provider=/usr/lib/galera/libgalera_smm.so
# As root, the servers run as mysql; otherwise as the caller.
if ((EUID == 0)); then
	run_as=mysql
	as_user=(--user=mysql)
else
	run_as=$(id -un)
	as_user=()
fi
sync_timeout=${VC_GALERA_TIMEOUT:-90}

die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }

usage() {
	cat <<EOF
usage: $prog start DIR [--backend local|vault]
       $prog stop DIR
       $prog kill DIR N
EOF
}

# pid_alive PID: true while the process exists and is not a zombie.
pid_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ $stat != Z* ]]
}

# Ports that nothing listens on now, distinct from each other and from
# those already handed out in this run (TAKEN).  Another program may take
# one before our server binds: start notices and tries again.
TAKEN=" "
pick_port() {
	local port
	for _ in $(seq 1 100); do
		port=$((20000 + RANDOM % 20000))
		[[ $TAKEN == *" $port "* ]] && continue
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			TAKEN+="$port "
			printf '%s\n' "$port"
			return 0
		fi
	done
	die "no free TCP port found"
}

log_tail() {
	printf '%s: last lines of %s:\n' "$prog" "$1" >&2
	tail -n 40 "$1" >&2 2>/dev/null || true
}

# node_sql N SQL: one value from node N, as root over its socket.
node_sql() {
	mariadb --defaults-file="$dir/n$1/admin.cnf" -N -B -e "$2" 2>/dev/null
}

node_status() {
	node_sql "$1" "SHOW GLOBAL STATUS LIKE '$2'" | cut -f2
}

# start_node N BOOTSTRAP: starts node N in the background with fresh
# ports; the cluster address names the group ports of the nodes before it.
start_node() {
	local n=$1 boot=$2 nd=$dir/n$1 peers="" addr pid extra=()
	P[$n]=$(pick_port) G[$n]=$(pick_port) I[$n]=$(pick_port) S[$n]=$(pick_port)
	if ((boot)); then
		addr=gcomm://
		extra=(--wsrep-new-cluster)
	else
		for ((k = 1; k < n; k++)); do peers+=${peers:+,}127.0.0.1:${G[$k]}; done
		addr=gcomm://$peers
	fi
	: >"$nd/error.log"
	((EUID)) || chown "$run_as:" "$nd/error.log"
	# fd 3 closed: bats waits for every holder of its fd 3 to exit.
	mariadbd --no-defaults "${as_user[@]}" --datadir="$nd/data" \
		--socket="$nd/mysql.sock" --port="${P[$n]}" --bind-address=127.0.0.1 \
		--pid-file="$nd/mariadbd.pid" --log-error="$nd/error.log" \
		--skip-name-resolve --max-allowed-packet=64M \
		--innodb-buffer-pool-size=64M --innodb-log-file-size=48M \
		--innodb-flush-log-at-trx-commit=2 \
		--binlog-format=ROW --innodb-autoinc-lock-mode=2 \
		--default-storage-engine=InnoDB \
		--wsrep-on=ON --wsrep-provider="$provider" \
		--wsrep-cluster-name=vaultctl-test --wsrep-cluster-address="$addr" \
		--wsrep-node-name="n$n" --wsrep-node-address="127.0.0.1:${G[$n]}" \
		--wsrep-node-incoming-address="127.0.0.1:${P[$n]}" \
		--wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:${G[$n]};ist.recv_addr=127.0.0.1:${I[$n]};gcache.size=64M" \
		--wsrep-sst-method=rsync \
		--wsrep-sst-receive-address="127.0.0.1:${S[$n]}" \
		--wsrep-slave-threads=2 \
		"${extra[@]}" \
		</dev/null >"$nd/mariadbd.out" 2>&1 3>&- &
	pid=$!
	printf '%s\n' "$pid" >"$nd/mariadbd.pid.start"
	printf '%s\n' "${P[$n]}" >"$nd/port"
	printf '[client]\nsocket=%s\nuser=root\n' "$nd/mysql.sock" >"$nd/admin.cnf"
}

node_pid() { cat "$dir/n$1/mariadbd.pid.start" 2>/dev/null; }

# wait_synced N...: until every node listed answers, sees a cluster of
# three and says Synced; a node that exits with a port taken (its own, or
# its SST's) is started again on other ports.
wait_synced() {
	local deadline=$((SECONDS + sync_timeout)) n pending
	while :; do
		pending=""
		for n in "$@"; do
			if ! pid_alive "$(node_pid "$n")"; then
				# The rsync daemon of a joiner's SST dies the same way
				# when its port was taken since pick_port chose it.
				if grep -qiE 'bind on tcp/ip port|address already in use|rsync or stunnel daemon .*terminated unexpectedly' \
					"$dir/n$n/error.log" && ((retries[n]++ < 3)); then
					start_node "$n" "$((n == 1 && boot_pending))"
					pending+=" $n"
					continue
				fi
				log_tail "$dir/n$n/error.log"
				die "node $n exited during start"
			fi
			if [[ $(node_status "$n" wsrep_local_state_comment) != Synced ||
				$(node_status "$n" wsrep_cluster_size) != "$want_size" ]]; then
				pending+=" $n"
			fi
		done
		[[ -z $pending ]] && return 0
		if ((SECONDS >= deadline)); then
			for n in $pending; do log_tail "$dir/n$n/error.log"; done
			die "node(s)$pending not synced within $sync_timeout s"
		fi
		sleep 0.2
	done
}

cmd_start() {
	local backend=local out n pw
	dir=$1
	shift
	if (($#)); then
		[[ $# == 2 && $1 == --backend ]] || { usage >&2; exit 2; }
		backend=$2
	fi
	[[ -x $provider ]] || [[ -f $provider ]] ||
		die "no Galera provider at $provider (apt-get install galera-4 rsync)"
	command -v rsync >/dev/null || die "rsync is missing (apt-get install rsync)"
	id "$run_as" >/dev/null 2>&1 || die "no '$run_as' user to run the servers as"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	for n in 1 2 3; do
		[[ -f $dir/n$n/mariadbd.pid.start ]] && pid_alive "$(node_pid "$n")" &&
			die "a node already runs in $dir"
	done
	# sun_path holds 108 bytes, NUL included.
	((${#dir} + 16 < 108)) || die "directory path too long for sockets: $dir"
	# The servers run as $run_as: they must reach their own directories
	# (mktemp -d makes DIR 0700).  The rest of DIR stays private.
	chmod 0711 "$dir"
	for n in 1 2 3; do
		mkdir -p "$dir/n$n/data"
		((EUID)) || chown -R "$run_as:" "$dir/n$n"
		chmod 0750 "$dir/n$n"
	done
	if [[ ! -d $dir/n1/data/mysql ]]; then
		if ! mariadb-install-db --no-defaults "${as_user[@]}" \
			--datadir="$dir/n1/data" --auth-root-authentication-method=normal \
			>"$dir/install-db.log" 2>&1; then
			log_tail "$dir/install-db.log"
			die "mariadb-install-db failed"
		fi
	fi

	declare -gA P=() G=() I=() S=() retries=([1]=0 [2]=0 [3]=0)
	local t0=$SECONDS
	boot_pending=1 want_size=1
	start_node 1 1
	wait_synced 1
	boot_pending=0
	# Both joiners at once: the donor serves one state transfer at a time,
	# the other joiner retries every second until it may.
	start_node 2 0
	start_node 3 0
	want_size=3
	wait_synced 1 2 3
	printf '%s\n' "${P[1]}" "${P[2]}" "${P[3]}" >"$dir/ports"

	# install.sh copies where to connect from this file: TCP to node 1,
	# so that the tools' accounts are '...'@'127.0.0.1' (the servers skip
	# name resolution: a TCP client on loopback is 127.0.0.1, never
	# localhost) and VAULTCTL_DB_HOSTS can name any node.
	# Over TCP, root has a password (any local user can reach the port).
	pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
	node_sql 1 "CREATE OR REPLACE USER 'root'@'127.0.0.1' IDENTIFIED BY '$pw';
		GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION" ||
		die "cannot create root@127.0.0.1"
	(umask 077 && printf '[client]\nhost=127.0.0.1\nport=%s\nuser=root\npassword=%s\n' \
		"${P[1]}" "$pw" >"$dir/admin.cnf")
	if ! out=$("$repo/sql/install.sh" --defaults-file "$dir/admin.cnf" \
		--account-host 127.0.0.1 --backend "$backend" \
		--config-out "$dir/vaultctl.cnf" 2>&1); then
		printf '%s\n' "$out" >&2
		die "sql/install.sh failed (the cluster in $dir is still running)"
	fi
	printf '%s: cluster of 3 synced in %d s, ports %s %s %s\n' "$prog" \
		$((SECONDS - t0)) "${P[1]}" "${P[2]}" "${P[3]}" >&2
}

# stop_node N: shutdown, then kill -9 after 20 s.
stop_node() {
	local n=$1 pid
	pid=$(node_pid "$n") || return 0
	[[ $pid =~ ^[0-9]+$ ]] || die "bad pid file $dir/n$n/mariadbd.pid.start"
	pid_alive "$pid" || return 0
	mariadb-admin --defaults-file="$dir/n$n/admin.cnf" --connect-timeout=2 \
		shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 200); do
		pid_alive "$pid" || return 0
		sleep 0.1
	done
	printf '%s: node %d (pid %s) did not stop within 20 s, killing it\n' \
		"$prog" "$n" "$pid" >&2
	kill -9 "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		pid_alive "$pid" || return 0
		sleep 0.1
	done
}

cmd_stop() {
	dir=$1
	[[ -d $dir ]] || return 0
	# The joiners first: the last one down is the one with the newest
	# state (safe_to_bootstrap), as an operator would do it.
	stop_node 3 & local a=$!
	stop_node 2 & local b=$!
	wait "$a" "$b" || true
	stop_node 1
}

cmd_kill() {
	local pid
	dir=$1
	[[ $2 =~ ^[123]$ ]] || die "node must be 1, 2 or 3, not '$2'"
	pid=$(node_pid "$2") || die "no node $2 in $dir"
	pid_alive "$pid" || die "node $2 is not running"
	kill -9 "$pid"
	for _ in $(seq 1 50); do
		pid_alive "$pid" || return 0
		sleep 0.1
	done
	die "node $2 (pid $pid) survived kill -9"
}

case ${1:-} in
-h | --help) usage; exit 0 ;;
start)
	(($# == 2 || $# == 4)) || { usage >&2; exit 2; }
	shift
	cmd_start "$@"
	;;
stop)
	(($# == 2)) || { usage >&2; exit 2; }
	cmd_stop "$2"
	;;
kill)
	(($# == 3)) || { usage >&2; exit 2; }
	cmd_kill "$2" "$3"
	;;
*) usage >&2; exit 2 ;;
esac
