#!/usr/bin/env python3
"""Serve-mode benchmark: wrk against `ringcast --serve --http` and nginx
(sendfile on, access log off, one worker: ringcast is one thread) on the same
blobs (4 KiB and 1 MiB), at 64 and 256 connections, interleaved and
repeated in one run.  Prints a Markdown report of median requests/s and the
ratio to nginx.  Usage: serve.py BUILD_DIR OUT_DIR [--repeat 3] [--seconds 5]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

from benchlib import free_port, nginx_version, start_nginx, wait_port


def wrk(url, conns, seconds):
    out = subprocess.run(["wrk", "-t2", "-c%d" % conns, "-d%ds" % seconds, url],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if not m or "Non-2xx" in out or "Socket errors" in out:
        sys.exit("wrk %s: unexpected output:\n%s" % (url, out))
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("out")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    a = ap.parse_args()
    d = os.path.abspath(a.out)
    os.makedirs(d + "/root", exist_ok=True)
    os.makedirs(d + "/tmp", exist_ok=True)
    blobs = {"4 KiB": "small.bin", "1 MiB": "big.bin"}
    for size, name in (("4 KiB", 4096), ("1 MiB", 1 << 20)):
        with open(os.path.join(d, "root", blobs[size]), "wb") as f:
            f.write(os.urandom(name))

    nport, rport = free_port(), free_port()
    procs = [
        start_nginx(d, nport),
        subprocess.Popen([os.path.join(a.build, "ringcast"), "-q", "--serve", "--http",
                          "-l", "127.0.0.1:%d" % rport]
                         + [os.path.join(d, "root", b) for b in blobs.values()]),
    ]
    try:
        wait_port(nport)
        wait_port(rport)
        servers = {"ringcast": rport, "nginx": nport}
        res = {}
        for size, name in blobs.items():
            for conns in (64, 256):
                for r in range(a.repeat):
                    for srv, port in servers.items():
                        rps = wrk("http://127.0.0.1:%d/%s" % (port, name), conns, a.seconds)
                        res.setdefault((size, conns, srv), []).append(rps)
                        print("%s c=%d %s run %d: %.0f req/s" % (size, conns, srv, r + 1, rps),
                              file=sys.stderr)
    finally:
        for p in procs:
            p.terminate()
            p.wait()

    print("## Serve mode: requests/s with wrk, against nginx\n")
    print("Measured %s with `make bench`: `wrk -t2 -d%ds` on loopback against "
          "`ringcast --serve --http` and nginx %s (sendfile on, tcp_nopush on, access log off, "
          "one worker, since ringcast is one thread), same blobs, same run, median of %d "
          "interleaved runs. Higher is better.\n"
          % (time.strftime("%Y-%m-%d"), a.seconds, nginx_version(), a.repeat))
    print("| blob | connections | ringcast req/s | nginx req/s | ringcast / nginx |")
    print("|---|---:|---:|---:|---:|")
    for size in blobs:
        for conns in (64, 256):
            rc = statistics.median(res[(size, conns, "ringcast")])
            ng = statistics.median(res[(size, conns, "nginx")])
            print("| %s | %d | %.0f | %.0f | %.2f |" % (size, conns, rc, ng, rc / ng))



if __name__ == "__main__":
    main()
