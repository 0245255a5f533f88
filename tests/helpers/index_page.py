#!/usr/bin/python3
"""index_page.py PAGE DIR: check serve's / listing PAGE (strict XML) against the files in DIR, and print "HREF SHA256" per row.

Each row's link, once decoded, must name a file of DIR whose size and type
the row gives, and its text must be the name itself (U+FFFD for a byte that
is not UTF-8); an AssertionError says which does not.
"""
import hashlib
import os
import sys
import urllib.parse
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
types = {".txt": "text/plain; charset=utf-8", ".html": "text/html; charset=utf-8"}
for tr in root.iter("tr"):
    td = tr.findall("td")
    if not td:
        continue
    a = td[0].find("a")
    href = a.get("href")
    name = urllib.parse.unquote_to_bytes(href[1:])
    path = os.path.join(os.fsencode(sys.argv[2]), name)
    data = open(path, "rb").read()
    assert a.text == name.decode("utf-8", "replace"), (a.text, name)
    assert td[1].text == str(len(data)), (td[1].text, len(data))
    assert td[2].text == types.get(os.path.splitext(name)[1].decode(), "application/octet-stream"), td[2].text
    print(href, hashlib.sha256(data).hexdigest())
