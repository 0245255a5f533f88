#!/usr/bin/env bats
# Push mode delivers the whole stream, unaltered, to every destination.

load helpers/common

setup() { common_setup; }
teardown() { common_teardown; }

@test "64 MiB from a file to 16 receivers: every checksum matches, exit 0" {
    make_input in 64
    start_receivers 16
    run -0 timeout 120 "$RINGCAST" -q -i "$T/in" "${DESTS[@]}"
    [ -z "$output" ]
    wait_receivers 60
    check_receivers "$T/in.sha" $((64 << 20))
}

@test "64 MiB from a pipe (stdin) to 16 receivers" {
    make_input in 64
    start_receivers 16
    run -0 timeout 120 bash -c 'cat "$1" | "$2" -q "${@:3}"' _ "$T/in" "$RINGCAST" "${DESTS[@]}"
    wait_receivers 60
    check_receivers "$T/in.sha" $((64 << 20))
}

@test "64 MiB from a FIFO to 16 receivers, destinations given with -o and tcp://" {
    make_input in 64
    mkfifo "$T/fifo"
    start_receivers 16
    cat "$T/in" > "$T/fifo" &
    PIDS+=($!)
    local args=() d
    for d in "${DESTS[@]}"; do args+=(-o "tcp://$d"); done
    run -0 timeout 120 "$RINGCAST" -q -i "$T/fifo" "${args[@]}"
    wait_receivers 60
    check_receivers "$T/in.sha" $((64 << 20))
}

# Every transport this kernel offers, and auto, delivers the same.
@test "every transport: 64 MiB to 16 receivers, all checksums match, exit 0" {
    make_input in 64
    local t list
    list=$(transports)
    for t in $list; do
        start_receivers 16
        run -0 --separate-stderr timeout 120 "$RINGCAST" -v --transport "$t" -i "$T/in" "${DESTS[@]}"
        if [ "$t" = auto ]; then
            [[ $stderr == *"transport: "*" (auto: "* ]] || { echo "$t: $stderr" >&2; false; }
        else
            [[ $stderr == *"transport: $t (asked for"* ]] || { echo "$t: $stderr" >&2; false; }
        fi
        wait_receivers 60
        check_receivers "$T/in.sha" $((64 << 20)) || { echo "transport $t" >&2; false; }
    done
}

@test "IPv6: [::1]:PORT receivers get the stream" {
    need_ipv6
    make_input in 8
    start_receivers 3 --host ::1
    run -0 timeout 60 "$RINGCAST" -q -6 -i "$T/in" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((8 << 20))
}

@test "host names resolve at start-up: localhost:PORT works" {
    make_input in 4
    start_receivers 2
    run -0 timeout 60 "$RINGCAST" -q -i "$T/in" "localhost:${PORTS[0]}" "localhost:${PORTS[1]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((4 << 20))
}

@test "a receiver that resets part way is reported and dropped; the others finish; exit 1" {
    make_input in 32
    start_receivers 5 --reset 1 --reset-after $((4 << 20))
    run -1 --separate-stderr timeout 120 "$RINGCAST" --ring-size 4M -i "$T/in" "${DESTS[@]}"
    wait_receivers 60
    # receiver 0 is the one that resets
    # ECONNRESET, or EPIPE when a later send finds the reset already taken
    [[ $stderr =~ "ringcast: ${DESTS[0]}: send: "(Connection reset by peer|Broken pipe)" (after " ]] ||
        { echo "stderr: $stderr" >&2; false; }
    [[ $stderr == *"ringcast: 1 of 5 destinations did not receive the whole stream"* ]]
    check_receivers "$T/in.sha" $((32 << 20)) 1 4
}

@test "an empty source: every receiver gets zero bytes and a clean end, exit 0" {
    : > "$T/empty"
    sha256sum < "$T/empty" | cut -d' ' -f1 > "$T/empty.sha"
    start_receivers 3
    run -0 timeout 30 "$RINGCAST" -q -i "$T/empty" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/empty.sha" 0
}

# ring_line SIZE [FILE]: how -v reports a ring of SIZE (as printed), sized to
# a source file of FILE (as printed) when given; a regex for [[ =~ ]].
ring_line() {
    local re="ringcast: ring: $1 (memfd|of anonymous memory), (locked in memory|not locked)"
    [ -z "${2:-}" ] || re+=", sized to the source \\($2; the default is 64\\.0 MiB\\)"
    echo "$re"
}

# ring_size: the ring's size in bytes from --stats $T/st.json.
ring_size() {
    json "$T/st.json" 'j["ring"]["size"]'
}

@test "a file smaller than the ring gets a ring sized to it, -v says so; every checksum matches" {
    local page
    page=$(getconf PAGESIZE)
    make_input in 1
    start_receivers 3
    run -0 --separate-stderr timeout 60 "$RINGCAST" -v --file-pages off -i "$T/in" --stats "$T/st.json" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((1 << 20))
    # One byte more than the file, in whole pages: room for the read that finds the end.
    [ "$(ring_size)" -eq $(((1 << 20) + page)) ]
    [[ $stderr =~ $(ring_line "1.0 MiB" "1.0 MiB") ]] || { echo "$stderr" >&2; false; }
    # Through the same ring, read from standard input (a regular file too).
    start_receivers 2
    run -0 --separate-stderr timeout 60 "$RINGCAST" -v --file-pages off --stats "$T/st.json" "${DESTS[@]}" < "$T/in"
    wait_receivers 30
    check_receivers "$T/in.sha" $((1 << 20))
    [ "$(ring_size)" -eq $(((1 << 20) + page)) ]
}

@test "ring sizing at the edges: an empty file and one in /proc (size 0), 64 KiB, 64 KiB less a byte, --max-lag, --chunk, --ring-size given, a file above the default" {
    local page f
    page=$(getconf PAGESIZE)
    # A size of 0 is no guide: a file in /proc says 0 and holds more.  An
    # empty file says the same, so both get the default ring, never one
    # "sized to the source (0 B)"; both go through whole.
    : > "$T/empty"
    for f in "$T/empty" /proc/version; do
        cat "$f" > "$T/copy"
        sha256sum < "$T/copy" | cut -d' ' -f1 > "$T/copy.sha"
        start_receivers 2
        run -0 --separate-stderr timeout 30 "$RINGCAST" -v --file-pages off -i "$f" --stats "$T/st.json" "${DESTS[@]}"
        wait_receivers 30
        check_receivers "$T/copy.sha" "$(stat -c %s "$T/copy")"
        [ "$(ring_size)" -eq $((64 << 20)) ]
        [[ $stderr =~ $(ring_line "64.0 MiB")$'\n' ]] || { echo "$f: $stderr" >&2; false; }
        [[ $stderr != *"sized to"* ]]
    done
    # Exactly the smallest ring: a page more; a byte less: the smallest ring.
    head -c $((64 << 10)) /dev/urandom > "$T/in"
    sha256sum < "$T/in" | cut -d' ' -f1 > "$T/in.sha"
    start_receivers 2
    run -0 --separate-stderr timeout 30 "$RINGCAST" -v --file-pages off -i "$T/in" --stats "$T/st.json" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((64 << 10))
    [ "$(ring_size)" -eq $(((64 << 10) + page)) ]
    [[ $stderr =~ $(ring_line "$(((64 << 10) + page >> 10)).0 KiB" "64.0 KiB") ]] || { echo "$stderr" >&2; false; }
    head -c $(((64 << 10) - 1)) "$T/in" > "$T/less"
    sha256sum < "$T/less" | cut -d' ' -f1 > "$T/less.sha"
    start_receivers 2
    run -0 --separate-stderr timeout 30 "$RINGCAST" -q --file-pages off -i "$T/less" --stats "$T/st.json" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/less.sha" $(((64 << 10) - 1))
    [ "$(ring_size)" -eq $((64 << 10)) ]
    # Never below --max-lag (which must not exceed the ring).
    make_input in 1
    start_receivers 2
    run -0 --separate-stderr timeout 30 "$RINGCAST" -v --file-pages off -i "$T/in" --slow drop --max-lag 2M \
        --stats "$T/st.json" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((1 << 20))
    [ "$(ring_size)" -eq $((2 << 20)) ]
    [[ $stderr =~ $(ring_line "2.0 MiB" "1.0 MiB") ]] || { echo "$stderr" >&2; false; }
    # Nor below a --chunk given (which must not exceed the ring either).
    start_receivers 2
    run -0 --separate-stderr timeout 30 "$RINGCAST" -q --file-pages off -i "$T/in" --chunk 3M --stats "$T/st.json" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((1 << 20))
    [ "$(ring_size)" -eq $((3 << 20)) ]
    # --ring-size given: kept as it is.
    start_receivers 2
    run -0 --separate-stderr timeout 30 "$RINGCAST" -v --file-pages off -i "$T/in" --ring-size 4M --stats "$T/st.json" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((1 << 20))
    [ "$(ring_size)" -eq $((4 << 20)) ]
    [[ $stderr =~ $(ring_line "4.0 MiB")$'\n' ]] || { echo "$stderr" >&2; false; }
    [[ $stderr != *"sized to"* ]]
    # Larger than the default: the default.
    make_input big 65
    start_receivers 2
    run -0 --separate-stderr timeout 60 "$RINGCAST" -v --file-pages off -i "$T/big" --stats "$T/st.json" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/big.sha" $((65 << 20))
    [ "$(ring_size)" -eq $((64 << 20)) ]
    [[ $stderr =~ $(ring_line "64.0 MiB")$'\n' ]] || { echo "$stderr" >&2; false; }
    [[ $stderr != *"sized to"* ]]
}

@test "a file that grows after the ring was sized to it goes through whole, the small ring wrapping" {
    make_input in 1
    # Subscribe mode holds the source, opened and measured, until a
    # subscriber comes: meanwhile the file grows to 8 MiB.
    start_listening "$T/pub.err" -v --file-pages off -i "$T/in" -l 127.0.0.1:0 --wait-timeout 60s
    [[ $(cat "$T/pub.err") =~ $(ring_line "1.0 MiB" "1.0 MiB") ]] || { cat "$T/pub.err" >&2; false; }
    head -c $((7 << 20)) /dev/urandom >> "$T/in"
    run -0 timeout 60 "$PY" "$HELPERS/fetch.py" 127.0.0.1 "$PORT"
    [ "${lines[0]}" = "0 $((8 << 20)) $(sha256sum < "$T/in" | cut -d' ' -f1) eof" ]
    wait_status "$BG_PID" 30
}

@test "SIGTERM on a pipe: stops reading, sends what was read, then resets every receiver, exit 1" {
    make_input in 4
    mkfifo "$T/fifo"
    start_receivers 2 --mark $((4 << 20))
    # The producer writes 4 MiB and then holds the pipe open (until teardown).
    { cat "$T/in"; exec sleep 120; } > "$T/fifo" &
    PIDS+=($!)
    "$RINGCAST" -i "$T/fifo" "${DESTS[@]}" 2> "$T/err" &
    local pid=$!
    PIDS+=($pid)
    # Signalled once both receivers have all 4 MiB.
    wait_for 30 has_lines 2 "^recv.py: [01] got $((4 << 20))$" "$T/recv.err"
    kill -TERM "$pid"
    wait_exit "$pid" 15
    [ "$EXIT_STATUS" -eq 1 ]
    grep -q "draining for up to 10.0 s" "$T/err"
    grep -q "^ringcast: ${DESTS[0]}: interrupted before the end of the stream (after 4.0 MiB)$" "$T/err"
    grep -q "^ringcast: interrupted after 4.0 MiB of the source: no destination has the whole stream$" "$T/err"
    wait_receivers 30
    check_reset "$T/in.sha" $((4 << 20))
}

@test "--stall-timeout drops a receiver that stops reading, for every transport; the others finish; exit 1" {
    make_input in 16
    local t port
    for t in $(transports); do
        start_receivers 3
        "$PY" "$HELPERS/recv.py" --count 1 --slow 1 --slow-rate 1 --portfile "$T/stallport" \
            --out "$T/stallres" --timeout 60 2> /dev/null &
        PIDS+=($!)
        local stall_pid=$!
        wait_file "$T/stallport"
        port=$(cat "$T/stallport")
        run -1 --separate-stderr timeout 60 "$RINGCAST" --transport "$t" --stall-timeout 500ms \
            -i "$T/in" "${DESTS[@]}" "127.0.0.1:$port"
        [[ ${stderr_lines[0]} == "ringcast: 127.0.0.1:$port: stalled: accepted nothing for 0.5 s (--stall-timeout) (after "* ]] ||
            { echo "$t: $stderr" >&2; false; }
        [ "${stderr_lines[1]}" = "ringcast: 1 of 4 destinations did not receive the whole stream" ]
        wait_receivers 30
        check_receivers "$T/in.sha" $((16 << 20)) || { echo "transport $t" >&2; false; }
        kill "$stall_pid" 2>/dev/null
        wait_exit "$stall_pid" 10
        rm -f "$T/stallport"
    done
}

@test "--rate 1.5M: a decimal rate is taken, and holds 3 MiB to at least 1.8 s" {
    make_input in 3
    start_receivers 2
    local t0
    t0=$(date +%s.%N)
    run -0 timeout 60 "$RINGCAST" -q -i "$T/in" --rate 1.5M "${DESTS[@]}"
    # 2 s at 1.5 MiB/s, less the tenth of a second's worth it may read at once
    holds "$(seconds_since "$t0") >= 1.8"
    [ -z "$output" ]
    wait_receivers 30
    check_receivers "$T/in.sha" $((3 << 20))
}
