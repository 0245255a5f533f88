#!/usr/bin/python3
"""A deliberately simple HTTP/1.1 server for URL-source tests: serves one
file, and can misbehave on purpose.  Prints "port N" on stdout once bound.

  httpd.py FILE [--cut BYTES]     send only BYTES of the body, then close
               [--need HEADER]    answer 403 unless the request has HEADER
               [--tls CERT KEY]   speak HTTPS with that certificate
               [--status STATUS]  answer every request with STATUS (like
                                  "500 Internal Server Error") and a page
               [--redirect URL]   answer every request with 302 to URL
               [--one-write]      send the head and the body in one write
"""
import argparse
import socket
import ssl
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--cut", type=int, default=-1)
    ap.add_argument("--need", default=None)
    ap.add_argument("--tls", nargs=2, default=None)
    ap.add_argument("--status", default=None)
    ap.add_argument("--redirect", default=None)
    ap.add_argument("--one-write", action="store_true")
    a = ap.parse_args()
    body = open(a.file, "rb").read()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    print("port %d" % ls.getsockname()[1], flush=True)
    ctx = None
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
    while True:
        c, _ = ls.accept()
        if ctx:
            try:
                c = ctx.wrap_socket(c, server_side=True)
            except (ssl.SSLError, OSError):
                c.close()  # the client refused our certificate
                continue
        req = b""
        while b"\r\n\r\n" not in req:
            d = c.recv(4096)
            if not d:
                break
            req += d
        lines = req.decode("latin-1").split("\r\n")
        if a.need and a.need.lower() not in (l.lower() for l in lines):
            c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\nConnection: close\r\n\r\nforbidden")
            c.close()
            continue
        if a.status or a.redirect:
            page = b"an error page, never data\n"
            status = a.status or "302 Found"
            where = "Location: %s\r\n" % a.redirect if a.redirect else ""
            c.sendall(b"HTTP/1.1 %s\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                      % (status.encode(), where.encode(), len(page), page))
            c.close()
            continue
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        if a.one_write:
            c.sendall(head + body)
        else:
            c.sendall(head)
            c.sendall(body if a.cut < 0 else body[:a.cut])
        c.close()


if __name__ == "__main__":
    sys.exit(main())
