"""Which modes take each option, as src/cli.c's option_modes table says, or
as the man page's MODES section says.

    option_modes.py src/cli.c
        one line per option_modes entry, tab-separated: the name as messages
        give it (-j, --slow), the long name, 1 if it takes an argument else
        0, the modes (a number: 1 push, 2 subscribe, 4 raw serve, 8 HTTP
        serve, added up) and the message after the name in a wrong mode.
    option_modes.py src/cli.c --man man/ringcast.1
        the long name and the modes, as the man page lists them; then the
        same from the table, so that the caller can compare the two.

The tests read the table from the source, as tests/docs.bats reads the
getopt_long table, so that a new option is tried in every mode it does not
belong to without anyone listing it again.
"""
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


def table(src):
    text = open(src).read()
    defines = dict(re.findall(r'^#define (\w+) "(.*)"$', text, re.M))
    longopts = {}
    body = text[text.index("longopts[] = {"):]
    for name, arg, val in re.findall(r'\{ "([a-z0-9-]+)", (\w+), NULL, ([^ ]+) \}',
                                     body[:body.index("};")]):
        label = "-" + val[1] if val.startswith("'") else "--" + name
        longopts[name] = (label, 0 if arg == "no_argument" else 1)
    rows = []
    body = text[text.index("option_modes[] = {"):]
    for line in body[:body.index("};")].splitlines():
        m = re.match(r'\s*\{ "([a-z0-9-]+)", ([A-Z_| ]+), (NULL|[A-Z_]+|".*") \},$', line)
        if not m:
            continue
        name, expr, msg = m.groups()
        msg = defines.get(msg, msg).strip('"') if msg != "NULL" else ""
        label, arg = longopts[name]
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
