#!/usr/bin/env python3
"""The cost of --digest: sha256sum and openssl dgst (libcrypto's own
command) over a file, against ringcast pushing the
same file to one loopback receiver (bench/sink) with and without --digest,
interleaved, each repeated; the receiver checks every byte count.  The
hashing should cost what the library's does: ringcast's extra CPU with
--digest close to openssl dgst's own.  Prints a Markdown table of medians.
Usage: digest.py BUILD_DIR OUT_DIR [--size MiB] [--repeat N]
"""
import argparse
import os
import statistics
import subprocess
import sys

from benchlib import cpu_seconds, make_input, run_timed, start_sink


def push(a, inp, extra):
    """(wall s, CPU s) of ringcast -i inp to one sink."""
    sink, ports = start_sink(a.sink, 1, os.path.join(a.out, "ports"))
    status, wall, ru = run_timed([a.ringcast, "-q", "-i", inp] + extra + ["127.0.0.1:" + ports[0]],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out, _ = sink.communicate(timeout=600)
    if status != 0 or out.split() != [str(a.size << 20).encode()]:
        sys.exit("ringcast %s: exit status %d, sink got %s" % (extra, status, out.split()))
    return wall, cpu_seconds(ru)


def hasher(cmd, inp):
    """(wall s, CPU s) of a hashing command over inp."""
    status, wall, ru = run_timed(cmd + [inp], stdout=subprocess.DEVNULL)
    if status != 0:
        sys.exit("%s: exit status %d" % (cmd[0], status))
    return wall, cpu_seconds(ru)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=1024, help="MiB")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    a.ringcast = os.path.join(a.build, "ringcast")
    a.sink = os.path.join(a.build, "sink")
    os.makedirs(a.out, exist_ok=True)
    inp = os.path.join(a.out, "input")
    make_input(inp, a.size)
    runs = {"sha256sum": [], "openssl dgst -sha256": [], "ringcast": [],
            "ringcast --digest": []}
    for _ in range(a.repeat):
        runs["sha256sum"].append(hasher(["sha256sum"], inp))
        runs["openssl dgst -sha256"].append(hasher(["openssl", "dgst", "-sha256"], inp))
        runs["ringcast"].append(push(a, inp, []))
        runs["ringcast --digest"].append(push(a, inp, ["--digest"]))
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
           for k, v in runs.items()}
    gib = a.size / 1024
    print("| tool | wall s | CPU s | CPU s per GiB |")
    print("|---|---:|---:|---:|")
    for k, (w, c) in med.items():
        print("| %s | %.2f | %.2f | %.3f |" % (k, w, c, c / gib))
    extra = med["ringcast --digest"][1] - med["ringcast"][1]
    lib = med["openssl dgst -sha256"][1]
    print("\n%d MiB, medians of %d interleaved runs.  --digest added %.2f s of CPU "
          "(%.3f s per GiB): %.2f of what libcrypto's own command took (%.2f s), %.2f of "
          "sha256sum's (%.2f s)." % (a.size, a.repeat, extra, extra / gib, extra / lib, lib,
                                     extra / med["sha256sum"][1], med["sha256sum"][1]))


if __name__ == "__main__":
    main()
