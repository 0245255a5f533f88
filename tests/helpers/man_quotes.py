"""Quotes that do not pair up in a rendered man page (mandoc -Tutf8 | col -b).

    man_quotes.py PAGE
        prints each quote opened inside another or closed without being
        opened, with the text around it, and each kind left open at the end;
        nothing when they pair up.

Quotes nested in one .Pq came out as (‘524.3 KiB, ‘64.0 MiB, ‘1.5 GiB’’’).
"""
import sys


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    for open_q, close_q in (("\u2018", "\u2019"), ("\u201c", "\u201d")):
        depth = 0
        for i, ch in enumerate(text):
            if ch in (open_q, close_q):
                depth += 1 if ch == open_q else -1
                if depth not in (0, 1):
                    print("unpaired %s: %r" % (ch, text[max(0, i - 50):i + 20]))
                    depth = max(0, min(depth, 1))
        if depth:
            print("left open: %s" % open_q)


main()
