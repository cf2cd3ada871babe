#!/usr/bin/env bash
# make demo: the main job, on the built-in local value store, with each
# command shown before it runs.  A private MariaDB runs in a temporary
# directory and is stopped at the end, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
DIR=$(mktemp -d /tmp/vaultctl-demo.XXXXXX)
export PATH="$REPO/bin:$PATH" VAULTCTL_CONFIG=$DIR/vaultctl.cnf
trap 'tests/harness/mariadb.sh stop "$DIR" >/dev/null 2>&1; rm -rf "$DIR"' EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "$*"; "$@"; }
# Commands that read a value from standard input are shown with it.
feed() { local v=$1; shift; step "printf %s '$v' | $*"; printf %s "$v" | "$@"; }

echo "starting a private MariaDB in $DIR ..."
tests/harness/mariadb.sh start "$DIR"
run sql/install.sh --defaults-file "$DIR/admin.cnf" --backend local --config-out "$VAULTCTL_CONFIG"

run vaultctl-org user add admin@example.com --first-name Ada --no-password
export VAULTCTL_USER=admin@example.com
step "export VAULTCTL_USER=admin@example.com"
run vaultctl-plan create free --price 0 --cycle monthly --secrets-limit 3 --description "Free plan"
run vaultctl-org create acme --description "ACME Corp"
run vaultctl-org project create acme/api
run vaultctl-org env create acme/api/prod
run vaultctl-org env create acme/api/staging
feed 'postgres://db.internal/app' vaultctl-secret set acme/api/prod/DB_URL --reason "first deploy"
feed "it's \$ecret" vaultctl-secret set acme/api/prod/API_KEY
feed 'postgres://db.staging/app' vaultctl-secret set acme/api/staging/DB_URL
run vaultctl-secret list acme/api/prod
run vaultctl-secret get acme/api/prod/API_KEY; echo
run vaultctl-secret export acme/api/prod
step 'eval "$(vaultctl-secret export acme/api/prod)"; printf "%s\n" "$API_KEY"'
( eval "$(vaultctl-secret export acme/api/prod)"; printf '%s\n' "$API_KEY" )
run vaultctl-secret run acme/api/prod -- sh -c 'echo "DB_URL is ${#DB_URL} bytes long"'
step vaultctl-secret diff acme/api/prod acme/api/staging
vaultctl-secret diff acme/api/prod acme/api/staging || echo "(exit $?: the environments differ)"
step "printf x | vaultctl-secret set acme/api/staging/EXTRA   # the plan allows 3"
printf x | vaultctl-secret set acme/api/staging/EXTRA || echo "(exit $?: quota exceeded)"
run vaultctl-plan usage acme
run vaultctl-audit log --org acme --limit 10
run vaultctl-audit stats recompute -v
run vaultctl-audit stats show
run vaultctl-audit verify
echo
echo "demo done; the database in $DIR is stopped and removed."
