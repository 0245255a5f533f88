#!/usr/bin/env bats
# Which transport runs, why, and what it reports: auto's ranking and
# fallbacks, the io_uring test hook, and the -v exit statistics.

load helpers/common

setup() { common_setup; }
teardown() { common_teardown; }

need_uring() {
    "$RINGCAST" --version | grep -q '^transports:.* uring' || skip "io_uring SEND_ZC not available"
}

@test "RINGCAST_TEST_NO_URING: --version lists uring as unavailable" {
    need_uring
    run -0 timeout 10 env RINGCAST_TEST_NO_URING=1 "$RINGCAST" --version
    [ "${lines[1]}" = "transports: msgzc sendfile copy" ]
    [ "${lines[2]}" = "not available: uring (Operation not permitted)" ]
}

@test "RINGCAST_TEST_NO_URING: --transport uring is refused before anything is sent, exit 2" {
    need_uring
    run -2 timeout 10 env RINGCAST_TEST_NO_URING=1 "$RINGCAST" --transport uring -i /dev/null 127.0.0.1:9
    [ "$output" = "ringcast: --transport uring: not supported by this kernel: Operation not permitted (is io_uring disabled by kernel.io_uring_disabled? use --transport auto)" ]
}

@test "RINGCAST_TEST_NO_URING: auto says why it skips uring, falls back and delivers to 16" {
    need_uring
    make_input in 32
    start_receivers 16
    run -0 --separate-stderr timeout 60 env RINGCAST_TEST_NO_URING=1 "$RINGCAST" -v \
        --file-pages off -i "$T/in" "${DESTS[@]}"
    [[ $stderr == *"ringcast: transport uring skipped: not supported by this kernel: Operation not permitted (is io_uring disabled by kernel.io_uring_disabled?)"* ]]
    [[ $stderr == *"ringcast: transport: msgzc (auto: the cheapest that works here; the cheaper ones were skipped, as said above)"* ]]
    wait_receivers 30
    check_receivers "$T/in.sha" $((32 << 20))
}

# stat TRANSPORT FIELD: a number from the -v exit statistics in $stderr;
# bytes, which -v prints for people (rounded), from --stats $T/st.json.
stat() {
    case $2 in
    bytes) json "$T/st.json" 'j["sends"]["bytes"]' ;;
    sends) sed -nE "s/^ringcast: $1: ([0-9]+) sends?, $SIZE_RE$/\1/p" <<< "$stderr" ;;
    zc) sed -nE "s/^ringcast: $1: ([0-9]+) zero-copy sends?,.*/\1/p" <<< "$stderr" ;;
    completions) sed -nE "s/^ringcast: $1: .* ([0-9]+) completions? .*/\1/p" <<< "$stderr" ;;
    copied) sed -nE "s/^ringcast: $1: .*\(([0-9]+) copied by the kernel\).*/\1/p" <<< "$stderr" ;;
    switched) sed -nE "s/^ringcast: $1: .* ([0-9]+) destinations? switched to copying$/\1/p" <<< "$stderr" ;;
    esac
}

@test "-v statistics: every zero-copy send completes, loopback marks them copied, bytes add up" {
    need_uring
    make_input in 16
    local t
    for t in uring msgzc; do
        start_receivers 4
        run -0 --separate-stderr timeout 60 "$RINGCAST" -v --transport "$t" -i "$T/in" \
            --stats "$T/st.json" "${DESTS[@]}"
        wait_receivers 30
        check_receivers "$T/in.sha" $((16 << 20))
        echo "$stderr" >&2
        [ "$(stat $t bytes)" -eq $((4 * (16 << 20))) ]
        [ "$(stat $t sends)" -ge 256 ] # 64 MiB in sends of at most 256 KiB
        [ "$(stat $t zc)" -eq "$(stat $t sends)" ]
        [ "$(stat $t completions)" -eq "$(stat $t zc)" ]
        # Loopback copies every zero-copy send at delivery, and says so.
        [ "$(stat $t copied)" -eq "$(stat $t completions)" ]
        [ "$(stat $t switched)" -eq 0 ]
        [[ $stderr != *"bug:"* ]]
    done
}

@test "auto on loopback: each destination is switched to copying sends, and -v says so" {
    need_uring
    make_input in 16
    start_receivers 4
    run -0 --separate-stderr timeout 60 "$RINGCAST" -v --file-pages off -i "$T/in" --stats "$T/st.json" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((16 << 20))
    echo "$stderr" >&2
    [[ $stderr == *"ringcast: transport: uring (auto: it costs the least CPU per byte sent)"* ]]
    local d
    for d in "${DESTS[@]}"; do
        [[ $stderr == *"ringcast: $d: the kernel copies the zero-copy sends anyway (loopback or veth); sending by copy, which costs less"* ]]
    done
    [ "$(stat uring switched)" -eq 4 ]
    [ "$(stat uring bytes)" -eq $((4 * (16 << 20))) ]
    # Only the first few sends of each went zero-copy, and all of them completed.
    [ "$(stat uring zc)" -lt "$(stat uring sends)" ]
    [ "$(stat uring completions)" -eq "$(stat uring zc)" ]
}

@test "uring: a receiver that resets is reported and the others still get everything" {
    need_uring
    make_input in 16
    start_receivers 5 --reset 1 --reset-after $((2 << 20))
    run -1 --separate-stderr timeout 60 "$RINGCAST" --transport uring -i "$T/in" "${DESTS[@]}"
    # ECONNRESET, or EPIPE when a later send finds the reset already taken
    [[ $stderr =~ "ringcast: ${DESTS[0]}: send: "(Connection reset by peer|Broken pipe)" (after " ]] ||
        { echo "$stderr" >&2; false; }
    [[ $stderr == *"ringcast: 1 of 5 destinations did not receive the whole stream"* ]]
    [[ $stderr != *"bug:"* ]]
    wait_receivers 30
    check_receivers "$T/in.sha" $((16 << 20)) 1 4
}

@test "uring: the ring is registered a 1 MiB slot at a time, as sends reach each; no send crosses one; one slow receiver grows it" {
    need_uring
    make_input in 48
    start_receivers 3 --slow 1 --slow-rate $((24 << 20))
    run -0 --separate-stderr timeout 120 "$RINGCAST" -v --transport uring --file-pages off --ring-size 24M \
        --chunk 192K --stats "$T/st.json" -i "$T/in" "${DESTS[@]}"
    [[ $stderr == *"ringcast: uring: the ring is registered as 24 fixed buffers of 1.0 MiB, each when a send first comes from it"* ]] ||
        { echo "$stderr" >&2; false; }
    [[ $stderr != *"cannot register a slot"* ]]
    wait_receivers 60
    check_receivers "$T/in.sha" $((48 << 20))
    # 4 MiB in use at first; the slow one held the others back.
    [ "$(json "$T/st.json" 'j["ring"]["in_use"]')" -gt $((4 << 20)) ]
}

# A destination that stops reading while sends are in flight: when the grace
# period ends it is dropped with its sends outstanding (uring cancels them),
# the others finish, and nothing leaks or crashes (see make check-asan).
@test "every transport: a stalled receiver is dropped when the grace period ends, exit 1" {
    make_input in 16
    local t
    for t in $(transports); do
        start_receivers 3 --slow 1 --slow-rate 1
        "$RINGCAST" --transport "$t" --grace 1s -i "$T/in" "${DESTS[@]}" 2> "$T/err" &
        local pid=$!
        PIDS+=($pid)
        # The fast two finish (the receivers say so); then ask it to stop.
        wait_for 60 has_lines 2 "^recv.py: [12] ended eof $((16 << 20))$" "$T/recv.err" ||
            { echo "$t:" >&2; cat "$T/recv.err" "$T/err" >&2; false; }
        kill -TERM "$pid"
        wait_exit "$pid" 15
        [ "$EXIT_STATUS" -eq 1 ] || { echo "$t: exit $EXIT_STATUS" >&2; cat "$T/err" >&2; false; }
        grep -q "^ringcast: ${DESTS[0]}: not delivered before the grace period ended (after " "$T/err" ||
            { echo "$t:" >&2; cat "$T/err" >&2; false; }
        grep -q "^ringcast: 1 of 3 destinations did not receive the whole stream$" "$T/err"
        ! grep -q "bug:" "$T/err"
        kill "$RECV_PID" 2>/dev/null
        wait_exit "$RECV_PID" 10
    done
}
