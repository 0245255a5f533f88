#!/usr/bin/python3
"""gzip_isize.py FILE: add one to the ISIZE of FILE's last gzip member (its last 4 bytes), its CRC-32 left intact."""
import os
import struct
import sys

f = os.open(sys.argv[1], os.O_RDWR)
end = os.fstat(f).st_size - 4
os.pwrite(f, struct.pack("<I", struct.unpack("<I", os.pread(f, 4, end))[0] + 1), end)
