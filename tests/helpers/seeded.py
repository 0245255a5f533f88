#!/usr/bin/python3
"""seeded.py MIB: MIB MiB of pseudo-random bytes from a fixed seed on stdout, the same every run."""
import random
import sys

random.seed(15)
sys.stdout.buffer.write(random.randbytes(int(sys.argv[1]) << 20))
