# bash completion for vaultctl, vaultctl-org, vaultctl-secret, vaultctl-plan
# and vaultctl-audit.
#
# Commands and their long options come from the tool itself
# (`TOOL --list-commands`: one command per line, its name then its long
# options), so this file never falls behind the binaries.  Names come from
# the database through the tools, acting as the user and with the
# configuration given on the line being completed (--as, -c/--config):
#   ORG/...                 vaultctl-org list -o tsv
#   ORG/PROJECT/...         vaultctl-org project list ORG -o tsv
#   ORG/PROJECT/ENV/...     vaultctl-org env list ORG/PROJECT -o tsv
#   ORG/PROJECT/ENV/NAME    vaultctl-secret list ORG/PROJECT/ENV -o tsv
# Errors of those look-ups are silenced: a completion offers nothing rather
# than printing over the command line.

# Options that take a value, for every tool: the word after one of these is
# that value, not an argument.
_vaultctl_valopts=" -c --config --as -o --output --first-name --last-name
 --role --description --plan --owner --name --from-file --reason --to
 --length --charset --format --only --allow-name -O --concurrency --file -i --versions
 --max-versions
 --price --cycle --secrets-limit --features --start --end --need --org --user --action
 --resource-type --since --until --limit --after --before --anchor --at --login --cas
 --fallback --fallback-max-age --interval --signal "
# One line: a name at the end of a line above is matched as ' NAME ' too.
_vaultctl_valopts=${_vaultctl_valopts//$'\n '/ }

declare -gA _vaultctl_cmd_cache 2>/dev/null || true
declare -ga _vaultctl_ctx 2>/dev/null || true

# _vaultctl_commands TOOL: its --list-commands lines (cached per shell).
_vaultctl_commands() {
	local tool=$1
	if [[ -z ${_vaultctl_cmd_cache[$tool]+set} ]]; then
		_vaultctl_cmd_cache[$tool]=$("$tool" --list-commands 2>/dev/null)
	fi
	printf '%s\n' "${_vaultctl_cmd_cache[$tool]}"
}

# _vaultctl_run TOOL ARGS...: TOOL with the line's -c and --as, quietly.
_vaultctl_run() {
	local tool=$1
	shift
	"$tool" "${_vaultctl_ctx[@]}" "$@" 2>/dev/null
}

# _vaultctl_names TOOL ARGS...: the first column of a -o tsv listing.
_vaultctl_names() {
	_vaultctl_run "$@" -o tsv | cut -f1
}

# _vaultctl_ref CUR DEPTH [LAST]: complete a reference of DEPTH parts
# (1 ORG ... 4 ORG/PROJECT/ENV/NAME); parts before the last end in '/',
# the last in LAST (nothing by default).
_vaultctl_ref() {
	local cur=$1 depth=$2 last=${3-} parent="" slashes names suffix=/ n
	slashes=${cur//[^\/]/}
	n=$((${#slashes} + 1))
	((n <= depth)) || return 0
	[[ $cur == */* ]] && parent=${cur%/*}
	case $n in
	1) names=$(_vaultctl_names vaultctl-org list) ;;
	2) names=$(_vaultctl_names vaultctl-org project list "$parent") ;;
	3) names=$(_vaultctl_names vaultctl-org env list "$parent") ;;
	4) names=$(_vaultctl_names vaultctl-secret list "$parent") ;;
	esac
	((n == depth)) && suffix=$last
	[[ -n $parent ]] && parent+=/
	local IFS=$'\n' name
	for name in $names; do
		[[ $parent$name == "$cur"* ]] && COMPREPLY+=("$parent$name$suffix")
	done
	[[ -z $suffix ]] || compopt -o nospace 2>/dev/null
	return 0
}

_vaultctl_words() {   # CUR WORDS...: COMPREPLY from a word list
	local cur=$1
	shift
	local IFS=$' \t\n'
	mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -W "$*" -- "$cur")
}

_vaultctl_files() {
	mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$1")
	compopt -o filenames 2>/dev/null
}

# The value of an option (PREV is the option).
_vaultctl_optval() {
	local tool=$1 cmd=$2 prev=$3 cur=$4
	case $prev in
	-o | --output)
		if [[ $prev == -o && $cmd == inject ]]; then  # inject -o FILE
			_vaultctl_files "$cur"
		else
			_vaultctl_words "$cur" table json tsv jsonl csv
		fi ;;
	-c | --config | --from-file | --file | -O | --anchor | -i | --fallback) _vaultctl_files "$cur" ;;
	--fallback-max-age) _vaultctl_words "$cur" 1h 24h 7d ;;
	--features) [[ $cur == @* ]] && { _vaultctl_files "${cur#@}"; COMPREPLY=("${COMPREPLY[@]/#/@}"); } ;;
	--role)
		if [[ $cmd == user\ * ]]; then
			_vaultctl_words "$cur" admin user
		else
			_vaultctl_words "$cur" owner admin member viewer
		fi ;;
	--charset) _vaultctl_words "$cur" alnum hex base64 ascii ;;
	--cycle) _vaultctl_words "$cur" monthly yearly ;;
	--signal) _vaultctl_words "$cur" TERM HUP INT QUIT USR1 USR2 ;;
	--interval) _vaultctl_words "$cur" 500ms 10s 1m ;;
	--secrets-limit) _vaultctl_words "$cur" unlimited ;;
	--format)
		if [[ $cmd == import ]]; then
			_vaultctl_words "$cur" dotenv json
		else
			_vaultctl_words "$cur" sh dotenv json yaml docker env0
		fi ;;
	--org) _vaultctl_ref "$cur" 1 ;;
	--as | --owner | --user) _vaultctl_words "$cur" "$(_vaultctl_names vaultctl-org user list)" ;;
	--plan) _vaultctl_words "$cur" "$(_vaultctl_names vaultctl-plan list)" ;;
	esac
}

# What positional argument I (from 0) of a command is: a reference depth
# 1-4 (3-: any depth up to 3), "user" (an email), "plan", or nothing to
# offer.
_vaultctl_argkind() {
	local tool=$1 cmd=$2 i=$3
	case $tool:$cmd:$i in
	vaultctl-org:user\ add:*) ;;
	vaultctl-org:user\ *:0) echo user ;;
	vaultctl-org:member\ *:0) echo 1 ;;
	vaultctl-org:member\ *:1) echo user ;;
	vaultctl-org:show:0 | vaultctl-org:set:0 | vaultctl-org:rm:0 | \
	vaultctl-org:project\ list:0) echo 1 ;;
	vaultctl-org:policy:0) echo 3- ;;
	vaultctl-org:project\ create:0) echo 1/ ;;
	vaultctl-org:project\ *:0 | vaultctl-org:env\ list:0) echo 2 ;;
	vaultctl-org:env\ create:0) echo 2/ ;;
	vaultctl-org:env\ *:0) echo 3 ;;
	vaultctl-secret:list:0 | vaultctl-secret:export:* | \
	vaultctl-secret:import:0 | vaultctl-secret:run:* | \
	vaultctl-secret:diff:[01] | vaultctl-secret:copy:[01] | \
	vaultctl-secret:restore-env:0) echo 3 ;;
	vaultctl-secret:rekey:* | vaultctl-secret:inject:*) ;;
	vaultctl-secret:*:0) echo 4 ;;
	vaultctl-plan:show:0 | vaultctl-plan:set:0 | vaultctl-plan:rm:0 | \
	vaultctl-plan:subscribe:1) echo plan ;;
	vaultctl-plan:subscribe:0 | vaultctl-plan:cancel:0 | \
	vaultctl-plan:subscriptions:0 | vaultctl-plan:usage:0 | \
	vaultctl-plan:check:0) echo 1 ;;
	esac
}

# _vaultctl_which TOOL POSITIONAL...: the command named by the first one
# or two positional words ("" while it is still being typed).
_vaultctl_which() {
	local tool=$1 line name one=""
	shift
	while IFS= read -r line; do
		name=${line%% --*}
		if [[ $name == *\ * ]]; then
			(($# >= 3)) && [[ $name == "$1 $2" ]] && { echo "$name"; return; }
		elif (($# >= 2)) && [[ $name == "$1" ]]; then
			one=$name
		fi
	done < <(_vaultctl_commands "$tool")
	echo "$one"
}

# _vaultctl_tool TOOL WORDS...: complete the last of WORDS, the words that
# follow TOOL on the line.
_vaultctl_tool() {
	local tool=$1
	shift
	local -a words=("$@") pos=()
	local n=$((${#words[@]} - 1)) i=0 w cur prev="" cmd kind opts dashed=
	cur=${words[n]}
	((n > 0)) && prev=${words[n - 1]}
	_vaultctl_ctx=()
	# Positional words before the cursor, and the -c/--as of the line.
	while ((i < n)); do
		w=${words[i]}
		[[ $w == -- ]] && { dashed=1; break; }
		if [[ $w == -* ]]; then
			case $w in
			-c | --config | --as) _vaultctl_ctx+=("$w" "${words[i + 1]-}") ;;
			--config=* | --as=*) _vaultctl_ctx+=("$w") ;;
			esac
			# get --version N, unlike the global --version.
			[[ $_vaultctl_valopts == *" $w "* ||
				$tool:$w == vaultctl-secret:--version ]] && ((i++))
		else
			pos+=("$w")
		fi
		((i++))
	done
	# The cursor's word counts too, so that "user ad" is not yet a command.
	cmd=$(_vaultctl_which "$tool" "${pos[@]}" "$cur")
	if [[ $_vaultctl_valopts == *" $prev "* ]]; then
		_vaultctl_optval "$tool" "$cmd" "$prev" "$cur"
	elif [[ $cur == -* ]]; then
		opts=""
		[[ -n $cmd ]] && opts=$(_vaultctl_commands "$tool" |
			grep -m1 "^$cmd\( --\|\$\)") && opts=${opts#"$cmd"}
		_vaultctl_words "$cur" -h --help -V --version -c --config --as \
			-o --output -q --quiet -v --verbose --no-color "$opts"
	elif [[ -z $cmd ]]; then
		# The command: its first word, or its second after a group word.
		if ((${#pos[@]} == 0)); then
			_vaultctl_words "$cur" "$(_vaultctl_commands "$tool" | cut -d' ' -f1 | sort -u)"
		elif ((${#pos[@]} == 1)); then
			_vaultctl_words "$cur" "$(_vaultctl_commands "$tool" |
				sed -n "s/^${pos[0]} \([a-z-]*\).*/\1/p")"
		fi
	else
		w=1
		[[ $cmd == *\ * ]] && w=2
		kind=$(_vaultctl_argkind "$tool" "$cmd" $((${#pos[@]} - w)))
		# After run's "--" come the command's words, not environments.
		[[ -n $dashed ]] && kind=""
		case $kind in
		[1-4]) _vaultctl_ref "$cur" "$kind" ;;
		# A new name under an existing parent: complete the parent.
		[1-3]/) _vaultctl_ref "$cur" "${kind%/}" / ;;
		# Any depth: each parent is also a reference of its own.
		[1-3]-)
			_vaultctl_ref "$cur" "${kind%-}"
			for w in "${COMPREPLY[@]}"; do
				[[ $w == */ ]] && COMPREPLY+=("${w%/}")
			done ;;
		user) _vaultctl_words "$cur" "$(_vaultctl_names vaultctl-org user list)" ;;
		plan) _vaultctl_words "$cur" "$(_vaultctl_names vaultctl-plan list)" ;;
		esac
	fi
	return 0
}

# The completion function of every binary.
_vaultctl() {
	local tool=${1##*/}
	COMPREPLY=()
	[[ -z $tool ]] && tool=${COMP_WORDS[0]##*/}
	if [[ $tool == vaultctl ]]; then
		# The front command: `vaultctl org ...` is `vaultctl-org ...`.
		if ((COMP_CWORD == 1)); then
			_vaultctl_words "${COMP_WORDS[1]}" org secret plan audit \
				shell -h --help -V --version
			return 0
		fi
		tool=vaultctl-${COMP_WORDS[1]}
		_vaultctl_tool "$tool" "${COMP_WORDS[@]:2:COMP_CWORD-1}"
		return 0
	fi
	_vaultctl_tool "$tool" "${COMP_WORDS[@]:1:COMP_CWORD}"
}

complete -F _vaultctl vaultctl vaultctl-org vaultctl-secret vaultctl-plan vaultctl-audit
