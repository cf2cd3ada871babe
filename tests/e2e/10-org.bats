#!/usr/bin/env bats
# vaultctl-org: users, organizations, members, projects, environments and
# policies (vaultctl-org(1), vaultctl(7)), on a real MariaDB server with the
# local value store.  The role matrix is in 11-org-roles.bats.

bats_require_minimum_version 1.5.0
load helper

ROOT=root@example.com
PW='Sup3r-Secret-Pw#9931'

setup_file() {
	vc_server_start
	vc_sql "INSERT INTO plans (id, name, description, price, billing_cycle,
		secrets_limit, features, created_at, updated_at) VALUES
		(UUID(), 'free', '', 0, 'monthly', 10, NULL, NOW(), NOW()),
		(UUID(), 'team', '', 9.50, 'monthly', NULL, NULL, NOW(), NOW())"
	# Bootstrap: the first user needs no acting user (kept for the test).
	env -u VAULTCTL_USER vaultctl-org user add "$ROOT" --no-password \
		>"$BATS_FILE_TMPDIR/boot.out" 2>&1 </dev/null
	echo $? >"$BATS_FILE_TMPDIR/boot.rc"
	export VAULTCTL_USER=$ROOT
}

teardown_file() {
	vc_server_stop
}

setup() {
	# Never a terminal: confirmations must refuse instead of asking.
	exec </dev/null
}

TABLES="users, organizations, user_organizations, projects, environments,
	secret_metadata, subscriptions, usage_statistics, audit_logs,
	vc_value_keys, vc_values"

checksum() {
	vc_sql "CHECKSUM TABLE $TABLES"
}

# do_eval STRING: runs a command line of a table below.
do_eval() {
	eval "$1"
}

# audited ACTION CMD...: CMD succeeds and writes exactly one audit row,
# whose action is ACTION.
audited() {
	local action=$1 last got
	shift
	last=$(vc_sql "SELECT COALESCE(MAX(seq), 0) FROM audit_logs")
	ok "$@" || return 1
	got=$(vc_sql "SELECT action FROM audit_logs WHERE seq > $last ORDER BY seq")
	[ "$got" = "$action" ] || {
		echo "$*: audit rows '$got', expected one '$action'"
		return 1
	}
}

pw_in() {   # pw_in PASSWORD CMD...: CMD with PASSWORD on stdin
	local pw=$1
	shift
	printf '%s\n' "$pw" | "$@"
}

set_secret() {   # set_secret REF [VALUE]
	printf '%s' "${2:-v}" | vaultctl-secret -q set "$1"
}

org_id() {
	vc_sql "SELECT id FROM organizations WHERE name = '$1'"
}

values_of() {   # rows of the local store under an organization's path
	vc_sql "SELECT COUNT(*) FROM vc_values WHERE path LIKE 'organizations/$1/%'"
}

long() {   # long N: a name of N characters
	printf 'a%.0s' $(seq "$1")
}

# ---------------------------------------------------------------------------

@test "bootstrap: the first user needs no acting user and becomes a global admin" {
	[ "$(cat "$BATS_FILE_TMPDIR/boot.rc")" -eq 0 ]
	grep -q "first user: global admin" "$BATS_FILE_TMPDIR/boot.out"
	[ "$(vc_sql "SELECT role FROM users WHERE email = '$ROOT'")" = admin ]
	# Audited without an acting user, in the global chain.
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE action = 'user.create'
		AND user_id IS NULL AND organization_id IS NULL")" -eq 1 ]
	# From then on an acting user is needed, and it must be a global admin.
	refused 4 "no acting user" env -u VAULTCTL_USER vaultctl-org user add second@example.com --no-password
	ok vaultctl-org user add plain@example.com --no-password
	[ "$(vc_sql "SELECT role FROM users WHERE email = 'plain@example.com'")" = user ]
	refused 4 "only global admins add users" vaultctl-org --as plain@example.com user add third@example.com --no-password
}

@test "acting user: --as, else \$VAULTCTL_USER, else default_user; an empty name exits 2" {
	local cnf=$BATS_TEST_TMPDIR/default-user.cnf
	# The same rule in every tool, for user add and its bootstrap path too.
	refused 2 "empty user name (--as '')" vaultctl-org --as '' list
	refused 2 "empty user name (--as '')" vaultctl-secret --as '' list x/y/z
	refused 2 "empty user name (--as '')" vaultctl-plan --as '' list
	refused 2 "empty user name (--as '')" vaultctl-org --as '' user add new@example.com --no-password
	VAULTCTL_USER= refused 2 "empty user name (\$VAULTCTL_USER" vaultctl-org list
	VAULTCTL_USER= refused 2 "empty user name" vaultctl-audit log
	VAULTCTL_USER= refused 2 "empty user name" vaultctl-org user add new@example.com --no-password
	# An empty name is not a fall back to the next source.
	refused 2 "empty user name" vaultctl-org --as '' user show "$ROOT"
	# --as wins over the variable, even an empty one.
	VAULTCTL_USER= ok vaultctl-org --as "$ROOT" user show "$ROOT"
	# default_user when neither is given, for user add as for the rest.
	ok vaultctl-org user add dflt@example.com --no-password
	cp "$VAULTCTL_CONFIG" "$cnf"
	sed -i '/^\[vaultctl\]/a default_user = dflt@example.com' "$cnf"
	run --separate-stderr env -u VAULTCTL_USER vaultctl-org -c "$cnf" user show dflt@example.com
	[ "$status" -eq 0 ]
	(unset VAULTCTL_USER; refused 4 "only global admins add users" \
		vaultctl-org -c "$cnf" user add new@example.com --no-password)
	refused 4 "only global admins add users" vaultctl-org -c "$cnf" --as dflt@example.com user add new@example.com --no-password
	ok vaultctl-org -c "$cnf" user add new@example.com --no-password
	ok vaultctl-org user rm new@example.com
	ok vaultctl-org user rm dflt@example.com
}

@test "login binding: user add|set --login, --no-login; the last source of the acting user" {
	local me
	me=$(id -un)
	ok vaultctl-org user add bound@example.com --no-password --login "$me"
	[ "$(vc_sql "SELECT login FROM users WHERE email = 'bound@example.com'")" = "$me" ]
	# Nobody named, no default_user: the user bound to the caller's login.
	run --separate-stderr env -u VAULTCTL_USER vaultctl-org user show bound@example.com -o json
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["login"])' <<<"$output")" = "$me" ]
	# One user per login; only global admins bind; bad names exit 2.
	refused 6 "login '$me' is already bound to another user" \
		vaultctl-org user add other@example.com --no-password --login "$me"
	ok vaultctl-org user add other@example.com --no-password
	refused 4 "only global admins change roles and login bindings" \
		vaultctl-org --as other@example.com user set other@example.com --login nobody
	refused 2 "invalid login name" vaultctl-org user set other@example.com --login 'a b'
	refused 2 "--login and --no-login exclude each other" \
		vaultctl-org user set other@example.com --login x --no-login
	ok vaultctl-org user set bound@example.com --no-login
	[ "$(vc_sql "SELECT COALESCE(login, 'NULL') FROM users WHERE email = 'bound@example.com'")" = NULL ]
	refused 4 "no acting user" env -u VAULTCTL_USER vaultctl-org user list
	ok vaultctl-org user rm other@example.com
	ok vaultctl-org user rm bound@example.com
}

@test "authenticate = password: user add proves the acting user like every command" {
	local cnf=$BATS_TEST_TMPDIR/password.cnf pwf=$BATS_TEST_TMPDIR/pw
	pw_in "$PW" vaultctl-org user add pwadmin@example.com --role admin --password-stdin >/dev/null
	cp "$VAULTCTL_CONFIG" "$cnf"
	sed -i '/^\[vaultctl\]/a authenticate = password' "$cnf"
	printf 'wrong-%s\n' "$PW" >"$pwf"
	chmod 600 "$pwf"
	VAULTCTL_PASSWORD_FILE=$pwf refused 4 "authentication failed" vaultctl-org -c "$cnf" --as pwadmin@example.com user list
	VAULTCTL_PASSWORD_FILE=$pwf refused 4 "authentication failed" vaultctl-org -c "$cnf" --as pwadmin@example.com user add pwnew@example.com --no-password
	printf '%s\n' "$PW" >"$pwf"
	VAULTCTL_PASSWORD_FILE=$pwf ok vaultctl-org -c "$cnf" --as pwadmin@example.com user add pwnew@example.com --no-password
	ok vaultctl-org user rm pwnew@example.com
	ok vaultctl-org user rm pwadmin@example.com
}

@test "--help lists every command, --version prints the version, bad commands exit 2" {
	run --separate-stderr vaultctl-org --help
	[ "$status" -eq 0 ]
	local cmd
	while read -r cmd; do
		cmd=${cmd%% --*}
		[[ $output == *"vaultctl-org $cmd"* ]] || { echo "--help lacks '$cmd'"; false; }
	done < <(vaultctl-org --list-commands)
	# ... and those are the commands vaultctl-org(1) documents.
	for cmd in "user add" "user list" "user show" "user set" "user passwd" \
		"user check-password" "user rm" create list show set rm "member add" \
		"member list" "member set" "member rm" "project create" "project list" \
		"project show" "project set" "project rm" "env create" "env list" \
		"env rm" "env set" policy; do
		grep -qE "^  vaultctl-org $cmd( |\$)" <<<"$output" || { echo "--help lacks '$cmd'"; false; }
	done
	run vaultctl-org -h
	[ "$status" -eq 0 ]
	[[ $output == *"member add"* ]]
	run vaultctl-org member add --help
	[ "$status" -eq 0 ]
	[[ $output == *"vaultctl-org member add ORG EMAIL"* ]]

	run --separate-stderr vaultctl-org --version
	[ "$status" -eq 0 ]
	[ "$output" = "vaultctl-org $(sed -n 's/^#define VC_VERSION "\(.*\)"$/\1/p' "$REPO/lib/vc.h")" ]
	run vaultctl-org -V
	[[ $output == "vaultctl-org 0."* ]]

	refused 2 "unknown command 'frobnicate'" vaultctl-org frobnicate
	refused 2 "a command is required" vaultctl-org
	refused 2 "unknown option '--frob'" vaultctl-org list --frob
	refused 2 "unknown output format 'xml'" vaultctl-org -o xml list
}

@test "user add, list, show, set, passwd, check-password, rm" {
	# A password from stdin, stored as an Argon2id string.
	audited user.create pw_in "$PW" vaultctl-org user add alice@example.com \
		--first-name Alice --last-name "O'Hara" --password-stdin
	[[ $output == "added user alice@example.com" ]]
	local hash
	hash=$(vc_sql "SELECT hashed_password FROM users WHERE email = 'alice@example.com'")
	[[ $hash == '$argon2id$'* ]]
	[[ $hash != *"$PW"* ]]

	ok pw_in "$PW" vaultctl-org user check-password alice@example.com --password-stdin
	refused 4 "authentication failed" pw_in "wrong-$PW" vaultctl-org user check-password alice@example.com --password-stdin
	refused 4 "authentication failed" pw_in "$PW" vaultctl-org user check-password nobody@example.com --password-stdin
	# A user without a password never matches.
	audited user.create vaultctl-org user add bob@example.com --no-password
	[ -z "$(vc_sql "SELECT hashed_password FROM users WHERE email = 'bob@example.com'")" ]
	refused 4 "authentication failed" pw_in anything vaultctl-org user check-password bob@example.com --password-stdin

	# list and show, in every format.
	ok vaultctl-org user list
	[[ ${lines[0]} == EMAIL* ]]
	[[ $output == *alice@example.com* && $output == *bob@example.com* ]]
	ok vaultctl-org user list -o json
	[ "$(printf '%s' "$output" | python3 -c '
import json, sys
users = {u["email"]: u for u in json.load(sys.stdin)}
a = users["alice@example.com"]
print(a["first_name"], a["last_name"], a["role"], a["password"], users["bob@example.com"]["password"])')" = "Alice O'Hara user True False" ]
	ok vaultctl-org user show alice@example.com -o tsv
	[ "$(cut -f1-5 <<<"$output")" = "$(printf 'alice@example.com\tAlice\tO'"'"'Hara\tuser\t1')" ]
	ok vaultctl-org user show ALICE@example.com -o json
	[ "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["email"])' <<<"$output")" = alice@example.com ]

	# set: names and the global role.
	audited user.update vaultctl-org user set alice@example.com --first-name Alicia --role admin
	[ "$(vc_sql "SELECT first_name, role FROM users WHERE email = 'alice@example.com'")" = "$(printf 'Alicia\tadmin')" ]
	audited user.update vaultctl-org user set alice@example.com --role user
	# A user may change their own name, not their role nor someone else.
	audited user.update vaultctl-org --as bob@example.com user set bob@example.com --last-name Builder
	refused 4 "only global admins change roles" vaultctl-org --as bob@example.com user set bob@example.com --role admin
	refused 4 "only global admins change other users" vaultctl-org --as bob@example.com user set alice@example.com --first-name X

	# passwd: the old password stops working.
	audited user.passwd pw_in "new-$PW" vaultctl-org user passwd alice@example.com --password-stdin
	ok pw_in "new-$PW" vaultctl-org user check-password alice@example.com --password-stdin
	refused 4 "authentication failed" pw_in "$PW" vaultctl-org user check-password alice@example.com --password-stdin
	audited user.passwd pw_in "bob-$PW" vaultctl-org --as bob@example.com user passwd bob@example.com --password-stdin
	[[ $(vc_sql "SELECT hashed_password FROM users WHERE email = 'bob@example.com'") == '$argon2id$'* ]]
	refused 4 "only global admins change other users" pw_in x vaultctl-org --as bob@example.com user passwd alice@example.com --password-stdin

	# rm
	refused 4 "only global admins remove users" vaultctl-org --as bob@example.com user rm alice@example.com
	audited user.delete vaultctl-org user rm alice@example.com
	[[ $output == "removed user alice@example.com" ]]
	[ "$(vc_sql "SELECT COUNT(*) FROM users WHERE email = 'alice@example.com'")" -eq 0 ]
	refused 3 "user 'alice@example.com' not found" vaultctl-org user show alice@example.com
}

@test "create, list, show, set and rm an organization" {
	ok vaultctl-org user add carol@example.com --no-password
	audited org.create vaultctl-org create acme --description "the first"
	[ "$output" = "created organization acme" ]
	local id
	id=$(org_id acme)
	# The acting user is the owner; the plan 'free' is subscribed.
	[ "$(vc_sql "SELECT u.email, uo.role FROM user_organizations uo JOIN users u
		ON u.id = uo.user_id WHERE uo.organization_id = '$id'")" = "$(printf '%s\towner' "$ROOT")" ]
	[ "$(vc_sql "SELECT p.name, s.status, s.secrets_limit FROM subscriptions s
		JOIN plans p ON p.id = s.plan_id WHERE s.organization_id = '$id'")" = "$(printf 'free\tactive\t10')" ]
	[ "$(vc_sql "SELECT secret_count FROM usage_statistics WHERE organization_id = '$id'")" -eq 0 ]

	# --plan and --owner.
	audited org.create vaultctl-org create Widgets --plan team --owner carol@example.com
	id=$(org_id widgets)
	[ "$(vc_sql "SELECT u.email FROM organizations o JOIN users u ON u.id = o.owner_id
		WHERE o.id = '$id'")" = carol@example.com ]
	[ "$(vc_sql "SELECT COALESCE(secrets_limit, 'unlimited') FROM subscriptions
		WHERE organization_id = '$id' AND status = 'active'")" = unlimited ]
	[ "$(vc_sql "SELECT COUNT(*) FROM user_organizations WHERE organization_id = '$id'")" -eq 1 ]

	# list: members see their organizations, global admins all of them.
	ok vaultctl-org --as carol@example.com list -o tsv
	[ "$(cut -f1,2,3 <<<"$output")" = "$(printf 'Widgets\towner\tteam')" ]
	ok vaultctl-org list -o json
	[ "$(python3 -c 'import json,sys; print(" ".join(sorted(o["name"] for o in json.load(sys.stdin))))' <<<"$output")" = "Widgets acme" ]
	ok vaultctl-org list
	[[ ${lines[0]} == NAME* ]]
	[ "${#lines[@]}" -eq 3 ]

	# show: by name (any case) or id, with members and environments.
	ok vaultctl-org project create acme/api
	ok vaultctl-org env create acme/api/prod
	ok vaultctl-org env create acme/api/dev
	ok vaultctl-org member add acme carol@example.com --role viewer
	ok vaultctl-org show ACME -o json
	python3 - "$output" <<-'EOF'
		import json, sys
		o = json.loads(sys.argv[1])
		assert o["name"] == "acme" and o["plan"] == "free", o
		assert o["description"] == "the first" and o["projects"] == 1, o
		assert o["secrets"] == 0 and o["secrets_limit"] == 10, o
		assert o["members"] == [{"email": "root@example.com", "role": "owner"},
		                        {"email": "carol@example.com", "role": "viewer"}], o
		assert o["environments"] == [{"project": "api", "environments": ["dev", "prod"]}], o
	EOF
	ok vaultctl-org show "$(org_id acme)"
	[[ $output == *"name:"*acme* ]]
	[[ $output == *"members:"*"root@example.com (owner), carol@example.com (viewer)"* ]]
	[[ $output == *"environments:"*"api: dev, prod"* ]]

	# set: description and name; the new name addresses it.
	audited org.update vaultctl-org set acme --description "x'; DROP TABLE users; --"
	[ "$(vc_sql "SELECT description FROM organizations WHERE name = 'acme'")" = "x'; DROP TABLE users; --" ]
	audited org.update vaultctl-org set acme --name acme2
	ok vaultctl-org show acme2 -o tsv
	[[ $output == acme2$'\t'* ]]
	refused 3 "organization 'acme' not found" vaultctl-org show acme
	ok vaultctl-org set acme2 --name acme

	# rm: refused without --yes off a terminal, nothing changed; then gone.
	refused 2 "refusing without --yes" vaultctl-org rm widgets
	audited org.delete vaultctl-org rm widgets --yes
	[ "$output" = "removed organization Widgets (0 secrets)" ]
	[ "$(vc_sql "SELECT (SELECT COUNT(*) FROM organizations WHERE id = '$id')
		+ (SELECT COUNT(*) FROM subscriptions WHERE organization_id = '$id')
		+ (SELECT COUNT(*) FROM user_organizations WHERE organization_id = '$id')
		+ (SELECT COUNT(*) FROM usage_statistics WHERE organization_id = '$id')")" -eq 0 ]
}

@test "member add, list, set and rm; an organization keeps an owner" {
	ok vaultctl-org create mem
	ok vaultctl-org user add dave@example.com --no-password
	ok vaultctl-org user add erin@example.com --no-password
	audited member.add vaultctl-org member add mem dave@example.com
	[ "$output" = "added dave@example.com to mem" ]
	audited member.add vaultctl-org member add mem ERIN@example.com --role admin
	ok vaultctl-org member list mem -o tsv
	[ "$(cut -f1,2 <<<"$output")" = "$(printf '%s\towner\nerin@example.com\tadmin\ndave@example.com\tmember' "$ROOT")" ]
	ok vaultctl-org member list mem -o json
	[ "$(python3 -c 'import json,sys; print(",".join(m["role"] for m in json.load(sys.stdin)))' <<<"$output")" = owner,admin,member ]
	ok vaultctl-org member list mem
	[[ ${lines[0]} == EMAIL*ROLE* ]]

	audited member.update vaultctl-org member set mem dave@example.com --role viewer
	[ "$(vc_sql "SELECT uo.role FROM user_organizations uo JOIN users u ON u.id = uo.user_id
		JOIN organizations o ON o.id = uo.organization_id
		WHERE u.email = 'dave@example.com' AND o.name = 'mem'")" = viewer ]
	refused 6 "already a member" vaultctl-org member add mem dave@example.com
	refused 6 "last owner" vaultctl-org member rm mem "$ROOT"
	refused 6 "last owner" vaultctl-org member set mem "$ROOT" --role admin

	# A second owner lets the first one go; the owner of record follows.
	audited member.update vaultctl-org member set mem erin@example.com --role owner
	audited member.update vaultctl-org member set mem "$ROOT" --role member
	[ "$(vc_sql "SELECT u.email FROM organizations o JOIN users u ON u.id = o.owner_id
		WHERE o.name = 'mem'")" = erin@example.com ]
	refused 6 "last owner" vaultctl-org member rm mem erin@example.com
	refused 6 "still owns organizations" vaultctl-org user rm erin@example.com

	audited member.remove vaultctl-org member rm mem dave@example.com
	[ "$output" = "removed dave@example.com from mem" ]
	refused 3 "'dave@example.com' is not a member" vaultctl-org member rm mem dave@example.com
	ok vaultctl-org member list mem -o tsv
	[ "$(cut -f1 <<<"$output" | sort | tr '\n' ' ')" = "erin@example.com $ROOT " ]
}

@test "project create, list, show, set and rm; env create, list and rm" {
	ok vaultctl-org create proj
	audited project.create vaultctl-org project create proj/api --description "the API"
	[ "$output" = "created project proj/api" ]
	audited project.create vaultctl-org project create proj/web.front-end_2
	audited env.create vaultctl-org env create proj/api/prod --description live
	[ "$output" = "created environment proj/api/prod" ]
	audited env.create vaultctl-org env create proj/api/staging

	ok vaultctl-org project list proj -o tsv
	[ "$(cut -f1-4 <<<"$output")" = "$(printf 'api\t2\t0\tthe API\nweb.front-end_2\t0\t0\t')" ]
	ok vaultctl-org project list proj -o json
	[ "$(python3 -c 'import json,sys; print([p["name"] for p in json.load(sys.stdin)])' <<<"$output")" = "['api', 'web.front-end_2']" ]
	ok vaultctl-org project show proj/API -o json
	[ "$(python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["name"], o["environments"], o["created_by"])' <<<"$output")" = "api 2 $ROOT" ]
	ok vaultctl-org project show proj/api
	[[ ${lines[0]} == "name:"*api ]]

	ok vaultctl-org env list proj/api -o tsv
	[ "$(cut -f1,3 <<<"$output")" = "$(printf 'prod\tlive\nstaging\t')" ]
	ok vaultctl-org env list proj/api -o json
	[ "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$output")" -eq 2 ]
	# Addressed by id as well as by name.
	local pid eid
	pid=$(vc_sql "SELECT id FROM projects WHERE name = 'api'
		AND organization_id = '$(org_id proj)'")
	eid=$(vc_sql "SELECT id FROM environments WHERE name = 'staging'
		AND project_id = '$pid'")
	ok vaultctl-org env list "proj/$pid" -o tsv
	[ "${#lines[@]}" -eq 2 ]

	audited project.update vaultctl-org project set proj/web.front-end_2 --name web --description front
	[ "$(vc_sql "SELECT CONCAT(name, ':', description) FROM projects WHERE id <> '$pid' AND organization_id = '$(org_id proj)'")" = web:front ]

	refused 2 "refusing without --yes" vaultctl-org env rm proj/api/staging
	audited env.delete vaultctl-org env rm "proj/api/$eid" --yes
	[ "$output" = "removed environment proj/api/staging (0 secrets)" ]
	refused 2 "refusing without --yes" vaultctl-org project rm proj/web
	audited project.delete vaultctl-org project rm proj/web --yes
	[ "$output" = "removed project proj/web (0 secrets)" ]
	ok vaultctl-org project list proj -o tsv
	[ "$(cut -f1,2 <<<"$output")" = "$(printf 'api\t1')" ]
}

@test "rm of an environment, project or organization removes its secrets' values" {
	ok vaultctl-org create gone
	ok vaultctl-org create stays
	local p e
	for p in p1 p2; do
		ok vaultctl-org project create gone/$p
		for e in e1 e2; do ok vaultctl-org env create gone/$p/$e; done
	done
	ok vaultctl-org project create stays/p1
	ok vaultctl-org env create stays/p1/e1
	set_secret gone/p1/e1/A
	set_secret gone/p1/e1/B
	set_secret gone/p1/e1/B v2          # a second version
	set_secret gone/p1/e2/C
	set_secret gone/p2/e1/D
	set_secret gone/p2/e2/E
	set_secret gone/p2/e2/F
	ok vaultctl-secret rm gone/p2/e2/F  # soft-deleted secrets go too
	set_secret stays/p1/e1/A
	local gid sid
	gid=$(org_id gone)
	sid=$(org_id stays)
	[ "$(values_of "$gid")" -eq 7 ]

	ok vaultctl-org env rm gone/p1/e1 --yes
	[ "$output" = "removed environment gone/p1/e1 (2 secrets)" ]
	[ "$(values_of "$gid")" -eq 4 ]
	[ "$(vc_sql "SELECT secret_count FROM usage_statistics WHERE organization_id = '$gid'")" -eq 3 ]
	ok vaultctl-org project rm gone/p1 --yes
	[ "$output" = "removed project gone/p1 (1 secret)" ]
	[ "$(values_of "$gid")" -eq 3 ]
	ok vaultctl-org rm gone --yes
	[ "$output" = "removed organization gone (3 secrets)" ]
	[ "$(values_of "$gid")" -eq 0 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM vc_value_keys WHERE path LIKE 'organizations/$gid/%'")" -eq 0 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM secret_metadata WHERE organization_id = '$gid'")" -eq 0 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM projects WHERE organization_id = '$gid'")" -eq 0 ]
	# Another organization's secrets are untouched.
	[ "$(values_of "$sid")" -eq 1 ]
	run vaultctl-secret get stays/p1/e1/A
	[ "$output" = v ]
}

@test "rm removes values only once the metadata committed: a failed rm leaves every value" {
	local gid
	ok vaultctl-org create held
	ok vaultctl-org project create held/p1
	ok vaultctl-org env create held/p1/blocked
	set_secret held/p1/blocked/A
	set_secret held/p1/blocked/B
	gid=$(org_id held)
	[ "$(values_of "$gid")" -eq 2 ]
	# The metadata transaction fails at its last step.
	mariadb --defaults-file="$VC_TEST_DIR/admin.cnf" "$VC_DATABASE" \
		--delimiter=// -e "CREATE TRIGGER test_block_env_rm BEFORE DELETE
		ON environments FOR EACH ROW IF OLD.name = 'blocked' THEN
		SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'blocked by the test';
		END IF//"
	run --separate-stderr vaultctl-org env rm held/p1/blocked --yes
	vc_sql "DROP TRIGGER test_block_env_rm"
	[ "$status" -ne 0 ]
	[[ $stderr == *"blocked by the test"* ]]
	[ "$(values_of "$gid")" -eq 2 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM secret_metadata WHERE organization_id = '$gid'")" -eq 2 ]
	run -0 vaultctl-secret get held/p1/blocked/B
	[ "$output" = v ]
	ok vaultctl-org env rm held/p1/blocked --yes
	[ "$output" = "removed environment held/p1/blocked (2 secrets)" ]
	[ "$(values_of "$gid")" -eq 0 ]
}

# caps ROLE KIND: the capabilities the policy of ROLE gives on KIND paths.
caps() {
	vaultctl-org policy pol --role "$1" | awk -v p="\"secret/$2/organizations/$(org_id pol)/*\"" '
		$1 == "path" && $2 == p { want = 1; next }
		want && /capabilities/ { sub(/.*= */, ""); gsub(/[][" ]/, ""); print; exit }'
}

@test "policy: each role's Vault capabilities on the organization's paths" {
	ok vaultctl-org create pol
	local id kind
	id=$(org_id pol)
	ok vaultctl-org policy pol --role viewer
	[[ $output == *"organizations/$id/*"* ]]
	# Only the organization's paths under the configured mount.
	[ -z "$(grep '^path' <<<"$output" | grep -v "\"secret/[a-z]*/organizations/$id/\*\"")" ]

	[ "$(caps viewer metadata)" = list ]
	for kind in data delete undelete destroy; do [ -z "$(caps viewer $kind)" ]; done

	[ "$(caps member metadata)" = read,list ]
	[ "$(caps member data)" = create,read,update ]
	for kind in delete undelete destroy; do [ -z "$(caps member $kind)" ]; done

	local role
	for role in admin owner; do
		[ "$(caps $role metadata)" = read,list,delete ]
		[ "$(caps $role data)" = create,read,update,delete ]
		for kind in delete undelete destroy; do [ "$(caps $role $kind)" = update ]; done
	done
	# The default role is member.
	[ "$(vaultctl-org policy pol | sed 1d)" = "$(vaultctl-org policy pol --role member | sed 1d)" ]
	refused 2 "invalid role 'god'" vaultctl-org policy pol --role god
}

@test "output: -o json parses, -o tsv escapes tab, newline and backslash" {
	ok vaultctl-org create outp --description $'tab\there\nnew line \\ back'
	ok vaultctl-org show outp -o tsv
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *$'\t''tab\there\nnew line \\ back'$'\t'* ]]
	ok vaultctl-org show outp -o json
	[ "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["description"] == "tab\there\nnew line \\ back")' <<<"$output")" = True ]
	local cmd
	for cmd in "list" "user list" "member list outp" "project list outp"; do
		ok do_eval "vaultctl-org $cmd -o json"
		python3 -c 'import json,sys; assert isinstance(json.load(sys.stdin), list)' <<<"$output"
	done
	# Errors as JSON with -o json.
	run --separate-stderr vaultctl-org show nosuch -o json
	[ "$status" -eq 3 ]
	[ "$(python3 -c 'import json,sys; e=json.load(sys.stdin)["error"]; print(e["code"], e["exit"])' <<<"$stderr")" = "not_found 3" ]
}

@test "bad input: the documented exit code, a message naming the problem, nothing changed" {
	ok vaultctl-org user add frank@example.com --no-password
	ok vaultctl-org create bad
	ok vaultctl-org create other
	ok vaultctl-org project create bad/api
	ok vaultctl-org project create bad/web
	ok vaultctl-org env create bad/api/prod
	ok vaultctl-org user add maker@example.com --no-password
	ok vaultctl-org member add other maker@example.com --role admin
	ok vaultctl-org --as maker@example.com project create other/made
	local n=0 code pattern cmd
	while IFS='|' read -r code pattern cmd; do
		[[ -z $code || $code == \#* ]] && continue
		refused "$code" "$pattern" do_eval "$cmd"
		n=$((n + 1))
	done <<-'EOF'
		# invalid names (vaultctl(7), ADDRESSING)
		2|invalid organization name|vaultctl-org create 'bad name'
		2|invalid organization name|vaultctl-org create -- -dash
		2|invalid organization name|vaultctl-org create "x'; DROP TABLE users; --"
		2|invalid organization name|vaultctl-org create $'caf\xc3\xa9'
		2|invalid organization name|vaultctl-org create .hidden
		2|invalid project name|vaultctl-org project create "bad/x'; DROP TABLE projects; --"
		2|invalid environment name|vaultctl-org env create 'bad/api/a;b'
		2|invalid organization name|vaultctl-org set bad --name "x');--"
		2|invalid project name|vaultctl-org project set bad/api --name 'a b'
		2|organization name is empty|vaultctl-org create ''
		2|form of a UUID|vaultctl-org create 0f8fad5b-d9cb-469f-a165-70867728950e
		2|form of a UUID|vaultctl-org project create "bad/$(vc_sql "SELECT id FROM organizations WHERE name = 'other'")"
		2|project name is empty|vaultctl-org project create bad/
		# overlong names and fields
		2|organization name is longer than 63|vaultctl-org create "$(long 64)"
		2|project name is longer than 63|vaultctl-org project create "bad/$(long 64)"
		2|environment name is longer than 63|vaultctl-org env create "bad/api/$(long 64)"
		2|description is longer than 65535|vaultctl-org create big --description "$(long 65536)"
		2|first name is longer than 255|vaultctl-org user add g@example.com --no-password --first-name "$(long 256)"
		2|invalid email|vaultctl-org user add "$(long 250)@example.com" --no-password
		# a name differing only in case from an existing one
		6|organization 'BAD' already exists|vaultctl-org create BAD
		6|project 'API' already exists|vaultctl-org project create bad/API
		6|environment 'Prod' already exists|vaultctl-org env create bad/api/Prod
		6|organization 'Bad' already exists|vaultctl-org set other --name Bad
		6|project 'Api' already exists|vaultctl-org project set bad/web --name Api
		6|user 'FRANK@example.com' already exists|vaultctl-org user add FRANK@example.com --no-password
		6|already a member|vaultctl-org member add bad root@example.com
		# unknown users and organizations
		3|organization 'nosuch' not found|vaultctl-org show nosuch
		3|organization 'nosuch' not found|vaultctl-org rm nosuch --yes
		3|organization 'nosuch' not found|vaultctl-org project create nosuch/p
		3|project 'nosuch' not found|vaultctl-org env list bad/nosuch
		3|project 'nosuch' not found|vaultctl-org project rm bad/nosuch --yes
		3|environment 'nosuch' not found|vaultctl-org env rm bad/api/nosuch --yes
		3|user 'nobody@example.com' not found|vaultctl-org user show nobody@example.com
		3|user 'nobody@example.com' not found|vaultctl-org user set nobody@example.com --first-name x
		3|user 'nobody@example.com' not found|vaultctl-org user rm nobody@example.com
		3|user 'nobody@example.com' not found|vaultctl-org member add bad nobody@example.com
		3|user 'nobody@example.com' not found|vaultctl-org create newco --owner nobody@example.com
		3|plan 'nosuch' not found|vaultctl-org create newco --plan nosuch
		3|'frank@example.com' is not a member|vaultctl-org member rm bad frank@example.com
		4|unknown user 'nobody@example.com'|vaultctl-org --as nobody@example.com list
		# invalid emails
		2|invalid email|vaultctl-org user add not-an-email --no-password
		2|invalid email|vaultctl-org user add a@b --no-password
		2|invalid email|vaultctl-org user add 'a b@example.com' --no-password
		2|invalid email|vaultctl-org user add "x'; DROP TABLE users; --@example.com" --no-password
		2|invalid email|vaultctl-org user add "x@example.com'--" --no-password
		# the last owner
		6|last owner|vaultctl-org member rm bad root@example.com
		6|last owner|vaultctl-org member set bad root@example.com --role viewer
		6|still owns organizations|vaultctl-org user rm root@example.com
		6|still referenced (created projects or secrets)|vaultctl-org user rm maker@example.com
		# usage errors
		2|unknown option '--frob'|vaultctl-org create newco --frob
		2|unknown option '--yes'|vaultctl-org show bad --yes
		2|'--description'|vaultctl-org create newco --description
		2|missing argument|vaultctl-org show
		2|missing argument|vaultctl-org member add bad
		2|missing argument|vaultctl-org user add
		2|missing argument|vaultctl-org env create
		2|too many arguments|vaultctl-org show bad extra
		2|invalid role 'boss'|vaultctl-org member add bad frank@example.com --role boss
		2|invalid global role 'root'|vaultctl-org user set frank@example.com --role root
		2|--role is required|vaultctl-org member set bad frank@example.com
		2|nothing to change|vaultctl-org set bad
		2|nothing to change|vaultctl-org project set bad/api
		2|nothing to change|vaultctl-org user set frank@example.com
		2|not a reference of the form ORG|vaultctl-org show bad/api
		2|not of the form ORG/PROJECT/ENV|vaultctl-org env create bad/api
		2|not of the form ORG/PROJECT|vaultctl-org project create bad/api/x
		2|exclude each other|vaultctl-org user add h@example.com --password-stdin --no-password
		2|the password is empty|vaultctl-org user add h@example.com --password-stdin
		2|refusing without --yes|vaultctl-org rm bad
		2|refusing without --yes|vaultctl-org project rm bad/api
		2|refusing without --yes|vaultctl-org env rm bad/api/prod
		# env set
		2|nothing to change (use --name, --description or --max-versions)|vaultctl-org env set bad/api/prod
		2|missing argument|vaultctl-org env set --max-versions 2
		2|is not a reference of the form ORG/PROJECT/ENV|vaultctl-org env set bad/api --max-versions 2
		2|invalid environment name|vaultctl-org env set bad/api/prod --name 'a b'
		2|environment name is longer than 63|vaultctl-org env set bad/api/prod --name "$(long 64)"
		2|description is longer than 65535|vaultctl-org env set bad/api/prod --description "$(long 65536)"
		2|--max-versions|vaultctl-org env set bad/api/prod --max-versions x
		2|--max-versions|vaultctl-org env set bad/api/prod --max-versions -1
		2|--max-versions|vaultctl-org env set bad/api/prod --max-versions 1000001
		2|--max-versions|vaultctl-org env set bad/api/prod --max-versions "x'; DROP TABLE environments; --"
		2|missing value for option '--max-versions'|vaultctl-org env set bad/api/prod --max-versions
		2|invalid environment name|vaultctl-org env set bad/api/prod --name "x'; DROP TABLE environments; --"
		3|environment 'nosuch' not found|vaultctl-org env set bad/api/nosuch --max-versions 2
		4|not a member of organization 'bad'|vaultctl-org --as frank@example.com env set bad/api/prod --max-versions 2
	EOF
	[ "$n" -eq 85 ]
}

@test "SQL metacharacters in descriptions and names are data, stored as given" {
	local evil="x'; DROP TABLE users; -- \" \\ %_ \`"
	ok vaultctl-org create meta --description "$evil"
	ok vaultctl-org project create meta/p --description "$evil"
	ok vaultctl-org env create meta/p/e --description "$evil"
	ok vaultctl-org user add obrien+tag@example.com --no-password --first-name "$evil" --last-name "Robert'); DROP TABLE students;--"
	# Byte for byte in the database.
	[ "$(vc_sql "SELECT HEX(description) FROM organizations WHERE name = 'meta'")" = \
		"$(printf '%s' "$evil" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)" ]
	ok vaultctl-org project show meta/p -o json
	[ "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["description"])' <<<"$output")" = "$evil" ]
	ok vaultctl-org env list meta/p -o json
	[ "$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["description"])' <<<"$output")" = "$evil" ]
	ok vaultctl-org user show obrien+tag@example.com -o json
	[ "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["first_name"])' <<<"$output")" = "$evil" ]
	# Every table is still there.
	[ "$(vc_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
		AND TABLE_NAME IN ('users', 'projects', 'organizations')")" -eq 3 ]
}

@test "audit: one row per change, with actor, organization, client and agent; never a password" {
	ok vaultctl-org user add ivan@example.com --no-password
	local seq uid
	seq=$(vc_sql "SELECT MAX(seq) FROM audit_logs")
	audited org.create vaultctl-org create aud
	audited org.update vaultctl-org set aud --description d
	audited project.create vaultctl-org project create aud/p
	audited project.update vaultctl-org project set aud/p --description d
	audited env.create vaultctl-org env create aud/p/e
	audited member.add vaultctl-org member add aud ivan@example.com
	audited member.update vaultctl-org member set aud ivan@example.com --role admin
	audited member.remove vaultctl-org member rm aud ivan@example.com
	# Reads write nothing.
	local n
	n=$(vc_sql "SELECT COUNT(*) FROM audit_logs")
	ok vaultctl-org list
	ok vaultctl-org user list
	ok vaultctl-org show aud
	ok vaultctl-org member list aud
	ok vaultctl-org env list aud/p
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs")" -eq "$n" ]
	audited env.delete vaultctl-org env rm aud/p/e --yes
	audited project.delete vaultctl-org project rm aud/p --yes
	audited user.create pw_in "$PW" vaultctl-org user add judy@example.com --password-stdin
	audited user.update vaultctl-org user set judy@example.com --first-name Judy
	audited user.passwd pw_in "2$PW" vaultctl-org user passwd judy@example.com --password-stdin
	audited user.delete vaultctl-org user rm judy@example.com
	SSH_CONNECTION="203.0.113.7 50000 192.0.2.1 22" audited org.delete vaultctl-org rm aud --yes

	uid=$(vc_sql "SELECT id FROM users WHERE email = '$ROOT'")
	# Organization events are in the organization's chain, user events global.
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE seq > $seq AND user_id = '$uid'
		AND action NOT LIKE 'user.%' AND organization_id IS NOT NULL")" -eq 11 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE seq > $seq AND user_id = '$uid'
		AND action LIKE 'user.%' AND organization_id IS NULL")" -eq 4 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE seq > $seq
		AND user_agent LIKE 'vaultctl-org/0.%'")" -eq 15 ]
	[ "$(vc_sql "SELECT ip_address FROM audit_logs WHERE action = 'org.delete'
		ORDER BY seq DESC LIMIT 1")" = 203.0.113.7 ]
	[ "$(vc_sql "SELECT resource_type FROM audit_logs WHERE action = 'member.add'
		ORDER BY seq DESC LIMIT 1")" = user ]
	# No password and no hash anywhere in the audit trail.
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE CONCAT_WS(' ', details,
		user_agent, resource_id, action) LIKE '%Sup3r%' OR CONCAT_WS(' ', details,
		user_agent) LIKE '%argon2%'")" -eq 0 ]
}
