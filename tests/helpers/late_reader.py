#!/usr/bin/python3
"""A receiver that reads late: listen on 127.0.0.1 (port to --portfile, written
atomically), accept one connection with a receive buffer of --rcvbuf bytes
(SO_RCVBUFFORCE as root, so that a whole small stream waits in it unread),
write "accepted" to stderr, and read nothing until --go FILE exists (at most
--timeout s); then read to the end and print "BYTES SHA256 END" (END: eof or
reset).  Exits 0 when it printed that, 3 on --timeout."""
import argparse
import hashlib
import os
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--portfile", required=True)
    ap.add_argument("--go", required=True)
    ap.add_argument("--rcvbuf", type=int, default=64 << 20)
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    deadline = time.monotonic() + a.timeout
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, a.rcvbuf)  # SO_RCVBUFFORCE
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    with open(a.portfile + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(a.portfile + ".tmp", a.portfile)
    s.settimeout(a.timeout)
    c, _ = s.accept()
    print("late_reader: accepted", file=sys.stderr, flush=True)
    while not os.path.exists(a.go):
        if time.monotonic() > deadline:
            sys.exit(3)
        time.sleep(0.02)
    c.settimeout(max(1, deadline - time.monotonic()))
    h, n, end = hashlib.sha256(), 0, "eof"
    while True:
        try:
            b = c.recv(1 << 20)
        except ConnectionResetError:
            end = "reset"
            break
        if not b:
            break
        h.update(b)
        n += len(b)
    print(n, h.hexdigest(), end, flush=True)


main()
