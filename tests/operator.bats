#!/usr/bin/env bats
# The operator's view: --stats JSON checked against what the receivers got,
# the progress line under a pseudo-terminal and in a log, --dests-from.

load helpers/common

setup() { common_setup; }
teardown() { common_teardown; }


@test "--stats: a clean run, every field checked against the receivers" {
    make_input in 8
    start_receivers 4
    run -0 timeout 60 "$RINGCAST" -q -i "$T/in" --stats "$T/st.json" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((8 << 20))
    [ "$(json "$T/st.json" 'j["version"]')" = 0.1.0 ]
    [ "$(json "$T/st.json" 'j["mode"]')" = push ]
    [ "$(json "$T/st.json" 'j["exit_status"], j["interrupted"]')" = "(0, False)" ]
    [ "$(json "$T/st.json" 'j["source"]')" = "{'name': '$T/in', 'bytes': 8388608, 'size': 8388608, 'error': None}" ]
    # An 8 MiB file is sent from its own pages: no ring of its own.
    [ "$(json "$T/st.json" 'j["ring"]')" = "{'size': 8388608, 'in_use': 8388608, 'locked': False, 'file_pages': True}" ]
    [ "$(json "$T/st.json" 'j["destinations"]')" = "{'total': 4, 'done': 4, 'failed': 0}" ]
    [ "$(json "$T/st.json" 'j["sends"]["bytes"]')" = $((4 * 8 << 20)) ]
    [ "$(json "$T/st.json" '" ".join(d["address"] for d in j["dests"])')" = "${DESTS[*]}" ]
    [ "$(json "$T/st.json" 'set((d["kind"], d["state"], d["bytes"], d["error"]) for d in j["dests"])')" = \
        "{('push', 'done', 8388608, None)}" ]
    [ "$(json "$T/st.json" 'j["duration_s"] >= 0 and j["end"] >= j["start"]')" = True ]
}

@test "--stats: a refused and a resetting destination are failed, with the error the messages give" {
    make_input in 16
    start_receivers 3 --reset 1 --reset-after $((1 << 20))
    local port
    refused_port
    port=$REFUSED_PORT
    run -1 --separate-stderr timeout 60 "$RINGCAST" -i "$T/in" --ring-size 2M --stats "$T/st.json" \
        "${DESTS[@]}" "127.0.0.1:$port"
    wait_receivers 30
    check_receivers "$T/in.sha" $((16 << 20)) 1 2
    [ "$(json "$T/st.json" 'j["exit_status"]')" = 1 ]
    [ "$(json "$T/st.json" 'j["destinations"]')" = "{'total': 4, 'done': 2, 'failed': 2}" ]
    [ "$(json "$T/st.json" '[d["state"] for d in j["dests"]]')" = "['failed', 'done', 'done', 'failed']" ]
    [ "$(json "$T/st.json" 'j["dests"][3]["error"], j["dests"][3]["bytes"]')" = "('connect: Connection refused', 0)" ]
    [ "$(json "$T/st.json" 'j["dests"][0]["error"] in ("send: Connection reset by peer", "send: Broken pipe")')" = True ]
    [ "$(json "$T/st.json" '1 << 20 <= j["dests"][0]["bytes"] < 16 << 20')" = True ]
    # The same reasons as the messages.
    [[ $stderr == *"ringcast: 127.0.0.1:$port: connect: Connection refused"* ]]
    # ECONNRESET, or EPIPE when a later send finds the reset already taken
    [[ $stderr =~ "ringcast: ${DESTS[0]}: send: "(Connection reset by peer|Broken pipe)" (after " ]]
}

@test "--stats - in subscribe mode: subscribers, where they joined, on stderr" {
    make_input in 4
    start_listening "$T/err" -i "$T/in" -l 127.0.0.1:0 --min-subscribers 2 --wait-timeout 60s --stats -
    local pub=$BG_PID
    run -0 timeout 30 "$PY" "$HELPERS/fetch.py" 127.0.0.1 "$PORT" --count 2
    wait_status "$pub" 30
    sed -n '/^{/,/^}/p' "$T/err" > "$T/st.json"
    [ "$(json "$T/st.json" 'j["mode"]')" = subscribe ]
    [ "$(json "$T/st.json" 'sorted((d["kind"], d["state"], d["bytes"], d["joined_at"]) for d in j["dests"])')" = \
        "[('subscriber', 'done', 4194304, 0), ('subscriber', 'done', 4194304, 0)]" ]
}

@test "progress: under a terminal a line is redrawn on stderr and stdout stays empty; -q silences it" {
    command -v script > /dev/null || skip "script (util-linux) is not installed"
    make_input in 16
    start_receivers 2
    # stderr is the pseudo-terminal; stdout goes to a file.
    # script gives the terminal the size of its own, if it has one: wide enough
    # here for the whole line.
    run -0 timeout 60 script -qec "stty cols 200; '$RINGCAST' -i '$T/in' --rate 16M ${DESTS[*]} > '$T/stdout'" /dev/null
    wait_receivers 30
    [ ! -s "$T/stdout" ]
    [[ $output == *$'\r'"ringcast: "*" of 16.0 MiB ("*"%) in 0:0"*", "*"/s, ETA "*"; 2 active, 0 done, 0 failed; slowest lag "* ]] ||
        { echo "$output" | cat -A >&2; false; }
    [[ $output == *$'\r'"ringcast: 16.0 MiB of 16.0 MiB (100%) in 0:01, "*"/s; 0 active, 2 done, 0 failed; slowest lag 0 B"* ]]
    start_receivers 2
    run -0 timeout 60 script -qec "'$RINGCAST' -q -i '$T/in' --rate 16M ${DESTS[*]} > '$T/stdout'" /dev/null
    wait_receivers 30
    [ -z "$output" ]
    [ ! -s "$T/stdout" ]
}

@test "progress: -P into a log writes plain lines, one a second, and none without -P" {
    make_input in 16
    start_receivers 2
    run -0 --separate-stderr timeout 60 "$RINGCAST" -P -i "$T/in" --rate 8M "${DESTS[@]}"
    wait_receivers 30
    [ -z "$output" ]
    [[ $stderr != *$'\r'* ]]
    local n
    n=$(grep -c "^ringcast: .* of 16.0 MiB (.*%) in 0:0.*; .* active, .* done, .* failed; slowest lag .*$" <<< "$stderr")
    [ "$n" -ge 2 ] && [ "$n" -le 4 ] || { echo "$stderr" >&2; false; }
    start_receivers 2
    run -0 --separate-stderr timeout 60 "$RINGCAST" -i "$T/in" --rate 32M "${DESTS[@]}"
    wait_receivers 30
    [ -z "$stderr" ]
}

# drawn FILE: the lines drawn on a terminal, as onterm.py kept them in FILE:
# split at every \r and \n, erase-to-end-of-line codes dropped, one a line.
drawn() {
    tr '\r' '\n' < "$1" | sed 's/\x1b\[K//g' | grep -v '^$'
}

# no_wider COLUMNS FILE: no line of FILE is wider than COLUMNS.
no_wider() {
    awk -v max="$1" 'length($0) > max { print "wider than " max ": " $0; bad = 1 } END { exit bad }' "$2" >&2
}

# progress_fits COLS WIDTH [ENV...]: ringcast -s 4M from a gated FIFO to 2
# receivers, on a terminal that says it is COLS columns wide, with env(1)'s
# ENV (NAME=VALUE, -u NAME); the source holds at 1 MiB until three lines
# were drawn.  Every line drawn must fit in WIDTH - 1 columns (WIDTH is 80
# or 40), in the form for that width, the last one at 100%.
progress_fits() {
    local cols=$1 width=$2 every last
    shift 2
    if [ "$width" = 80 ]; then
        # The lag and the destination counts do not fit; the rest does.
        every="^ringcast: $SIZE_RE of 4\.0 MiB \([0-9]+%\) in [0-9]+:[0-9]{2}, $SIZE_RE/s(, ETA [0-9:]+)?$"
        last="^ringcast: 4\.0 MiB of 4\.0 MiB \(100%\) in [0-9]+:[0-9]{2}, $SIZE_RE/s$"
    else
        # No prefix and no elapsed time; the total, percentage and ETA as they fit.
        every="^$SIZE_RE( of 4\.0 MiB)?( \([0-9]+%\))?(, $SIZE_RE/s(, ETA [0-9:]+)?)?$"
        last="^4\.0 MiB of 4\.0 MiB \(100%\), $SIZE_RE/s$"
    fi
    gated_source in $((1 << 20))
    start_receivers 2
    run -0 timeout 60 "$PY" "$HELPERS/onterm.py" --cols "$cols" --after 3 --touch "$T/gate" \
        --out "$T/tty" -- env "$@" "$RINGCAST" -s 4M -i "$T/in.fifo" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((4 << 20))
    drawn "$T/tty" > "$T/lines"
    [ "$(wc -l < "$T/lines")" -ge 4 ] || { cat -A "$T/tty" >&2; false; }
    no_wider $((width - 1)) "$T/lines" || { echo "$cols columns, $*" >&2; false; }
    if grep -Evq "$every" "$T/lines"; then
        echo "$cols columns, $*: lines not of the form: $every" >&2
        cat "$T/lines" >&2
        false
    fi
    [[ $(tail -1 "$T/lines") =~ $last ]] || { echo "$cols columns, $*:" >&2; cat "$T/lines" >&2; false; }
}

@test "progress on an 80- and a 40-column terminal: every line fits in the width less one, the least needed parts left out" {
    make_input in 4
    progress_fits 80 80
    progress_fits 40 40
    # $COLUMNS is for a terminal that does not know its width, not one that does.
    progress_fits 40 40 COLUMNS=80
}

@test "progress on a terminal that says its width is 0 (unsized): 80 columns, or \$COLUMNS when it is a width" {
    make_input in 4
    progress_fits 0 80 -u COLUMNS
    progress_fits 0 40 COLUMNS=40
    progress_fits 0 80 COLUMNS=wide
    progress_fits 0 80 COLUMNS=0
}

@test "progress follows a terminal resized from 100 to 40 columns mid-run (TIOCSWINSZ, SIGWINCH)" {
    make_input in 4
    gated_source in $((1 << 20))
    start_receivers 2
    # Three lines at 100 columns, then 40; the source goes on once three
    # lines were drawn in 39 columns.
    run -0 timeout 60 "$PY" "$HELPERS/onterm.py" --cols 100 --after 3 --resize 40 --touch "$T/gate" \
        --out "$T/tty" -- "$RINGCAST" -s 4M -i "$T/in.fifo" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((4 << 20))
    local at
    at=$(sed -n 's/^resized at \([0-9]*\)$/\1/p' <<< "$output")
    [ -n "$at" ]
    head -c "$at" "$T/tty" | drawn /dev/stdin > "$T/wide"
    tail -c +"$((at + 1))" "$T/tty" | drawn /dev/stdin > "$T/narrow"
    # Before: the wide form (wider than 40 columns could take), within 99.
    [ "$(wc -l < "$T/wide")" -eq 3 ]
    no_wider 99 "$T/wide"
    [ "$(awk 'length($0) > 39' "$T/wide" | wc -l)" -eq 3 ]
    # After: a line drawn before the resize may still come (it was on its
    # way); from the first narrow one on, every line fits in 39, the last too.
    no_wider 99 "$T/narrow"
    sed -n '/^.\{0,39\}$/,$p' "$T/narrow" > "$T/fitted"
    [ "$(wc -l < "$T/fitted")" -ge 4 ] || { cat "$T/narrow" >&2; false; }
    no_wider 39 "$T/fitted"
    [[ $(tail -1 "$T/fitted") =~ ^"4.0 MiB of 4.0 MiB (100%), "$SIZE_RE"/s"$ ]]
}

# piped_with_size SIZE RATE: 3 MiB through a pipe to ringcast -P -s SIZE
# --rate RATE and two receivers, which must get it whole; ringcast's stderr
# is left in $stderr for the test's checks of the progress line.
piped_with_size() {
    make_input in 3
    start_receivers 2
    run -0 --separate-stderr timeout 60 bash -c 'cat "$1" | "$2" -P -s "$3" --rate "$4" "${@:5}"' _ \
        "$T/in" "$RINGCAST" "$1" "$2" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((3 << 20))
}

@test "-s SIZE: a pipe's progress gets the total, a percentage and an ETA, and 100% at the end" {
    piped_with_size 3M 1M
    # Under way (a line a second, 3 s at 1 MiB/s): all of it.
    grep -Eq "^ringcast: $SIZE_RE of 3\.0 MiB \([0-9]{1,2}%\) in 0:0[0-9], $SIZE_RE/s, ETA 0:0[0-9]; 2 active, 0 done, 0 failed; slowest lag $SIZE_RE$" <<< "$stderr" ||
        { echo "$stderr" >&2; false; }
    [[ ${stderr_lines[-1]} =~ ^"ringcast: 3.0 MiB of 3.0 MiB (100%) in 0:0"[0-9]", "$SIZE_RE"/s; 0 active, 2 done, 0 failed; slowest lag 0 B"$ ]] ||
        { echo "$stderr" >&2; false; }
}

@test "-s SIZE: a stream longer than SIZE shows no total past it (no 300%, no ETA); a file's own size wins, with a warning" {
    piped_with_size 1M 2M
    [[ ${stderr_lines[-1]} =~ ^"ringcast: 3.0 MiB in 0:0"[0-9]", "$SIZE_RE"/s; 0 active, 2 done, 0 failed; slowest lag 0 B"$ ]] ||
        { echo "$stderr" >&2; false; }
    # No line says more than 100%.
    [ -z "$(grep -oE '\([0-9]+%\)' <<< "$stderr" | tr -d '(%)' | awk '$1 > 100')" ]

    start_receivers 2
    run -0 --separate-stderr timeout 60 "$RINGCAST" -P -s 10M -i "$T/in" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((3 << 20))
    [ "${stderr_lines[0]}" = "ringcast: -s 10.0 MiB: $T/in is 3.0 MiB; the progress line goes by that" ]
    [[ ${stderr_lines[-1]} =~ ^"ringcast: 3.0 MiB of 3.0 MiB (100%) in 0:0"[0-9]", "$SIZE_RE"/s; 0 active, 2 done, 0 failed; slowest lag 0 B"$ ]] ||
        { echo "$stderr" >&2; false; }
}

@test "-s SIZE beside a file: the warning gives bytes where the rounded sizes agree, only with a progress line; a size of 0 (/proc) takes -s, no warning" {
    head -c 100000 /dev/urandom > "$T/f100k"
    sha256sum < "$T/f100k" | cut -d' ' -f1 > "$T/f100k.sha"
    # 100001 and 100000 bytes are both 97.7 KiB: the bytes tell them apart.
    start_receivers 2
    run -0 --separate-stderr timeout 60 "$RINGCAST" -P -s 100001 -i "$T/f100k" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/f100k.sha" 100000
    [ "${stderr_lines[0]}" = "ringcast: -s 100001 bytes: $T/f100k is 100000 bytes; the progress line goes by that" ] ||
        { echo "$stderr" >&2; false; }
    # No progress line (stderr is no terminal, no -P): nothing to warn about.
    start_receivers 2
    run -0 --separate-stderr timeout 60 "$RINGCAST" -s 100001 -i "$T/f100k" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/f100k.sha" 100000
    [ -z "$stderr" ]
    # /proc/version says its size is 0 and holds more: -s is the total.
    # The last line, the source ended short of it: no time left.
    cat /proc/version > "$T/version"
    sha256sum < "$T/version" | cut -d' ' -f1 > "$T/version.sha"
    start_receivers 2
    run -0 --separate-stderr timeout 60 "$RINGCAST" -P -s 10K -i /proc/version "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/version.sha" "$(stat -c %s "$T/version")"
    [ "${#stderr_lines[@]}" -eq 1 ] &&
        [[ ${stderr_lines[0]} =~ ^"ringcast: "[0-9]+" B of 10.0 KiB ("[0-9]"%) in 0:0"[0-9]", "$SIZE_RE"/s; 0 active, 2 done, 0 failed; slowest lag 0 B"$ ]] ||
        { echo "$stderr" >&2; false; }
}

@test "-s SIZE above what the stream turns out to be: once the source has ended the line shows no time left" {
    piped_with_size 20M 2M
    # Under way, a time left; at the end none.
    grep -Eq "^ringcast: $SIZE_RE of 20\.0 MiB \([0-9]{1,2}%\) in 0:0[0-9], $SIZE_RE/s, ETA [0-9:]+; " <<< "$stderr" ||
        { echo "$stderr" >&2; false; }
    [[ ${stderr_lines[-1]} =~ ^"ringcast: 3.0 MiB of 20.0 MiB (15%) in 0:0"[0-9]", "$SIZE_RE"/s; 0 active, 2 done, 0 failed; slowest lag 0 B"$ ]] ||
        { echo "$stderr" >&2; false; }
}

# only_listening ERRFILE [NOTE]: ERRFILE holds one line, the listening
# address with the port start_listening took from it (PORT), a real one.
only_listening() {
    [ "$PORT" -gt 0 ] && [ "$(cat "$1")" = "ringcast: listening on 127.0.0.1:$PORT${2:-}" ] ||
        { echo "PORT=$PORT" >&2; cat "$1" >&2; false; }
}

@test "-q still prints the address the kernel chose for -l 127.0.0.1:0, --serve -l and tcp-listen://, and a client connects by it" {
    make_input in 1
    local want
    want=$(cat "$T/in.sha")
    # Subscribe mode: a subscriber connects to the port of that line.
    start_listening "$T/sub.err" -q -i "$T/in" -l 127.0.0.1:0
    run -0 timeout 30 "$PY" "$HELPERS/fetch.py" 127.0.0.1 "$PORT"
    [ "${lines[0]}" = "0 1048576 $want eof" ]
    wait_status "$BG_PID" 30
    only_listening "$T/sub.err" " for subscribers"
    # Serve mode: a client gets the blob; at the end, -q keeps the statistics back.
    start_listening "$T/srv.err" -q --serve --http -l 127.0.0.1:0 "$T/in"
    run -0 curl -sS -o "$T/got" "http://127.0.0.1:$PORT/in"
    cmp "$T/in" "$T/got"
    kill -TERM "$BG_PID"
    wait_status "$BG_PID" 30
    only_listening "$T/srv.err" " for HTTP clients"
    # A tcp-listen:// source: the producer connects to the port of that line.
    start_receivers 2
    start_listening "$T/tl.err" -q -i tcp-listen://127.0.0.1:0 "${DESTS[@]}"
    run -0 timeout 30 "$RINGCAST" -q -i "$T/in" "127.0.0.1:$PORT"
    [ -z "$output" ]
    wait_status "$BG_PID" 30
    wait_receivers 30
    check_receivers "$T/in.sha" $((1 << 20))
    only_listening "$T/tl.err" " for the source"
}

@test "-v's last line for a stream that never started gives the run's time, not the clock's since boot" {
    head -c 100000 /dev/urandom > "$T/f100k"
    # Held for a subscriber that never comes, then stopped.
    start_listening "$T/err" -v -i "$T/f100k" -l 127.0.0.1:0
    kill -TERM "$BG_PID"
    wait_exit "$BG_PID" 30
    [ "$EXIT_STATUS" -eq 1 ]
    local secs
    secs=$(sed -n "s|^ringcast: 0 B from $T/f100k to 0 of 0 destinations in \([0-9.]*\) s$|\1|p" "$T/err")
    [ -n "$secs" ] || { cat "$T/err" >&2; false; }
    # At most the test's own bound on it (start_listening waits 30 s at most).
    holds "$secs < 35"
}

@test "SIGUSR1 prints the status under -q too, in push and in serve mode" {
    make_input in 4
    # Push: held after 1 MiB, so that the signal comes mid-stream.
    gated_source in $((1 << 20))
    start_receivers 2 --mark $((1 << 20))
    "$RINGCAST" -q -i "$T/in.fifo" "${DESTS[@]}" 2> "$T/err" &
    local pid=$!
    PIDS+=("$pid")
    status_when_marked 2 "$pid" "$T/err"
    open_gate
    wait_status "$pid" 30
    wait_receivers 30
    check_receivers "$T/in.sha" $((4 << 20))
    # That line and nothing else.
    [ "$(wc -l < "$T/err")" -eq 1 ]
    grep -Eq "^ringcast: status: $SIZE_RE in, 0 connecting, 0 waiting to retry, 2 streaming, 0 draining, 0 done, 0 failed, slowest lag $SIZE_RE$" "$T/err" ||
        { cat "$T/err" >&2; false; }
    # Serve: the statistics so far on SIGUSR1; at exit -q keeps them back.
    start_listening "$T/srv.err" -q --serve --http -l 127.0.0.1:0 "$T/in"
    kill -USR1 "$BG_PID"
    wait_line "^ringcast: status: " "$T/srv.err"
    kill -TERM "$BG_PID"
    wait_status "$BG_PID" 30
    [ "$(cat "$T/srv.err")" = "ringcast: listening on 127.0.0.1:$PORT for HTTP clients
ringcast: status: 0 connections, 0 responses, 0 error responses, 0 connections failed or timed out, 0 B sent" ]
}

@test "--dests-from: comments, blank lines, positional DESTs too; duplicates warned" {
    make_input in 4
    start_receivers 4
    printf '# the fleet\n\n  %s  # first\n%s\n\t%s\r\n' "${DESTS[0]}" "${DESTS[1]}" "${DESTS[2]}" > "$T/fleet"
    run -0 --separate-stderr timeout 60 "$RINGCAST" -i "$T/in" --dests-from "$T/fleet" "${DESTS[3]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((4 << 20))
    [ -z "$stderr" ]

    start_receivers 2
    printf '%s\n%s\n' "${DESTS[0]}" "${DESTS[1]}" | {
        run -1 --separate-stderr timeout 60 "$RINGCAST" -i "$T/in" --dests-from - "${DESTS[0]}"
        [ "${stderr_lines[0]}" = "ringcast: destination ${DESTS[0]} is given 2 times; it will get the stream 2 times" ]
    }
    wait_receivers 30
}

@test "--dests-from: a bad line, a missing file, and stdin taken twice are errors, exit 2" {
    printf '127.0.0.1:9\n\nnot-an-address\n' > "$T/fleet"
    run -2 timeout 10 "$RINGCAST" -i /dev/null --dests-from "$T/fleet"
    [ "${lines[0]}" = "ringcast: --dests-from $T/fleet: line 3: destination 'not-an-address': missing port (expected HOST:PORT, [IPv6]:PORT, tcp://HOST:PORT, ringcast://HOST:PORT, file:PATH or - (standard output))" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null --dests-from "$T/nothing"
    [ "${lines[0]}" = "ringcast: --dests-from $T/nothing: No such file or directory" ]
    run -2 timeout 10 "$RINGCAST" --dests-from - < /dev/null
    [ "${lines[0]}" = "ringcast: --dests-from - and the source both read standard input; give the source with -i" ]
    run -2 timeout 10 "$RINGCAST" --serve -l 0 --stats - /dev/null
    [ "${lines[0]}" = "ringcast: --stats is for streams: serve mode prints its statistics at exit and on SIGUSR1" ]
    run -2 timeout 10 "$RINGCAST" -q -P 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: -q and -P contradict each other" ]
}
