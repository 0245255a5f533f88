#!/usr/bin/python3
"""json_get.py FILE EXPR: print the value of the Python expression EXPR over the JSON document in FILE, parsed as j."""
import json
import sys

j = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))
