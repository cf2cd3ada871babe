#!/usr/bin/env bats
# The role matrix of vaultctl(7), ROLES: each of owner, admin, member, viewer,
# non-member and global admin tried against every action of vaultctl-org
# and the lifecycle actions of vaultctl-secret.  Allowed: exit 0.  Refused:
# exit 4, "permission denied" (or "not a member") on stderr, not one row
# changed anywhere but the audit log, which records the refusal as one
# ACTION.denied row (and counts it as the organization's API call).

bats_require_minimum_version 1.5.0
load helper

ROOT=root@example.com

setup_file() {
	vc_server_start
	vc_sql "INSERT INTO plans (id, name, description, price, billing_cycle,
		secrets_limit, features, created_at, updated_at) VALUES
		(UUID(), 'free', '', 0, 'monthly', NULL, NULL, NOW(), NOW())"
	export VAULTCTL_USER=$ROOT
	local u
	vaultctl-org user add "$ROOT" --no-password >/dev/null
	for u in owner owner2 admin member viewer outsider target; do
		vaultctl-org user add "$u@example.com" --no-password >/dev/null
	done
	vaultctl-org -q create acme --owner owner@example.com
	for u in owner2:owner admin:admin member:member viewer:viewer; do
		vaultctl-org -q member add acme "${u%%:*}@example.com" --role "${u#*:}"
	done
	vaultctl-org -q project create acme/api
	vaultctl-org -q env create acme/api/prod
	printf s | vaultctl-secret -q set acme/api/prod/S
}

teardown_file() {
	vc_server_stop
}

setup() {
	exec </dev/null
}

checksum() {
	vc_sql "CHECKSUM TABLE users, organizations, user_organizations, projects,
		environments, secret_metadata, subscriptions, usage_statistics,
		audit_logs, vc_value_keys, vc_values"
}

# What a refusal leaves as it was: all of the above but the audit trail.
checksum_data() {
	vc_sql "CHECKSUM TABLE users, organizations, user_organizations, projects,
		environments, secret_metadata, subscriptions, vc_value_keys, vc_values"
}

denials() {
	vc_sql "SELECT COUNT(*) FROM audit_logs WHERE action LIKE '%.denied'"
}

as_root() {
	vaultctl-org --as "$ROOT" -q "$@" >/dev/null 2>&1
}

# ---- preparations, run as the global admin before each try ----------------

# member_state EMAIL none|ROLE: puts target's membership of acme in a state.
member_state() {
	local cur
	cur=$(vc_sql "SELECT uo.role FROM user_organizations uo JOIN users u ON
		u.id = uo.user_id JOIN organizations o ON o.id = uo.organization_id
		WHERE u.email = '$1' AND o.name = 'acme'")
	if [[ $2 == none ]]; then
		[[ -z $cur ]] || as_root member rm acme "$1"
	elif [[ -z $cur ]]; then
		as_root member add acme "$1" --role "$2"
	elif [[ $cur != "$2" ]]; then
		as_root member set acme "$1" --role "$2"
	fi
}

# exists_project NAME yes|no, exists_env NAME yes|no
exists_project() {
	if [[ $2 == yes ]]; then
		as_root project create "acme/$1" || true
	else
		as_root project rm "acme/$1" --yes || true
	fi
}
exists_env() {
	if [[ $2 == yes ]]; then
		as_root env create "acme/api/$1" || true
	else
		as_root env rm "acme/api/$1" --yes || true
	fi
}

# secret_state live|deleted: acme/api/prod/T
secret_state() {
	local cur
	cur=$(vc_sql "SELECT IF(deleted_at IS NULL, 'live', 'deleted') FROM
		secret_metadata WHERE name = 'T'")
	if [[ -z $cur ]]; then
		printf t | vaultctl-secret --as "$ROOT" -q set acme/api/prod/T
		cur=live
	fi
	if [[ $cur == live && $1 == deleted ]]; then
		vaultctl-secret --as "$ROOT" -q rm acme/api/prod/T
	elif [[ $cur == deleted && $1 == live ]]; then
		vaultctl-secret --as "$ROOT" -q restore acme/api/prod/T
	fi
}

# doomed: an organization with acme's members, to be removed.
doomed() {
	local u
	as_root create doomed --owner owner@example.com || return 0
	for u in owner2:owner admin:admin member:member viewer:viewer; do
		as_root member add doomed "${u%%:*}@example.com" --role "${u#*:}"
	done
	as_root project create doomed/p
	as_root env create doomed/p/e
	printf d | vaultctl-secret --as "$ROOT" -q set doomed/p/e/D
}

victim() {
	as_root user add victim@example.com --no-password || true
}

# ---- the matrix -------------------------------------------------------------

# least role | preparation | command ($AS is the acting user).
# Roles: none < viewer < member < admin < owner < global (a global admin
# only); "none" is anyone with a user account.
MATRIX=$(
	cat <<-'EOF'
		viewer|:|vaultctl-org --as $AS show acme
		viewer|:|vaultctl-org --as $AS member list acme
		viewer|:|vaultctl-org --as $AS project list acme
		viewer|:|vaultctl-org --as $AS project show acme/api
		viewer|:|vaultctl-org --as $AS env list acme/api
		viewer|:|vaultctl-secret --as $AS list acme/api/prod
		member|:|vaultctl-secret --as $AS get acme/api/prod/S
		member|:|printf new | vaultctl-secret --as $AS set acme/api/prod/S
		admin|exists_project tmp no|vaultctl-org --as $AS project create acme/tmp
		admin|:|vaultctl-org --as $AS project set acme/api --description "by $AS"
		admin|exists_project tmp yes|vaultctl-org --as $AS project rm acme/tmp --yes
		admin|exists_env tmp no|vaultctl-org --as $AS env create acme/api/tmp
		admin|exists_env tmp yes|vaultctl-org --as $AS env rm acme/api/tmp --yes
		admin|member_state target@example.com none|vaultctl-org --as $AS member add acme target@example.com --role viewer
		admin|member_state target@example.com viewer|vaultctl-org --as $AS member set acme target@example.com --role member
		admin|member_state target@example.com viewer|vaultctl-org --as $AS member rm acme target@example.com
		admin|:|vaultctl-org --as $AS policy acme --role member
		admin|secret_state live|vaultctl-secret --as $AS rm acme/api/prod/T
		admin|secret_state deleted|vaultctl-secret --as $AS restore acme/api/prod/T
		admin|secret_state live|vaultctl-secret --as $AS purge acme/api/prod/T --yes
		owner|member_state target@example.com none|vaultctl-org --as $AS member add acme target@example.com --role owner
		owner|member_state target@example.com owner|vaultctl-org --as $AS member set acme target@example.com --role admin
		owner|member_state target@example.com owner|vaultctl-org --as $AS member rm acme target@example.com
		owner|:|vaultctl-org --as $AS set acme --description "by $AS"
		owner|doomed|vaultctl-org --as $AS rm doomed --yes
		global|:|vaultctl-org --as $AS user add "new-$RANDOM@example.com" --no-password
		global|:|vaultctl-org --as $AS user set target@example.com --role user
		global|:|printf pw | vaultctl-org --as $AS user passwd target@example.com --password-stdin
		global|victim|vaultctl-org --as $AS user rm victim@example.com
		global|:|vaultctl-org --as $AS create "org-$RANDOM" --owner target@example.com
		none|:|vaultctl-org --as $AS create "own-$RANDOM"
	EOF
)

rank() {
	case $1 in
	none) echo 0 ;; viewer) echo 1 ;; member) echo 2 ;; admin) echo 3 ;;
	owner) echo 4 ;; global) echo 5 ;;
	esac
}

do_eval() {
	eval "$1"
}

# try_role ROLE EMAIL: every action of the matrix as EMAIL, whose role in
# acme (and doomed) is ROLE.  Reports every mismatch, not only the first.
try_role() {
	local role=$1 AS=$2 least prep cmd want before after data denied fails=0 n=0
	while IFS='|' read -r least prep cmd <&3; do
		eval "$prep" >/dev/null 2>&1 </dev/null
		want=0
		(($(rank "$role") >= $(rank "$least"))) || want=4
		before=$(checksum)
		data=$(checksum_data)
		denied=$(denials)
		run --separate-stderr do_eval "$cmd" </dev/null
		after=$(checksum)
		n=$((n + 1))
		if [ "$status" -ne "$want" ]; then
			echo "$role: '$cmd': exit $status, expected $want: $stderr"
			fails=$((fails + 1))
		elif [ "$want" -eq 4 ] && [[ $stderr != *"permission denied"* ]]; then
			echo "$role: '$cmd': refused without saying so: $stderr"
			fails=$((fails + 1))
		elif [ "$want" -eq 4 ] && [ "$data" != "$(checksum_data)" ]; then
			echo "$role: '$cmd': refused, but the tables changed"
			fails=$((fails + 1))
		elif [ "$want" -eq 4 ] && [ "$(denials)" -ne $((denied + 1)) ]; then
			echo "$role: '$cmd': refused, but not audited as one ACTION.denied"
			fails=$((fails + 1))
		elif [ "$want" -eq 0 ] && [[ $cmd != *" list "* && $cmd != *" show "* &&
			$cmd != *" get "* && $cmd != *" policy "* ]] && [ "$before" = "$after" ]; then
			echo "$role: '$cmd': allowed, but nothing changed"
			fails=$((fails + 1))
		fi
	done 3<<<"$MATRIX"
	[ "$n" -eq 31 ]
	[ "$fails" -eq 0 ]
}

@test "roles: a non-member may do nothing in the organization" {
	try_role none outsider@example.com
}

@test "roles: a viewer lists names, nothing more" {
	try_role viewer viewer@example.com
}

@test "roles: a member also reads and writes values" {
	try_role member member@example.com
}

@test "roles: an admin also manages projects, environments, members and secrets' lifecycle" {
	try_role admin admin@example.com
}

@test "roles: an owner also manages owners, renames and removes the organization" {
	try_role owner owner@example.com
}

@test "roles: a global admin may do everything" {
	try_role global "$ROOT"
}

@test "roles: list shows a user only the organizations they belong to" {
	run --separate-stderr vaultctl-org --as outsider@example.com list -o tsv
	[ "$status" -eq 0 ]
	[[ $output != *acme* ]]
	run --separate-stderr vaultctl-org --as viewer@example.com list -o tsv
	[ "$status" -eq 0 ]
	[ "$(cut -f1,2 <<<"$output" | grep '^acme')" = "$(printf 'acme\tviewer')" ]
	run --separate-stderr vaultctl-org --as "$ROOT" list -o tsv
	[[ $output == *acme* ]]
	# The error of a non-member says so.
	run --separate-stderr vaultctl-org --as outsider@example.com show acme
	[ "$status" -eq 4 ]
	[[ $stderr == *"not a member of organization 'acme'"* ]]
	run --separate-stderr vaultctl-org --as viewer@example.com project create acme/x
	[ "$status" -eq 4 ]
	[[ $stderr == *"needs the role admin"*"(you are viewer)"* ]]
}

@test "roles: admins manage members but not owners, and never promote to owner" {
	member_state target@example.com none
	run --separate-stderr vaultctl-org --as admin@example.com member add acme target@example.com --role admin
	[ "$status" -eq 0 ]
	run --separate-stderr vaultctl-org --as admin@example.com member set acme target@example.com --role owner
	[ "$status" -eq 4 ]
	[[ $stderr == *"only owners manage owners"* ]]
	run --separate-stderr vaultctl-org --as admin@example.com member set acme owner2@example.com --role viewer
	[ "$status" -eq 4 ]
	run --separate-stderr vaultctl-org --as admin@example.com member rm acme owner2@example.com
	[ "$status" -eq 4 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM user_organizations uo JOIN organizations o ON
		o.id = uo.organization_id WHERE o.name = 'acme' AND uo.role = 'owner'")" -eq 2 ]
	# An owner may demote another owner.
	run --separate-stderr vaultctl-org --as owner@example.com member set acme owner2@example.com --role admin
	[ "$status" -eq 0 ]
	run --separate-stderr vaultctl-org --as owner@example.com member set acme owner2@example.com --role owner
	[ "$status" -eq 0 ]
}
