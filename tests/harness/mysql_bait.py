#!/usr/bin/python3
"""A hostile MySQL server for the tests: it greets a client as MariaDB
would, then asks for the password in a form it can read, and writes every
byte the client sent (and, for caching_sha2_password, what it decrypts)
to a capture file.  No query is ever served.

  mysql_bait.py --mode MODE --port-file FILE --capture FILE

MODE says how it asks:
  clear-greeting  the greeting names mysql_clear_password
  clear-switch    an auth switch to mysql_clear_password after the greeting
  dialog-switch   an auth switch to dialog, asking for a password (PAM's way)
  sha2-switch     an auth switch to caching_sha2_password, then "full
                  authentication" over plain TCP: the client asks for the
                  server's RSA key, gets the bait's own, and encrypts the
                  password to it (decrypted here when python3-cryptography
                  is there)
The port file is written once the socket listens; one connection is
served at a time, until the process is killed.
"""

import argparse
import os
import socket
import struct

CAPS = (0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000200 |
        0x00002000 | 0x00008000 | 0x00020000 | 0x00080000)
SCRAMBLE = b"0123456789abcdefghij"


def packet(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq & 0xff]) + payload


def read_packet(conn, capture):
    head = b""
    while len(head) < 4:
        more = conn.recv(4 - len(head))
        if not more:
            raise EOFError
        head += more
    n = head[0] | head[1] << 8 | head[2] << 16
    body = b""
    while len(body) < n:
        more = conn.recv(n - len(body))
        if not more:
            raise EOFError
        body += more
    capture.write(head + body)
    capture.flush()
    return head[3], body


def greeting(plugin):
    return (b"\x0a" + b"5.5.5-10.11.0-MariaDB-bait\x00" +
            struct.pack("<I", 7) + SCRAMBLE[:8] + b"\x00" +
            struct.pack("<H", CAPS & 0xffff) + bytes([45]) +
            struct.pack("<H", 2) + struct.pack("<H", CAPS >> 16) +
            bytes([21]) + b"\x00" * 10 + SCRAMBLE[8:] + b"\x00" +
            plugin + b"\x00")


def rsa_key():
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError:
        return None, None
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, pem


def rsa_decrypt(key, blob):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    plain = key.decrypt(blob, padding.OAEP(
        mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(),
        label=None))
    return bytes(b ^ SCRAMBLE[i % len(SCRAMBLE)] for i, b in enumerate(plain))


def serve(conn, mode, capture):
    first = b"mysql_clear_password" if mode == "clear-greeting" else \
        b"mysql_native_password"
    conn.sendall(packet(0, greeting(first)))
    seq, _ = read_packet(conn, capture)
    if mode == "clear-greeting":
        return
    if mode == "clear-switch":
        conn.sendall(packet(seq + 1, b"\xfemysql_clear_password\x00"))
        read_packet(conn, capture)
        return
    if mode == "dialog-switch":
        conn.sendall(packet(seq + 1, b"\xfedialog\x00\x05Password: "))
        read_packet(conn, capture)
        return
    key, pem = rsa_key()
    conn.sendall(packet(seq + 1, b"\xfecaching_sha2_password\x00" +
                        SCRAMBLE + b"\x00"))
    seq, _ = read_packet(conn, capture)              # the SHA-256 scramble
    conn.sendall(packet(seq + 1, b"\x01\x04"))       # full authentication
    seq, body = read_packet(conn, capture)
    if body == b"\x02" and pem:                      # "your public key?"
        conn.sendall(packet(seq + 1, b"\x01" + pem))
        seq, blob = read_packet(conn, capture)
        capture.write(b"\ndecrypted: " + rsa_decrypt(key, blob) + b"\n")
        capture.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", required=True, choices=[
        "clear-greeting", "clear-switch", "dialog-switch", "sha2-switch"])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--capture", required=True)
    a = ap.parse_args()
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(tmp, a.port_file)
    with open(a.capture, "ab") as capture:
        while True:
            conn, _ = srv.accept()
            conn.settimeout(10)
            try:
                serve(conn, a.mode, capture)
            except (EOFError, OSError, ValueError):
                pass
            finally:
                conn.close()


if __name__ == "__main__":
    main()
