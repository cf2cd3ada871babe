#!/usr/bin/python3
"""hygiene.py - the secret-hygiene scan of the whole suite (issue 10).

    /usr/bin/python3 tests/harness/hygiene.py [-v] DIR

(-v: one comment line per value found, wherever it was.)

DIR is what tests/e2e/helper.bash collected while the suite ran
(VC_HYGIENE_DIR, one sub-directory per bats file):

  runs.log                   every `run`: command words, output, stderr
  server.*/tables.sql        mariadb-dump of every table, vc_values too
  server.*/names.tsv         ids and names the tests created
  server.*/values.tsv        the local store's values (tests/tools/vc-values)
  server.*/files/...         error log, general query log, emulator request
                             log and output, the tools' files (history)
  emu-dump.*                 the Vault emulator's data (GET /_emulator/dump)
  emu-written.*              every value it was ever given (/_emulator/written)
  errors                     collection steps that failed

The values are every version of every secret the stores hold or were sent
(the local store's general log keeps the sealed writes of versions since
purged).  Each value is looked for, as its raw bytes, as the server would
escape it in SQL text and as JSON would, in full or, for a value longer
than 64 bytes, its first 64 bytes (a truncated copy leaks too).  It may
be found only:

  - in the output of a command that was asked for values: vaultctl-secret
    get, export (without -O), run, diff --show-values, rotate --show, the
    same through `vaultctl secret`, and scripts (bash -c, shell functions)
    whose text runs one of them, `vaultctl shell` input included.  Not when
    the command failed (run excepted: its exit status is the child's): a
    refusal or an error prints no value.  With --separate-stderr, a
    vaultctl command's stderr must hold no value (run's excepted: it is
    the child's);
  - in the tests' own SQL: statements of the server's root connections in
    the general log (vc_sql, sql/install.sh; a test may look for a value
    with INSTR).  The tools never connect as root.

Everywhere else it is a leak: every table (the sealed store's ciphertext
included), error logs, the general log of the tools' four accounts, the
emulator's request log, the tools' files, and the output and stderr of
every other vaultctl command.  Not checked, not being our messages: the
command lines the tests wrote, and the output of commands that are not
vaultctl and of scripts that do not mention it (cat, jq, consumers,
check.sh).

Skipped, with the count printed: values shorter than 8 bytes (too common
to mean anything when found) and values equal to a name the tests gave
(organization, project, environment, secret, user email, plan): those
are found wherever the name is.

Prints TAP, one line per bats file; a leak names the file, where in it,
and the value's owner (bats file, secret, version, store), never the
value: its first 3 bytes, its length and a hash.  Exit 1 on a leak or a
collection error.
"""

import base64
import bisect
import glob
import hashlib
import json
import mmap
import os
import re
import subprocess
import sys
import tempfile

MIN_LEN = 8
NEEDLE_MAX = 64
PER_FILE_LINES = 20

# Global options of the tools that take an argument (cmd/common/cli.c).
GLOBAL_ARG = {"-c", "--config", "--as", "-o", "--output"}
TOOLS = ("org", "secret", "plan", "audit")
SHELLS = {"sh", "bash", "dash", "zsh", "ash", "busybox"}
WRAPPERS = {"env", "timeout", "setsid", "nice", "stdbuf", "command", "exec"}


# ---- values ---------------------------------------------------------------

def sql_escaped(b):
    """As mysql_real_escape_string writes it (dumps, the general log)."""
    table = {0: b"\\0", 10: b"\\n", 13: b"\\r", 26: b"\\Z", 92: b"\\\\",
             39: b"\\'", 34: b'\\"'}
    return b"".join(table.get(c, bytes((c,))) for c in b)


def json_escaped(b):
    """As cJSON prints a string (-o json), without the quotes."""
    try:
        text = b.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return json.dumps(text, ensure_ascii=False)[1:-1].encode("utf-8")


def hint(v):
    """Enough to tell values apart, never the value."""
    head = v[:3].decode("latin-1").encode("unicode_escape").decode()
    return "'%s...' (%d bytes, sha256 %s)" % (
        head, len(v), hashlib.sha256(v).hexdigest()[:12])


class Values:
    def __init__(self):
        self.owners = {}         # value -> set of owners
        self.names = set()       # names the tests gave, as bytes
        self.ids = {}            # id -> name

    def load_names(self, path):
        with open(path, "rb") as f:
            for line in f:
                parts = line.rstrip(b"\n").split(b"\t")
                if len(parts) == 3:
                    self.ids[parts[1].decode()] = parts[2].decode(
                        "utf-8", "replace")
                    self.names.add(parts[2])

    def add(self, value, owner):
        self.owners.setdefault(value, set()).add(owner)

    def readable(self, path):
        """organizations/ID/projects/ID/environments/ID/secrets/NAME ->
        org/project/env/NAME with the names the tests gave."""
        parts = path.split("/")
        if len(parts) == 8 and parts[0] == "organizations":
            return "/".join(self.ids.get(parts[i], parts[i])
                            for i in (1, 3, 5)) + "/" + parts[7]
        return path

    def load_local(self, bats, path):
        with open(path, "rb") as f:
            for line in f:
                parts = line.rstrip(b"\n").split(b"\t")
                if len(parts) != 3:
                    raise ValueError("%s: malformed line" % path)
                self.add(bytes.fromhex(parts[2].decode()), (
                    bats, parts[0].decode("utf-8", "replace"),
                    parts[1].decode(), "local store"))

    def add_vault(self, data, owner):
        """One KV data object as vault.c writes it: {"value": text}, or
        {"encoding": "base64", "value": ...} for other bytes."""
        if not isinstance(data, dict) or \
                not isinstance(data.get("value"), str):
            return
        v = data["value"].encode("utf-8")
        if data.get("encoding") == "base64":
            v = base64.b64decode(v)
        self.add(v, owner)

    def load_emulator(self, bats, path):
        with open(path, "rb") as f:
            dump = json.load(f)
        for mount, keys in dump.items():
            for key, meta in keys.items():
                for n, ver in meta.get("versions", {}).items():
                    self.add_vault(ver.get("data"),
                                   (bats, key, n, "Vault " + mount))

    def load_emulator_written(self, bats, path):
        with open(path, "rb") as f:
            written = json.load(f).get("written", [])
        for w in written:
            self.add_vault(w.get("data"), (bats, w.get("key") or "?",
                                           w.get("version"),
                                           "Vault " + str(w.get("mount"))))

    def owner_text(self, owner):
        bats, path, version, store = owner
        return "%s: %s v%s (%s)" % (bats, self.readable(path), version, store)


# ---- needles: what grep looks for -------------------------------------------

class Needles:
    """Each checked value's forms, cut to NEEDLE_MAX bytes.  grep -F takes
    lines, so it gets each needle's longest piece without a newline or
    NUL; a hit is then checked against the whole needle."""

    def __init__(self, values):
        self.of = {}             # needle -> set of values
        for v in values:
            for form in (v, sql_escaped(v), json_escaped(v)):
                if form is not None:
                    self.of.setdefault(form[:NEEDLE_MAX], set()).add(v)
        self.by_piece = {}       # piece -> [(needle, offset in needle)]
        self.short = []          # needles with no piece long enough
        for n in self.of:
            piece = max(re.split(rb"[\n\0]", n), key=len)
            if len(piece) >= MIN_LEN:
                self.by_piece.setdefault(piece, []).append(
                    (n, n.index(piece)))
            else:
                self.short.append(n)


# ---- where a hit is: records of runs.log --------------------------------------

def unwrap(words):
    """The command that env, timeout and the like run."""
    while words and os.path.basename(words[0]) in WRAPPERS:
        wrapper, words = os.path.basename(words[0]), words[1:]
        while words and (words[0].startswith("-") or
                         (wrapper == "env" and "=" in words[0])):
            takes_arg = words[0] in ("-u", "--unset", "-s", "-k", "-n")
            words = words[2 if takes_arg else 1:]
        if wrapper == "timeout" and words:
            words = words[1:]               # the duration
    return words


def words_policy(words, body, status="0"):
    """(stdout policy, stderr policy) of one run: 'allowed', 'strict' or
    'skip' (not our messages)."""
    if body is not None:
        return script_policy(body + "\n" + " ".join(words[1:]))
    words = unwrap(words)
    if not words:
        return "skip", "skip"
    name = os.path.basename(words[0])
    if name in SHELLS or name == "script":
        for i, w in enumerate(words[:-1]):
            if re.match(r"^-[a-z]*c[a-z]*$", w):
                return script_policy(words[i + 1])
        return "skip", "skip"
    if name == "vaultctl":
        if len(words) > 1 and words[1] == "shell":
            return "allowed", "allowed"     # its input is not known here
        if len(words) > 1 and words[1] in TOOLS:
            return tool_policy("vaultctl-" + words[1], words[2:], status)
        return "strict", "strict"
    if name.startswith("vaultctl-"):
        return tool_policy(name, words[1:], status)
    return "skip", "skip"


def tool_policy(tool, args, status):
    """A command that failed printed no value: its refusals and errors
    name secrets, never show them (diff exits 1 when the sides differ)."""
    if tool != "vaultctl-secret":
        return "strict", "strict"
    if "--" in args:
        args = args[:args.index("--")]
    cmd, skip_next = None, False
    for a in args:
        if skip_next:
            skip_next = False
        elif a in GLOBAL_ARG:
            skip_next = True
        elif not a.startswith("-"):
            cmd = a
            break
    if cmd == "run":
        return "allowed", "allowed"          # the child's own output
    asked = (cmd == "get" or (cmd == "export" and "-O" not in args) or
             (cmd == "diff" and "--show-values" in args) or
             (cmd == "rotate" and "--show" in args))
    if status not in ("0", "1" if cmd == "diff" else "0"):
        asked = False
    return ("allowed" if asked else "strict"), "strict"


SCRIPT_ASKS = re.compile(
    r"secret\S*\s+(?:[^\s|;&]+\s+)*?(?:get|export|run)\b|--show-values|"
    r"rotate\b.*--show\b|VC_EXPORT_CMD")


def script_policy(text):
    """A script (bash -c, a shell function) is ours when it runs a tool;
    it may print values when some line of it asks for them."""
    if "vaultctl" not in text:
        return "skip", "skip"
    for line in text.splitlines():
        if SCRIPT_ASKS.search(line):
            return "allowed", "allowed"
    return "strict", "strict"


class Record:
    __slots__ = ("test", "status", "desc", "words", "spans", "policy")

    def where(self, field):
        cmd = " ".join(w[:40] for w in self.words[:4])
        if len(self.words) > 4:
            cmd += " ..."
        return "test %s (%s): %s of `%s` (exit %s)" % (
            self.test, self.desc, field, cmd, self.status)


def parse_runs(mm):
    """Records of runs.log; each with its fields' spans (start, end,
    field)."""
    recs, pos = [], 0
    size = len(mm)
    while pos < size:
        nl = mm.find(b"\n", pos)
        head = mm[pos:nl].split(b" ")
        if nl < 0 or len(head) != 9 or head[0] != b"VCRUN":
            raise ValueError("runs.log: no record at byte %d" % pos)
        r = Record()
        r.test, r.status, mode = (h.decode() for h in head[1:4])
        lens = [int(x) for x in head[4:9]]
        at = nl + 1
        spans = []
        for field, n in zip(("desc", "cmd", "body", "stdout", "stderr"),
                            lens):
            spans.append((at, at + n, field))
            at += n
        if mm[at:at + 1] != b"\n":
            raise ValueError("runs.log: record at byte %d is cut" % pos)
        r.desc = mm[spans[0][0]:spans[0][1]].decode("utf-8", "replace")
        r.words = [w.decode("utf-8", "replace") for w in
                   mm[spans[1][0]:spans[1][1]].split(b"\0")[:-1]]
        body = (mm[spans[2][0]:spans[2][1]].decode("utf-8", "replace")
                if lens[2] else None)
        out, err = words_policy(r.words, body, r.status)
        if mode == "M":
            err = out
        r.policy = {"desc": "skip", "cmd": "skip", "body": "skip",
                    "stdout": out, "stderr": err}
        r.spans = spans
        recs.append(r)
        pos = at + 1
    return recs


# ---- where a hit is: the general log ----------------------------------------

ENTRY = re.compile(rb"(?:\d{6} +\d{1,2}:\d\d:\d\d)?\t+ *(\d+) [A-Z][A-Za-z ]*\t")


def general_user(mm, offset):
    """The account of the connection whose statement holds offset."""
    line = mm.rfind(b"\n", 0, offset) + 1
    while line > 0:
        m = ENTRY.match(mm, line)
        if m:
            break
        line = mm.rfind(b"\n", 0, line - 1) + 1
    else:
        m = ENTRY.match(mm, 0)
    if not m:
        return None
    tag = b" %s Connect\t" % m.group(1)
    c = mm.rfind(tag, 0, offset)
    if c < 0:
        return None
    start = c + len(tag)
    return mm[start:mm.find(b"@", start, start + 80)].decode(
        "utf-8", "replace")


# ---- the scan ------------------------------------------------------------------

class Haystack:
    def __init__(self, path, rel, bats):
        self.path, self.rel, self.bats = path, rel, bats
        self.size = os.path.getsize(path)
        self._mm = None
        self.records = None
        self.starts = None
        self.kind = ("runs" if rel.endswith("/runs.log") else
                     "general" if rel.endswith("/general.log") else "strict")

    @property
    def mm(self):
        if self._mm is None:
            with open(self.path, "rb") as f:
                self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        return self._mm

    def load(self):
        if self.kind == "runs" and self.size:
            self.records = parse_runs(self.mm)
            self.starts = [r.spans[0][0] for r in self.records]

    def place(self, offset):
        """(policy, text) for a hit at offset."""
        if self.kind == "runs":
            r = self.records[bisect.bisect_right(self.starts, offset) - 1]
            for s, e, field in r.spans:
                if s <= offset < e:
                    return r.policy[field], r.where(field)
            return "skip", "between records"
        if self.kind == "general":
            user = general_user(self.mm, offset)
            if user == "root":
                return "test-sql", "a root statement"
            return "strict", "a statement of %s" % (user or "an unknown connection")
        return "strict", "byte %d" % offset


def grep_hits(needles, stacks, tmp):
    """(haystack, offset, piece) for every match of a piece."""
    if not needles.by_piece or not stacks:
        return
    pats = os.path.join(tmp, "pieces")
    with open(pats, "wb") as f:
        for p in needles.by_piece:
            f.write(p + b"\n")
    by_path = {h.path: h for h in stacks}
    cmd = ["grep", "-F", "-a", "-o", "-b", "-H", "-Z", "-f", pats, "--"]
    cmd += [h.path for h in stacks if h.size]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            env=dict(os.environ, LC_ALL="C"))
    for line in proc.stdout:
        path, _, rest = line.rstrip(b"\n").partition(b"\0")
        off, _, piece = rest.partition(b":")
        yield by_path[path.decode()], int(off), piece
    if proc.wait() > 1:
        raise RuntimeError("grep failed")


def needles_at(h, offset, piece, needles):
    """The needles found around a hit: the piece's own, and any other one
    in reach (grep -o reports one of overlapping matches)."""
    found = set()
    for n, k in needles.by_piece.get(piece, ()):
        s = offset - k
        if s >= 0 and h.mm[s:s + len(n)] == n:
            found.add(n)
    lo = max(0, offset - NEEDLE_MAX)
    window = h.mm[lo:offset + len(piece) + NEEDLE_MAX]
    for n in needles.of:
        if n not in found and n in window:
            found.add(n)
    return found


def main():
    verbose = sys.argv[1:2] == ["-v"]
    if len(sys.argv) != 2 + verbose:
        sys.exit("usage: hygiene.py [-v] DIR")
    top = sys.argv[-1]
    values = Values()
    stacks, errors, bats_dirs = [], {}, []
    for d in sorted(glob.glob(os.path.join(top, "*", ""))):
        bats = os.path.basename(d.rstrip("/"))
        bats_dirs.append(bats)
        errs = []
        if os.path.exists(os.path.join(d, "errors")):
            with open(os.path.join(d, "errors"), errors="replace") as f:
                errs += ["collection: " + l.rstrip() for l in f]
        for p in glob.glob(os.path.join(d, "server.*", "names.tsv")):
            values.load_names(p)
        try:
            for p in glob.glob(os.path.join(d, "server.*", "values.tsv")):
                values.load_local(bats, p)
            for p in glob.glob(os.path.join(d, "emu-dump.*")):
                values.load_emulator(bats, p)
            for p in glob.glob(os.path.join(d, "emu-written.*")):
                values.load_emulator_written(bats, p)
        except ValueError as e:
            errs.append("values: %s" % e)
        files = glob.glob(os.path.join(d, "server.*", "tables.sql"))
        files += glob.glob(os.path.join(d, "server.*", "files", "**"),
                           recursive=True)
        files += glob.glob(os.path.join(d, "runs.log"))
        for p in sorted(files):
            if os.path.isfile(p):
                h = Haystack(p, os.path.relpath(p, top), bats)
                try:
                    h.load()
                except ValueError as e:
                    errs.append("%s: %s" % (h.rel, e))
                    continue
                stacks.append(h)
        errors[bats] = errs

    checked = [v for v in values.owners
               if len(v) >= MIN_LEN and v not in values.names]
    short = sum(1 for v in values.owners if len(v) < MIN_LEN)
    named = len(values.owners) - short - len(checked)
    needles = Needles(checked)

    leaks = {b: [] for b in bats_dirs}     # bats -> [text]
    counts = {"allowed": 0, "test-sql": 0, "skip": 0, "strict": 0}
    seen = set()

    def hit(h, offset, found):
        policy, where = h.place(offset)
        for n in found:
            for v in needles.of[n]:
                key = (h.path, where, v)
                if key in seen:
                    continue
                seen.add(key)
                counts[policy] += 1
                if verbose:
                    print("# %s: %s, %s: value %s" % (
                        policy, h.rel, where, hint(v)))
                if policy == "strict":
                    owners = sorted(values.owner_text(o)
                                    for o in values.owners[v])
                    leaks[h.bats].append("%s, %s: value %s of %s%s" % (
                        h.rel, where, hint(v), owners[0],
                        " (and %d more)" % (len(owners) - 1)
                        if len(owners) > 1 else ""))

    with tempfile.TemporaryDirectory() as tmp:
        for h, off, piece in grep_hits(needles, stacks, tmp):
            policy, _ = h.place(off)
            if policy == "strict":
                found = needles_at(h, off, piece, needles)
            else:
                found = {n for n, k in needles.by_piece.get(piece, ())
                         if h.mm[off - k:off - k + len(n)] == n}
            if found:
                hit(h, off, found)
    # A raw value with short pieces between its newlines or NULs is
    # looked for in full, but not in SQL text, where those bytes are
    # escaped (and its escaped forms are in the grep).
    for n in needles.short:
        for h in stacks:
            sql = h.kind == "general" or h.rel.endswith("/tables.sql")
            at = h.mm.find(n) if h.size and not sql else -1
            while at >= 0:
                hit(h, at, {n})
                at = h.mm.find(n, at + 1)

    def redact(line):
        """Report lines name commands: no value goes out with them."""
        b = line.encode("utf-8", "surrogateescape")
        for n in needles.of:
            if n in b:
                b = b.replace(n, b"<value>")
        return b.decode("utf-8", "replace")

    failed = 0
    for i, bats in enumerate(bats_dirs, 1):
        lines = [redact(l) for l in errors[bats] + leaks[bats]]
        if lines:
            failed += 1
            print("not ok %d - %s: a stored value outside the value store "
                  "and the outputs that asked for it" % (i, bats))
            for l in lines[:PER_FILE_LINES]:
                print("# " + l)
            if len(lines) > PER_FILE_LINES:
                print("# ... %d more" % (len(lines) - PER_FILE_LINES))
        else:
            print("ok %d - %s: values only in the value store and the "
                  "outputs that asked for them" % (i, bats))
    runs = sum(len(h.records or ()) for h in stacks)
    print("# hygiene: %d values, %d files, %.1f MB (%d runs recorded)" % (
        len(checked), len(stacks), sum(h.size for h in stacks) / 1e6, runs))
    print("# hygiene: skipped %d values shorter than %d bytes and %d equal "
          "to a name" % (short, MIN_LEN, named))
    print("# hygiene: found %d times where asked for, %d in the tests' own "
          "SQL, %d in outputs of other programs, %d where they must not be"
          % (counts["allowed"], counts["test-sql"], counts["skip"],
             counts["strict"]))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
