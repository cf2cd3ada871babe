#!/usr/bin/env bats
# An audit trail a database administrator cannot bend (vaultctl-audit(1)):
# keyed epochs and authenticated chain heads, verify --anchor, rekey,
# refused attempts and failed authentication in the log, and API calls
# counted for every command against an organization.  The administrator
# is the server's root (vc_sql), who may do anything to the tables but
# has no audit key.

bats_require_minimum_version 1.5.0
load helper

ADMIN=admin@example.com
MEMBER=member@example.com
VIEWER=viewer@example.com
OUTSIDER=outsider@example.com
VALUE='postgres://trust-value-8d1f'
PW='c0rrect-h0rse-4udit'

setup_file() {
	vc_server_start
	# Two configurations: without a key (the rows an old database has),
	# and naming a key that does not exist yet.  Whatever the installer
	# wrote about keys is left out of both.
	local plain=$VC_TEST_DIR/plain.cnf keyed=$VC_TEST_DIR/keyed.cnf
	grep -v '^audit_key_file[ =]' "$VAULTCTL_CONFIG" >"$plain"
	awk -v k="$VC_TEST_DIR/keys/audit.key" '{ print }
		/^\[vaultctl\]/ { print "audit_key_file = " k }' "$plain" >"$keyed"
	chmod 600 "$plain" "$keyed"
	mkdir -m 700 "$VC_TEST_DIR/keys"
	export VAULTCTL_CONFIG=$plain
	env -u VAULTCTL_USER vaultctl-org user add "$ADMIN" --no-password \
		>/dev/null 2>&1 </dev/null
	export VAULTCTL_USER=$ADMIN
	local u
	for u in "$MEMBER" "$VIEWER" "$OUTSIDER"; do
		vaultctl-org -q user add "$u" --no-password
	done
	vaultctl-plan create free --price 0 --cycle monthly --secrets-limit 100 \
		>/dev/null
	vaultctl-org -q create acme
	vaultctl-org -q member add acme "$MEMBER" --role member
	vaultctl-org -q member add acme "$VIEWER" --role viewer
	vaultctl-org -q project create acme/api
	vaultctl-org -q env create acme/api/prod
	printf '%s' "$VALUE" | vaultctl-secret -q set acme/api/prod/DB_URL
	local i
	for i in 1 2 3; do
		printf 'k%s' "$i" | vaultctl-secret -q set acme/api/prod/API_KEY
	done
	vaultctl-secret get acme/api/prod/DB_URL >/dev/null
}

teardown_file() {
	vc_server_stop
}

setup() {
	exec </dev/null
	export VAULTCTL_USER=$ADMIN
	PLAIN=$VC_TEST_DIR/plain.cnf
	KEYED=$VC_TEST_DIR/keyed.cnf
	KEY=$VC_TEST_DIR/keys/audit.key
	ANCHOR=$VC_TEST_DIR/audit.anchor
	# Once the key exists, the tools use it.
	if [ -e "$KEY" ]; then
		export VAULTCTL_CONFIG=$KEYED
	else
		export VAULTCTL_CONFIG=$PLAIN
	fi
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

# The audit trail as the administrator sees it, to tamper with and put back.
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

# newest ORG [OFFSET]: the seq of acme's newest row (or the one OFFSET
# rows older).
newest() {
	vc_sql "SELECT seq FROM audit_logs WHERE organization_id = '$(org_id "$1")'
		ORDER BY seq DESC LIMIT 1 OFFSET ${2:-0}"
}

# cut_newest ORG: what an administrator without the key can do: delete
# the chain's newest row and point the head at the row before it.
cut_newest() {
	local id seq prev
	id=$(org_id "$1")
	seq=$(newest "$1")
	prev=$(newest "$1" 1)
	vc_sql "DELETE FROM audit_logs WHERE seq = $seq;
		UPDATE audit_chain_heads SET last_seq = $prev, last_hash =
		(SELECT row_hash FROM audit_logs WHERE seq = $prev) WHERE chain = '$id'"
}

api_calls() {
	vc_sql "SELECT api_calls FROM usage_statistics WHERE organization_id =
		'$(org_id "$1")'"
}

read_calls() {
	vc_sql "SELECT read_calls FROM usage_statistics WHERE organization_id =
		'$(org_id "$1")'"
}

@test "a key enabled on an unkeyed database: verify intact, new rows keyed in a new epoch" {
	[ "$VAULTCTL_CONFIG" = "$PLAIN" ]
	ok vaultctl-audit verify
	head -c 32 /dev/urandom >"$KEY"
	chmod 600 "$KEY"
	# Enabling it does not break verify on the rows written without it.
	ok vaultctl-audit -c "$KEYED" verify
	[[ $output == "audit chains intact ("* ]]
	printf 'v2' | vaultctl-secret -c "$KEYED" -q set acme/api/prod/DB_URL
	# The write started epoch 1 of acme's chain, linked to its last
	# unkeyed row, and the head is keyed now.
	local id
	id=$(org_id acme)
	[ "$(vc_sql "SELECT action FROM audit_logs WHERE organization_id = '$id'
		ORDER BY seq DESC LIMIT 1 OFFSET 1")" = audit.epoch ]
	run vc_sql "SELECT JSON_VALUE(details, '$.epoch'),
		JSON_VALUE(details, '$.reason'), JSON_VALUE(details, '$.previous_key_id')
		FROM audit_logs WHERE organization_id = '$id' AND action = 'audit.epoch'"
	[ "$output" = "$(printf '1\tkey enabled\tNULL')" ]
	[ "$(vc_sql "SELECT epoch, key_id IS NOT NULL, head_mac IS NOT NULL FROM
		audit_chain_heads WHERE chain = '$id'")" = "$(printf '1\t1\t1')" ]
	ok vaultctl-audit -c "$KEYED" verify
	# Without the key, the keyed epoch cannot be checked.
	fails 8 "broken" vaultctl-audit -c "$PLAIN" verify --org acme
	[[ $output == *acme*"audit key"*"this configuration lacks"* ]]
	# A chain written without a key that a keyed write has not reached yet
	# stays in its unkeyed first epoch: the global one, here.
	[ "$(vc_sql "SELECT epoch, key_id IS NULL FROM audit_chain_heads
		WHERE chain = ''")" = "$(printf '0\t1')" ]
	# And without the key, a keyed chain is not extended.
	run --separate-stderr bash -c "printf x | vaultctl-secret -c '$PLAIN' set acme/api/prod/NOKEY"
	[ "$status" -ne 0 ]
	[[ $stderr == *"audit chain is keyed"*"audit_key_file"* ]]
}

@test "a row edited, or the newest cut with its head pointed back: exit 8" {
	audit_save
	vc_sql "UPDATE audit_logs SET details = '{\"version\":99}' WHERE seq = $(newest acme)"
	fails 8 "broken" vaultctl-audit verify --org acme
	[[ $output == *"was edited"* ]]
	audit_restore

	printf 'v3' | vaultctl-secret -q set acme/api/prod/DB_URL
	ok vaultctl-audit verify
	audit_save
	cut_newest acme
	# The rows left are a consistent chain; the head gives the cut away.
	fails 8 "broken" vaultctl-audit verify
	[[ $output == *acme*"chain head is not authenticated"* ]]
	# A write on top of that head does not bury it: the write starts an
	# epoch that records the head it found.
	printf 'v4' | vaultctl-secret -q set acme/api/prod/DB_URL
	[ "$(vc_sql "SELECT JSON_VALUE(details, '$.reason') FROM audit_logs
		WHERE seq = $(newest acme 1)")" = "head not authenticated" ]
	fails 8 "broken" vaultctl-audit verify --org acme
	[[ $output == *"was written after the chain head had been changed outside vaultctl"* ]]
	audit_restore
	ok vaultctl-audit verify

	# Stripping the head of its key (to pass for an old, unkeyed chain)
	# shows too, and so does a forged MAC.
	audit_save
	vc_sql "UPDATE audit_chain_heads SET key_id = NULL, head_mac = NULL
		WHERE chain = '$(org_id acme)'"
	fails 8 "broken" vaultctl-audit verify --org acme
	[[ $output == *"not authenticated"* ]]
	vc_sql "UPDATE audit_chain_heads h JOIN t_heads t ON t.chain = h.chain
		SET h.key_id = t.key_id, h.head_mac = UNHEX(REPEAT('ab', 32))
		WHERE h.chain = '$(org_id acme)'"
	fails 8 "broken" vaultctl-audit verify --org acme
	audit_restore
	ok vaultctl-audit verify --org acme

	# A chain begun under the key starts from the key's genesis hash, not
	# from zeros: its head cannot pass for one from before keys either.
	vaultctl-org -q create beta
	vaultctl-org -q project create beta/p
	vaultctl-org -q project create beta/q
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE organization_id =
		'$(org_id beta)' AND action = 'audit.epoch'")" -eq 0 ]
	[ "$(vc_sql "SELECT prev_hash = REPEAT(CHAR(0), 32) FROM audit_logs
		WHERE organization_id = '$(org_id beta)' ORDER BY seq LIMIT 1")" -eq 0 ]
	ok vaultctl-audit verify --org beta
	audit_save
	cut_newest beta
	vc_sql "UPDATE audit_chain_heads SET key_id = NULL, head_mac = NULL
		WHERE chain = '$(org_id beta)'"
	fails 8 "broken" vaultctl-audit verify --org beta
	[[ $output == *"not authenticated: its key was removed"* ]]
	run -1 python3 "$REPO/tests/galera/audit_chain.py" --config "$KEYED" \
		"$VC_TEST_DIR/admin.cnf" "$VC_DATABASE" "$(org_id beta)"
	[[ $output == *"head is not keyed"* ]]
	audit_restore
	ok vaultctl-audit verify
}

@test "verify --anchor catches a chain wound back to an earlier consistent state" {
	rm -f "$ANCHOR"
	ok vaultctl-audit verify --anchor "$ANCHOR"
	[ "$(stat -c %a "$ANCHOR")" = 600 ]
	grep -q "^$(org_id acme) $(newest acme) [0-9a-f]\{64\}\$" "$ANCHOR"
	grep -q '^- [0-9]* [0-9a-f]\{64\}$' "$ANCHOR"

	# The administrator keeps a copy of the head (its MAC is valid).
	vc_sql "DROP TABLE IF EXISTS t_head; CREATE TABLE t_head AS
		SELECT * FROM audit_chain_heads WHERE chain = '$(org_id acme)'"
	printf 'v5' | vaultctl-secret -q set acme/api/prod/DB_URL
	ok vaultctl-audit verify --anchor "$ANCHOR"
	grep -q "^$(org_id acme) $(newest acme) " "$ANCHOR"
	audit_save
	# Cut the newest row and put the old head back: consistent in itself.
	vc_sql "DELETE FROM audit_logs WHERE seq = $(newest acme);
		UPDATE audit_chain_heads h JOIN t_head t ON t.chain = h.chain SET
		h.last_seq = t.last_seq, h.last_hash = t.last_hash, h.epoch = t.epoch,
		h.key_id = t.key_id, h.head_mac = t.head_mac; DROP TABLE t_head"
	ok vaultctl-audit verify
	local before
	before=$(cat "$ANCHOR")
	fails 8 "broken" vaultctl-audit verify --anchor "$ANCHOR"
	[[ $output == *acme*"the newest row when the anchor file was written, is gone"* ]]
	# The evidence stays in the file, and a write on top does not help.
	[ "$(cat "$ANCHOR")" = "$before" ]
	printf 'v6' | vaultctl-secret -q set acme/api/prod/DB_URL
	fails 8 "broken" vaultctl-audit verify --org acme --anchor "$ANCHOR"
	audit_restore
	ok vaultctl-audit verify --anchor "$ANCHOR"
	# A row rewritten in place at the anchored seq is caught as well.
	audit_save
	vc_sql "UPDATE audit_logs SET row_hash = UNHEX(REPEAT('cd', 32))
		WHERE seq = $(newest acme)"
	fails 8 "broken" vaultctl-audit verify --org acme --anchor "$ANCHOR"
	audit_restore
	ok vaultctl-audit verify --anchor "$ANCHOR"
	# A damaged file is an error, not a silent restart.
	printf 'nonsense\n' >"$BATS_TEST_TMPDIR/bad.anchor"
	fails 1 "line 1" vaultctl-audit verify --anchor "$BATS_TEST_TMPDIR/bad.anchor"
}

@test "rekey: for global admins; chains go on in a new epoch, old rows still verify" {
	VAULTCTL_USER=$MEMBER fails 4 "global role admin" vaultctl-audit rekey --yes
	fails 2 "--yes" vaultctl-audit rekey
	local old_id old_key
	old_key=$(od -An -tx1 "$KEY" | tr -d ' \n')
	ok vaultctl-audit rekey --yes
	[[ $output =~ ^new\ audit\ key\ ([0-9a-f]{16})\;\ ([0-9]+)\ chains\ in\ a\ new\ epoch$ ]]
	local new_id=${BASH_REMATCH[1]} moved=${BASH_REMATCH[2]}
	[ "$moved" -eq "$(vc_sql "SELECT COUNT(*) FROM audit_chain_heads")" ]
	[ "$(od -An -tx1 "$KEY" | tr -d ' \n')" != "$old_key" ]
	[ "$(stat -c %a "$KEY")" = 600 ]
	# The old key is kept beside the new one, named by its id.
	old_id=$(vc_sql "SELECT DISTINCT JSON_VALUE(details, '$.previous_key_id')
		FROM audit_logs WHERE action = 'audit.epoch' AND
		JSON_VALUE(details, '$.reason') = 'rekey' AND
		JSON_VALUE(details, '$.previous_key_id') IS NOT NULL")
	[ "$(od -An -tx1 "$KEY.$old_id" | tr -d ' \n')" = "$old_key" ]
	[ "$(vc_sql "SELECT COUNT(DISTINCT HEX(key_id)) FROM audit_chain_heads")" -eq 1 ]
	[ "$(vc_sql "SELECT LOWER(HEX(key_id)) FROM audit_chain_heads LIMIT 1")" = "$new_id" ]
	[ "$(vc_sql "SELECT action FROM audit_logs ORDER BY seq DESC LIMIT 1")" = audit.rekey ]
	ok vaultctl-audit verify --anchor "$ANCHOR"
	printf 'v7' | vaultctl-secret -q set acme/api/prod/DB_URL
	ok vaultctl-audit verify --anchor "$ANCHOR"
	# Twice: a third epoch, and still every row verifies.
	ok vaultctl-audit rekey --yes
	ok vaultctl-audit verify
	# Without the old key its epoch cannot be checked, and verify says so.
	mv "$KEY.$old_id" "$BATS_TEST_TMPDIR/kept"
	fails 8 "broken" vaultctl-audit verify --org acme
	[[ $output == *"$old_id"*"this configuration lacks"* ]]
	mv "$BATS_TEST_TMPDIR/kept" "$KEY.$old_id"
	ok vaultctl-audit verify
	# Checked from outside the tools as well.
	run -0 python3 "$REPO/tests/galera/audit_chain.py" --config "$KEYED" \
		"$VC_TEST_DIR/admin.cnf" "$VC_DATABASE"
	[[ $output == *"rows intact"* ]]
	# The refusal is in the log.
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs a JOIN users u ON u.id =
		a.user_id WHERE a.action = 'audit.rekey.denied' AND u.email =
		'$MEMBER' AND a.organization_id IS NULL")" -eq 1 ]
}

@test "reads listed under keyed rows: a rekey keeps them checkable, a list rewritten with its digest shows" {
	local list n digest
	ok vaultctl-secret export acme/api/prod
	list=$(vc_sql "SELECT MAX(seq) FROM audit_logs WHERE action = 'secret.read'
		AND resource_type = 'environment'")
	n=$(vc_sql "SELECT COUNT(*) FROM audit_reads WHERE seq = $list")
	[ "$n" -ge 2 ]
	# Under the key of its epoch, which a rekey replaces and keeps.
	ok vaultctl-audit rekey --yes
	ok vaultctl-secret export acme/api/prod
	ok vaultctl-audit verify --anchor "$ANCHOR"
	run -0 python3 "$REPO/tests/galera/audit_chain.py" --config "$KEYED" \
		"$VC_TEST_DIR/admin.cnf" "$VC_DATABASE"
	# The administrator changes a read, and the digest in the row's
	# details to match: the row's keyed hash gives that away.
	audit_save
	vc_sql "UPDATE audit_reads SET version = version + 1 WHERE seq = $list
		AND pos = 0"
	fails 8 "broken" vaultctl-audit verify --org acme
	[[ $output == *"seq $list lists reads that audit_reads no longer holds"* ]]
	digest=$(vc_sql "SELECT HEX(secret_id), version FROM audit_reads WHERE
		seq = $list ORDER BY pos" | python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
from audit_chain import reads_digest
rows = [l.split("\t") for l in sys.stdin.read().splitlines()]
print(reads_digest([(bytes.fromhex(h), int(v)) for h, v in rows]))
' "$REPO/tests/galera")
	vc_sql "UPDATE audit_logs SET details = JSON_SET(details, '$.digest',
		'$digest') WHERE seq = $list"
	fails 8 "broken" vaultctl-audit verify --org acme
	[[ $output == *"seq $list was edited"* ]]
	run -1 python3 "$REPO/tests/galera/audit_chain.py" --config "$KEYED" \
		"$VC_TEST_DIR/admin.cnf" "$VC_DATABASE"
	audit_restore
	ok vaultctl-audit verify --anchor "$ANCHOR"
	# Nothing of the values in the reads either.
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_reads WHERE secret_id LIKE
		'%trust-value%'")" -eq 0 ]
}

@test "refused attempts are audited as ACTION.denied, without values" {
	local acme seq
	acme=$(org_id acme)
	seq=$(vc_sql "SELECT MAX(seq) FROM audit_logs")
	VAULTCTL_USER=$VIEWER fails 4 "permission denied" \
		vaultctl-secret get acme/api/prod/DB_URL
	VAULTCTL_USER=$OUTSIDER fails 4 "not a member" \
		vaultctl-secret list acme/api/prod
	VAULTCTL_USER=$VIEWER fails 4 "permission denied" \
		vaultctl-org project create acme/web
	VAULTCTL_USER=$MEMBER fails 4 "global admins" \
		vaultctl-plan create gold --price 1 --cycle monthly --secrets-limit 5
	VAULTCTL_USER=$MEMBER fails 4 "permission denied" vaultctl-audit verify
	ok vaultctl-audit log --org acme --action secret.get.denied -o jsonl
	python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
assert len(rows) == 1, rows
r = rows[0]
assert r["user"] == sys.argv[2] and r["organization"] == "acme", r
assert r["resource_type"] == "secret", r
assert r["details"] == {"ref": "acme/api/prod/DB_URL", "need": "member",
                        "role": "viewer"}, r
' "$output" "$VIEWER"
	[ "$(vc_sql "SELECT GROUP_CONCAT(a.action ORDER BY a.seq) FROM audit_logs a
		WHERE a.seq > $seq AND a.organization_id = '$acme'")" = \
		"secret.get.denied,secret.list.denied,org.project.create.denied" ]
	[ "$(vc_sql "SELECT GROUP_CONCAT(a.action ORDER BY a.seq) FROM audit_logs a
		WHERE a.seq > $seq AND a.organization_id IS NULL")" = \
		"plan.create.denied,audit.verify.denied" ]
	# Nothing of the value anywhere in the trail.
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE CONCAT_WS(' ', details,
		resource_id, action) LIKE '%trust-value%'")" -eq 0 ]
	ok vaultctl-audit verify
}

@test "failed authentication is audited as auth.failed, without the password" {
	local seq cnf=$BATS_TEST_TMPDIR/auth.cnf pwf=$BATS_TEST_TMPDIR/pw
	printf '%s\n' "$PW" | vaultctl-org -q user passwd "$MEMBER" --password-stdin
	seq=$(vc_sql "SELECT MAX(seq) FROM audit_logs")
	run -4 bash -c "printf 'wrong-$PW\n' | vaultctl-org user check-password '$MEMBER' --password-stdin"
	run -0 bash -c "printf '$PW\n' | vaultctl-org user check-password '$MEMBER' --password-stdin"
	# With authenticate = password, before any command runs.
	sed '/^\[vaultctl\]/a authenticate = password' "$VAULTCTL_CONFIG" >"$cnf"
	chmod 600 "$cnf"
	(umask 077 && printf 'not-%s\n' "$PW" >"$pwf")
	VAULTCTL_PASSWORD_FILE=$pwf VAULTCTL_USER=$MEMBER fails 4 \
		"authentication failed" vaultctl-secret -c "$cnf" list acme/api/prod
	(umask 077 && printf '%s\n' "$PW" >"$pwf")
	VAULTCTL_PASSWORD_FILE=$pwf VAULTCTL_USER=$MEMBER ok \
		vaultctl-secret -c "$cnf" list acme/api/prod
	ok vaultctl-audit log --action auth.failed -o jsonl
	python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
assert len(rows) == 2, rows
for r in rows:
    assert r["organization"] is None and r["resource_type"] == "user", r
    assert r["details"] == {"email": sys.argv[2]}, r
' "$output" "$MEMBER"
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE seq > $seq AND
		action = 'auth.failed' AND resource_id = (SELECT id FROM users
		WHERE email = '$MEMBER')")" -eq 2 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE CONCAT_WS(' ', details,
		resource_id, action, user_agent) LIKE '%h0rse%'")" -eq 0 ]
	ok vaultctl-audit verify
}

@test "api_calls counts every command against an organization, metadata reads included" {
	local n r id
	n=$(api_calls acme)
	r=$(read_calls acme)
	ok vaultctl-secret list acme/api/prod
	[ "$(api_calls acme)" -eq $((n + 1)) ]
	ok vaultctl-org project list acme
	ok vaultctl-secret history acme/api/prod/API_KEY
	ok vaultctl-plan usage acme
	[ "$(api_calls acme)" -eq $((n + 4)) ]
	# A read of a value writes its audit row, and counts once.
	ok vaultctl-secret get acme/api/prod/API_KEY
	[ "$(api_calls acme)" -eq $((n + 5)) ]
	# An export counts each value it read, as a row each did.
	ok vaultctl-secret export acme/api/prod
	[ "$(api_calls acme)" -eq $((n + 7)) ]
	# Refused, it counts too (with its audit row).
	VAULTCTL_USER=$VIEWER fails 4 "permission denied" \
		vaultctl-secret get acme/api/prod/API_KEY
	[ "$(api_calls acme)" -eq $((n + 8)) ]
	# Through the shell, each command when it ends.
	printf 'secret list acme/api/prod\nsecret list acme/api/prod\n' |
		vaultctl shell >/dev/null
	[ "$(api_calls acme)" -eq $((n + 10)) ]
	# stats recompute recounts the audit rows (a listing row each read it
	# lists) and adds the metadata reads back.
	[ "$(read_calls acme)" -eq $((r + 6)) ]
	vc_sql "UPDATE usage_statistics SET api_calls = 0"
	ok vaultctl-audit stats recompute
	id=$(org_id acme)
	[ "$(api_calls acme)" -eq $(($(vc_sql "SELECT COUNT(*) FROM audit_logs
		a LEFT JOIN audit_reads r ON r.seq = a.seq WHERE a.organization_id =
		'$id' AND a.\`timestamp\` >= COALESCE((SELECT MAX(start_date) FROM
		subscriptions WHERE organization_id = '$id' AND status = 'active'),
		'1000-01-01')") + r + 6)) ]
}
