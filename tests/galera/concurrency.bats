#!/usr/bin/env bats
# Correctness on a three-node MariaDB Galera cluster (issue 11): writes that
# land on different nodes, and a node that dies.  One cluster for the whole
# file (tests/harness/galera.sh); half of the concurrent processes talk to
# node 1 and half to node 2 (VAULTCTL_DB_HOSTS), so that every lock the
# tools take must hold across nodes, where only a written row conflicts.
#
#   make check-galera            # or: bats tests/galera/concurrency.bats
#   VC_KEEP=1 keeps the cluster's directory.
#
# The tests run in order and share the cluster: the last one kills node 3.

bats_require_minimum_version 1.5.0

load ../e2e/helper
load ../e2e/secret_helper

VC_STORE=local

setup_file() {
	VC_TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/vc-galera.XXXXXX")
	export VC_TEST_DIR
	export VAULTCTL_CONFIG=$VC_TEST_DIR/vaultctl.cnf
	export PATH="$REPO/bin:$PATH"
	if ! "$REPO/tests/harness/galera.sh" start "$VC_TEST_DIR" >"$VC_TEST_DIR/start.log" 2>&1; then
		cat "$VC_TEST_DIR/start.log" >&2
		g_stop
		return 1
	fi
	local p
	mapfile -t p <"$VC_TEST_DIR/ports"
	export P1=${p[0]} P2=${p[1]} P3=${p[2]}
	s_bootstrap
	export VAULTCTL_USER
}

teardown_file() {
	g_stop
}

g_stop() {
	[[ -n ${VC_TEST_DIR:-} && -d $VC_TEST_DIR ]] || return 0
	"$REPO/tests/harness/galera.sh" stop "$VC_TEST_DIR"
	if [[ -z ${VC_KEEP:-} ]]; then
		rm -rf "$VC_TEST_DIR"
	else
		{ printf '# kept %s\n' "$VC_TEST_DIR" >&3; } 2>/dev/null || true
	fi
}

# The checks read through node 1 as root, after every write the cluster has
# committed is applied there (read-your-writes across nodes).
vc_sql() {
	mariadb --defaults-file="$VC_TEST_DIR/admin.cnf" "$VC_DATABASE" -N -B \
		-e "SET SESSION wsrep_sync_wait = 1; $1"
}

# node_sql N SQL: as root on node N (its socket).
node_sql() {
	mariadb --defaults-file="$VC_TEST_DIR/n$1/admin.cnf" -N -B -e "$2"
}

# on N CMD...: runs CMD with the tools pointed at node N only.
on() {
	local port=P$1
	shift
	VAULTCTL_DB_HOSTS=127.0.0.1:${!port} "$@"
}

# node_of I: 1 for odd I, 2 for even: half the processes on each node.
node_of() { echo $((1 + $1 % 2)); }

# gate_wait: the processes of a batch start together, when $GATE appears.
gate_wait() {
	while [[ ! -e $GATE ]]; do sleep 0.01; done
}

# tally DIR: "N×CODE" for the exit codes in DIR/rc.*, for messages.
tally() {
	cat "$1"/rc.* | sort | uniq -c | awk '{ printf "%s×%s ", $1, $2 }'
}

# count_rc DIR CODE: how many processes exited CODE.
count_rc() {
	cat "$1"/rc.* | grep -cx "$2" || true
}

# store_rows TABLE ORG: rows of a local store table (vc_values,
# vc_value_keys) under the organization's folder.
store_rows() {
	vc_sql "SELECT COUNT(*) FROM $1 WHERE path LIKE CONCAT('organizations/',
		(SELECT id FROM organizations WHERE name = '$2'), '/%')"
}

org_id() {
	vc_sql "SELECT id FROM organizations WHERE name = '$1'"
}

@test "the cluster: three synced nodes, the schema and accounts on each" {
	local n
	for n in 1 2 3; do
		[ "$(node_sql "$n" "SHOW STATUS LIKE 'wsrep_cluster_size'" | cut -f2)" == 3 ]
		[ "$(node_sql "$n" "SHOW STATUS LIKE 'wsrep_local_state_comment'" | cut -f2)" == Synced ]
		[ "$(node_sql "$n" "SELECT @@innodb_autoinc_lock_mode, @@binlog_format")" == $'2\tROW' ]
		# The bootstrap user, written through node 1, is read on each node
		# with the tools' own accounts.
		run -0 on "$n" vaultctl-org user list -o tsv
		[[ $output == *"$VC_ADMIN"* ]]
	done
	# Galera replicates InnoDB tables only, and needs a primary key on
	# every one of them: the schema has both, everywhere.
	[ "$(vc_sql "SELECT COUNT(*) FROM information_schema.TABLES t
		WHERE t.TABLE_SCHEMA = '$VC_DATABASE' AND t.TABLE_TYPE = 'BASE TABLE'
		AND (t.ENGINE <> 'InnoDB' OR NOT EXISTS (SELECT 1 FROM
		information_schema.TABLE_CONSTRAINTS c WHERE c.TABLE_SCHEMA =
		t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME AND
		c.CONSTRAINT_TYPE = 'PRIMARY KEY'))")" == 0 ]
	# The metadata account makes the reads of a write causal, as the
	# statement that begins the write does (lib/db.c): a session
	# variable, no privilege needed.
	[ "$(vc_sql_as secrets_api_user "SET autocommit = 0, SESSION
		wsrep_sync_wait = IF(@@wsrep_on, @@wsrep_sync_wait | 1,
		@@wsrep_sync_wait); SELECT @@wsrep_sync_wait")" == 1 ]
}

@test "16 concurrent creates on two nodes with 5 free slots create exactly 5" {
	local d=$BATS_TEST_TMPDIR/creates i n created
	GATE=$d/go
	mkdir -p "$d"
	s_org quota 7
	s_put quota/api/prod/OLD1 old1
	s_put quota/api/prod/OLD2 old2
	for i in $(seq 1 16); do
		n=$(node_of "$i")
		(
			gate_wait
			rc=0
			printf 'value-%d' "$i" |
				on "$n" vaultctl-secret set "quota/api/prod/NEW$i" \
				>"$d/out.$i" 2>&1 || rc=$?
			echo "$rc" >"$d/rc.$i"
		) 3>&- &
	done
	touch "$GATE"
	wait
	echo "exit codes: $(tally "$d")"
	[ "$(count_rc "$d" 0)" == 5 ]
	# The others: quota exceeded, or a conflict that ran out of retries.
	[ "$(count_rc "$d" 5)" -ge 1 ]
	[ $(($(count_rc "$d" 0) + $(count_rc "$d" 5) + $(count_rc "$d" 6))) == 16 ]
	# Exactly 7 secrets, each with one value, nothing left behind by the
	# processes that lost: no metadata row, no value, no key.
	[ "$(meta_count quota)" == 7 ]
	[ "$(store_rows vc_values quota)" == 7 ]
	[ "$(store_rows vc_value_keys quota)" == 7 ]
	[[ $(usage quota) == "7 "* ]] || { echo "usage: $(usage quota)"; false; }
	[ "$(audit_count quota secret.create)" == 7 ]
	# The 5 winners' values, read back through the other node.
	created=0
	for i in $(seq 1 16); do
		[[ $(cat "$d/rc.$i") == 0 ]] || continue
		printf 'value-%d' "$i" >"$d/want"
		n=$((3 - $(node_of "$i")))
		on "$n" vaultctl-secret get "quota/api/prod/NEW$i" >"$d/got"
		cmp "$d/want" "$d/got"
		created=$((created + 1))
	done
	[ "$created" == 5 ]
}

@test "6 writers x 10 plain sets of one secret on two nodes, one try each: 60 of 60, version 61, chain intact; a stale --cas exits 6" {
	local d=$BATS_TEST_TMPDIR/updates w n path rows
	GATE=$d/go
	mkdir -p "$d"
	s_org upd NULL
	s_put upd/api/prod/HOT v0
	for w in $(seq 1 6); do
		n=$(node_of "$w")
		(
			gate_wait
			# No retries here: a write without --cas outlasts the
			# concurrent writers on the other node itself.
			for i in $(seq 0 9); do
				rc=0
				printf 'w%d-%d' "$w" "$i" |
					on "$n" vaultctl-secret -q set upd/api/prod/HOT \
					2>>"$d/err.$w" || rc=$?
				echo "$rc" >>"$d/codes.$w"
			done
		) 3>&- &
	done
	touch "$GATE"
	wait
	echo "exit codes: $(cat "$d"/codes.* | sort | uniq -c | tr '\n' ' ')"
	cat "$d"/err.* 2>/dev/null | sort | uniq -c || true
	[ "$(cat "$d"/codes.* | grep -cx 0)" == 60 ]
	[ -z "$(cat "$d"/err.*)" ]
	# One create and 60 updates: version 61 in the metadata and in the
	# store, every version audited once.
	same_version upd/api/prod/HOT 61
	[ "$(audit_count upd secret.update)" == 60 ]
	[ "$(audit_count upd secret.create)" == 1 ]
	# The versions the store keeps (its last 10) are contiguous up to 61,
	# and the audit rows' versions are exactly 2..61.
	path=$(s_path upd/api/prod/HOT)
	[ "$(vc_sql "SELECT CONCAT_WS(' ', COUNT(*), MIN(version), MAX(version))
		FROM vc_values WHERE path = '$path'")" == "10 52 61" ]
	[ "$(vc_sql "SELECT CONCAT_WS(' ', COUNT(DISTINCT JSON_VALUE(details, '\$.version')),
		MIN(CAST(JSON_VALUE(details, '\$.version') AS UNSIGNED)),
		MAX(CAST(JSON_VALUE(details, '\$.version') AS UNSIGNED)))
		FROM audit_logs a JOIN organizations o ON o.id = a.organization_id
		WHERE o.name = 'upd' AND a.action = 'secret.update'")" == "60 2 61" ]
	# The value of version 61 is one writer's last.
	on 2 vaultctl-secret get upd/api/prod/HOT >"$d/got"
	grep -qx 'w[1-6]-9' <(cat "$d/got"; echo)
	# The chain, from outside the tools and by them.
	rows=$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE organization_id = '$(org_id upd)'")
	run -0 python3 "$REPO/tests/galera/audit_chain.py" --config "$VAULTCTL_CONFIG" \
		"$VC_TEST_DIR/admin.cnf" "$VC_DATABASE" "$(org_id upd)"
	[[ $output == *"$rows rows intact"* ]]
	run -0 on 1 vaultctl-audit verify --org upd
	# A stale --cas, on either node, exits 6 and writes nothing; the
	# right one writes.
	run -6 on 1 vaultctl-secret set upd/api/prod/HOT --cas 60 <<<stale
	[[ $output == *"--cas 60: the secret is at version 61"* ]]
	run -6 on 2 vaultctl-secret set upd/api/prod/HOT --cas 0 <<<stale
	same_version upd/api/prod/HOT 61
	run -0 on 2 vaultctl-secret set upd/api/prod/HOT --cas 61 <<<fresh
	same_version upd/api/prod/HOT 62
}

@test "concurrent audited operations on one organization on two nodes keep the audit chain intact" {
	local d=$BATS_TEST_TMPDIR/audit w n org ok_ops rows
	GATE=$d/go
	mkdir -p "$d"
	s_org chain NULL
	s_put chain/api/prod/SHARED s0
	org=$(org_id chain)
	for w in $(seq 1 8); do
		n=$(node_of "$w")
		(
			gate_wait
			for i in $(seq 1 8); do
				# Each of these writes one audit row when it succeeds.
				for op in set-own set-shared get rm restore; do
					rc=0
					case $op in
					set-own) printf 'o%d' "$i" | on "$n" vaultctl-secret -q set "chain/api/prod/W$w" ;;
					set-shared) printf 's%d' "$i" | on "$n" vaultctl-secret -q set chain/api/prod/SHARED ;;
					get) on "$n" vaultctl-secret get chain/api/prod/SHARED >/dev/null ;;
					rm) on "$n" vaultctl-secret -q rm "chain/api/prod/W$w" ;;
					restore) on "$n" vaultctl-secret -q restore "chain/api/prod/W$w" ;;
					esac 2>>"$d/err.$w" || rc=$?
					echo "$op $rc" >>"$d/ops.$w"
				done
			done
		) 3>&- &
	done
	touch "$GATE"
	wait
	echo "results: $(cat "$d"/ops.* | sort | uniq -c | tr '\n' ' ')"
	echo "audit rows: $(vc_sql "SELECT action, COUNT(*) FROM audit_logs WHERE
		organization_id = '$org' GROUP BY action" | tr '\t\n' '= ')"
	grep -hv "cannot set secret 'chain/api/prod/SHARED'" "$d"/err.* | sort | uniq -c || true
	# Nothing fails: a set of the shared secret that lost the store's
	# check-and-set to a write on the other node is retried by the tools,
	# like everything else.
	[ -z "$(cat "$d"/ops.* | grep -v ' 0$')" ]
	[ "$(cat "$d"/ops.* | grep -c ' 0$')" == 320 ]
	ok_ops=$(cat "$d"/ops.* | grep -c ' 0$')
	# One audit row per successful operation, plus the first set (and the
	# organization's, project's and environment's creation).
	rows=$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE organization_id = '$org'")
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE organization_id = '$org'
		AND action LIKE 'secret.%'")" == $((ok_ops + 1)) ]
	# The chain, checked from outside the tools...
	run -0 python3 "$REPO/tests/galera/audit_chain.py" --config "$VAULTCTL_CONFIG" "$VC_TEST_DIR/admin.cnf" "$VC_DATABASE" "$org"
	[[ $output == *"$rows rows intact"* ]]
	# ...and by the tools, on either node.
	run -0 on 1 vaultctl-audit verify --org chain
	run -0 on 2 vaultctl-audit verify --org chain
	# Both checks can fail: an edited row breaks them (the metadata
	# account may not edit audit rows; root may).
	vc_sql "UPDATE audit_logs SET details = '{\"version\":999}' WHERE seq =
		(SELECT seq FROM (SELECT seq FROM audit_logs WHERE organization_id =
		'$org' ORDER BY seq DESC LIMIT 1 OFFSET 5) x)"
	run -1 python3 "$REPO/tests/galera/audit_chain.py" --config "$VAULTCTL_CONFIG" "$VC_TEST_DIR/admin.cnf" "$VC_DATABASE" "$org"
	[[ $output == *"row_hash does not match"* ]]
	run -8 on 2 vaultctl-audit verify --org chain
}

@test "two stats recompute at once on two nodes: one runs, the other exits 6" {
	local d=$BATS_TEST_TMPDIR/recompute n out
	GATE=$d/go
	mkdir -p "$d"
	# GET_LOCK would be node-local; the lock is a row in maintenance_locks.
	# So that the two runs overlap, whichever takes the lock is then held
	# up: root on each node holds the usage rows that recompute rewrites.
	[ "$(vc_sql "SELECT COUNT(*) FROM usage_statistics")" -gt 0 ]
	for n in 1 2; do
		node_sql "$n" "START TRANSACTION; UPDATE $VC_DATABASE.usage_statistics
			SET last_updated = last_updated; SELECT SLEEP(5); ROLLBACK" \
			>/dev/null 2>&1 3>&- &
	done
	sleep 0.5
	for n in 1 2; do
		(
			gate_wait
			rc=0
			on "$n" vaultctl-audit stats recompute >"$d/out.$n" 2>&1 || rc=$?
			echo "$rc" >"$d/rc.$n"
		) 3>&- &
	done
	touch "$GATE"
	wait
	echo "exit codes: $(tally "$d")"
	[ "$(count_rc "$d" 0)" == 1 ]
	[ "$(count_rc "$d" 6)" == 1 ]
	out=$(cat "$d"/out.*)
	[[ $out == *"another stats recompute is running"* ]]
	# It let go of the lock: the next run, on node 2, runs.
	run -0 on 2 vaultctl-audit stats recompute
	[ "$(vc_sql "SELECT COUNT(*) FROM maintenance_locks")" == 0 ]
	# And it counted right: every organization's usage agrees with its
	# live secrets.
	[ "$(vc_sql "SELECT COUNT(*) FROM organizations o JOIN usage_statistics u
		ON u.organization_id = o.id WHERE u.secret_count <> (SELECT COUNT(*)
		FROM secret_metadata m WHERE m.organization_id = o.id AND
		m.deleted_at IS NULL)")" == 0 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM usage_statistics")" == \
		"$(vc_sql "SELECT COUNT(*) FROM organizations")" ]
}

@test "VAULTCTL_DB_HOSTS: a node cut off from the cluster is skipped like a dead one" {
	s_org iso NULL
	s_put iso/api/prod/X before
	# gmcast.isolate cuts node 3 off: it answers, but as a non-primary
	# component it refuses queries (1047).
	node_sql 3 "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'"
	for _ in $(seq 1 100); do
		[ "$(node_sql 3 "SHOW STATUS LIKE 'wsrep_ready'" | cut -f2)" == OFF ] && break
		sleep 0.1
	done
	[ "$(node_sql 3 "SHOW STATUS LIKE 'wsrep_ready'" | cut -f2)" == OFF ]
	run -0 --separate-stderr env VAULTCTL_DB_HOSTS=127.0.0.1:$P3,127.0.0.1:$P1 \
		vaultctl-secret -v get iso/api/prod/X
	[ "$output" == before ]
	[[ $stderr == *"database host 127.0.0.1:$P3 is down"* ]]
	# Alone, it is a backend unavailable (7), never a hang or a crash.
	run -7 on 3 vaultctl-secret get iso/api/prod/X
	# Back in the cluster, it catches up and serves again.
	node_sql 3 "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'"
	for _ in $(seq 1 300); do
		[ "$(node_sql 3 "SHOW STATUS LIKE 'wsrep_local_state_comment'" | cut -f2)" == Synced ] &&
			[ "$(node_sql 3 "SHOW STATUS LIKE 'wsrep_ready'" | cut -f2)" == ON ] && break
		sleep 0.1
	done
	run -0 on 3 vaultctl-secret get iso/api/prod/X
	[ "$output" == before ]
}

@test "killing a node in the middle of a batch loses no committed data; the next command goes to a live node" {
	local d=$BATS_TEST_TMPDIR/kill b i rc n v
	mkdir -p "$d"
	s_org kill NULL
	# Two batches of sets, each preferring node 3 and falling back to
	# node 1 or node 2; node 3 dies when a third of them are done.
	for b in 1 2; do
		(
			for i in $(seq 1 30); do
				rc=0
				printf 'b%d-%d' "$b" "$i" |
					VAULTCTL_DB_HOSTS=127.0.0.1:$P3,127.0.0.1:$([[ $b == 1 ]] && echo "$P1" || echo "$P2") \
					vaultctl-secret -q set "kill/api/prod/B${b}_$i" 2>>"$d/err.$b" || rc=$?
				echo "$i $rc" >>"$d/res.$b"
			done
		) 3>&- &
	done
	for _ in $(seq 1 600); do
		[[ $(cat "$d"/res.* 2>/dev/null | grep -c ' 0$') -ge 20 ]] && break
		sleep 0.05
	done
	"$REPO/tests/harness/galera.sh" kill "$VC_TEST_DIR" 3
	wait
	echo "results: $(cat "$d"/res.* | awk '{ print $2 }' | sort | uniq -c | tr '\n' ' ')"
	cat "$d"/err.* 2>/dev/null || true
	# Both batches went on after the kill: most of their commands succeed;
	# one in flight when the node died may report it (7), none other fails.
	[ "$(cat "$d"/res.* | grep -c ' 0$')" -ge 55 ]
	[ -z "$(cat "$d"/res.* | grep -v ' [07]$')" ]
	# The two survivors form the cluster now.
	for n in 1 2; do
		[ "$(node_sql "$n" "SHOW STATUS LIKE 'wsrep_cluster_size'" | cut -f2)" == 2 ]
	done
	# Every set that reported success is there, on both live nodes, with
	# its value and version 1; the dead node is skipped with a note.
	for b in 1 2; do
		while read -r i rc; do
			[[ $rc == 0 ]] || continue
			printf 'b%d-%d' "$b" "$i" >"$d/want"
			for n in 1 2; do
				v=$(node_sql "$n" "SET SESSION wsrep_sync_wait = 1; SELECT version FROM
					$VC_DATABASE.secret_metadata WHERE name = 'B${b}_$i'")
				[ "$v" == 1 ] || { echo "B${b}_$i on node $n: version '$v'"; false; }
			done
			VAULTCTL_DB_HOSTS=127.0.0.1:$P3,127.0.0.1:$P2 \
				vaultctl-secret get "kill/api/prod/B${b}_$i" >"$d/got" 2>/dev/null
			cmp "$d/want" "$d/got"
		done <"$d/res.$b"
	done
	run -0 --separate-stderr env VAULTCTL_DB_HOSTS=127.0.0.1:$P3,127.0.0.1:$P2 \
		vaultctl-secret -v get kill/api/prod/B1_1
	[ "$output" == b1-1 ]
	[[ $stderr == *"database host 127.0.0.1:$P3 is down"*"trying the next"* ]]
	# Without -v (and not on a terminal) the note stays quiet.
	run -0 --separate-stderr env VAULTCTL_DB_HOSTS=127.0.0.1:$P3,127.0.0.1:$P1 \
		vaultctl-secret get kill/api/prod/B1_1
	[ -z "$stderr" ]
	# With no live host at all: unavailable (7), naming the database.
	run -7 env VAULTCTL_DB_HOSTS=127.0.0.1:$P3 vaultctl-secret get kill/api/prod/B1_1
	[[ $output == *"database unavailable"* ]]
	# And the audit chains survived the kill.
	run -0 python3 "$REPO/tests/galera/audit_chain.py" --config "$VAULTCTL_CONFIG" "$VC_TEST_DIR/admin.cnf" \
		"$VC_DATABASE" "$(org_id kill)"
	run -0 on 1 vaultctl-audit verify --org kill
	# A set cut off by the kill may leave the store a version ahead of the
	# metadata (its message says so); reconcile repairs that, and keeps
	# every committed value.
	on 1 vaultctl-audit reconcile --org kill --fix --yes >/dev/null || true
	run -0 on 2 vaultctl-audit reconcile --org kill
	for b in 1 2; do
		while read -r i rc; do
			[[ $rc == 0 ]] || continue
			printf 'b%d-%d' "$b" "$i" >"$d/want"
			on 1 vaultctl-secret get "kill/api/prod/B${b}_$i" >"$d/got"
			cmp "$d/want" "$d/got"
		done <"$d/res.$b"
	done
}
