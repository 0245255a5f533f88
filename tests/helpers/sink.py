#!/usr/bin/python3
"""A receiver for thousands of connections: one listening port, --count
connections accepted, each read to its end with a small receive buffer, its
bytes counted and checksummed (CRC-32: cheap enough for gigabytes).

The port is written to --portfile once listening.  When every connection has
ended (or --timeout passes) it prints one summary line,
    "connections N good G bad B resets R"
where good ones carried exactly --bytes bytes with CRC-32 --crc and ended
with a clean EOF, then one line per bad connection.  Exits 0 when all --count
were good, 1 otherwise, 3 on timeout.
"""
import argparse
import os
import resource
import selectors
import socket
import sys
import time
import zlib


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--bytes", type=int, required=True)
    ap.add_argument("--crc", type=lambda s: int(s, 0), required=True)
    ap.add_argument("--portfile", required=True)
    ap.add_argument("--rcvbuf", type=int, default=64 << 10)
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit it: small buffers keep thousands of them
    # inside the kernel's TCP memory.
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    ls.bind(("127.0.0.1", 0))
    ls.listen(4096)
    ls.setblocking(False)
    tmp = a.portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(tmp, a.portfile)

    sel = selectors.EpollSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    buf = bytearray(1 << 20)
    accepted, ended, bad, resets, good = 0, 0, [], 0, 0
    deadline = time.monotonic() + a.timeout
    while ended < a.count:
        if time.monotonic() > deadline:
            print("sink.py: timeout: %d of %d ended" % (ended, a.count), file=sys.stderr)
            return 3
        for key, _ in sel.select(0.5):
            if key.data is None:
                while accepted < a.count:
                    try:
                        s, _ = ls.accept()
                    except BlockingIOError:
                        break
                    s.setblocking(False)
                    sel.register(s, selectors.EVENT_READ, [s, 0, 0])
                    accepted += 1
                continue
            c = key.data
            end = None
            try:
                n = c[0].recv_into(buf)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                end, n = "reset", 0
                resets += 1
            if n:
                c[1] += n
                c[2] = zlib.crc32(memoryview(buf)[:n], c[2])
                continue
            end = end or "eof"
            sel.unregister(c[0])
            c[0].close()
            ended += 1
            if end == "eof" and c[1] == a.bytes and c[2] == a.crc:
                good += 1
            else:
                bad.append("%d bytes crc %#x %s" % (c[1], c[2], end))
    print("connections %d good %d bad %d resets %d" % (ended, good, len(bad), resets))
    for b in bad:
        print(b)
    return 0 if good == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
