#!/usr/bin/env bats
# Every option lives in four places that must agree: the table of options in
# src/cli.h (from which getopt's tables and --help come), the man page, and
# completions/ringcast.options (from which the bash, zsh and fish completions
# are written).

load helpers/common

setup() { common_setup; }
teardown() { common_teardown; }

ROOT=$BATS_TEST_DIRNAME/..

# The table's rows, as tests/helpers/option_modes.py reads them: label, long
# name, takes an argument, modes, message.
table() {
    "$PY" "$HELPERS/option_modes.py" "$ROOT/src/cli.h"
}

# Long options of the table in src/cli.h.
table_options() {
    table | cut -f2 | sort -u
}

# Long options named in a file: every --word.
named_options() {
    grep -oE -- '--[a-z][a-z0-9-]+' "$@" | sed 's/^--//' | sort -u
}

# The completion for shell $1 (bash, zsh, fish), as make writes it.
completion() {
    awk -v shell="$1" -f "$ROOT/completions/gen.awk" "$ROOT/completions/ringcast.options"
}

@test "the table of options has the options the docs and the completions describe" {
    table_options > "$T/table"
    [ "$(wc -l < "$T/table")" -ge 13 ]
    # Every row was read: the helper's pattern skipped none.
    [ "$(table | wc -l)" -eq "$(grep -cE '^[[:space:]]+X\(' "$ROOT/src/cli.h")" ]
    "$RINGCAST" --help | named_options > "$T/help"
    # The man page writes --opt as "Fl \-opt".
    sed 's/Fl \\-/--/g' "$ROOT/man/ringcast.1" | named_options > "$T/man"
    grep -vE '^(#|$)' "$ROOT/completions/ringcast.options" | cut -d'|' -f2 | sort > "$T/list"
    completion bash > "$T/ringcast.bash"
    completion zsh > "$T/_ringcast"
    completion fish > "$T/ringcast.fish"
    named_options "$T/ringcast.bash" > "$T/bash"
    named_options "$T/_ringcast" > "$T/zsh"
    # fish writes long options as "-l name".
    grep -oE -- '-l [a-z0-9-]+' "$T/ringcast.fish" | cut -c4- | sort -u > "$T/fish"
    local f
    for f in help man list bash zsh fish; do
        diff -u "$T/table" "$T/$f" || { echo "$f disagrees with the table in src/cli.h" >&2; return 1; }
    done
}

@test "the man page's MODES lists agree with the modes of the table" {
    "$PY" "$HELPERS/option_modes.py" "$ROOT/src/cli.h" --man "$ROOT/man/ringcast.1" > "$T/both"
    sed '/^--$/,$d' "$T/both" > "$T/man"
    sed '1,/^--$/d' "$T/both" > "$T/c"
    [ "$(wc -l < "$T/man")" -ge 40 ]
    diff -u "$T/c" "$T/man" || { echo "the man page's MODES disagree with src/cli.h" >&2; return 1; }
}

@test "the short options of the table, --help and the completions agree" {
    table | cut -f1,2 | grep -E '^-[^-]' | sed 's/^-//' | sort > "$T/table"
    "$RINGCAST" --help | grep -oE '^  -[a-zA-Z0-9], --[a-z0-9-]+' | sed 's/^  -\(.\), --/\1\t/' |
        sort > "$T/help"
    grep -vE '^(#|$)' "$ROOT/completions/ringcast.options" | grep -v '^-|' | cut -d'|' -f1,2 |
        tr '|' '\t' | sort > "$T/list"
    [ "$(wc -l < "$T/table")" -ge 10 ]
    diff -u "$T/table" "$T/help"
    diff -u "$T/table" "$T/list"
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
    run -0 "$PY" "$HELPERS/man_quotes.py" "$T/page"
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
    completion bash > "$T/ringcast.bash"
    run -0 bash -c "source '$T/ringcast.bash'
        COMP_WORDS=(ringcast --trans); COMP_CWORD=1; _ringcast; echo \"\${COMPREPLY[*]}\"
        COMP_WORDS=(ringcast --transport ''); COMP_CWORD=2; _ringcast; echo \"\${COMPREPLY[*]}\""
    [ "${lines[0]}" = "--transport" ]
    [ "${lines[1]}" = "auto uring msgzc sendfile copy" ]
}

@test "bash completion: fixed values for --slow and --join, files for --dests-from and --stats" {
    touch "$T/fleet.txt"
    completion bash > "$T/ringcast.bash"
    run -0 bash -c "cd '$T'; source '$T/ringcast.bash'
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
