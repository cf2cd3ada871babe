#!/usr/bin/python3
"""HashiCorp Vault HTTP emulator for vaultctl tests (Python standard library only).

Implements the subset of the Vault HTTP API that vaultctl uses, as a real
Vault answers it (doc/architecture.md, section 6): KV v2 (data, delete,
undelete, destroy, metadata, config), token lookup-self / renew-self /
revoke-self, AppRole login, sys/health, sys/seal-status,
sys/internal/ui/mounts, plus a control API under /_emulator/ (fault
injection, stats, reset, seal, config, request log, dump).

ACL policies: sys/policies/acl/NAME (PUT/POST {"policy": HCL or JSON}, GET,
DELETE, LIST) and auth/token/create {"policies": [...], "ttl",
"no_default_policy"}.  A token made there is checked against its policies
as Vault checks one (exact path, "*" prefix glob, "+" segment wildcard,
most specific rule first; create/update by existence on KV v2 data/ and
metadata/; deny wins) and refused with 403 {"errors": ["1 error
occurred:\n\t* permission denied\n\n"]}.  The --token tokens are root; AppRole
logins are not checked either (their roles carry no policies here).

Usage:
  /usr/bin/python3 tests/vault/emulator.py --listen 127.0.0.1:0 --port-file FILE
      [--token TOKEN ...] [--approle ROLE_ID:SECRET_ID] [--approle-mount approle]
      [--mount secret] [--tls-cert F --tls-key F] [--sealed] [--log FILE]

--listen also accepts unix:/path/to/socket (the port file then receives the
socket path).  The port file is written atomically once the socket listens.

Control API (no token, never counted as Vault requests or client connections):
  POST   /_emulator/fault    {"match": regex, "count": 1, "status": S,
                              "retry_after": secs, "errors": [...],
                              "headers": {...}, "body": <json>,
                              "drop": true, "delay_ms": D,
                              "truncate": N, "raw": TEXT}  -> {"id": n}
         The regex is searched in "METHOD /v1/path?query" (raw request target).
         Faults are consumed in registration order by matching requests.
         delay_ms alone: sleep then handle normally.  drop: close the socket
         with no response.  status: answer with that status and
         {"errors": errors or []} (or "body" verbatim), plus Retry-After.
         truncate: handle normally, but send only the head and the first N
         bytes of the body, then close (a connection lost mid-answer).
         raw: send TEXT (each character one byte, latin-1) as the whole
         answer, then close: a malformed answer no handler would write.
  GET    /_emulator/faults   pending faults
  DELETE /_emulator/faults   clear pending faults
  GET    /_emulator/stats    {"requests", "connections", "open_connections",
                              "max_open_connections", "faults_pending"}
         A connection is counted once it carries a /v1 request (or when it
         closes without carrying any request, e.g. a failed TLS handshake).
         Connections whose first request targets /_emulator/ are control
         connections and are never counted.
  POST   /_emulator/reset    clear data, faults, counters, request log; restore
                             startup seal state, KV config and token set.
  POST   /_emulator/seal     {"sealed": bool}
  POST   /_emulator/config   {"max_versions", "cas_required",
                              "delete_version_after", "tokens": [..],
                              "chunked": bool}
                             (mount config of every KV mount; tokens are added;
                             chunked: answer bodies with Transfer-Encoding:
                             chunked in 2 KiB chunks, as Go's net/http does
                             for a body it cannot size in advance)
  GET    /_emulator/requests recent /v1 requests: method, path, status,
                             connection id, request headers (never bodies)
  GET    /_emulator/dump     every KV key with its versions and data
  GET    /_emulator/written  {"written": [{"mount", "key", "version", "data"}]}:
                             every data object ever written since start, also
                             those deleted, destroyed, pruned or reset away
                             (for the tests' secret-hygiene scan)
"""

import argparse
import copy
import email.parser
import email.utils
import http
import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import socketserver
import ssl
import string
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

MAX_BODY = 32 * 1024 * 1024          # Vault's default max_request_size
DRAIN_LIMIT = 256 * 1024 * 1024      # drain oversized bodies up to this much
DEFAULT_MAX_VERSIONS = 10
VAULT_VERSION = "1.15.6"
APPROLE_TTL = 2764800                # 768h, Vault's default max lease
REQUEST_LOG_CAP = 10000


# --------------------------------------------------------------------------
# helpers

# http.server parses every request's headers with the email package, which
# was a third of the emulator's time a request.  The usual head, lines of
# "Name: value" and nothing else, is parsed here into the same message
# (name and value exactly as email's compat32 policy stores them); any
# other head (folded lines, a stray CR, a name email would not take for a
# header, no blank line) still goes through email, so nothing a test may
# send is read differently.
_HEADER_LINE = re.compile(rb"([\x21-\x39\x3b-\x7e]+):([^\r\n]*)\r?\n\Z")


class _IndexedMessage(http.client.HTTPMessage):
    """The message of a usual head: get() looks a name up in a dict of the
    lowered names (the first of each, as email returns), where email
    lowers every header's name on every call, five calls a request.  The
    values are latin-1 text, so compat32 would return them unchanged.  A
    change of the headers drops the index and email answers again."""
    _index = None

    def get(self, name, failobj=None):
        if self._index is None:
            return super().get(name, failobj)
        return self._index.get(name.lower(), failobj)

    def __getitem__(self, name):
        return self.get(name)

    def __contains__(self, name):
        if self._index is None:
            return super().__contains__(name)
        return name.lower() in self._index

    def pairs(self):
        """The (name, value) pairs, as items() gives them: when indexed,
        as received (compat32 would return them unchanged)."""
        return list(self._headers) if self._index is not None else self.items()

    def _changed(self):
        self._index = None

    def __setitem__(self, name, val):
        self._changed()
        super().__setitem__(name, val)

    def __delitem__(self, name):
        self._changed()
        super().__delitem__(name)

    def set_raw(self, name, value):
        self._changed()
        super().set_raw(name, value)

    def replace_header(self, name, value):
        self._changed()
        super().replace_header(name, value)


def _parse_headers(fp, _class=_IndexedMessage):
    lines = http.client._read_headers(fp)
    pairs = []
    for line in lines[:-1]:
        m = _HEADER_LINE.match(line)
        if m is None:
            break
        pairs.append((m.group(1).decode("latin-1"),
                      m.group(2).decode("latin-1").lstrip(" \t")))
    if len(pairs) != len(lines) - 1 or lines[-1] not in (b"\r\n", b"\n"):
        hstring = b"".join(lines).decode("iso-8859-1")
        return email.parser.Parser(_class=_class).parsestr(hstring)
    msg = _class()
    index = {}
    for name, value in pairs:
        msg.set_raw(name, value)
        index.setdefault(name.lower(), value)
    msg.set_payload("")     # what email leaves after the blank line
    msg._index = index
    return msg


if hasattr(http.client, "_read_headers"):
    http.client.parse_headers = _parse_headers


def json_copy(obj):
    """A deep copy of JSON data (dicts, lists, scalars), without
    copy.deepcopy's bookkeeping: a token's record and a version's data are
    copied on every request."""
    if isinstance(obj, dict):
        return {k: json_copy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [json_copy(v) for v in obj]
    return obj


def now_ns():
    return time.time_ns()


def rfc3339(ns):
    """Go time.RFC3339Nano in UTC: trailing zeros of the fraction trimmed."""
    if ns is None:
        return ""
    sec, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
    if frac:
        base += "." + ("%09d" % frac).rstrip("0")
    return base + "Z"


def go_duration(seconds):
    """Go time.Duration.String() for a whole number of seconds."""
    seconds = int(seconds)
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    if h:
        return "%s%dh%dm%ds" % (sign, h, m, s)
    if m:
        return "%s%dm%ds" % (sign, m, s)
    return "%s%ds" % (sign, s)


_DUR_RE = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)")
_DUR_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1,
              "m": 60, "h": 3600, "d": 86400}


def parse_duration(v):
    """Vault parseutil.ParseDurationSecond: int seconds or Go duration string."""
    if v is None or v == "":
        return 0
    if isinstance(v, bool):
        raise ValueError("invalid duration")
    if isinstance(v, (int, float)):
        return int(v)
    if isinstance(v, str):
        s = v.strip()
        neg = s.startswith("-")
        if neg:
            s = s[1:]
        if re.fullmatch(r"\d+", s):
            total = int(s)
        else:
            pos = 0
            total = 0.0
            for mt in _DUR_RE.finditer(s):
                if mt.start() != pos:
                    raise ValueError("invalid duration %r" % v)
                total += float(mt.group(1)) * _DUR_UNITS[mt.group(2)]
                pos = mt.end()
            if pos != len(s) or pos == 0:
                raise ValueError("invalid duration %r" % v)
            total = int(total)
        return -total if neg else total
    raise ValueError("invalid duration")


def parse_bool(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, str):
        s = v.strip().lower()
        if s in ("1", "t", "true", "y", "yes", "on"):
            return True
        if s in ("0", "f", "false", "n", "no", "off", ""):
            return False
    raise ValueError("cannot parse %r as bool" % (v,))


def parse_int(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v)
    if isinstance(v, str):
        return int(v.strip() or "0")
    raise ValueError("cannot parse %r as int" % (v,))


def parse_versions(raw):
    """framework.TypeCommaIntSlice: [1,2], ["1","2"], "1,2", 3."""
    if raw is None:
        return []
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return [int(raw)]
    if isinstance(raw, str):
        return [int(x) for x in raw.split(",") if x.strip()]
    if isinstance(raw, list):
        out = []
        for x in raw:
            if isinstance(x, str):
                out.extend(int(y) for y in x.split(",") if y.strip())
            else:
                out.append(parse_int(x))
        return out
    raise ValueError("invalid versions")


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


_B62 = string.ascii_letters + string.digits


def rand_id(n=24):
    return "".join(secrets.choice(_B62) for _ in range(n))


_random = random.Random(os.urandom(32))


def request_id():
    """A version 4 UUID as uuid.uuid4() gives, from a seeded generator:
    os.urandom for each answer showed in the emulator's time, and a
    request id is no secret."""
    n = _random.getrandbits(128)
    n = (n & ~(0xF000 << 64) & ~(0xC000 << 48)) | (4 << 76) | (0x8000 << 48)
    h = "%032x" % n
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


_PHRASES = {st.value: st.phrase for st in http.HTTPStatus}
_date = (0, "")


def http_date():
    """The Date header's value, made once a second."""
    global _date
    now = int(time.time())
    when, text = _date
    if when != now:
        text = email.utils.formatdate(now, usegmt=True)
        _date = (now, text)
    return text


def split_target(target):
    """(path unquoted, query) of a request target.  A plain path (no
    query, fragment, escape, or anything urlsplit would strip or take for
    a scheme or host) is its own path: most requests are such."""
    if (target.startswith("/") and not target.startswith("//")
            and not any(c in target for c in "?#%\t\r\n")):
        return target, {}
    parts = urlsplit(target)
    return unquote(parts.path), parse_qs(parts.query, keep_blank_values=True)


def log_view(entry):
    """A request log entry as /_emulator/requests shows it: the headers
    by lowered name (the last of a name wins), the time as RFC 3339."""
    return {"method": entry["method"], "path": entry["path"],
            "status": entry["status"], "connection": entry["connection"],
            "headers": {k.lower(): v for k, v in entry["pairs"]},
            "time": rfc3339(entry["ns"])}


def envelope(data=None, auth=None, warnings=None, mount_type=None):
    env = {
        "request_id": request_id(),
        "lease_id": "",
        "renewable": False,
        "lease_duration": 0,
        "data": data,
        "wrap_info": None,
        "warnings": warnings,
        "auth": auth,
    }
    if mount_type:
        env["mount_type"] = mount_type
    return env


def errors(*msgs):
    return {"errors": list(msgs)}


class HandshakeFailed(Exception):
    """TLS handshake failed; the connection was already counted and closed."""


class HTTPError(Exception):
    def __init__(self, status, body=None, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body if body is not None else errors()
        self.headers = headers or {}


# --------------------------------------------------------------------------
# ACL policies: Vault's policy syntax (HCL or JSON: path "P" { capabilities
# = [...] }) and its matching rules (vault/policy.go, vault/acl.go), as far
# as a KV v2 client meets them.

CAPABILITIES = ("create", "read", "update", "delete", "list", "patch", "sudo",
                "deny", "subscribe", "recover")
# The pre-0.9 "policy = ..." shorthand.
OLD_POLICY = {"deny": {"deny"}, "read": {"read", "list"},
              "write": {"create", "read", "update", "delete", "list"},
              "sudo": {"create", "read", "update", "delete", "list", "sudo"}}
PATH_KEYS = ("capabilities", "policy", "allowed_parameters", "denied_parameters",
             "required_parameters", "min_wrapping_ttl", "max_wrapping_ttl",
             "mfa_methods", "control_group", "subscribe_event_types")
PERMISSION_DENIED = "1 error occurred:\n\t* permission denied\n\n"
DEFAULT_POLICY = """
# What Vault's built-in default policy gives a token about itself.
path "auth/token/lookup-self" { capabilities = ["read"] }
path "auth/token/renew-self" { capabilities = ["update"] }
path "auth/token/revoke-self" { capabilities = ["update"] }
path "sys/capabilities-self" { capabilities = ["update"] }
"""


class PolicyError(ValueError):
    pass


_HCL_TOKEN = re.compile(r"""
    (?P<ws>\s+) | (?P<comment>\#[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<str>"(?:[^"\\\n]|\\.)*") | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.-]*) | (?P<punct>[{}\[\]=,])
""", re.X | re.S)


def hcl_tokens(text):
    pos, line = 0, 1
    while pos < len(text):
        m = _HCL_TOKEN.match(text, pos)
        if not m:
            raise PolicyError("at %d: illegal char %r" % (line, text[pos]))
        kind, tok = m.lastgroup, m.group()
        if kind == "str":
            try:
                yield "str", json.loads(tok), line
            except ValueError:
                raise PolicyError("at %d: invalid string %s" % (line, tok))
        elif kind == "num":
            yield "num", float(tok), line
        elif kind in ("ident", "punct"):
            yield kind if kind == "ident" else tok, tok, line
        line += tok.count("\n")
        pos = m.end()


class HclParser:
    """HCL 1 as Vault reads policies: objects of key [label...] = value or
    key [label...] { ... }; a value is a string, number, bool, list or
    object.  Items come out as (key, labels, value, line)."""

    def __init__(self, text):
        self.toks = list(hcl_tokens(text))
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else ("eof", None, 0)

    def take(self, kind):
        t = self.peek()
        if t[0] != kind:
            raise PolicyError("at %d: expected %r, got %r" % (t[2], kind, t[1]))
        self.i += 1
        return t

    def items(self, closing):
        out = []
        while self.peek()[0] != closing:
            kind, key, line = self.peek()
            if kind not in ("ident", "str"):
                raise PolicyError("at %d: expected a key, got %r" % (line, key))
            self.i += 1
            labels = []
            while self.peek()[0] == "str":
                labels.append(self.take("str")[1])
            if self.peek()[0] == "=":
                self.i += 1
                value = self.value()
            else:
                self.take("{")
                value = self.items("}")
                self.take("}")
            out.append((key, labels, value, line))
            if self.peek()[0] == ",":
                self.i += 1
        return out

    def value(self):
        kind, tok, line = self.peek()
        if kind in ("str", "num"):
            self.i += 1
            return tok
        if kind == "ident" and tok in ("true", "false"):
            self.i += 1
            return tok == "true"
        if kind == "[":
            self.i += 1
            out = []
            while self.peek()[0] != "]":
                out.append(self.value())
                if self.peek()[0] != "]":
                    self.take(",")
            self.take("]")
            return out
        if kind == "{":
            self.i += 1
            out = self.items("}")
            self.take("}")
            return out
        raise PolicyError("at %d: unexpected %r" % (line, tok))


def json_items(obj):
    """A JSON policy as the items HclParser gives."""
    out = []
    for key, val in obj.items():
        if key == "path" and isinstance(val, dict):
            for p, body in val.items():
                if not isinstance(body, dict):
                    raise PolicyError("path %r: expected an object" % p)
                out.append(("path", [p], [(k, [], v, 0) for k, v in body.items()], 0))
        else:
            out.append((key, [], val, 0))
    return out


def path_caps(path, body):
    caps = set()
    for key, labels, val, line in body:
        if key not in PATH_KEYS or labels:
            raise PolicyError('path "%s": invalid key "%s" on line %d' % (path, key, line))
        if key == "policy":
            if val not in OLD_POLICY:
                raise PolicyError('path "%s": invalid policy "%s"' % (path, val))
            caps |= OLD_POLICY[val]
        elif key == "capabilities":
            if not isinstance(val, list):
                raise PolicyError('path "%s": capabilities must be a list' % path)
            for c in val:
                if c not in CAPABILITIES:
                    raise PolicyError('path "%s": invalid capability "%s"' % (path, c))
                caps.add(c)
    return {"deny"} if "deny" in caps else caps


def parse_policy(text):
    """{path as written: capabilities} of a policy text, or PolicyError."""
    if text.lstrip().startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError as e:
            raise PolicyError(str(e))
        items = json_items(obj) if isinstance(obj, dict) else None
        if items is None:
            raise PolicyError("expected a JSON object")
    else:
        p = HclParser(text)
        items = p.items("eof")
    rules = {}
    for key, labels, val, line in items:
        if key == "name":
            continue
        if key != "path" or len(labels) != 1 or not isinstance(val, list):
            raise PolicyError('invalid key "%s" on line %d' % (key, line))
        path = labels[0].lstrip("/")
        if "+*" in path:
            raise PolicyError('path "%s": invalid use of wildcards (\'+*\' is '
                              'forbidden)' % path)
        caps = path_caps(path, val)
        rules[path] = merge_caps(rules.get(path), caps)
    return rules


def merge_caps(a, b):
    if a is None:
        return set(b)
    if "deny" in a or "deny" in b:
        return {"deny"}
    return a | b


class ACL:
    """The rules of a token's policies merged (deny wins) and matched as
    Vault does: an exact path first; else, among the longest prefix glob
    ("*" at the end) and every "+" segment path that matches, the most
    specific: the first wildcard latest, then not a prefix, then fewer
    "+", then the longer path, then the greater one."""

    def __init__(self, policies):
        self.exact, self.prefix, self.segment = {}, {}, {}
        for rules in policies:
            for path, caps in rules.items():
                if "+" in path.split("/"):
                    table, key = self.segment, path
                elif path.endswith("*"):
                    table, key = self.prefix, path[:-1]
                else:
                    table, key = self.exact, path
                table[key] = merge_caps(table.get(key), caps)

    def capabilities(self, path, listing):
        if path in self.exact:
            return self.exact[path]
        if listing and path.rstrip("/") in self.exact:
            return self.exact[path.rstrip("/")]
        found = []
        best = max((p for p in self.prefix if path.startswith(p)), key=len, default=None)
        if best is not None:
            found.append(((len(best), 0, 0, len(best), best), self.prefix[best]))
        parts = path.split("/")
        for wc, caps in self.segment.items():
            glob = wc.endswith("*")
            segs = (wc[:-1] if glob else wc).split("/")
            have = parts[:-1] if listing and not glob and parts[-1] == "" else parts
            if len(segs) > len(have) or (not glob and len(segs) != len(have)):
                continue
            if all(s == "+" or s == have[i] or
                   (glob and i == len(segs) - 1 and have[i].startswith(s))
                   for i, s in enumerate(segs)):
                found.append(((wc.index("+"), 0 if glob else 1, -segs.count("+"),
                               len(wc), wc), caps))
        return max(found, key=lambda f: f[0])[1] if found else set()


# --------------------------------------------------------------------------
# state

class Version:
    __slots__ = ("created", "deletion", "destroyed", "data")

    def __init__(self, created, deletion, data):
        self.created = created
        self.deletion = deletion      # ns or None
        self.destroyed = False
        self.data = data              # dict or None once destroyed

    def deleted(self, now):
        return self.deletion is not None and self.deletion < now

    def meta(self):
        return {
            "created_time": rfc3339(self.created),
            "deletion_time": rfc3339(self.deletion),
            "destroyed": self.destroyed,
        }


class KeyMeta:
    def __init__(self, created=None):
        self.versions = {}            # int -> Version
        self.current = 0
        self.oldest = 0
        self.max_versions = 0
        self.cas_required = False
        self.dva = 0                  # delete_version_after, seconds
        self.custom = None            # dict[str,str] or None
        self.created = created
        self.updated = created


class State:
    def __init__(self, args):
        self.lock = threading.RLock()
        self.args = args
        self.mounts = list(dict.fromkeys(args.mount or ["secret"]))
        self.approle_mounts = list(dict.fromkeys(args.approle_mount or ["approle"]))
        self.approles = []
        for spec in args.approle or []:
            if ":" not in spec:
                raise SystemExit("--approle wants ROLE_ID:SECRET_ID")
            rid, sid = spec.split(":", 1)
            self.approles.append((rid, sid))
        self.initial_tokens = []
        for group in args.token or []:
            for t in group:
                if t not in self.initial_tokens:
                    self.initial_tokens.append(t)
        self.conn_seq = 0
        self.fault_seq = 0
        self.open_connections = 0
        self.written = []             # never reset: see /_emulator/written
        self.reset_all()

    # callers hold no lock; reset_all takes it
    def reset_all(self):
        with self.lock:
            self.sealed = bool(self.args.sealed)
            self.store = {m: {} for m in self.mounts}
            self.config = {m: {"max_versions": 0, "cas_required": False,
                               "dva": 0} for m in self.mounts}
            self.faults = []
            self.chunked = False
            self.requests = 0
            self.connections = 0
            self.max_open = self.open_connections
            self.request_log = []
            if not hasattr(self, "tokens"):
                self.tokens = {}
            # keep issued approle tokens; restore configured ones; drop
            # the policies and the tokens made with them
            for t in list(self.tokens):
                if self.tokens[t]["kind"] in ("static", "child"):
                    del self.tokens[t]
            self.policies = {"default": (DEFAULT_POLICY, parse_policy(DEFAULT_POLICY))}
            for t in self.initial_tokens:
                self.add_static_token(t)

    def add_static_token(self, tok):
        if tok in self.tokens:
            return
        self.tokens[tok] = {
            "kind": "static",
            "accessor": rand_id(24),
            "policies": ["root"],
            "display_name": "token",
            "path": "auth/token/root",
            "meta": None,
            "creation_time": int(time.time()),
            "creation_ttl": 0,
            "ttl": 0,
            "expire": None,
            "renewable": False,
        }

    def issue_token(self, mount, role_id):
        tok = "hvs." + rand_id(24)
        nowsec = int(time.time())
        self.tokens[tok] = {
            "kind": "approle",
            "accessor": rand_id(24),
            "policies": ["default"],
            "display_name": mount,
            "path": "auth/%s/login" % mount,
            "meta": {"role_name": "emulator-role"},
            "creation_time": nowsec,
            "creation_ttl": APPROLE_TTL,
            "ttl": APPROLE_TTL,
            "expire": nowsec + APPROLE_TTL,
            "renewable": True,
        }
        return tok

    def create_token(self, policies, meta, ttl):
        tok = "hvs." + rand_id(24)
        nowsec = int(time.time())
        self.tokens[tok] = {
            "kind": "child",
            "accessor": rand_id(24),
            "policies": policies,
            "display_name": "token",
            "path": "auth/token/create",
            "meta": meta,
            "creation_time": nowsec,
            "creation_ttl": ttl,
            "ttl": ttl,
            "expire": nowsec + ttl,
            "renewable": True,
        }
        return tok

    def acl_for(self, info):
        """The ACL of a token made by auth/token/create; None (anything
        goes) for root, the --token tokens and AppRole logins, whose
        roles have no policies here."""
        if info["kind"] != "child" or "root" in info["policies"]:
            return None
        return ACL(self.policies[p][1] for p in info["policies"]
                   if p in self.policies)

    def token_valid(self, tok):
        info = self.tokens.get(tok)
        if info is None:
            return None
        if info["expire"] is not None and info["expire"] <= time.time():
            del self.tokens[tok]
            return None
        return info

    # ----- faults
    def add_fault(self, spec):
        self.fault_seq += 1
        spec["id"] = self.fault_seq
        self.faults.append(spec)
        return self.fault_seq

    def take_fault(self, target):
        if not self.faults:     # the usual case: no lock to take
            return None
        with self.lock:
            for f in self.faults:
                if f["remaining"] > 0 and f["regex"].search(target):
                    f["remaining"] -= 1
                    if f["remaining"] <= 0:
                        self.faults.remove(f)
                    return f
        return None

    # ----- KV helpers (caller holds lock)
    def effective_max(self, mount, meta):
        cfg = self.config[mount]["max_versions"]
        m = max(meta.max_versions, cfg)
        return m if m > 0 else DEFAULT_MAX_VERSIONS

    def effective_dva(self, mount, meta):
        if meta.dva:
            return meta.dva if meta.dva > 0 else 0
        c = self.config[mount]["dva"]
        return c if c > 0 else 0


# --------------------------------------------------------------------------
# server plumbing

class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    block_on_close = False

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, ssl.SSLError, OSError,
                            HandshakeFailed)):
            return
        super().handle_error(request, client_address)


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, ssl.SSLError, OSError,
                            HandshakeFailed)):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    MessageClass = _IndexedMessage      # parse_request passes it
    protocol_version = "HTTP/1.1"
    server_version = "vault-emulator"
    sys_version = ""
    # An idle connection is closed after IDLE_TIMEOUT seconds.  Not by a
    # socket timeout (timeout = 300 here): Python then polls before every
    # recv and send, and each of those system calls hands the GIL to
    # another connection's thread, twice more a request.  A plain socket
    # stays blocking and the kernel times its reads and writes out
    # (SO_RCVTIMEO: the buffered reader sees end of file; SO_SNDTIMEO: an
    # OSError; either closes it); TLS keeps Python's timeout.
    timeout = None
    IDLE_TIMEOUT = 300
    disable_nagle_algorithm = True

    state = None       # set in main()
    ssl_ctx = None
    logfile = None
    log_lock = threading.Lock()

    # ------------------------------------------------------------ lifecycle
    def setup(self):
        st = self.state
        with st.lock:
            st.conn_seq += 1
            self.conn_id = st.conn_seq
        self.conn_kind = "pending"       # pending | counted | control
        if self.ssl_ctx is not None:
            try:
                self.request.settimeout(10)
                self.request = self.ssl_ctx.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError, ValueError):
                # failed handshake: an accepted connection that carried no request
                with st.lock:
                    st.connections += 1
                raise HandshakeFailed()
            self.request.settimeout(self.IDLE_TIMEOUT)
        else:
            idle = struct.pack("ll", self.IDLE_TIMEOUT, 0)
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, idle)
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, idle)
        # TCP_NODELAY only exists for TCP sockets (not for unix: listeners)
        self.disable_nagle_algorithm = self.request.family in (socket.AF_INET, socket.AF_INET6)
        super().setup()

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        st = self.state
        with st.lock:
            if self.conn_kind == "counted":
                st.open_connections -= 1
            elif self.conn_kind == "pending":
                st.connections += 1

    def classify_connection(self, path):
        if self.conn_kind != "pending":
            return
        st = self.state
        if path.startswith("/_emulator/") or path == "/_emulator":
            self.conn_kind = "control"
            return
        with st.lock:
            self.conn_kind = "counted"
            st.connections += 1
            st.open_connections += 1
            if st.open_connections > st.max_open:
                st.max_open = st.open_connections

    def log_message(self, fmt, *args):   # silence default stderr logging
        pass

    def handle_expect_100(self):
        cl = self.headers.get("Content-Length")
        try:
            too_big = cl is not None and int(cl) > MAX_BODY
        except ValueError:
            too_big = False
        if too_big:
            self.classify_connection(urlsplit(self.path).path)
            if urlsplit(self.path).path.startswith("/v1/"):
                with self.state.lock:
                    self.state.requests += 1
            self.close_connection = True
            self.respond(413, errors("failed to parse JSON input: http: request body too large"))
            return False
        return super().handle_expect_100()

    def handle_one_request(self):
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = ""
                self.request_version = ""
                self.command = ""
                self.close_connection = True
                self.send_error(414)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self.dispatch()
            try:
                self.wfile.flush()
            except OSError:
                self.close_connection = True
        except (TimeoutError, socket.timeout, ConnectionError, ssl.SSLError, OSError):
            self.close_connection = True

    # ------------------------------------------------------------ I/O
    def respond(self, status, body=None, headers=None, truncate=None):
        """Send one complete response with Content-Length, or chunked when
        so configured; with truncate=N only the head and N body bytes, then
        the connection closes."""
        if body is None or status == 204 or status == 304:
            payload = b""
        elif isinstance(body, (bytes, bytearray)):
            payload = bytes(body)
        else:
            payload = (json.dumps(body, separators=(",", ":")) + "\n").encode()
        phrase = _PHRASES.get(status) or "Status %d" % status
        lines = ["HTTP/1.1 %d %s" % (status, phrase),
                 "Date: %s" % http_date(),
                 "Cache-Control: no-store"]
        if payload or (self.command == "HEAD" and body is not None):
            lines.append("Content-Type: application/json")
        extra = headers or {}
        for k, v in extra.items():
            lines.append("%s: %s" % (k, v))
        send_body = payload
        if self.command == "HEAD":
            send_body = b""
        chunked = (self.state.chunked and send_body
                   and not (status == 204 or status == 304))
        if chunked:
            lines.append("Transfer-Encoding: chunked")
            step = 2048
            send_body = b"".join(b"%x\r\n%s\r\n" % (len(send_body[i:i + step]),
                                                     send_body[i:i + step])
                                 for i in range(0, len(send_body), step)) + b"0\r\n\r\n"
        else:
            lines.append("Content-Length: %d" % len(send_body))
        if truncate is not None:
            self.close_connection = True
            send_body = send_body[:max(0, min(int(truncate), len(send_body) - 1))]
        if self.close_connection and truncate is None:
            lines.append("Connection: close")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + send_body
        self.status_sent = status if truncate is None else "%d-truncated" % status
        try:
            self.wfile.write(data)
            if truncate is not None:
                self.wfile.flush()
                self.request.shutdown(socket.SHUT_RDWR)
        except OSError:
            self.close_connection = True

    def read_body(self):
        """Return (bytes, too_large)."""
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            total = 0
            too_large = False
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("eof in chunked body")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:           # trailers
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    break
                remaining = size
                while remaining:
                    piece = self.rfile.read(min(remaining, 1 << 20))
                    if not piece:
                        raise ConnectionError("eof in chunk")
                    remaining -= len(piece)
                    total += len(piece)
                    if total > MAX_BODY:
                        too_large = True
                    elif not too_large:
                        chunks.append(piece)
                    if total > DRAIN_LIMIT:
                        self.close_connection = True
                        return b"", True
                self.rfile.readline(65537)     # CRLF after chunk
            return (b"" if too_large else b"".join(chunks)), too_large
        cl = self.headers.get("Content-Length")
        if cl is None:
            return b"", False
        try:
            n = int(cl)
        except ValueError:
            raise HTTPError(400, errors("invalid Content-Length"))
        if n < 0:
            raise HTTPError(400, errors("invalid Content-Length"))
        if n > MAX_BODY:
            if n <= DRAIN_LIMIT:
                remaining = n
                while remaining:
                    piece = self.rfile.read(min(remaining, 1 << 20))
                    if not piece:
                        break
                    remaining -= len(piece)
            self.close_connection = True
            return b"", True
        data = b""
        if n:
            data = self.rfile.read(n)
            if len(data) < n:
                raise ConnectionError("short body")
        return data, False

    def write_log(self, method, target, status):
        if not self.logfile:
            return
        with self.log_lock:
            try:
                self.logfile.write("%s %s %s %s\n" % (
                    time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    method, target, status))
                self.logfile.flush()
            except OSError:
                pass

    # ------------------------------------------------------------ dispatch
    def dispatch(self):
        st = self.state
        method = self.command
        target = self.path
        path, query = split_target(target)
        self.status_sent = None
        self.classify_connection(path)
        is_v1 = path.startswith("/v1/") or path == "/v1"
        log_entry = None
        if is_v1:
            # Kept as received; what /_emulator/requests shows is made
            # when it is asked for (log_view).
            log_entry = {"method": method, "path": target, "status": None,
                         "connection": self.conn_id,
                         "pairs": self.headers.pairs(), "ns": now_ns()}
            with st.lock:
                st.requests += 1
                st.request_log.append(log_entry)
                if len(st.request_log) > REQUEST_LOG_CAP:
                    del st.request_log[: len(st.request_log) - REQUEST_LOG_CAP]
        try:
            try:
                body, too_large = self.read_body()
            except HTTPError as e:
                self.close_connection = True
                raise
            except (ValueError, ConnectionError):
                self.close_connection = True
                return
            if too_large:
                self.close_connection = True
                raise HTTPError(413, errors(
                    "failed to parse JSON input: http: request body too large"))

            if path.startswith("/_emulator/") or path == "/_emulator":
                self.control(method, path, query, body)
                return
            if not is_v1:
                raise HTTPError(404, errors())

            fault = st.take_fault("%s %s" % (method, target))
            if fault is not None:
                if fault.get("delay_ms"):
                    time.sleep(fault["delay_ms"] / 1000.0)
                if fault.get("drop"):
                    self.close_connection = True
                    self.status_sent = "drop"
                    try:
                        self.request.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                if fault.get("raw") is not None:
                    self.close_connection = True
                    self.status_sent = "raw"
                    try:
                        self.wfile.write(fault["raw"].encode("latin-1"))
                        self.wfile.flush()
                        self.request.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                if fault.get("status") is not None:
                    hdrs = dict(fault.get("headers") or {})
                    if fault.get("retry_after") is not None:
                        hdrs["Retry-After"] = str(fault["retry_after"])
                    if "body" in fault:
                        fbody = fault["body"]
                    else:
                        fbody = errors(*(fault.get("errors") or []))
                    self.respond(int(fault["status"]), fbody, hdrs)
                    return
            status, rbody, rheaders = self.vault(method, path[len("/v1/"):], query, body)
            cut = fault.get("truncate") if fault is not None else None
            self.respond(status, rbody, rheaders, truncate=cut)
        except HTTPError as e:
            self.respond(e.status, e.body, e.headers)
        finally:
            if log_entry is not None:
                log_entry["status"] = self.status_sent
            if self.status_sent is not None:
                self.write_log(method, target, self.status_sent)

    # ------------------------------------------------------------ control API
    def control(self, method, path, query, body):
        st = self.state
        name = path[len("/_emulator/"):].strip("/")
        req = {}
        if body.strip():
            try:
                req = json.loads(body)
            except ValueError as e:
                raise HTTPError(400, errors("failed to parse JSON input: %s" % e))
            if not isinstance(req, dict):
                raise HTTPError(400, errors("expected a JSON object"))

        if name == "fault" and method in ("POST", "PUT"):
            try:
                rx = re.compile(req.get("match", ""))
            except re.error as e:
                raise HTTPError(400, errors("bad match regex: %s" % e))
            try:
                count = int(req.get("count", 1))
            except (TypeError, ValueError):
                raise HTTPError(400, errors("bad count"))
            spec = {"match": req.get("match", ""), "regex": rx, "count": count,
                    "remaining": count}
            for k in ("status", "retry_after", "errors", "drop", "delay_ms",
                      "headers", "body", "truncate", "raw"):
                if k in req:
                    spec[k] = req[k]
            if not any(k in spec for k in ("status", "drop", "delay_ms", "truncate", "raw")):
                raise HTTPError(400, errors("fault needs status, drop, delay_ms, truncate or raw"))
            if "raw" in spec and (not isinstance(spec["raw"], str)
                                  or any(ord(ch) > 255 for ch in spec["raw"])):
                raise HTTPError(400, errors("raw wants a string of latin-1 characters"))
            if "truncate" in spec and (not isinstance(spec["truncate"], int)
                                       or isinstance(spec["truncate"], bool)
                                       or spec["truncate"] < 0):
                raise HTTPError(400, errors("truncate wants a byte count >= 0"))
            with st.lock:
                fid = st.add_fault(spec)
            self.respond(200, {"id": fid})
            return
        if name == "faults":
            if method == "GET":
                with st.lock:
                    out = [{k: v for k, v in f.items() if k != "regex"}
                           for f in st.faults]
                self.respond(200, {"faults": out})
                return
            if method == "DELETE":
                with st.lock:
                    st.faults = []
                self.respond(204)
                return
        if name == "stats" and method == "GET":
            with st.lock:
                out = {"requests": st.requests,
                       "connections": st.connections,
                       "open_connections": st.open_connections,
                       "max_open_connections": st.max_open,
                       "faults_pending": len(st.faults)}
            self.respond(200, out)
            return
        if name == "reset" and method in ("POST", "PUT"):
            st.reset_all()
            self.respond(204)
            return
        if name == "seal" and method in ("POST", "PUT"):
            try:
                sealed = parse_bool(req.get("sealed", True))
            except ValueError:
                raise HTTPError(400, errors("bad sealed"))
            with st.lock:
                st.sealed = sealed
            self.respond(200, {"sealed": sealed})
            return
        if name == "config":
            if method in ("POST", "PUT"):
                with st.lock:
                    for m in st.mounts:
                        cfg = st.config[m]
                        try:
                            if "max_versions" in req:
                                cfg["max_versions"] = parse_int(req["max_versions"])
                            if "cas_required" in req:
                                cfg["cas_required"] = parse_bool(req["cas_required"])
                            if "delete_version_after" in req:
                                cfg["dva"] = parse_duration(req["delete_version_after"])
                        except ValueError as e:
                            raise HTTPError(400, errors(str(e)))
                    for t in req.get("tokens") or []:
                        st.add_static_token(str(t))
                    if "chunked" in req:
                        st.chunked = bool(req["chunked"])
                self.respond(204)
                return
            if method == "GET":
                with st.lock:
                    out = {m: {"max_versions": c["max_versions"],
                               "cas_required": c["cas_required"],
                               "delete_version_after": go_duration(c["dva"])}
                           for m, c in st.config.items()}
                    out = {"mounts": out, "sealed": st.sealed}
                self.respond(200, out)
                return
        if name == "requests":
            if method == "GET":
                with st.lock:
                    out = [log_view(e) for e in st.request_log]
                self.respond(200, {"requests": out})
                return
            if method == "DELETE":
                with st.lock:
                    st.request_log = []
                self.respond(204)
                return
        if name == "written" and method == "GET":
            with st.lock:
                out = list(st.written)
            self.respond(200, {"written": out})
            return
        if name == "dump" and method == "GET":
            with st.lock:
                out = {}
                for m, keys in st.store.items():
                    out[m] = {}
                    for k, meta in keys.items():
                        out[m][k] = {
                            "current_version": meta.current,
                            "oldest_version": meta.oldest,
                            "versions": {str(n): dict(v.meta(), data=v.data)
                                         for n, v in sorted(meta.versions.items())},
                        }
            self.respond(200, out)
            return
        raise HTTPError(404, errors("unknown emulator endpoint %s %s" % (method, path)))

    # ------------------------------------------------------------ Vault API
    def token(self):
        tok = self.headers.get("X-Vault-Token")
        if not tok:
            auth = self.headers.get("Authorization") or ""
            if auth[:7].lower() == "bearer ":
                tok = auth[7:].strip()
        return tok or ""

    @staticmethod
    def parse_json(body):
        if not body.strip():
            return {}
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise HTTPError(400, errors("failed to parse JSON input: %s" % e))
        try:
            obj = json.loads(text)
        except ValueError as e:
            raise HTTPError(400, errors("failed to parse JSON input: %s" % e))
        if obj is None:
            return {}
        if not isinstance(obj, dict):
            kind = {list: "array", str: "string", bool: "bool"}.get(type(obj), "number")
            raise HTTPError(400, errors(
                "failed to parse JSON input: json: cannot unmarshal %s into Go value "
                "of type map[string]interface {}" % kind))
        return obj

    def vault(self, method, vpath, query, body):
        st = self.state
        vpath = vpath.lstrip("/")

        if vpath in ("sys/health", "sys/health/"):
            return self.sys_health(method, query)
        if vpath == "sys/seal-status" and method == "GET":
            with st.lock:
                sealed = st.sealed
            return 200, {"type": "shamir", "initialized": True, "sealed": sealed,
                         "t": 1, "n": 1, "progress": 0, "nonce": "",
                         "version": VAULT_VERSION, "build_date": "2024-01-01T00:00:00Z",
                         "migration": False, "recovery_seal": False,
                         "storage_type": "mysql"}, None

        with st.lock:
            sealed = st.sealed
        if sealed:
            raise HTTPError(503, errors("Vault is sealed"))

        if method == "PATCH":
            ctype = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
            if not ctype:
                raise HTTPError(400, errors("mime: no media type"))
            if ctype != "application/merge-patch+json":
                raise HTTPError(415, errors(
                    'PATCH requires Content-Type of application/merge-patch+json, got "%s"'
                    % ctype))

        req = self.parse_json(body) if method in ("POST", "PUT", "PATCH") else {}

        # AppRole login: unauthenticated
        segs = vpath.split("/")
        if (len(segs) == 3 and segs[0] == "auth" and segs[2] == "login"
                and segs[1] in st.approle_mounts):
            if method not in ("POST", "PUT"):
                raise HTTPError(405, errors())
            return self.approle_login(segs[1], req)

        tok = self.token()
        with st.lock:
            # The record itself: authorize reads it under the lock; the
            # token operations get a copy (below).
            info = st.token_valid(tok) if tok else None
        if info is None:
            raise HTTPError(403, errors("permission denied"))
        listing = method == "LIST" or (method == "GET" and self.list_query(query))
        if not vpath.startswith("sys/internal/ui/mounts/"):
            self.authorize(info, method, vpath, listing)

        if segs[0] == "auth" and len(segs) >= 3 and segs[1] == "token":
            with st.lock:
                info = json_copy(info)
            return self.token_ops(method, "/".join(segs[2:]), tok, info, req)
        if segs[:3] == ["sys", "policies", "acl"]:
            return self.sys_policy(method, "/".join(segs[3:]), listing, req)

        if vpath.startswith("sys/internal/ui/mounts/"):
            sub = vpath[len("sys/internal/ui/mounts/"):]
            for m in st.mounts:
                if sub == m or sub.startswith(m + "/"):
                    return 200, envelope({
                        "accessor": "kv_emulator", "config": {
                            "default_lease_ttl": 0, "force_no_cache": False,
                            "max_lease_ttl": 0},
                        "description": "key/value secret storage",
                        "external_entropy_access": False, "local": False,
                        "options": {"version": "2"}, "path": m + "/",
                        "seal_wrap": False, "type": "kv", "uuid": "emulator"}), None
            raise HTTPError(400, errors(
                'preflight capability check returned 403, please ensure client\'s '
                'policies grant access to path "%s/"' % sub))

        for m in st.mounts:
            if vpath == m or vpath.startswith(m + "/"):
                rest = vpath[len(m) + 1:]
                return self.kv(m, method, rest, query, req)

        raise HTTPError(404, errors(
            'no handler for route "%s". route entry not found.' % vpath))

    # ACL ------------------------------------------------------------------
    @staticmethod
    def list_query(query):
        try:
            return "list" in query and parse_bool(query["list"][0])
        except ValueError:
            return False

    def exists(self, vpath):
        """Vault's existence check, on the paths that have one (KV v2 data/
        and metadata/, ACL policies): a write there is create when the
        object is new, update otherwise; elsewhere always update."""
        st = self.state
        segs = vpath.split("/")
        if segs[:3] == ["sys", "policies", "acl"]:
            return "/".join(segs[3:]).lower() in st.policies
        for m in st.mounts:
            if vpath.startswith(m + "/"):
                op, _, key = vpath[len(m) + 1:].partition("/")
                if op in ("data", "metadata"):
                    return key in st.store[m]
        return True

    def authorize(self, info, method, vpath, listing):
        st = self.state
        with st.lock:
            acl = st.acl_for(info)
            if acl is None:
                return
            if listing:
                op = "list"
            elif method in ("GET", "HEAD"):
                op = "read"
            elif method in ("DELETE", "PATCH"):
                op = method.lower()
            else:
                op = "update" if self.exists(vpath) else "create"
            # Vault adds the trailing slash to every LIST path.
            if listing and not vpath.endswith("/"):
                vpath += "/"
            caps = acl.capabilities(vpath, listing)
        if op not in caps or "deny" in caps:
            raise HTTPError(403, errors(PERMISSION_DENIED))

    def sys_policy(self, method, name, listing, req):
        st = self.state
        name = name.strip("/").lower()
        if listing:
            with st.lock:
                keys = sorted(set(st.policies) | {"root"})
            return 200, envelope({"keys": keys, "policies": keys}), None
        if not name:
            raise HTTPError(405, errors())
        if method == "GET":
            with st.lock:
                got = st.policies.get(name)
            if got is None:
                raise HTTPError(404, errors())
            body = envelope({"name": name, "policy": got[0]})
            body.update(name=name, policy=got[0])
            return 200, body, None
        if method in ("POST", "PUT"):
            if name == "root":
                raise HTTPError(400, errors('cannot update "root" policy'))
            text = req.get("policy")
            if not isinstance(text, str) or not text.strip():
                raise HTTPError(400, errors("'policy' parameter not supplied or empty"))
            try:
                rules = parse_policy(text)
            except PolicyError as e:
                raise HTTPError(400, errors("failed to parse policy: %s" % e))
            with st.lock:
                st.policies[name] = (text, rules)
            return 204, None, None
        if method == "DELETE":
            if name in ("root", "default"):
                raise HTTPError(400, errors('cannot delete "%s" policy' % name))
            with st.lock:
                st.policies.pop(name, None)
            return 204, None, None
        raise HTTPError(405, errors())

    # sys/health -----------------------------------------------------------
    def sys_health(self, method, query):
        if method not in ("GET", "HEAD"):
            raise HTTPError(405, errors())
        st = self.state

        def code(name, default):
            if name in query:
                try:
                    return int(query[name][0])
                except ValueError:
                    raise HTTPError(400, errors())
            return default

        for b in ("standbyok", "perfstandbyok"):
            if b in query and query[b][0] != "":
                try:
                    parse_bool(query[b][0])
                except ValueError:
                    raise HTTPError(400, errors("bad value for %s parameter" % b))
        sealed_code = code("sealedcode", 503)
        active_code = code("activecode", 200)
        code("standbycode", 429)
        code("uninitcode", 501)
        code("drsecondarycode", 472)
        code("performancestandbycode", 473)
        with st.lock:
            sealed = st.sealed
        body = {
            "initialized": True,
            "sealed": sealed,
            "standby": sealed,          # a sealed Vault reports standby=true
            "performance_standby": False,
            "replication_performance_mode": "disabled",
            "replication_dr_mode": "disabled",
            "server_time_utc": int(time.time()),
            "version": VAULT_VERSION,
            "enterprise": False,
            "echo_duration_ms": 0,
            "clock_skew_ms": 0,
            "replication_primary_canary_age_ms": 0,
        }
        if not sealed:
            body["cluster_name"] = "vault-cluster-emulator"
            body["cluster_id"] = "5d2c0e48-7a2e-4a52-9d0d-3c4c2d9e0b1a"
        return (sealed_code if sealed else active_code), body, None

    # auth/token -----------------------------------------------------------
    def token_ops(self, method, op, tok, info, req):
        st = self.state
        nowsec = int(time.time())
        if op == "lookup-self":
            if method not in ("GET", "POST", "PUT"):
                raise HTTPError(405, errors())
            ttl = 0
            expire = None
            if info["expire"] is not None:
                ttl = max(0, info["expire"] - nowsec)
                expire = rfc3339(info["expire"] * 1_000_000_000)
            return 200, envelope({
                "accessor": info["accessor"],
                "creation_time": info["creation_time"],
                "creation_ttl": info["creation_ttl"],
                "display_name": info["display_name"],
                "entity_id": "",
                "expire_time": expire,
                "explicit_max_ttl": 0,
                "id": tok,
                "issue_time": rfc3339(info["creation_time"] * 1_000_000_000),
                "meta": info["meta"],
                "num_uses": 0,
                "orphan": True,
                "path": info["path"],
                "policies": info["policies"],
                "renewable": info["renewable"],
                "ttl": ttl,
                "type": "service",
            }), None
        if op == "renew-self":
            if method not in ("POST", "PUT"):
                raise HTTPError(405, errors())
            lease = 0
            if info["renewable"]:
                try:
                    inc = parse_duration(req.get("increment"))
                except ValueError as e:
                    raise HTTPError(400, errors(str(e)))
                lease = min(inc, APPROLE_TTL) if inc > 0 else info["creation_ttl"]
                with st.lock:
                    live = st.tokens.get(tok)
                    if live is not None:
                        live["expire"] = nowsec + lease
            return 200, envelope(auth=self.auth_block(tok, info, lease)), None
        if op in ("create", "create-orphan"):
            if method not in ("POST", "PUT"):
                raise HTTPError(405, errors())
            return self.token_create(info, req)
        if op == "revoke-self":
            if method not in ("POST", "PUT"):
                raise HTTPError(405, errors())
            with st.lock:
                st.tokens.pop(tok, None)
            return 204, None, None
        raise HTTPError(404, errors(
            'no handler for route "auth/token/%s". route entry not found.' % op))

    def token_create(self, info, req):
        """A token with the policies asked for: a subset of the caller's
        unless the caller is root; "default" added unless
        no_default_policy."""
        st = self.state
        pol = req.get("policies")
        if isinstance(pol, str):
            pol = pol.split(",")
        if pol is not None and not isinstance(pol, list):
            raise HTTPError(400, errors(
                'Field validation failed: error converting input for field "policies"'))
        pol = sorted({str(p).strip().lower() for p in pol or [] if str(p).strip()})
        pol = pol or list(info["policies"])
        if "root" not in info["policies"] and not set(pol) <= set(info["policies"]):
            raise HTTPError(400, errors("child policies must be subset of parent"))
        try:
            plain = parse_bool(req.get("no_default_policy", False))
            ttl = parse_duration(req.get("ttl")) or APPROLE_TTL
        except ValueError as e:
            raise HTTPError(400, errors(str(e)))
        if not plain and "root" not in pol:
            pol = sorted(set(pol) | {"default"})
        with st.lock:
            tok = st.create_token(pol, req.get("meta"), ttl)
            info = copy.deepcopy(st.tokens[tok])
        return 200, envelope(auth=self.auth_block(tok, info, ttl)), None

    @staticmethod
    def auth_block(tok, info, lease):
        return {
            "client_token": tok,
            "accessor": info["accessor"],
            "policies": list(info["policies"]),
            "token_policies": list(info["policies"]),
            "metadata": info["meta"],
            "lease_duration": lease,
            "renewable": info["renewable"],
            "entity_id": "",
            "token_type": "service",
            "orphan": True,
            "mfa_requirement": None,
            "num_uses": 0,
        }

    def approle_login(self, mount, req):
        st = self.state
        rid = req.get("role_id")
        sid = req.get("secret_id")
        if not rid:
            raise HTTPError(400, errors("missing role_id"))
        with st.lock:
            ok = (str(rid), str(sid or "")) in st.approles
            if not ok:
                raise HTTPError(400, errors("invalid role or secret ID"))
            tok = st.issue_token(mount, rid)
            info = copy.deepcopy(st.tokens[tok])
        return 200, envelope(auth=self.auth_block(tok, info, APPROLE_TTL)), None

    # KV v2 ----------------------------------------------------------------
    def kv(self, mount, method, rest, query, req):
        st = self.state
        if method == "GET" and "list" in query:
            try:
                if parse_bool(query["list"][0]):
                    method = "LIST"
            except ValueError:
                raise HTTPError(400, errors())
        op, _, key = rest.partition("/")

        if op == "config" and key == "":
            return self.kv_config(mount, method, req)
        if op == "data":
            if method == "GET":
                return self.kv_read(mount, key, query)
            if method in ("POST", "PUT"):
                return self.kv_write(mount, key, req)
            if method == "PATCH":
                return self.kv_patch(mount, key, req)
            if method == "DELETE":
                return self.kv_delete_latest(mount, key)
            raise HTTPError(405, errors())
        if op in ("delete", "undelete", "destroy"):
            if method not in ("POST", "PUT"):
                raise HTTPError(405, errors())
            return self.kv_versions_op(mount, op, key, req)
        if op == "metadata":
            if method == "LIST":
                return self.kv_list(mount, key)
            if method == "GET":
                return self.kv_meta_read(mount, key)
            if method in ("POST", "PUT"):
                return self.kv_meta_write(mount, key, req)
            if method == "PATCH":
                return self.kv_meta_patch(mount, key, req)
            if method == "DELETE":
                return self.kv_meta_delete(mount, key)
            raise HTTPError(405, errors())
        raise HTTPError(404, errors(
            'no handler for route "%s/%s". route entry not found.' % (mount, rest)))

    def kv_config(self, mount, method, req):
        st = self.state
        with st.lock:
            cfg = st.config[mount]
            if method == "GET":
                return 200, envelope({
                    "max_versions": cfg["max_versions"],
                    "cas_required": cfg["cas_required"],
                    "delete_version_after": go_duration(cfg["dva"])},
                    mount_type="kv"), None
            if method in ("POST", "PUT"):
                try:
                    if "max_versions" in req:
                        cfg["max_versions"] = parse_int(req["max_versions"])
                    if "cas_required" in req:
                        cfg["cas_required"] = parse_bool(req["cas_required"])
                    if "delete_version_after" in req:
                        cfg["dva"] = parse_duration(req["delete_version_after"])
                except ValueError as e:
                    raise HTTPError(400, errors(str(e)))
                return 204, None, None
        raise HTTPError(405, errors())

    @staticmethod
    def version_meta_resp(n, v, meta):
        d = v.meta()
        d["version"] = n
        d["custom_metadata"] = meta.custom
        return d

    def check_cas(self, mount, meta, req):
        opts = req.get("options")
        if opts is not None and not isinstance(opts, dict):
            raise HTTPError(400, errors(
                'Field validation failed: error converting input for field "options"'))
        st = self.state
        if opts and "cas" in opts:
            try:
                cas = parse_int(opts["cas"])
            except (ValueError, TypeError):
                raise HTTPError(400, errors("error parsing check-and-set parameter"))
            if cas != meta.current:
                raise HTTPError(400, errors(
                    "check-and-set parameter did not match the current version"))
        elif st.config[mount]["cas_required"] or meta.cas_required:
            raise HTTPError(400, errors("check-and-set parameter required for this call"))

    def add_version(self, mount, meta, data, key=None):
        """Vault's KeyMetadata.AddVersion incl. the max_versions sliding window."""
        st = self.state
        t = now_ns()
        st.written.append({"mount": mount, "key": key,
                           "version": meta.current + 1, "data": data})
        dva = st.effective_dva(mount, meta)
        v = Version(t, t + dva * 1_000_000_000 if dva > 0 else None, data)
        meta.current += 1
        meta.versions[meta.current] = v
        meta.updated = t
        if meta.created is None:
            meta.created = t
        maxv = st.effective_max(mount, meta)
        if meta.current - meta.oldest >= maxv:
            to_delete = meta.current - maxv
            for i in range(meta.oldest, to_delete + 1):
                meta.versions.pop(i, None)
            meta.oldest = to_delete + 1
        return meta.current, v

    @staticmethod
    def get_data_field(req):
        if "data" not in req or req["data"] is None:
            raise HTTPError(400, errors("no data provided"))
        data = req["data"]
        if not isinstance(data, dict):
            raise HTTPError(400, errors(
                'Field validation failed: error converting input for field "data"'))
        return data

    def kv_read(self, mount, key, query):
        st = self.state
        ver = 0
        if "version" in query:
            try:
                ver = int(query["version"][0] or "0")
            except ValueError:
                raise HTTPError(400, errors(
                    'Field validation failed: error converting input for field "version"'))
        with st.lock:
            meta = st.store[mount].get(key)
            if meta is None:
                raise HTTPError(404, errors())
            n = ver if ver > 0 else meta.current
            v = meta.versions.get(n)
            if v is None:
                raise HTTPError(404, errors())
            md = self.version_meta_resp(n, v, meta)
            if v.deleted(now_ns()) or v.destroyed:
                raise HTTPError(404, envelope({"data": None, "metadata": md},
                                              mount_type="kv"))
            data = json_copy(v.data)
        return 200, envelope({"data": data, "metadata": md}, mount_type="kv"), None

    def kv_write(self, mount, key, req):
        if key == "":
            raise HTTPError(400, errors("missing path"))
        if key.endswith("/"):
            raise HTTPError(405, errors())
        data = self.get_data_field(req)
        st = self.state
        with st.lock:
            meta = st.store[mount].get(key)
            fresh = meta is None
            if fresh:
                meta = KeyMeta()
            self.check_cas(mount, meta, req)
            if fresh:
                st.store[mount][key] = meta
            n, v = self.add_version(mount, meta, copy.deepcopy(data), key)
            md = self.version_meta_resp(n, v, meta)
        return 200, envelope(md, mount_type="kv"), None

    def kv_patch(self, mount, key, req):
        data = self.get_data_field(req)
        st = self.state
        with st.lock:
            meta = st.store[mount].get(key)
            if meta is None:
                raise HTTPError(404, errors())
            self.check_cas(mount, meta, req)
            cur = meta.versions.get(meta.current)
            if cur is None:
                raise HTTPError(404, errors())
            if cur.deleted(now_ns()) or cur.destroyed:
                raise HTTPError(404, envelope(
                    self.version_meta_resp(meta.current, cur, meta), mount_type="kv"))
            merged = merge_patch(cur.data or {}, data)
            n, v = self.add_version(mount, meta, merged, key)
            md = self.version_meta_resp(n, v, meta)
        return 200, envelope(md, mount_type="kv"), None

    def kv_delete_latest(self, mount, key):
        st = self.state
        with st.lock:
            meta = st.store[mount].get(key)
            if meta is not None:
                lv = meta.versions.get(meta.current)
                t = now_ns()
                if lv is not None and not lv.destroyed and not lv.deleted(t):
                    lv.deletion = t
        return 204, None, None

    def kv_versions_op(self, mount, op, key, req):
        try:
            versions = parse_versions(req.get("versions"))
        except (ValueError, TypeError):
            raise HTTPError(400, errors(
                'Field validation failed: error converting input for field "versions"'))
        if not versions:
            raise HTTPError(400, errors("no version number provided"))
        st = self.state
        with st.lock:
            meta = st.store[mount].get(key)
            if meta is None:
                return 204, None, None
            t = now_ns()
            for n in versions:
                v = meta.versions.get(n)
                if v is None:
                    continue
                if op == "delete":
                    if v.destroyed or v.deleted(t):
                        continue
                    v.deletion = t
                elif op == "undelete":
                    if not v.destroyed:
                        v.deletion = None
                else:
                    v.destroyed = True
                    v.data = None
        return 204, None, None

    def kv_list(self, mount, key):
        prefix = key
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        st = self.state
        found = set()
        with st.lock:
            for k in st.store[mount]:
                if not k.startswith(prefix):
                    continue
                tail = k[len(prefix):]
                if tail == "":
                    continue
                if "/" in tail:
                    found.add(tail.split("/", 1)[0] + "/")
                else:
                    found.add(tail)
        if not found:
            raise HTTPError(404, errors())
        return 200, envelope({"keys": sorted(found)}, mount_type="kv"), None

    def kv_meta_dict(self, meta):
        return {
            "cas_required": meta.cas_required,
            "created_time": rfc3339(meta.created),
            "current_version": meta.current,
            "custom_metadata": meta.custom,
            "delete_version_after": go_duration(meta.dva),
            "max_versions": meta.max_versions,
            "oldest_version": meta.oldest,
            "updated_time": rfc3339(meta.updated),
            "versions": {str(n): v.meta() for n, v in sorted(meta.versions.items())},
        }

    def kv_meta_read(self, mount, key):
        st = self.state
        with st.lock:
            meta = st.store[mount].get(key)
            if meta is None:
                raise HTTPError(404, errors())
            d = self.kv_meta_dict(meta)
        return 200, envelope(d, mount_type="kv"), None

    @staticmethod
    def parse_custom(raw, filter_nils):
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise HTTPError(400, errors(
                'Field validation failed: error converting input for field "custom_metadata"'))
        out = {}
        for k, v in raw.items():
            if v is None:
                if filter_nils:
                    continue
                v = ""
            if isinstance(v, bool):
                v = "1" if v else "0"
            elif isinstance(v, (dict, list)):
                raise HTTPError(400, errors(
                    "custom_metadata validation failed: value for key %r is not a string" % k))
            out[k] = str(v)
        if len(out) > 64:
            raise HTTPError(400, errors(
                "custom_metadata validation failed: payload must contain at most 64 keys, "
                "provided %d" % len(out)))
        for k, v in out.items():
            if not (0 < len(k) <= 128) or not (0 < len(v) <= 512):
                raise HTTPError(400, errors(
                    "custom_metadata validation failed: length of key or value for key %r "
                    "out of range" % k))
        return out

    def meta_fields(self, req, filter_nils=False):
        out = {}
        try:
            if "max_versions" in req:
                out["max_versions"] = parse_int(req["max_versions"])
            if "cas_required" in req:
                out["cas_required"] = parse_bool(req["cas_required"])
            if "delete_version_after" in req:
                out["dva"] = parse_duration(req["delete_version_after"])
        except (ValueError, TypeError) as e:
            raise HTTPError(400, errors("Field validation failed: %s" % e))
        if "custom_metadata" in req:
            out["custom"] = self.parse_custom(req["custom_metadata"], filter_nils)
        return out

    def kv_meta_write(self, mount, key, req):
        if key == "":
            raise HTTPError(400, errors("missing path"))
        f = self.meta_fields(req)
        if not f:
            return 204, None, None
        st = self.state
        with st.lock:
            meta = st.store[mount].get(key)
            if meta is None:
                t = now_ns()
                meta = KeyMeta(created=t)
                st.store[mount][key] = meta
            self.apply_meta(meta, f)
        return 204, None, None

    @staticmethod
    def apply_meta(meta, f):
        if "max_versions" in f:
            meta.max_versions = f["max_versions"]
        if "cas_required" in f:
            meta.cas_required = f["cas_required"]
        if "dva" in f:
            meta.dva = f["dva"]
        if "custom" in f:
            meta.custom = f["custom"]

    def kv_meta_patch(self, mount, key, req):
        if key == "":
            raise HTTPError(400, errors("missing path"))
        st = self.state
        f = self.meta_fields(req, filter_nils=True)
        with st.lock:
            meta = st.store[mount].get(key)
            if meta is None:
                raise HTTPError(404, errors())
            if "custom" in f:
                raw = req.get("custom_metadata") or {}
                f["custom"] = merge_patch(meta.custom or {}, {
                    k: (None if v is None else f["custom"].get(k)) for k, v in raw.items()})
            self.apply_meta(meta, f)
        return 204, None, None

    def kv_meta_delete(self, mount, key):
        st = self.state
        with st.lock:
            st.store[mount].pop(key, None)
        return 204, None, None


# --------------------------------------------------------------------------
# main

def parse_listen(s):
    if s.startswith("unix://"):
        return ("unix", s[len("unix://"):])
    if s.startswith("unix:"):
        return ("unix", s[len("unix:"):])
    host, sep, port = s.rpartition(":")
    if not sep:
        raise SystemExit("--listen wants HOST:PORT or unix:/path")
    host = host.strip("[]") or "127.0.0.1"
    return (host, int(port))


def write_atomic(path, text):
    d = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(d, ".%s.tmp.%d" % (os.path.basename(path), os.getpid()))
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description="HashiCorp Vault HTTP emulator")
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--port-file")
    ap.add_argument("--token", action="append", nargs="+", metavar="TOKEN")
    ap.add_argument("--approle", action="append", metavar="ROLE_ID:SECRET_ID")
    ap.add_argument("--approle-mount", action="append", metavar="MOUNT")
    ap.add_argument("--mount", action="append", metavar="MOUNT")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--sealed", action="store_true")
    ap.add_argument("--log", metavar="FILE", help="append request log lines (no bodies)")
    args = ap.parse_args(argv)

    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")

    state = State(args)
    Handler.state = state
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        try:
            ctx.set_alpn_protocols(["http/1.1"])
        except NotImplementedError:
            pass
        Handler.ssl_ctx = ctx
    if args.log:
        Handler.logfile = open(args.log, "a", buffering=1)

    where = parse_listen(args.listen)
    if where[0] == "unix":
        sock_path = where[1]
        try:
            os.unlink(sock_path)
        except FileNotFoundError:
            pass
        server = UnixServer(sock_path, Handler)
        announce = sock_path
    else:
        host, port = where
        Server.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server = Server((host, port), Handler)
        announce = str(server.server_address[1])

    if args.port_file:
        write_atomic(args.port_file, announce + "\n")

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True)
    t.start()
    while not stop.is_set():
        stop.wait(1.0)
    server.shutdown()
    server.server_close()
    if where[0] == "unix":
        try:
            os.unlink(where[1])
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
