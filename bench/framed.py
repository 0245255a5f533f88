#!/usr/bin/env python3
"""What verification costs a push: N ringcast receivers on loopback, each
writing to file:/dev/null, fed by one sender, plain (receivers on
tcp-listen://, DESTs HOST:PORT) against framed (receivers on
ringcast-listen://, DESTs ringcast://HOST:PORT, the sender with --digest:
one SHA-256 at the sender, one at each receiver, a trailer and a verdict
per host), interleaved and repeated.  Every run must exit 0 at both ends.
Prints a Markdown table of medians: the sender's wall time and CPU, and the
receivers' CPU together.  On loopback the receivers share the sender's two
CPUs, and their hashing shows in the wall time; on a fleet each host hashes
its own copy on its own CPU while the network is the limit.  --rate MBIT
shows that case: the sender in one network namespace, the receivers in
another, joined by a veth pair whose sending side tbf limits to MBIT.
Usage: framed.py BUILD_DIR OUT_DIR [--n 64] [--size MiB] [--repeat N] [--rate MBIT]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

from benchlib import cpu_seconds, make_input, run_timed

NS_SEND, NS_RECV = "rc-bench-send", "rc-bench-recv"


def netns_up(rate):
    """The two namespaces, 10.214.0.1 (sender) and .2 (receivers), the link at rate Mbit/s."""
    netns_down()
    for cmd in (["ip", "netns", "add", NS_SEND], ["ip", "netns", "add", NS_RECV],
                ["ip", "link", "add", "veth-s", "netns", NS_SEND, "type", "veth", "peer", "name",
                 "veth-r", "netns", NS_RECV],
                ["ip", "-n", NS_SEND, "addr", "add", "10.214.0.1/24", "dev", "veth-s"],
                ["ip", "-n", NS_RECV, "addr", "add", "10.214.0.2/24", "dev", "veth-r"],
                ["ip", "-n", NS_SEND, "link", "set", "veth-s", "up"],
                ["ip", "-n", NS_RECV, "link", "set", "veth-r", "up"],
                ["ip", "-n", NS_SEND, "link", "set", "lo", "up"],
                ["ip", "-n", NS_RECV, "link", "set", "lo", "up"],
                ["ip", "netns", "exec", NS_SEND, "tc", "qdisc", "add", "dev", "veth-s", "root",
                 "tbf", "rate", "%dmbit" % rate, "burst", "256kb", "latency", "50ms"]):
        subprocess.run(cmd, check=True)


def netns_down():
    for ns in (NS_SEND, NS_RECV):
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def listening(log, seconds=30):
    """The port of ringcast's first "listening on ADDRESS:PORT" line in log."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        m = re.search(r"listening on [0-9.]+:(\d+)", open(log).read())
        if m:
            return int(m.group(1))
        time.sleep(0.05)
    sys.exit("a receiver did not listen: %s" % open(log).read())


def receivers(a, scheme):
    """a.n ringcast receivers listening on scheme://HOST:0; (Popens, ports)."""
    procs, ports = [], []
    for i in range(a.n):
        log = os.path.join(a.out, "r%d.err" % i)
        open(log, "w").close()
        procs.append(subprocess.Popen(
            a.recv_wrap + [a.ringcast, "-q", "--ring-size", "4M", "-i",
                           "%s://%s:0" % (scheme, a.host), "file:/dev/null"],
            stderr=open(log, "w")))
        ports.append(listening(log))
    return procs, ports


def run(a, inp, framed):
    """(sender wall s, sender CPU s, receivers' CPU s) of one push."""
    procs, ports = receivers(a, "ringcast-listen" if framed else "tcp-listen")
    dests = [("ringcast://%s:%d" if framed else "%s:%d") % (a.host, p) for p in ports]
    extra = ["--digest"] if framed else []
    status, wall, ru = run_timed(a.send_wrap + [a.ringcast, "-q", "-i", inp] + extra + dests,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rcpu = 0.0
    for p in procs:
        _, st, rru = os.wait4(p.pid, 0)
        if st != 0:
            sys.exit("a receiver exited with status %d (framed=%s)" % (st >> 8, framed))
        rcpu += cpu_seconds(rru)
    if status != 0:
        sys.exit("the sender exited with status %d (framed=%s)" % (status >> 8, framed))
    return wall, cpu_seconds(ru), rcpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--size", type=int, default=64, help="MiB")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rate", type=int, default=0, help="Mbit/s: across namespaces")
    a = ap.parse_args()
    a.ringcast = os.path.abspath(os.path.join(a.build, "ringcast"))
    a.host, a.send_wrap, a.recv_wrap = "127.0.0.1", [], []
    if a.rate:
        netns_up(a.rate)
        a.host = "10.214.0.2"
        a.send_wrap = ["ip", "netns", "exec", NS_SEND]
        a.recv_wrap = ["ip", "netns", "exec", NS_RECV]
    os.makedirs(a.out, exist_ok=True)
    inp = os.path.join(a.out, "input")
    make_input(inp, a.size)
    runs = {"plain (tcp-listen://, HOST:PORT)": [],
            "framed (ringcast-listen://, ringcast://, --digest)": []}
    try:
        for _ in range(a.repeat):
            for name, framed in zip(runs, (False, True)):
                runs[name].append(run(a, inp, framed))
    finally:
        if a.rate:
            netns_down()
    med = {k: [statistics.median(r[i] for r in v) for i in range(3)] for k, v in runs.items()}
    where = "a %d Mbit/s veth between namespaces" % a.rate if a.rate else "loopback"
    print("| %d receivers × %d MiB, %s | sender wall s | sender CPU s | receivers' CPU s |"
          % (a.n, a.size, where))
    print("|---|---:|---:|---:|")
    for k, (w, c, r) in med.items():
        print("| %s | %.2f | %.2f | %.2f |" % (k, w, c, r))
    (pw, pc, pr), (fw, fc, fr) = med.values()
    print("\nMedians of %d interleaved runs.  Framed and verified: wall %.2f× plain, sender "
          "CPU %+.2f s (one SHA-256 of %d MiB, the trailers and the verdicts), receivers' CPU "
          "%+.2f s (each receiver's SHA-256: %.3f s per GiB)."
          % (a.repeat, fw / pw, fc - pc, a.size, fr - pr, (fr - pr) / (a.n * a.size / 1024)))


if __name__ == "__main__":
    main()
