#!/usr/bin/env bats
# vaultctl-plan: plans, subscriptions, usage and quota checks
# (vaultctl-plan(1)), on a real MariaDB server with the local value store.

bats_require_minimum_version 1.5.0
load helper

ADMIN=admin@example.com
OWNER=owner@example.com
ORGADMIN=orgadmin@example.com
MEMBER=member@example.com
VIEWER=viewer@example.com
PLAIN=plain@example.com

setup_file() {
	vc_server_start
	env -u VAULTCTL_USER vaultctl-org user add "$ADMIN" --no-password \
		>/dev/null 2>&1 </dev/null
	export VAULTCTL_USER=$ADMIN
	local u
	for u in "$OWNER" "$ORGADMIN" "$MEMBER" "$VIEWER" "$PLAIN"; do
		vaultctl-org user add "$u" --no-password >/dev/null
	done
	# Organizations start on "free" (vaultctl-org create's default).
	vaultctl-plan create free --price 0 --cycle monthly --secrets-limit 3 \
		>/dev/null
}

teardown_file() {
	vc_server_stop
}

setup() {
	exec </dev/null
	export VAULTCTL_USER=$ADMIN
}

checksum() {
	vc_sql "CHECKSUM TABLE plans, subscriptions, organizations, audit_logs"
}

# new_org ORG [PLAN]: an organization owned by $OWNER with a viewer, a
# member, an admin, and project api with environments prod and dev.
new_org() {
	local org=$1
	vaultctl-org create "$org" --owner "$OWNER" ${2:+--plan "$2"} >/dev/null
	vaultctl-org member add "$org" "$VIEWER" --role viewer >/dev/null
	vaultctl-org member add "$org" "$MEMBER" --role member >/dev/null
	vaultctl-org member add "$org" "$ORGADMIN" --role admin >/dev/null
	vaultctl-org project create "$org/api" >/dev/null
	vaultctl-org env create "$org/api/prod" >/dev/null
	vaultctl-org env create "$org/api/dev" >/dev/null
}

# put REF: creates or updates a secret.
put() {
	printf 'value' | vaultctl-secret set -q "$1"
}

org_id() {
	vc_sql "SELECT id FROM organizations WHERE name = '$1'"
}

active_count() {
	vc_sql "SELECT COUNT(*) FROM subscriptions s JOIN organizations o
		ON o.id = s.organization_id WHERE o.name = '$1' AND s.status = 'active'"
}

active_plan() {
	vc_sql "SELECT p.name FROM subscriptions s JOIN organizations o ON
		o.id = s.organization_id JOIN plans p ON p.id = s.plan_id
		WHERE o.name = '$1' AND s.status = 'active'"
}

# --- plans -----------------------------------------------------------------

@test "help needs no server and lists every command" {
	run env VAULTCTL_CONFIG=/nonexistent vaultctl-plan --help
	[ "$status" -eq 0 ]
	local c
	for c in create list show set rm subscribe cancel subscriptions usage \
		check expire; do
		[[ $output == *"vaultctl-plan $c"* ]] || { echo "no $c"; return 1; }
	done
}

@test "create, list and show a plan" {
	ok vaultctl-plan create pro --price 29.90 --cycle yearly \
		--secrets-limit 500 --features '{"sso": true, "support": "email"}' \
		--description 'For teams'
	[ "$output" = "created plan pro" ]
	ok vaultctl-plan list
	[[ ${lines[0]} == NAME*PRICE*CYCLE*SECRETS_LIMIT ]]
	[[ $output == *"pro"*"29.90"*"yearly"*"500"* ]]
	ok vaultctl-plan list -o tsv
	[[ $output == *$'pro\t29.90\tyearly\t500'* ]]
	ok vaultctl-plan show pro -o json
	[ "$(jq -r .price <<<"$output")" = "29.90" ]
	[ "$(jq -r '.price | type' <<<"$output")" = "string" ]
	[ "$(jq -r .cycle <<<"$output")" = "yearly" ]
	[ "$(jq -r .secrets_limit <<<"$output")" = "500" ]
	[ "$(jq -r .features.sso <<<"$output")" = "true" ]
	[ "$(jq -r .description <<<"$output")" = "For teams" ]
	# show also finds a plan by its id.
	local id
	id=$(vc_sql "SELECT id FROM plans WHERE name = 'pro'")
	ok vaultctl-plan show "$id"
	[[ $output == *"name:"*"pro"* ]]
	[[ $output == *'features:       {"sso":true,"support":"email"}'* ]]
	# Plans are visible to every user.
	ok vaultctl-plan list --as "$PLAIN"
	[[ $output == *pro* ]]
}

@test "an unlimited plan stores NULL and shows unlimited (null in JSON)" {
	ok vaultctl-plan create big --price 99 --cycle monthly \
		--secrets-limit unlimited
	[ "$(vc_sql "SELECT secrets_limit IS NULL FROM plans WHERE name = 'big'")" = 1 ]
	ok vaultctl-plan show big
	[[ $output == *"secrets_limit:  unlimited"* ]]
	ok vaultctl-plan show big -o json
	[ "$(jq -r .secrets_limit <<<"$output")" = null ]
	# Without --secrets-limit a plan is unlimited too.
	ok vaultctl-plan create big2 --price 1 --cycle monthly
	[ "$(vc_sql "SELECT secrets_limit IS NULL FROM plans WHERE name = 'big2'")" = 1 ]
}

@test "accepted prices are stored and printed exactly" {
	# k, not i: bats' run assigns a global i.
	local k=0 in want
	while read -r in want; do
		k=$((k + 1))
		ok vaultctl-plan create "price$k" --price "$in" --cycle monthly
		[ "$(vc_sql "SELECT price FROM plans WHERE name = 'price$k'")" = "$want" ] ||
			{ echo "$in stored as $(vc_sql "SELECT price FROM plans WHERE name = 'price$k'")"; return 1; }
		ok vaultctl-plan show "price$k" -o json
		[ "$(jq -r .price <<<"$output")" = "$want" ]
		ok vaultctl-plan list -o tsv
		grep -qxF "price$k"$'\t'"$want"$'\t'monthly$'\t'unlimited <<<"$output"
	done <<'EOF'
9.99 9.99
0 0.00
1200.00 1200.00
1200 1200.00
0.5 0.50
0.05 0.05
10.1 10.10
99999999.99 99999999.99
19.95 19.95
0.10 0.10
EOF
	# What a float would have rounded: 0.1 + 0.2 style sums stay exact.
	[ "$(vc_sql "SELECT SUM(price) FROM plans WHERE name IN ('price6', 'price9')")" = "20.00" ]
}

@test "refused prices exit 2, name --price and change nothing" {
	local p
	for p in 9.999 -1 1e3 abc '' ' 1' '1 ' 1,5 +1 5. .5 01 100000000 \
		0x10 1.2.3 NaN 9.9a; do
		refused 2 "invalid --price '$p'" \
			vaultctl-plan create bad --price "$p" --cycle monthly
		refused 2 "invalid --price '$p'" vaultctl-plan set free --price "$p"
	done
	refused 2 "more than two decimal places" \
		vaultctl-plan create bad --price 9.999 --cycle monthly
	[ "$(vc_sql "SELECT COUNT(*) FROM plans WHERE name = 'bad'")" = 0 ]
}

@test "features: an object is stored compact, shown pretty, read from @FILE" {
	ok vaultctl-plan create feat --price 5 --cycle monthly \
		--features $'{ "api" : true,\n  "limits": {"rps": 10, "ratio": 0.50},\n "tags": ["a", "é"] }'
	[ "$(vc_sql "SELECT features FROM plans WHERE name = 'feat'")" = \
		'{"api":true,"limits":{"rps":10,"ratio":0.50},"tags":["a","é"]}' ]
	ok vaultctl-plan show feat -o json
	[ "$(jq -c .features <<<"$output")" = '{"api":true,"limits":{"rps":10,"ratio":0.5},"tags":["a","é"]}' ]
	# Pretty: the features object spans several lines.
	[[ $output == *$'"features":\t{\n'* ]]
	printf '{\n  "from": "file",\n  "n": 12345678901234567890\n}\n' \
		>"$BATS_TEST_TMPDIR/f.json"
	ok vaultctl-plan set feat --features "@$BATS_TEST_TMPDIR/f.json"
	[ "$(vc_sql "SELECT features FROM plans WHERE name = 'feat'")" = \
		'{"from":"file","n":12345678901234567890}' ]
	# @- reads standard input.
	run --separate-stderr vaultctl-plan set feat --features @- <<<'{"stdin":1}'
	[ "$status" -eq 0 ]
	[ "$(vc_sql "SELECT features FROM plans WHERE name = 'feat'")" = '{"stdin":1}' ]
	[ "$(vc_sql "SELECT JSON_VALID(features) FROM plans WHERE name = 'feat'")" = 1 ]
}

@test "features: arrays, scalars and invalid JSON are refused with exit 2" {
	local f
	for f in '[1, 2]' '[]' '"text"' 42 true null '' '{' '{"a":1,}' \
		"{'a':1}" '{"a":01}' '{"a":1.}' '{"a":1} {}' '{"a":NaN}' \
		$'{"a":"tab\there"}' $'{"a":"\xff"}' '{"a": 1 /* no */}'; do
		refused 2 "invalid --features" vaultctl-plan create bad \
			--price 1 --cycle monthly --features "$f"
		refused 2 "invalid --features" vaultctl-plan set free --features "$f"
	done
	refused 2 "not a JSON object but an array" vaultctl-plan create bad \
		--price 1 --cycle monthly --features '[1]'
	printf '[1, 2]' >"$BATS_TEST_TMPDIR/arr.json"
	refused 2 "invalid --features file" vaultctl-plan create bad --price 1 \
		--cycle monthly --features "@$BATS_TEST_TMPDIR/arr.json"
	refused 2 "cannot read --features file" vaultctl-plan create bad \
		--price 1 --cycle monthly --features "@$BATS_TEST_TMPDIR/missing"
	head -c 70000 /dev/zero | tr '\0' ' ' >"$BATS_TEST_TMPDIR/big.json"
	sed -i '1s/^/{}/' "$BATS_TEST_TMPDIR/big.json"
	refused 2 "longer than 65536 bytes" vaultctl-plan create bad --price 1 \
		--cycle monthly --features "@$BATS_TEST_TMPDIR/big.json"
}

@test "create needs --price and --cycle; --cycle and --secrets-limit are checked" {
	refused 2 "--price is required" vaultctl-plan create bad --cycle monthly
	refused 2 "--cycle is required" vaultctl-plan create bad --price 1
	local c
	for c in weekly Monthly '' daily; do
		refused 2 "invalid --cycle" vaultctl-plan create bad --price 1 --cycle "$c"
	done
	local l
	for l in -1 1.5 abc '' 2147483648 ' 3' Unlimited; do
		refused 2 "invalid --secrets-limit" vaultctl-plan create bad \
			--price 1 --cycle monthly --secrets-limit "$l"
	done
	local n
	for n in '' -bad 'a/b' '..' é "$(printf 'x%.0s' {1..64})"; do
		refused 2 "plan name" vaultctl-plan create --price 1 --cycle monthly \
			-- "$n"
	done
	refused 2 "unknown option" vaultctl-plan create bad --price 1 --cycle monthly --bogus
}

@test "create refuses a name that exists (exit 6), in any case" {
	refused 6 "plan 'free' already exists" vaultctl-plan create free \
		--price 1 --cycle monthly
	refused 6 "already exists" vaultctl-plan create FREE --price 1 --cycle monthly
}

@test "set changes only what is given; nothing to change exits 2" {
	ok vaultctl-plan create setme --price 10 --cycle monthly --secrets-limit 5 \
		--features '{"a":1}' --description first
	ok vaultctl-plan set setme --price 12.5
	[ "$(vc_sql "SELECT price, billing_cycle, secrets_limit, features, description
		FROM plans WHERE name = 'setme'")" = $'12.50\tmonthly\t5\t{"a":1}\tfirst' ]
	ok vaultctl-plan set setme --cycle yearly --secrets-limit unlimited \
		--description second
	[ "$(vc_sql "SELECT price, billing_cycle, secrets_limit IS NULL, description
		FROM plans WHERE name = 'setme'")" = $'12.50\tyearly\t1\tsecond' ]
	ok vaultctl-plan set setme --secrets-limit 0
	[ "$(vc_sql "SELECT secrets_limit FROM plans WHERE name = 'setme'")" = 0 ]
	refused 2 "nothing to change" vaultctl-plan set setme
	refused 3 "plan 'nosuch' not found" vaultctl-plan set nosuch --price 1
}

@test "only global admins manage plans (exit 4)" {
	refused 4 "only global admins" vaultctl-plan create p4 --price 1 \
		--cycle monthly --as "$PLAIN"
	refused 4 "only global admins" vaultctl-plan set free --price 1 --as "$OWNER"
	refused 4 "only global admins" vaultctl-plan rm free --as "$OWNER"
	[ "$(vc_sql "SELECT price FROM plans WHERE name = 'free'")" = 0.00 ]
}

@test "rm removes an unused plan and refuses one in use (exit 6)" {
	ok vaultctl-plan create gone --price 1 --cycle monthly
	ok vaultctl-plan rm gone
	[ "$output" = "removed plan gone" ]
	[ "$(vc_sql "SELECT COUNT(*) FROM plans WHERE name = 'gone'")" = 0 ]
	refused 3 "plan 'gone' not found" vaultctl-plan rm gone
	# In use by an organization and its subscription.
	ok vaultctl-plan create used --price 1 --cycle monthly
	vaultctl-org create rmorg --plan used >/dev/null
	refused 6 "still in use" vaultctl-plan rm used
	# Past subscriptions count: they are the billing history.
	ok vaultctl-plan subscribe rmorg free
	refused 6 "subscriptions 1" vaultctl-plan rm used
	[ "$(vc_sql "SELECT COUNT(*) FROM plans WHERE name = 'used'")" = 1 ]
}

# --- subscriptions ---------------------------------------------------------

@test "subscribe ends the active subscription and starts one on the plan" {
	new_org sub1
	ok vaultctl-plan create team --price 49 --cycle monthly --secrets-limit 50
	local before
	before=$(vc_sql "SELECT id FROM subscriptions WHERE status = 'active'
		AND organization_id = '$(org_id sub1)'")
	ok vaultctl-plan subscribe sub1 team --as "$OWNER"
	[ "$output" = "subscribed organization sub1 to plan team" ]
	[ "$(active_count sub1)" = 1 ]
	[ "$(active_plan sub1)" = team ]
	# The old one is canceled and ended now; the new one carries the limit.
	[ "$(vc_sql "SELECT status, end_date IS NOT NULL, end_date <= UTC_TIMESTAMP()
		FROM subscriptions WHERE id = '$before'")" = $'canceled\t1\t1' ]
	[ "$(vc_sql "SELECT secrets_limit, end_date IS NULL,
		start_date <= UTC_TIMESTAMP() FROM subscriptions
		WHERE organization_id = '$(org_id sub1)' AND status = 'active'")" = $'50\t1\t1' ]
	[ "$(vc_sql "SELECT p.name FROM organizations o JOIN plans p ON
		p.id = o.plan_id WHERE o.name = 'sub1'")" = team ]
	# A later change of the plan leaves the running subscription alone.
	ok vaultctl-plan set team --secrets-limit 60
	[ "$(vc_sql "SELECT secrets_limit FROM subscriptions WHERE status = 'active'
		AND organization_id = '$(org_id sub1)'")" = 50 ]
	refused 3 "plan 'nosuch' not found" vaultctl-plan subscribe sub1 nosuch
	refused 3 "not found" vaultctl-plan subscribe nosuchorg team
}

@test "subscribe refuses a plan below the secret count (exit 5) unless --force" {
	new_org down
	ok vaultctl-plan create ten --price 1 --cycle monthly --secrets-limit 10
	ok vaultctl-plan subscribe down ten
	ok vaultctl-plan create two --price 1 --cycle monthly --secrets-limit 2
	ok vaultctl-plan create three --price 2 --cycle monthly --secrets-limit 3
	put down/api/prod/A
	put down/api/prod/B
	put down/api/dev/C
	# Soft-deleted secrets do not count.
	put down/api/dev/GONE
	ok vaultctl-secret rm --yes down/api/dev/GONE
	refused 5 "plan 'two' allows 2 secrets but organization 'down' holds 3" \
		vaultctl-plan subscribe down two --as "$OWNER"
	[ "$(active_plan down)" = ten ]
	# Equal to the count is fine.
	ok vaultctl-plan subscribe down three --as "$OWNER"
	[ "$(active_plan down)" = three ]
	ok vaultctl-plan subscribe down two --force --as "$OWNER"
	[[ $stderr == *"warning"*"holds 3 secrets"* ]]
	[ "$(active_plan down)" = two ]
	[ "$(active_count down)" = 1 ]
	# Over the limit now: new secrets are refused, updates are not.
	run vaultctl-secret set down/api/prod/NEW <<<v
	[ "$status" -eq 5 ]
	run put down/api/prod/A
	[ "$status" -eq 0 ]
	[ "$(vc_sql "SELECT details FROM audit_logs WHERE action = 'subscription.create'
		AND organization_id = '$(org_id down)' ORDER BY seq DESC LIMIT 1")" = \
		'{"plan":"two","previous":"three","secrets":"3","forced":"true"}' ]
}

@test "subscribe --start and --end are strict ISO 8601 dates, end after start" {
	new_org dates
	ok vaultctl-plan subscribe dates free --start 2030-01-01 --end 2031-01-01T12:30:00Z
	[ "$(vc_sql "SELECT start_date, end_date FROM subscriptions WHERE status = 'active'
		AND organization_id = '$(org_id dates)'")" = \
		$'2030-01-01 00:00:00\t2031-01-01 12:30:00' ]
	ok vaultctl-plan subscriptions dates -o json
	[ "$(jq -r '.[0].end_date' <<<"$output")" = 2031-01-01T12:30:00Z ]
	local d
	for d in 2030-02-30 2030-13-01 2030-1-1 '2030-01-01 10:00:00' \
		2030-01-01T10:00:00+02:00 tomorrow '' 1969-01-01; do
		refused 2 "invalid --end '$d'" vaultctl-plan subscribe dates free --end "$d"
		refused 2 "invalid --start '$d'" vaultctl-plan subscribe dates free --start "$d"
	done
	refused 2 "end date must be after the start date" \
		vaultctl-plan subscribe dates free --start 2030-06-01 --end 2030-06-01
	refused 2 "end date must be after the start date" \
		vaultctl-plan subscribe dates free --start 2030-06-01 --end 2030-01-01
	refused 2 "end date is in the past" \
		vaultctl-plan subscribe dates free --start 2001-01-01 --end 2002-01-01
	refused 2 "end date must be after the start date" \
		vaultctl-plan subscribe dates free --end 2001-01-01
}

@test "owners and global admins subscribe and cancel; others get exit 4" {
	new_org roles
	local u
	for u in "$VIEWER" "$MEMBER" "$ORGADMIN"; do
		refused 4 "needs the role owner" vaultctl-plan subscribe roles free --as "$u"
		refused 4 "needs the role owner" vaultctl-plan cancel roles --as "$u"
	done
	refused 4 "not a member" vaultctl-plan subscribe roles free --as "$PLAIN"
	ok vaultctl-plan subscribe roles free --as "$OWNER"
	ok vaultctl-plan subscribe roles free --as "$ADMIN"
	ok vaultctl-plan cancel roles --as "$OWNER"
}

@test "subscriptions lists the history newest first, for admins of the org" {
	new_org hist
	ok vaultctl-plan create h2 --price 3 --cycle yearly --secrets-limit 7
	ok vaultctl-plan subscribe hist h2
	ok vaultctl-plan subscriptions hist --as "$ORGADMIN"
	[[ ${lines[0]} == PLAN*STATUS*SECRETS_LIMIT*START_DATE*END_DATE* ]]
	[[ ${lines[1]} == h2*active*7* ]]
	[[ ${lines[2]} == free*canceled*3* ]]
	ok vaultctl-plan subscriptions hist -o tsv
	[ "${#lines[@]}" -eq 2 ]
	[[ ${lines[0]} == $'h2\tactive\t7\t'* ]]
	ok vaultctl-plan subscriptions hist -o json
	[ "$(jq -r 'map(.status) | join(",")' <<<"$output")" = active,canceled ]
	[ "$(jq -r '.[1].end_date | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")' <<<"$output")" = true ]
	refused 4 "needs the role admin" vaultctl-plan subscriptions hist --as "$MEMBER"
	refused 4 "needs the role admin" vaultctl-plan subscriptions hist --as "$VIEWER"
}

@test "cancel ends the subscription; then a new secret exits 5" {
	new_org canc
	put canc/api/prod/BEFORE
	ok vaultctl-plan cancel canc --as "$OWNER"
	[ "$output" = "canceled the subscription of organization canc" ]
	[ "$(active_count canc)" = 0 ]
	[ "$(vc_sql "SELECT plan_id IS NULL FROM organizations WHERE name = 'canc'")" = 1 ]
	run --separate-stderr vaultctl-secret set canc/api/prod/AFTER <<<v
	[ "$status" -eq 5 ]
	[[ $stderr == *"no active subscription"* ]]
	refused 3 "no active subscription" vaultctl-plan cancel canc
	run vaultctl-plan check canc
	[ "$status" -eq 5 ]
	# Subscribing again brings writes back.
	ok vaultctl-plan subscribe canc free
	run put canc/api/prod/AFTER
	[ "$status" -eq 0 ]
}

@test "expire: active subscriptions past end_date become expired; then a new secret exits 5" {
	new_org exp1
	new_org exp2
	ok vaultctl-plan subscribe exp1 free --end 2099-01-01
	ok vaultctl-plan subscribe exp2 free --end 2099-01-01
	vc_sql "UPDATE subscriptions SET end_date = UTC_TIMESTAMP() - INTERVAL 1 DAY
		WHERE status = 'active' AND organization_id = '$(org_id exp1)'"
	# Silent without -v, and needs no acting user (cron).
	run --separate-stderr env -u VAULTCTL_USER vaultctl-plan expire
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
	[ "$(active_count exp1)" = 0 ]
	[ "$(active_count exp2)" = 1 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM subscriptions WHERE organization_id =
		'$(org_id exp1)' AND status = 'expired'")" = 1 ]
	[ "$(vc_sql "SELECT plan_id IS NULL FROM organizations WHERE name = 'exp1'")" = 1 ]
	[ "$(vc_sql "SELECT COUNT(*), MAX(user_id IS NULL) FROM audit_logs WHERE
		action = 'subscription.expire' AND organization_id = '$(org_id exp1)'")" = $'1\t1' ]
	run vaultctl-secret set exp1/api/prod/NEW <<<v
	[ "$status" -eq 5 ]
	run put exp2/api/prod/NEW
	[ "$status" -eq 0 ]
	run --separate-stderr vaultctl-plan expire -v
	[ "$status" -eq 0 ]
	[[ $stderr == *"expired 0 subscriptions"* ]]
}

@test "expire run twice at once expires and audits each subscription once" {
	local o
	for o in twa twb twc; do
		new_org "$o"
		ok vaultctl-plan subscribe "$o" free --end 2099-01-01
		vc_sql "UPDATE subscriptions SET end_date = '2001-01-01' WHERE
			status = 'active' AND organization_id = '$(org_id "$o")'"
	done
	local audits
	audits=$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE action = 'subscription.expire'")
	vaultctl-plan expire -v 2>"$BATS_TEST_TMPDIR/a" &
	vaultctl-plan expire -v 2>"$BATS_TEST_TMPDIR/b" &
	vaultctl-plan expire -v 2>"$BATS_TEST_TMPDIR/c"
	wait
	cat "$BATS_TEST_TMPDIR"/[abc]
	# The three runs expired three subscriptions between them.
	[ "$(awk '{ n += $(NF - 1) } END { print n }' "$BATS_TEST_TMPDIR"/[abc])" = 3 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE action = 'subscription.expire'")" = \
		$((audits + 3)) ]
	for o in twa twb twc; do
		[ "$(active_count "$o")" = 0 ]
	done
}

@test "two subscribes at once leave exactly one active subscription" {
	new_org race
	ok vaultctl-plan create racea --price 1 --cycle monthly
	ok vaultctl-plan create raceb --price 2 --cycle monthly
	local i pids=()
	for i in 1 2 3 4 5; do
		vaultctl-plan subscribe -q race racea & pids+=($!)
		vaultctl-plan subscribe -q race raceb & pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	[ "$(active_count race)" = 1 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM subscriptions WHERE organization_id =
		'$(org_id race)'")" = 11 ]
	# The organization's plan is the active subscription's.
	[ "$(vc_sql "SELECT o.plan_id = s.plan_id FROM organizations o JOIN
		subscriptions s ON s.organization_id = o.id AND s.status = 'active'
		WHERE o.name = 'race'")" = 1 ]
	# Also when the organization has no active subscription to lock.
	ok vaultctl-plan cancel race
	pids=()
	vaultctl-plan subscribe -q race racea & pids+=($!)
	vaultctl-plan subscribe -q race raceb & pids+=($!)
	vaultctl-plan subscribe -q race free & pids+=($!)
	for i in "${pids[@]}"; do
		wait "$i"
	done
	[ "$(active_count race)" = 1 ]
}

# --- usage and check -------------------------------------------------------

@test "usage shows used, limit, percent, API calls and each environment" {
	new_org use
	vaultctl-org project create use/web >/dev/null
	vaultctl-org env create use/web/stage >/dev/null
	put use/api/prod/A
	put use/api/prod/B
	put use/web/stage/C
	ok vaultctl-plan usage use --as "$VIEWER"
	[[ $output == *"organization:   use"* ]]
	[[ $output == *"plan:           free"* ]]
	[[ $output == *"secrets:        3"* ]]
	[[ $output == *"secrets_limit:  3"* ]]
	[[ $output == *"percent:        100.0%"* ]]
	[[ $output == *PROJECT*ENVIRONMENT*SECRETS* ]]
	[[ $output == *"api      prod         2"* ]]
	[[ $output == *"api      dev          0"* ]]
	[[ $output == *"web      stage        1"* ]]
	ok vaultctl-plan usage use -o json
	[ "$(jq -c '{organization, plan, secrets, secrets_limit}' <<<"$output")" = \
		'{"organization":"use","plan":"free","secrets":3,"secrets_limit":3}' ]
	# The percentage is exact text (one decimal), not a float's rendering.
	[[ $output == *$'"percent":\t100.0,'* ]]
	[ "$(jq -r '.api_calls | type' <<<"$output")" = number ]
	[ "$(jq -r '.api_calls' <<<"$output")" -ge 3 ]
	[ "$(jq -c '[.environments[] | [.project, .environment, .secrets]]' <<<"$output")" = \
		'[["api","dev",0],["api","prod",2],["web","stage",1]]' ]
	ok vaultctl-plan usage use -o tsv
	[[ $output == *$'api\tprod\t2'* ]]
	# An unlimited plan: no percentage.
	ok vaultctl-plan create unl --price 1 --cycle monthly
	ok vaultctl-plan subscribe use unl
	ok vaultctl-plan usage use -o json
	[ "$(jq -c '[.plan, .secrets_limit, .percent]' <<<"$output")" = '["unl",null,null]' ]
	ok vaultctl-plan usage use
	[[ $output == *"secrets_limit:  unlimited"* ]]
	refused 4 "not a member" vaultctl-plan usage use --as "$PLAIN"
	refused 3 "not found" vaultctl-plan usage nosuchorg
}

@test "check exits 0 when N more secrets fit, 5 when not; -q prints nothing" {
	new_org chk
	put chk/api/prod/A
	ok vaultctl-plan check chk --as "$MEMBER"
	[[ $output == *"1 of 3 secrets used, room for 2 more"* ]]
	ok vaultctl-plan check chk --need 2
	run --separate-stderr vaultctl-plan check chk --need 3
	[ "$status" -eq 5 ]
	[[ $stderr == *"quota exceeded"*"1 of 3"* ]]
	run --separate-stderr vaultctl-plan check -q chk --need 3
	[ "$status" -eq 5 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
	run --separate-stderr vaultctl-plan check -q chk --as "$VIEWER"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
	ok vaultctl-plan check chk --need 0
	refused 2 "--need" vaultctl-plan check chk --need -1
	refused 2 "--need" vaultctl-plan check chk --need x
	refused 4 "not a member" vaultctl-plan check chk --as "$PLAIN"
	# -q silences the verdict only, not other errors.
	run --separate-stderr vaultctl-plan check -q nosuchorg
	[ "$status" -eq 3 ]
	[[ $stderr == *"not found"* ]]
	# No active subscription: nothing fits.
	ok vaultctl-plan cancel chk
	run --separate-stderr vaultctl-plan check chk --need 0
	[ "$status" -eq 5 ]
	[[ $stderr == *"no active subscription"* ]]
	# The answer agrees with what a write does.
	ok vaultctl-plan subscribe chk free
	put chk/api/prod/B
	put chk/api/prod/C
	run vaultctl-plan check -q chk
	[ "$status" -eq 5 ]
	run vaultctl-secret set chk/api/prod/D <<<v
	[ "$status" -eq 5 ]
}

# --- audit -----------------------------------------------------------------

@test "every change writes an audit row in the right chain" {
	new_org aud
	local oid n
	oid=$(org_id aud)
	count() {
		vc_sql "SELECT COUNT(*) FROM audit_logs WHERE action = '$1' AND
			organization_id ${2:-IS NULL}"
	}
	n=$(count plan.create)
	ok vaultctl-plan create audp --price 1 --cycle monthly
	[ "$(count plan.create)" = $((n + 1)) ]
	n=$(count plan.update)
	ok vaultctl-plan set audp --price 2
	[ "$(count plan.update)" = $((n + 1)) ]
	ok vaultctl-plan subscribe aud audp
	[ "$(count subscription.create "= '$oid'")" = 1 ]
	ok vaultctl-plan subscribe aud free
	[ "$(count subscription.create "= '$oid'")" = 2 ]
	ok vaultctl-plan cancel aud
	[ "$(count subscription.cancel "= '$oid'")" = 1 ]
	# Subscription events are not in the global chain, plan events are.
	[ "$(count subscription.create)" = 0 ]
	n=$(count plan.delete)
	ok vaultctl-plan create audq --price 1 --cycle monthly
	ok vaultctl-plan rm audq
	[ "$(count plan.delete)" = $((n + 1)) ]
	[ "$(vc_sql "SELECT user_id = (SELECT id FROM users WHERE email = '$ADMIN')
		FROM audit_logs WHERE action = 'plan.delete' ORDER BY seq DESC LIMIT 1")" = 1 ]
	[ "$(vc_sql "SELECT details FROM audit_logs WHERE action = 'plan.create'
		ORDER BY seq DESC LIMIT 1")" = \
		'{"name":"audq","price":"1","cycle":"monthly","secrets_limit":"unlimited"}' ]
	# A refusal writes nothing (refused compares audit_logs too).
	ok vaultctl-plan subscribe aud free
	put aud/api/prod/X
	ok vaultctl-plan create zero --price 0 --cycle monthly --secrets-limit 0
	refused 5 "allows 0 secrets" vaultctl-plan subscribe aud zero
}

@test "one quota rule: set, import --dry-run and check refuse in the same words" {
	local e want
	new_org same
	put same/api/prod/A
	put same/api/prod/B
	put same/api/prod/C
	want="quota exceeded: organization 'same' holds 3 of 3 secrets its plan 'free' allows, no room for 1 more"
	for e in "vaultctl-plan check same" \
		"vaultctl-secret set same/api/prod/D --from-file $BATS_TEST_TMPDIR/d.env" \
		"vaultctl-secret import same/api/prod --dry-run --file $BATS_TEST_TMPDIR/d.env"; do
		printf 'D=1\n' >"$BATS_TEST_TMPDIR/d.env"
		run --separate-stderr $e
		[ "$status" -eq 5 ] || { echo "$e: exit $status: $stderr"; false; }
		[[ $stderr == *"$want"* ]] || { echo "$e: $stderr"; false; }
	done
	ok vaultctl-plan cancel same
	want="quota exceeded: organization 'same' has no active subscription"
	for e in "vaultctl-plan check same" \
		"vaultctl-secret set same/api/prod/D --from-file $BATS_TEST_TMPDIR/d.env" \
		"vaultctl-secret import same/api/prod --dry-run --file $BATS_TEST_TMPDIR/d.env"; do
		run --separate-stderr $e
		[ "$status" -eq 5 ] || { echo "$e: exit $status: $stderr"; false; }
		[[ $stderr == *"$want"* ]] || { echo "$e: $stderr"; false; }
	done
}
