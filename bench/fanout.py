#!/usr/bin/env python3
"""Fan-out benchmark: one input file to N loopback receivers, by ringcast
(auto, each transport forced with --transport, and -j 1 and -j 2 sending
threads), mbuffer (one -O per destination), tee into one socat or one ncat
per destination (through FIFOs), and plain blocking write() and sendfile()
loops (the floors for a copying and a page-sharing sender), in one
run, interleaved, each repeated; every run's delivery is checked byte for
byte count at the sink.  Prints a Markdown report of medians and ratios to
mbuffer.  Usage: fanout.py BUILD_DIR OUT_DIR [--size MiB] [--n 1,8,64]
[--size-for 1000=16,19000=1] [--repeat 3] [--tools "ringcast,ringcast copy"]
[--tsv FILE] (the medians, for bench/plot.gp) [--before BINARY] (an
older ringcast, run beside this one as "ringcast (before)") [--other NAME=BINARY]
(another, as "ringcast NAME"; repeatable)
From --one-port-from N destinations on, they all connect to one sink port
(thousands of ports would need twice the descriptors).  mbuffer aborts
above about 1,000 outputs (select() and FD_SETSIZE); its row then says so.
"""
import argparse
import atexit
import os
import platform
import statistics
import subprocess
import sys
import time

from benchlib import cpu_seconds, make_input, run_timed, start_sink


def run_once(tool, cmd_for, n, size, a):
    """(wall s, CPU s, peak RSS MiB), or (None, exit status) when mbuffer failed."""
    shared = n >= a.one_port_from
    sink, ports = start_sink(a.sink, n, os.path.join(a.out, "ports"), *(["one"] if shared else []))
    cmd = cmd_for(ports * n if shared else ports)
    status, wall, ru = run_timed(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL if tool == "mbuffer" else None)
    if status != 0 and tool == "mbuffer":
        sink.kill()
        sink.wait()
        return None, os.waitstatus_to_exitcode(status)
    out, _ = sink.communicate(timeout=600)
    got = [int(x) for x in out.split()]
    if status != 0 or got != [size] * n:
        sys.exit("%s N=%d: exit status %d, sink got %s, want %d each" %
                 (tool, n, status, sorted(set(got)), size))
    return wall, cpu_seconds(ru), ru.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=256, help="MiB")
    ap.add_argument("--n", default="1,8,64")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--size-for", default="", help="N=MiB,...: another size for some N")
    ap.add_argument("--one-port-from", type=int, default=256)
    ap.add_argument("--title", default="Fan-out: %d MiB to N loopback receivers")
    ap.add_argument("--tools", help="comma-separated subset of the tools (mbuffer is always run)")
    ap.add_argument("--tsv", help="append 'N, tool, GiB/s delivered, CPU s per GiB' rows here")
    ap.add_argument("--input-dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None,
                    help="where the input files go (default: tmpfs, /dev/shm): a file in the "
                    "page cache, as a disk image to push usually is")
    ap.add_argument("--other", action="append", metavar="NAME=BINARY",
                    help="another ringcast binary, run as the tool 'ringcast NAME' (repeatable)")
    ap.add_argument("--before", help="another ringcast binary, run as the tool 'ringcast (before)' "
                    "(a restructure's no-slowdown check)")
    a = ap.parse_args()
    a.sink = os.path.join(a.build, "sink")
    mib_for = {int(k): int(v) for k, v in (x.split("=") for x in a.size_for.split(",") if x)}
    inputs = {}
    atexit.register(lambda: [os.unlink(f) for f in inputs.values() if os.path.exists(f)])
    for m in set(mib_for.get(n, a.size) for n in map(int, a.n.split(","))):
        inputs[m] = os.path.join(a.input_dir or a.out, "ringcast-bench-input.%d.%d" % (os.getpid(), m))
        make_input(inputs[m], m)

    ringcast = os.path.join(a.build, "ringcast")
    dests = lambda ps: ["127.0.0.1:" + p for p in ps]
    inp = None  # set per N below; the lambdas read it when called
    tools = {"ringcast": lambda ps: [ringcast, "-q", "-i", inp] + dests(ps)}
    if a.before:
        tools["ringcast (before)"] = lambda ps: [a.before, "-q", "-i", inp] + dests(ps)
    for spec in a.other or []:
        name, binary = spec.split("=", 1)
        tools["ringcast " + name] = (lambda b: lambda ps: [b, "-q", "-i", inp] + dests(ps))(binary)
    for t in ("uring", "msgzc", "sendfile", "copy"):
        tools["ringcast " + t] = (lambda t: lambda ps: [ringcast, "-q", "--transport", t,
                                                         "-i", inp] + dests(ps))(t)
    # The same file read into a ring (what every stream source gets), and
    # the sendfile transport from that ring (retiring blocks as it laps).
    tools["ringcast ring"] = lambda ps: [ringcast, "-q", "--file-pages", "off", "-i", inp] + dests(ps)
    tools["ringcast ring sendfile"] = lambda ps: [ringcast, "-q", "--file-pages", "off",
                                                  "--transport", "sendfile", "-i", inp] + dests(ps)
    for j in (1, 2):
        tools["ringcast -j %d" % j] = (lambda j: lambda ps: [ringcast, "-q", "-j", str(j),
                                                            "-i", inp] + dests(ps))(j)
    tools["mbuffer"] = lambda ps: (["mbuffer", "-q", "-i", inp, "-m", "64M", "-s", "256k"]
                                   + sum((["-O", "127.0.0.1:" + p] for p in ps), []))
    # tee into one relay process per destination, each reading a FIFO; the
    # shell waits for them all, so its rusage counts every process.
    relay = {"socat+tee": "socat -u OPEN:$d/$i TCP:127.0.0.1:$p",
             "ncat+tee": "ncat --send-only 127.0.0.1 $p < $d/$i"}
    for name, one in relay.items():
        tools[name] = (lambda one: lambda ps: ["sh", "-c",
            'd=$(mktemp -d); i=0; for p in "$@"; do mkfifo $d/$i; %s & i=$((i+1)); done; '
            'tee $d/* < "$0" > /dev/null; wait; rm -r $d' % one, inp] + ps)(one)
    tools["write() loop"] = lambda ps: [os.path.join(a.build, "writeloop"), inp] + ps
    tools["sendfile() loop"] = lambda ps: [os.path.join(a.build, "sendfileloop"), inp] + ps
    if a.tools:
        keep = set(a.tools.split(",")) | {"mbuffer"}
        tools = {t: c for t, c in tools.items() if t in keep}
    ns = [int(x) for x in a.n.split(",")]
    res = {}
    for n in ns:
        inp = inputs[mib_for.get(n, a.size)]
        size = mib_for.get(n, a.size) << 20
        for r in range(a.repeat):
            for tool, cmd_for in tools.items():
                got = run_once(tool, cmd_for, n, size, a)
                res.setdefault((n, tool), []).append(got)
                print("N=%d %s run %d: %s" % (n, tool, r + 1, "%.2f s wall, %.2f s CPU" % got[:2]
                      if got[0] is not None else "failed, exit status %d" % got[1]), file=sys.stderr)

    kernel = platform.release()
    cpus = os.cpu_count()
    print("## " + (a.title % a.size if "%d" in a.title else a.title) + "\n")
    if mib_for:
        print("(%s.)\n" % ", ".join("%d MiB at N = %d" % (m, n) for n, m in sorted(mib_for.items())))
    print("Measured %s on Linux %s, %d CPUs, with `make bench`; median of %d interleaved runs "
          "per cell. The receivers (`bench/sink`) run on the same CPUs and check every "
          "byte count. Ratios are to mbuffer in the same run (lower is better). "
          "**Loopback copies zero-copy sends at delivery**, so these numbers show syscall "
          "economy and correctness, not the gain of zero copy on a real network card.\n"
          % (time.strftime("%Y-%m-%d"), kernel, cpus, a.repeat))
    print("| N | tool | wall s | wall / mbuffer | sender CPU s per GiB delivered | CPU / mbuffer | peak RSS MiB |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for n in ns:
        gib = n * (mib_for.get(n, a.size) << 20) / float(1 << 30)
        failed = {t for t in tools if any(x[0] is None for x in res[(n, t)])}
        med = {t: [statistics.median(x[i] for x in res[(n, t)]) for i in range(3)]
               for t in tools if t not in failed}
        mb = med.get("mbuffer")
        for t in tools:
            if t in failed:
                print("| %d | %s | failed (exit status %d) | | | | |" %
                      (n, t, next(x[1] for x in res[(n, t)] if x[0] is None)))
                continue
            w, c, m = med[t]
            if a.tsv:
                with open(a.tsv, "a") as f:
                    f.write("%d\t%s\t%.4f\t%.4f\n" % (n, t, gib / w, c / gib))
            ratio = lambda x, y: "%.2f" % (x / y) if y else "n/a"
            print("| %d | %s | %.2f | %s | %.3f | %s | %.0f |" %
                  (n, t, w, ratio(w, mb[0]) if mb else "n/a", c / gib,
                   ratio(c, mb[1]) if mb else "n/a", m))


if __name__ == "__main__":
    main()
