#!/usr/bin/env bats
# The bad-input matrix of vaultctl-secret, vaultctl-plan and vaultctl-audit
# (issue 10; vaultctl-org has its own in 10-org.bats): for every command,
# malformed and missing arguments, unknown options and bad option values,
# invalid names, overlong fields and SQL metacharacters in every string
# field.  Each row gives its exit code (EXIT STATUS of the tool's man
# page), a message on stderr naming the problem, nothing on stdout, and
# leaves every table of the database -
# the local value store's vc_values and vc_value_keys included - as it was
# (CHECKSUM TABLE of all of them before and after each row).
#
# A row is   COMMAND|KIND|CODE|PATTERN|COMMAND LINE
#   KIND     args missing option name long sql notfound (or extra ones)
#   CODE     the exit status; '-' marks a kind that does not apply to the
#            command, with the reason in PATTERN (the line is not run)
#   PATTERN  a substring of stderr
# The coverage tests fail when a command of `TOOL --list-commands` lacks a
# kind, or one of its options appears in no row: a new command or option
# needs its rows here.

bats_require_minimum_version 1.5.0
load helper

ADMIN=admin@example.com
# The SQL metacharacters of the issue, and a name that LIKE would match.
T="x'; DROP TABLE users; --"
E=bad/api/prod
E2=bad/api/dev
KINDS="args missing option name long sql notfound"

setup_file() {
	vc_server_start
	env -u VAULTCTL_USER vaultctl-org user add "$ADMIN" --no-password \
		>/dev/null 2>&1 </dev/null
	export VAULTCTL_USER=$ADMIN
	vc_sql "INSERT INTO plans (id, name, description, price, billing_cycle,
		secrets_limit, features, created_at, updated_at) VALUES
		(UUID(), 'free', '', 0, 'monthly', 100, NULL, NOW(), NOW())"
	vaultctl-org -q create bad
	vaultctl-org -q project create bad/api
	vaultctl-org -q env create "$E"
	vaultctl-org -q env create "$E2"
	# A with two versions, D deleted; in dev another A and a B.
	printf one | vaultctl-secret -q set "$E/A"
	printf two | vaultctl-secret -q set "$E/A"
	printf gone | vaultctl-secret -q set "$E/D"
	vaultctl-secret -q rm "$E/D"
	printf other | vaultctl-secret -q set "$E2/A"
	printf bee | vaultctl-secret -q set "$E2/B"
	# Inputs for import and --features @FILE.
	local d=$BATS_FILE_TMPDIR
	printf 'bad-name=1\n' >"$d/dash.env"
	printf 'A B\n' >"$d/noeq.env"
	printf '{"1X": "v"}' >"$d/digit.json"
	printf '{"A": ' >"$d/cut.json"
	printf '[1]' >"$d/array.json"
	printf '{"A": 1}' >"$d/number.json"
	printf 'A=1\na=2\n' >"$d/twice.env"
	printf 'ONE=1\n' >"$d/one.env"
	printf '%s=1\n' "$(longname 256)" >"$d/longname.env"
	printf '{"%s": "v"}' "$(longname 256)" >"$d/longname.json"
	{ printf 'BIG='; head -c 1048577 /dev/zero | tr '\0' b; printf '\n'; } >"$d/big.env"
	python3 -c 'import json, sys; print(json.dumps({sys.argv[1]: "v"}))' "$T" >"$d/sql.json"
	python3 -c 'import json, sys; print(json.dumps({"%": "v", "_": "w"}))' >"$d/like.json"
	printf '%s=v\n' '\' >"$d/backslash.env"
	printf '{"k": "%s"}' "$(long 70000)" >"$d/features-big.json"
}

teardown_file() {
	vc_server_stop
}

setup() {
	# Never a terminal: confirmations refuse, values come from stdin.
	exec </dev/null
}

long() {        # long N: N letters, a valid organization/plan name char
	printf 'a%.0s' $(seq "$1")
}

longname() {    # longname N: a valid secret name of N characters
	printf 'A%.0s' $(seq "$1")
}

do_eval() {
	eval "$1"
}

# Every table of the database, the value store's included.
checksum() {
	local tables
	tables=$(vc_sql "SELECT GROUP_CONCAT(table_name ORDER BY table_name)
		FROM information_schema.tables WHERE table_schema = DATABASE()")
	vc_sql "CHECKSUM TABLE $tables EXTENDED"
}

# --- the matrices -------------------------------------------------------

matrix_secret() {
	cat <<-'EOF'
	set|missing|2|missing argument|vaultctl-secret set
	set|missing|2|missing value for option '--description'|vaultctl-secret set $E/N --description
	set|missing|2|missing value for option '--from-file'|vaultctl-secret set $E/N --from-file
	set|missing|2|missing value for option '--reason'|vaultctl-secret set $E/N --reason
	set|missing|2|missing value for option '--cas'|vaultctl-secret set $E/N --cas
	set|option|2|--cas must be a whole number from 0 to 2147483647, not 'x'|vaultctl-secret set $E/N --cas x
	set|option|2|--cas must be a whole number from 0 to 2147483647, not '-1'|vaultctl-secret set $E/N --cas -1
	set|option|2|--cas must be a whole number from 0 to 2147483647, not '2147483648'|vaultctl-secret set $E/N --cas 2147483648
	set|args|2|too many arguments|vaultctl-secret set $E/N a-value-typed-here
	set|args|2|not a reference of the form ORG/PROJECT/ENV/NAME|vaultctl-secret set $E
	set|args|2|too many parts|vaultctl-secret set $E/N/x
	set|args|2|has an empty part|vaultctl-secret set bad//prod/N
	set|args|2|not a reference of the form ORG/PROJECT/ENV/NAME|vaultctl-secret set $E/
	set|args|2|ends in '/' after the secret name|vaultctl-secret set $E/N/
	set|args|2|has an empty part|vaultctl-secret set $E//N
	set|option|2|unknown option '--frob'|vaultctl-secret set $E/N --frob
	set|option|2|unknown option '--value'|vaultctl-secret set $E/N --value=s3cr3t
	set|option|3|--from-file: cannot read '/nonexistent/file'|vaultctl-secret set $E/N --from-file /nonexistent/file
	set|option|2|cannot read --from-file: Is a directory|vaultctl-secret set $E/N --from-file /
	set|option|2|unknown output format 'xml'|vaultctl-secret -o xml set $E/N
	set|option|2|larger than 1048576 bytes|head -c 1048577 /dev/zero | vaultctl-secret set $E/N
	set|name|2|invalid secret name|vaultctl-secret set $E/1ABC
	set|name|2|invalid secret name|vaultctl-secret set $E/A-B
	set|name|2|invalid secret name|vaultctl-secret set $E/$'caf\xc3\xa9'
	set|name|2|invalid secret name|vaultctl-secret set $E/..
	set|name|2|invalid organization name|vaultctl-secret set 'bad org/api/prod/N'
	set|name|2|invalid project name|vaultctl-secret set bad/.api/prod/N
	set|name|2|invalid environment name|vaultctl-secret set bad/api/-prod/N
	set|notfound|3|environment '0f8fad5b-d9cb-469f-a165-70867728950e' not found|vaultctl-secret set bad/api/0f8fad5b-d9cb-469f-a165-70867728950e/N
	set|long|2|secret name is longer than 255|vaultctl-secret set "$E/$(longname 256)"
	set|long|2|secret name is longer than 255|vaultctl-secret set "$E/$(longname 5000)"
	set|long|2|organization name is longer than 63|vaultctl-secret set "$(long 64)/api/prod/N"
	set|long|2|project name is longer than 63|vaultctl-secret set "bad/$(long 64)/prod/N"
	set|long|2|environment name is longer than 63|vaultctl-secret set "bad/api/$(long 300)/N"
	set|long|2|--description is longer than 65535|vaultctl-secret set $E/N --description "$(long 65536)"
	set|long|2|--reason is longer than 500|vaultctl-secret set $E/N --reason "$(long 501)"
	set|sql|2|invalid secret name|vaultctl-secret set "$E/$T" --description "$T" --reason "$T"
	set|sql|2|invalid secret name|vaultctl-secret set "$E/%"
	set|sql|2|invalid secret name|vaultctl-secret set "$E/A%"
	set|sql|2|invalid secret name|vaultctl-secret set "$E/\\"
	set|sql|2|invalid organization name|vaultctl-secret set "$T/api/prod/N"
	set|sql|2|invalid organization name|vaultctl-secret set "%/api/prod/N"
	set|sql|2|invalid project name|vaultctl-secret set "bad/%/prod/N"
	set|sql|2|invalid environment name|vaultctl-secret set "bad/api/_/N"
	set|sql|2|invalid environment name|vaultctl-secret set 'bad/api/pro\d/N'
	set|sql|3|organization 'ba_' not found|vaultctl-secret set ba_/api/prod/N
	set|sql|3|project 'ap_' not found|vaultctl-secret set bad/ap_/prod/N
	set|sql|3|environment 'pro_' not found|vaultctl-secret set bad/api/pro_/N
	set|sql|3|--from-file: cannot read|vaultctl-secret set $E/N --from-file "/nonexistent/$T"
	set|sql|4|unknown user|vaultctl-secret --as "$T" set $E/N
	set|sql|4|unknown user 'admi_@example.com'|vaultctl-secret --as 'admi_@example.com' set $E/N
	set|sql|2|unknown output format|vaultctl-secret -o "$T" set $E/N
	set|sql|2|no configuration file|vaultctl-secret -c "/nonexistent/$T" set $E/N
	set|notfound|3|organization 'nosuch' not found|vaultctl-secret set nosuch/api/prod/N
	set|notfound|3|project 'nosuch' not found|vaultctl-secret set bad/nosuch/prod/N
	set|notfound|3|environment 'nosuch' not found|vaultctl-secret set bad/api/nosuch/N

	get|missing|2|missing argument|vaultctl-secret get
	get|missing|2|missing value for option '--version'|vaultctl-secret get $E/A --version
	get|args|2|too many arguments|vaultctl-secret get $E/A B
	get|args|2|not a reference of the form ORG/PROJECT/ENV/NAME|vaultctl-secret get bad/api
	get|option|2|unknown option '--frob'|vaultctl-secret get $E/A --frob
	get|option|2|version must be a whole number from 1, not 'x'|vaultctl-secret get $E/A --version x
	get|option|2|version must be a whole number from 1, not '0'|vaultctl-secret get $E/A --version 0
	get|option|2|version must be a whole number from 1, not '-1'|vaultctl-secret get $E/A --version -1
	get|option|2|version must be a whole number from 1, not '1.5'|vaultctl-secret get $E/A --version 1.5
	get|option|2|version must be a whole number from 1, not ' 1'|vaultctl-secret get $E/A --version ' 1'
	get|option|2|version must be a whole number|vaultctl-secret get $E/A --version 99999999999999999999
	get|name|2|invalid secret name|vaultctl-secret get $E/9x
	get|name|2|invalid organization name|vaultctl-secret get -- -bad/api/prod/A
	get|long|2|secret name is longer than 255|vaultctl-secret get "$E/$(longname 256)"
	get|long|2|project name is longer than 63|vaultctl-secret get "bad/$(long 64)/prod/A"
	get|long|2|version must be a whole number|vaultctl-secret get $E/A --version "$(long 300)"
	get|sql|2|invalid secret name|vaultctl-secret get "$E/$T"
	get|sql|3|not found|vaultctl-secret get $E/_
	get|sql|2|invalid secret name|vaultctl-secret get "$E/%"
	get|sql|2|invalid secret name|vaultctl-secret get "$E/\\"
	get|sql|2|version must be a whole number|vaultctl-secret get $E/A --version "$T"
	get|sql|2|invalid organization name|vaultctl-secret get 'b%/api/prod/A'
	get|notfound|3|cannot read secret 'bad/api/prod/NOSUCH': not found|vaultctl-secret get $E/NOSUCH
	get|notfound|3|deleted|vaultctl-secret get $E/D
	get|notfound|3|version 9 not found|vaultctl-secret get $E/A --version 9
	get|notfound|3|environment 'nosuch' not found|vaultctl-secret get bad/api/nosuch/A

	list|missing|2|missing argument|vaultctl-secret list
	list|args|2|too many arguments|vaultctl-secret list $E extra
	list|args|2|not a reference of the form ORG/PROJECT/ENV|vaultctl-secret list $E/A
	list|args|2|not a reference of the form ORG/PROJECT/ENV|vaultctl-secret list bad
	list|option|2|unknown option '--all'|vaultctl-secret list $E --all
	list|option|2|unknown output format 'yaml'|vaultctl-secret list $E -o yaml
	list|name|2|invalid environment name|vaultctl-secret list 'bad/api/pr od'
	list|long|2|environment name is longer than 63|vaultctl-secret list "bad/api/$(long 64)"
	list|long|2|organization name is longer than 63|vaultctl-secret list "$(long 256)/api/prod"
	list|sql|2|invalid organization name|vaultctl-secret list "$T/api/prod"
	list|sql|3|environment 'pro_' not found|vaultctl-secret list bad/api/pro_
	list|sql|2|invalid project name|vaultctl-secret list 'bad/a%/prod'
	list|sql|2|invalid environment name|vaultctl-secret list 'bad/api/\'
	list|notfound|3|organization 'nosuch' not found|vaultctl-secret list nosuch/api/prod

	rm|missing|2|missing argument|vaultctl-secret rm
	rm|args|2|too many arguments|vaultctl-secret rm $E/A B
	rm|args|2|not a reference of the form ORG/PROJECT/ENV/NAME|vaultctl-secret rm $E
	rm|option|2|unknown option '--force'|vaultctl-secret rm $E/A --force
	rm|option|2|option '--yes' takes no value|vaultctl-secret rm $E/A --yes=no
	rm|name|2|invalid secret name|vaultctl-secret rm $E/A.B
	rm|long|2|secret name is longer than 255|vaultctl-secret rm "$E/$(longname 300)"
	rm|sql|2|invalid secret name|vaultctl-secret rm "$E/$T" --yes
	rm|sql|3|not found|vaultctl-secret rm $E/_
	rm|notfound|3|not found|vaultctl-secret rm $E/NOSUCH
	rm|notfound|3|already deleted|vaultctl-secret rm $E/D

	restore|missing|2|missing argument|vaultctl-secret restore
	restore|args|2|too many arguments|vaultctl-secret restore $E/D E
	restore|args|2|not a reference of the form ORG/PROJECT/ENV/NAME|vaultctl-secret restore bad/api
	restore|option|2|unknown option '--yes'|vaultctl-secret restore $E/D --yes
	restore|name|2|invalid secret name|vaultctl-secret restore $E/D-1
	restore|long|2|secret name is longer than 255|vaultctl-secret restore "$E/$(longname 256)"
	restore|sql|2|invalid secret name|vaultctl-secret restore "$E/$T"
	restore|sql|3|not found|vaultctl-secret restore $E/_
	restore|notfound|3|not found|vaultctl-secret restore $E/NOSUCH
	restore|conflict|6|not deleted|vaultctl-secret restore $E/A

	purge|missing|2|missing argument|vaultctl-secret purge
	purge|missing|2|refusing without --yes|vaultctl-secret purge $E/A
	purge|args|2|too many arguments|vaultctl-secret purge $E/A --yes B
	purge|args|2|not a reference of the form ORG/PROJECT/ENV/NAME|vaultctl-secret purge $E --yes
	purge|option|2|unknown option '--force'|vaultctl-secret purge $E/A --force
	purge|option|2|option '--yes' takes no value|vaultctl-secret purge $E/A --yes=yes
	purge|name|2|invalid secret name|vaultctl-secret purge "$E/*" --yes
	purge|long|2|secret name is longer than 255|vaultctl-secret purge "$E/$(longname 256)" --yes
	purge|sql|2|invalid secret name|vaultctl-secret purge "$E/$T" --yes
	purge|sql|2|invalid secret name|vaultctl-secret purge "$E/%" --yes
	purge|notfound|3|not found|vaultctl-secret purge $E/NOSUCH --yes

	destroy|missing|2|missing argument|vaultctl-secret destroy --versions 1 --yes
	destroy|missing|2|--versions N[,N...] is required|vaultctl-secret destroy $E/A --yes
	destroy|missing|2|missing value for option '--versions'|vaultctl-secret destroy $E/A --versions
	destroy|missing|2|refusing without --yes|vaultctl-secret destroy $E/A --versions 1
	destroy|args|2|too many arguments|vaultctl-secret destroy $E/A 1 --versions 1 --yes
	destroy|args|2|not a reference of the form ORG/PROJECT/ENV/NAME|vaultctl-secret destroy $E --versions 1 --yes
	destroy|option|2|unknown option '--force'|vaultctl-secret destroy $E/A --versions 1 --force
	destroy|option|2|option '--yes' takes no value|vaultctl-secret destroy $E/A --versions 1 --yes=1
	destroy|option|2|--versions: a version is a whole number from 1, not '0'|vaultctl-secret destroy $E/A --versions 0 --yes
	destroy|option|2|--versions: a list of version numbers, not '1,,2'|vaultctl-secret destroy $E/A --versions 1,,2 --yes
	destroy|option|2|--versions: 1 given twice|vaultctl-secret destroy $E/A --versions 1,2,1 --yes
	destroy|option|2|--versions: a version is a whole number from 1, not '-1'|vaultctl-secret destroy $E/A --versions -1 --yes
	destroy|name|2|invalid secret name|vaultctl-secret destroy "$E/A-B" --versions 1 --yes
	destroy|long|2|secret name is longer than 255|vaultctl-secret destroy "$E/$(longname 256)" --versions 1 --yes
	destroy|long|2|--versions: a list of version numbers|vaultctl-secret destroy $E/A --versions "$(long 300)" --yes
	destroy|long|2|--versions: at most 100 versions at once|vaultctl-secret destroy $E/A --versions "$(seq -s, 101)" --yes
	destroy|sql|2|invalid secret name|vaultctl-secret destroy "$E/$T" --versions 1 --yes
	destroy|sql|2|--versions: a list of version numbers|vaultctl-secret destroy $E/A --versions "$T" --yes
	destroy|sql|2|--versions: a version is a whole number from 1, not '%'|vaultctl-secret destroy $E/A --versions % --yes
	destroy|notfound|3|not found|vaultctl-secret destroy $E/NOSUCH --versions 1 --yes
	destroy|notfound|3|version 3 not found (the latest is 2)|vaultctl-secret destroy $E/A --versions 1,3 --yes

	history|missing|2|missing argument|vaultctl-secret history
	history|args|2|too many arguments|vaultctl-secret history $E/A B
	history|args|2|not a reference of the form ORG/PROJECT/ENV/NAME|vaultctl-secret history $E
	history|option|2|unknown option '--all'|vaultctl-secret history $E/A --all
	history|name|2|invalid secret name|vaultctl-secret history $E/A+B
	history|long|2|secret name is longer than 255|vaultctl-secret history "$E/$(longname 256)"
	history|sql|2|invalid secret name|vaultctl-secret history "$E/$T"
	history|sql|3|not found|vaultctl-secret history $E/_
	history|notfound|3|not found|vaultctl-secret history $E/NOSUCH

	rollback|missing|2|missing argument|vaultctl-secret rollback
	rollback|missing|2|--to N is required|vaultctl-secret rollback $E/A
	rollback|missing|2|missing value for option '--to'|vaultctl-secret rollback $E/A --to
	rollback|args|2|too many arguments|vaultctl-secret rollback $E/A 1
	rollback|args|2|not a reference of the form ORG/PROJECT/ENV/NAME|vaultctl-secret rollback $E --to 1
	rollback|option|2|unknown option '--frob'|vaultctl-secret rollback $E/A --to 1 --frob
	rollback|option|2|version must be a whole number from 1, not 'x'|vaultctl-secret rollback $E/A --to x
	rollback|option|2|version must be a whole number from 1, not '0'|vaultctl-secret rollback $E/A --to 0
	rollback|name|2|invalid secret name|vaultctl-secret rollback $E/1A --to 1
	rollback|long|2|--reason is longer than 500|vaultctl-secret rollback $E/A --to 1 --reason "$(long 501)"
	rollback|long|2|secret name is longer than 255|vaultctl-secret rollback "$E/$(longname 256)" --to 1
	rollback|sql|2|invalid secret name|vaultctl-secret rollback "$E/$T" --to 1 --reason "$T"
	rollback|sql|2|version must be a whole number|vaultctl-secret rollback $E/A --to "$T"
	rollback|sql|3|not found|vaultctl-secret rollback $E/_ --to 1
	rollback|notfound|3|version 9 not found|vaultctl-secret rollback $E/A --to 9
	rollback|notfound|3|not found|vaultctl-secret rollback $E/NOSUCH --to 1

	rotate|missing|2|missing argument|vaultctl-secret rotate
	rotate|missing|2|missing value for option '--length'|vaultctl-secret rotate $E/A --length
	rotate|args|2|too many arguments|vaultctl-secret rotate $E/A 32
	rotate|args|2|not a reference of the form ORG/PROJECT/ENV/NAME|vaultctl-secret rotate bad/api/prod
	rotate|option|2|--length must be a whole number from 0 to 4096, not 'x'|vaultctl-secret rotate $E/A --length x
	rotate|option|2|length must be from 1 to 4096|vaultctl-secret rotate $E/A --length 0
	rotate|option|2|--length must be a whole number from 0 to 4096, not '4097'|vaultctl-secret rotate $E/A --length 4097
	rotate|option|2|unknown charset 'emoji'|vaultctl-secret rotate $E/A --charset emoji
	rotate|option|2|option '--show' takes no value|vaultctl-secret rotate $E/A --show=yes
	rotate|name|2|invalid secret name|vaultctl-secret rotate $E/A-B
	rotate|long|2|--reason is longer than 500|vaultctl-secret rotate $E/A --reason "$(long 501)"
	rotate|long|2|secret name is longer than 255|vaultctl-secret rotate "$E/$(longname 256)"
	rotate|long|2|unknown charset|vaultctl-secret rotate $E/A --charset "$(long 300)"
	rotate|sql|2|unknown charset|vaultctl-secret rotate $E/A --charset "$T"
	rotate|sql|2|invalid secret name|vaultctl-secret rotate "$E/$T" --reason "$T"
	rotate|sql|2|--length must be a whole number|vaultctl-secret rotate $E/A --length '%'
	rotate|notfound|3|environment 'nosuch' not found|vaultctl-secret rotate bad/api/nosuch/A

	export|missing|2|missing argument|vaultctl-secret export
	export|missing|2|missing value for option '-O'|vaultctl-secret export $E -O
	export|missing|2|missing value for option '--format'|vaultctl-secret export $E --format
	export|missing|2|missing value for option '--only'|vaultctl-secret export $E --only
	export|args|2|not a reference of the form ORG/PROJECT/ENV|vaultctl-secret export $E $E2/A
	export|notfound|3|environment 'nosuch' not found|vaultctl-secret export $E bad/api/nosuch
	export|args|2|not a reference of the form ORG/PROJECT/ENV|vaultctl-secret export $E/A
	export|option|2|unknown option '--output-file'|vaultctl-secret export $E --output-file x
	export|option|2|unknown export format 'xml'|vaultctl-secret export $E --format xml
	export|option|2|--concurrency must be from 1 to 64|vaultctl-secret export $E --concurrency 0
	export|option|2|--concurrency must be a whole number from 0 to 64, not '65'|vaultctl-secret export $E --concurrency 65
	export|option|2|--only needs at least one name|vaultctl-secret export $E --only ,
	export|option|2|-O: cannot create a file beside '/nonexistent/dir/out'|vaultctl-secret export $E -O /nonexistent/dir/out
	export|name|2|--only: invalid secret name|vaultctl-secret export $E --only 'A,B-C'
	export|long|2|--only: secret name is longer than 255|vaultctl-secret export $E --only "A,$(longname 256)"
	export|long|2|unknown export format|vaultctl-secret export $E --format "$(long 300)"
	export|sql|2|--only: invalid secret name|vaultctl-secret export $E --only "$T"
	export|sql|3|secret '_' not found|vaultctl-secret export $E --only _
	export|sql|2|unknown export format|vaultctl-secret export $E --format "$T"
	export|sql|2|--concurrency must be a whole number|vaultctl-secret export $E --concurrency "$T"
	export|sql|2|-O: cannot create a file beside|vaultctl-secret export $E -O "/nonexistent/$T"
	export|notfound|3|secret 'NOSUCH' not found|vaultctl-secret export $E --only A,NOSUCH
	export|notfound|3|project 'nosuch' not found|vaultctl-secret export bad/nosuch/prod
	export|missing|2|missing value for option '--fallback'|vaultctl-secret export $E --fallback
	export|missing|2|missing value for option '--fallback-max-age'|vaultctl-secret export $E --fallback $BATS_FILE_TMPDIR/fb --fallback-max-age
	export|option|2|--fallback-max-age goes with --fallback FILE|vaultctl-secret export $E --fallback-max-age 1h
	export|option|2|--fallback-max-age: '0' is not a duration|vaultctl-secret export $E --fallback $BATS_FILE_TMPDIR/fb --fallback-max-age 0
	export|option|2|--fallback-max-age: '1y' is not a duration|vaultctl-secret export $E --fallback $BATS_FILE_TMPDIR/fb --fallback-max-age 1y
	export|option|2|--fallback needs a file name|vaultctl-secret export $E --fallback ''
	export|option|2|--fallback: no directory '/nonexistent/dir'|vaultctl-secret export $E --fallback /nonexistent/dir/snap
	export|long|2|is not a duration|vaultctl-secret export $E --fallback $BATS_FILE_TMPDIR/fb --fallback-max-age "$(long 300)"
	export|sql|2|is not a duration|vaultctl-secret export $E --fallback $BATS_FILE_TMPDIR/fb --fallback-max-age "$T"
	export|sql|2|--fallback: no directory|vaultctl-secret export $E --fallback "/nonexistent/$T/x"

	import|missing|2|missing argument|vaultctl-secret import
	import|missing|2|missing value for option '--file'|vaultctl-secret import $E --file
	import|args|2|too many arguments|vaultctl-secret import $E $BATS_FILE_TMPDIR/dash.env
	import|args|2|not a reference of the form ORG/PROJECT/ENV|vaultctl-secret import bad/api
	import|args|2|line 1: NAME=VALUE expected, no '=' found|vaultctl-secret import $E --file $BATS_FILE_TMPDIR/noeq.env
	import|args|2|line 1: invalid JSON|vaultctl-secret import $E --format json --file $BATS_FILE_TMPDIR/cut.json
	import|args|2|JSON import wants an object|vaultctl-secret import $E --format json --file $BATS_FILE_TMPDIR/array.json
	import|args|2|'A': the value is not a string|vaultctl-secret import $E --format json --file $BATS_FILE_TMPDIR/number.json
	import|args|2|line 2: 'a' is already set on line 1|vaultctl-secret import $E --file $BATS_FILE_TMPDIR/twice.env --dry-run
	import|option|2|import reads dotenv or json, not 'yaml'|vaultctl-secret import $E --format yaml
	import|option|2|--overwrite and --skip-existing exclude each other|vaultctl-secret import $E --overwrite --skip-existing
	import|option|2|option '--dry-run' takes no value|vaultctl-secret import $E --dry-run=1
	import|option|3|--file: cannot read '/nonexistent'|vaultctl-secret import $E --file /nonexistent
	import|option|2|cannot read --file: Is a directory|vaultctl-secret import $E --file /
	import|name|2|line 1: invalid name (letters, digits and '_'|vaultctl-secret import $E --file $BATS_FILE_TMPDIR/dash.env
	import|name|2|invalid secret name '1X'|vaultctl-secret import $E --format json --file $BATS_FILE_TMPDIR/digit.json
	import|name|2|line 1: invalid name (letters, digits and '_'|printf 'bad-name=1\n' | vaultctl-secret import $E
	import|option|2|--concurrency must be from 1 to 64|vaultctl-secret import $E --file $BATS_FILE_TMPDIR/one.env --concurrency 0
	import|option|2|--concurrency must be a whole number|vaultctl-secret import $E --file $BATS_FILE_TMPDIR/one.env --concurrency 8x
	import|long|2|is longer than 255 characters|vaultctl-secret import $E --file $BATS_FILE_TMPDIR/longname.env
	import|long|2|is longer than 255 characters|vaultctl-secret import $E --format json --file $BATS_FILE_TMPDIR/longname.json
	import|long|2|value of 'BIG' is larger than 1048576 bytes|vaultctl-secret import $E --file $BATS_FILE_TMPDIR/big.env --overwrite
	import|sql|2|invalid secret name|vaultctl-secret import $E --format json --file $BATS_FILE_TMPDIR/sql.json
	import|sql|2|invalid secret name '%'|vaultctl-secret import $E --format json --file $BATS_FILE_TMPDIR/like.json
	import|sql|2|line 1: invalid name|vaultctl-secret import $E --file $BATS_FILE_TMPDIR/backslash.env
	import|sql|2|import reads dotenv or json|vaultctl-secret import $E --format "$T"
	import|notfound|3|environment 'nosuch' not found|vaultctl-secret import bad/api/nosuch --file $BATS_FILE_TMPDIR/twice.env

	run|missing|2|missing argument|vaultctl-secret run $E
	run|missing|2|missing argument|vaultctl-secret run $E --
	run|missing|2|missing value for option '--only'|vaultctl-secret run $E --only
	run|args|2|not a reference of the form ORG/PROJECT/ENV|vaultctl-secret run $E/A -- echo ran
	run|option|2|unknown option '--frob'|vaultctl-secret run $E --frob -- echo ran
	run|option|2|option '--pristine' takes no value|vaultctl-secret run $E --pristine=1 -- echo ran
	run|option|2|--concurrency must be a whole number|vaultctl-secret run $E --concurrency x -- echo ran
	run|name|2|--only: invalid secret name|vaultctl-secret run $E --only 'A B' -- echo ran
	run|long|2|--only: secret name is longer than 255|vaultctl-secret run $E --only "$(longname 256)" -- echo ran
	run|sql|2|--only: invalid secret name|vaultctl-secret run $E --only "$T" -- echo ran
	run|missing|2|missing value for option '--allow-name'|vaultctl-secret run $E --allow-name
	run|name|2|--allow-name: invalid secret name|vaultctl-secret run $E --allow-name 'A B' -- echo ran
	run|sql|3|secret '_' not found|vaultctl-secret run $E --only _ -- echo ran
	run|sql|2|invalid organization name|vaultctl-secret run "$T/api/prod" -- echo ran
	run|notfound|3|secret 'NOSUCH' not found|vaultctl-secret run $E --only NOSUCH -- echo ran
	run|name|2|--allow-name: invalid secret name|vaultctl-secret run $E --allow-name 'A B' -- echo ran
	run|missing|2|missing value for option '--fallback'|vaultctl-secret run $E --fallback
	run|missing|2|missing value for option '--fallback-max-age'|vaultctl-secret run $E --fallback $BATS_FILE_TMPDIR/fb --fallback-max-age
	run|option|2|--fallback-max-age goes with --fallback FILE|vaultctl-secret run $E --fallback-max-age 1h -- echo ran
	run|option|2|--fallback-max-age: '0' is not a duration|vaultctl-secret run $E --fallback $BATS_FILE_TMPDIR/fb --fallback-max-age 0 -- echo ran
	run|option|2|--fallback-max-age: '1y' is not a duration|vaultctl-secret run $E --fallback $BATS_FILE_TMPDIR/fb --fallback-max-age 1y -- echo ran
	run|option|2|--fallback needs a file name|vaultctl-secret run $E --fallback '' -- echo ran
	run|option|2|--fallback: no directory '/nonexistent/dir'|vaultctl-secret run $E --fallback /nonexistent/dir/snap -- echo ran
	run|long|2|is not a duration|vaultctl-secret run $E --fallback $BATS_FILE_TMPDIR/fb --fallback-max-age "$(long 300)" -- echo ran
	run|sql|2|is not a duration|vaultctl-secret run $E --fallback $BATS_FILE_TMPDIR/fb --fallback-max-age "$T" -- echo ran
	run|sql|2|--fallback: no directory|vaultctl-secret run $E --fallback "/nonexistent/$T/x" -- echo ran
	run|args|2|run needs an environment before '--'|vaultctl-secret run -- echo ran
	run|args|2|not a reference of the form ORG/PROJECT/ENV|vaultctl-secret run $E $E2/A -- echo ran
	run|notfound|3|environment 'nosuch' not found|vaultctl-secret run $E bad/api/nosuch -- echo ran
	run|notfound|3|secret 'NOSUCH' not found|vaultctl-secret run $E $E2 --only A,NOSUCH -- echo ran
	run|option|2|option '--preserve-env' takes no value|vaultctl-secret run $E --preserve-env=1 -- echo ran
	run|option|2|--pristine and --preserve-env exclude each other|vaultctl-secret run $E --pristine --preserve-env -- echo ran
	run|option|2|--fallback: no directory '/nonexistent/dir'|vaultctl-secret run $E $E2 --fallback /nonexistent/dir/snap -- echo ran
	run|option|2|--fallback: no directory '/nonexistent/dir'|vaultctl-secret run $E --watch --fallback /nonexistent/dir/snap -- echo ran
	export|option|2|--fallback-max-age goes with --fallback FILE|vaultctl-secret export $E $E2 --fallback-max-age 1h
	run|name|2|--allow-name: invalid secret name|vaultctl-secret run $E --allow-name 'LD-PRELOAD' -- echo ran
	run|option|2|option '--watch' takes no value|vaultctl-secret run $E --watch=1 -- echo ran
	run|missing|2|missing value for option '--interval'|vaultctl-secret run $E --watch --interval
	run|missing|2|missing value for option '--signal'|vaultctl-secret run $E --watch --signal
	run|option|2|--interval: not a duration from 100ms to 24h: '10x'|vaultctl-secret run $E --watch --interval 10x -- echo ran
	run|option|2|--interval: not a duration from 100ms to 24h: '10'|vaultctl-secret run $E --watch --interval 10 -- echo ran
	run|option|2|--interval: not a duration from 100ms to 24h: '0s'|vaultctl-secret run $E --watch --interval 0s -- echo ran
	run|option|2|--interval: not a duration from 100ms to 24h: '99ms'|vaultctl-secret run $E --watch --interval 99ms -- echo ran
	run|option|2|--interval: not a duration from 100ms to 24h: '25h'|vaultctl-secret run $E --watch --interval 25h -- echo ran
	run|option|2|--interval: not a duration from 100ms to 24h: '-1s'|vaultctl-secret run $E --watch --interval -1s -- echo ran
	run|option|2|--signal: not a signal: 'FOO'|vaultctl-secret run $E --watch --signal FOO -- echo ran
	run|option|2|--signal: not a signal: '0'|vaultctl-secret run $E --watch --signal 0 -- echo ran
	run|option|2|--signal: not a signal: '999'|vaultctl-secret run $E --watch --signal 999 -- echo ran
	run|option|2|--interval needs --watch|vaultctl-secret run $E --interval 1s -- echo ran
	run|option|2|--signal needs --watch|vaultctl-secret run $E --signal HUP -- echo ran
	run|long|2|--interval: not a duration|vaultctl-secret run $E --watch --interval "$(long 300)" -- echo ran
	run|sql|2|--signal: not a signal|vaultctl-secret run $E --watch --signal "$T" -- echo ran
	run|sql|2|--interval: not a duration|vaultctl-secret run $E --watch --interval "$T" -- echo ran

	diff|missing|2|missing argument|vaultctl-secret diff $E
	diff|args|2|too many arguments|vaultctl-secret diff $E $E2 $E
	diff|args|2|not a reference of the form ORG/PROJECT/ENV|vaultctl-secret diff $E bad/api
	diff|option|2|unknown option '--values'|vaultctl-secret diff $E $E2 --values
	diff|option|2|option '--show-values' takes no value|vaultctl-secret diff $E $E2 --show-values=1
	diff|option|2|--concurrency must be a whole number|vaultctl-secret diff $E $E2 --concurrency 100
	diff|name|2|invalid environment name|vaultctl-secret diff $E 'bad/api/a b'
	diff|long|2|environment name is longer than 63|vaultctl-secret diff $E "bad/api/$(long 64)"
	diff|sql|2|invalid organization name|vaultctl-secret diff $E "$T/api/dev"
	diff|sql|3|environment 'de_' not found|vaultctl-secret diff $E bad/api/de_
	diff|notfound|3|environment 'nosuch' not found|vaultctl-secret diff $E bad/api/nosuch

	copy|missing|2|missing argument|vaultctl-secret copy $E
	copy|args|2|too many arguments|vaultctl-secret copy $E $E2 $E
	copy|args|2|source and target are the same environment|vaultctl-secret copy $E $E
	copy|args|2|not a reference of the form ORG/PROJECT/ENV|vaultctl-secret copy $E $E2/A
	copy|option|2|unknown option '--force'|vaultctl-secret copy $E $E2 --force
	copy|option|2|option '--overwrite' takes no value|vaultctl-secret copy $E $E2 --overwrite=1
	copy|option|2|option '--dry-run' takes no value|vaultctl-secret copy $E $E2 --dry-run=0
	copy|option|2|--concurrency must be from 1 to 64|vaultctl-secret copy $E $E2 --concurrency 0
	copy|option|2|--only needs at least one name|vaultctl-secret copy $E $E2 --only ,,
	copy|name|2|--only: invalid secret name|vaultctl-secret copy $E $E2 --only 'A-B'
	copy|name|2|invalid environment name|vaultctl-secret copy $E 'bad/api/d v'
	copy|long|2|--only: secret name is longer than 255|vaultctl-secret copy $E $E2 --only "$(longname 256)"
	copy|sql|2|--only: invalid secret name|vaultctl-secret copy $E $E2 --only "$T"
	copy|sql|2|invalid environment name|vaultctl-secret copy $E "bad/api/$T"
	copy|notfound|3|secret 'NOSUCH' not found|vaultctl-secret copy $E $E2 --only NOSUCH
	copy|notfound|3|environment 'nosuch' not found|vaultctl-secret copy $E bad/api/nosuch

	restore-env|missing|2|missing argument|vaultctl-secret restore-env
	restore-env|missing|2|--at TIME is required|vaultctl-secret restore-env $E --yes
	restore-env|missing|2|missing value for option '--at'|vaultctl-secret restore-env $E --at
	restore-env|args|2|too many arguments|vaultctl-secret restore-env $E $E2 --at 1h --yes
	restore-env|args|2|not a reference of the form ORG/PROJECT/ENV|vaultctl-secret restore-env $E/A --at 1h --yes
	restore-env|args|2|not a reference of the form ORG/PROJECT/ENV|vaultctl-secret restore-env bad/api --at 1h --yes
	restore-env|option|2|unknown option '--force'|vaultctl-secret restore-env $E --at 1h --force
	restore-env|option|2|invalid time 'yesterday'|vaultctl-secret restore-env $E --at yesterday --yes
	restore-env|option|2|invalid time '2024-02-30'|vaultctl-secret restore-env $E --at 2024-02-30 --yes
	restore-env|option|2|invalid time '-2h'|vaultctl-secret restore-env $E --at=-2h --yes
	restore-env|option|2|is in the future|vaultctl-secret restore-env $E --at 2999-01-01T00:00:00Z --dry-run
	restore-env|option|2|option '--dry-run' takes no value|vaultctl-secret restore-env $E --at 1h --dry-run=1
	restore-env|option|2|option '--yes' takes no value|vaultctl-secret restore-env $E --at 1h --yes=1
	restore-env|option|2|refusing without --yes (not on a terminal)|vaultctl-secret restore-env $E --at 1h
	restore-env|name|2|invalid environment name|vaultctl-secret restore-env 'bad/api/d v' --at 1h --yes
	restore-env|long|2|environment name is longer than 63|vaultctl-secret restore-env "bad/api/$(long 64)" --at 1h --yes
	restore-env|long|2|invalid time|vaultctl-secret restore-env $E --at "$(long 300)" --yes
	restore-env|sql|2|invalid environment name|vaultctl-secret restore-env "bad/api/$T" --at 1h --yes
	restore-env|sql|2|invalid time|vaultctl-secret restore-env $E --at "$T" --dry-run
	restore-env|notfound|3|environment 'nosuch' not found|vaultctl-secret restore-env bad/api/nosuch --at 1h --yes
	inject|missing|2|missing value for option '-i'|vaultctl-secret inject -i
	inject|missing|2|missing value for option '-o'|vaultctl-secret inject -o
	inject|args|2|too many arguments|vaultctl-secret inject $E
	inject|args|2|line 2: reference 'bad/api/prod/A' not closed by '}}'|printf 'x\n{{ vaultctl://bad/api/prod/A }\n' | vaultctl-secret inject
	inject|args|2|a reference is ORG/PROJECT/ENV/NAME|printf '{{ vaultctl://bad/api/prod }}' | vaultctl-secret inject
	inject|args|2|line 1: an empty reference|printf '{{vaultctl://}}' | vaultctl-secret inject -o $BATS_FILE_TMPDIR/inject.out
	inject|option|2|unknown option '--output-file'|vaultctl-secret inject --output-file x
	inject|option|2|unknown filter 'toml' (raw, json, yaml or sh)|printf '{{ vaultctl://bad/api/prod/A | toml }}' | vaultctl-secret inject
	inject|option|2|-o: cannot create a file beside '/nonexistent/dir/out'|vaultctl-secret inject -o /nonexistent/dir/out
	inject|option|3|-i: cannot read '/nonexistent'|vaultctl-secret inject -i /nonexistent
	inject|option|2|cannot read -i: Is a directory|vaultctl-secret inject -i /
	inject|name|2|invalid secret name|printf '{{ vaultctl://bad/api/prod/A-B }}' | vaultctl-secret inject
	inject|name|2|invalid environment name|printf '{{ vaultctl://bad/api/a!b/A }}' | vaultctl-secret inject
	inject|long|2|secret name is longer than 255|printf '{{ vaultctl://bad/api/prod/%s }}' "$(longname 256)" | vaultctl-secret inject
	inject|long|2|an overlong reference|printf '{{ vaultctl://bad/api/prod/%s }}' "$(longname 500)" | vaultctl-secret inject
	inject|sql|2|invalid secret name|printf '{{ vaultctl://bad/api/prod/%%%% }}' | vaultctl-secret inject
	inject|sql|2|reference 'x';' not closed by '}}'|printf '{{ vaultctl://%s/api/prod/A }}' "$T" | vaultctl-secret inject
	inject|sql|3|organization 'ba_' not found|printf '{{ vaultctl://ba_/api/prod/A }}' | vaultctl-secret inject
	inject|sql|2|-o: cannot create a file beside|vaultctl-secret inject -o "/nonexistent/$T"
	inject|notfound|3|secret 'NOSUCH' not found|printf 'A={{ vaultctl://bad/api/prod/A }} {{ vaultctl://bad/api/prod/NOSUCH }}' | vaultctl-secret inject -o $BATS_FILE_TMPDIR/inject.out
	inject|notfound|3|environment 'nosuch' not found|printf '{{ vaultctl://bad/api/nosuch/A }}' | vaultctl-secret inject

	rekey|missing|2|missing value for option '-c'|vaultctl-secret rekey -c
	rekey|args|2|too many arguments|vaultctl-secret rekey --yes now
	rekey|option|2|unknown option '--force'|vaultctl-secret rekey --force
	rekey|option|2|option '--yes' takes no value|vaultctl-secret rekey --yes=1
	rekey|option|2|refusing without --yes (not on a terminal)|vaultctl-secret rekey
	rekey|name|-|takes no name|
	rekey|long|2|unknown output format|vaultctl-secret -o "$(long 300)" rekey --yes
	rekey|sql|2|no configuration file|vaultctl-secret -c "/nonexistent/$T" rekey --yes
	rekey|notfound|-|names nothing|
	EOF
}

matrix_plan() {
	cat <<-'EOF'
	create|missing|2|missing argument|vaultctl-plan create
	create|missing|2|--price is required|vaultctl-plan create p2 --cycle monthly
	create|missing|2|--cycle is required|vaultctl-plan create p2 --price 1
	create|missing|2|missing value for option '--price'|vaultctl-plan create p2 --cycle monthly --price
	create|args|2|too many arguments|vaultctl-plan create p2 p3 --price 1 --cycle monthly
	create|option|2|unknown option '--bogus'|vaultctl-plan create p2 --price 1 --cycle monthly --bogus
	create|option|2|invalid --price '1,5'|vaultctl-plan create p2 --price 1,5 --cycle monthly
	create|option|2|invalid --price '-1'|vaultctl-plan create p2 --price -1 --cycle monthly
	create|option|2|invalid --price '1e3'|vaultctl-plan create p2 --price 1e3 --cycle monthly
	create|option|2|invalid --cycle 'weekly'|vaultctl-plan create p2 --price 1 --cycle weekly
	create|option|2|invalid --secrets-limit '-5'|vaultctl-plan create p2 --price 1 --cycle monthly --secrets-limit -5
	create|option|2|invalid --features: not a JSON object|vaultctl-plan create p2 --price 1 --cycle monthly --features '[1,2]'
	create|option|2|invalid --features|vaultctl-plan create p2 --price 1 --cycle monthly --features '{"a":'
	create|option|2|cannot read --features file '/nonexistent'|vaultctl-plan create p2 --price 1 --cycle monthly --features @/nonexistent
	create|option|2|--description|vaultctl-plan create p2 --price 1 --cycle monthly --description
	create|name|2|invalid plan name|vaultctl-plan create 'a b' --price 1 --cycle monthly
	create|name|2|invalid plan name|vaultctl-plan create .x --price 1 --cycle monthly
	create|name|2|form of a UUID|vaultctl-plan create 0f8fad5b-d9cb-469f-a165-70867728950e --price 1 --cycle monthly
	create|long|2|plan name is longer than 63|vaultctl-plan create "$(long 64)" --price 1 --cycle monthly
	create|long|2|description is longer than 65535|vaultctl-plan create p2 --price 1 --cycle monthly --description "$(long 65536)"
	create|long|2|invalid --price|vaultctl-plan create p2 --price 12345678901234567890 --cycle monthly
	create|long|2|invalid --secrets-limit|vaultctl-plan create p2 --price 1 --cycle monthly --secrets-limit 99999999999
	create|long|2|--features|vaultctl-plan create p2 --price 1 --cycle monthly --features @$BATS_FILE_TMPDIR/features-big.json
	create|sql|2|invalid plan name|vaultctl-plan create "$T" --price 1 --cycle monthly --description "$T"
	create|sql|2|invalid plan name|vaultctl-plan create '%' --price 1 --cycle monthly
	create|sql|2|invalid plan name|vaultctl-plan create 'a\b' --price 1 --cycle monthly
	create|sql|2|invalid --price|vaultctl-plan create p2 --price "$T" --cycle monthly
	create|sql|2|invalid --cycle|vaultctl-plan create p2 --price 1 --cycle "$T"
	create|sql|2|invalid --secrets-limit|vaultctl-plan create p2 --price 1 --cycle monthly --secrets-limit "$T"
	create|sql|2|invalid --features|vaultctl-plan create p2 --price 1 --cycle monthly --features "$T"
	create|sql|2|cannot read --features file|vaultctl-plan create p2 --price 1 --cycle monthly --features "@$T"
	create|notfound|-|creates: nothing to find|
	create|conflict|6|plan 'FREE' already exists|vaultctl-plan create FREE --price 1 --cycle monthly

	list|missing|2|missing value for option '--as'|vaultctl-plan list --as
	list|args|2|too many arguments|vaultctl-plan list free
	list|option|2|unknown option '--all'|vaultctl-plan list --all
	list|name|-|takes no name|
	list|long|2|unknown output format|vaultctl-plan -o "$(long 300)" list
	list|sql|4|unknown user|vaultctl-plan --as "$T" list
	list|sql|2|unknown output format|vaultctl-plan -o "$T" list
	list|notfound|4|unknown user 'nobody@example.com'|vaultctl-plan --as nobody@example.com list

	show|missing|2|missing argument|vaultctl-plan show
	show|args|2|too many arguments|vaultctl-plan show free free
	show|option|2|unknown option '--features'|vaultctl-plan show free --features
	show|name|3|plan 'a b' not found|vaultctl-plan show 'a b'
	show|long|3|not found|vaultctl-plan show "$(long 300)"
	show|sql|3|plan 'x'; DROP TABLE users; --' not found|vaultctl-plan show "$T"
	show|sql|3|plan 'fre_' not found|vaultctl-plan show fre_
	show|sql|3|plan '%' not found|vaultctl-plan show %
	show|sql|3|plan 'fre\' not found|vaultctl-plan show 'fre\'
	show|notfound|3|plan 'nosuch' not found|vaultctl-plan show nosuch

	set|missing|2|missing argument|vaultctl-plan set
	set|missing|2|nothing to change|vaultctl-plan set free
	set|missing|2|missing value for option '--cycle'|vaultctl-plan set free --cycle
	set|args|2|too many arguments|vaultctl-plan set free team --price 1
	set|option|2|unknown option '--name'|vaultctl-plan set free --name gratis
	set|option|2|invalid --price '1.234'|vaultctl-plan set free --price 1.234
	set|option|2|invalid --cycle 'daily'|vaultctl-plan set free --cycle daily
	set|option|2|invalid --secrets-limit 'lots'|vaultctl-plan set free --secrets-limit lots
	set|option|2|invalid --features: not a JSON object|vaultctl-plan set free --features '"x"'
	set|option|2|description|vaultctl-plan set free --description
	set|name|3|plan 'a b' not found|vaultctl-plan set 'a b' --price 1
	set|long|2|description is longer than 65535|vaultctl-plan set free --description "$(long 65536)"
	set|long|3|not found|vaultctl-plan set "$(long 300)" --price 1
	set|sql|3|plan 'fre_' not found|vaultctl-plan set fre_ --price 2 --description "$T"
	set|sql|2|invalid --cycle|vaultctl-plan set free --cycle "$T"
	set|sql|2|invalid --price|vaultctl-plan set free --price "$T"
	set|sql|2|invalid --secrets-limit|vaultctl-plan set free --secrets-limit "$T"
	set|sql|2|invalid --features|vaultctl-plan set free --features "$T"
	set|notfound|3|plan 'nosuch' not found|vaultctl-plan set nosuch --price 1

	rm|missing|2|missing argument|vaultctl-plan rm
	rm|args|2|too many arguments|vaultctl-plan rm free team
	rm|option|2|unknown option '--yes'|vaultctl-plan rm free --yes
	rm|name|3|plan 'a/b' not found|vaultctl-plan rm a/b
	rm|long|3|not found|vaultctl-plan rm "$(long 300)"
	rm|sql|3|plan 'fre%' not found|vaultctl-plan rm 'fre%'
	rm|sql|3|not found|vaultctl-plan rm "$T"
	rm|notfound|3|plan 'nosuch' not found|vaultctl-plan rm nosuch
	rm|conflict|6|plan 'free' is still in use|vaultctl-plan rm free

	subscribe|missing|2|missing argument|vaultctl-plan subscribe bad
	subscribe|missing|2|missing value for option '--start'|vaultctl-plan subscribe bad free --start
	subscribe|args|2|too many arguments|vaultctl-plan subscribe bad free team
	subscribe|args|2|not a reference of the form ORG|vaultctl-plan subscribe bad/api free
	subscribe|option|2|invalid --start '2020-02-30'|vaultctl-plan subscribe bad free --start 2020-02-30
	subscribe|option|2|invalid --end 'tomorrow'|vaultctl-plan subscribe bad free --end tomorrow
	subscribe|option|2|the end date must be after the start date|vaultctl-plan subscribe bad free --start 2030-01-01 --end 2020-01-01
	subscribe|option|2|option '--force' takes no value|vaultctl-plan subscribe bad free --force=1
	subscribe|option|2|unknown option '--plan'|vaultctl-plan subscribe bad --plan free
	subscribe|name|2|invalid organization name|vaultctl-plan subscribe 'b d' free
	subscribe|name|3|plan 'a b' not found|vaultctl-plan subscribe bad 'a b'
	subscribe|long|2|organization name is longer than 63|vaultctl-plan subscribe "$(long 64)" free
	subscribe|long|3|not found|vaultctl-plan subscribe bad "$(long 300)"
	subscribe|long|2|invalid --start|vaultctl-plan subscribe bad free --start "$(long 300)"
	subscribe|sql|2|invalid organization name|vaultctl-plan subscribe "$T" free
	subscribe|sql|3|plan 'fre_' not found|vaultctl-plan subscribe bad fre_
	subscribe|sql|3|organization 'ba_' not found|vaultctl-plan subscribe ba_ free
	subscribe|sql|2|invalid --start|vaultctl-plan subscribe bad free --start "$T"
	subscribe|sql|2|invalid --end '%'|vaultctl-plan subscribe bad free --end %
	subscribe|notfound|3|organization 'nosuch' not found|vaultctl-plan subscribe nosuch free
	subscribe|notfound|3|plan 'nosuch' not found|vaultctl-plan subscribe bad nosuch

	cancel|missing|2|missing argument|vaultctl-plan cancel
	cancel|args|2|too many arguments|vaultctl-plan cancel bad free
	cancel|args|2|not a reference of the form ORG|vaultctl-plan cancel bad/api
	cancel|option|2|unknown option '--yes'|vaultctl-plan cancel bad --yes
	cancel|name|2|invalid organization name|vaultctl-plan cancel 'b d'
	cancel|long|2|organization name is longer than 63|vaultctl-plan cancel "$(long 300)"
	cancel|sql|2|invalid organization name|vaultctl-plan cancel "$T"
	cancel|sql|3|organization 'ba_' not found|vaultctl-plan cancel ba_
	cancel|notfound|3|organization 'nosuch' not found|vaultctl-plan cancel nosuch

	subscriptions|missing|2|missing argument|vaultctl-plan subscriptions
	subscriptions|args|2|too many arguments|vaultctl-plan subscriptions bad x
	subscriptions|option|2|unknown option '--all'|vaultctl-plan subscriptions bad --all
	subscriptions|name|2|invalid organization name|vaultctl-plan subscriptions .bad
	subscriptions|long|2|organization name is longer than 63|vaultctl-plan subscriptions "$(long 64)"
	subscriptions|sql|2|invalid organization name|vaultctl-plan subscriptions 'acm%'
	subscriptions|sql|3|organization 'ba_' not found|vaultctl-plan subscriptions ba_
	subscriptions|notfound|3|organization 'nosuch' not found|vaultctl-plan subscriptions nosuch

	usage|missing|2|missing argument|vaultctl-plan usage
	usage|args|2|too many arguments|vaultctl-plan usage bad bad
	usage|args|2|not a reference of the form ORG|vaultctl-plan usage bad/api/prod
	usage|option|2|unknown option '--need'|vaultctl-plan usage bad --need 1
	usage|name|2|invalid organization name|vaultctl-plan usage 'ba d'
	usage|long|2|organization name is longer than 63|vaultctl-plan usage "$(long 64)"
	usage|sql|2|invalid organization name|vaultctl-plan usage 'ba\d'
	usage|sql|2|invalid organization name|vaultctl-plan usage "$T"
	usage|notfound|3|organization 'nosuch' not found|vaultctl-plan usage nosuch

	check|missing|2|missing argument|vaultctl-plan check
	check|missing|2|missing value for option '--need'|vaultctl-plan check bad --need
	check|args|2|too many arguments|vaultctl-plan check bad 1
	check|option|2|--need must be a whole number from 0 to 2147483647, not '-1'|vaultctl-plan check bad --need -1
	check|option|2|--need must be a whole number|vaultctl-plan check bad --need 1.5
	check|option|2|unknown option '--quota'|vaultctl-plan check bad --quota 1
	check|name|2|invalid organization name|vaultctl-plan check 'b!d'
	check|long|2|--need must be a whole number|vaultctl-plan check bad --need 99999999999
	check|long|2|organization name is longer than 63|vaultctl-plan check "$(long 64)"
	check|sql|2|--need must be a whole number|vaultctl-plan check bad --need "$T"
	check|sql|2|invalid organization name|vaultctl-plan check "$T"
	check|sql|3|organization 'ba_' not found|vaultctl-plan check ba_
	check|notfound|3|organization 'nosuch' not found|vaultctl-plan check nosuch

	expire|missing|2|missing value for option '-c'|vaultctl-plan expire -c
	expire|args|2|too many arguments|vaultctl-plan expire now
	expire|option|2|unknown option '--before'|vaultctl-plan expire --before 2020-01-01
	expire|name|-|takes no name|
	expire|long|2|unknown output format|vaultctl-plan -o "$(long 300)" expire
	expire|sql|2|unknown output format|vaultctl-plan -o "$T" expire
	expire|sql|2|no configuration file|vaultctl-plan -c "/nonexistent/$T" expire
	expire|notfound|-|names nothing|
	EOF
}

matrix_audit() {
	cat <<-'EOF'
	log|missing|2|missing value for option '--org'|vaultctl-audit log --org
	log|missing|2|missing value for option '--limit'|vaultctl-audit log --limit
	log|args|2|too many arguments|vaultctl-audit log bad
	log|option|2|unknown option '--frob'|vaultctl-audit log --frob
	log|option|2|--limit must be a whole number from 0 to 10000, not 'x'|vaultctl-audit log --limit x
	log|option|2|--limit must be at least 1|vaultctl-audit log --limit 0
	log|option|2|--after must be a whole number|vaultctl-audit log --after -1
	log|option|2|--after must be a seq of the audit log|vaultctl-audit log --after 0
	log|option|2|--follow reads new rows|vaultctl-audit log --follow --after 1
	log|option|2|--follow reads new rows|vaultctl-audit log --follow --until 2020-01-01
	log|option|2|use -o jsonl rather than -o json|vaultctl-audit -o json log --follow
	log|option|2|option '--follow' takes no value|vaultctl-audit log --follow=1
	log|option|2|--since: invalid time 'yesterday'|vaultctl-audit log --since yesterday
	log|option|2|--until: invalid time '2020-13-01'|vaultctl-audit log --until 2020-13-01
	log|name|2|invalid organization name|vaultctl-audit log --org 'a b'
	log|name|2|invalid --action 'secret read'|vaultctl-audit log --action 'secret read'
	log|name|2|invalid --resource-type 'a/b'|vaultctl-audit log --resource-type a/b
	log|name|2|invalid --action|vaultctl-audit log --action '*'
	log|long|2|organization name is longer than 63|vaultctl-audit log --org "$(long 64)"
	log|long|2|invalid --action|vaultctl-audit log --action "$(long 51)"
	log|long|2|invalid --resource-type|vaultctl-audit log --resource-type "$(long 51)"
	log|long|3|not found|vaultctl-audit log --user "$(long 300)@example.com"
	log|long|2|--since: invalid time|vaultctl-audit log --since "$(long 300)"
	log|long|2|--limit must be a whole number|vaultctl-audit log --limit 10001
	log|sql|2|invalid organization name|vaultctl-audit log --org "$T"
	log|sql|3|organization 'ba_' not found|vaultctl-audit log --org ba_
	log|sql|3|user 'x'; DROP TABLE users; --' not found|vaultctl-audit log --user "$T"
	log|sql|3|user 'admi_@example.com' not found|vaultctl-audit log --user 'admi_@example.com'
	log|sql|3|user '%' not found|vaultctl-audit log --user %
	log|sql|2|invalid --action|vaultctl-audit log --action "$T"
	log|sql|2|invalid --action '%'|vaultctl-audit log --action %
	log|sql|2|invalid --action|vaultctl-audit log --action 'secret\.*'
	log|sql|2|invalid --resource-type|vaultctl-audit log --resource-type "$T"
	log|sql|2|invalid --resource-type '%'|vaultctl-audit log --resource-type %
	log|sql|2|--since: invalid time|vaultctl-audit log --since "$T"
	log|sql|2|--until: invalid time '%'|vaultctl-audit log --until %
	log|sql|2|--after must be a whole number|vaultctl-audit log --after "$T"
	log|sql|2|--limit must be a whole number|vaultctl-audit log --limit "$T"
	log|notfound|3|organization 'nosuch' not found|vaultctl-audit log --org nosuch
	log|notfound|3|user 'nobody@example.com' not found|vaultctl-audit log --user nobody@example.com

	stats recompute|missing|2|missing value for option '--org'|vaultctl-audit stats recompute --org
	stats recompute|args|2|too many arguments|vaultctl-audit stats recompute bad
	stats recompute|args|2|'stats' needs a subcommand: recompute, show|vaultctl-audit stats
	stats recompute|args|2|unknown command 'stats recount'|vaultctl-audit stats recount
	stats recompute|option|2|unknown option '--all'|vaultctl-audit stats recompute --all
	stats recompute|name|2|invalid organization name|vaultctl-audit stats recompute --org 'a b'
	stats recompute|long|2|organization name is longer than 63|vaultctl-audit stats recompute --org "$(long 64)"
	stats recompute|sql|2|invalid organization name|vaultctl-audit stats recompute --org "$T"
	stats recompute|sql|3|organization 'ba_' not found|vaultctl-audit stats recompute --org ba_
	stats recompute|notfound|3|organization 'nosuch' not found|vaultctl-audit stats recompute --org nosuch

	stats show|missing|2|missing value for option '--org'|vaultctl-audit stats show --org
	stats show|args|2|too many arguments|vaultctl-audit stats show bad
	stats show|option|2|unknown option '--fix'|vaultctl-audit stats show --fix
	stats show|name|2|invalid organization name|vaultctl-audit stats show --org -bad
	stats show|long|2|organization name is longer than 63|vaultctl-audit stats show --org "$(long 64)"
	stats show|sql|2|invalid organization name|vaultctl-audit stats show --org "$T"
	stats show|sql|3|organization 'ba_' not found|vaultctl-audit stats show --org ba_
	stats show|notfound|3|organization 'nosuch' not found|vaultctl-audit stats show --org nosuch

	verify|missing|2|missing value for option '--org'|vaultctl-audit verify --org
	verify|args|2|too many arguments|vaultctl-audit verify bad
	verify|option|2|unknown option '--fix'|vaultctl-audit verify --fix
	verify|name|2|invalid organization name|vaultctl-audit verify --org 'bad!'
	verify|long|2|organization name is longer than 63|vaultctl-audit verify --org "$(long 64)"
	verify|sql|2|invalid organization name|vaultctl-audit verify --org '\'
	verify|sql|2|invalid organization name|vaultctl-audit verify --org "$T"
	verify|sql|3|organization 'ba_' not found|vaultctl-audit verify --org ba_
	verify|notfound|3|organization 'nosuch' not found|vaultctl-audit verify --org nosuch
	verify|missing|2|missing value for option '--anchor'|vaultctl-audit verify --anchor
	verify|option|1|anchor file '/etc/passwd', line 1: not 'chain seq hash'|vaultctl-audit verify --anchor /etc/passwd
	verify|option|1|cannot write anchor file '/nonexistent/a'|vaultctl-audit verify --anchor /nonexistent/a

	rekey|args|2|too many arguments|vaultctl-audit rekey now
	rekey|missing|2|refusing without --yes|vaultctl-audit rekey
	rekey|option|2|option '--yes' takes no value|vaultctl-audit rekey --yes=1
	rekey|option|2|unknown option '--org'|vaultctl-audit rekey --org acme --yes
	rekey|name|-|takes no name|
	rekey|long|-|takes no value|
	rekey|sql|-|takes no value|
	rekey|notfound|4|unknown user 'nobody@example.com'|vaultctl-audit --as nobody@example.com rekey --yes

	reconcile|missing|2|missing value for option '--org'|vaultctl-audit reconcile --org
	reconcile|args|2|too many arguments|vaultctl-audit reconcile bad
	reconcile|option|2|unknown option '--force'|vaultctl-audit reconcile --force
	reconcile|option|2|option '--fix' takes no value|vaultctl-audit reconcile --fix=yes
	reconcile|option|2|option '--yes' takes no value|vaultctl-audit reconcile --fix --yes=1
	reconcile|name|2|invalid organization name|vaultctl-audit reconcile --org 'b d'
	reconcile|long|2|organization name is longer than 63|vaultctl-audit reconcile --org "$(long 64)"
	reconcile|sql|2|invalid organization name|vaultctl-audit reconcile --org %
	reconcile|sql|2|invalid organization name|vaultctl-audit reconcile --fix --yes --org "$T"
	reconcile|sql|3|organization 'ba_' not found|vaultctl-audit reconcile --fix --yes --org ba_
	reconcile|notfound|3|organization 'nosuch' not found|vaultctl-audit reconcile --org nosuch

	prune|missing|2|prune needs --before DATE|vaultctl-audit prune
	prune|missing|2|missing value for option '--before'|vaultctl-audit prune --before
	prune|missing|2|refusing without --yes|vaultctl-audit prune --before 0m
	prune|args|2|too many arguments|vaultctl-audit prune 2020-01-01
	prune|option|2|--before: invalid time 'soon'|vaultctl-audit prune --before soon
	prune|option|2|unknown option '--org'|vaultctl-audit prune --org bad --before 2020-01-01
	prune|option|2|option '--yes' takes no value|vaultctl-audit prune --before 2020-01-01 --yes=1
	prune|name|-|takes no name|
	prune|long|2|--before: invalid time|vaultctl-audit prune --before "$(long 300)" --yes
	prune|sql|2|--before: invalid time|vaultctl-audit prune --before "$T" --yes
	prune|sql|2|--before: invalid time '%'|vaultctl-audit prune --before % --yes
	prune|notfound|4|unknown user 'nobody@example.com'|vaultctl-audit --as nobody@example.com prune --before 0m --yes
	EOF
}

# --- running and checking them -----------------------------------------

# run_matrix TOOL: every row of the tool's matrix; all failures are listed.
run_matrix() {
	local tool=$1 cmd kind code pattern line base now n=0 failed=0
	base=$(checksum)
	while IFS='|' read -r cmd kind code pattern line; do
		[[ -z $cmd || $code == - ]] && continue
		n=$((n + 1))
		run --separate-stderr do_eval "$line"
		now=$(checksum)
		local why=""
		if [[ $status -ne $code ]]; then
			why="exit $status, expected $code"
		elif [[ $stderr != *"$pattern"* ]]; then
			why="stderr does not say '$pattern'"
		elif [[ $stderr != "vaultctl-$tool: "* && $stderr != '{"error":'* ]]; then
			why="stderr does not start with 'vaultctl-$tool: '"
		elif [[ -n $output ]]; then
			why="printed on stdout: ${output:0:200}"
		elif [[ $now != "$base" ]]; then
			why="tables changed: $(diff <(echo "$base") <(echo "$now") | grep '^[<>]' | tr '\n' ' ')"
			base=$now
		fi
		if [[ -n $why ]]; then
			failed=$((failed + 1))
			printf '%s %s: %s\n    %.300s\n    stderr: %.400s\n' \
				"$cmd" "$kind" "$why" "$line" "$stderr"
		fi
	done < <("matrix_$tool")
	echo "$tool: $n rows, $failed failed"
	[[ $failed -eq 0 && $n -gt 0 ]]
}

# coverage TOOL: every command of `--list-commands` has rows of every
# kind (or says why one does not apply), every option of it appears in a
# row, and every row names a command that exists and runs it.
coverage() {
	local tool=$1 rows cmds entry cmd opt kind missing=""
	rows=$("matrix_$tool")
	cmds=$("vaultctl-$tool" --list-commands)
	[[ -n $cmds ]]
	while read -r entry; do
		cmd=${entry%% --*}
		for kind in $KINDS; do
			grep -q "^$cmd|$kind|" <<<"$rows" ||
				missing+="  $cmd: no '$kind' row"$'\n'
		done
		for opt in $entry; do
			[[ $opt == --* ]] || continue
			grep "^$cmd|" <<<"$rows" | grep -v '^[^|]*|[^|]*|-|' |
				grep -qe "$opt\\b" ||
				missing+="  $cmd: option $opt in no row"$'\n'
		done
	done <<<"$cmds"
	# Rows of commands that do not exist, or that run another command.
	while IFS='|' read -r cmd kind code pattern line; do
		[[ -z $cmd ]] && continue
		grep -qx -e "$cmd" -e "$cmd --.*" <<<"$cmds" ||
			missing+="  row of unknown command '$cmd'"$'\n'
		[[ $code == - || " $line " == *" ${cmd%% *}"* ]] ||
			missing+="  row '$line' does not run '$cmd'"$'\n'
		[[ $code == - || $line == *"vaultctl-$tool"* ]] ||
			missing+="  row '$line' does not run vaultctl-$tool"$'\n'
	done <<<"$rows"
	[[ -z $missing ]] || { printf 'vaultctl-%s:\n%s' "$tool" "$missing"; return 1; }
}

@test "coverage: every command and option of vaultctl-secret is in the matrix" {
	coverage secret
}

@test "coverage: every command and option of vaultctl-plan is in the matrix" {
	coverage plan
}

@test "coverage: every command and option of vaultctl-audit is in the matrix" {
	coverage audit
}

@test "vaultctl-secret: bad input exits as documented, names the problem, changes nothing" {
	run_matrix secret
}

@test "vaultctl-plan: bad input exits as documented, names the problem, changes nothing" {
	run_matrix plan
}

@test "vaultctl-audit: bad input exits as documented, names the problem, changes nothing" {
	run_matrix audit
}

@test "-o json: a refused command's error is JSON on stderr with the same exit" {
	local line code
	while IFS='|' read -r code line; do
		run --separate-stderr do_eval "$line"
		[ "$status" -eq "$code" ]
		[ -z "$output" ]
		[ "$(jq -r .error.exit <<<"$stderr")" -eq "$code" ]
		[ -n "$(jq -r .error.message <<<"$stderr")" ]
	done <<-'EOF'
	2|vaultctl-secret -o json set "$E/$T"
	3|vaultctl-secret -o json get $E/_
	2|vaultctl-plan -o json create p2 --price "$T" --cycle monthly
	3|vaultctl-plan -o json show fre_
	2|vaultctl-audit -o json log --action "$T"
	EOF
}

@test "the value store and metadata hold no trace of the refused rows" {
	# Nothing named after the injected text, in any table that names things.
	[ "$(vc_sql "SELECT COUNT(*) FROM secret_metadata WHERE name LIKE '%DROP%'
		OR name IN ('N', 'p2', '_')")" -eq 0 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM plans WHERE name <> 'free'")" -eq 0 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM vc_values WHERE path LIKE '%DROP%'
		OR path LIKE '%/secrets/N'")" -eq 0 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM users")" -eq 1 ]
	# The secrets of the set-up are as they were.
	[ "$(vaultctl-secret get "$E/A")" = two ]
	[ "$(vc_sql "SELECT version FROM secret_metadata WHERE name = 'A'
		AND environment = (SELECT id FROM environments WHERE name = 'prod')")" -eq 2 ]
	run -0 vaultctl-audit reconcile
	run -0 vaultctl-audit verify
}

@test "SQL metacharacters in free text (descriptions, reasons, features) are data, stored byte for byte" {
	local evil="$T % _ \\ \" \` ;" before hex
	hex=$(printf '%s' "$evil" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
	before=$(vc_sql "CHECKSUM TABLE users, organizations, projects, environments, plans")
	printf v | vaultctl-secret -q set "$E/META" --description "$evil" --reason "$evil"
	[ "$(vc_sql "SELECT HEX(description) FROM secret_metadata WHERE name = 'META'")" = "$hex" ]
	# The reason is in the audit row's details, valid JSON, exact.
	[ "$(vc_sql "SELECT HEX(JSON_VALUE(details, '\$.reason')) FROM audit_logs
		WHERE action = 'secret.create' ORDER BY seq DESC LIMIT 1")" = "$hex" ]
	run -0 vaultctl-secret history "$E/META" -o json
	[ "$(jq -r '.[0].reason' <<<"$output")" = "$evil" ]
	run -0 vaultctl-secret list "$E" -o json
	[ "$(jq -r '.[] | select(.name == "META") | .description' <<<"$output")" = "$evil" ]
	# The other tables did not move; users is still there.
	[ "$(vc_sql "CHECKSUM TABLE users, organizations, projects, environments, plans")" = "$before" ]
	vaultctl-secret -q purge "$E/META" --yes
}

@test "a reason of 500 bytes that JSON escapes to more is kept whole (rotate, rollback, set)" {
	local r
	r=$(printf '\\"%.0s' $(seq 250))       # 500 bytes, 1000 escaped
	vaultctl-secret -q rotate "$E2/B" --reason "$r"
	vaultctl-secret -q rollback "$E2/B" --to 1 --reason "$r"
	printf x | vaultctl-secret -q set "$E2/B" --reason "$r"
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE action IN
		('secret.rotate', 'secret.rollback', 'secret.update')
		AND JSON_VALUE(details, '\$.reason') = '$(sed "s/\\\\/\\\\\\\\/g" <<<"$r")'")" -eq 3 ]
	[ "$(vc_sql "SELECT COUNT(*) FROM audit_logs WHERE details IS NOT NULL
		AND NOT JSON_VALID(details)")" -eq 0 ]
}

@test "audit filters take '%' and '_' as characters, never as patterns" {
	run -0 vaultctl-audit log --org bad --action secret.read --limit 1000 -o json
	[ "$(jq '.rows | length' <<<"$output")" -gt 0 ]
	# '_' is a character of action names: exact match, no row.
	run -0 vaultctl-audit log --org bad --action secret_read -o json
	[ "$(jq '.rows | length' <<<"$output")" -eq 0 ]
	run -0 vaultctl-audit log --org bad --action 'secre_.*' -o json
	[ "$(jq '.rows | length' <<<"$output")" -eq 0 ]
	run -0 vaultctl-audit log --org bad --action 'secret.*' -o json
	[ "$(jq '.rows | length' <<<"$output")" -gt 0 ]
	run -0 vaultctl-audit log --org bad --resource-type secre_ -o json
	[ "$(jq '.rows | length' <<<"$output")" -eq 0 ]
}

@test "a value typed on the command line is never repeated in the error" {
	run --separate-stderr -2 vaultctl-secret set "$E/N" --value=s3cr3t-typed-here
	[[ $stderr == *"unknown option '--value'"* && $stderr != *s3cr3t* ]]
	run --separate-stderr -2 vaultctl-secret set "$E/N" s3cr3t-typed-here
	[[ $stderr == *"too many arguments"* && $stderr != *s3cr3t* ]]
	run --separate-stderr -2 vaultctl-secret set "$E/N" --from-file=/x --pristine=s3cr3t-typed-here
	[[ $stderr != *s3cr3t* ]]
}
