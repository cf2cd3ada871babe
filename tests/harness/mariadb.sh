#!/usr/bin/env bash
# A private MariaDB server for tests, in a directory of its own.
#
#   tests/harness/mariadb.sh start DIR   # DIR/data, DIR/mysql.sock, DIR/admin.cnf, DIR/port
#   tests/harness/mariadb.sh stop DIR
#
# VC_GENERAL_LOG=1 turns on the general query log (DIR/general.log): every
# statement, prepared ones with their parameters, for the hygiene scan of
# the end-to-end tests (tests/e2e/helper.bash).  Off by default: the
# benchmarks start their servers here too.
#
# Several servers can run at once (one per DIR): each has its own socket,
# data directory and TCP port on 127.0.0.1.  Nothing from /etc/mysql is read
# (--no-defaults), so the tests see the server's built-in defaults, not the
# host's configuration.
set -euo pipefail

prog=${0##*/}

die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }

usage() {
	cat <<EOF
usage: $prog start DIR
       $prog stop DIR
EOF
}

# pid_alive PID: true while the process exists and is not a zombie (a server
# started by an earlier run is not our child: init reaps it, in its time).
pid_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ $stat != Z* ]]
}

# A port that nothing listens on now.  Another server may take it before ours
# binds; start() notices (the server exits) and tries again.
pick_port() {
	local port
	for _ in $(seq 1 50); do
		port=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			printf '%s\n' "$port"
			return 0
		fi
	done
	die "no free TCP port found"
}

log_tail() {
	printf '%s: last lines of %s:\n' "$prog" "$1" >&2
	tail -n 30 "$1" >&2 2>/dev/null || true
}

cmd_start() {
	local dir=$1 data sock port pid general=()
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	data=$dir/data
	sock=$dir/mysql.sock
	# sun_path holds 108 bytes, NUL included.
	((${#sock} < 108)) || die "socket path too long: $sock"
	[[ -e $dir/mariadbd.pid ]] && pid_alive "$(cat "$dir/mariadbd.pid")" &&
		die "a server already runs in $dir"

	# mariadb-install-db bootstraps a server of its own, which now and
	# then fails on a loaded machine ("Installation of system tables
	# failed"); a fresh data directory and another try, as a person would.
	local try
	for try in 1 2 3; do
		[[ ! -d $data/mysql ]] || break
		rm -rf "$data"
		mariadb-install-db --no-defaults --user=root --datadir="$data" \
			--auth-root-authentication-method=normal \
			>"$dir/install-db.log" 2>&1 && break
		log_tail "$dir/install-db.log"
		((try < 3)) || die "mariadb-install-db failed 3 times"
		rm -rf "$data"
		sleep 1
	done

	[[ ${VC_GENERAL_LOG:-} != 1 ]] ||
		general=(--general-log --general-log-file="$dir/general.log")
	for _ in 1 2 3 4 5; do
		port=$(pick_port)
		: >"$dir/error.log"
		# fd 3 closed: bats waits for every holder of its fd 3 to exit.
		mariadbd --no-defaults --user=root --datadir="$data" \
			--socket="$sock" --port="$port" --bind-address=127.0.0.1 \
			--pid-file="$dir/mariadbd.pid" --log-error="$dir/error.log" \
			"${general[@]}" \
			--innodb-buffer-pool-size=64M --max-allowed-packet=64M \
			--skip-name-resolve \
			</dev/null >"$dir/mariadbd.out" 2>&1 3>&- &
		pid=$!
		printf '%s\n' "$pid" >"$dir/mariadbd.pid"
		for _ in $(seq 1 300); do
			if mariadb-admin --no-defaults --socket="$sock" --user=root \
				--connect-timeout=2 ping >/dev/null 2>&1; then
				printf '[client]\nsocket=%s\nuser=root\n' "$sock" >"$dir/admin.cnf"
				printf '%s\n' "$port" >"$dir/port"
				return 0
			fi
			pid_alive "$pid" || break
			sleep 0.1
		done
		if pid_alive "$pid"; then
			kill -9 "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			log_tail "$dir/error.log"
			die "server in $dir did not answer within 30 s"
		fi
		wait "$pid" 2>/dev/null || true
		# Lost the race for the port: try another one.
		grep -qiE 'bind on tcp/ip port|address already in use' "$dir/error.log" ||
			break
	done
	log_tail "$dir/error.log"
	die "server in $dir did not start"
}

cmd_stop() {
	local dir=$1 pid
	[[ -f $dir/mariadbd.pid ]] || return 0
	pid=$(cat "$dir/mariadbd.pid")
	[[ $pid =~ ^[0-9]+$ ]] || die "bad pid file $dir/mariadbd.pid"
	if pid_alive "$pid"; then
		mariadb-admin --no-defaults --socket="$dir/mysql.sock" --user=root \
			--connect-timeout=2 shutdown >/dev/null 2>&1 || true
		for _ in $(seq 1 150); do
			pid_alive "$pid" || break
			sleep 0.1
		done
		if pid_alive "$pid"; then
			printf '%s: server %s did not stop within 15 s, killing it\n' "$prog" "$pid" >&2
			kill -9 "$pid" 2>/dev/null || true
			for _ in $(seq 1 50); do
				pid_alive "$pid" || break
				sleep 0.1
			done
		fi
	fi
	rm -f "$dir/mariadbd.pid"
}

case ${1:-} in
-h | --help) usage; exit 0 ;;
start | stop)
	(($# == 2)) || { usage >&2; exit 2; }
	"cmd_$1" "$2"
	;;
*) usage >&2; exit 2 ;;
esac
