#!/usr/bin/python3
"""zip_flip.py ZIP MEMBER: invert the middle byte of a stored (-0) MEMBER in ZIP, in place; print "0xNEW should be 0xOLD", its CRC-32s as libarchive names them."""
import os
import struct
import sys
import zipfile
import zlib

z = zipfile.ZipFile(sys.argv[1])
i = z.getinfo(sys.argv[2])
data = bytearray(z.read(sys.argv[2]))
z.close()
f = os.open(sys.argv[1], os.O_RDWR)
name_len, extra_len = struct.unpack("<HH", os.pread(f, 4, i.header_offset + 26))
start = i.header_offset + 30 + name_len + extra_len
data[len(data) // 2] ^= 0xff
os.pwrite(f, bytes([data[len(data) // 2]]), start + len(data) // 2)
print("0x%x should be 0x%x" % (zlib.crc32(data), i.CRC))
