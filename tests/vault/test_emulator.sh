#!/usr/bin/env bash
# Exercise tests/vault/emulator.py with curl + jq; prints TAP (plan at the end).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
EMU="$HERE/emulator.py"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vault-emu-test.XXXXXX")
EMU_PIDS=()

cleanup() {
    local p
    for p in "${EMU_PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${EMU_PIDS[@]}"; do
        wait "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in curl jq; do
    command -v "$tool" >/dev/null || { echo "Bail out! $tool not installed"; exit 1; }
done

N=0
FAILED=0
ok() {   # ok DESC CMD...
    local desc=$1; shift
    N=$((N + 1))
    if "$@"; then
        echo "ok $N - $desc"
    else
        echo "not ok $N - $desc"
        FAILED=$((FAILED + 1))
        if [ -s "$TMP/body" ]; then
            echo "#   status=$CODE body: $(head -c 400 "$TMP/body")"
        else
            echo "#   status=$CODE"
        fi
    fi
}

# start_emu NAME ARGS... -> sets PORT and EPID
start_emu() {
    local name=$1; shift
    local pf="$TMP/$name.port"
    "$PY" "$EMU" --port-file "$pf" "$@" 2>>"$TMP/$name.stderr" &
    EPID=$!
    EMU_PIDS+=("$EPID")
    local i
    for i in $(seq 1 200); do
        [ -s "$pf" ] && break
        sleep 0.025
    done
    PORT=$(tr -d "\n" <"$pf" 2>/dev/null)
}

TOK=root-token
CODE=
# api METHOD PATH [BODY [EXTRA CURL ARGS...]]  -> CODE, $TMP/body, $TMP/hdr
api() {
    local m=$1 p=$2; shift 2
    local args=(-s -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}' -X "$m")
    [ -n "$TOK" ] && args+=(-H "X-Vault-Token: $TOK")
    args+=(-H "X-Vault-Request: true")
    if [ $# -gt 0 ]; then
        args+=(-H "Content-Type: ${CT:-application/json}" --data-binary "$1")
        shift
    fi
    : >"$TMP/body"
    CODE=$(curl "${args[@]}" "$@" "$V/$p")
}
ctl() {   # ctl METHOD NAME [BODY]
    local m=$1 n=$2; shift 2
    local args=(-s -o "$TMP/ctl" -w '%{http_code}' -X "$m")
    [ $# -gt 0 ] && args+=(-H 'Content-Type: application/json' --data-binary "$1")
    curl "${args[@]}" "$E/$n"
}
J()    { jq -e "$1" "$TMP/body" >/dev/null 2>&1; }
is()   { [ "$CODE" = "$1" ]; }
isj()  { [ "$CODE" = "$1" ] && J "$2"; }
empty404() { [ "$CODE" = 404 ] && [ "$(jq -c . "$TMP/body" 2>/dev/null)" = '{"errors":[]}' ]; }
hdr()  { tr -d '\r' <"$TMP/hdr" | grep -qi "^$1"; }
stat() { curl -s "$E/stats" | jq -r ".$1"; }

RFC3339NS='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$'

# ---------------------------------------------------------------- start
start_emu main --listen 127.0.0.1:0 --token "$TOK" --token other-token \
    --approle role-1:secret-1 --log "$TMP/req.log"
MAIN_PID=$EPID
V="http://127.0.0.1:$PORT/v1"
E="http://127.0.0.1:$PORT/_emulator"
ok "port file holds a port number" test -n "$PORT" -a "$PORT" -gt 0 2>/dev/null

# ---------------------------------------------------------------- health / auth
TOK='' api GET sys/health
ok "sys/health without token: 200 active" isj 200 '.initialized == true and .sealed == false and .standby == false and .performance_standby == false and (.version|type=="string") and (.cluster_name|type=="string") and (.cluster_id|type=="string") and (.server_time_utc|type=="number")'
CODE=$(curl -s -I -o /dev/null -w '%{http_code}' "$V/sys/health")
ok "HEAD sys/health: 200" is 200

TOK='' api GET secret/data/app/db
ok "no token: 403 permission denied" isj 403 '.errors == ["permission denied"]'
TOK=bogus api GET secret/data/app/db
ok "wrong token: 403" isj 403 '.errors == ["permission denied"]'
TOK='' api POST secret/data/app/db '{"data":{"user":"u","pass":"p1"}}' -H "Authorization: Bearer root-token"
ok "Authorization: Bearer accepted; first write is version 1" isj 200 '.data.version == 1'

# ---------------------------------------------------------------- write / read / cas
ok "write envelope has request_id, lease_id, renewable, lease_duration, wrap_info, warnings, auth" \
    J '(.request_id|length) > 0 and .lease_id == "" and .renewable == false and .lease_duration == 0 and .wrap_info == null and .warnings == null and .auth == null and .data.deletion_time == "" and .data.destroyed == false'
ct=$(jq -r .data.created_time "$TMP/body")
ok "created_time is RFC3339 with nanoseconds ($ct)" bash -c "[[ '$ct' =~ $RFC3339NS ]]"

api GET secret/data/app/db
ok "read latest" isj 200 '.data.data == {"user":"u","pass":"p1"} and .data.metadata.version == 1 and .data.metadata.deletion_time == "" and .data.metadata.destroyed == false and .data.metadata.custom_metadata == null'

api POST secret/data/app/db '{"options":{"cas":0},"data":{"user":"u","pass":"x"}}'
ok "cas=0 on existing key: 400 mismatch" isj 400 '.errors == ["check-and-set parameter did not match the current version"]'
api PUT secret/data/app/db '{"options":{"cas":1},"data":{"user":"u","pass":"p2"}}'
ok "cas=1 == current (PUT): version 2" isj 200 '.data.version == 2'
api POST secret/data/app/db '{"options":{"cas":1},"data":{"user":"u","pass":"p3"}}'
ok "stale cas=1: 400 (not 412)" isj 400 '.errors == ["check-and-set parameter did not match the current version"]'
api POST secret/data/app/api '{"options":{"cas":0},"data":{"k":"v"}}'
ok "cas=0 on new key: version 1" isj 200 '.data.version == 1'
api POST secret/data/app/db '{"options":{}}'
ok "no data: 400 no data provided" isj 400 '.errors == ["no data provided"]'
api POST secret/data/app/db '{"data": {'
ok "bad JSON: 400 failed to parse JSON input" isj 400 '(.errors|length) == 1 and (.errors[0]|startswith("failed to parse JSON input: "))'

api GET 'secret/data/app/db?version=1'
ok "read ?version=1" isj 200 '.data.data.pass == "p1" and .data.metadata.version == 1'
api GET 'secret/data/app/db?version=0'
ok "read ?version=0 means latest" isj 200 '.data.data.pass == "p2" and .data.metadata.version == 2'
api GET 'secret/data/app/db?version=99'
ok "never-existed version: 404 {\"errors\":[]}" empty404
api GET secret/data/nope/never
ok "never-existed key: 404 {\"errors\":[]}" empty404

api POST secret/metadata/app/db '{"cas_required":true}'
ok "metadata write cas_required: 204" is 204
api POST secret/data/app/db '{"data":{"user":"u","pass":"p3"}}'
ok "cas_required without cas: 400" isj 400 '.errors == ["check-and-set parameter required for this call"]'
api POST secret/data/app/db '{"options":{"cas":2},"data":{"user":"u","pass":"p3"}}'
ok "cas_required with cas: version 3" isj 200 '.data.version == 3'
api POST secret/metadata/app/db '{"cas_required":false}'

# ---------------------------------------------------------------- patch
CT=application/merge-patch+json api PATCH secret/data/app/db '{"data":{"pass":null,"port":"5432"}}'
ok "PATCH merge-patch: version 4" isj 200 '.data.version == 4'
api GET secret/data/app/db
ok "PATCH result merged (null removes key)" isj 200 '.data.data == {"user":"u","port":"5432"}'
api PATCH secret/data/app/db '{"data":{"a":"b"}}'
ok "PATCH without merge-patch content type: 415" is 415
CT=application/merge-patch+json api PATCH secret/data/app/missing '{"data":{"a":"b"}}'
ok "PATCH missing key: 404" is 404

# ---------------------------------------------------------------- delete / undelete / destroy
api DELETE secret/data/app/db
ok "DELETE data: 204 with Content-Length: 0" bash -c "[ $CODE = 204 ] && tr -d '\r' <'$TMP/hdr' | grep -qi '^Content-Length: 0$'"
api GET secret/data/app/db
ok "soft-deleted latest: 404 with body (data null, deletion_time set)" isj 404 '.data.data == null and .data.metadata.version == 4 and .data.metadata.deletion_time != "" and .data.metadata.destroyed == false'
api POST secret/data/app/db '{"options":{"cas":0},"data":{"x":"y"}}'
ok "soft-deleted key keeps its number: cas=0 fails" is 400
api POST secret/undelete/app/db '{"versions":[4]}'
ok "undelete: 204" is 204
api GET secret/data/app/db
ok "undeleted version readable" isj 200 '.data.metadata.version == 4 and .data.metadata.deletion_time == ""'
api POST secret/delete/app/db '{"versions":[1]}'
ok "delete versions [1]: 204" is 204
api GET 'secret/data/app/db?version=1'
ok "deleted version 1: 404 with metadata" isj 404 '.data.data == null and .data.metadata.version == 1 and .data.metadata.deletion_time != "" and .data.metadata.destroyed == false'
api PUT secret/destroy/app/db '{"versions":[2]}'
ok "destroy versions [2] (PUT): 204" is 204
api GET 'secret/data/app/db?version=2'
ok "destroyed-only version: 404, destroyed true, deletion_time \"\"" isj 404 '.data.data == null and .data.metadata.destroyed == true and .data.metadata.deletion_time == ""'
api POST secret/destroy/app/db '{"versions":[1]}'
api GET 'secret/data/app/db?version=1'
ok "deleted then destroyed: both shown" isj 404 '.data.metadata.destroyed == true and .data.metadata.deletion_time != ""'
api POST secret/delete/app/db '{}'
ok "delete without versions: 400" isj 400 '.errors == ["no version number provided"]'

# ---------------------------------------------------------------- metadata
api GET secret/metadata/app/db
ok "metadata read" isj 200 '.data.current_version == 4 and .data.oldest_version == 0 and .data.max_versions == 0 and .data.cas_required == false and .data.delete_version_after == "0s" and .data.custom_metadata == null and (.data.versions|keys) == ["1","2","3","4"] and .data.versions["2"].destroyed == true and .data.versions["2"].deletion_time == "" and .data.versions["3"].deletion_time == "" and .data.versions["3"].destroyed == false'
ct=$(jq -r .data.updated_time "$TMP/body")
ok "metadata updated_time RFC3339 ($ct)" bash -c "[[ '$ct' =~ $RFC3339NS ]]"
api POST secret/metadata/app/db '{"custom_metadata":{"owner":"ops"},"delete_version_after":"1h30m"}'
api GET secret/metadata/app/db
ok "metadata custom_metadata / delete_version_after" isj 200 '.data.custom_metadata == {"owner":"ops"} and .data.delete_version_after == "1h30m0s"'
api POST secret/metadata/app/db '{"delete_version_after":0}'

# ---------------------------------------------------------------- list
api POST secret/data/app/sub/x '{"data":{"a":"1"}}'
api POST secret/data/other '{"data":{"a":"1"}}'
api LIST secret/metadata/app/
ok "LIST one level, folders end in /" isj 200 '.data.keys == ["api","db","sub/"]'
api GET 'secret/metadata/app/?list=true'
ok "GET ?list=true same result" isj 200 '.data.keys == ["api","db","sub/"]'
api LIST secret/metadata/app
ok "LIST without trailing slash" isj 200 '.data.keys == ["api","db","sub/"]'
api LIST secret/metadata/
ok "LIST mount root" isj 200 '.data.keys == ["app/","other"]'
api LIST secret/metadata/nothing/here/
ok "LIST empty: 404 {\"errors\":[]}" empty404

# ---------------------------------------------------------------- pruning
api POST secret/metadata/p '{"max_versions":3}'
for i in 1 2 3 4 5; do api POST secret/data/p "{\"data\":{\"i\":\"$i\"}}"; done
api GET secret/metadata/p
ok "max_versions 3: versions 3..5 kept, oldest_version 3" isj 200 '.data.current_version == 5 and .data.oldest_version == 3 and (.data.versions|keys) == ["3","4","5"]'
api GET 'secret/data/p?version=1'
ok "pruned version: 404 {\"errors\":[]}" empty404
api GET 'secret/data/p?version=3'
ok "oldest kept version readable" isj 200 '.data.data.i == "3"'
for i in $(seq 1 12); do api POST secret/data/q "{\"data\":{\"i\":\"$i\"}}"; done
api GET secret/metadata/q
ok "max_versions 0 means 10" isj 200 '.data.current_version == 12 and .data.oldest_version == 3 and (.data.versions|length) == 10'
CODE=$(ctl POST config '{"max_versions":2}')
ok "control config max_versions: 204" is 204
for i in 1 2 3; do api POST secret/data/r "{\"data\":{\"i\":\"$i\"}}"; done
api GET secret/metadata/r
ok "mount max_versions 2 prunes" isj 200 '(.data.versions|keys) == ["2","3"] and .data.oldest_version == 2'
ctl POST config '{"max_versions":0}' >/dev/null

# ---------------------------------------------------------------- delete everything
api DELETE secret/metadata/app/db
ok "DELETE metadata: 204" is 204
api GET secret/data/app/db
ok "after metadata delete: 404 {\"errors\":[]}" empty404
api LIST secret/metadata/app/
ok "LIST no longer shows deleted key" isj 200 '.data.keys == ["api","sub/"]'

# ---------------------------------------------------------------- errors
api GET secret/delete/app/api
ok "unsupported method: 405 {\"errors\":[]}" bash -c "[ $CODE = 405 ] && [ \"\$(jq -c . '$TMP/body')\" = '{\"errors\":[]}' ]"
api GET nosuchmount/foo
ok "unknown route: 404 no handler for route" isj 404 '.errors[0] | startswith("no handler for route")'
head -c $((33 * 1024 * 1024)) /dev/zero | tr '\0' 'a' >"$TMP/big"
api POST secret/data/big "@$TMP/big"
ok "33 MiB body: 413" isj 413 '.errors|length == 1'
api POST secret/data/big "@$TMP/big" -H 'Expect:'
ok "33 MiB body without Expect: 413" is 413
rm -f "$TMP/big"

# ---------------------------------------------------------------- tokens / approle
api GET auth/token/lookup-self
ok "lookup-self" isj 200 '.data.id == "root-token" and (.data | has("accessor") and has("creation_time") and has("creation_ttl") and has("display_name") and has("expire_time") and has("policies") and has("renewable") and has("ttl"))'
api POST auth/token/renew-self '{"increment":"1h"}'
ok "renew-self returns auth" isj 200 '.auth.client_token == "root-token" and (.auth|has("lease_duration"))'
TOK='' api POST auth/approle/login '{"role_id":"role-1","secret_id":"secret-1"}'
ok "approle login" isj 200 '(.auth.client_token|startswith("hvs.")) and (.auth.accessor|length) > 0 and .auth.policies == ["default"] and .auth.token_policies == ["default"] and (.auth.metadata|type) == "object" and .auth.lease_duration > 0 and .auth.renewable == true'
ATOK=$(jq -r .auth.client_token "$TMP/body")
TOK=$ATOK api GET secret/data/app/api
ok "approle token authorises reads" isj 200 '.data.data.k == "v"'
TOK=$ATOK api GET auth/token/lookup-self
ok "approle token lookup-self: renewable, ttl > 0" isj 200 '.data.renewable == true and .data.ttl > 0 and .data.expire_time != null'
TOK='' api POST auth/approle/login '{"role_id":"role-1","secret_id":"wrong"}'
ok "approle bad secret: 400 invalid role or secret ID" isj 400 '.errors == ["invalid role or secret ID"]'

# ---------------------------------------------------------------- ACL policies
# pol NAME HCL: writes the policy (as root).
pol() { api PUT "sys/policies/acl/$1" "$(jq -n --arg p "$2" '{policy: $p}')"; }
# mint POLICY...: a token made with those policies -> CTOK.
mint() {
    api POST auth/token/create "$(jq -n '{policies: $ARGS.positional}' --args "$@")"
    CTOK=$(jq -r .auth.client_token "$TMP/body")
}
denied() { isj 403 '.errors == ["1 error occurred:\n\t* permission denied\n\n"]'; }

pol bad 'path "secret/data/x" { capabilities = ["read", "fly"] }'
ok "policy with an unknown capability: 400" isj 400 '.errors[0] | startswith("failed to parse policy: ") and contains("fly")'
pol bad 'path "secret/data/x" { capabilities = ["read" }'
ok "policy that is not HCL: 400" isj 400 '.errors[0] | startswith("failed to parse policy: ")'
pol bad 'path "secret/data/x" { verbs = ["read"] }'
ok "policy with an unknown key: 400" isj 400 '.errors[0] | contains("invalid key")'
api PUT sys/policies/acl/bad '{"policy": ""}'
ok "empty policy: 400" is 400
api GET sys/policies/acl/bad
ok "refused policies are not stored: 404" is 404

pol ro '# read one folder, list it, never app/db
path "secret/data/app/*" {
  capabilities = ["read"]
}
path "secret/metadata/app/*" { capabilities = ["list"] }
path "secret/data/app/db" { capabilities = ["deny"] }'
ok "policy written: 204" is 204
api GET sys/policies/acl/RO
ok "policy read back by its name in any case" isj 200 '.data.name == "ro" and (.data.policy | contains("never app/db"))'
api GET 'sys/policies/acl?list=true'
ok "policies listed with default and root" isj 200 '.data.keys == ["default", "ro", "root"]'
mint ro
ok "auth/token/create: the policies and default" isj 200 '(.auth.client_token|startswith("hvs.")) and .auth.policies == ["default", "ro"] and .auth.renewable == true'
RTOK=$CTOK
TOK=$RTOK api GET secret/data/app/api
ok "ro token: read under the glob" isj 200 '.data.data.k == "v"'
TOK=$RTOK api GET secret/data/app/db
ok "ro token: an exact deny beats the glob, 403 as Vault words it" denied
TOK=$RTOK api GET secret/data/other/x
ok "ro token: a path no rule names: 403" denied
TOK=$RTOK api GET secret/data/app
ok "ro token: the glob's folder name without its slash: 403" denied
TOK=$RTOK api POST secret/data/app/api '{"data":{"k":"w"}}'
ok "ro token: a write (update) is refused" denied
TOK=$RTOK api POST secret/data/app/brand-new '{"data":{"k":"w"}}'
ok "ro token: a write (create) is refused" denied
TOK=$RTOK api DELETE secret/data/app/api
ok "ro token: delete refused" denied
TOK=$RTOK api GET secret/metadata/app/api
ok "ro token: metadata read refused (list only)" denied
TOK=$RTOK api LIST secret/metadata/app
ok "ro token: LIST of the folder (trailing slash added)" isj 200 '.data.keys | index("api") != null'
TOK=$RTOK api GET 'secret/metadata/app/?list=true'
ok "ro token: ?list=true of the folder" is 200
TOK=$RTOK api GET 'secret/metadata/?list=true'
ok "ro token: LIST above the folder: 403" denied
TOK=$RTOK api GET auth/token/lookup-self
ok "ro token: lookup-self through the default policy" isj 200 '.data.policies == ["default", "ro"]'
api GET secret/data/app/api
ok "the root token is not bound by policies" is 200
TOK=$RTOK api POST auth/token/create '{"policies":["root"]}'
ok "ro token cannot mint a token beyond its policies" is 403
pol self 'path "auth/token/create" { capabilities = ["update"] }'
mint ro self
TOK=$CTOK api POST auth/token/create '{"policies":["root"]}'
ok "child policies must be a subset of the parent's" isj 400 '.errors == ["child policies must be subset of parent"]'
TOK=$CTOK api POST auth/token/create '{"policies":["ro"], "no_default_policy": true}'
ok "a subset is fine; no_default_policy leaves default out" isj 200 '.auth.policies == ["ro"]'

pol cr 'path "secret/data/+/new" { capabilities = ["create"] }'
mint cr
TOK=$CTOK api POST secret/data/team/new '{"data":{"a":"1"}}'
ok "create capability: a new key may be written (+ matches one segment)" isj 200 '.data.version == 1'
TOK=$CTOK api POST secret/data/team/new '{"data":{"a":"2"}}'
ok "create capability: writing it again is update: 403" denied
TOK=$CTOK api POST secret/data/a/b/new '{"data":{"a":"1"}}'
ok "+ does not match two segments" denied

pol prio 'path "secret/data/p/*" { capabilities = ["read"] }
path "secret/data/p/+/deep" { capabilities = ["deny"] }
path "secret/data/p/x/*" { capabilities = ["list"] }'
mint prio
TOK=$CTOK api GET secret/data/p/a/deep
ok "a + path whose wildcard comes as late as the glob wins over it" denied
TOK=$CTOK api GET secret/data/p/a/other
ok "the glob allows the rest (then 404: not there)" empty404
TOK=$CTOK api GET secret/data/p/x/y
ok "the longest prefix glob wins: list only, read refused" denied
api PUT sys/policies/acl/js '{"policy":"{\"path\":{\"secret/data/p/x/*\":{\"capabilities\":[\"read\"]}}}"}'
ok "a JSON policy is accepted" is 204
mint prio js
TOK=$CTOK api GET secret/data/p/x/y
ok "two policies on one path: capabilities merged" empty404
api DELETE sys/policies/acl/js
TOK=$CTOK api GET secret/data/p/x/y
ok "a deleted policy stops granting at once" denied
api DELETE sys/policies/acl/default
ok "the default policy cannot be deleted" is 400
TOK=$RTOK api PUT sys/policies/acl/ro '{"policy":"path \"*\" { capabilities = [\"sudo\"] }"}'
ok "a policy token cannot rewrite policies" denied

# ---------------------------------------------------------------- sealed
CODE=$(ctl POST seal '{"sealed":true}')
ok "control seal" is 200
TOK='' api GET sys/health
ok "sealed health: 503, sealed true" isj 503 '.sealed == true and .initialized == true'
TOK='' api GET 'sys/health?sealedcode=200'
ok "sealed health ?sealedcode=200" isj 200 '.sealed == true'
api GET secret/data/app/api
ok "sealed: read 503 Vault is sealed" isj 503 '.errors == ["Vault is sealed"]'
TOK='' api POST auth/approle/login '{"role_id":"role-1","secret_id":"secret-1"}'
ok "sealed: approle login 503" is 503
ctl POST seal '{"sealed":false}' >/dev/null
TOK='' api GET 'sys/health?standbyok=true'
ok "unsealed health 200 (standbyok)" isj 200 '.sealed == false'

# ---------------------------------------------------------------- faults
ctl POST fault '{"match":"^GET /v1/secret/data/app/api$","status":503,"retry_after":2,"errors":["overloaded"]}' >/dev/null
api GET secret/data/app/api
ok "fault status 503 with errors" isj 503 '.errors == ["overloaded"]'
ok "fault Retry-After header" hdr 'Retry-After: 2'
api GET secret/data/app/api
ok "fault consumed: next request normal" is 200
ctl POST fault '{"match":"secret/data/other","status":429,"count":2}' >/dev/null
api GET secret/data/other; c1=$CODE
api GET secret/data/app/api; c2=$CODE
api GET secret/data/other; c3=$CODE
api GET secret/data/other; c4=$CODE
ok "fault count 2 only hits matching requests ($c1 $c2 $c3 $c4)" test "$c1 $c2 $c3 $c4" = "429 200 429 200"
ctl POST fault '{"match":"app/api","status":500}' >/dev/null
ctl POST fault '{"match":"app/api","status":502}' >/dev/null
api GET secret/data/app/api; c1=$CODE
api GET secret/data/app/api; c2=$CODE
api GET secret/data/app/api; c3=$CODE
ok "faults consumed in registration order ($c1 $c2 $c3)" test "$c1 $c2 $c3" = "500 502 200"
ctl POST fault '{"match":"version=1","status":500}' >/dev/null
api GET 'secret/data/p?version=4'; c1=$CODE
api GET 'secret/data/q?version=1'; c2=$CODE
ok "fault regex sees the query string ($c1 $c2)" test "$c1 $c2" = "200 500"
ctl POST fault '{"match":"app/api","drop":true}' >/dev/null
curl -s -o /dev/null -H "X-Vault-Token: $TOK" "$V/secret/data/app/api"; rc=$?
ok "fault drop: connection closed without response (curl rc=$rc)" test "$rc" = 52
api GET secret/data/app/api
ok "after drop: normal" is 200
ctl POST fault '{"match":"app/api","delay_ms":600}' >/dev/null
t=$(curl -s -o "$TMP/body" -w '%{http_code} %{time_total}' -H "X-Vault-Token: $TOK" "$V/secret/data/app/api")
CODE=${t%% *}
ok "fault delay_ms 600 then normal answer ($t)" bash -c "[ ${t%% *} = 200 ] && awk 'BEGIN{exit !(${t##* } >= 0.55)}'"
ctl POST fault '{"match":"app/api","truncate":5}' >/dev/null
curl -s -o /dev/null -H "X-Vault-Token: $TOK" "$V/secret/data/app/api"; rc=$?
ok "fault truncate: answer cut short (curl rc=$rc)" test "$rc" = 18
CODE=$(ctl POST fault '{"match":"x","truncate":-1}')
ok "fault truncate -1: 400" is 400
ctl POST config '{"chunked":true}' >/dev/null
curl -s -D "$TMP/hdr" -o "$TMP/body" -H "X-Vault-Token: $TOK" "$V/secret/data/app/api"
ok "chunked: Transfer-Encoding chunked, no Content-Length, body whole" \
    bash -c "grep -qi '^Transfer-Encoding: chunked' '$TMP/hdr' && ! grep -qi '^Content-Length' '$TMP/hdr' && jq -e '.data.metadata.version >= 1' '$TMP/body' >/dev/null"
ctl POST fault '{"match":"app/api","truncate":30}' >/dev/null
curl -s -o /dev/null -H "X-Vault-Token: $TOK" "$V/secret/data/app/api"; rc=$?
ok "chunked + truncate: curl sees the cut (rc=$rc)" test "$rc" = 18
ctl POST config '{"chunked":false}' >/dev/null

# ---------------------------------------------------------------- stats / reset
CODE=$(ctl POST reset)
ok "reset: 204" is 204
ok "reset zeroes counters" test "$(stat requests) $(stat connections)" = "0 0"
api GET secret/data/app/api
ok "reset clears data" empty404
TOK=$RTOK api GET auth/token/lookup-self
ok "reset drops the tokens made by auth/token/create" isj 403 '.errors == ["permission denied"]'
api GET sys/policies/acl/ro
ok "reset drops the policies written" is 404
api GET sys/policies/acl/default
ok "reset keeps the default policy" isj 200 '.data.policy | contains("lookup-self")'
curl -s -o "$TMP/body" "$E/written"
ok "written: values written before the reset are still listed" \
    J '[.written[] | select(.key == "app/api")] | length >= 1'
ctl POST reset >/dev/null
curl -s -o /dev/null -o /dev/null -H "X-Vault-Token: $TOK" "$V/sys/health" "$V/secret/data/app/api"
ok "two URLs in one curl: connections == 1, requests == 2" test "$(stat connections) $(stat requests)" = "1 2"
curl -s -o /dev/null -o /dev/null -X DELETE -H "X-Vault-Token: $TOK" "$V/secret/data/a" "$V/secret/data/b"
ok "204 responses keep the connection alive: connections == 2" test "$(stat connections) $(stat requests)" = "2 4"
ctl POST reset >/dev/null
ctl POST fault '{"match":"sys/health","delay_ms":700,"count":2}' >/dev/null
curl -s -o /dev/null "$V/sys/health" & b1=$!
curl -s -o /dev/null "$V/sys/health" & b2=$!
wait $b1 $b2
for i in $(seq 1 40); do [ "$(stat open_connections)" = 0 ] && break; sleep 0.025; done
ok "max_open_connections == 2 for two concurrent clients, open back to 0" \
    test "$(stat max_open_connections) $(stat open_connections) $(stat connections)" = "2 0 2"
curl -s "$E/requests" -o "$TMP/body"
ok "request log records method/path/status/headers" J '(.requests|length) == 2 and .requests[0].method == "GET" and .requests[0].status == 200 and (.requests[0].headers|type) == "object"'
ok "--log lines have method, path, status and no bodies" bash -c "grep -q 'POST /v1/secret/data/app/db 200' '$TMP/req.log' && ! grep -q 'p1' '$TMP/req.log'"

# ---------------------------------------------------------------- TLS + --sealed + unix socket
if command -v openssl >/dev/null && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
        -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 1 -subj /CN=localhost \
        -addext subjectAltName=IP:127.0.0.1,DNS:localhost >/dev/null 2>&1; then
    start_emu tls --listen 127.0.0.1:0 --token "$TOK" --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" --sealed
    CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' --cacert "$TMP/cert.pem" "https://127.0.0.1:$PORT/v1/sys/health")
    ok "TLS + --sealed: health 503 over https" isj 503 '.sealed == true'
    curl -s -o /dev/null --tls-max 1.1 --cacert "$TMP/cert.pem" "https://127.0.0.1:$PORT/v1/sys/health"; rc=$?
    ok "TLS < 1.2 refused (curl rc=$rc)" test "$rc" != 0
else
    N=$((N + 1)); echo "ok $N - # SKIP openssl unavailable"
    N=$((N + 1)); echo "ok $N - # SKIP openssl unavailable"
fi
start_emu unix --listen "unix:$TMP/vault.sock" --token "$TOK"
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' --unix-socket "$TMP/vault.sock" -H "X-Vault-Token: $TOK" \
    -d '{"data":{"a":"1"}}' http://localhost/v1/secret/data/u)
ok "unix socket listener" isj 200 '.data.version == 1'

# ---------------------------------------------------------------- headers
# The emulator's own parser of a request's head must give what the email
# package gives (http.server's parser), for the heads it takes and the ones
# it passes on.
heads_same() {
    "$PY" - "$(dirname "$EMU")" <<'PYEOF'
import email.parser, http.client, io, sys
sys.path.insert(0, sys.argv[1])
import emulator
heads = [
    b"Host: x\r\nX-Vault-Token: t\r\nContent-Length: 0\r\n\r\n",
    b"Host: x\nA:\tb c \nA: second\nEmpty:\nColon: a:b: c\n\n",
    b"host: x\r\nCONTENT-type:  application/json; x=1\r\n\r\n",
    b"Host: x\r\nX-Vault-Token: t\r\n  folded\r\n\r\n",
    b"Host: x\r\nBad Name: v\r\n\r\n",
    b"Host: x\r\nA: b\rc\r\n\r\n",
    b"Host: x\r\nA: b\r\n",
    b"\r\n",
]
bad = 0
for h in heads:
    want = email.parser.Parser(_class=http.client.HTTPMessage).parsestr(
        h.decode("iso-8859-1"))
    got = emulator._parse_headers(io.BytesIO(h))
    if (got.items() != want.items() or got.get_payload() != want.get_payload()
            or [got.get(k) for k in ("host", "a", "x-vault-token")] !=
            [want.get(k) for k in ("host", "a", "x-vault-token")]):
        print("# differs: %r" % h)
        bad += 1
sys.exit(bad)
PYEOF
}
ok "request heads parsed as the email package parses them" heads_same

# ---------------------------------------------------------------- shutdown
kill -TERM "$MAIN_PID"
rc=124
for i in $(seq 1 60); do
    if ! kill -0 "$MAIN_PID" 2>/dev/null; then wait "$MAIN_PID"; rc=$?; break; fi
    sleep 0.05
done
ok "SIGTERM: clean exit (rc=$rc)" test "$rc" = 0
ok "no stderr output from emulator" test ! -s "$TMP/main.stderr"

echo "1..$N"
[ "$FAILED" -eq 0 ]
