#!/usr/bin/python3
"""rawhttp.py PORT [--each] [--wait SECS] REQUEST...: send each REQUEST (raw
bytes, as given) to 127.0.0.1:PORT on one connection, all in one write
(pipelined) or, with --each, each once the previous response is in.  Reads
one response per request, framed as RFC 9112 says (no body for HEAD or 304,
else Content-Length bytes), and prints per response one line:

  status=404 connection=close length=14 allow=- body=b'404 Not Found\\n'

(connection, allow: the header's value or -; body: its repr, or
sha256=HEX when longer than 100 bytes).  Then one last line, how the
connection went on within --wait seconds (default 10) of the last response:
end=eof (the server closed it), end=open (it did not), or
end=extra:REPR (bytes no response accounts for).  A response that is not
HTTP prints bad=REPR and ends the output."""
import hashlib
import os
import socket
import sys


def read_response(s, buf, head_only):
    """One response from s (buf: bytes already read): (fields, rest) or
    (None, buf) at EOF or on garbage."""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            return None, buf
        buf += d
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"HTTP/1.1 "):
        return None, head + b"\r\n\r\n" + buf
    status = int(lines[0][9:12])
    hdr = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        hdr[name.strip().lower().decode()] = value.strip().decode()
    length = int(hdr.get("content-length", "0"))
    want = 0 if head_only or status == 304 else length
    while len(buf) < want:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    body, buf = buf[:want], buf[want:]
    shown = repr(body) if len(body) <= 100 else "sha256=" + hashlib.sha256(body).hexdigest()
    return ("status=%d connection=%s length=%s allow=%s body=%s" %
            (status, hdr.get("connection", "-"), hdr.get("content-length", "-"),
             hdr.get("allow", "-"), shown)), buf


def main():
    args = sys.argv[1:]
    port = int(args.pop(0))
    each, wait = False, 10.0
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--each":
            each = True
        elif opt == "--wait":
            wait = float(args.pop(0))
        else:
            sys.exit("rawhttp.py: unknown option " + opt)
    reqs = [os.fsencode(a) for a in args]
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    if not each:
        s.sendall(b"".join(reqs))
    buf = b""
    for req in reqs:
        if each:
            s.sendall(req)
        line, buf = read_response(s, buf, req.startswith(b"HEAD "))
        if line is None:
            if buf:
                print("bad=%r" % buf[:200])
                return
            print("end=eof")
            return
        print(line, flush=True)
    if buf:
        print("end=extra:%r" % buf[:200])
        return
    try:
        d = s.recv(65536)
    except socket.timeout:
        print("end=open")
        return
    print("end=eof" if not d else "end=extra:%r" % d[:200])


if __name__ == "__main__":
    main()
