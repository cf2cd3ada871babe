#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal and types into it as a person would.

    ptydrive.py [--timeout S] -- COMMAND [ARGS...] <SCRIPT

SCRIPT has one step a line:
    type TEXT     writes TEXT; backslash escapes as in Python ('\\t' Tab,
                  '\\r' Enter, '\\x03' Ctrl-C, '\\x04' Ctrl-D)
    wait REGEX    waits until REGEX matches what the command wrote since
                  the last wait (escape sequences and '\\r' left out)
    sleep S       waits S seconds
    until CMD     runs the shell command CMD every 0.1 s until it succeeds
                  (what the command does to others: a query waiting, ...)
When the script ends, waits for the command to exit, then prints the
screen (what a terminal of 100 columns would show, trailing blanks cut)
and a last line "exit N" (N = 128 + signal when killed).  A wait that
times out prints "ptydrive.py: timed out waiting for ..." on stderr, then the
screen, and exits 1 after killing the command.  Standard library only.
"""
import codecs
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

COLS = 100


class Screen:
    """Enough of a VT100 for readline: text, CR/LF/BS/TAB, cursor moves
    and erasures (CSI A B C D G H K J P X @); other sequences dropped."""

    def __init__(self):
        self.lines = [[]]
        self.row = self.col = 0
        self.pending = ""

    def _line(self):
        while len(self.lines) <= self.row:
            self.lines.append([])
        line = self.lines[self.row]
        while len(line) < self.col:
            line.append(" ")
        return line

    def _put(self, ch):
        if self.col >= COLS:            # deferred wrap, as xterm
            self.row += 1
            self.col = 0
        line = self._line()
        if self.col < len(line):
            line[self.col] = ch
        else:
            line.append(ch)
        self.col += 1

    def _csi(self, params, final):
        nums = [int(p) if p.isdigit() else 0
                for p in params.lstrip("?>").split(";")] or [0]
        n = max(nums[0], 1)
        line = self._line()
        if final == "A":
            self.row = max(self.row - n, 0)
        elif final == "B":
            self.row += n
        elif final == "C":
            self.col = min(self.col + n, COLS - 1)
        elif final == "D":
            self.col = max(self.col - n, 0)
        elif final == "G":
            self.col = n - 1
        elif final in "Hf":
            self.row = max(nums[0], 1) - 1
            self.col = (max(nums[1], 1) - 1) if len(nums) > 1 else 0
        elif final == "K":
            if nums[0] == 0:
                del line[self.col:]
            elif nums[0] == 1:
                line[:self.col] = [" "] * self.col
            else:
                line.clear()
        elif final == "J":
            if nums[0] == 0:
                del line[self.col:]
                del self.lines[self.row + 1:]
            else:
                self.lines = [[]]
        elif final == "P":
            del line[self.col:self.col + n]
        elif final == "X":
            for i in range(self.col, min(self.col + n, len(line))):
                line[i] = " "
        elif final == "@":
            line[self.col:self.col] = [" "] * n

    def feed(self, text):
        text = self.pending + text
        self.pending = ""
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "\x1b":
                m = re.compile(r"\x1b(\[([0-9;?>]*)([@-~])|\][^\x07]*(\x07|\x1b\\)"
                               r"|[()][0-9A-Za-z]|[=>78DEM])").match(text, i)
                if not m:
                    self.pending = text[i:]  # the rest comes later
                    return
                if m.group(3):
                    self._csi(m.group(2), m.group(3))
                i = m.end()
                continue
            if ch == "\r":
                self.col = 0
            elif ch == "\n":
                self.row += 1
            elif ch == "\b":
                self.col = max(self.col - 1, 0)
            elif ch == "\t":
                self.col = (self.col // 8 + 1) * 8
            elif ch >= " ":
                self._put(ch)
            i += 1

    def text(self):
        rows = ["".join(line).rstrip() for line in self.lines]
        while rows and not rows[-1]:
            rows.pop()
        return "\n".join(rows)


def plain(text):
    """What a wait looks at: the text without escape sequences and CRs."""
    text = re.sub(r"\x1b(\[[0-9;?>]*[@-~]|\][^\x07]*(\x07|\x1b\\)"
                  r"|[()][0-9A-Za-z]|[=>78DEM])", "", text)
    return text.replace("\r", "")


def main():
    args = sys.argv[1:]
    timeout = 15.0
    if args[:1] == ["--timeout"]:
        timeout = float(args[1])
        args = args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    steps = [line.rstrip("\n") for line in sys.stdin if line.strip()]

    pid, fd = pty.fork()
    if pid == 0:
        # As a terminal emulator starts a program: default signals, even
        # when this script was started in the background (SIGINT ignored)
        # or by Python (SIGPIPE, SIGXFSZ ignored).
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(sig, signal.SIG_DFL)
        os.environ["TERM"] = "xterm"
        os.environ.pop("COLUMNS", None)
        os.environ.pop("LINES", None)
        try:
            os.execvp(args[0], args)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, COLS, 0, 0))
    screen = Screen()
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    seen = ""       # since the last wait
    status = None

    def pump(until):
        """Reads what the command writes until `until` (a deadline)."""
        nonlocal seen, status
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([fd], [], [], min(left, 0.05))
            if r:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    return True     # the terminal closed: it exited
                text = decoder.decode(data)
                screen.feed(text)
                seen += plain(text)
                return None
            if status is None:
                done, st = os.waitpid(pid, os.WNOHANG)
                if done:
                    status = st

    def fail(what):
        print("ptydrive.py: timed out " + what, file=sys.stderr)
        print(screen.text())
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        sys.exit(1)

    for step in steps:
        verb, _, arg = step.partition(" ")
        if verb == "type":
            os.write(fd, codecs.decode(arg, "unicode_escape").encode("latin-1"))
        elif verb == "sleep":
            deadline = time.monotonic() + float(arg)
            while pump(deadline) is None:
                pass
        elif verb == "until":
            deadline = time.monotonic() + timeout
            while subprocess.run(arg, shell=True, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL).returncode:
                if pump(time.monotonic() + 0.1) is True or \
                        time.monotonic() > deadline:
                    fail("waiting until: " + arg)
        elif verb == "wait":
            deadline = time.monotonic() + timeout
            while True:
                m = re.search(arg, seen)
                if m:
                    seen = seen[m.end():]
                    break
                if pump(deadline) is not None:
                    fail("waiting for /%s/; since the last wait: %r"
                         % (arg, seen[-400:]))
        else:
            sys.exit("ptydrive.py: unknown step %r" % step)

    deadline = time.monotonic() + timeout
    while pump(deadline) is None:
        pass
    if status is None:
        end = time.monotonic() + timeout
        while status is None and time.monotonic() < end:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
            else:
                time.sleep(0.05)
    if status is None:
        fail("waiting for the command to exit")
    print(screen.text())
    code = (os.WEXITSTATUS(status) if os.WIFEXITED(status)
            else 128 + os.WTERMSIG(status))
    print("exit %d" % code)


if __name__ == "__main__":
    main()
