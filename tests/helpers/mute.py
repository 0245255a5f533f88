#!/usr/bin/python3
"""mute.py PORT: connect to 127.0.0.1:PORT, send nothing, and print "closed" when the server closes (or "got data"; 20 s at most)."""
import socket
import sys

s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(20)
print("closed" if s.recv(100) == b"" else "got data")
