#!/usr/bin/env python3
"""Soak: a live stream (/dev/urandom at --rate) to subscribers that join and
leave at random, for --seconds.  After a warm-up and again at the end, every
subscriber is closed and ringcast's open descriptors and resident memory are
read from /proc; they must be the same (memory within --slack KiB).
Prints a Markdown section; exits 1 on a leak.
Usage: soak.py BUILD_DIR [--seconds 600] [--subscribers 64] [--rate 32M]
"""
import argparse
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time

from benchlib import wait_listening


def snapshot(pid):
    fds = len(os.listdir("/proc/%d/fd" % pid))
    rss = int(re.search(r"VmRSS:\s+(\d+)", open("/proc/%d/status" % pid).read()).group(1))
    return fds, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--subscribers", type=int, default=64)
    ap.add_argument("--rate", default="32M")
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--slack", type=int, default=1024, help="KiB of RSS growth allowed")
    a = ap.parse_args()
    # Its messages (one per subscriber that leaves) go to a file: a pipe
    # nobody reads would fill and stop it.
    log = tempfile.NamedTemporaryFile(prefix="ringcast-soak.", suffix=".log")
    rc = subprocess.Popen([os.path.join(a.build, "ringcast"), "-i", "/dev/urandom",
                           "--rate", a.rate, "-l", "127.0.0.1:0", "--min-subscribers", "0",
                           "--slow", "drop", "--ring-size", "16M"], stderr=log)
    port = wait_listening(log.name)
    if port is None:
        sys.exit("soak.py: ringcast did not listen: " + open(log.name).read())
    rnd = random.Random(1)
    subs, joins, got = [], 0, 0

    def churn(until):
        nonlocal joins, got
        while time.monotonic() < until:
            while len(subs) < a.subscribers:
                s = socket.create_connection(("127.0.0.1", port))
                s.setblocking(False)
                subs.append(s)
                joins += 1
            for s in list(subs):
                try:
                    got += len(s.recv(1 << 20))
                except BlockingIOError:
                    pass
                except ConnectionError:  # dropped for lagging (--slow drop)
                    s.close()
                    subs.remove(s)
                    continue
                if rnd.random() < 0.01:  # leave, sometimes with unread data (RST)
                    s.close()
                    subs.remove(s)
            time.sleep(0.01)

    def quiet():
        for s in subs:
            s.close()
        subs.clear()
        time.sleep(2)
        return snapshot(rc.pid)

    churn(time.monotonic() + a.warmup)
    before = quiet()
    churn(time.monotonic() + a.seconds)
    after = quiet()
    rc.terminate()
    rc.wait(timeout=30)
    leak = after[0] != before[0] or after[1] - before[1] > a.slack
    print("## Soak: %d s of a live stream to %d subscribers joining and leaving\n" %
          (a.seconds, a.subscribers))
    print("`bench/soak.py`: /dev/urandom at %s/s, `--slow drop`, %d joins in all, %.1f GiB "
          "received. With every subscriber gone, after a %d s warm-up and again at the end:\n"
          % (a.rate, joins, got / float(1 << 30), a.warmup))
    print("| | open descriptors | resident KiB |")
    print("|---|---:|---:|")
    print("| after warm-up | %d | %d |" % before)
    print("| at the end | %d | %d |" % after)
    print("\n%s" % ("**Leak**: the numbers grew." if leak else "No growth."))
    return 1 if leak else 0


if __name__ == "__main__":
    sys.exit(main())
