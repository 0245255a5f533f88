#!/usr/bin/env python3
"""What verification costs a push: N ringcast receivers on loopback, each
writing to file:/dev/null, fed by one sender, plain (receivers on
tcp-listen://, DESTs HOST:PORT) against framed (receivers on
ringcast-listen://, DESTs ringcast://HOST:PORT, the sender with --digest:
one SHA-256 at the sender, one at each receiver, a trailer and a verdict
per host), interleaved and repeated.  Every run must exit 0 at both ends.
Prints a Markdown table of medians: the sender's wall time and CPU, and the
receivers' CPU together (on loopback they share the sender's two CPUs; on a
fleet each hashes on its own).
Usage: framed.py BUILD_DIR OUT_DIR [--n 64] [--size MiB] [--repeat N]
"""
import argparse
import os
import statistics
import subprocess
import sys

from benchlib import cpu_seconds, make_input, run_timed, wait_listening


def receivers(a, scheme):
    """a.n ringcast receivers listening on scheme://127.0.0.1:0; (Popens, ports)."""
    procs, ports = [], []
    for i in range(a.n):
        log = os.path.join(a.out, "r%d.err" % i)
        open(log, "w").close()
        procs.append(subprocess.Popen(
            [a.ringcast, "-q", "--ring-size", "4M", "-i", scheme + "://127.0.0.1:0",
             "file:/dev/null"], stderr=open(log, "w")))
        port = wait_listening(log, 30)
        if port is None:
            sys.exit("receiver %d did not listen: %s" % (i, open(log).read()))
        ports.append(port)
    return procs, ports


def run(a, inp, framed):
    """(sender wall s, sender CPU s, receivers' CPU s) of one push."""
    procs, ports = receivers(a, "ringcast-listen" if framed else "tcp-listen")
    dests = [("ringcast://127.0.0.1:%d" if framed else "127.0.0.1:%d") % p for p in ports]
    extra = ["--digest"] if framed else []
    status, wall, ru = run_timed([a.ringcast, "-q", "-i", inp] + extra + dests,
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
    a = ap.parse_args()
    a.ringcast = os.path.join(a.build, "ringcast")
    os.makedirs(a.out, exist_ok=True)
    inp = os.path.join(a.out, "input")
    make_input(inp, a.size)
    runs = {"plain (tcp-listen://, HOST:PORT)": [],
            "framed (ringcast-listen://, ringcast://, --digest)": []}
    for _ in range(a.repeat):
        for name, framed in zip(runs, (False, True)):
            runs[name].append(run(a, inp, framed))
    med = {k: [statistics.median(r[i] for r in v) for i in range(3)] for k, v in runs.items()}
    print("| %d receivers × %d MiB | sender wall s | sender CPU s | receivers' CPU s |"
          % (a.n, a.size))
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
