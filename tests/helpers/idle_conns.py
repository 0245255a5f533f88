#!/usr/bin/python3
"""idle_conns.py PORT COUNT READY [--gap S] [--until FILE]: open COUNT connections to 127.0.0.1:PORT (S s apart) and hold them idle.

Once all are open, COUNT is written to READY (atomically).  Without --until
they are held until the process is killed.  With --until, once FILE exists
(30 s at most) it prints whether the server closed the oldest ("oldest:
closed" or "oldest: open") and the second ("second: ...") and exits.
"""
import argparse
import os
import resource
import signal
import socket
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("ready")
    ap.add_argument("--gap", type=float, default=0)
    ap.add_argument("--until")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    held = []
    for _ in range(a.count):
        held.append(socket.create_connection(("127.0.0.1", a.port)))
        if a.gap:
            time.sleep(a.gap)
    open(a.ready + ".tmp", "w").write("%d\n" % len(held))
    os.rename(a.ready + ".tmp", a.ready)
    if not a.until:
        signal.pause()
    deadline = time.monotonic() + 30
    while not os.path.exists(a.until) and time.monotonic() < deadline:
        time.sleep(0.01)
    held[0].settimeout(10)
    print("oldest:", "closed" if held[0].recv(1) == b"" else "open")
    held[1].setblocking(False)
    try:
        held[1].recv(1)
        print("second: closed")
    except BlockingIOError:
        print("second: open")


main()
