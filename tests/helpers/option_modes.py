"""Which modes take each option, as the table of options in src/cli.h says
(its X(...) rows: RINGCAST_OPTIONS), or as the man page's MODES section says.

    option_modes.py src/cli.c      (or src/cli.h: the cli.h beside it is read)
        one line per option of the table, tab-separated: the name as messages
        give it (-j, --slow), the long name, 1 if it takes an argument else
        0, the modes (a number: 1 push, 2 subscribe, 4 raw serve, 8 HTTP
        serve, added up) and the message after the name in a wrong mode.
    option_modes.py src/cli.c --man man/ringcast.1
        the long name and the modes, as the man page lists them; then the
        same from the table, so that the caller can compare the two.

The tests read the table from the source, so that a new option is tried in
every mode it does not belong to without anyone listing it again.
"""
import os
import re
import sys

MODES = {"M_PUSH": 1, "M_SUB": 2, "M_RAW": 4, "M_HTTP": 8}
MODES.update(M_STREAM=3, M_SERVE=12, M_ANY=15)

# The man page's MODES list: item title -> modes.
MAN_TITLES = {
    "Push and subscribe": 3,
    "Subscribe": 2,
    "Subscribe and serve": 14,
    "Serve": 12,
    "Serve with Fl \\-http": 8,
    "Every mode": 15,
}


def modes_of(expr):
    return sum(MODES[t.strip()] for t in expr.split("|"))


# One row of the table, up to its WRONG message (cli.h describes the columns).
ROW = re.compile(r"""\bX\((\w+),\s*(0|'.'),\s*"([a-z0-9-]+)",\s*(K_\w+),[^"]*?,"""
                 r"""\s*(M_[A-Z]+(?:\s*\|\s*M_[A-Z]+)*),\s*(NULL|[A-Z_]+|"[^"]*"),""")


def table(src):
    text = open(os.path.join(os.path.dirname(src), "cli.h")).read().replace("\\\n", "\n")
    defines = dict(re.findall(r'^#define (\w+)\s+"(.*)"$', text, re.M))
    rows = []
    for _, letter, name, kind, expr, msg in ROW.findall(text):
        label = "-" + letter[1] if letter != "0" else "--" + name
        arg = 0 if kind in ("K_FLAG", "K_NOARG") else 1
        msg = defines.get(msg, msg).strip('"') if msg != "NULL" else ""
        rows.append((label, name, arg, modes_of(expr), msg))
    return rows


def man(path):
    text = open(path).read()
    sec = text[text.index(".Sh MODES"):text.index(".Sh DELIVERY")]
    rows, modes = [], None
    for line in sec.splitlines():
        if line.startswith(".It "):
            modes = MAN_TITLES[line[4:]]
        elif line.startswith(".El"):
            modes = None
        elif modes is not None and line.startswith(".Fl "):
            rows += [(n, modes) for n in re.findall(r"\\-([a-z0-9-]+)", line)]
    return rows


def main():
    rows = table(sys.argv[1])
    if len(sys.argv) > 3 and sys.argv[2] == "--man":
        for name, modes in sorted(man(sys.argv[3])):
            print("%s\t%d" % (name, modes))
        print("--")
        for row in sorted(rows, key=lambda r: r[1]):
            print("%s\t%d" % (row[1], row[3]))
        return
    for row in rows:
        print("%s\t%s\t%d\t%d\t%s" % row)


main()
