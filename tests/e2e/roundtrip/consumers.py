"""Real consumers of vaultctl exports, for check.sh (run with /usr/bin/python3).

Each reader takes an export file and writes every variable it reads to
OUT/NAME (the exact bytes), so check.sh can compare them with the corpus.

  dotenv-values FILE OUT        python-dotenv dotenv_values(FILE)
  load-dotenv FILE OUT NAME...  python-dotenv load_dotenv(FILE), os.environb
  json FILE OUT                 json.load
  yaml FILE OUT [c]             yaml.safe_load (pure Python, or libyaml: c)
  docker FILE OUT               docker --env-file rules, re-implemented
  records FILE OUT              NUL-separated NAME=value records (env -0)
  docker-env CAPTURE OUT        the Env list a fake daemon captured
  fake-dockerd SOCK CAPTURE     answers the docker client on SOCK and saves
                                the body of a container create to CAPTURE
"""
import json
import os
import sys


def put(out, name, value):
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(name, str) or not isinstance(value, bytes):
        sys.exit("non-string entry %r: %r" % (name, value))
    with open(os.path.join(out, name), "wb") as f:
        f.write(value)


def put_all(out, mapping):
    for name, value in mapping.items():
        if value is not None:
            put(out, name, value)


def dotenv_values(path, out):
    from dotenv import dotenv_values as dv
    put_all(out, dv(path))


def load_dotenv(path, out, *names):
    from dotenv import load_dotenv as ld
    ld(path)
    for name in names:
        value = os.environb.get(name.encode())
        if value is not None:
            put(out, name, value)


def json_load(path, out):
    with open(path, encoding="utf-8") as f:
        put_all(out, json.load(f))


def yaml_load(path, out, kind="pure"):
    import yaml
    loader = yaml.CSafeLoader if kind == "c" else yaml.SafeLoader
    with open(path, "rb") as f:
        data = yaml.load(f, Loader=loader)
    if not isinstance(data, dict):
        sys.exit("not a mapping: %r" % (data,))
    put_all(out, data)


# Go's unicode.IsSpace, which docker uses to trim the start of a line.
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005" \
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def docker_lines(data):
    """bufio.Scanner(ScanLines) with its default 64 KiB token limit."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for line in lines:
        if len(line) + 1 > 65536:
            sys.exit("bufio.Scanner: token too long")
        yield line[:-1] if line.endswith(b"\r") else line


def docker(path, out):
    """docker/cli opts/file.go parseKeyValueFile, line for line."""
    with open(path, "rb") as f:
        data = f.read()
    for i, raw in enumerate(docker_lines(data)):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            sys.exit("invalid utf8 bytes at line %d" % (i + 1))
        if i == 0 and text.startswith("\ufeff"):
            text = text[1:]
        line = text.lstrip(GO_SPACE)
        if not line or line.startswith("#"):
            continue
        name, eq, value = line.partition("=")
        name = name.lstrip(" \t")
        if not name or " " in name or "\t" in name:
            sys.exit("poorly formatted environment: %r" % line)
        if eq:
            put(out, name, value)


def records(path, out):
    with open(path, "rb") as f:
        data = f.read()
    for rec in data.split(b"\0"):
        if rec:
            name, _, value = rec.partition(b"=")
            put(out, name.decode(), value)


def docker_env(capture, out):
    with open(capture, encoding="utf-8") as f:
        env = json.load(f).get("Env") or []
    for item in env:
        name, _, value = item.partition("=")
        put(out, name, value)


def fake_dockerd(sock, capture):
    import http.server
    import socketserver

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, code, body=b"{}", ctype="application/json"):
            self.send_response(code)
            self.send_header("Api-Version", "1.41")
            self.send_header("Ostype", "linux")
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self):
            self.reply(200, b"OK", "text/plain")

        def do_GET(self):
            if self.path.endswith("/_ping"):
                return self.reply(200, b"OK", "text/plain")
            self.reply(404, b'{"message":"not implemented"}')

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if "/containers/create" not in self.path:
                return self.reply(404, b'{"message":"not implemented"}')
            with open(capture + ".tmp", "wb") as f:
                f.write(body)
            os.rename(capture + ".tmp", capture)
            self.reply(201, b'{"Id":"0123456789ab","Warnings":[]}')

    class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        daemon_threads = True

        def get_request(self):
            conn, _ = self.socket.accept()
            return conn, ("local", 0)

    if os.path.exists(sock):
        os.unlink(sock)
    Server(sock, Handler).serve_forever()


COMMANDS = {
    "dotenv-values": dotenv_values, "load-dotenv": load_dotenv,
    "json": json_load, "yaml": yaml_load, "docker": docker,
    "records": records, "docker-env": docker_env,
    "fake-dockerd": fake_dockerd,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
