#!/usr/bin/env bats
# The delivery rule: a receiver gets a FIN only when it has the whole stream
# it asked for; every other ending is a reset, a named reason and exit 1.
# Interrupts (SIGINT, SIGTERM, --grace), late subscribers, a FIFO nobody
# writes, and no lost wake-up at any ring size, chunk size or transport.

load helpers/common

setup() { common_setup; }
teardown() { common_teardown; }


# prefix_sha FILE N: the SHA-256 of FILE's first N bytes.
prefix_sha() {
    head -c "$2" "$1" | sha256sum | cut -d' ' -f1
}

# connected PORT...: wait (at most 5 s) until every receiver port has an
# established connection.
connected() {
    wait_for 5 established "$@" || { echo "not every receiver connected" >&2; return 1; }
}

# established PORT...: each of those local ports has an established connection.
established() {
    local p
    for p in "$@"; do
        [ "$(ss -Htn state established "( sport = :$p )" | wc -l)" -gt 0 ] || return 1
    done
}

# cut_prefix FILE: every receiver got a prefix of FILE shorter than it (its
# own length, checked by SHA-256) and then a reset, never a FIN.
cut_prefix() {
    local size idx port n sha end bad=0
    size=$(stat -c %s "$1")
    while read -r idx port n sha end; do
        if [ "$n" -ge "$size" ] || [ "$sha" != "$(prefix_sha "$1" "$n")" ] ||
            [ "$end" != error:ConnectionResetError ]; then
            echo "receiver $idx: $n of $size bytes, sha $sha, end $end: want a true prefix and a reset" >&2
            bad=1
        fi
    done < "$T/results"
    return $bad
}

# interrupt SIGNAL ARGS...: a --rate-limited 32 MiB file push to 3
# receivers, SIGNAL once all are connected; exit status in EXIT_STATUS,
# stderr in $T/err.
interrupt() {
    local sig=$1
    shift
    make_input in 32
    start_receivers 3
    # A script's background jobs start with SIGINT ignored; give it back.
    env --default-signal=INT "$RINGCAST" -i "$T/in" --rate 4M "$@" "${DESTS[@]}" 2> "$T/err" &
    local pid=$!
    PIDS+=("$pid")
    connected "${PORTS[@]}"
    kill "-$sig" "$pid"
    wait_exit "$pid" 20
    local status=$EXIT_STATUS
    wait_receivers 20
    EXIT_STATUS=$status
}

@test "SIGINT part way through a file: every receiver gets a true prefix and a reset, exit 1" {
    interrupt INT
    [ "$EXIT_STATUS" -eq 1 ]
    cut_prefix "$T/in"
    local d
    for d in "${DESTS[@]}"; do
        grep -q "^ringcast: $d: interrupted before the end of the stream (after [0-9.]* [KM]\{0,1\}i\{0,1\}B)$" "$T/err" ||
            { cat "$T/err" >&2; false; }
    done
    grep -q "^ringcast: 3 of 3 destinations did not receive the whole stream$" "$T/err"
    grep -q "^ringcast: interrupted after [0-9.]* [KM]\{0,1\}i\{0,1\}B of the source: no destination has the whole stream$" "$T/err"
}

@test "SIGTERM part way, with two sending threads and --stats: prefix, reset, failed in the record, exit 1" {
    interrupt TERM -j 2 --stats "$T/st.json"
    [ "$EXIT_STATUS" -eq 1 ]
    cut_prefix "$T/in"
    run -0 json "$T/st.json" 'j["interrupted"], j["exit_status"], sorted(set((d["state"], d["error"]) for d in j["dests"]))'
    [ "$output" = "(True, 1, [('failed', 'interrupted before the end of the stream')])" ]
}

@test "--grace ends: a receiver that never reads is reset, one that reads gets its prefix and a reset" {
    make_input in 32
    start_receivers 2 --stall 1
    env --default-signal=INT "$RINGCAST" -i "$T/in" --rate 8M --grace 1s --stall-timeout 0 "${DESTS[@]}" 2> "$T/err" &
    local pid=$!
    PIDS+=("$pid")
    connected "${PORTS[@]}"
    kill -INT "$pid"
    wait_exit "$pid" 20
    [ "$EXIT_STATUS" -eq 1 ]
    wait_receivers 20
    grep -q "^0 [0-9]* [0-9]* [0-9a-f]* stalled-reset$" "$T/results"
    read -r _ _ n sha end < <(sed -n 2p "$T/results")
    [ "$sha" = "$(prefix_sha "$T/in" "$n")" ] && [ "$end" = error:ConnectionResetError ]
    grep -q "^ringcast: ${DESTS[0]}: not delivered before the grace period ended (after " "$T/err"
    grep -q "^ringcast: ${DESTS[1]}: interrupted before the end of the stream (after " "$T/err"
}

@test "a signal after the whole file was read: the drain ends with FINs and exit 0" {
    make_input in 4
    start_receivers 2 --slow 2 --slow-rate $((2 << 20))
    "$RINGCAST" -i "$T/in" "${DESTS[@]}" 2> "$T/err" &
    local pid=$!
    PIDS+=("$pid")
    connected "${PORTS[@]}" # so it is in its loop, and takes SIGUSR1
    # SIGUSR1's status line says when all 4 MiB are in the ring.
    wait_for 30 asked_status "$pid" "^ringcast: status: 4.0 MiB in," "$T/err"
    grep -q "^ringcast: status: .* 0 done, 0 failed" "$T/err"
    kill -TERM "$pid"
    wait_exit "$pid" 30
    [ "$EXIT_STATUS" -eq 0 ] || { cat "$T/err" >&2; false; }
    wait_receivers 20
    check_receivers "$T/in.sha" $((4 << 20))
}

# signal_wait SIG SOURCE ARGS...: ringcast -i SOURCE ARGS to 2 receivers,
# which nothing is ever sent; SIG once both are connected.  It must end
# within 5 s, exit 1, reset both after 0 bytes and name them.
signal_wait() {
    local sig=$1 src=$2
    shift 2
    start_receivers 2
    env --default-signal=INT "$RINGCAST" -i "$src" "$@" "${DESTS[@]}" 2> "$T/err" &
    local pid=$!
    PIDS+=("$pid")
    connected "${PORTS[@]}"
    kill "-$sig" "$pid"
    wait_exit "$pid" 5
    [ "$EXIT_STATUS" -eq 1 ] || { echo "$src $*: exit $EXIT_STATUS" >&2; cat "$T/err" >&2; return 1; }
    wait_receivers 10
    [ "$(grep -c " 0 [0-9a-f]* error:ConnectionResetError$" "$T/results")" -eq 2 ] &&
        grep -q "^ringcast: ${DESTS[1]}: interrupted before the end of the stream (after 0 B)$" "$T/err" ||
        { echo "$src $*:" >&2; cat "$T/results" "$T/err" >&2; return 1; }
}

@test "a FIFO nobody opens for writing: SIGTERM and SIGINT end the run at once, receivers reset, exit 1" {
    mkfifo "$T/fifo"
    signal_wait TERM "$T/fifo"
    signal_wait INT "$T/fifo"
}

# all_waiting PID: the waits of the next test have all begun: the
# tcp-listen:// source listens ($T/err2), the server PID has the FIFO open,
# and the URL's server has taken the connection.
all_waiting() {
    grep -q "listening on" "$T/err2" && [ -n "$(ls -l "/proc/$1/fd" 2>/dev/null | grep fifo)" ] &&
        [ -e "$T/httpport.accepted" ]
}

@test "a FIFO with -z, a URL that never answers, a FIFO blob in --serve, tcp-listen with no producer: a signal ends each wait" {
    mkfifo "$T/fifo"
    signal_wait TERM "$T/fifo" -z

    # Start-up waits: nothing is sent yet, and the signal's default action
    # ends the process (status 128 + 15).  A URL whose server accepts and
    # never answers is one: no destination is connected, and -l not
    # opened, before the response's head.
    hold_port httpport --silent
    "$RINGCAST" -i "http://127.0.0.1:$HELD_PORT/never" -l 127.0.0.1:0 127.0.0.1:9 2> "$T/err3" &
    local pid3=$!
    PIDS+=("$pid3")
    "$RINGCAST" --serve -l 127.0.0.1:0 "$T/fifo" 2> "$T/err" &
    local pid=$!
    PIDS+=("$pid")
    "$RINGCAST" -i tcp-listen://127.0.0.1:0 127.0.0.1:9 2> "$T/err2" &
    local pid2=$!
    PIDS+=("$pid2")
    wait_for 30 all_waiting "$pid"
    kill -TERM "$pid" "$pid2" "$pid3"
    wait_exit "$pid" 5
    [ "$EXIT_STATUS" -eq 143 ]
    wait_exit "$pid2" 5
    [ "$EXIT_STATUS" -eq 143 ]
    wait_exit "$pid3" 5
    [ "$EXIT_STATUS" -eq 143 ]
    [ ! -s "$T/err3" ] || { cat "$T/err3" >&2; false; }
}

@test "a late subscriber by default: byte 0 still in the ring gets the whole stream, past it a reset" {
    make_input in 16
    start_listening "$T/pub.err" -l 127.0.0.1:0 --file-pages off --ring-size 4M --rate 8M -i "$T/in" --stats "$T/st.json"
    local pub=$BG_PID
    # Two at once: the first starts the stream, the second comes while
    # byte 0 is still in the ring ...
    "$PY" "$HELPERS/fetch.py" 127.0.0.1 "$PORT" --count 2 --timeout 60 > "$T/first" &
    local first=$!
    PIDS+=("$first")
    # ... and once the ring has lost byte 0 (SIGUSR1 says how far), a third is refused.
    wait_for 30 asked_status "$pub" "^ringcast: status: \([5-9]\|1[0-5]\)[.0-9]* MiB in" "$T/pub.err"
    run -0 timeout 10 "$PY" "$HELPERS/fetch.py" 127.0.0.1 "$PORT" --timeout 10
    [ "${lines[0]}" = "0 0 $(prefix_sha "$T/in" 0) ConnectionResetError" ]
    wait_exit "$first" 30
    wait_exit "$pub" 30
    [ "$EXIT_STATUS" -eq 1 ]
    [ "$(grep -c "^[01] $((16 << 20)) $(cat "$T/in.sha") eof$" "$T/first")" -eq 2 ]
    grep -q "^ringcast: subscriber 127.0.0.1:[0-9]*: refused: the stream's first bytes have left the ring (--join start; --join live takes it from here)$" "$T/pub.err"
    grep -q "^ringcast: 1 of 3 destinations did not receive the whole stream$" "$T/pub.err"
    run -0 json "$T/st.json" 'sorted((d["state"], d["bytes"]) for d in j["dests"])'
    [ "$output" = "[('done', 16777216), ('done', 16777216), ('failed', 0)]" ]
}

# sweep ARGS...: 16 MiB from a file and from a pipe to 2 receivers with
# ringcast ARGS, each within 20 s (a lost wake-up costs a second per chunk:
# minutes); every byte checked.
sweep() {
    start_receivers 2
    run -0 timeout 20 "$RINGCAST" -q -i "$T/in" "$@" "${DESTS[@]}" ||
        { echo "file, $*: status $status" >&2; return 1; }
    wait_receivers 10
    check_receivers "$T/in.sha" $((16 << 20)) || { echo "file, $*" >&2; return 1; }
    start_receivers 2
    run -0 timeout 20 bash -c 'cat "$1" | "$2" -q "${@:3}"' _ "$T/in" "$RINGCAST" "$@" "${DESTS[@]}" ||
        { echo "pipe, $*: status $status" >&2; return 1; }
    wait_receivers 10
    check_receivers "$T/in.sha" $((16 << 20)) || { echo "pipe, $*" >&2; return 1; }
}

@test "no lost wake-up: every ring size from 64K, chunk size and transport moves 16 MiB at once" {
    make_input in 16
    local r c t
    for r in 64K 256K 1M; do
        for c in "" 4K "$r"; do
            for t in $(transports); do
                sweep --ring-size "$r" ${c:+--chunk "$c"} --transport "$t"
            done
        done
    done
}

@test "no lost wake-up: auto without io_uring, and two sending threads, on small rings" {
    make_input in 16
    local r
    for r in 64K 256K; do
        RINGCAST_TEST_NO_URING=1 sweep --ring-size "$r"
        sweep --ring-size "$r" -j 2
        sweep --ring-size "$r" -j 2 --transport copy
    done
}

@test "the default chunk is a quarter of a small ring" {
    make_input in 1
    start_receivers 1
    run -0 --separate-stderr timeout 20 "$RINGCAST" -v --transport copy --ring-size 64K -i "$T/in" "${DESTS[@]}"
    wait_receivers 10
    check_receivers "$T/in.sha" $((1 << 20))
    # 1 MiB in 16 KiB sends: at least 64 of them.
    [[ $stderr =~ "copy: "([0-9]+)" sends, 1.0 MiB" ]]
    [ "${BASH_REMATCH[1]}" -ge 64 ]
}

@test "a signal on a file whose size is no guide (/proc, or one that grows): the stream is cut, not whole" {
    start_receivers 1
    env --default-signal=INT "$RINGCAST" -i /proc/kallsyms --rate 200K "${DESTS[@]}" 2> "$T/err" &
    local pid=$!
    PIDS+=("$pid")
    connected "${PORTS[@]}"
    kill -TERM "$pid"
    wait_exit "$pid" 20
    [ "$EXIT_STATUS" -eq 1 ] || { cat "$T/err" >&2; false; }
    wait_receivers 20
    grep -q " error:ConnectionResetError$" "$T/results"
    grep -q "^ringcast: ${DESTS[0]}: interrupted before the end of the stream (after " "$T/err"
}

# changed_push NAME ARGS...: ringcast ARGS (with its source, --rate-limited)
# to 2 receivers in the background, stderr in $T/err, PID in PUSH_PID; waits
# until a receiver has MARK bytes (recv.py --mark, set in MARK), so that the
# test changes the file at a known point of the stream, not a guessed time.
changed_push() {
    start_receivers 2 --mark "$MARK"
    # Read into the ring, which checks the file at its end: a file sent
    # from its own pages is held by a lease instead (tests/filepages.bats).
    "$RINGCAST" --file-pages off "$@" "${DESTS[@]}" 2> "$T/err" &
    PUSH_PID=$!
    PIDS+=("$PUSH_PID")
    wait_for 30 has_lines 1 "^recv.py: [01] got $MARK$" "$T/recv.err"
}

@test "a file that shrinks while it is read (a path, stdin by sendfile): a true prefix, a reset, the sizes named, exit 1" {
    local how name
    MARK=500000
    head -c 4000000 /dev/urandom > "$T/orig"
    for how in path stdin; do
        cp "$T/orig" "$T/in"
        # At 1 MiB/s the file is read about where the receivers are: once
        # one has 500,000 bytes it is cut to 300,000, behind the reader.
        if [ "$how" = path ]; then
            name=$T/in
            changed_push -i "$T/in" --rate 1M
        else
            name=stdin
            changed_push --rate 1M --transport sendfile < "$T/in"
        fi
        truncate -s 300000 "$T/in"
        wait_exit "$PUSH_PID" 30
        [ "$EXIT_STATUS" -eq 1 ] || { echo "$how: exit $EXIT_STATUS" >&2; cat "$T/err" >&2; false; }
        wait_receivers 30
        cut_prefix "$T/orig"
        [ "$(sed -n 1p "$T/err")" = "ringcast: $name: shrank from 4000000 to 300000 bytes while it was read" ] &&
            [ "$(sed -n 2p "$T/err")" = "ringcast: resetting the 2 destinations not finished, so that none takes a partial stream for a whole one" ] ||
            { echo "$how:" >&2; cat "$T/err" >&2; false; }
    done
}

@test "a file written over in place while it is read, its size the same: every receiver reset, exit 1" {
    MARK=200000
    head -c 2000000 /dev/urandom > "$T/in"
    head -c 2000000 /dev/urandom > "$T/other"
    # 2,000,000 bytes at 600 KiB/s: over 2.5 s left after the mark.
    changed_push -i "$T/in" --rate 600K
    dd if="$T/other" of="$T/in" conv=notrunc status=none
    wait_exit "$PUSH_PID" 30
    [ "$EXIT_STATUS" -eq 1 ] || { cat "$T/err" >&2; false; }
    wait_receivers 30
    [ "$(grep -c " error:ConnectionResetError$" "$T/results")" -eq 2 ] || { cat "$T/results" >&2; false; }
    [ "$(sed -n 1p "$T/err")" = "ringcast: $T/in: was modified while it was read" ]
    grep -q "^ringcast: ${DESTS[0]}: reset: the source failed (after " "$T/err"
}

@test "a pseudo-file that ends before its size but did not change (sysfs says 4096 for a few bytes) goes through whole" {
    local f=/sys/class/net/lo/address
    [ -r "$f" ] || skip "$f is not there (no sysfs)"
    [ "$(stat -c %s "$f")" -gt "$(cat "$f" | wc -c)" ]
    cat "$f" > "$T/copy"
    sha256sum < "$T/copy" | cut -d' ' -f1 > "$T/copy.sha"
    start_receivers 2
    run -0 --separate-stderr timeout 30 "$RINGCAST" -i "$f" "${DESTS[@]}"
    [ -z "$stderr" ]
    wait_receivers 30
    check_receivers "$T/copy.sha" "$(stat -c %s "$T/copy")"
}

@test "the source fails: every destination is named with the reason, in --stats too, and reset" {
    head -c $((4 << 20)) /dev/urandom | gzip -1 > "$T/bad.gz"
    printf '\x55' | dd of="$T/bad.gz" bs=1 seek=$((2 << 20)) conv=notrunc status=none
    start_receivers 2
    run -1 --separate-stderr timeout 30 "$RINGCAST" -z -i "$T/bad.gz" --stats "$T/st.json" "${DESTS[@]}"
    wait_receivers 20
    [ "$(grep -c " error:ConnectionResetError$" "$T/results")" -eq 2 ]
    [ "${stderr_lines[0]}" = "ringcast: $T/bad.gz: gzip: CRC-32 mismatch (member 1)" ]
    [ "${stderr_lines[1]}" = "ringcast: resetting the 2 destinations not finished, so that none takes a partial stream for a whole one" ]
    local d
    for d in "${DESTS[@]}"; do
        [[ $stderr == *"ringcast: $d: reset: the source failed (after "* ]]
    done
    run -0 json "$T/st.json" 'sorted(set((d["state"], d["error"]) for d in j["dests"]))'
    [ "$output" = "[('failed', 'reset: the source failed')]" ]
}

@test "-z with empty input is an error, not an empty stream" {
    start_receivers 1
    run -2 --separate-stderr timeout 30 "$RINGCAST" -z -i - "${DESTS[@]}" < /dev/null
    [ "${stderr_lines[0]}" = "ringcast: stdin: -z: the input is empty, not compressed data" ] || { echo "$stderr" >&2; false; }
    wait_receivers 20
    grep -q " 0 [0-9a-f]* error:ConnectionResetError$" "$T/results"
}
