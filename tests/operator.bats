#!/usr/bin/env bats
# The operator's view: --stats JSON checked against what the receivers got,
# the progress line under a pseudo-terminal and in a log, --dests-from.

load helpers/common

setup() { common_setup; }
teardown() { common_teardown; }

# json FILE EXPR: evaluate a python expression over the parsed document j.
json() {
    "$PY" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

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
    [ "$(json "$T/st.json" 'j["ring"]["size"]')" = 67108864 ]
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
    wait_exit "$pub" 30
    [ "$EXIT_STATUS" -eq 0 ]
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
    run -0 timeout 60 script -qec "'$RINGCAST' -i '$T/in' --rate 16M ${DESTS[*]} > '$T/stdout'" /dev/null
    wait_receivers 30
    [ ! -s "$T/stdout" ]
    [[ $output == *$'\r'"ringcast: "*" of 16 MiB ("*"%) in 0:0"*", "*"/s, ETA "*"; 2 active, 0 done, 0 failed; slowest lag "* ]] ||
        { echo "$output" | cat -A >&2; false; }
    [[ $output == *$'\r'"ringcast: 16 MiB of 16 MiB (100%) in 0:01, "*"/s; 0 active, 2 done, 0 failed; slowest lag 0 B"* ]]
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
    n=$(grep -c "^ringcast: .* of 16 MiB (.*%) in 0:0.*; .* active, .* done, .* failed; slowest lag .*$" <<< "$stderr")
    [ "$n" -ge 2 ] && [ "$n" -le 4 ] || { echo "$stderr" >&2; false; }
    start_receivers 2
    run -0 --separate-stderr timeout 60 "$RINGCAST" -i "$T/in" --rate 32M "${DESTS[@]}"
    wait_receivers 30
    [ -z "$stderr" ]
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
    [ "${lines[0]}" = "ringcast: --dests-from $T/fleet: line 3: destination 'not-an-address': missing port (expected HOST:PORT, [IPv6]:PORT or tcp://HOST:PORT)" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null --dests-from "$T/nothing"
    [ "${lines[0]}" = "ringcast: --dests-from $T/nothing: No such file or directory" ]
    run -2 timeout 10 "$RINGCAST" --dests-from - < /dev/null
    [ "${lines[0]}" = "ringcast: --dests-from - and the source both read standard input; give the source with -i" ]
    run -2 timeout 10 "$RINGCAST" --serve -l 0 --stats - /dev/null
    [ "${lines[0]}" = "ringcast: --stats is for streams: serve mode prints its statistics at exit and on SIGUSR1" ]
    run -2 timeout 10 "$RINGCAST" -q -P 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: -q and -P contradict each other" ]
}
