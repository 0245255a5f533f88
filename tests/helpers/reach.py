#!/usr/bin/python3
"""reach.py PORT [HOST...]: connect to PORT on each HOST (default 127.0.0.1 and ::1) and print per host "HOST REPLY" (its first bytes, stripped), "HOST refused" or "HOST ERROR"."""
import socket
import sys

for h in sys.argv[2:] or ("127.0.0.1", "::1"):
    try:
        s = socket.create_connection((h, int(sys.argv[1])), timeout=10)
        print(h, s.recv(100).decode().strip())
    except OSError as e:
        print(h, "refused" if isinstance(e, ConnectionRefusedError) else e)
