#!/usr/bin/env bats
# Every option lives in four places that must agree: the getopt_long table,
# --help, the man page and the bash, zsh and fish completions.

load helpers/common

setup() { common_setup; }
teardown() { common_teardown; }

ROOT=$BATS_TEST_DIRNAME/..

# Long options of the getopt_long table in src/cli.c.
table_options() {
    sed -n '/longopts\[\] = {/,/^};/p' "$ROOT/src/cli.c" |
        grep -oE '\{ "[a-z0-9-]+"' | grep -oE '[a-z0-9-]+' | sort -u
}

# Long options named in a file: every --word.
named_options() {
    grep -oE -- '--[a-z][a-z0-9-]+' "$@" | sed 's/^--//' | sort -u
}

@test "the getopt table has the options the docs describe" {
    table_options > "$T/table"
    [ "$(wc -l < "$T/table")" -ge 13 ]
    "$RINGCAST" --help | named_options > "$T/help"
    # The man page writes --opt as "Fl \-opt".
    sed 's/Fl \\-/--/g' "$ROOT/man/ringcast.1" | named_options > "$T/man"
    named_options "$ROOT/completions/ringcast.bash" > "$T/bash"
    named_options "$ROOT/completions/_ringcast" > "$T/zsh"
    # fish writes long options as "-l name".
    grep -oE -- '-l [a-z0-9-]+' "$ROOT/completions/ringcast.fish" | cut -c4- | sort -u > "$T/fish"
    local f
    for f in help man bash zsh fish; do
        diff -u "$T/table" "$T/$f" || { echo "$f disagrees with the getopt table" >&2; return 1; }
    done
}

@test "every option has a line in the mode table, and the man page's MODES lists agree with it" {
    table_options > "$T/table"
    "$PY" "$HELPERS/option_modes.py" "$ROOT/src/cli.c" | cut -f2 | sort > "$T/modes"
    diff -u "$T/table" "$T/modes" || { echo "src/cli.c: option_modes disagrees with longopts" >&2; return 1; }
    "$PY" "$HELPERS/option_modes.py" "$ROOT/src/cli.c" --man "$ROOT/man/ringcast.1" > "$T/both"
    sed '/^--$/,$d' "$T/both" > "$T/man"
    sed '1,/^--$/d' "$T/both" > "$T/c"
    [ "$(wc -l < "$T/man")" -ge 40 ]
    diff -u "$T/c" "$T/man" || { echo "the man page's MODES disagree with src/cli.c" >&2; return 1; }
}

@test "the short options of --help and the getopt string agree" {
    local optstring
    optstring=$(grep -oE 'getopt_long\(argc, argv, "[^"]+"' "$ROOT/src/cli.c" | sed 's/.*"\(.*\)"/\1/' | tr -d ':')
    "$RINGCAST" --help | grep -oE '^  -[a-zA-Z0-9],' | cut -c4 | sort > "$T/help"
    echo "$optstring" | grep -o . | sort > "$T/getopt"
    diff -u "$T/getopt" "$T/help"
}

@test "the man page renders and mandoc finds nothing to warn about" {
    run -0 man -l "$ROOT/man/ringcast.1"
    [[ $output == *"read a stream once and deliver it to many TCP peers at once"* ]]
    if command -v mandoc > /dev/null; then
        run -0 mandoc -Tlint -Wwarning "$ROOT/man/ringcast.1"
        [ -z "$output" ]
    fi
}

@test "the man page's quotes pair up: none opened inside another, none left open" {
    command -v mandoc > /dev/null || skip "mandoc is not installed"
    mandoc -Tutf8 "$ROOT/man/ringcast.1" | col -b > "$T/page"
    # Quotes nested in one .Pq came out as (‘524.3 KiB, ‘64.0 MiB, ‘1.5 GiB’’’).
    run -0 "$PY" -c '
import sys
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
' "$T/page"
    [ -z "$output" ] || { echo "$output" >&2; false; }
}

@test "--help's usage lines match the man page SYNOPSIS" {
    local help man
    # The man page names the arguments in lower case and folds options into [options].
    help=$("$RINGCAST" --help | sed -n '1,/^$/p' | sed '/^$/d; s/^usage: //; s/^ *//' |
        tr 'A-Z' 'a-z' | sed 's/\[dest\.\.\.\]/[dest ...]/; s/\[-o dest\]\.\.\./[-o dest]/; s/blob\.\.\./blob .../')
    man=$(MANWIDTH=200 man -l "$ROOT/man/ringcast.1" 2>/dev/null | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' |
        sed '1d; $d; /^ *$/d; s/^ *//' | grep -v -- '-h | -V' | tr 'A-Z' 'a-z')
    [ "$help" = "$man" ] || { echo "help: $help" >&2; echo "man:  $man" >&2; false; }
    [ "$(wc -l <<< "$help")" -eq 3 ]
}

@test "bash completion completes --trans to --transport and its values" {
    run -0 bash -c "source '$ROOT/completions/ringcast.bash'
        COMP_WORDS=(ringcast --trans); COMP_CWORD=1; _ringcast; echo \"\${COMPREPLY[*]}\"
        COMP_WORDS=(ringcast --transport ''); COMP_CWORD=2; _ringcast; echo \"\${COMPREPLY[*]}\""
    [ "${lines[0]}" = "--transport" ]
    [ "${lines[1]}" = "auto uring msgzc sendfile copy" ]
}

@test "bash completion: fixed values for --slow and --join, files for --dests-from and --stats" {
    touch "$T/fleet.txt"
    run -0 bash -c "cd '$T'; source '$ROOT/completions/ringcast.bash'
        COMP_WORDS=(ringcast --slow ''); COMP_CWORD=2; _ringcast; echo \"\${COMPREPLY[*]}\"
        COMP_WORDS=(ringcast --join o); COMP_CWORD=2; _ringcast; echo \"\${COMPREPLY[*]}\"
        COMP_WORDS=(ringcast --dests-from fl); COMP_CWORD=2; _ringcast; echo \"\${COMPREPLY[*]}\"
        COMP_WORDS=(ringcast --stats fl); COMP_CWORD=2; _ringcast; echo \"\${COMPREPLY[*]}\""
    [ "${lines[0]}" = "block drop" ]
    [ "${lines[1]}" = "oldest" ]
    [ "${lines[2]}" = "fleet.txt" ]
    [ "${lines[3]}" = "fleet.txt" ]
}

@test "make install honours DESTDIR and PREFIX; the installed binary and page work" {
    run -0 make -C "$ROOT" -s install DESTDIR="$T/root" PREFIX=/opt/rc B="$(dirname "$RINGCAST")"
    [ -x "$T/root/opt/rc/bin/ringcast" ]
    [ -f "$T/root/opt/rc/share/man/man1/ringcast.1" ]
    [ -f "$T/root/opt/rc/share/bash-completion/completions/ringcast" ]
    [ -f "$T/root/opt/rc/share/zsh/vendor-completions/_ringcast" ]
    [ -f "$T/root/opt/rc/share/fish/vendor_completions.d/ringcast.fish" ]
    run -0 "$T/root/opt/rc/bin/ringcast" --version
    [ "${lines[0]}" = "ringcast 0.1.0" ]
    run -0 man -l "$T/root/opt/rc/share/man/man1/ringcast.1"
    [[ $output == *"--dests-from"* ]]
    # The installed completion, loaded as bash-completion would.
    run -0 bash -c "source '$T/root/opt/rc/share/bash-completion/completions/ringcast'
        COMP_WORDS=(ringcast --trans); COMP_CWORD=1; _ringcast; echo \"\${COMPREPLY[*]}\""
    [ "$output" = "--transport" ]
    run -0 make -C "$ROOT" -s uninstall DESTDIR="$T/root" PREFIX=/opt/rc
    [ ! -e "$T/root/opt/rc/bin/ringcast" ]
    [ ! -e "$T/root/opt/rc/share/man/man1/ringcast.1" ]
}
