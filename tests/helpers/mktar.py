#!/usr/bin/python3
"""mktar.py TAR NAME DATA [NAME DATA...]: a tar (PAX format) of members NAME holding DATA, names taken as given (../, /, control bytes, any length)."""
import io
import os
import sys
import tarfile

t = tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT)
args = sys.argv[2:]
for name, data in zip(args[0::2], args[1::2]):
    i = tarfile.TarInfo(name)
    data = os.fsencode(data)
    i.size = len(data)
    t.addfile(i, io.BytesIO(data))
t.close()
