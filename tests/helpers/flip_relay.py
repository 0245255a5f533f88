#!/usr/bin/python3
"""flip_relay.py PORTFILE TARGET_PORT OFFSET: a TCP relay on 127.0.0.1 that
inverts the byte at OFFSET of what flows from its client to 127.0.0.1:TARGET_PORT
(a byte changed in transit), and passes the other direction unchanged.  It
writes the port it listens on to PORTFILE, takes one connection, and exits
once both directions have ended."""
import os
import selectors
import socket
import sys

portfile, target, offset = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lis = socket.socket()
lis.bind(("127.0.0.1", 0))
lis.listen(1)
tmp = portfile + ".tmp"
with open(tmp, "w") as f:
    f.write("%d\n" % lis.getsockname()[1])
os.rename(tmp, portfile)
lis.settimeout(60)
client, _ = lis.accept()
server = socket.create_connection(("127.0.0.1", target), timeout=60)
sel = selectors.DefaultSelector()
sel.register(client, selectors.EVENT_READ, server)
sel.register(server, selectors.EVENT_READ, client)
seen, open_dirs = 0, 2
while open_dirs:
    for key, _ in sel.select(timeout=60) or sys.exit("flip_relay: idle for 60 s"):
        src, dst = key.fileobj, key.data
        try:
            data = src.recv(1 << 16)
        except ConnectionResetError:
            data = b""
        if src is client and data and seen <= offset < seen + len(data):
            b = bytearray(data)
            b[offset - seen] ^= 0xFF
            data = bytes(b)
        if src is client:
            seen += len(data)
        if data:
            dst.sendall(data)
            continue
        sel.unregister(src)
        open_dirs -= 1
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
