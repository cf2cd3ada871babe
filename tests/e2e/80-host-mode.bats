#!/usr/bin/env bats
# Host mode, attacked the way it would be: as root this file builds a copy
# of the tools, installs it setgid into a temporary PREFIX with a
# temporary SYSCONFDIR and group, prepares a private server with
# `sql/install.sh --group`, creates unprivileged logins with useradd
# (removed at the end, also on failure), and runs each attack as one of
# them.  Every attack must fail with the documented exit code and leave
# every table outside the audit as it was.
#
# Logins: $ADMIN_LOGIN bound to the global admin, $MEMBER_LOGIN bound to a
# member of the organization, $STRANGER_LOGIN bound to no user.

load helper
bats_require_minimum_version 1.5.0

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup_file() {
	[[ $EUID == 0 ]] || skip "host mode needs root: useradd and a setgid install"
	export HM=$(mktemp -d /tmp/vc-host.XXXXXX)
	chmod 755 "$HM"
	export HM_GROUP=vct$$ TAG=vct$$
	export ADMIN_LOGIN=${TAG}a MEMBER_LOGIN=${TAG}m STRANGER_LOGIN=${TAG}s
	echo "$HM_GROUP $ADMIN_LOGIN $MEMBER_LOGIN $STRANGER_LOGIN" >"$HM/created"
	for u in "$ADMIN_LOGIN" "$MEMBER_LOGIN" "$STRANGER_LOGIN"; do
		useradd --no-create-home --home-dir "$HM/home/$u" --shell /bin/sh "$u"
		mkdir -p "$HM/home/$u"
		chown "$u:" "$HM/home/$u"
		chmod 700 "$HM/home/$u"
	done
	hm_install
	hm_server
	hm_bootstrap
}

teardown_file() {
	[[ -n ${HM:-} && -d $HM ]] || return 0
	local g u
	read -r g u1 u2 u3 <"$HM/created" || true
	for u in $u1 $u2 $u3; do userdel "$u" 2>/dev/null || true; done
	[[ -n ${VC_TEST_DIR:-} ]] && vc_server_stop
	getent group "$g" >/dev/null && groupdel "$g"
	rm -rf "$HM"
}

# A copy of the tracked sources (and new ones), built and installed with
# this file's SYSCONFDIR and group: the repository's own bin/ stays as the
# rest of the suite built it.
hm_install() {
	mkdir "$HM/src"
	(cd "$REPO" && git ls-files -co --exclude-standard -z 2>/dev/null ||
		find . -path ./.git -prune -o -type f ! -name '*.[oad]' -print0) |
		(cd "$REPO" && xargs -0 tar -c --ignore-failed-read 2>/dev/null) |
		tar -x -C "$HM/src"
	# A plain build even under `make check SANITIZE=1`: LeakSanitizer
	# cannot stop the world of a setgid, non-dumpable process (it fails
	# every run), and the same code runs sanitized in the rest of the suite.
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make -C "$HM/src" -s -j2 install SANITIZE= PREFIX="$HM/prefix" \
		SYSCONFDIR="$HM/etc" GROUP="$HM_GROUP" >"$HM/install.log" 2>&1 ||
		{ cat "$HM/install.log"; return 1; }
	export HB=$HM/prefix/bin
}

# The server: install.sh writes the tools' configuration into the installed
# SYSCONFDIR, group-readable by the tools' group only.
hm_server() {
	VC_TEST_DIR=$(mktemp -d /tmp/vc-e2e.XXXXXX)
	export VC_TEST_DIR XDG_STATE_HOME=$VC_TEST_DIR/state
	"$REPO/tests/harness/mariadb.sh" start "$VC_TEST_DIR" >/dev/null
	chmod 711 "$VC_TEST_DIR"        # the socket, for the logins
	export CNF=$HM/etc/vaultctl/vaultctl.cnf
	"$REPO/sql/install.sh" --defaults-file "$VC_TEST_DIR/admin.cnf" \
		--config-out "$CNF" --group "$HM_GROUP" >"$HM/sql-install.log" 2>&1 ||
		{ cat "$HM/sql-install.log"; return 1; }
	export VAULTCTL_CONFIG=$CNF     # for the root helpers of helper.bash
}

# Root sets up: the first user (global admin) bound to ADMIN_LOGIN, an
# organization with a member bound to MEMBER_LOGIN, a secret.
hm_bootstrap() {
	"$HB/vaultctl-org" user add root@example.com --no-password >/dev/null
	export VAULTCTL_USER=root@example.com
	"$HB/vaultctl-org" user add admin@example.com --role admin --no-password \
		--login "$ADMIN_LOGIN" >/dev/null
	"$HB/vaultctl-org" user add member@example.com --no-password \
		--login "$MEMBER_LOGIN" >/dev/null
	"$HB/vaultctl-plan" create free --price 0 --cycle monthly --secrets-limit 100 >/dev/null
	"$HB/vaultctl-org" create acme >/dev/null
	"$HB/vaultctl-org" project create acme/api >/dev/null
	"$HB/vaultctl-org" env create acme/api/prod >/dev/null
	"$HB/vaultctl-org" member add acme member@example.com --role member >/dev/null
	printf %s 'host-mode-secret-value' | "$HB/vaultctl-secret" -q set acme/api/prod/DB_URL
	unset VAULTCTL_USER
}

# as LOGIN CMD...: CMD as that login, with a login's plain environment
# (what it adds is given as NAME=VALUE words before CMD).
as() {
	local u=$1
	shift
	runuser -u "$u" -- env -i PATH="$HB:/usr/bin:/bin" HOME="$HM/home/$u" \
		LANG=C.UTF-8 "$@"
}

# Every table but the audit's (which records refusals) and the usage
# counters: what an attack must not change.
checksum() {
	vc_sql "SELECT GROUP_CONCAT(table_name ORDER BY table_name)
		FROM information_schema.tables WHERE table_schema = DATABASE()
		AND table_name NOT IN ('audit_logs', 'audit_reads', 'audit_heads', 'api_calls',
			'usage_statistics', 'maintenance_locks')" | tr ',' '\n' |
		while read -r t; do vc_sql "CHECKSUM TABLE \`$t\`" | tr '\t' ' '; done
}

@test "install: binaries setgid root:GROUP, configuration and keys 0640 root:GROUP" {
	for b in vaultctl vaultctl-org vaultctl-secret vaultctl-plan vaultctl-audit; do
		[ "$(stat -c '%a %U %G' "$HB/$b")" == "2755 root $HM_GROUP" ]
	done
	[ "$(stat -c '%a %U %G' "$HM/etc/vaultctl")" == "750 root $HM_GROUP" ]
	for f in "$CNF" "$CNF.key" "$CNF.audit.key"; do
		[ "$(stat -c '%a %U %G' "$f")" == "640 root $HM_GROUP" ] ||
			{ echo "$f: $(stat -c '%a %U %G' "$f")"; false; }
	done
	[ "$(stat -c '%a %U' "$CNF.admin")" == "600 root" ]
	! grep -q vault_mysql_user "$CNF" || false
}

@test "a bound login acts as its user, with no --as and nothing in its environment" {
	run as "$MEMBER_LOGIN" vaultctl-secret get acme/api/prod/DB_URL
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$output" == host-mode-secret-value ]
	[ "$(vc_sql "SELECT u.email FROM audit_logs a JOIN users u ON u.id = a.user_id
		WHERE a.action = 'secret.read' ORDER BY a.seq DESC LIMIT 1")" == member@example.com ]
}

@test "a bound login's user is looked up in one statement (every command runs it)" {
	vc_sql "SET GLOBAL general_log = OFF; TRUNCATE mysql.general_log;
		SET GLOBAL log_output = 'TABLE'; SET GLOBAL general_log = ON"
	run as "$MEMBER_LOGIN" vaultctl-secret get acme/api/prod/DB_URL
	vc_sql "SET GLOBAL general_log = OFF"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	run vc_sql "SELECT COUNT(*) FROM mysql.general_log
		WHERE command_type = 'Execute' AND argument LIKE '%FROM users WHERE%'"
	[ "$output" == 1 ] || { echo "user lookups: $output"; false; }
}

@test "attack: reading the configuration, its keys and the admin file" {
	for f in "$CNF" "$CNF.key" "$CNF.audit.key" "$CNF.admin"; do
		run as "$MEMBER_LOGIN" cat "$f"
		[ "$status" -ne 0 ]
		[[ $output == *"Permission denied"* ]]
	done
}

@test "attack: a login bound to no user is refused (4)" {
	refused 4 "login '$STRANGER_LOGIN' is bound to no user" \
		as "$STRANGER_LOGIN" vaultctl-secret list acme/api/prod
}

@test "attack: --as and \$VAULTCTL_USER by a member are refused (4)" {
	refused 4 "only root and global admins may act as another user" \
		as "$MEMBER_LOGIN" vaultctl-org --as root@example.com user list
	refused 4 "only root and global admins may act as another user" \
		as "$MEMBER_LOGIN" VAULTCTL_USER=root@example.com vaultctl-org user list
	refused 4 "login '$STRANGER_LOGIN' is bound to no user" \
		as "$STRANGER_LOGIN" vaultctl-secret --as member@example.com get acme/api/prod/DB_URL
}

@test "attack: user add of an admin by a member (4), check-password of another (4)" {
	refused 4 "only root and global admins may act as another user" \
		sh -c "printf pw | runuser -u $MEMBER_LOGIN -- env -i PATH=$HB:/usr/bin:/bin \
		vaultctl-org user add evil@example.com --role admin --password-stdin --as admin@example.com"
	refused 4 "only global admins add users" \
		sh -c "printf pw | runuser -u $MEMBER_LOGIN -- env -i PATH=$HB:/usr/bin:/bin \
		vaultctl-org user add evil@example.com --role admin --password-stdin"
	# The right password: the answer must not tell it.
	printf 'admin-pw-%s' "$TAG" | "$HB/vaultctl-org" --as root@example.com \
		user passwd admin@example.com --password-stdin
	refused 4 "only global admins and the user themself may check a password" \
		sh -c "printf admin-pw-$TAG | runuser -u $MEMBER_LOGIN -- env -i PATH=$HB:/usr/bin:/bin \
		vaultctl-org user check-password admin@example.com --password-stdin"
	run sh -c "printf admin-pw-$TAG | runuser -u $ADMIN_LOGIN -- env -i PATH=$HB:/usr/bin:/bin \
		vaultctl-org user check-password admin@example.com --password-stdin"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "attack: -c, \$VAULTCTL_CONFIG and \$VAULTCTL_DB_HOSTS of the attacker (4)" {
	local own=$HM/home/$MEMBER_LOGIN/evil.cnf
	printf '[vaultctl]\nbackend = local\n' >"$own"
	chown "$MEMBER_LOGIN" "$own"
	chmod 600 "$own"
	refused 4 "-c is for root only" as "$MEMBER_LOGIN" vaultctl-secret -c "$own" list acme/api/prod
	refused 4 "VAULTCTL_CONFIG is for root only" \
		as "$MEMBER_LOGIN" VAULTCTL_CONFIG="$own" vaultctl-secret list acme/api/prod
	refused 4 "VAULTCTL_DB_HOSTS is for root only" \
		as "$MEMBER_LOGIN" VAULTCTL_DB_HOSTS=127.0.0.1:1 vaultctl-secret list acme/api/prod
}

@test "attack: run's child has neither the group, nor the credentials, nor VAULT*" {
	run as "$MEMBER_LOGIN" VAULT_TOKEN=t VAULTCTL_PASSWORD_FILE=/x \
		vaultctl-secret run acme/api/prod -- sh -c \
		'echo "groups $(id -G) egid $(id -g)"; env; cat '"$CNF"' && echo READ-THE-CONFIG; exit 0'
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	local gid
	gid=$(getent group "$HM_GROUP" | cut -d: -f3)
	[[ $output == *"groups "* ]]
	[[ ! $(grep '^groups ' <<<"$output") =~ (^| )$gid( |$) ]]
	[[ $output == *DB_URL=host-mode-secret-value* ]]
	! grep -qE '^(VAULT|VAULTCTL)_' <<<"$output" || false
	[[ $output != *READ-THE-CONFIG* ]]
}

@test "attack: run --watch's child has neither the group, nor a connection, nor VAULT*; the watcher keeps polling" {
	run as "$MEMBER_LOGIN" VAULT_TOKEN=t vaultctl-secret run acme/api/prod \
		--watch --interval 100ms -- sh -c \
		'echo "groups $(id -G) egid $(id -g)"; env; ls -l /proc/$$/fd; cat '"$CNF"' && echo READ-THE-CONFIG; exit 3'
	[ "$status" -eq 3 ] || { echo "$output"; false; }
	local gid
	gid=$(getent group "$HM_GROUP" | cut -d: -f3)
	[[ $output == *"groups "* ]]
	[[ ! $(grep '^groups ' <<<"$output") =~ (^| )$gid( |$) ]]
	[[ $output == *DB_URL=host-mode-secret-value* ]]
	! grep -qE '^(VAULT|VAULTCTL)_' <<<"$output" || false
	! grep -q 'socket:' <<<"$output" || false
	[[ $output != *READ-THE-CONFIG* ]]
}

@test "attack: export -O into a directory only the tools' group may write (4)" {
	mkdir -p "$HM/grp"
	chown "root:$HM_GROUP" "$HM/grp"
	chmod 770 "$HM/grp"
	refused 4 "Permission denied" as "$MEMBER_LOGIN" vaultctl-secret export acme/api/prod -O "$HM/grp/out.env"
	[ ! -e "$HM/grp/out.env" ]
	[ -z "$(ls -A "$HM/grp")" ]
}

# A plugin of the caller's: libmariadb loads what LIBMYSQL_PLUGINS names from
# MARIADB_PLUGIN_DIR when a connection is set up.  Its constructor leaves a
# file named after the effective group it ran with.
hm_evil_plugin() {
	local d=$HM/evil
	mkdir -p "$d"
	chmod 1777 "$d"
	cat >"$d/evil.c" <<EOF
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
__attribute__((constructor)) static void evil(void)
{
	char p[4096];
	snprintf(p, sizeof(p), "$d/loaded-egid-%d", (int)getegid());
	close(open(p, O_CREAT | O_WRONLY, 0644));
}
EOF
	cc -shared -fPIC -o "$d/evil.so" "$d/evil.c"
	chmod 755 "$d/evil.so"
}

@test "attack: a hostile environment does not reach the libraries; not dumpable" {
	local d=$BATS_TEST_TMPDIR pid gid
	gid=$(getent group "$HM_GROUP" | cut -d: -f3)
	hm_evil_plugin
	# The vector is real: root (trusted, environment kept) loads it into
	# the very same setgid binary.
	LIBMYSQL_PLUGINS=evil MARIADB_PLUGIN_DIR=$HM/evil \
		"$HB/vaultctl-secret" --as root@example.com list acme/api/prod >/dev/null
	[ -e "$HM/evil/loaded-egid-$gid" ]
	rm -f "$HM"/evil/loaded-egid-*
	# The setgid tool, as a member, with every hostile variable at once.
	runuser -u "$MEMBER_LOGIN" -- env -i PATH="$HB:/usr/bin:/bin" \
		HOME="$HM/home/$MEMBER_LOGIN" LANG=C.UTF-8 \
		LIBMYSQL_PLUGINS=evil MARIADB_PLUGIN_DIR="$HM/evil" \
		MYSQL_UNIX_PORT=/nonexistent MYSQL_TCP_PORT=1 MYSQL_HOME="$HM/evil" \
		INPUTRC=/etc/passwd CURL_CA_BUNDLE=/dev/null https_proxy=http://127.0.0.1:9 \
		TERMINFO=/tmp VAULT_ADDR=http://127.0.0.1:9 \
		vaultctl-secret list acme/api/prod >"$d/out" 2>&1 ||
		{ cat "$d/out"; false; }
	grep -q DB_URL "$d/out"
	[ ! -e "$HM/evil/loaded-egid-$gid" ] || { ls "$HM/evil"; false; }
	[ "$(ls "$HM/evil" | grep -c loaded-egid-)" -eq 0 ] || { ls "$HM/evil"; false; }
	# Not dumpable while it runs: its /proc files are root's, not the
	# login's, so the same login cannot ptrace the credentials out.
	mkfifo "$d/in"
	chmod 666 "$d/in"
	chmod 755 "$d"
	runuser -u "$MEMBER_LOGIN" -- env -i PATH="$HB:/usr/bin:/bin" LANG=C.UTF-8 \
		vaultctl-secret set acme/api/prod/FROM_FIFO <"$d/in" >/dev/null 2>&1 &
	exec 7>"$d/in"
	for _ in $(seq 100); do
		pid=$(pgrep -u "$MEMBER_LOGIN" -f 'vaultctl-secret set acme/api/prod/FROM_FIFO') && break
		sleep 0.1
	done
	[ -n "$pid" ]
	[ "$(stat -c %U "/proc/$pid/environ")" == root ]
	printf 'v' >&7
	exec 7>&-
	wait
}

@test "root and a global admin may act as another, and the audit names both" {
	run as "$ADMIN_LOGIN" vaultctl-secret --as member@example.com get acme/api/prod/DB_URL
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	run vc_sql "SELECT CONCAT(u.email, ' ', a.user_agent) FROM audit_logs a
		JOIN users u ON u.id = a.user_id
		WHERE a.action = 'secret.read' ORDER BY a.seq DESC LIMIT 1"
	[[ $output == "member@example.com "*"os-user $ADMIN_LOGIN; acting for member@example.com: admin@example.com)" ]] ||
		{ echo "audit: $output"; false; }
	run "$HB/vaultctl-secret" --as member@example.com get acme/api/prod/DB_URL
	[ "$status" -eq 0 ]
	run vc_sql "SELECT a.user_agent FROM audit_logs a
		WHERE a.action = 'secret.read' ORDER BY a.seq DESC LIMIT 1"
	[[ $output == *"os-user root; acting for member@example.com: root)" ]] ||
		{ echo "audit: $output"; false; }
}

@test "attack: the --fallback snapshot is the login's file, sealed: it opens only through the tools, and only for that login" {
	local home=$HM/home/$MEMBER_LOGIN
	local snap=$home/snap copy=$HM/home/$ADMIN_LOGIN/snap
	run as "$MEMBER_LOGIN" vaultctl-secret run acme/api/prod --fallback "$snap" -- true
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$(stat -c '%a %U' "$snap")" == "600 $MEMBER_LOGIN" ]
	! grep -q host-mode-secret-value "$snap"
	cp "$snap" "$copy"
	chown "$ADMIN_LOGIN:" "$copy"
	# The tools not setgid, with a key of the login's own.
	install -m 755 "$REPO/bin/vaultctl-secret" "$HM/plain-vaultctl-secret"
	as "$MEMBER_LOGIN" sh -c 'umask 077; head -c 32 /dev/urandom >"$HOME/key";
		printf "[client]\nsocket = /nonexistent/s\n[vaultctl]\naudit_key_file = %s\n" \
		"$HOME/key" >"$HOME/my.cnf"'
	"$REPO/tests/harness/mariadb.sh" stop "$VC_TEST_DIR"
	run --separate-stderr as "$MEMBER_LOGIN" vaultctl-secret run acme/api/prod \
		--fallback "$snap" -- sh -c 'printf %s "$DB_URL"'
	local served=$status out=$output
	run --separate-stderr as "$MEMBER_LOGIN" "$HM/plain-vaultctl-secret" \
		-c "$home/my.cnf" run acme/api/prod --fallback "$snap" -- true
	local plain=$status plain_err=$stderr
	run --separate-stderr as "$ADMIN_LOGIN" vaultctl-secret run acme/api/prod \
		--fallback "$copy" -- true
	"$REPO/tests/harness/mariadb.sh" start "$VC_TEST_DIR" >/dev/null
	[ "$served" -eq 0 ]
	[ "$out" == host-mode-secret-value ]
	[ "$plain" -eq 7 ]
	[[ $plain_err == *"does not open under the tools' key"* ]]
	[ "$status" -eq 7 ]
	[[ $stderr == *"another user"* ]]
}
