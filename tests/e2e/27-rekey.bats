#!/usr/bin/env bats
# vaultctl-secret rekey: a new master key for the local store, every value
# re-sealed under it.  Values read back the same before, during and after;
# each row names its key by an id derived from the key (checked here with
# Python's BLAKE2b, not the project's code); a rekey killed half-way is
# finished by the next one; only global admins may, only with --yes off a
# terminal, never with the Vault backend.
#
# A rekey is stopped at a known point by a row lock held from another
# session: re-sealing waits for it, the batches before it are committed,
# and the rekey is then killed with SIGKILL.

load helper
load secret_helper

VC_STORE=local

setup_file() {
	vc_server_start
	s_bootstrap
}

teardown_file() {
	vc_server_stop
}

setup() {
	export VAULTCTL_USER=$VC_ADMIN
	KEY=$VAULTCTL_CONFIG.key
	LOCKER=$BATS_TEST_TMPDIR/locker.pid
	REKEY=$BATS_TEST_TMPDIR/rekey.pid
}

# A session or a rekey a test started, stopped even when the test failed.
teardown() {
	local f
	for f in "$REKEY" "$LOCKER"; do
		[[ ! -s $f ]] || kill -9 "$(cat "$f")" 2>/dev/null || true
	done
	unlock
}

# key_id FILE: the id of the key in FILE, upper-case hex: BLAKE2b-128
# keyed with the key over the constant, first 8 bytes.
key_id() {
	/usr/bin/python3 -c 'import hashlib, sys
k = open(sys.argv[1], "rb").read()
h = hashlib.blake2b(b"vaultctl local store key id", key=k, digest_size=16)
print(h.hexdigest()[:16].upper())' "$1"
}

# rows_not_under ID: rows of vc_values whose key id is another or NULL.
rows_not_under() {
	vc_sql "SELECT COUNT(*) FROM vc_values
		WHERE key_id IS NULL OR key_id <> UNHEX('$1')"
}

# What a refused rekey must leave alone: the values, the audit log and
# the key files (their names and bytes).
checksum() {
	vc_sql "CHECKSUM TABLE vc_values, audit_logs EXTENDED"
	sha256sum "$KEY"*
}

# wait_sql SQL WANT: polls until SQL prints WANT (at most 30 s).
wait_sql() {
	for _ in $(seq 300); do
		[[ $(vc_sql "$1") == "$2" ]] && return 0
		sleep 0.1
	done
	echo "timed out waiting for '$1' to be '$2'" >&2
	return 1
}

# lock_row SQL: a session of its own runs SQL (a locking read) in a
# transaction and keeps it open until unlock.
lock_row() {
	printf 'BEGIN; %s; SELECT SLEEP(300);\n' "$1" |
		mariadb --defaults-file="$VC_TEST_DIR/admin.cnf" "$VC_DATABASE" \
		>/dev/null 2>&1 3>&- &
	echo $! >"$LOCKER"
	wait_sql "SELECT COUNT(*) FROM information_schema.PROCESSLIST
		WHERE INFO = 'SELECT SLEEP(300)'" 1
}

unlock() {
	local id
	id=$(vc_sql "SELECT ID FROM information_schema.PROCESSLIST
		WHERE INFO = 'SELECT SLEEP(300)'" 2>/dev/null) || return 0
	[[ -z $id ]] || vc_sql "KILL $id"
	[[ ! -s $LOCKER ]] || wait "$(cat "$LOCKER")" 2>/dev/null || true
	rm -f "$LOCKER"
}

# rekey_until_blocked: starts a rekey and returns once it waits for a
# lock (the one lock_row holds).
rekey_until_blocked() {
	vaultctl-secret rekey --yes >"$BATS_TEST_TMPDIR/rekey.out" 2>&1 3>&- &
	echo $! >"$REKEY"
	wait_sql "SELECT COUNT(*) FROM information_schema.INNODB_TRX
		WHERE trx_state = 'LOCK WAIT'" 1
}

rekey_kill() {
	local pid
	pid=$(cat "$REKEY")
	kill -9 "$pid"
	wait "$pid" || [ $? -eq 137 ]
	rm -f "$REKEY"
}

# gets REF FILE: the secret's bytes into FILE.
gets() {
	vaultctl-secret get "$1" >"$2"
}

@test "rekey re-seals every value under a new key; the values, the key file's mode and group stay" {
	local d=$BATS_TEST_TMPDIR old new group
	s_here NULL
	printf '\0\377binary\n' >"$d/bin"
	vaultctl-secret -q set "$ENV/BIN" --from-file "$d/bin"
	s_put "$ENV/MULTI" first
	s_put "$ENV/MULTI" second
	s_put "$ENV/GONE" removed-but-restorable
	vaultctl-secret -q rm "$ENV/GONE"
	old=$(key_id "$KEY")
	[ "$(rows_not_under "$old")" -eq 0 ]
	chmod 0400 "$KEY"
	if [[ $EUID -eq 0 ]]; then chgrp daemon "$KEY"; fi
	group=$(stat -c %G "$KEY")

	run --separate-stderr vaultctl-secret rekey --yes
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	new=$(key_id "$KEY")
	[ "$new" != "$old" ]
	[[ $stderr == *"rekeyed: "*" values re-sealed under key ${new,,} (previous key ${old,,})"* ]]
	[ "$(rows_not_under "$new")" -eq 0 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM vc_values")" -gt 0 ]

	gets "$ENV/BIN" "$d/bin.out"
	cmp "$d/bin" "$d/bin.out"
	[ "$(vaultctl-secret get "$ENV/MULTI")" = second ]
	[ "$(vaultctl-secret get "$ENV/MULTI" --version 1)" = first ]
	vaultctl-secret -q restore "$ENV/GONE"
	[ "$(vaultctl-secret get "$ENV/GONE")" = removed-but-restorable ]

	[ "$(stat -c %a "$KEY")" = 400 ]
	[ "$(stat -c %G "$KEY")" = "$group" ]
	[ "$(stat -c %s "$KEY")" = 32 ]
	[ ! -e "$KEY.new" ] && [ ! -e "$KEY.old" ] && [ ! -e "$KEY.new.tmp" ]
	[ "$(vc_sql "SELECT CONCAT_WS(' ', resource_type, UPPER(resource_id),
		organization_id IS NULL, JSON_VALUE(details, '$.previous_key_id'),
		JSON_EXTRACT(details, '$.resumed')) FROM audit_logs
		WHERE action = 'secret.rekey' ORDER BY seq DESC LIMIT 1")" = \
		"master_key $new 1 ${old,,} false" ]
	chmod 0600 "$KEY"
}

@test "a row from before key ids opens with the current key and is labelled by the next rekey" {
	local path new
	s_here NULL
	s_put "$ENV/OLD" sealed-before-key-ids
	path=$(s_path "$ENV/OLD")
	vc_sql "UPDATE vc_values SET key_id = NULL WHERE path = '$path'"
	[ "$(vaultctl-secret get "$ENV/OLD")" = sealed-before-key-ids ]
	vaultctl-secret -q rekey --yes
	new=$(key_id "$KEY")
	[ "$(vc_sql "SELECT HEX(key_id) FROM vc_values WHERE path = '$path'")" = "$new" ]
	[ "$(vaultctl-secret get "$ENV/OLD")" = sealed-before-key-ids ]
}

@test "a row naming a key that no key file holds exits 8 naming both ids; rekey stops there and resumes" {
	local path cur
	s_here NULL
	s_put "$ENV/A" a-value
	s_put "$ENV/B" b-value
	path=$(s_path "$ENV/A")
	cur=$(key_id "$KEY")
	vc_sql "UPDATE vc_values SET key_id = UNHEX('0011223344556677') WHERE path = '$path'"

	run --separate-stderr vaultctl-secret get "$ENV/A"
	[ "$status" -eq 8 ]
	[[ $stderr == *"sealed under key 0011223344556677, which the master key file $KEY does not hold (its key is ${cur,,})"* ]]
	[ -z "$output" ]
	[ "$(vaultctl-secret get "$ENV/B")" = b-value ]

	run --separate-stderr vaultctl-secret rekey --yes
	[ "$status" -eq 8 ]
	[[ $stderr == *"run rekey again to finish it"*"0011223344556677"* ]]
	[ -e "$KEY.new" ]
	# Nothing opens differently meanwhile.
	[ "$(vaultctl-secret get "$ENV/B")" = b-value ]

	vc_sql "UPDATE vc_values SET key_id = UNHEX('$cur') WHERE path = '$path'"
	run --separate-stderr vaultctl-secret rekey --yes
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ $stderr == *"finished an interrupted rekey"* ]]
	[ "$(rows_not_under "$(key_id "$KEY")")" -eq 0 ]
	[ "$(vaultctl-secret get "$ENV/A")" = a-value ]
	[ ! -e "$KEY.new" ] && [ ! -e "$KEY.old" ]
}

@test "a rekey killed half-way loses nothing: reads and writes go on, the next rekey finishes it" {
	local old new path total i
	s_here NULL
	for i in $(seq -w 0 249); do printf 'K%s=value-%s\n' "$i" "$i"; done |
		vaultctl-secret -q import "$ENV" --format dotenv
	old=$(key_id "$KEY")
	total=$(vc_sql "SELECT COUNT(*) FROM vc_values")
	# Re-sealing goes in path order: this organization's rows come last,
	# so the row of K240 stops it after some batches were committed.
	path=$(s_path "$ENV/K240")
	lock_row "SELECT version FROM vc_values WHERE path = '$path' AND version = 1 FOR UPDATE"
	rekey_until_blocked

	[ -e "$KEY.new" ] && [ ! -e "$KEY.old" ]
	new=$(key_id "$KEY.new")
	[ "$(vc_sql "SELECT COUNT(*) FROM vc_values WHERE key_id = UNHEX('$new')")" -ge 100 ]
	[ "$(rows_not_under "$new")" -gt 0 ]
	# Both keys open values meanwhile, and new values take the new key.
	[ "$(vaultctl-secret get "$ENV/K010")" = value-010 ]
	[ "$(vaultctl-secret get "$ENV/K245")" = value-245 ]
	s_put "$ENV/DURING" written-during-the-rekey
	[ "$(vc_sql "SELECT HEX(key_id) FROM vc_values
		WHERE path = '$(s_path "$ENV/DURING")'")" = "$new" ]

	rekey_kill
	unlock
	[ "$(key_id "$KEY")" = "$old" ] && [ "$(key_id "$KEY.new")" = "$new" ]
	[ "$(vaultctl-secret get "$ENV/K249")" = value-249 ]

	run --separate-stderr vaultctl-secret rekey --yes
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ $stderr == *"finished an interrupted rekey"*"under key ${new,,} (previous key ${old,,})"* ]]
	[ "$(key_id "$KEY")" = "$new" ]
	[ ! -e "$KEY.new" ] && [ ! -e "$KEY.old" ]
	[ "$(rows_not_under "$new")" -eq 0 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM vc_values")" -eq $((total + 1)) ]
	vaultctl-secret export "$ENV" --format dotenv >"$BATS_TEST_TMPDIR/all"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/all")" -eq 251 ]
	for i in $(seq -w 0 249); do
		grep -qx "K$i='value-$i'" "$BATS_TEST_TMPDIR/all" || { echo "K$i"; false; }
	done
	grep -qx "DURING='written-during-the-rekey'" "$BATS_TEST_TMPDIR/all"
	[ "$(vc_sql "SELECT JSON_EXTRACT(details, '$.resumed') FROM audit_logs
		WHERE action = 'secret.rekey' ORDER BY seq DESC LIMIT 1")" = true ]
}

@test "a rekey killed after the new key became current keeps the previous one until the next rekey ends" {
	local old new path
	s_here NULL
	s_put "$ENV/LAST" last-step
	old=$(key_id "$KEY")
	# The last sweep waits for every write under way: a key row locked
	# here stands for one.
	path=$(s_path "$ENV/LAST")
	lock_row "SELECT current_version FROM vc_value_keys WHERE path = '$path' FOR UPDATE"
	rekey_until_blocked

	[ -e "$KEY.old" ] && [ ! -e "$KEY.new" ]
	new=$(key_id "$KEY")
	[ "$new" != "$old" ] && [ "$(key_id "$KEY.old")" = "$old" ]
	[ "$(rows_not_under "$new")" -eq 0 ]
	rekey_kill
	unlock
	[ "$(vaultctl-secret get "$ENV/LAST")" = last-step ]
	[ -e "$KEY.old" ]

	run --separate-stderr vaultctl-secret rekey --yes
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ $stderr == *"finished an interrupted rekey: 0 values re-sealed under key ${new,,} (previous key ${old,,})"* ]]
	[ "$(key_id "$KEY")" = "$new" ]
	[ ! -e "$KEY.old" ] && [ ! -e "$KEY.new" ]
	[ "$(vaultctl-secret get "$ENV/LAST")" = last-step ]
}

@test "members, viewers and organization admins are refused (exit 4); nothing changes" {
	local r
	s_here NULL
	s_put "$ENV/X" x
	for r in viewer member admin; do
		vaultctl-org -q user add "$r.$ORG@example.com" --no-password
		vaultctl-org -q member add "$ORG" "$r.$ORG@example.com" --role "$r"
	done
	for r in viewer member admin; do
		export VAULTCTL_USER=$r.$ORG@example.com
		refused 4 "permission denied: only global admins rekey" \
			vaultctl-secret rekey --yes
	done
}

@test "without --yes off a terminal, with arguments, or with the Vault backend: exit 2, nothing changes" {
	local cnf=$BATS_TEST_TMPDIR/vault.cnf
	refused 2 "refusing without --yes (not on a terminal)" vaultctl-secret rekey
	refused 2 "too many arguments" vaultctl-secret rekey --yes extra
	sed 's/^backend = local$/backend = vault/' "$VAULTCTL_CONFIG" >"$cnf"
	chmod 0600 "$cnf"
	grep -qx 'backend = vault' "$cnf"
	refused 2 "rekey is for the local store; Vault keeps its own keys (rotate them with 'vault operator rotate')" \
		vaultctl-secret -c "$cnf" rekey --yes
}

@test "a second rekey of the same key file at once exits 6" {
	# flock(1) holds the lock a rekey takes on the key file's directory.
	refused 6 "another rekey of '$KEY' is running" \
		flock "$(dirname "$KEY")" vaultctl-secret rekey --yes
}
