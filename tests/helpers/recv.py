#!/usr/bin/python3
"""Test receivers: listen on N TCP ports, take one connection on each, and
record how many bytes arrived, their SHA-256 and how the connection ended.

Ports are written to --portfile (one per line, written atomically) once every
listener is bound; results go to --out as "index port bytes sha256 end" lines
when every connection has ended.  Slow receivers read at --slow-rate bytes/s
with a small receive buffer; resetting receivers close with RST after
--reset-after bytes; stalled receivers never read, and end when the sender
resets ("stalled-reset") or closes ("stalled-fin") the connection.  With
--listen-when FILE the ports are bound (so connecting is refused) and listen
only once FILE exists.  Exits 0 when all connections ended, 3 on --timeout.

Events, for tests to wait on instead of sleeping (stderr, one line each,
flushed): with --events "recv.py: I connected" when receiver I accepts its
connection and "recv.py: I ended END BYTES" when it ends; with --mark BYTES
"recv.py: I got BYTES" once receiver I has that many bytes.  --die-at BYTES:
the process kills itself with SIGKILL as soon as any receiver has BYTES (a
receiver killed part way, at a point in the stream rather than a moment).
"""
import argparse
import hashlib
import os
import select
import selectors
import signal
import socket
import struct
import sys
import time


EVENTS = False  # --events


def event(msg, always=False):
    if EVENTS or always:
        print("recv.py: " + msg, file=sys.stderr, flush=True)


def ended(c):
    event("%d ended %s %d" % (c["i"], c["end"], c["n"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--portfile", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--slow", type=int, default=0, help="how many of them read slowly")
    ap.add_argument("--slow-rate", type=int, default=4 << 20)
    ap.add_argument("--reset", type=int, default=0, help="how many of them reset")
    ap.add_argument("--reset-after", type=int, default=1 << 20)
    ap.add_argument("--stall", type=int, default=0, help="how many of them never read")
    ap.add_argument("--listen-when", metavar="FILE")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--events", action="store_true")
    ap.add_argument("--mark", type=int, default=0)
    ap.add_argument("--die-at", type=int, default=0)
    a = ap.parse_args()
    global EVENTS
    EVENTS = a.events

    family = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    sel = selectors.DefaultSelector()
    conns = []
    for i in range(a.count):
        kind = ("slow" if i < a.slow else "reset" if i < a.slow + a.reset
                else "stall" if i < a.slow + a.reset + a.stall else "fast")
        ls = socket.socket(family, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if kind in ("slow", "stall"):
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
        ls.bind((a.host, 0))
        if not a.listen_when:
            ls.listen(1)
        ls.setblocking(False)
        c = {"i": i, "kind": kind, "ls": ls, "port": ls.getsockname()[1], "sock": None,
             "h": hashlib.sha256(), "n": 0, "end": None, "t0": None}
        conns.append(c)
        sel.register(ls, selectors.EVENT_READ, c)
    tmp = a.portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("".join("%d\n" % c["port"] for c in conns))
    os.rename(tmp, a.portfile)

    deadline = time.monotonic() + a.timeout
    if a.listen_when:
        while not os.path.exists(a.listen_when):
            if time.monotonic() > deadline:
                write_results(a.out, conns)
                print("recv.py: timeout: %s never appeared" % a.listen_when, file=sys.stderr)
                return 3
            time.sleep(0.01)
        for c in conns:
            c["ls"].listen(1)
    paused = []
    stalled = select.poll()  # hang-ups and errors only, never data
    buf = bytearray(1 << 20)
    while any(c["end"] is None for c in conns):
        for fd, _ in stalled.poll(0):
            c = next(c for c in conns if c["sock"] and c["sock"].fileno() == fd)
            stalled.unregister(fd)
            err = c["sock"].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            c["sock"].close()
            c["end"] = "stalled-reset" if err else "stalled-fin"
            ended(c)
        now = time.monotonic()
        if now > deadline:
            write_results(a.out, conns)
            print("recv.py: timeout", file=sys.stderr)
            return 3
        for c in [c for c in paused if slow_allowance(c, a, now) > 0]:
            paused.remove(c)
            sel.register(c["sock"], selectors.EVENT_READ, c)
        for key, _ in sel.select(timeout=0.01):
            c = key.data
            if c["sock"] is None:
                s, _ = c["ls"].accept()
                sel.unregister(c["ls"])
                c["ls"].close()
                s.setblocking(False)
                c["sock"], c["t0"] = s, time.monotonic()
                event("%d connected" % c["i"])
                if c["kind"] == "stall":
                    stalled.register(s, select.POLLRDHUP | select.POLLERR | select.POLLHUP)
                else:
                    sel.register(s, selectors.EVENT_READ, c)
                continue
            want = len(buf)
            if c["kind"] == "slow":
                want = min(want, max(0, slow_allowance(c, a, time.monotonic())))
                if want == 0:
                    sel.unregister(c["sock"])
                    paused.append(c)
                    continue
            if c["kind"] == "reset":
                want = min(want, a.reset_after - c["n"])
            if a.die_at:
                want = min(want, a.die_at - c["n"])
            try:
                n = c["sock"].recv_into(buf, want)
            except BlockingIOError:
                continue
            except ConnectionError as e:
                finish(sel, c, "error:" + e.__class__.__name__)
                continue
            if n == 0:
                finish(sel, c, "eof")
                continue
            c["h"].update(memoryview(buf)[:n])
            c["n"] += n
            if a.mark and c["n"] - n < a.mark <= c["n"]:
                event("%d got %d" % (c["i"], a.mark), always=True)
            if a.die_at and c["n"] >= a.die_at:
                os.kill(os.getpid(), signal.SIGKILL)
            if c["kind"] == "reset" and c["n"] >= a.reset_after:
                c["sock"].setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                finish(sel, c, "reset")
    write_results(a.out, conns)
    return 0


def slow_allowance(c, a, now):
    return int((now - c["t0"]) * a.slow_rate) + (64 << 10) - c["n"]


def finish(sel, c, how):
    sel.unregister(c["sock"])
    c["sock"].close()
    c["end"] = how
    ended(c)


def write_results(path, conns):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        for c in conns:
            f.write("%d %d %d %s %s\n" % (c["i"], c["port"], c["n"], c["h"].hexdigest(),
                                         c["end"] or "open"))
    os.rename(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
