#!/bin/sh
# corpus.sh DIR - writes the hard corpus for the export round trip: one file
# per value, the file name being the secret name.  Values are written with
# printf octal escapes so that every byte is explicit and no shell or
# editor can alter it.  Files already in DIR are overwritten, never removed:
# give a new or empty DIR.
# shellcheck disable=SC2016,SC2059,SC1003 # literal $, `, \ are the point
set -eu

[ $# -eq 1 ] || { echo "usage: corpus.sh DIR" >&2; exit 2; }
dir=$1
mkdir -p "$dir"

# v NAME FORMAT: the value is printf FORMAT, with no arguments.
v() { printf -- "$2" > "$dir/$1"; }

v EMPTY ''
v SPACES '  both ends  '
v TAB 'a\tb'
v EQUALS 'a=b==c='
v HASH_START '#not a comment'
v HASH_SPACE 'a #b'
v HASH_ONLY '#'
v DOLLAR_HOME '$HOME'
v DOLLAR_BRACE '${X}'
v DOLLAR_BRACE_DEFAULT '${HOME:-x}'
v DOLLAR_BRACE_OPEN 'a${b'
v DOLLAR_BRACE_COLON '${a:b}'
v DOLLAR_SQUOTE "\$'x'"
v CMD_SUBST '$(id)'
v BACKQUOTES '`id`'
v SQUOTE "it's"
v SQUOTE_ONLY "'"
v DQUOTE 'say "hi"'
v DQUOTE_ONLY '"'
v ALL_QUOTES "'\"\`"
v JSON_LIKE '{"a": [1, "\\u00e9"]}'
v BS_N 'a\\nb'
v BS_SQUOTE "a\\\\'b"
v BS_DQUOTE 'a\\"b'
v BS_END 'abc\\'
v BS_ONLY '\\'
v BS_DOUBLE 'a\\\\b'
v BS_NEWLINE 'a\\\nb'
v BS_CR 'a\\\rb'
v BS_T_SQUOTE "it's \\\\t"
v SQUOTE_WINPATH "it's C:\\\\dir\\\\x"
v NEWLINES 'line1\nline2\n'
v ONLY_NEWLINE '\n'
v LEADING_NEWLINE '\nfoo'
v CRLF 'a\r\nb\r\n'
v CR 'a\rb'
v CR_DQUOTE 'a\r"b'
v CR_SQUOTE "a\\r'b"
v INJECT_SQ "x'\nB='y"
v INJECT_DQ 'x"\nB="y'
v EXPORT_LIKE 'export B=1'
v UTF8 'h\303\251llo \360\237\224\221 \346\227\245\346\234\254'
v UNICODE_SEPS 'a\302\205b\342\200\250c\342\200\251d\357\273\277e\357\277\277f\177g\001h\302\240i'
v INVALID_UTF8 '\377\376 abc \300\257'
v SURROGATE 'x\355\240\200y'
v NUL 'a\000b'
v on 'off'
v null 'null'
v PEM '-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAq7BFUpkGp3+LQmlQ\nYx2eqzDV+xeG8kx/sQFV18S5JhzGeIJNA72wSeukEPojtqUyX2J0CciPBh7eqclQ\n-----END PRIVATE KEY-----\n'

# 64 KiB on one line: more than docker reads per --env-file line.
yes 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/' |
	tr -d '\n' | head -c 65536 > "$dir/BIG" || true
[ "$(wc -c < "$dir/BIG")" -eq 65536 ]

# The longest line docker reads: NAME=value is 65535 bytes before the LF.
yes 'abcdefghijklmnopqrstuvwxyz' | tr -d '\n' |
	head -c $((65535 - 11)) > "$dir/DOCKER_MAX" || true
[ "$(wc -c < "$dir/DOCKER_MAX")" -eq 65524 ]
