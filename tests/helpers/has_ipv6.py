#!/usr/bin/python3
"""has_ipv6.py: exit 0 if a TCP socket can be bound to ::1 here, else fail."""
import socket

socket.socket(socket.AF_INET6).bind(("::1", 0))
