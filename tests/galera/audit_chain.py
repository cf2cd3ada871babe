#!/usr/bin/env python3
"""Checks the audit hash chains from outside the tools (doc/architecture.md,
sections 8 and 9).

    audit_chain.py [--key FILE] ADMIN.cnf DATABASE [ORG_ID...]

For each chain (an organization id, or '' for rows of no organization),
in seq order: every row's prev_hash is the previous row's row_hash (the
first row's is the chain's anchor_hash, or 32 zero bytes), every row_hash
is BLAKE2b-256 over prev_hash and the row's fields as lib/audit.c hashes
them, and audit_chain_heads.last_hash is the last row's row_hash.
With --key, the hash is keyed with the 32 bytes of FILE, as the tools key
it with their audit_key_file (sql/install.sh writes one); without, unkeyed.
Prints one line per chain; exits 1 on the first broken link, 0 if all hold.
"""
import hashlib
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


def row_hash(prev, fields, key):
    h = hashlib.blake2b(digest_size=32, key=key)
    h.update(prev)
    for f in fields:
        n = 0xFFFFFFFFFFFFFFFF if f is None else len(f)
        h.update(n.to_bytes(8, "little"))
        if f is not None:
            h.update(f)
    return h.digest()


def main():
    args, key = sys.argv[1:], b""
    if args[:1] == ["--key"]:
        with open(args[1], "rb") as f:
            key = f.read()
        if len(key) != 32:
            print("%s: the key must hold 32 bytes" % args[1])
            return 2
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
    heads = {r[0].decode(): (r[1], r[2]) for r in query(
        cnf, db, "SELECT HEX(chain), HEX(last_hash), %s FROM audit_chain_heads"
        % hexed("anchor_hash"))}
    chains = {}
    for r in rows:
        chains.setdefault(r[0].decode(), []).append(r)
    for chain, rs in sorted(chains.items()):
        head = heads.get(chain)
        if head is None:
            print("chain '%s': no audit_chain_heads row" % chain)
            return 1
        prev = head[1] or bytes(32)
        for r in rs:
            seq = r[1].decode()
            fields, p, h = r[2:12], r[12], r[13]
            if p != prev:
                print("chain '%s': seq %s: prev_hash is not the previous "
                      "row's row_hash" % (chain, seq))
                return 1
            if row_hash(p, fields, key) != h:
                print("chain '%s': seq %s: row_hash does not match the row"
                      % (chain, seq))
                return 1
            prev = h
        if head[0] != prev:
            print("chain '%s': head is not the last row's row_hash" % chain)
            return 1
        print("chain '%s': %d rows intact" % (chain, len(rs)))
    if orgs and not all(o in chains for o in orgs):
        print("no audit rows for: %s" % " ".join(o for o in orgs if o not in chains))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
