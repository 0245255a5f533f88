#!/usr/bin/env python3
"""URL-source benchmark: the same file over HTTP from nginx, fetched by
`ringcast -i URL` into one loopback receiver (bench/sink) and by
`curl -o /dev/null`, interleaved and repeated in one run.  Prints a Markdown
report of median throughput and the ratio to curl.
Usage: source.py BUILD_DIR OUT_DIR [--size MiB] [--repeat 3]
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

from serve import NGINX_CONF, free_port, wait_port, nginx_version


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
    with open(d + "/root/big.bin", "wb") as f:
        for _ in range(a.size):
            f.write(os.urandom(1 << 20))
    port = free_port()
    with open(d + "/nginx.conf", "w") as f:
        f.write(NGINX_CONF.format(d=d, port=port))
    nginx = subprocess.Popen(["nginx", "-c", d + "/nginx.conf"])
    url = "http://127.0.0.1:%d/big.bin" % port
    sink = os.path.join(a.build, "sink")
    res = {"ringcast": [], "curl": []}
    try:
        wait_port(port)
        for r in range(a.repeat):
            portfile = d + "/ports"
            if os.path.exists(portfile):
                os.unlink(portfile)
            s = subprocess.Popen([sink, "1", portfile], stdout=subprocess.PIPE)
            while not os.path.exists(portfile):
                time.sleep(0.01)
            dest = "127.0.0.1:" + open(portfile).read().split()[0]
            t0 = time.monotonic()
            subprocess.run([os.path.join(a.build, "ringcast"), "-q", "-i", url, dest], check=True)
            got = int(s.communicate(timeout=60)[0].split()[0])
            if got != size:
                sys.exit("ringcast delivered %d bytes, want %d" % (got, size))
            res["ringcast"].append(size / (time.monotonic() - t0))
            t0 = time.monotonic()
            subprocess.run(["curl", "-sSf", "-o", "/dev/null", url], check=True)
            res["curl"].append(size / (time.monotonic() - t0))
            print("run %d: ringcast %.0f MiB/s, curl %.0f MiB/s" %
                  (r + 1, res["ringcast"][-1] / 2**20, res["curl"][-1] / 2**20), file=sys.stderr)
    finally:
        nginx.terminate()
        nginx.wait()
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


if __name__ == "__main__":
    main()
