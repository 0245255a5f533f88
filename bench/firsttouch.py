#!/usr/bin/env python3
"""First-touch cost of a large ring: what a --ring-size 64M ring costs against
a 4M one (8M for a relay) when the destinations keep pace, where the ring's
size buys nothing.  Two cases, each the sender's (or relay's) CPU seconds,
median of --repeat interleaved runs:
  - N = 1: a file read into the ring (--file-pages off) to one loopback sink;
  - a relay: ringcast -i ringcast-listen:// forwarding to one sink what
    another ringcast sends it from a file (the relay's CPU).
Every run's byte count is checked at the sink.  With --before BINARY an
older ringcast runs the same cases beside this one.  Prints Markdown.
Usage: firsttouch.py BUILD_DIR OUT_DIR [--size MiB] [--repeat 5] [--before BINARY]
"""
import argparse
import os
import statistics
import subprocess
import sys

from benchlib import cpu_seconds, make_input, run_timed, start_sink, wait_listening


def sink_for(a):
    sink, ports = start_sink(a.sink, 1, os.path.join(a.out, "ports"))
    return sink, ports[0]


def checked(sink, size, what):
    out, _ = sink.communicate(timeout=600)
    if [int(x) for x in out.split()] != [size]:
        sys.exit("%s: the sink got %s, want %d" % (what, out.split(), size))


def ring_flag(binary):
    """--file-pages off, for a ringcast that knows it (an older one has no
    other path: it reads every file into its ring)."""
    out = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    return ["--file-pages", "off"] if "--file-pages" in out else []


def one_sender(a, binary, ring, size):
    sink, port = sink_for(a)
    status, _, ru = run_timed([binary, "-q"] + ring_flag(binary) + ["--ring-size", ring, "-i",
                               a.input, "127.0.0.1:" + port])
    if status:
        sys.exit("%s --ring-size %s: exit status %d" % (binary, ring, status))
    checked(sink, size, binary)
    return cpu_seconds(ru)


def one_relay(a, binary, ring, size):
    sink, port = sink_for(a)
    log = os.path.join(a.out, "relay.err")
    with open(log, "w") as err:
        relay = subprocess.Popen([binary, "-v", "--ring-size", ring, "-i",
                                  "ringcast-listen://127.0.0.1:0", "127.0.0.1:" + port],
                                 stderr=err)
    rport = wait_listening(log)
    if rport is None:
        relay.kill()
        sys.exit("%s: the relay did not listen" % binary)
    sender = subprocess.run([os.path.join(a.build, "ringcast"), "-q", "-i", a.input,
                             "ringcast://127.0.0.1:%d" % rport])
    _, status, ru = os.wait4(relay.pid, 0)
    if sender.returncode or status:
        sys.exit("relay %s: sender %d, relay %d" % (binary, sender.returncode, status))
    checked(sink, size, binary)
    return cpu_seconds(ru)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=256, help="MiB")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--before", help="an older ringcast, run beside this one")
    a = ap.parse_args()
    a.sink = os.path.join(a.build, "sink")
    os.makedirs(a.out, exist_ok=True)
    a.input = os.path.join("/dev/shm" if os.path.isdir("/dev/shm") else a.out,
                           "ringcast-firsttouch.%d" % os.getpid())
    make_input(a.input, a.size)
    size = a.size << 20
    binaries = [("now", os.path.join(a.build, "ringcast"))]
    if a.before:
        binaries.append(("before", a.before))
    cases = []
    for name, b in binaries:
        cases += [(name, "N = 1", "64M", lambda b=b: one_sender(a, b, "64M", size)),
                  (name, "N = 1", "4M", lambda b=b: one_sender(a, b, "4M", size)),
                  (name, "relay", "64M", lambda b=b: one_relay(a, b, "64M", size)),
                  (name, "relay", "8M", lambda b=b: one_relay(a, b, "8M", size))]
    res = {}
    try:
        for _ in range(a.repeat):
            for name, case, ring, run in cases:
                res.setdefault((name, case, ring), []).append(run())
    finally:
        os.unlink(a.input)
    print("| ringcast | case | --ring-size | CPU s (median of %d) | ms per MiB of stream |"
          % a.repeat)
    print("|---|---|---:|---:|---:|")
    for (name, case, ring), v in res.items():
        m = statistics.median(v)
        print("| %s | %s | %s | %.3f | %.3f |" % (name, case, ring, m, m * 1000 / a.size))


if __name__ == "__main__":
    main()
