#!/usr/bin/env python3
"""Raw TCP clients for serve mode: open --count connections to HOST:PORT at
once, read each to its end, and print "index bytes sha256 end" lines.

--stall K makes the first K clients read only --stall-read bytes and then
stop reading (their connection stays open).  The others must still finish:
the script reports "stalled-open-at-finish N" with how many stalled clients
were still connected, unfinished, when the last normal client finished.
Exits 0 when every normal client reached the end of its stream, 3 on
--timeout.
"""
import argparse
import hashlib
import selectors
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--stall", type=int, default=0)
    ap.add_argument("--stall-read", type=int, default=1 << 16)
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()

    sel = selectors.DefaultSelector()
    cs = []
    for i in range(a.count):
        s = socket.create_connection((a.host, a.port))
        s.setblocking(False)
        c = {"i": i, "s": s, "h": hashlib.sha256(), "n": 0, "end": None,
             "stall": i < a.stall}
        if c["stall"]:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        cs.append(c)
        sel.register(s, selectors.EVENT_READ, c)
    deadline = time.monotonic() + a.timeout
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
            c["n"] += len(data)
            c["h"].update(data)
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
