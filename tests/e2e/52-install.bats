#!/usr/bin/env bats
# make install honours PREFIX, DESTDIR, BINDIR and MANDIR.

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

@test "make install puts binaries, man pages and completions under DESTDIR/PREFIX" {
	local d
	d=$(mktemp -d)
	make -C "$REPO" -s install DESTDIR="$d" PREFIX=/opt/vc GROUP=
	for t in vaultctl vaultctl-org vaultctl-secret vaultctl-plan vaultctl-audit; do
		[ -x "$d/opt/vc/bin/$t" ]
		[ -f "$d/opt/vc/share/bash-completion/completions/$t" ]
	done
	[ -f "$d/opt/vc/share/man/man1/vaultctl-secret.1" ]
	[ -f "$d/opt/vc/share/man/man5/vaultctl.conf.5" ]
	[ -f "$d/opt/vc/share/man/man7/vaultctl.7" ]
	[ -f "$d/opt/vc/share/zsh/vendor-completions/_vaultctl" ]
	[ -f "$d/opt/vc/share/fish/vendor_completions.d/vaultctl.fish" ]
	"$d/opt/vc/bin/vaultctl-org" --version | grep -q '^vaultctl-org '
	rm -rf "$d"
}

@test "make install honours BINDIR and MANDIR" {
	local d
	d=$(mktemp -d)
	make -C "$REPO" -s install DESTDIR="$d" BINDIR=/b MANDIR=/m GROUP=
	[ -x "$d/b/vaultctl-secret" ]
	[ -f "$d/m/man1/vaultctl-org.1" ]
	rm -rf "$d"
}
