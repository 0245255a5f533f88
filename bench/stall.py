#!/usr/bin/env python3
"""Stalled-destination benchmark: one input file to N loopback receivers of
which one accepts the connection and never reads (bench/sink ... stall).
What do the others get, and when?  ringcast with --slow drop and with
--slow block --stall-timeout 2s against mbuffer (which has no such policy:
its buffer fills and every output waits), each given --limit seconds, in one
run, interleaved, repeated.  Prints a Markdown report of medians.
Usage: stall.py BUILD_DIR OUT_DIR [--size MiB] [--n 8] [--repeat 3] [--limit 30]
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

from benchlib import make_input, start_sink


def run_once(cmd_for, n, a):
    """(wall s, MiB the slowest healthy receiver got, exit status or 'killed')."""
    sink, ports = start_sink(a.sink, n, os.path.join(a.out, "ports"), "one", "stall")
    port = ports[0]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd_for(["127.0.0.1:" + port] * n), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        status = p.wait(timeout=a.limit)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        status = "killed"
    wall = time.monotonic() - t0
    out, _ = sink.communicate(timeout=120)
    got = [int(x) for x in out.split() if x != b"stalled"]
    if len(got) != n - 1:
        sys.exit("sink reported %r" % out)
    return wall, min(got) / float(1 << 20), status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=256, help="MiB")
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--limit", type=float, default=30)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    a.sink = os.path.join(a.build, "sink")
    inp = os.path.join(a.out, "input")
    make_input(inp, a.size)
    ringcast = os.path.join(a.build, "ringcast")
    tools = {
        "ringcast --slow drop": lambda d: [ringcast, "-q", "--slow", "drop", "-i", inp] + d,
        "ringcast --stall-timeout 2s": lambda d: [ringcast, "-q", "--stall-timeout", "2s",
                                                  "-i", inp] + d,
        "mbuffer": lambda d: (["mbuffer", "-q", "-i", inp, "-m", "64M", "-s", "256k"]
                              + sum((["-O", x] for x in d), [])),
    }
    res = {}
    for r in range(a.repeat):
        for tool, cmd_for in tools.items():
            got = run_once(cmd_for, a.n, a)
            res.setdefault(tool, []).append(got)
            print("%s run %d: %.2f s, %.0f MiB, exit %s" % ((tool, r + 1) + got),
                  file=sys.stderr)

    print("## One stalled destination: %d MiB to %d loopback receivers, one never reads\n"
          % (a.size, a.n))
    print("Measured %s on Linux %s, %d CPUs, with `make bench`; median of %d interleaved runs, "
          "each given %.0f s. The stalled receiver accepts the connection and never reads.\n"
          % (time.strftime("%Y-%m-%d"), platform.release(), os.cpu_count(), a.repeat, a.limit))
    print("| tool | wall s | MiB every other receiver got (of %d) | exit status |" % a.size)
    print("|---|---:|---:|---|")
    for tool in tools:
        runs = res[tool]
        statuses = sorted(set(str(x[2]) for x in runs))
        print("| %s | %.2f | %.0f | %s |" % (tool, statistics.median(x[0] for x in runs),
                                              statistics.median(x[1] for x in runs),
                                              ", ".join(statuses)))


if __name__ == "__main__":
    main()
