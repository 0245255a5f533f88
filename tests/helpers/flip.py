#!/usr/bin/python3
"""flip.py FILE [OFFSET]: invert the byte at OFFSET of FILE, in place (default: the middle byte)."""
import os
import sys

f = os.open(sys.argv[1], os.O_RDWR)
off = int(sys.argv[2]) if len(sys.argv) > 2 else os.fstat(f).st_size // 2
os.pwrite(f, bytes([os.pread(f, 1, off)[0] ^ 0xff]), off)
