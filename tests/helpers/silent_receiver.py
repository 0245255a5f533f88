#!/usr/bin/python3
"""silent_receiver.py PORTFILE: listen on 127.0.0.1, write the port to PORTFILE,
take one connection, read it to its end and never answer: a receiver whose
verdict never comes.  Holds the connection open 60 s at most, then exits."""
import os
import socket
import sys
import time

lis = socket.socket()
lis.bind(("127.0.0.1", 0))
lis.listen(1)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % lis.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
lis.settimeout(60)
c, _ = lis.accept()
c.settimeout(60)
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        if not c.recv(1 << 16):
            break
    except (socket.timeout, ConnectionResetError):
        break
while time.monotonic() < deadline:
    time.sleep(0.1)
