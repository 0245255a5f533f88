#!/usr/bin/python3
"""frame_client.py PORT KIND [--from ADDRESS]: connect (from ADDRESS, if given) to a ringcast receiver on 127.0.0.1:PORT,
send one crafted opening (KIND: "garbage", "version2" for a header of protocol
version 2, "critical" for a header with an unknown critical field,
"unsigned" for a well-formed header without a MAC, "silent" for nothing), and print the verdict that comes back as "code=N reason=TEXT"
(doc/PROTOCOL.md's layout), then how the connection ended ("end=eof",
"end=reset")."""
import socket
import struct
import sys

port, kind = int(sys.argv[1]), sys.argv[2]
source = (sys.argv[4], 0) if sys.argv[3:4] == ["--from"] else None


def header(version, fields):
    body = b"".join(struct.pack(">HH", t, len(v)) + v for t, v in fields)
    return b"RINGCAST" + struct.pack(">HHI", version, 0, len(body)) + body


opening = {
    "garbage": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "version2": header(2, [(1, b"x")]),
    "critical": header(1, [(1, b"x"), (0x8000 | 77, b"?")]),
    "unsigned": header(1, [(1, b"x")]),
    "silent": b"",
}[kind]
s = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=source)
got, end = b"", "eof"
try:
    s.sendall(opening)
except (BrokenPipeError, ConnectionResetError):
    pass  # a receiver may answer unread and reset first: its verdict is still there to read
try:
    while True:
        d = s.recv(4096)
        if not d:
            break
        got += d
except ConnectionResetError:
    end = "reset"
if len(got) >= 54 and got[:8] == b"RINGCVRD":
    code = struct.unpack(">H", got[10:12])[0]
    n = struct.unpack(">H", got[52:54])[0]
    print("code=%d reason=%s" % (code, got[54:54 + n].decode(errors="replace")))
else:
    print("no verdict (%d bytes)" % len(got))
print("end=" + end)
