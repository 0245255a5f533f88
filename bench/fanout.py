#!/usr/bin/env python3
"""Fan-out benchmark: one input file to N loopback receivers, by ringcast
(auto, and each transport forced with --transport),
mbuffer (one -O per destination) and plain blocking write() and sendfile()
loops (the floors for a copying and a page-sharing sender), in one
run, interleaved, each repeated; every run's delivery is checked byte for
byte count at the sink.  Prints a Markdown report of medians and ratios to
mbuffer.  Usage: fanout.py BUILD_DIR OUT_DIR [--size MiB] [--n 1,8,64] [--repeat 3]
[--tools "ringcast,ringcast copy"]
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import time


def run_once(tool, cmd_for, n, size, a):
    portfile = os.path.join(a.out, "ports")
    if os.path.exists(portfile):
        os.unlink(portfile)
    sink = subprocess.Popen([a.sink, str(n), portfile], stdout=subprocess.PIPE)
    for _ in range(200):
        if os.path.exists(portfile):
            break
        time.sleep(0.01)
    ports = open(portfile).read().split()
    cmd = cmd_for(ports)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    out, _ = sink.communicate(timeout=120)
    got = [int(x) for x in out.split()]
    if status != 0 or got != [size] * n:
        sys.exit("%s N=%d: exit status %d, sink got %s, want %d each" %
                 (tool, n, status, sorted(set(got)), size))
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=256, help="MiB")
    ap.add_argument("--n", default="1,8,64")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tools", help="comma-separated subset of the tools (mbuffer is always run)")
    a = ap.parse_args()
    a.sink = os.path.join(a.build, "sink")
    size = a.size << 20
    inp = os.path.join(a.out, "input")
    with open(inp, "wb") as f:
        for _ in range(a.size):
            f.write(os.urandom(1 << 20))

    ringcast = os.path.join(a.build, "ringcast")
    dests = lambda ps: ["127.0.0.1:" + p for p in ps]
    tools = {"ringcast": lambda ps: [ringcast, "-q", "-i", inp] + dests(ps)}
    for t in ("uring", "msgzc", "sendfile", "copy"):
        tools["ringcast " + t] = (lambda t: lambda ps: [ringcast, "-q", "--transport", t,
                                                         "-i", inp] + dests(ps))(t)
    tools["mbuffer"] = lambda ps: (["mbuffer", "-q", "-i", inp, "-m", "64M", "-s", "256k"]
                                   + sum((["-O", "127.0.0.1:" + p] for p in ps), []))
    tools["write() loop"] = lambda ps: [os.path.join(a.build, "writeloop"), inp] + ps
    tools["sendfile() loop"] = lambda ps: [os.path.join(a.build, "sendfileloop"), inp] + ps
    if a.tools:
        keep = set(a.tools.split(",")) | {"mbuffer"}
        tools = {t: c for t, c in tools.items() if t in keep}
    ns = [int(x) for x in a.n.split(",")]
    res = {}
    for n in ns:
        for r in range(a.repeat):
            for tool, cmd_for in tools.items():
                res.setdefault((n, tool), []).append(run_once(tool, cmd_for, n, size, a))
                print("N=%d %s run %d: %.2f s wall, %.2f s CPU" % ((n, tool, r + 1) +
                      res[(n, tool)][-1][:2]), file=sys.stderr)

    kernel = platform.release()
    cpus = os.cpu_count()
    print("## Fan-out: %d MiB to N loopback receivers\n" % a.size)
    print("Measured %s on Linux %s, %d CPUs, with `make bench`; median of %d interleaved runs "
          "per cell. The receivers (`bench/sink`) run on the same CPUs and check every "
          "byte count. Ratios are to mbuffer in the same run (lower is better). "
          "**Loopback copies zero-copy sends at delivery**, so these numbers show syscall "
          "economy and correctness, not the gain of zero copy on a real network card.\n"
          % (time.strftime("%Y-%m-%d"), kernel, cpus, a.repeat))
    print("| N | tool | wall s | wall / mbuffer | sender CPU s per GiB delivered | CPU / mbuffer | peak RSS MiB |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for n in ns:
        gib = n * size / float(1 << 30)
        med = {t: [statistics.median(x[i] for x in res[(n, t)]) for i in range(3)] for t in tools}
        mb = med["mbuffer"]
        for t in tools:
            w, c, m = med[t]
            print("| %d | %s | %.2f | %.2f | %.3f | %.2f | %.0f |" %
                  (n, t, w, w / mb[0], c / gib, c / mb[1] if mb[1] else 0, m))


if __name__ == "__main__":
    main()
