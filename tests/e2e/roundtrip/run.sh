#!/bin/sh
# run.sh [FORMAT...] - writes the hard corpus and runs check.sh for each
# export format (default: all six).  The exports are left in
# ${VC_ROUNDTRIP_OUT:-a temporary directory} for inspection.  Exit 0 only
# if every format passes.  See check.sh for the environment it reads
# (VC_NODE_DOTENV must point at an npm install of dotenv 16).
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${VC_ROUNDTRIP_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/vc-roundtrip-out.XXXXXX")}
mkdir -p "$out/corpus"
"$here/corpus.sh" "$out/corpus" || exit 1
[ $# -gt 0 ] || set -- sh dotenv json yaml docker env0
status=0
for fmt do
	echo "# ---- $fmt"
	"$here/check.sh" "$fmt" "$out/corpus" "$out/export.$fmt" || status=1
done
echo "# exports in $out"
exit $status
