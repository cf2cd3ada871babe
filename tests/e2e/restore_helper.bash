# restore-env on both stores (28-restore-env.bats for the local store,
# 29-restore-env-vault.bats through the Vault emulator): an environment
# put back as it was at a point in time.  Loaded after secret_helper.
#
# TIME has a resolution of one second: each test reads the time from the
# database between two steps a second apart.

# r_now: the database's clock as ISO 8601, then a second and a bit, so
# that what follows happens after it.
r_now() {
	vc_sql "SELECT DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%dT%H:%i:%sZ')"
	sleep 1.1
}

# r_destroy REF N: version N's value destroyed in the store, behind the
# tools' back (as a later destroy --versions would).
r_destroy() {
	local path
	path=$(s_path "$1")
	if [[ $VC_STORE == vault ]]; then
		emu POST "/v1/secret/destroy/$path" "{\"versions\": [$2]}" >/dev/null
		[[ $EMU_STATUS == 204 || $EMU_STATUS == 200 ]]
	else
		vc_sql "UPDATE vc_values SET ciphertext = '', destroyed = 1
			WHERE path = '$path' AND version = $2"
	fi
}

# r_limit N: the organization's active subscription allows N secrets.
r_limit() {
	vc_sql "UPDATE subscriptions s JOIN organizations o ON o.id =
		s.organization_id SET s.secrets_limit = $1 WHERE o.name = '$ORG'
		AND s.status = 'active'"
}

# r_store REF: the secret's current version in the store and every
# version it holds, each with its deletion time and whether destroyed.
r_store() {
	local path
	path=$(s_path "$1")
	if [[ $VC_STORE == vault ]]; then
		emu GET "/v1/secret/metadata/$path" | jq -c '[.data.current_version,
			(.data.versions // {} | to_entries | sort_by(.key | tonumber) |
			map([.key, .value.deletion_time, .value.destroyed]))]'
	else
		vc_sql "SELECT CONCAT_WS(' ', MAX(k.current_version),
			GROUP_CONCAT(CONCAT_WS(':', v.version, v.deleted_at, v.destroyed)
			ORDER BY v.version)) FROM vc_values v LEFT JOIN vc_value_keys k
			ON k.path = v.path WHERE v.path = '$path'"
	fi
}

# r_state NAME...: everything restore-env may change: metadata, audit,
# usage, and every version the store holds of the secrets NAME of $ENV.
r_state() {
	local n
	checksums
	for n in "$@"; do
		printf '%s %s\n' "$n" "$(r_store "$ENV/$n")"
	done
}

# r_audit ORG: how many audit rows the organization has.
r_audit() {
	vc_sql "SELECT COUNT(*) FROM audit_logs a JOIN organizations o
		ON o.id = a.organization_id WHERE o.name = '$1'"
}

# r_batch_rows ORG AT: the audit rows of a restore-env --at AT (UTC,
# 'YYYY-MM-DD HH:MM:SS'): they carry its reason.
r_batch_rows() {
	vc_sql "SELECT COUNT(*) FROM audit_logs a JOIN organizations o
		ON o.id = a.organization_id WHERE o.name = '$1' AND
		JSON_VALUE(a.details, '\$.reason') = 'restore-env --at ''$2'''"
}

# Values changed, created, deleted, deleted and written again, and
# rolled back to the value of then, since TIME: the dry run shows the plan
# and changes nothing; the run puts every value back byte for byte, with
# one audit row per change; a second run finds nothing to do.
t_restore_env() {
	local d=$BATS_TEST_TMPDIR at before plan rb del res all
	s_here 20
	printf 'a1\0\377\n' >"$d/a1"
	printf 'f1\n\n' >"$d/f1"
	vaultctl-secret -q set "$ENV/A" <"$d/a1"
	s_put "$ENV/B" b1
	s_put "$ENV/C" c1
	s_put "$ENV/D" d1
	vaultctl-secret -q rm "$ENV/D"
	s_put "$ENV/E" e1
	s_put "$ENV/E" e2
	vaultctl-secret -q set "$ENV/F" <"$d/f1"
	sleep 1.1
	at=$(r_now)
	s_put "$ENV/A" a2
	s_put "$ENV/N" new
	vaultctl-secret -q rm "$ENV/C"
	vaultctl-secret -q restore "$ENV/D"
	s_put "$ENV/E" e3
	vaultctl-secret -q rollback "$ENV/E" --to 2
	vaultctl-secret -q rm "$ENV/F"
	s_put "$ENV/F" f2
	before=$(r_state A B C D E F N)
	run --separate-stderr -0 vaultctl-secret restore-env "$ENV" --at "$at" --dry-run -o tsv
	plan=$output
	[ "$plan" == "$(printf '%s\t%s\t%s\t%s\n' \
		reverted A 2 1 unchanged B 1 1 restored C 1 1 removed D 1 1 \
		unchanged E 4 2 reverted F 2 1 removed N 1 '')" ] || { echo "$plan"; false; }
	[[ $stderr == *"would put $ENV as at"*"2 reverted, 2 removed, 1 restored, 2 unchanged"* ]]
	# --yes changes nothing in a dry run either.
	run --separate-stderr -0 vaultctl-secret restore-env "$ENV" --at "$at" --dry-run --yes -o json
	[ "$(jq -r '[.[] | .change] | join(" ")' <<<"$output")" == \
		"reverted unchanged restored removed unchanged reverted removed" ]
	[ "$(r_state A B C D E F N)" == "$before" ]
	rb=$(audit_count "$ORG" secret.rollback)
	del=$(audit_count "$ORG" secret.delete)
	res=$(audit_count "$ORG" secret.restore)
	all=$(r_audit "$ORG")
	run -0 vaultctl-secret restore-env "$ENV" --at "$at" --yes
	# Five changes, five audit rows and no other, all of the one batch.
	[ "$(r_audit "$ORG")" == $((all + 5)) ]
	[ "$(r_batch_rows "$ORG" "${at:0:10} ${at:11:8}")" == 5 ]
	[[ $output == *"put back $ENV as at"*"2 reverted, 2 removed, 1 restored"* ]]
	got_bytes "$ENV/A" "$d/a1"
	got_bytes "$ENV/F" "$d/f1"
	same_version "$ENV/A" 3
	same_version "$ENV/F" 3
	[ "$(vaultctl-secret get "$ENV/B")" == b1 ]
	[ "$(vaultctl-secret get "$ENV/C")" == c1 ]
	same_version "$ENV/C" 1
	[ "$(vaultctl-secret get "$ENV/E")" == e2 ]
	same_version "$ENV/E" 4
	run -3 vaultctl-secret get "$ENV/D"
	[[ $output == *deleted* ]]
	run -3 vaultctl-secret get "$ENV/N"
	[[ $output == *deleted* ]]
	run -0 vaultctl-secret list "$ENV" -o tsv
	[ "$(cut -f1 <<<"$output" | tr '\n' ' ')" == "A B C E F " ]
	# One audit row per change; the rewrites say from which version, why.
	[ "$(audit_count "$ORG" secret.rollback)" == $((rb + 2)) ]
	[ "$(audit_count "$ORG" secret.delete)" == $((del + 2)) ]
	[ "$(audit_count "$ORG" secret.restore)" == $((res + 1)) ]
	run -0 vaultctl-audit verify --org "$ORG"
	run -0 vaultctl-secret history "$ENV/A" -o json
	[ "$(jq -r '.[0] | "\(.action) \(.reason)"' <<<"$output")" == \
		"secret.rollback restore-env --at '${at:0:10} ${at:11:8}'" ]
	[ "$(usage "$ORG" | cut -d' ' -f1)" == 5 ]
	# Done: a second run changes nothing.
	before=$(r_state A B C D E F N)
	run -0 vaultctl-secret restore-env "$ENV" --at "$at" --yes
	[[ $output == *"0 reverted, 0 removed, 0 restored, 7 unchanged"* ]]
	[ "$(r_state A B C D E F N)" == "$before" ]
}

# A duration counts back from now; an environment as it is now is
# unchanged; a time before anything existed removes every secret.
t_restore_env_duration() {
	local before t
	s_here 10
	s_put "$ENV/A" a1
	s_put "$ENV/B" b1
	run --separate-stderr -0 vaultctl-secret restore-env "$ENV" --at 0s --dry-run -o tsv
	[ "$(cut -f1 <<<"$output" | tr '\n' ' ')" == "unchanged unchanged " ] ||
		{ echo "$output"; false; }
	before=$(r_state A B)
	# Every form of TIME: ages in each unit, dates, times with a zone.
	for t in 90s 30m 2h 1d 2w 2020-01-01 2020-01-01T12:00:00Z \
		2020-01-01T14:00+02:00; do
		run --separate-stderr -0 vaultctl-secret restore-env "$ENV" --at "$t" \
			--dry-run -o tsv
		[ "$(cut -f1 <<<"$output" | tr '\n' ' ')" == "removed removed " ] ||
			{ echo "--at $t: $output"; false; }
	done
	[ "$(r_state A B)" == "$before" ]
	run -2 vaultctl-secret restore-env "$ENV" --at 1h
	[[ $output == *"refusing without --yes"* ]]
	[ "$(r_state A B)" == "$before" ]
	run -0 vaultctl-secret restore-env "$ENV" --at 1h --yes
	[[ $output == *"0 reverted, 2 removed"* ]]
	run -0 vaultctl-secret list "$ENV" -o tsv
	[ -z "$output" ]
	[ "$(usage "$ORG" | cut -d' ' -f1)" == 0 ]
}

# A version current at TIME that was destroyed since cannot come back:
# the whole restore is refused naming it (exit 6), nothing changed.  A
# plan that does not need it goes on.
t_restore_env_destroyed() {
	local at before
	s_here 10
	s_put "$ENV/G" g1
	s_put "$ENV/K" k1
	sleep 1.1
	at=$(r_now)
	s_put "$ENV/G" g2
	s_put "$ENV/K" k2
	r_destroy "$ENV/G" 1
	before=$(r_state G K)
	run -6 vaultctl-secret restore-env "$ENV" --at "$at" --yes
	[[ $output == *"version 1 of secret 'G'"*destroyed*"nothing was changed"* ]]
	run -6 vaultctl-secret restore-env "$ENV" --at "$at" --dry-run
	[ "$(r_state G K)" == "$before" ]
	[ "$(vaultctl-secret get "$ENV/K")" == k2 ]
	# Back to a time when G was already at version 2: no need for 1.
	s_put "$ENV/K" k3
	r_destroy "$ENV/K" 2
	sleep 1.1
	at=$(r_now)
	s_put "$ENV/K" k4
	run --separate-stderr -0 vaultctl-secret restore-env "$ENV" --at "$at" --dry-run -o tsv
	[ "$output" == "$(printf 'unchanged\tG\t2\t2\nreverted\tK\t4\t3')" ] ||
		{ echo "$output"; false; }
}

# Quota for the whole batch: what it brings back must fit, with what it
# removes counted first (exit 5, nothing changed otherwise).
t_restore_env_quota() {
	local at before
	s_here 3
	s_put "$ENV/X" x
	s_put "$ENV/Y" y
	sleep 1.1
	at=$(r_now)
	vaultctl-secret -q rm "$ENV/X"
	vaultctl-secret -q rm "$ENV/Y"
	s_put "$ENV/Z" z
	r_limit 1
	before=$(r_state X Y Z)
	run -5 vaultctl-secret restore-env "$ENV" --at "$at" --yes
	[[ $output == *quota* ]]
	run -5 vaultctl-secret restore-env "$ENV" --at "$at" --dry-run
	[ "$(r_state X Y Z)" == "$before" ]
	# Two back, one removed: one more than now, which fits in 2 - unless
	# a secret created between the plan and its run fills the plan: the
	# batch takes the quota again under its lock, whole (exit 5).
	r_limit 2
	meanwhile() {
		s_put "$ENV/W" w
		before=$(r_state W X Y Z)
	}
	r_tty "$ENV --at $at" meanwhile
	[ "$R_RC" == 5 ] || { echo "$R_OUT"; false; }
	[[ $R_OUT == *"quota exceeded"* ]]
	[ "$(r_state W X Y Z)" == "$before" ]
	vaultctl-secret -q rm "$ENV/W"
	run -0 vaultctl-secret restore-env "$ENV" --at "$at" --yes
	run -0 vaultctl-secret list "$ENV" -o tsv
	[ "$(cut -f1 <<<"$output" | tr '\n' ' ')" == "X Y " ]
}

# Admins and owners only; bad input exits 2 and changes nothing.
t_restore_env_refused() {
	local m=member$BATS_TEST_NUMBER@example.com before
	s_here 10
	s_put "$ENV/A" a1
	vaultctl-org -q user add "$m" --no-password
	vaultctl-org -q member add "$ORG" "$m" --role member
	local denied meta
	denied=$(audit_kinds "$ORG")
	meta=$(vc_sql "CHECKSUM TABLE secret_metadata EXTENDED")
	run -4 vaultctl-secret --as "$m" restore-env "$ENV" --at 1h --yes
	[[ $output == *"permission denied"* ]]
	run -4 vaultctl-secret --as "$m" restore-env "$ENV" --at 1h --dry-run
	# Each refusal is audited (one .denied row), and nothing else changed.
	[ "$(audit_kinds "$ORG")" == "$((${denied% *} + 2)) ${denied#* }" ]
	[ "$(vc_sql "CHECKSUM TABLE secret_metadata EXTENDED")" == "$meta" ]
	before=$(r_state A)
	run -2 vaultctl-secret restore-env "$ENV" --yes
	[[ $output == *"--at TIME is required"* ]]
	run -2 vaultctl-secret restore-env "$ENV" --at yesterday --yes
	[[ $output == *"invalid time 'yesterday'"* ]]
	run -2 vaultctl-secret restore-env "$ENV" --at 2024-02-30 --yes
	run -2 vaultctl-secret restore-env "$ENV" --at 2999-01-01T00:00:00Z --yes
	[[ $output == *"in the future"* ]]
	for t in '' 2h30 1y 5 h2 2024-13-01 '2024-01-01 25:00' -2h; do
		run -2 vaultctl-secret restore-env "$ENV" --at="$t" --yes
		[[ $output == *"invalid time"* ]] || { echo "--at '$t': $output"; false; }
	done
	run -2 vaultctl-secret restore-env "$ENV/A" --at 1h --yes
	run -2 vaultctl-secret restore-env "$ORG/api" --at 1h --yes
	run -2 vaultctl-secret restore-env "$ENV" "$ENV" --at 1h --yes
	run -3 vaultctl-secret restore-env "$ORG/api/nope" --at 1h --yes
	[ "$(r_state A)" == "$before" ]
}

# r_tty LINE HOOK: runs restore-env's LINE on a pseudo-terminal, runs
# HOOK while it waits at the confirmation, then answers yes.  Sets
# R_RC and R_OUT (what the terminal showed).
r_tty() {
	local d=$BATS_TEST_TMPDIR w pid
	rm -f "$d/tty.in" "$d/tty.out"
	mkfifo "$d/tty.in"
	script -qfec "vaultctl-secret restore-env $1" /dev/null <"$d/tty.in" \
		>"$d/tty.out" 2>&1 3>&- &
	pid=$!
	exec {w}>"$d/tty.in"
	wait_for "$d/tty.out" '[y/N]' || { exec {w}>&-; return 1; }
	"$2"
	printf 'y\r' >&$w
	exec {w}>&-
	R_RC=0
	wait "$pid" || R_RC=$?
	R_OUT=$(cat "$d/tty.out")
}

# On a terminal the plan is confirmed first; a secret changed by someone
# else between the plan and the answer stops the run before anything is
# written (exit 6), and the other's value stays.
t_restore_env_changed() {
	local at before
	s_here 10
	s_put "$ENV/A" a1
	s_put "$ENV/B" b1
	sleep 1.1
	at=$(r_now)
	s_put "$ENV/A" a2
	s_put "$ENV/B" b2
	meanwhile() {
		s_put "$ENV/B" b3
		before=$(r_state A B)
	}
	r_tty "$ENV --at $at" meanwhile
	[ "$R_RC" == 6 ] || { echo "$R_OUT"; false; }
	[[ $R_OUT == *"put 2 secrets of '$ENV' back as they were at"* ]]
	[[ $R_OUT == *"secret 'B' changed since the plan was made"* ]]
	[ "$(r_state A B)" == "$before" ]
	[ "$(vaultctl-secret get "$ENV/B")" == b3 ]
	# Confirmed with nothing in the way, it goes through.
	r_tty "$ENV --at $at" true
	[ "$R_RC" == 0 ] || { echo "$R_OUT"; false; }
	[ "$(vaultctl-secret get "$ENV/A")" == a1 ]
	[ "$(vaultctl-secret get "$ENV/B")" == b1 ]
}
