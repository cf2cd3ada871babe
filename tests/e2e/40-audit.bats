#!/usr/bin/env bats
# vaultctl-audit: log, stats, verify, reconcile and prune
# (vaultctl-audit(1)), on a real MariaDB server with the local value store.

bats_require_minimum_version 1.5.0
load helper

ADMIN=admin@example.com
ORGADMIN=orgadmin@example.com
MEMBER=member@example.com
OUTSIDER=outsider@example.com

setup_file() {
	vc_server_start
	env -u VAULTCTL_USER vaultctl-org user add "$ADMIN" --no-password \
		>/dev/null 2>&1 </dev/null
	export VAULTCTL_USER=$ADMIN
	local u
	for u in "$ORGADMIN" "$MEMBER" "$OUTSIDER"; do
		vaultctl-org -q user add "$u" --no-password
	done
	vaultctl-plan create free --price 0 --cycle monthly --secrets-limit 100 \
		>/dev/null
	local o
	for o in acme beta; do
		vaultctl-org -q create "$o"
		vaultctl-org -q member add "$o" "$ORGADMIN" --role admin
		vaultctl-org -q member add "$o" "$MEMBER" --role member
		vaultctl-org -q project create "$o/api"
		vaultctl-org -q env create "$o/api/prod"
	done
	printf 'postgres://db' | vaultctl-secret -q set acme/api/prod/DB_URL
	printf 'k1' | vaultctl-secret -q set acme/api/prod/API_KEY
	printf 'k2' | vaultctl-secret -q set acme/api/prod/API_KEY
	printf 'b' | vaultctl-secret -q set beta/api/prod/TOKEN
	# Reads write audit rows too: enough rows for several pages.
	local i
	for i in $(seq 1 12); do
		vaultctl-secret get acme/api/prod/DB_URL >/dev/null
	done
	VAULTCTL_USER=$MEMBER vaultctl-secret get acme/api/prod/API_KEY >/dev/null
}

teardown_file() {
	vc_server_stop
}

setup() {
	exec </dev/null
	export VAULTCTL_USER=$ADMIN
}

# fails CODE PATTERN CMD...: CMD exits CODE and says PATTERN on stderr.
fails() {
	local code=$1 pattern=$2
	shift 2
	run --separate-stderr "$@"
	if [ "$status" -ne "$code" ]; then
		echo "$*: exit $status, expected $code; stdout: $output; stderr: $stderr"
		return 1
	fi
	if [[ $stderr != *"$pattern"* ]]; then
		echo "$*: stderr does not say '$pattern': $stderr"
		return 1
	fi
}

org_id() {
	vc_sql "SELECT id FROM organizations WHERE name = '$1'"
}

# The audit trail as root sees it, to tamper with and to put back.
audit_save() {
	vc_sql "DROP TABLE IF EXISTS t_audit, t_heads, t_reads;
		CREATE TABLE t_audit AS SELECT * FROM audit_logs;
		CREATE TABLE t_heads AS SELECT * FROM audit_chain_heads;
		CREATE TABLE t_reads AS SELECT * FROM audit_reads"
}

audit_restore() {
	vc_sql "DELETE FROM audit_logs; INSERT INTO audit_logs SELECT * FROM t_audit;
		DELETE FROM audit_chain_heads;
		INSERT INTO audit_chain_heads SELECT * FROM t_heads;
		DELETE FROM audit_reads; INSERT INTO audit_reads SELECT * FROM t_reads;
		DROP TABLE t_audit, t_heads, t_reads"
}

# The newest row that lists reads (an export's).
list_seq() {
	vc_sql "SELECT MAX(seq) FROM audit_logs WHERE action = 'secret.read'
		AND resource_type = 'environment'"
}

# chain_py [ORG_ID...]: the chains checked from outside the tools.
chain_py() {
	python3 "$REPO/tests/galera/audit_chain.py" --config "$VAULTCTL_CONFIG" \
		"$VC_TEST_DIR/admin.cnf" "$VC_DATABASE" "$@"
}

# A seq in the middle of acme's chain.
middle_seq() {
	vc_sql "SELECT seq FROM audit_logs WHERE organization_id = '$(org_id acme)'
		ORDER BY seq LIMIT 1 OFFSET 5"
}

# --- log -------------------------------------------------------------------

@test "help needs no server and lists every command" {
	run env VAULTCTL_CONFIG=/nonexistent vaultctl-audit --help
	[ "$status" -eq 0 ]
	local c
	for c in log "stats recompute" "stats show" verify reconcile prune; do
		[[ $output == *"vaultctl-audit $c"* ]] || { echo "no $c"; return 1; }
	done
}

@test "log: newest first, the cursor on stderr when more rows follow" {
	ok vaultctl-audit log --limit 3
	local lines
	mapfile -t lines <<<"$output"
	[ "${#lines[@]}" -eq 4 ]
	[[ ${lines[0]} == SEQ*TIMESTAMP*USER*ORGANIZATION*ACTION* ]]
	local max
	max=$(vc_sql "SELECT MAX(seq) FROM audit_logs")
	[[ ${lines[1]} == "$max "* ]]
	[[ ${lines[3]} == "$((max - 2)) "* ]]
	[[ ${lines[1]} == *"$MEMBER"*acme*secret.read* ]]
	[ "$stderr" = "next: --after $((max - 2))" ]
	# The last page says nothing; -q never.
	ok vaultctl-audit log --limit 1000
	[ -z "$stderr" ]
	ok vaultctl-audit log -q --limit 3
	[ -z "$stderr" ]
}

@test "log -o json: rows and the next cursor in one object" {
	ok vaultctl-audit log --org acme --limit 4 -o json
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
rows = d["rows"]
assert len(rows) == 4, rows
assert [r["seq"] for r in rows] == sorted((r["seq"] for r in rows), reverse=True)
assert d["next"] == rows[-1]["seq"], d["next"]
assert all(r["organization"] == "acme" for r in rows)
r = rows[0]
assert set(r) == {"seq", "timestamp", "user", "user_id", "organization",
    "organization_id", "action", "resource_type", "resource_id",
    "ip_address", "user_agent", "details"}, set(r)
assert r["details"] == {"version": 2} and r["action"] == "secret.read", r
assert r["user_agent"].startswith("vaultctl-secret/")
' "$output"
	# The last page: next is null.
	ok vaultctl-audit log --org acme --limit 1000 -o json
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["next"] is None and len(d["rows"]) == int(sys.argv[2])
' "$output" "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE organization_id = '$(org_id acme)'")"
}

@test "log -o jsonl and -o csv parse back with every column" {
	local n
	n=$(vc_sql "SELECT COUNT(*) FROM audit_logs")
	ok vaultctl-audit log --limit 1000 -o jsonl
	python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
assert len(rows) == int(sys.argv[2]), len(rows)
g = [r for r in rows if r["organization_id"] is None]
assert g and all(r["action"].startswith(("user.", "plan.")) for r in g), g
' "$output" "$n"
	ok vaultctl-audit log --limit 1000 -o csv
	python3 -c '
import csv, io, json, sys
rows = list(csv.DictReader(io.StringIO(sys.argv[1], newline="")))
assert len(rows) == int(sys.argv[2]), len(rows)
assert list(rows[0]) == ["seq", "timestamp", "user", "user_id", "organization",
    "organization_id", "action", "resource_type", "resource_id", "ip_address",
    "user_agent", "details"], list(rows[0])
d = [json.loads(r["details"]) for r in rows if r["details"]]
assert {"version": 2} in d, d
assert all("," not in r["seq"] for r in rows)
' "$output" "$n"
	# RFC 4180 lines end with CRLF.
	[[ $output == *$'\r'* ]]
}

@test "log: pages with --after are disjoint and cover every row" {
	local after="" seqs="" page next
	while :; do
		ok vaultctl-audit log --limit 7 -o json ${after:+--after "$after"}
		# "NEXT SEQ SEQ ...", NEXT "-" on the last page.
		page=$(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print(d["next"] if d["next"] is not None else "-",
      *(r["seq"] for r in d["rows"]))
' "$output")
		next=${page%% *}
		seqs+=" ${page#* }"
		[ "$next" != - ] || break
		after=$next
	done
	# Every row once, newest first: as the table holds them.
	[ "$(echo $seqs)" = "$(vc_sql "SELECT seq FROM audit_logs ORDER BY
		\`timestamp\` DESC, seq DESC" | tr '\n' ' ' | sed 's/ $//')" ]
	[ "$(echo $seqs | tr ' ' '\n' | sort | uniq -d)" = "" ]
	[ "$(echo $seqs | wc -w)" -eq "$(vc_sql "SELECT COUNT(*) FROM audit_logs")" ]
}

@test "log filters: organization, user, action, resource type, time" {
	local acme beta member
	acme=$(org_id acme)
	beta=$(org_id beta)
	member=$(vc_sql "SELECT id FROM users WHERE email = '$MEMBER'")
	ok vaultctl-audit log --org beta --limit 1000 -o jsonl
	[ "$(wc -l <<<"$output")" -eq "$(vc_sql "SELECT COUNT(*) FROM audit_logs
		WHERE organization_id = '$beta'")" ]
	[[ $output != *"$acme"* ]]
	ok vaultctl-audit log --user "$MEMBER" -o jsonl
	[ "$(wc -l <<<"$output")" -eq 1 ]
	[[ $output == *"\"user_id\":\"$member\""*'"action":"secret.read"'* ]]
	ok vaultctl-audit log --org acme --action secret.read --limit 1000 -o csv
	[ "$(($(wc -l <<<"$output") - 1))" -eq 13 ]
	ok vaultctl-audit log --org acme --action 'secret.*' --limit 1000 -o jsonl
	[ "$(wc -l <<<"$output")" -eq 16 ]
	ok vaultctl-audit log --resource-type plan -o jsonl
	[ "$(wc -l <<<"$output")" -eq 1 ]
	[[ $output == *'"action":"plan.create"'* ]]
	# --since is inclusive, --until exclusive; ages count back from now.
	ok vaultctl-audit log --since 1h --limit 1000 -o jsonl
	[ "$(wc -l <<<"$output")" -eq "$(vc_sql "SELECT COUNT(*) FROM audit_logs")" ]
	ok vaultctl-audit log --until 1h -o jsonl
	[ -z "$output" ]
	ok vaultctl-audit log --since 2000-01-01 --until 2000-01-02T00:00:00Z -o jsonl
	[ -z "$output" ]
	local first
	first=$(vc_sql "SELECT DATE_FORMAT(MIN(\`timestamp\`), '%Y-%m-%dT%H:%i:%s+00:00')
		FROM audit_logs")
	ok vaultctl-audit log --until "$first" -o jsonl
	[ -z "$output" ]
	ok vaultctl-audit log --since "$first" --limit 1000 -o jsonl
	[ "$(wc -l <<<"$output")" -eq "$(vc_sql "SELECT COUNT(*) FROM audit_logs")" ]
	# The same instant with a zone: 2 hours ahead, or as a bare UTC time.
	local ahead bare
	ahead=$(vc_sql "SELECT DATE_FORMAT(MIN(\`timestamp\`) + INTERVAL 2 HOUR,
		'%Y-%m-%dT%H:%i:%s+02:00') FROM audit_logs")
	bare=$(vc_sql "SELECT DATE_FORMAT(MIN(\`timestamp\`), '%Y-%m-%d %H:%i:%s')
		FROM audit_logs")
	ok vaultctl-audit log --until "$ahead" -o jsonl
	[ -z "$output" ]
	ok vaultctl-audit log --until "$bare" -o jsonl
	[ -z "$output" ]
	ok vaultctl-audit log --since "$ahead" --limit 1000 -o jsonl
	[ "$(wc -l <<<"$output")" -eq "$(vc_sql "SELECT COUNT(*) FROM audit_logs")" ]
}

@test "log: bad input exits 2" {
	fails 2 "invalid time 'yesterday'" vaultctl-audit log --since yesterday
	fails 2 "invalid time '2024-02-30'" vaultctl-audit log --until 2024-02-30
	fails 2 "--limit" vaultctl-audit log --limit 0
	fails 2 "--limit" vaultctl-audit log --limit 10001
	fails 2 "--after" vaultctl-audit log --after x
	fails 2 "--follow" vaultctl-audit log --follow --until 1h
	fails 2 "jsonl" vaultctl-audit log --follow -o json
	fails 3 "user 'nobody@example.com' not found" \
		vaultctl-audit log --user nobody@example.com
	fails 3 "nope" vaultctl-audit log --org nope
}

@test "log: org admins read their organization, nobody else" {
	VAULTCTL_USER=$ORGADMIN ok vaultctl-audit log --org acme -o jsonl
	[ -n "$output" ]
	[[ $output != *'"organization_id":null'* ]]
	VAULTCTL_USER=$ORGADMIN fails 4 "global role admin" vaultctl-audit log
	VAULTCTL_USER=$MEMBER fails 4 "permission denied" \
		vaultctl-audit log --org acme
	VAULTCTL_USER=$OUTSIDER fails 4 "not a member" \
		vaultctl-audit log --org acme
}

@test "log --follow: the last rows, then new ones until SIGINT (exit 0)" {
	local out=$BATS_TEST_TMPDIR/follow
	timeout --preserve-status -s INT 5 vaultctl-audit log --follow \
		--org acme --limit 2 -o jsonl >"$out.out" 2>"$out.err" &
	local pid=$!
	sleep 1.5
	printf 'new' | vaultctl-secret -q set acme/api/prod/FOLLOWED
	vaultctl-org -q user add late@example.com --no-password
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$out.err"; return 1; }
	python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
seqs = [r["seq"] for r in rows]
assert len(rows) == 3, rows
assert seqs == sorted(seqs), seqs
assert rows[-1]["action"] == "secret.create", rows[-1]
assert all(r["organization"] == "acme" for r in rows)
' "$out.out"
}

# --- reads -----------------------------------------------------------------

@test "reads: an export of several secrets is one row, each read in the log per secret" {
	local acme env rows reads
	acme=$(org_id acme)
	env=$(vc_sql "SELECT e.id FROM environments e JOIN projects p ON p.id =
		e.project_id WHERE p.organization_id = '$acme' AND e.name = 'prod'")
	rows=$(vc_sql "SELECT COUNT(*) FROM audit_logs")
	reads=$(vc_reads)
	ok vaultctl-secret export acme/api/prod --format json
	[ "$(jq length <<<"$output")" -eq 3 ]
	# One chained row about the environment, three reads listed.
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs")" -eq $((rows + 1)) ]
	[ "$(vc_reads)" -eq $((reads + 3)) ]
	[ "$(vc_sql "SELECT CONCAT_WS(' ', action, resource_type, resource_id,
		JSON_VALUE(details, '$.reads')) FROM audit_logs WHERE seq =
		$(list_seq)")" = "secret.read environment $env 3" ]
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_reads WHERE seq = $(list_seq)")" -eq 3 ]
	# A second export, by the member: two reads of API_KEY by then.
	VAULTCTL_USER=$MEMBER ok vaultctl-secret export acme/api/prod --only \
		API_KEY,DB_URL
	# The log lists each secret's reads, old rows (get) and new alike,
	# filtered as before: --action, --resource-type secret, --user.
	ok vaultctl-audit log --org acme --action secret.read --resource-type \
		secret --limit 1000 -o jsonl
	python3 -c '
import json, subprocess, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
meta = dict(l.split("\t") for l in sys.argv[2].splitlines())
reads = {}
for r in rows:
    assert r["action"] == "secret.read", r
    if r["resource_type"] == "secret":
        reads.setdefault(r["resource_id"], []).append(
            (r["seq"], r["user"], r["details"]["version"]))
        continue
    d = r["details"]
    assert r["resource_type"] == "environment", r
    assert d["reads"] == len(d["secrets"]) and len(d["digest"]) == 64, d
    for s in d["secrets"]:
        reads.setdefault(s["id"], []).append((r["seq"], r["user"], s["version"]))
name = {v: k for k, v in meta.items()}
got = {name[i]: len(v) for i, v in reads.items()}
# setup: 12 gets of DB_URL and one of API_KEY; the two exports.
assert got == {"DB_URL": 14, "API_KEY": 3, "FOLLOWED": 1}, got
last = reads[meta["API_KEY"]][0]
assert last[1] == sys.argv[3] and last[2] == 2, last
' "$output" "$(vc_sql "SELECT name, id FROM secret_metadata WHERE
		organization_id = '$acme'")" "$MEMBER"
	ok vaultctl-audit log --org acme --user "$MEMBER" --limit 1 -o json
	[ "$(jq -r '.rows[0].details.secrets | map(.version) | join(" ")' \
		<<<"$output")" = "2 1" ]
	ok vaultctl-audit verify
	run -0 chain_py
}

@test "reads: verify catches a listed read changed, removed or inserted, and reads under no list" {
	local list acme seq n
	acme=$(org_id acme)
	list=$(list_seq)
	seq=$(middle_seq)
	n=$(vc_sql "SELECT COUNT(*) FROM audit_reads WHERE seq = $list")
	[ "$n" -ge 2 ]
	audit_save
	# A version changed: the digest the row's hash covers no longer holds.
	vc_sql "UPDATE audit_reads SET version = version + 1 WHERE seq = $list
		AND pos = 0"
	fails 8 "audit chain broken in 1 of 3 chains" vaultctl-audit verify
	[[ $output == *acme*"seq $list lists reads that audit_reads no longer holds"* ]]
	fails 8 "broken" vaultctl-audit verify --org acme
	run -1 chain_py
	[[ $output == *"seq $list: its reads do not match its digest"* ]]
	audit_restore
	ok vaultctl-audit verify
	# The same read given to another secret.
	audit_save
	vc_sql "UPDATE audit_reads SET secret_id = (SELECT id FROM secret_metadata
		WHERE name = 'DB_URL') WHERE seq = $list AND pos = 0"
	fails 8 "broken" vaultctl-audit verify --org acme
	[[ $output == *"seq $list lists reads"* ]]
	audit_restore
	# A read removed, and one added to the list.
	audit_save
	vc_sql "DELETE FROM audit_reads WHERE seq = $list AND pos = $((n - 1))"
	fails 8 "broken" vaultctl-audit verify --org acme
	[[ $output == *"seq $list lists reads"*"($((n - 1)) now)"* ]]
	vc_sql "INSERT INTO audit_reads SELECT seq, $n, secret_id, version FROM
		t_reads WHERE seq = $list AND pos = 0"
	fails 8 "broken" vaultctl-audit verify --org acme
	vc_sql "INSERT INTO audit_reads SELECT seq, $((n - 1)), secret_id, version
		FROM t_reads WHERE seq = $list AND pos = $((n - 1))"
	fails 8 "broken" vaultctl-audit verify --org acme
	[[ $output == *"($((n + 1)) now)"* ]]
	run -1 chain_py
	audit_restore
	ok vaultctl-audit verify
	# A read slipped under a row that lists none (a set, say).
	audit_save
	vc_sql "INSERT INTO audit_reads SELECT $seq, 0, secret_id, version FROM
		t_reads WHERE seq = $list AND pos = 0"
	fails 8 "broken" vaultctl-audit verify --org acme
	[[ $output == *"seq $seq lists no reads, and audit_reads holds 1 under it"* ]]
	run -1 chain_py
	[[ $output == *"seq $seq: reads under a row that lists none"* ]]
	audit_restore
	# Reads under no row at all: the global chain says so.
	audit_save
	vc_sql "INSERT INTO audit_reads SELECT 999999999, 0, secret_id, version
		FROM t_reads WHERE seq = $list AND pos = 0"
	fails 8 "broken" vaultctl-audit verify
	[[ $output == *"(global)"*"seq 999999999, which is no row of the audit log"* ]]
	run -1 chain_py
	audit_restore
	# The row that lists them removed: its chain breaks, its reads stray.
	audit_save
	vc_sql "DELETE FROM audit_logs WHERE seq = $list"
	fails 8 "broken" vaultctl-audit verify
	[[ $output == *"(global)"*"seq $list, which is no row"* ]]
	[[ $output == *acme*"chain head does not match"* || $output == *acme*"does not follow"* ]]
	audit_restore
	ok vaultctl-audit verify
	run -0 chain_py
	# The metadata account may add reads, never change or remove them.
	run vc_sql_as secrets_api_user "DELETE FROM audit_reads"
	[ "$status" -ne 0 ] && [[ $output == *"command denied"* ]]
	run vc_sql_as secrets_api_user "UPDATE audit_reads SET version = 1"
	[ "$status" -ne 0 ] && [[ $output == *"command denied"* ]]
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_reads WHERE seq = $list")" -eq "$n" ]
}

@test "reads: each read listed counts as an API call, live and recomputed" {
	local before
	ok vaultctl-audit stats recompute
	before=$(stats acme | cut -d' ' -f2)
	[ "$(stats acme)" = "$(truth acme)" ]
	ok vaultctl-secret export acme/api/prod --format json
	# Three values read: three calls, as three rows counted before.
	[ "$(stats acme | cut -d' ' -f2)" -eq $((before + 3)) ]
	[ "$(stats acme)" = "$(truth acme)" ]
	vc_sql "UPDATE usage_statistics SET api_calls = 0"
	ok vaultctl-audit stats recompute
	[ "$(stats acme | cut -d' ' -f2)" -eq $((before + 3)) ]
	[ "$(stats acme)" = "$(truth acme)" ]
	vc_sql "UPDATE usage_statistics SET api_calls = 0"
	ok vaultctl-audit stats recompute --org acme
	[ "$(stats acme)" = "$(truth acme)" ]
}

# --- verify ----------------------------------------------------------------

@test "verify: intact chains exit 0" {
	ok vaultctl-audit verify
	[[ $output =~ ^"audit chains intact ("[0-9]+" rows, 3 chains)"$ ]]
	ok vaultctl-audit verify -q
	[ -z "$output" ]
	VAULTCTL_USER=$ORGADMIN ok vaultctl-audit verify --org acme
	[[ $output == "audit chains intact ("*" rows, 1 chain)" ]]
	ok vaultctl-audit verify -o json
	python3 -c '
import json, sys
c = json.loads(sys.argv[1])
assert len(c) == 3 and all(x["intact"] and x["seq"] is None for x in c), c
assert {x["organization"] for x in c} == {"(global)", "acme", "beta"}
assert sum(x["rows"] for x in c) == int(sys.argv[2])
' "$output" "$(vc_sql "SELECT COUNT(*) FROM audit_logs")"
	VAULTCTL_USER=$ORGADMIN fails 4 "global role admin" vaultctl-audit verify
	VAULTCTL_USER=$MEMBER fails 4 "permission denied" \
		vaultctl-audit verify --org acme
}

@test "verify catches an edited row" {
	local seq
	seq=$(middle_seq)
	audit_save
	vc_sql "UPDATE audit_logs SET details = '{\"version\":9}' WHERE seq = $seq"
	fails 8 "audit chain broken in 1 of 3 chains" vaultctl-audit verify
	[[ $output == *acme*"$seq"*"seq $seq was edited"* ]]
	ok vaultctl-audit verify --org beta
	fails 8 "broken" vaultctl-audit verify --org acme -o json
	python3 -c '
import json, sys
c = json.loads(sys.argv[1])
assert len(c) == 1 and not c[0]["intact"] and c[0]["seq"] == int(sys.argv[2]), c
' "$output" "$seq"
	audit_restore
	ok vaultctl-audit verify
}

@test "verify catches a removed row" {
	local acme seq prev next
	acme=$(org_id acme)
	seq=$(middle_seq)
	prev=$(vc_sql "SELECT MAX(seq) FROM audit_logs WHERE seq < $seq AND
		organization_id = '$acme'")
	next=$(vc_sql "SELECT MIN(seq) FROM audit_logs WHERE seq > $seq AND
		organization_id = '$acme'")
	audit_save
	vc_sql "DELETE FROM audit_logs WHERE seq = $seq"
	fails 8 "broken" vaultctl-audit verify
	[[ $output == *acme*"seq $next does not follow seq $prev: a row between them was removed"* ]]
	audit_restore
	ok vaultctl-audit verify
}

@test "verify catches removal of the newest row" {
	local last
	last=$(vc_sql "SELECT MAX(seq) FROM audit_logs WHERE organization_id =
		'$(org_id beta)'")
	audit_save
	vc_sql "DELETE FROM audit_logs WHERE seq = $last"
	fails 8 "broken" vaultctl-audit verify --org beta
	[[ $output == *beta*"chain head does not match its last row"* ]]
	audit_restore
	ok vaultctl-audit verify --org beta
}

@test "verify catches an inserted row" {
	local seq
	seq=$(middle_seq)
	audit_save
	vc_sql "INSERT INTO audit_logs (id, user_id, organization_id, action,
		resource_type, resource_id, \`timestamp\`, ip_address, user_agent,
		details, prev_hash, row_hash) SELECT UUID(), user_id,
		organization_id, 'secret.read', resource_type, resource_id,
		\`timestamp\`, ip_address, user_agent, details, prev_hash, row_hash
		FROM audit_logs WHERE seq = $seq"
	local new
	new=$(vc_sql "SELECT MAX(seq) FROM audit_logs")
	fails 8 "broken" vaultctl-audit verify
	[[ $output == *acme*"seq $new does not follow"*"seq $new was inserted"* ]]
	audit_restore
	ok vaultctl-audit verify
}

@test "verify uses the audit key: keyed chains check only with it" {
	local key=$BATS_TEST_TMPDIR/audit.key cnf=$BATS_TEST_TMPDIR/keyed.cnf
	head -c 32 /dev/urandom >"$key"
	chmod 600 "$key"
	# Another key than the one sql/install.sh wrote.
	grep -q '^audit_key_file = ' "$VAULTCTL_CONFIG"
	awk -v k="$key" '!/^audit_key_file[ =]/ { print }
		/^\[vaultctl\]/ { print "audit_key_file = " k }' \
		"$VAULTCTL_CONFIG" >"$cnf"
	grep -v '^audit_key_file[ =]' "$VAULTCTL_CONFIG" >"$cnf.none"
	chmod 600 "$cnf" "$cnf.none"
	vaultctl-org -c "$cnf" -q create keyed
	vaultctl-org -c "$cnf" -q project create keyed/p
	ok vaultctl-audit -c "$cnf" verify --org keyed
	# Not with the installer's key, nor with none.
	fails 8 "broken" vaultctl-audit verify --org keyed
	[[ $output == *keyed*"audit key this configuration lacks"* ]]
	fails 8 "broken" vaultctl-audit -c "$cnf.none" verify --org keyed
	[[ $output == *keyed*"audit key this configuration lacks"* ]]
	# Nor do chains written under the installer's key with another one.
	fails 8 "broken" vaultctl-audit -c "$cnf" verify --org beta
	[[ $output == *beta*"audit key this configuration lacks"* ]]
	# Gone again, with its keyed chain, for the tests that follow.
	vc_sql "DELETE FROM audit_logs WHERE organization_id = '$(org_id keyed)';
		DELETE FROM audit_chain_heads WHERE chain = '$(org_id keyed)';
		DELETE FROM organizations WHERE name = 'keyed'"
	ok vaultctl-audit verify
}

# --- stats -----------------------------------------------------------------

# truth ORG: secret_count api_calls from the source tables: the audit rows
# since the subscription's start (a row that lists reads counting each of
# them), and the metadata reads counted apart.
truth() {
	local id since
	id=$(org_id "$1")
	since="a.organization_id = '$id' AND a.\`timestamp\` >= (SELECT
		MAX(start_date) FROM subscriptions WHERE organization_id = '$id' AND
		status = 'active')"
	vc_sql "SELECT (SELECT COUNT(*) FROM secret_metadata WHERE
		organization_id = '$id' AND deleted_at IS NULL), (SELECT COUNT(*)
		FROM audit_logs a WHERE $since AND NOT (a.action = 'secret.read' AND
		a.resource_type = 'environment')) + (SELECT COUNT(*) FROM audit_logs a
		JOIN audit_reads r ON r.seq = a.seq WHERE $since) + (SELECT
		COALESCE(MAX(read_calls), 0) FROM usage_statistics WHERE
		organization_id = '$id')" | tr '\t' ' '
}

stats() {
	vc_sql "SELECT secret_count, api_calls FROM usage_statistics WHERE
		organization_id = '$(org_id "$1")'" | tr '\t' ' '
}

@test "stats recompute restores the truth after damage, silently" {
	vc_sql "UPDATE usage_statistics SET secret_count = 99, api_calls = 0;
		DELETE FROM usage_statistics WHERE organization_id = '$(org_id beta)'"
	printf 'x' | vaultctl-secret -q set acme/api/prod/GONE
	vaultctl-secret -q rm --yes acme/api/prod/GONE
	# For cron: no acting user needed, nothing on stdout or stderr.
	run --separate-stderr env -u VAULTCTL_USER vaultctl-audit stats recompute
	[ "$status" -eq 0 ] && [ -z "$output" ] && [ -z "$stderr" ]
	[ "$(stats acme)" = "$(truth acme)" ]
	[ "$(stats beta)" = "$(truth beta)" ]
	[ "$(stats acme | cut -d' ' -f1)" -eq 3 ]
	# Idempotent.
	local before
	before=$(vc_sql "SELECT organization_id, secret_count, api_calls FROM
		usage_statistics ORDER BY organization_id")
	ok vaultctl-audit stats recompute -v
	[[ $output == "recomputed usage statistics of 2 organizations" ]]
	[ "$before" = "$(vc_sql "SELECT organization_id, secret_count, api_calls
		FROM usage_statistics ORDER BY organization_id")" ]
}

@test "stats recompute --org touches that organization only" {
	vc_sql "UPDATE usage_statistics SET secret_count = 77"
	ok vaultctl-audit stats recompute --org beta
	[ "$(stats beta)" = "$(truth beta)" ]
	[ "$(stats acme | cut -d' ' -f1)" -eq 77 ]
	ok vaultctl-audit stats recompute
	[ "$(stats acme)" = "$(truth acme)" ]
}

@test "stats recompute is single-instance: a live lock exits 6, an expired one is taken over" {
	vc_sql "INSERT INTO maintenance_locks VALUES ('stats-recompute',
		'cron-b:4242', UTC_TIMESTAMP(), UTC_TIMESTAMP() + INTERVAL 5 MINUTE)"
	vc_sql "UPDATE usage_statistics SET secret_count = 55"
	fails 6 "another stats recompute is running (holder cron-b:4242" \
		vaultctl-audit stats recompute
	[ "$(stats acme | cut -d' ' -f1)" -eq 55 ]
	vc_sql "UPDATE maintenance_locks SET expires_at = UTC_TIMESTAMP() -
		INTERVAL 1 MINUTE"
	ok vaultctl-audit stats recompute
	[ "$(stats acme)" = "$(truth acme)" ]
	[ "$(vc_sql "SELECT COUNT(*) FROM maintenance_locks")" -eq 0 ]
	vc_sql "INSERT INTO maintenance_locks VALUES ('stats-recompute',
		'cron-b:4242', UTC_TIMESTAMP(), UTC_TIMESTAMP() + INTERVAL 5 MINUTE)"
	fails 6 "another stats recompute" vaultctl-audit stats recompute
	vc_sql "DELETE FROM maintenance_locks"
	ok vaultctl-audit stats recompute
}

@test "stats recompute: runs at the same time each finish or exit 6" {
	local i dir=$BATS_TEST_TMPDIR
	for i in 1 2 3 4 5 6; do
		(rc=0; vaultctl-audit stats recompute 2>"$dir/err.$i" || rc=$?
		 echo "$rc" >"$dir/rc.$i") &
	done
	wait
	local winners=0
	for i in 1 2 3 4 5 6; do
		case $(cat "$dir/rc.$i") in
		0) winners=$((winners + 1)) ;;
		6) grep -q "another stats recompute is running" "$dir/err.$i" ;;
		*) cat "$dir/err.$i"; return 1 ;;
		esac
	done
	[ "$winners" -ge 1 ]
	[ "$(stats acme)" = "$(truth acme)" ]
	[ "$(vc_sql "SELECT COUNT(*) FROM maintenance_locks")" -eq 0 ]
}

@test "stats show: per organization, json, members see their own" {
	ok vaultctl-audit stats show
	[[ ${lines[0]} == ORGANIZATION*SECRET_COUNT*API_CALLS*LAST_UPDATED* ]]
	[[ $output == *acme*beta* ]]
	# The truth when it runs: its own call is counted as it ends.
	local want
	want=$(truth acme)
	ok vaultctl-audit stats show --org acme -o json
	python3 -c '
import json, sys
s = json.loads(sys.argv[1])
assert len(s) == 1 and s[0]["organization"] == "acme", s
assert [s[0]["secret_count"], s[0]["api_calls"]] == [int(x) for x in sys.argv[2].split()]
' "$output" "$want"
	[ "$(stats acme | cut -d' ' -f2)" -eq $(($(cut -d' ' -f2 <<<"$want") + 1)) ]
	VAULTCTL_USER=$MEMBER ok vaultctl-audit stats show -o json
	python3 -c '
import json, sys
assert sorted(x["organization"] for x in json.loads(sys.argv[1])) == ["acme", "beta"]
' "$output"
	VAULTCTL_USER=$OUTSIDER fails 4 "not a member" \
		vaultctl-audit stats show --org acme
}

# --- reconcile -------------------------------------------------------------

@test "reconcile: metadata and value store agree" {
	ok vaultctl-audit reconcile
	[[ $output == "metadata and value store agree ("*" secrets)" ]]
	ok vaultctl-audit reconcile -o json
	[ "$output" = "[]" ]
	VAULTCTL_USER=$ORGADMIN ok vaultctl-audit reconcile --org acme
	VAULTCTL_USER=$ORGADMIN fails 4 "global role admin" vaultctl-audit reconcile
	VAULTCTL_USER=$MEMBER fails 4 "permission denied" \
		vaultctl-audit reconcile --org acme
}

@test "reconcile finds each kind of drift and --fix repairs what it can" {
	printf 'a' | vaultctl-secret -q set acme/api/prod/ORPHAN
	printf 'b' | vaultctl-secret -q set acme/api/prod/LOST
	printf 'c' | vaultctl-secret -q set acme/api/prod/DRIFT
	printf 'd' | vaultctl-secret -q set acme/api/prod/DRIFT
	vc_sql "DELETE FROM secret_metadata WHERE name = 'ORPHAN'"
	vc_sql "DELETE FROM vc_values WHERE path LIKE '%/secrets/LOST';
		DELETE FROM vc_value_keys WHERE path LIKE '%/secrets/LOST'"
	vc_sql "UPDATE secret_metadata SET version = 7 WHERE name = 'DRIFT'"

	fails 8 "3 inconsistencies" vaultctl-audit reconcile
	[[ $output == *value-without-metadata*acme/api/prod/ORPHAN* ]]
	[[ $output == *metadata-without-value*acme/api/prod/LOST* ]]
	[[ $output == *version-drift*acme/api/prod/DRIFT*" 7 "*" 2 "* ]]
	fails 8 "3 inconsistencies" vaultctl-audit reconcile --org acme -o json
	python3 -c '
import json, sys
d = {x["kind"]: x for x in json.loads(sys.argv[1])}
assert set(d) == {"value-without-metadata", "metadata-without-value", "version-drift"}, d
v = d["version-drift"]
assert (v["metadata_version"], v["store_version"]) == (7, 2), v
assert d["value-without-metadata"]["path"].endswith("/secrets/ORPHAN")
assert d["metadata-without-value"]["store_version"] is None
' "$output"
	ok vaultctl-audit reconcile --org beta

	# Removing values needs a confirmation: refused, nothing changed.
	fails 2 "--yes" vaultctl-audit reconcile --fix
	[ "$(vc_sql "SELECT version FROM secret_metadata WHERE name = 'DRIFT'")" -eq 7 ]

	fails 8 "1 inconsistency between metadata and the value store left" \
		vaultctl-audit reconcile --fix --yes
	[[ $output == *DRIFT*"adopted the store's version 2"* ]]
	[[ $output == *ORPHAN*"removed the value"* ]]
	[[ $output == *LOST*"not fixed"* ]]
	[ "$(vc_sql "SELECT version FROM secret_metadata WHERE name = 'DRIFT'")" -eq 2 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM vc_value_keys WHERE path LIKE
		'%/secrets/ORPHAN'")" -eq 0 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE action IN
		('secret.adopt_version', 'secret.remove_orphan')")" -eq 2 ]
	ok vaultctl-secret get acme/api/prod/DRIFT
	[ "$output" = d ]

	fails 8 "1 inconsistency" vaultctl-audit reconcile
	[[ $output == *metadata-without-value*LOST* ]]
	vaultctl-secret -q purge --yes acme/api/prod/LOST || true
	vc_sql "DELETE FROM secret_metadata WHERE name = 'LOST'"
	ok vaultctl-audit reconcile
	ok vaultctl-audit verify
}

# --- prune -----------------------------------------------------------------

@test "prune: the administrative account comes from admin_config's file only" {
	local cnf=$BATS_TEST_TMPDIR/noadmin.cnf admin
	admin=$(sed -n 's/^admin_config = //p' "$VAULTCTL_CONFIG")
	[ -f "$admin" ]
	grep -q '^\[vaultctl-admin\]' "$admin"
	[ "$(grep -c vault_mysql_user "$VAULTCTL_CONFIG")" = 0 ]
	(umask 077 && grep -v '^admin_config = ' "$VAULTCTL_CONFIG" >"$cnf")
	fails 2 "admin_config" vaultctl-audit -c "$cnf" prune --before 2000-01-01 --yes
	# The account's group back in the tools' configuration: refused.
	(umask 077 && { cat "$cnf"; sed 1d "$admin"; } >"$cnf.2")
	fails 2 "[vaultctl-admin]" vaultctl-audit -c "$cnf.2" prune --before 2000-01-01 --yes
	# A file others may read is no place for it.
	(umask 077 && cp "$admin" "$BATS_TEST_TMPDIR/admin.cnf")
	chmod 644 "$BATS_TEST_TMPDIR/admin.cnf"
	(umask 077 && { cat "$cnf"; printf '[vaultctl]\nadmin_config = %s\n' \
		"$BATS_TEST_TMPDIR/admin.cnf"; } >"$cnf.3")
	fails 4 "0644" vaultctl-audit -c "$cnf.3" prune --before 2000-01-01 --yes
	chmod 600 "$BATS_TEST_TMPDIR/admin.cnf"
	ok vaultctl-audit -c "$cnf.3" prune --before 2000-01-01 --yes
}

@test "prune: deletes old rows with the admin account, verify stays intact" {
	fails 2 "--before" vaultctl-audit prune
	fails 2 "invalid time" vaultctl-audit prune --before soon
	VAULTCTL_USER=$ORGADMIN fails 4 "global role admin" \
		vaultctl-audit prune --before 1d --yes
	ok vaultctl-audit prune --before 2000-01-01 --yes
	[ "$output" = "no audit rows older than 2000-01-01 00:00:00 UTC" ]

	sleep 1
	local cut sqlcut kept total n
	cut=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	sqlcut=${cut/T/ }
	sqlcut=${sqlcut%Z}
	sleep 1
	printf 'n' | vaultctl-secret -q set acme/api/prod/AFTER
	n=$(vaultctl-secret export acme/api/prod --format json | jq length)
	[ "$n" -ge 2 ]
	vaultctl-org -q user add after@example.com --no-password
	total=$(vc_sql "SELECT COUNT(*) FROM audit_logs")
	kept=$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE \`timestamp\` >=
		'$sqlcut'")
	[ "$kept" -eq 3 ]
	# Exports before the cut listed reads, which go with their rows.
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_reads")" -gt "$n" ]

	# Off a terminal without --yes: refused, nothing deleted.
	fails 2 "--yes" vaultctl-audit prune --before "$cut"
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs")" -eq "$total" ]

	ok vaultctl-audit prune --before "$cut" --yes
	[ "$output" = "pruned $((total - kept)) audit rows older than $sqlcut UTC" ]
	# The three new rows and the prune's own row in the global chain; the
	# reads of the export after the cut only.
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs")" -eq 4 ]
	[ "$(vc_sql "SELECT action FROM audit_logs ORDER BY seq DESC LIMIT 1")" = audit.prune ]
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_chain_heads WHERE anchor_hash
		IS NOT NULL")" -eq 3 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_reads")" -eq "$n" ]
	[ "$(vc_sql "SELECT COUNT(DISTINCT r.seq) FROM audit_reads r JOIN
		audit_logs a ON a.seq = r.seq")" -eq 1 ]
	ok vaultctl-audit verify
	[ "$output" = "audit chains intact (4 rows, 3 chains)" ]
	run -0 chain_py

	# The chains go on from their anchors, and tampering still shows.
	printf 'm' | vaultctl-secret -q set acme/api/prod/AFTER
	ok vaultctl-audit verify
	audit_save
	vc_sql "DELETE FROM audit_logs WHERE action = 'secret.create'
		AND organization_id = '$(org_id acme)'"
	fails 8 "broken" vaultctl-audit verify --org acme
	[[ $output == *"does not follow the chain's start"* ]]
	audit_restore
	ok vaultctl-audit verify

	# The metadata account may not delete audit rows itself.
	run vc_sql_as secrets_api_user "DELETE FROM audit_logs"
	[ "$status" -ne 0 ]
	[[ $output == *"command denied"* ]]
}

# --- a database from before audit_reads --------------------------------------

teardown() {
	[ ! -e "$BATS_TEST_TMPDIR/old/admin.cnf" ] ||
		"$REPO/tests/harness/mariadb.sh" stop "$BATS_TEST_TMPDIR/old" \
			>/dev/null 2>&1 || true
}

@test "reads: a database from before migration 012 verifies after it, its rows and the new ones" {
	local dir=$BATS_TEST_TMPDIR/old sql=$BATS_TEST_TMPDIR/sql-011 f
	old_sql() {
		mariadb --defaults-file="$dir/admin.cnf" docksky_vault -N -B -e "$1"
	}
	# The installer and the migrations but 012: a database as it was
	# (the installer granted audit_logs alone then).
	mkdir "$sql"
	sed 's/for t in audit_logs audit_reads; do/for t in audit_logs; do/' \
		"$REPO/sql/install.sh" >"$sql/install.sh"
	chmod +x "$sql/install.sh"
	grep -q 'for t in audit_logs; do' "$sql/install.sh"
	# 013 and later too: today's tools write their columns (the value's
	# MAC), and they do not touch the audit's shape this test is about.
	for f in "$REPO"/sql/[0-9]*.sql; do
		[[ ${f##*/} == 012* ]] || cp "$f" "$sql/"
	done
	"$REPO/tests/harness/mariadb.sh" start "$dir" >/dev/null
	"$sql/install.sh" -q --defaults-file "$dir/admin.cnf" \
		--config-out "$dir/vaultctl.cnf"
	export VAULTCTL_CONFIG=$dir/vaultctl.cnf
	[ -z "$(old_sql "SHOW TABLES LIKE 'audit_reads'")" ]
	env -u VAULTCTL_USER vaultctl-org user add "$ADMIN" --no-password \
		>/dev/null 2>&1
	vaultctl-plan create free --price 0 --cycle monthly --secrets-limit 100 \
		>/dev/null
	vaultctl-org -q create old
	vaultctl-org -q project create old/api
	vaultctl-org -q env create old/api/prod
	vaultctl-org -q env create old/api/one
	printf 'a' | vaultctl-secret -q set old/api/prod/A
	printf 'b' | vaultctl-secret -q set old/api/prod/B
	printf 'c' | vaultctl-secret -q set old/api/one/C
	# Reads in the shape they had then: a row per value read.
	vaultctl-secret get old/api/prod/A >/dev/null
	vaultctl-secret get old/api/prod/B >/dev/null
	vaultctl-secret export old/api/one >/dev/null
	[ "$(old_sql "SELECT COUNT(*) FROM audit_logs WHERE action =
		'secret.read' AND resource_type = 'secret'")" -eq 3 ]
	local before
	before=$(old_sql "SELECT seq, HEX(row_hash) FROM audit_logs ORDER BY seq")

	# The migration: the old rows stay as they were and verify as before.
	"$REPO/sql/install.sh" -q --defaults-file "$dir/admin.cnf" \
		--config-out "$dir/vaultctl.cnf"
	[ "$(old_sql "SELECT name FROM schema_migrations WHERE version = 12")" = \
		012-audit-reads.sql ]
	[ "$(old_sql "SELECT seq, HEX(row_hash) FROM audit_logs ORDER BY seq")" = \
		"$before" ]
	ok vaultctl-audit verify
	# New reads take the new shape, and every one verifies.
	ok vaultctl-secret export old/api/prod
	[ "$(old_sql "SELECT COUNT(*) FROM audit_reads")" -eq 2 ]
	ok vaultctl-audit verify
	[[ $output == "audit chains intact ("*" rows, 2 chains)" ]]
	run -0 python3 "$REPO/tests/galera/audit_chain.py" --config \
		"$VAULTCTL_CONFIG" "$dir/admin.cnf" docksky_vault
	# The log lists both: A read by a get, then by the export.
	ok vaultctl-audit log --org old --action secret.read -o jsonl
	python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
ids = []
for r in rows:
    d = r["details"]
    ids += [s["id"] for s in d["secrets"]] if "secrets" in d else [r["resource_id"]]
a = sys.argv[2]
assert ids.count(a) == 2 and len(ids) == 5, ids
' "$output" "$(old_sql "SELECT id FROM secret_metadata WHERE name = 'A'")"
	# A tampered read of the new shape shows; the old rows still verify.
	old_sql "UPDATE audit_reads SET version = 5 WHERE pos = 1"
	fails 8 "broken" vaultctl-audit verify
	[[ $output == *"lists reads that audit_reads no longer holds"* ]]
	old_sql "UPDATE audit_reads SET version = 1 WHERE pos = 1"
	ok vaultctl-audit verify
	# Usage: each read one call, whichever shape.
	local calls
	calls=$(old_sql "SELECT api_calls FROM usage_statistics u JOIN
		organizations o ON o.id = u.organization_id WHERE o.name = 'old'")
	old_sql "UPDATE usage_statistics SET api_calls = 0"
	ok vaultctl-audit stats recompute
	[ "$(old_sql "SELECT api_calls FROM usage_statistics u JOIN
		organizations o ON o.id = u.organization_id WHERE o.name = 'old'")" \
		-eq "$calls" ]
}
