#!/usr/bin/env bats
# What a slow, dead or absent destination does to the others: --slow drop
# and --max-lag, --stall-timeout under --slow block, receivers killed part
# way, --retry and --connect-timeout at start-up, and the signals.
# Timings use a --rate-limited source, so that a run takes a known time
# whatever the machine's load, and are compared as ratios within one test.
# The --slow drop runs that must tell a destination that holds the others
# back from one whose position merely jumps read a file as fast as the
# receivers take it, on small rings, beside a CPU hog, several times.

load helpers/common

setup() { common_setup; }
teardown() { common_teardown; }

# timed_run STATUS ARGS...: ringcast ARGS against $DESTS; sets ELAPSED and
# checks the exit status.
timed_run() {
    local want=$1 t0
    shift
    t0=$(date +%s.%N)
    run "-$want" --separate-stderr timeout 60 "$RINGCAST" "$@" "${DESTS[@]}"
    ELAPSED=$(seconds_since "$t0")
}

# 32 MiB at 16 MiB/s through an 8 MiB ring: 2 s when nobody holds it back.
# The file is read into the ring: sent from its own pages, it would have
# no ring for anyone to hold (tests/filepages.bats).
POLICY_ARGS=(--file-pages off --rate 16M --ring-size 8M)

@test "--slow drop: a receiver that never reads is dropped; 8 fast ones finish in their own time, exit 1" {
    make_input in 32
    start_receivers 8
    timed_run 0 -q -i "$T/in" "${POLICY_ARGS[@]}" --slow drop
    local alone=$ELAPSED
    wait_receivers 30
    check_receivers "$T/in.sha" $((32 << 20))

    start_receivers 9 --stall 1
    timed_run 1 -i "$T/in" "${POLICY_ARGS[@]}" --slow drop
    wait_receivers 30
    holds "$ELAPSED < 2 * $alone"
    [[ ${stderr_lines[0]} =~ ^"ringcast: ${DESTS[0]}: $(drop_msg "8.0 MiB") (after "$SIZE_RE")"$ ]] ||
        { echo "$stderr" >&2; false; }
    [[ $stderr == *"ringcast: 1 of 9 destinations did not receive the whole stream"* ]]
    check_receivers "$T/in.sha" $((32 << 20)) 1 8
    # The dropped one was reset, not closed as if its stream had ended.
    grep -q "^0 [0-9]* [0-9]* [0-9a-f]* stalled-reset$" "$T/results"
}

@test "--max-lag 2M: the receiver that never reads is dropped 2 MiB or more behind; the others finish" {
    make_input in 32
    start_receivers 5 --stall 1
    run -1 --separate-stderr timeout 60 "$RINGCAST" -v -i "$T/in" "${POLICY_ARGS[@]}" --slow drop \
        --max-lag 2M "${DESTS[@]}"
    wait_receivers 30
    [[ $stderr == *"ringcast: ${DESTS[0]}: $(drop_msg "2.0 MiB") (after "* ]] ||
        { echo "$stderr" >&2; false; }
    [ "$(grep -c ": dropped: " <<< "$stderr")" -eq 1 ]
    check_receivers "$T/in.sha" $((32 << 20)) 1 4
}

@test "--slow drop, issue 15: 8 fast receivers and one that never reads, 8 MiB ring, --max-lag 4M, under load, 5 runs: only it is dropped" {
    staller_runs 5 -j 1
}

@test "--slow drop: 8 fast receivers on a 1 MiB or 4 MiB ring with --max-lag 256K, under load, are never dropped" {
    keep_pace_runs -j 1
}

@test "--slow drop: a receiver that reads 1 MiB/s among 8 fast ones holds them back, so it is dropped; they finish" {
    slow_runs 2 -j 1
}

@test "--slow block with --stall-timeout 2s: the same run takes about 2 s more, reports it, exit 1" {
    make_input in 32
    start_receivers 8
    timed_run 0 -q -i "$T/in" "${POLICY_ARGS[@]}"
    local alone=$ELAPSED
    wait_receivers 30

    start_receivers 9 --stall 1
    timed_run 1 -i "$T/in" "${POLICY_ARGS[@]}" --slow block --stall-timeout 2s
    wait_receivers 30
    # Held for the 2 s before the stalled one is dropped, then the rest at the rate.
    holds "$ELAPSED >= 2 + 0.5 * $alone && $ELAPSED < $alone + 4"
    [[ ${stderr_lines[0]} =~ ^"ringcast: ${DESTS[0]}: stalled: accepted nothing for 2.0 s (--stall-timeout) (after "$SIZE_RE")"$ ]] ||
        { echo "$stderr" >&2; false; }
    check_receivers "$T/in.sha" $((32 << 20)) 1 8
    grep -q "^0 [0-9]* [0-9]* [0-9a-f]* stalled-reset$" "$T/results"
}

@test "a receiver killed with SIGKILL part way: the rest complete, it is named, exit 1" {
    make_input in 32
    start_receivers 8
    local eight=("${DESTS[@]}") eight_pid=$RECV_PID
    # The victim kills itself (SIGKILL) when it has 1 MiB: while the stream
    # runs, whenever that is on a busy machine.
    "$PY" "$HELPERS/recv.py" --count 1 --portfile "$T/vport" --out "$T/vres" --die-at $((1 << 20)) \
        2> "$T/vrecv.err" &
    local victim=$!
    PIDS+=("$victim")
    wait_file "$T/vport"
    DESTS=("${eight[@]}" "127.0.0.1:$(cat "$T/vport")")
    "$RINGCAST" -i "$T/in" "${POLICY_ARGS[@]}" "${DESTS[@]}" 2> "$T/err" &
    local pid=$!
    PIDS+=("$pid")
    wait_exit "$victim" 30
    [ "$EXIT_STATUS" -eq 137 ] || { echo "victim: exit $EXIT_STATUS" >&2; cat "$T/vrecv.err" >&2; false; }
    wait_exit "$pid" 30
    [ "$EXIT_STATUS" -eq 1 ]
    RECV_PID=$eight_pid
    wait_receivers 30
    check_receivers "$T/in.sha" $((32 << 20))
    grep -Eq "^ringcast: ${DESTS[8]}: send: (Connection reset by peer|Broken pipe) \(after [0-9]+\.[0-9] MiB\)$" "$T/err" ||
        { cat "$T/err" >&2; false; }
    grep -q "^ringcast: 1 of 9 destinations did not receive the whole stream$" "$T/err"
}

@test "--retry: receivers that start listening late get everything; without it, refused, exit 1" {
    make_input in 4
    # They listen only once ringcast has been refused and is about to retry.
    start_receivers 4 --listen-when "$T/listen"
    "$RINGCAST" -v -i "$T/in" --retry 6 "${DESTS[@]}" 2> "$T/err" &
    local pid=$!
    PIDS+=("$pid")
    wait_for 30 grep -qF "ringcast: ${DESTS[0]}: connect: Connection refused; trying again in 0.25 s (retry 1 of 6)" "$T/err" ||
        { cat "$T/err" >&2; false; }
    : > "$T/listen"
    wait_exit "$pid" 60
    [ "$EXIT_STATUS" -eq 0 ] || { cat "$T/err" >&2; false; }
    wait_receivers 30
    check_receivers "$T/in.sha" $((4 << 20))

    # This one never listens.
    start_receivers 1 --listen-when "$T/never" --timeout 60
    run -1 --separate-stderr timeout 60 "$RINGCAST" -i "$T/in" --retry 2 "${DESTS[@]}"
    [ "${stderr_lines[0]}" = "ringcast: ${DESTS[0]}: connect: Connection refused (3 tries)" ]
}

@test "--connect-timeout: a peer that never answers the SYN is given up after that long" {
    # A listener whose backlog is full drops further SYNs.
    hold_port bport --full
    local t0
    t0=$(date +%s.%N)
    run -1 timeout 30 "$RINGCAST" -i /dev/null --connect-timeout 500ms "127.0.0.1:$HELD_PORT"
    holds "$(seconds_since "$t0") < 3"
    [ "${lines[0]}" = "ringcast: 127.0.0.1:$HELD_PORT: connect: Connection timed out" ]
}

@test "SIGUSR1 prints a status line and the stream goes on" {
    make_input in 8
    # Held after 1 MiB, so that the signal comes while all three stream.
    gated_source in $((1 << 20))
    start_receivers 3 --mark $((1 << 20))
    "$RINGCAST" -i "$T/in.fifo" --rate 8M "${DESTS[@]}" 2> "$T/err" &
    local pid=$!
    PIDS+=("$pid")
    status_when_marked 3 "$pid" "$T/err"
    open_gate
    wait_status "$pid" 30
    grep -Eq "^ringcast: status: [0-9.]+ [KM]iB in, 0 connecting, 0 waiting to retry, 3 streaming, 0 draining, 0 done, 0 failed, slowest lag [0-9.]+ [KM]?i?B$" "$T/err" ||
        { cat "$T/err" >&2; false; }
    wait_receivers 30
    check_receivers "$T/in.sha" $((8 << 20))
}

@test "a second SIGTERM stops at once instead of waiting out --grace" {
    second_sigterm
    grep -q "draining for up to 60.0 s (signal again to stop now)" "$T/err"
    grep -q "^ringcast: Terminated again: stopping now$" "$T/err"
}
