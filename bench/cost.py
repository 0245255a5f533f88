#!/usr/bin/env python3
"""Cost per byte: instructions the sender executes per byte it delivers,
counted by the CPU (perf stat: user and kernel apart, which includes the
loopback delivery the kernel does in the sender's context) and by callgrind
(user space only, exactly repeatable), for each ringcast binary given, at a
few fan-outs.  Counts, unlike seconds, do not depend on what else the
machine is doing.  Prints a Markdown table.
Usage: cost.py BUILD_DIR OUT_DIR 'LABEL=BINARY [ARGS]'...
"""
import argparse
import os
import subprocess
import sys
import time

from benchlib import make_input, start_sink

CASES = [(8, 64), (64, 16), (3000, 1)]  # (N, MiB)


def with_sink(n, a, cmd_for):
    """Run cmd_for(fleet file) against n sink connections; check the bytes."""
    sink, ports = start_sink(a.sink, n, os.path.join(a.out, "ports"), "one")
    port = ports[0]
    fleet = os.path.join(a.out, "fleet")
    with open(fleet, "w") as f:
        f.write(("127.0.0.1:%s\n" % port) * n)
    p = subprocess.run(cmd_for(fleet), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    out, _ = sink.communicate(timeout=600)
    return p, [int(x) for x in out.split()]


def perf_count(binary, n, inp, size, a):
    """(user, kernel) instructions, or None when perf cannot count here."""
    res = os.path.join(a.out, "perf.csv")
    p, got = with_sink(n, a, lambda fleet: ["perf", "stat", "-x,", "-o", res, "-e",
                                            "instructions:u,instructions:k"] + binary +
                       ["-q", "-i", inp, "--dests-from", fleet])
    if p.returncode != 0 or got != [size] * n:
        sys.exit("%s N=%d: exit %d, sink got %s: %s" % (binary, n, p.returncode, got[:3], p.stderr))
    counts = {}
    for line in open(res):
        f = line.strip().split(",")
        if len(f) > 2 and f[2].startswith("instructions") and f[0].isdigit():
            counts[f[2]] = int(f[0])
    if len(counts) != 2:
        return None
    return counts["instructions:u"], counts["instructions:k"]


def callgrind_count(binary, n, inp, size, a):
    res = os.path.join(a.out, "callgrind.out")
    p, got = with_sink(n, a, lambda fleet: ["valgrind", "--tool=callgrind",
                                            "--callgrind-out-file=" + res] + binary +
                       ["-q", "-i", inp, "--dests-from", fleet])
    if p.returncode != 0 or got != [size] * n:
        sys.exit("callgrind %s N=%d: exit %d: %s" % (binary, n, p.returncode, p.stderr[-500:]))
    for line in open(res):
        if line.startswith("summary:") or line.startswith("totals:"):
            return int(line.split()[1])
    sys.exit("no total in " + res)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("out")
    ap.add_argument("binaries", nargs="+", help="LABEL=PATH [ARGS]")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    a.sink = os.path.join(a.build, "sink")
    bins = [(b.split("=", 1)[0], b.split("=", 1)[1].split()) for b in a.binaries]
    rows = []
    for n, mib in CASES:
        inp = os.path.join(a.out, "input.%d" % mib)
        if not os.path.exists(inp):
            make_input(inp, mib)
        size = mib << 20
        delivered = float(n * size)
        for label, binary in bins:
            pc = perf_count(binary, n, inp, size, a)
            cg = callgrind_count(binary, n, inp, size, a)
            rows.append((n, mib, label, pc, cg, delivered))
            print("N=%d %s: perf %s, callgrind %d" % (n, label, pc, cg), file=sys.stderr)

    print("## Cost per byte: instructions per delivered byte\n")
    print("Measured %s with `make bench`: the sender's instructions divided by the bytes all "
          "receivers got (`bench/sink`, every byte count checked), `--transport auto`, one "
          "sending thread. `perf stat` counts user and kernel instructions (the kernel's share includes "
          "the loopback delivery it does in the sender's context); callgrind counts user space "
          "only, the same every run. Start-up (the dynamic loader, libcurl's TLS library) is "
          "in every count; with 1 MiB per destination it is a visible share.\n"
          % time.strftime("%Y-%m-%d"))
    print("| N | MiB each | binary | user instr/byte (perf) | kernel instr/byte (perf) "
          "| user instr/byte (callgrind) | callgrind total |")
    print("|---:|---:|---|---:|---:|---:|---:|")
    for n, mib, label, pc, cg, delivered in rows:
        u, k = ("%.4f" % (pc[0] / delivered), "%.3f" % (pc[1] / delivered)) if pc else ("n/a",) * 2
        print("| %d | %d | %s | %s | %s | %.4f | %d |" % (n, mib, label, u, k, cg / delivered, cg))


if __name__ == "__main__":
    main()
