#!/bin/sh
# node-dotenv.sh - an npm install of dotenv 16 in a cache directory, for the
# export round trip (tests/e2e/roundtrip/check.sh reads VC_NODE_DOTENV).
# Installs it with npm when it is missing, then prints the directory, which
# holds node_modules/dotenv.
#
#   VC_NODE_DOTENV=$(tests/harness/node-dotenv.sh) || exit 1
#
# The directory is ${VC_CACHE:-$HOME/.cache/vaultctl-tests}/node.  npm's
# own output goes to stderr, so that stdout is only the directory.
set -eu

cache=${VC_CACHE:-${HOME:-/root}/.cache/vaultctl-tests}
dir=$cache/node

have() {
	[ -f "$dir/node_modules/dotenv/package.json" ] &&
		node -e 'const v = require(process.argv[1]).version;
			process.exit(/^16\./.test(v) ? 0 : 1)' \
			"$dir/node_modules/dotenv/package.json" 2>/dev/null
}

command -v node >/dev/null 2>&1 || { echo "node-dotenv.sh: node is not installed" >&2; exit 1; }
if ! have; then
	command -v npm >/dev/null 2>&1 || { echo "node-dotenv.sh: npm is not installed" >&2; exit 1; }
	mkdir -p "$dir"
	# A lock, so that test files started together do not install at once.
	(
		command -v flock >/dev/null 2>&1 && flock 9
		have || npm install --prefix "$dir" --no-audit --no-fund \
			--no-save --loglevel=error dotenv@16 >&2
	) 9>"$dir/.lock"
	have || { echo "node-dotenv.sh: npm install dotenv@16 into $dir failed" >&2; exit 1; }
fi
printf '%s\n' "$dir"
