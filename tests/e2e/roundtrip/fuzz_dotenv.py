"""fuzz_dotenv.py GEN_EXPORT [SEED [COUNT [MAXLEN]]] - random dotenv round trip.

Random values over an alphabet of everything the two dotenv dialects treat
specially are exported one at a time with GEN_EXPORT (see gen_export.c);
each must be refused by name (exit 2) or, together with all the other
accepted values in one file, be read back exactly by npm dotenv (from
$VC_NODE_DOTENV/node_modules), python-dotenv and vaultctl's own parser.
Prints one TAP line per reader.  Run with /usr/bin/python3.
"""
import json
import os
import random
import subprocess
import sys
import tempfile

ALPHABET = ["'", '"', "`", "\\", "$", "{", "}", "#", " ", "\t", "\n", "\r",
            "=", ":", "-", "a", "b", "f", "n", "r", "t", "u", "v", "x", "é",
            "\u2028", "\x0b", "\x0c", "\x85", "export ", "A="]


def main():
    gen = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    maxlen = int(sys.argv[4]) if len(sys.argv) > 4 else 16
    rng = random.Random(seed)
    tmp = tempfile.mkdtemp(prefix="vc-fuzz-")
    one, acc, back = (os.path.join(tmp, d) for d in ("one", "acc", "back"))
    for d in (one, acc, back):
        os.mkdir(d)
    accepted, refused, bad = {}, 0, []
    for i in range(count):
        name = "V%05d" % i
        value = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, maxlen)))
        for f in os.listdir(one):
            os.unlink(os.path.join(one, f))
        with open(os.path.join(one, name), "wb") as f:
            f.write(value.encode())
        r = subprocess.run([gen, "dotenv", one], capture_output=True)
        if r.returncode == 0:
            accepted[name] = value
            with open(os.path.join(acc, name), "wb") as f:
                f.write(value.encode())
        elif r.returncode != 2 or ("'%s'" % name).encode() not in r.stderr:
            bad.append("%s %r: exit %d %s" % (name, value, r.returncode, r.stderr))
        else:
            refused += 1
    print("ok 1 - seed %d: %d accepted, %d refused" % (seed, len(accepted), refused)
          if not bad else "not ok 1 - refusals not by name: %s" % bad[:3])

    path = os.path.join(tmp, "export.env")
    with open(path, "wb") as f:
        f.write(subprocess.run([gen, "dotenv", acc], capture_output=True,
                               check=True).stdout)
    readers = {}
    from dotenv import dotenv_values
    readers["python-dotenv"] = lambda: dotenv_values(path)
    readers["npm dotenv"] = lambda: json.loads(subprocess.run(
        ["node", "-e", "process.stdout.write(JSON.stringify(require('dotenv')"
         ".parse(require('fs').readFileSync(process.argv[1]))))", path],
        capture_output=True, check=True, env=dict(
            os.environ, NODE_PATH=os.path.join(
                os.environ.get("VC_NODE_DOTENV", "/nonexistent"),
                "node_modules"))).stdout)

    def vaultctl():
        subprocess.run([gen, "--import", "dotenv", path, back], check=True)
        return {n: open(os.path.join(back, n), "rb").read().decode()
                for n in os.listdir(back)}
    readers["vaultctl import"] = vaultctl
    status = 0 if not bad else 1
    for i, (who, read) in enumerate(readers.items(), start=2):
        try:
            got = read()
        except Exception as exc:  # a reader that fails is a failure
            print("not ok %d - %s: %s" % (i, who, exc))
            status = 1
            continue
        wrong = [n for n, v in accepted.items() if got.get(n) != v]
        if wrong:
            status = 1
            n = wrong[0]
            print("not ok %d - %s: %d values differ, e.g. %s %r -> %r"
                  % (i, who, len(wrong), n, accepted[n], got.get(n)))
        else:
            print("ok %d - %s reads all %d back exactly" % (i, who, len(accepted)))
    print("1..%d" % (len(readers) + 1))
    subprocess.run(["rm", "-rf", tmp])
    sys.exit(status)


if __name__ == "__main__":
    main()
