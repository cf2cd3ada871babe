#!/bin/sh
# Installs the Debian packages that the build and the tests need, when any
# is missing.  As root it runs apt-get; otherwise it prints the command.
PKGS="build-essential clang pkg-config libmariadb-dev libcurl4-openssl-dev
libcjson-dev libsodium-dev libreadline-dev libcmocka-dev mariadb-server
mariadb-client bats mandoc jq curl python3 python3-dotenv python3-yaml zsh
busybox dash wrk hyperfine fish bc galera-4 rsync libclang-rt-14-dev"
# The image ships Node.js and npm outside Debian; take Debian's only
# where there is none (the two conflict).
command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
# The docker client (the export round trip has it parse --env-file against
# a fake daemon): Debian's where the machine has none of its own.
command -v docker >/dev/null 2>&1 || PKGS="$PKGS docker.io"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "missing packages:$missing" >&2
	echo "run: sudo apt-get update && sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null
