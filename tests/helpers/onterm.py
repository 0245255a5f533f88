#!/usr/bin/python3
"""Run a command on a pseudo-terminal of a given size and keep what it drew.

    onterm.py --cols N --out FILE [--after K] [--resize M] [--touch PATH]
           [--timeout S] -- CMD ARGS...

The terminal is --cols columns wide from the start (set on the child's side
before CMD runs).  Everything CMD writes to it goes to --out, byte for byte.
A "draw" is a line drawn in place: text that ends with erase-to-end-of-line
(ESC [ K).  After K draws (--after), with --resize M the terminal becomes M
columns wide (TIOCSWINSZ, and SIGWINCH to CMD, as a terminal emulator does)
and "resized at BYTE" (the offset in --out) is printed on stdout; then,
after K more draws that each fit in M - 1 columns, or right after the first
K draws without --resize, PATH is created (--touch: a test's gate, so that
the command goes on only once the draws happened, rather than after a
guessed time).

Exits with CMD's status (128 + N if a signal N ended it), or 124 after
--timeout seconds, when CMD is killed.
"""
import argparse
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

ERASE = b"\x1b[K"


def set_cols(fd, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cols", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--after", type=int, default=3)
    ap.add_argument("--resize", type=int, default=0)
    ap.add_argument("--touch", metavar="PATH")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()

    pid, fd = pty.fork()
    if pid == 0:
        try:
            set_cols(0, a.cols)
            os.execvp(a.cmd[0], a.cmd)
        finally:
            os._exit(127)

    deadline = time.monotonic() + a.timeout
    out = bytearray()
    seen = 0          # how far `out` has been scanned for draws
    draws = 0         # draws so far (before the resize: any; after: narrow ones)
    resized = False
    touched = not a.touch
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            open(a.out, "wb").write(out)
            print("onterm.py: timed out", file=sys.stderr)
            sys.exit(124)
        r, _, _ = select.select([fd], [], [], min(left, 0.5))
        if not r:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: every writer of the terminal has gone
            data = b""
        if not data:
            break
        out += data
        while True:
            end = out.find(ERASE, seen)
            if end < 0:
                break
            start = max(out.rfind(b"\r", seen, end), out.rfind(b"\n", seen, end)) + 1
            width = end - max(start, seen)
            seen = end + len(ERASE)
            if not resized or width <= a.resize - 1:
                draws += 1
            if a.resize and not resized and draws >= a.after:
                set_cols(fd, a.resize)
                os.kill(pid, signal.SIGWINCH)
                resized = True
                draws = 0
                print("resized at %d" % seen, flush=True)
            elif not touched and draws >= a.after and (resized or not a.resize):
                open(a.touch, "w").close()
                touched = True
    open(a.out, "wb").write(out)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sys.exit(128 + os.WTERMSIG(status))
    sys.exit(os.WEXITSTATUS(status))


if __name__ == "__main__":
    main()
