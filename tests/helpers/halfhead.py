#!/usr/bin/python3
"""halfhead.py PORT: send 127.0.0.1:PORT half a request head, print "sent half a header", then how the server ended it: "closed after S s" or "got BYTES after S s" (10 s at most)."""
import socket
import sys
import time

s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /disk.img HTTP/1.1\r\nHost: x\r\nX-Slow: ")
print("sent half a header", flush=True)
t0 = time.monotonic()
s.settimeout(10)
got = s.recv(100)
print("closed" if got == b"" else "got %r" % got, "after %.1f s" % (time.monotonic() - t0))
