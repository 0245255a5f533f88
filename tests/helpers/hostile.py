#!/usr/bin/python3
"""Hostile HTTP requests against HOST PORT, each on a connection of its own:
prints "name status" per request, status being the response's status code,
or "close" when the server closed without a response.  Blob names used:
/blob (exists).  Timeout per request: 5 s."""
import socket
import sys

BIG = "X-Fill: " + "a" * 100000 + "\r\n"
CASES = [
    ("ok", b"GET /blob HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("huge-header", ("GET /blob HTTP/1.1\r\nHost: x\r\n" + BIG + "\r\n").encode()),
    ("bogus-method", b"FROB /blob HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("post", b"POST /blob HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"),
    ("bogus-version", b"GET /blob HTTP/9.9\r\nHost: x\r\n\r\n"),
    ("garbage-version", b"GET /blob FTP/1.1\r\nHost: x\r\n\r\n"),
    ("nul-in-path", b"GET /bl\x00ob HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("nul-in-header", b"GET /blob HTTP/1.1\r\nHost: x\x00y\r\n\r\n"),
    ("dotdot", b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("encoded-dotdot", b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("absolute-path", b"GET //etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("absurd-range", b"GET /blob HTTP/1.1\r\nHost: x\r\nRange: bytes=99999999999999999999-\r\n\r\n"),
    ("range-past-end", b"GET /blob HTTP/1.1\r\nHost: x\r\nRange: bytes=5000000-\r\n\r\n"),
    ("cl-and-te", b"GET /blob HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
    ("body", b"GET /blob HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"),
    ("chunked-body", b"GET /blob HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("bare-lf", b"GET /blob HTTP/1.1\nHost: x\n\n"),
    ("no-path", b"GET HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("binary", bytes(range(256)) + b"\r\n\r\n"),
]


def status(host, port, req):
    s = socket.create_connection((host, port), timeout=5)
    try:
        s.sendall(req)
    except OSError:
        pass
    data = b""
    try:
        while b"\r\n" not in data:
            got = s.recv(4096)
            if not got:
                break
            data += got
    except OSError:
        pass
    s.close()
    if not data.startswith(b"HTTP/1.1 "):
        return "close"
    return data[9:12].decode()


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    for name, req in CASES:
        print(name, status(host, port, req))


if __name__ == "__main__":
    main()
