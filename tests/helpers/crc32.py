#!/usr/bin/python3
"""crc32.py FILE: FILE's CRC-32 in hex (0x...), as sink.py --crc takes it."""
import sys
import zlib

print(hex(zlib.crc32(open(sys.argv[1], "rb").read())))
