#!/usr/bin/python3
"""dawdle.py PORT: on one connection to 127.0.0.1:PORT, half a request head for /x.txt (body "x\n"), 1.5 s of nothing, the rest; then 1.5 s idle and a second request; prints each response's status line (or "closed after ...")."""
import socket
import sys
import time

s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(20)


def status():  # of a whole response, its body "x\n"
    got = b""
    while not got.endswith(b"\r\n\r\nx\n"):
        more = s.recv(100)
        if not more:
            return "closed after %r" % got
        got += more
    return got.split(b"\r\n")[0].decode()


s.sendall(b"GET /x.txt HTTP/1.1\r\nHost: x\r\n")
time.sleep(1.5)
s.sendall(b"\r\n")
print(status())
time.sleep(1.5)
s.sendall(b"GET /x.txt HTTP/1.1\r\nHost: x\r\n\r\n")
print(status())
