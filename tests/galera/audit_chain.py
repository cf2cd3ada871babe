#!/usr/bin/env python3
"""Checks the audit hash chains from outside the tools (doc/architecture.md,
sections 8 and 9).

    audit_chain.py [--config VAULTCTL.cnf] ADMIN.cnf DATABASE [ORG_ID...]

For each chain (an organization id, or '' for rows of no organization),
in seq order: every row's prev_hash is the previous row's row_hash (the
first row's is the chain's anchor_hash, or 32 zero bytes, or for a chain
begun under a key that key's genesis hash), every row_hash
is BLAKE2b-256 over prev_hash and the row's fields as lib/audit.c hashes
them, and audit_chain_heads.last_hash is the last row's row_hash.
Keys: with --config, the audit key its audit_key_file names and the old
ones kept beside it (FILE.<key id>, lib/audit_key.c).  An 'audit.epoch'
row and the rows after it are keyed with the key its details name; the
rows before a chain's first epoch row with no key or one of those keys,
as the first of them shows.  A keyed head's MAC is checked too.
A row that lists reads (action 'secret.read' about an environment) must
find its reads in audit_reads, in pos order, with the count and digest
its details carry (lib/audit_reads.c); every read must be under such a
row.
Prints one line per chain; exits 1 on the first broken link, 0 if all hold.
"""
import glob
import hashlib
import json
import subprocess
import sys

FIELDS = ["id", "user_id", "organization_id", "action", "resource_type",
          "resource_id", "DATE_FORMAT(`timestamp`, '%Y-%m-%d %H:%i:%s')",
          "ip_address", "user_agent", "details"]


def query(cnf, db, sql):
    # Each value travels as hex, with '-' for NULL: no quoting to undo.
    out = subprocess.run(["mariadb", "--defaults-file=" + cnf, db, "-N", "-B",
                          "-e", "SET SESSION wsrep_sync_wait = 1; " + sql],
                         check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        rows.append([None if c == "-" else bytes.fromhex(c)
                     for c in line.split("\t")])
    return rows


def hexed(expr):
    return "IF(%s IS NULL, '-', HEX(%s))" % (expr, expr)


def row_hash(prev, fields, key=b""):
    h = hashlib.blake2b(digest_size=32, key=key)
    h.update(prev)
    for f in fields:
        n = 0xFFFFFFFFFFFFFFFF if f is None else len(f)
        h.update(n.to_bytes(8, "little"))
        if f is not None:
            h.update(f)
    return h.digest()


def key_id(key):
    return hashlib.blake2b(b"vaultctl audit key id", key=key,
                           digest_size=8).digest()


def head_mac(key, chain, seq, last, epoch, kid):
    h = hashlib.blake2b(digest_size=32, key=key)
    h.update(b"vaultctl audit head v1")
    c = chain.encode()
    h.update(len(c).to_bytes(8, "little"))
    h.update(c)
    h.update(seq.to_bytes(8, "little"))
    h.update(last)
    h.update(epoch.to_bytes(8, "little"))
    h.update(kid)
    return h.digest()


def genesis(key, chain):
    h = hashlib.blake2b(digest_size=32, key=key)
    h.update(b"vaultctl audit chain start v1")
    c = chain.encode()
    h.update(len(c).to_bytes(8, "little"))
    h.update(c)
    return h.digest()


def load_keys(cnf):
    """{key id: key} of audit_key_file in cnf's [vaultctl] and its old keys."""
    path, group = None, None
    with open(cnf) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                group = line.strip("[]").strip()
            elif group == "vaultctl" and "=" in line:
                name, value = line.split("=", 1)
                if name.strip() == "audit_key_file":
                    path = value.strip().strip("'\"")
    keys = {}
    if path:
        for name in [path] + glob.glob(glob.escape(path) + "." + "[0-9a-f]" * 16):
            with open(name, "rb") as f:
                key = f.read()
            if len(key) == 32:
                keys[key_id(key)] = key
    return keys


def reads_digest(reads):
    h = hashlib.blake2b(digest_size=32)
    h.update(b"vaultctl audit reads v1")
    for secret_id, version in reads:
        h.update(len(secret_id).to_bytes(8, "little"))
        h.update(secret_id)
        h.update(version.to_bytes(8, "little", signed=True))
    h.update(len(reads).to_bytes(8, "little"))
    return h.hexdigest()


def is_list(fields):
    return fields[3] == b"secret.read" and fields[4] == b"environment"


def check_reads(rs, reads):
    """None when every list row's reads match its details and every read
    is under a list row, else what is wrong."""
    for r in rs:
        seq, fields = int(r[1]), r[2:12]
        got = reads.pop(seq, [])
        if not is_list(fields):
            if got:
                return "seq %d: reads under a row that lists none" % seq
            continue
        d = json.loads(fields[9])
        if d.get("reads") != len(got) or d.get("digest") != reads_digest(got):
            return "seq %d: its reads do not match its digest" % seq
    return None


def check_chain(chain, rs, head, keys):
    """None when the chain holds, else what is wrong."""
    prev = head["anchor"] or bytes(32)
    mode = None         # the key of the rows being read; b"" unkeyed
    keyed = False       # a keyed head is required
    for r in rs:
        seq = r[1].decode()
        fields, p, h = r[2:12], r[12], r[13]
        if mode is None and head["anchor"] is None and p != prev:
            mode = next((k for k in keys.values() if genesis(k, chain) == p),
                        None)
            prev, keyed = (p, True) if mode is not None else (prev, False)
        if p != prev:
            return "seq %s: prev_hash is not the previous row's row_hash" % seq
        if fields[3] == b"audit.epoch":
            mode = keys.get(bytes.fromhex(json.loads(fields[9])["key_id"]))
            keyed = True
            if mode is None:
                return "seq %s: its epoch's audit key is not at hand" % seq
        elif mode is None:
            mode = next((k for k in [b""] + list(keys.values())
                         if row_hash(p, fields, k) == h), None)
            if mode is None:
                return "seq %s: row_hash does not match the row" % seq
        if row_hash(p, fields, mode) != h:
            return "seq %s: row_hash does not match the row" % seq
        prev = h
    if head["last"] != prev:
        return "head is not the last row's row_hash"
    if keyed and head["key_id"] is None:
        return "head is not keyed, and its chain is"
    if head["key_id"] is not None:
        key = keys.get(head["key_id"])
        if key is None or head["mac"] != head_mac(
                key, chain, head["seq"], head["last"], head["epoch"],
                head["key_id"]):
            return "head MAC does not match (or its key is not at hand)"
    return None


def main():
    args = sys.argv[1:]
    keys = {}
    if args[:1] == ["--config"]:
        keys = load_keys(args[1])
        args = args[2:]
    cnf, db, orgs = args[0], args[1], args[2:]
    where = ""
    if orgs:
        where = " WHERE COALESCE(organization_id, '') IN (%s)" % ", ".join(
            "'%s'" % o.replace("'", "") for o in orgs)
    rows = query(cnf, db, "SELECT %s, %s, %s, %s FROM audit_logs%s ORDER BY seq" % (
        hexed("COALESCE(organization_id, '')"), hexed("CAST(seq AS CHAR)"),
        ", ".join(hexed(f) for f in FIELDS), "HEX(prev_hash), HEX(row_hash)",
        where))
    heads = {}
    for r in query(cnf, db, "SELECT HEX(chain), HEX(last_hash), %s, "
                   "HEX(CAST(last_seq AS CHAR)), HEX(CAST(epoch AS CHAR)), "
                   "%s, %s FROM audit_chain_heads" % (
                       hexed("anchor_hash"), hexed("key_id"),
                       hexed("head_mac"))):
        heads[r[0].decode()] = {"last": r[1], "anchor": r[2],
                                "seq": int(r[3]), "epoch": int(r[4]),
                                "key_id": r[5], "mac": r[6]}
    reads = {}
    for r in query(cnf, db, "SELECT HEX(CAST(seq AS CHAR)), HEX(secret_id), "
                   "HEX(CAST(version AS CHAR)) FROM audit_reads ORDER BY "
                   "seq, pos"):
        reads.setdefault(int(r[0]), []).append((r[1], int(r[2])))
    chains = {}
    for r in rows:
        chains.setdefault(r[0].decode(), []).append(r)
    for chain, rs in sorted(chains.items()):
        head = heads.get(chain)
        if head is None:
            print("chain '%s': no audit_chain_heads row" % chain)
            return 1
        problem = check_chain(chain, rs, head, keys) or check_reads(rs, reads)
        if problem:
            print("chain '%s': %s" % (chain, problem))
            return 1
        print("chain '%s': %d rows intact" % (chain, len(rs)))
    if not orgs and reads:
        print("audit_reads: reads under seq %d, which is no row" % min(reads))
        return 1
    if orgs and not all(o in chains for o in orgs):
        print("no audit rows for: %s" % " ".join(o for o in orgs if o not in chains))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
