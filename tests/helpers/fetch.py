#!/usr/bin/python3
"""Raw TCP clients for serve mode: open --count connections to HOST:PORT at
once, read each to its end, and print "index bytes sha256 end" lines.

--stall K makes the first K clients read only --stall-read bytes and then
stop reading (their connection stays open).  The others must still finish:
the script reports "stalled-open-at-finish N" with how many stalled clients
were still connected, unfinished, when the last normal client finished.
Exits 0 when every normal client reached the end of its stream, 3 on
--timeout.

Events, for tests to wait on instead of sleeping (stderr, one line each,
flushed): with --events "fetch.py: I connected" once client I's connection
is made; with --mark BYTES "fetch.py: I got BYTES" once client I has
received that many bytes.  --die-at BYTES: the process kills itself with
SIGKILL as soon as any client has received BYTES (a subscriber that dies
part way, at a point in the stream rather than a moment in time).
--port-from FILE instead of PORT: wait (within --timeout) for ringcast's
"listening on ADDRESS:PORT" line to appear in FILE, its stderr, and use that
port, so that a client started before ringcast connects as soon as it
listens, however long this interpreter took to start.
"""
import argparse
import hashlib
import os
import re
import selectors
import signal
import socket
import sys
import time

LISTENING = re.compile(r"^ringcast: listening on (?:127\.0\.0\.1|\[::\]):(\d+)", re.M)


def event(msg):
    print("fetch.py: " + msg, file=sys.stderr, flush=True)


def port_from(path, deadline):
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                m = LISTENING.search(f.read())
            if m:
                return int(m.group(1))
        except FileNotFoundError:
            pass
        time.sleep(0.01)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int, nargs="?")
    ap.add_argument("--port-from", metavar="FILE")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--stall", type=int, default=0)
    ap.add_argument("--stall-read", type=int, default=1 << 16)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--events", action="store_true")
    ap.add_argument("--mark", type=int, default=0)
    ap.add_argument("--die-at", type=int, default=0)
    a = ap.parse_args()
    if (a.port is None) == (a.port_from is None):
        ap.error("give either PORT or --port-from FILE")

    deadline = time.monotonic() + a.timeout
    port = a.port
    if a.port_from:
        port = port_from(a.port_from, deadline)
        if port is None:
            print("fetch.py: timeout: no listening address in %s" % a.port_from, file=sys.stderr)
            return 3

    sel = selectors.DefaultSelector()
    cs = []
    for i in range(a.count):
        s = socket.create_connection((a.host, port))
        if a.events:
            event("%d connected" % i)
        s.setblocking(False)
        c = {"i": i, "s": s, "h": hashlib.sha256(), "n": 0, "end": None,
             "stall": i < a.stall}
        if c["stall"]:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        cs.append(c)
        sel.register(s, selectors.EVENT_READ, c)
    normal = [c for c in cs if not c["stall"]]
    while any(c["end"] is None for c in normal):
        if time.monotonic() > deadline:
            print("fetch.py: timeout", file=sys.stderr)
            return 3
        for key, _ in sel.select(0.5):
            c = key.data
            want = 1 << 20
            if c["stall"]:
                want = a.stall_read - c["n"]
                if want <= 0:
                    sel.unregister(c["s"])  # stop reading, stay connected
                    continue
            if a.die_at:
                want = min(want, a.die_at - c["n"])
            try:
                data = c["s"].recv(want)
            except ConnectionError as e:
                c["end"] = type(e).__name__
                sel.unregister(c["s"])
                continue
            if not data:
                c["end"] = "eof"
                sel.unregister(c["s"])
                continue
            before = c["n"]
            c["n"] += len(data)
            c["h"].update(data)
            if a.mark and before < a.mark <= c["n"]:
                event("%d got %d" % (c["i"], a.mark))
            if a.die_at and c["n"] >= a.die_at:
                os.kill(os.getpid(), signal.SIGKILL)
    open_stalled = sum(1 for c in cs if c["stall"] and c["end"] is None)
    for c in cs:
        print("%d %d %s %s" % (c["i"], c["n"], c["h"].hexdigest(),
                               c["end"] or "open"))
    print("stalled-open-at-finish %d" % open_stalled)
    for c in cs:
        c["s"].close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
