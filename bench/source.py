#!/usr/bin/env python3
"""Source benchmarks, each interleaved and repeated in one run:
- a URL: the same file over HTTP from nginx, fetched by `ringcast -i URL`
  into one loopback receiver (bench/sink) and by `curl -o /dev/null`;
- an archive member: `ringcast --extract MEMBER -i a.tar.zst` against
  `tar -xOf a.tar.zst MEMBER | socat - TCP:…`, both into the same receiver.
Prints a Markdown report of median throughput and the ratios.
Usage: source.py BUILD_DIR OUT_DIR [--size MiB] [--repeat 3]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

from benchlib import free_port, make_input, nginx_version, start_nginx, start_sink, wait_port


def timed_delivery(sink, portfile, size, cmd_for):
    """Run cmd_for(port) against a fresh one-connection sink; check that it
    got size bytes; return bytes per second."""
    s, ports = start_sink(sink, 1, portfile)
    port = ports[0]
    t0 = time.monotonic()
    subprocess.run(cmd_for(port), check=True)
    got = int(s.communicate(timeout=60)[0].split()[0])
    if got != size:
        sys.exit("%s delivered %d bytes, want %d" % (cmd_for(port)[0], got, size))
    return size / (time.monotonic() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=512, help="MiB")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    d = os.path.abspath(a.out)
    os.makedirs(d + "/root", exist_ok=True)
    os.makedirs(d + "/tmp", exist_ok=True)
    size = a.size << 20
    make_input(d + "/root/big.bin", a.size)
    port = free_port()
    nginx = start_nginx(d, port)
    url = "http://127.0.0.1:%d/big.bin" % port
    sink = os.path.join(a.build, "sink")
    ringcast = os.path.join(a.build, "ringcast")
    res = {"ringcast": [], "curl": []}
    try:
        wait_port(port)
        for r in range(a.repeat):
            res["ringcast"].append(timed_delivery(
                sink, d + "/ports", size,
                lambda p: [ringcast, "-q", "-i", url, "127.0.0.1:" + p]))
            t0 = time.monotonic()
            subprocess.run(["curl", "-sSf", "-o", "/dev/null", url], check=True)
            res["curl"].append(size / (time.monotonic() - t0))
            print("run %d: ringcast %.0f MiB/s, curl %.0f MiB/s" %
                  (r + 1, res["ringcast"][-1] / 2**20, res["curl"][-1] / 2**20), file=sys.stderr)
    finally:
        nginx.terminate()
        nginx.wait()
    # The archive member.
    subprocess.run("cd %s/root && tar cf - big.bin | zstd -q -T0 -o %s/a.tar.zst" % (d, d),
                   shell=True, check=True)
    arc = {"ringcast": [], "tar | socat": []}
    for r in range(a.repeat):
        for tool in arc:
            if tool == "ringcast":
                cmd_for = lambda p: [ringcast, "-q", "--extract", "big.bin", "-i",
                                     d + "/a.tar.zst", "127.0.0.1:" + p]
            else:
                cmd_for = lambda p: ["sh", "-c", "tar -xOf %s/a.tar.zst big.bin | "
                                     "socat -u - TCP:127.0.0.1:%s" % (d, p)]
            arc[tool].append(timed_delivery(sink, d + "/ports", size, cmd_for))
        print("run %d: --extract %.0f MiB/s, tar | socat %.0f MiB/s" %
              (r + 1, arc["ringcast"][-1] / 2**20, arc["tar | socat"][-1] / 2**20), file=sys.stderr)

    rc, cu = statistics.median(res["ringcast"]), statistics.median(res["curl"])
    print("## URL source: an HTTP download through ringcast, against curl\n")
    print("Measured %s with `make bench`: a %d MiB file from nginx %s on loopback, fetched by "
          "`ringcast -i URL` into one loopback receiver and by `curl -o /dev/null`, median of %d "
          "interleaved runs. ringcast does more (it also sends every byte on to a receiver); "
          "higher is better.\n" % (time.strftime("%Y-%m-%d"), a.size, nginx_version(), a.repeat))
    print("| tool | MiB/s | ratio to curl |")
    print("|---|---:|---:|")
    print("| ringcast -i URL | %.0f | %.2f |" % (rc / 2**20, rc / cu))
    print("| curl -o /dev/null | %.0f | 1.00 |" % (cu / 2**20))
    ra, ta = statistics.median(arc["ringcast"]), statistics.median(arc["tar | socat"])
    print("\n## Archive member: `--extract` against tar piped to socat\n")
    print("The same %d MiB file as the only member of a `.tar.zst`, sent to one loopback "
          "receiver by `ringcast --extract big.bin -i a.tar.zst` and by "
          "`tar -xOf a.tar.zst big.bin | socat -u - TCP:...`, median of %d interleaved runs.\n"
          % (a.size, a.repeat))
    print("| tool | MiB/s | ratio to tar, socat |")
    print("|---|---:|---:|")
    print("| ringcast --extract | %.0f | %.2f |" % (ra / 2**20, ra / ta))
    print("| tar -xOf, socat | %.0f | 1.00 |" % (ta / 2**20))


if __name__ == "__main__":
    main()
