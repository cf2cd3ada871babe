#!/usr/bin/env bats
# vaultctl-secret under concurrency, on both stores (one MariaDB server;
# the Vault store through the emulator with a second configuration):
# concurrent creates never overshoot the plan's limit, concurrent writers
# of one secret leave contiguous versions on which metadata, store and
# audit agree.

load helper
load secret_helper

setup_file() {
	vc_server_start
	emu_start
	s_bootstrap
	# The same database with the Vault store (VAULT_ADDR from emu_start
	# wins over the configuration's vault_addr).
	(umask 077 && sed 's/^backend = local$/backend = vault/' \
		"$VAULTCTL_CONFIG" >"$VC_TEST_DIR/vault.cnf")
	grep -q '^backend = vault$' "$VC_TEST_DIR/vault.cnf"
	export VC_LOCAL_CONFIG=$VAULTCTL_CONFIG
}

teardown_file() {
	emu_stop
	vc_server_stop
}

setup() {
	export VAULTCTL_USER=$VC_ADMIN
}

# on_store local|vault: which store the tools use and the checks inspect.
on_store() {
	VC_STORE=$1
	if [[ $1 == vault ]]; then
		export VAULTCTL_CONFIG=$VC_TEST_DIR/vault.cnf
	else
		export VAULTCTL_CONFIG=$VC_LOCAL_CONFIG
	fi
}

# when_go CMD...: waits for the starting gun ($BATS_TEST_TMPDIR/go), then
# runs CMD, so that every process starts at once.
when_go() {
	while [[ ! -e $BATS_TEST_TMPDIR/go ]]; do sleep 0.01; done
	"$@"
}

# 16 creates with different names into an organization with 5 free slots.
t_concurrent_creates() {
	local d=$BATS_TEST_TMPDIR pids=() i ok=0 quota=0 other=0 rc
	s_here 8
	for i in 1 2 3; do s_put "$ENV/OLD$i" "old$i"; done
	for i in $(seq 16); do
		printf 'value-%s' "$i" >"$d/v$i"
		( rc=0
		  when_go vaultctl-secret -q set "$ENV/NEW$i" --from-file "$d/v$i" \
			</dev/null 2>"$d/err$i" || rc=$?
		  echo "$rc" >"$d/rc$i" ) 3>&- &
		pids+=($!)
	done
	touch "$d/go"
	wait "${pids[@]}"
	for i in $(seq 16); do
		rc=$(cat "$d/rc$i")
		case $rc in
		0) ok=$((ok + 1)); got_bytes "$ENV/NEW$i" "$d/v$i" ;;
		5) quota=$((quota + 1)); store_gone "$ENV/NEW$i"
		   grep -q "quota exceeded" "$d/err$i" ;;
		*) other=$((other + 1)); echo "NEW$i exited $rc: $(cat "$d/err$i")" ;;
		esac
	done
	echo "created $ok, refused $quota, other $other"
	[ "$ok" -eq 5 ] && [ "$quota" -eq 11 ] && [ "$other" -eq 0 ]
	[ "$(meta_count "$ORG")" == 8 ]
	[ "$(store_keys "$ENV")" == 8 ]
	[ "$(usage "$ORG" | cut -d' ' -f1)" == 8 ]
	[ "$(audit_count "$ORG" secret.create)" == 8 ]
}

# writer W N: N plain updates of HOT, one try each: a write without --cas
# outlasts concurrent writers itself, so every exit but 0 is noted.
writer() {
	local w=$1 n=$2 d=$BATS_TEST_TMPDIR j rc ok=0
	for j in $(seq "$n"); do
		rc=0
		printf 'writer%s-%s' "$w" "$j" |
			vaultctl-secret -q set "$ENV/HOT" 2>>"$d/err$w" || rc=$?
		if [[ $rc == 0 ]]; then
			ok=$((ok + 1))
		else
			echo "writer $w write $j: exit $rc" >>"$d/bad"
		fi
	done
	echo "$ok" >"$d/w$w"
}

# 8 writers x 20 updates of one secret.
t_concurrent_writers() {
	local d=$BATS_TEST_TMPDIR pids=() w ok=0 a path
	s_here 10
	s_put "$ENV/HOT" initial
	c0=$(usage "$ORG" | cut -d' ' -f2)
	for w in $(seq 8); do
		( when_go writer "$w" 20 ) 3>&- &
		pids+=($!)
	done
	touch "$d/go"
	wait "${pids[@]}"
	[ ! -e "$d/bad" ] || { cat "$d/bad" "$d"/err*; false; }
	for w in $(seq 8); do
		read -r a <"$d/w$w"
		ok=$((ok + a))
	done
	echo "successful writes $ok"
	[ "$ok" -eq 160 ]
	[ -z "$(cat "$d"/err*)" ]
	# Contiguous versions: metadata and store at 1 + 160, one audit row
	# per version 2..161, each version once.
	same_version "$ENV/HOT" 161
	[ "$(audit_count "$ORG" secret.update)" == 160 ]
	[ "$(vc_sql "SELECT CONCAT_WS(' ', COUNT(DISTINCT JSON_VALUE(a.details,
		'$.version')), MIN(CAST(JSON_VALUE(a.details, '$.version') AS
		INT)), MAX(CAST(JSON_VALUE(a.details, '$.version') AS INT)))
		FROM audit_logs a JOIN organizations o ON o.id =
		a.organization_id WHERE o.name = '$ORG' AND
		a.action = 'secret.update'")" == "160 2 161" ]
	# Both stores keep the last 10 versions (Vault's max_versions 0).
	[ "$(store_versions "$ENV/HOT")" == 10 ]
	if [[ $VC_STORE == local ]]; then
		path=$(s_path "$ENV/HOT")
		[ "$(vc_sql "SELECT CONCAT_WS(' ', MIN(version), MAX(version))
			FROM vc_values WHERE path = '$path'")" == "152 161" ]
	fi
	[ "$(( $(usage "$ORG" | cut -d' ' -f2) - c0 ))" == 160 ]
	[ "$(usage "$ORG" | cut -d' ' -f1)" == 1 ]
	[[ $(vaultctl-secret get "$ENV/HOT") =~ ^writer[1-8]-[0-9]+$ ]]
	run -0 vaultctl-audit verify --org "$ORG"
}

# 8 writers of HOT at once, each with --cas of the version all of them
# read: one wins, the others exit 6 and write nothing.
t_concurrent_cas() {
	local d=$BATS_TEST_TMPDIR pids=() w
	s_here 10
	s_put "$ENV/HOT" initial
	s_put "$ENV/HOT" second
	for w in $(seq 8); do
		( rc=0
		  printf 'cas%s' "$w" | when_go vaultctl-secret -q set "$ENV/HOT" \
			--cas 2 2>"$d/err$w" || rc=$?
		  echo "$rc" >"$d/rc$w" ) 3>&- &
		pids+=($!)
	done
	touch "$d/go"
	wait "${pids[@]}"
	echo "exit codes: $(cat "$d"/rc* | sort | uniq -c | tr '\n' ' ')"
	[ "$(grep -lx 0 "$d"/rc* | wc -l)" == 1 ]
	[ "$(grep -lx 6 "$d"/rc* | wc -l)" == 7 ]
	same_version "$ENV/HOT" 3
	[ "$(audit_count "$ORG" secret.update)" == 2 ]
	w=$(grep -lx 0 "$d"/rc*)
	[ "$(vaultctl-secret get "$ENV/HOT")" == "cas${w##*rc}" ]
	! grep -q reconcile "$d"/err*
}

@test "local store: 16 concurrent creates, 5 free slots: 5 created, 11 exit 5" {
	on_store local
	t_concurrent_creates
}

@test "local store: 8 writers x 20 plain updates, one try each: all exit 0, contiguous versions, store = metadata = audit" {
	on_store local
	t_concurrent_writers
}

@test "local store: 8 writers with the same --cas at once: one wins, 7 exit 6" {
	on_store local
	t_concurrent_cas
}

@test "Vault store: 16 concurrent creates, 5 free slots: 5 created, 11 exit 5" {
	on_store vault
	t_concurrent_creates
}

@test "Vault store: 8 writers x 20 plain updates, one try each: all exit 0, contiguous versions, store = metadata = audit" {
	on_store vault
	t_concurrent_writers
}

@test "Vault store: 8 writers with the same --cas at once: one wins, 7 exit 6" {
	on_store vault
	t_concurrent_cas
}
