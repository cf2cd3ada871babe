#!/usr/bin/env bats
# Every command of every tool's table appears in its man page and in its
# --help; man pages lint clean; completions parse; the repository cites only
# its own documents.  No server needed.

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
export PATH="$REPO/bin:$PATH"

# Documents a clone does not have: the project's notes kept beside the
# repository.  A user's copy must stand alone, so comments, messages and
# documents cite the man pages and doc/ instead.  Spelled with brackets so
# that this file does not match itself.
OUTSIDE_DOCS='[.][.]/share[d]|DESIG[N][.]md|CL[I][.]md|referenc[e]/(vault|exports)[.]md'

# tracked_grep ERE: file:line:text of every tracked file's lines matching
# ERE; without git (an unpacked tarball), of every file but build output.
tracked_grep() {
	if [ -e "$REPO/.git" ] && command -v git >/dev/null; then
		git -C "$REPO" grep -nIE "$1" -- . || true
	else
		(cd "$REPO" && grep -rnIE --exclude-dir=.git --exclude-dir=bin \
			--exclude-dir=build --exclude-dir=node_modules \
			--exclude='*.[oad]' "$1" . | sed 's|^\./||') || true
	fi
}

check_tool() {
	local tool=$1 man=$REPO/man/$1.1 help name missing=""
	[ -f "$man" ]
	help=$("$tool" --help)
	while IFS= read -r line; do
		name=${line%% --*}
		# Each command has its own ".It Cm NAME ..." entry.
		if ! grep -Eq "^\.It Cm $name( |\$)" "$man"; then
			missing="$missing man:'$name'"
		fi
		[[ $help == *" $name "* || $help == *" $name"$'\n'* ]] || missing="$missing help:'$name'"
	done < <("$tool" --list-commands)
	if [ -n "$missing" ]; then
		echo "missing in $tool:$missing" >&2
		return 1
	fi
}

@test "vaultctl-org: every command is in the man page and --help" { check_tool vaultctl-org; }
@test "vaultctl-secret: every command is in the man page and --help" { check_tool vaultctl-secret; }
@test "vaultctl-plan: every command is in the man page and --help" { check_tool vaultctl-plan; }
@test "vaultctl-audit: every command is in the man page and --help" { check_tool vaultctl-audit; }

@test "every long option of every command is in its man page" {
	local tool line opt missing=""
	for tool in vaultctl-org vaultctl-secret vaultctl-plan vaultctl-audit; do
		while IFS= read -r line; do
			for opt in $line; do
				[[ $opt == --* ]] || continue
				grep -Eq -- "Fl -${opt#--}( |\$)" "$REPO/man/$tool.1" ||
					missing="$missing $tool:$opt"
			done
		done < <("$tool" --list-commands)
	done
	[ -z "$missing" ] || { echo "undocumented:$missing" >&2; return 1; }
}

@test "man pages have the sections a reader looks for" {
	local m
	for m in "$REPO"/man/vaultctl-*.1; do
		for s in NAME SYNOPSIS DESCRIPTION ENVIRONMENT "EXIT STATUS" EXAMPLES "SEE ALSO"; do
			grep -q "^\.Sh $s" "$m" || { echo "$m lacks $s" >&2; return 1; }
		done
	done
}

@test "zsh completion parses; bash completion loads" {
	zsh -n "$REPO/completions/_vaultctl"
	bash -c ". '$REPO/completions/vaultctl.bash' && complete -p vaultctl-secret"
}

@test "fish completion parses" {
	command -v fish
	fish -n "$REPO/completions/vaultctl.fish"
}

@test "no file cites a document outside the repository" {
	local hits
	hits=$(tracked_grep "$OUTSIDE_DOCS")
	if [ -n "$hits" ]; then
		printf '%s\n' "cite doc/ or a man page instead of documents a clone" \
			"does not have ($(printf '%s\n' "$hits" | wc -l) lines):" "$hits" >&2
		return 1
	fi
}

@test "the doc/ files and sections that files cite exist" {
	local cite file sec missing=""
	while IFS= read -r cite; do
		file=${cite%%,*}
		[ -f "$REPO/$file" ] || { missing="$missing $cite"; continue; }
		[[ $cite == *", section "* ]] || continue
		sec=${cite##* }
		grep -q "^## $sec\. " "$REPO/$file" || missing="$missing '$cite'"
	done < <(tracked_grep 'doc/[A-Za-z0-9_-]+[.]md' |
		grep -oE 'doc/[A-Za-z0-9_-]+[.]md(, section [0-9]+)?' | sort -u)
	[ -z "$missing" ] || { echo "cited but missing:$missing" >&2; return 1; }
}
