#!/usr/bin/env bats
# -j, --threads: push destinations shared out among sending threads, each
# with its own loop and transport, all reading one ring.  What one thread
# does, several must do the same: deliver every byte, drop a slow
# destination in any thread's share, obey signals, reset every receiver
# when the source fails.  (The reuse invariant at -j 2 is in reuse.bats,
# 5000 destinations at -j 2 in scale.bats.)

load helpers/common

setup() { common_setup; }
teardown() { common_teardown; }

# threads_for N: sets THREADS to the sending threads -v reports for N
# destinations, or 1.  (Not in a $(...) subshell: the sink it starts must be
# in this shell's PIDS for teardown.)
threads_for() {
    start_sink_dests "$1"
    run -0 --separate-stderr timeout 60 "$RINGCAST" -v -i /dev/null "${FLEET[@]}"
    THREADS=$(sed -n 's/^ringcast: \([0-9]*\) sending threads for .*/\1/p' <<< "$stderr")
    THREADS=${THREADS:-1}
    wait_exit "$SINK_PID" 30
}

# start_sink_dests N: N receivers of an empty stream on one port; FLEET,
# SINK_PID.
start_sink_dests() {
    start_sink "$1" 0 /dev/null 60
    local i
    FLEET=()
    for ((i = 0; i < $1; i++)); do FLEET+=("127.0.0.1:$SINK_PORT"); done
}

@test "the default: one thread for a few destinations, one per 256 up to the CPUs" {
    local cpus
    cpus=$(nproc)
    threads_for 8
    [ "$THREADS" -eq 1 ]
    threads_for 600
    [ "$THREADS" -eq $((cpus < 3 ? cpus : 3)) ]
}

@test "-j 2: 16 receivers, every transport, 64 MiB from a pipe, all checksums match" {
    make_input in 64
    local t
    for t in $(transports); do
        start_receivers 16
        run -0 --separate-stderr timeout 60 "$RINGCAST" -v -j 2 --transport "$t" --stats "$T/st.json" \
            "${DESTS[@]}" < "$T/in"
        [[ $stderr == *"ringcast: 2 sending threads for 16 destinations"* ]]
        # Both threads' sends add up to every byte.
        [ "$(json "$T/st.json" 'j["sends"]["bytes"]')" = \
            $((16 * 64 << 20)) ] || { echo "$stderr" >&2; false; }
        wait_receivers 30
        check_receivers "$T/in.sha" $((64 << 20)) || { echo "transport $t" >&2; false; }
    done
}

@test "-j 2 --slow drop: a receiver that never reads, in the second thread's share, is dropped; the rest finish" {
    make_input in 32
    start_receivers 9 --stall 1
    # The stalled one (the first receiver) goes last: into the second share.
    local dests=("${DESTS[@]:1}" "${DESTS[0]}")
    run -1 --separate-stderr timeout 60 "$RINGCAST" -j 2 --file-pages off -i "$T/in" --rate 16M --ring-size 8M \
        --slow drop "${dests[@]}"
    wait_receivers 30
    [[ ${stderr_lines[0]} == "ringcast: ${DESTS[0]}: $(drop_msg "8.0 MiB") (after "* ]] ||
        { echo "$stderr" >&2; false; }
    check_receivers "$T/in.sha" $((32 << 20)) 1 8
    grep -q "^0 [0-9]* [0-9]* [0-9a-f]* stalled-reset$" "$T/results"
}

@test "-j 2 --slow drop, issue 15: 8 fast receivers and one that never reads (in either share), 8 MiB ring, --max-lag 4M, under load, 6 runs: only it is dropped" {
    staller_runs 6 -j 2
}

@test "-j 2 --slow drop: 8 fast receivers on a 1 MiB or 4 MiB ring with --max-lag 256K, under load, are never dropped" {
    keep_pace_runs -j 2
}

@test "-j 2 --slow drop: a receiver that reads 1 MiB/s among 8 fast ones is dropped; they finish" {
    slow_runs 2 -j 2
}

@test "-j 2: a second SIGTERM stops both threads at once; their stalled receivers are reset" {
    second_sigterm -j 2
}

@test "-j 2: the source fails part way; every receiver of both threads is reset, exit 1" {
    mount_flaky $((32 << 20)) $((5 << 20))
    start_receivers 6
    run -1 timeout 60 "$RINGCAST" -q -j 2 -i "$T/mnt/flaky" "${DESTS[@]}"
    unmount_flaky
    [ "${lines[0]}" = "ringcast: $T/mnt/flaky: read: Input/output error" ] || { echo "$output" >&2; false; }
    [ "${lines[1]}" = "ringcast: resetting the 6 destinations not finished, so that none takes a partial stream for a whole one" ]
    wait_receivers 30
    [ "$(grep -c 'error:ConnectionResetError$' "$T/results")" -eq 6 ]
}

@test "-j 2 with -l: push destinations in two threads and subscribers in the main one all get the stream" {
    make_input in 16
    start_receivers 4
    start_listening "$T/pub.err" -v -j 2 -i "$T/in" -l 127.0.0.1:0 --min-subscribers 2 --wait-timeout 60s "${DESTS[@]}"
    local pub=$BG_PID
    "$PY" "$HELPERS/fetch.py" 127.0.0.1 "$PORT" --count 2 --timeout 60 > "$T/got" &
    local got=$!
    PIDS+=("$got")
    wait_status "$got" 60
    wait_exit "$pub" 30
    [ "$EXIT_STATUS" -eq 0 ] || { cat "$T/pub.err" >&2; false; }
    grep -q "^ringcast: 2 sending threads for 4 destinations$" "$T/pub.err"
    wait_receivers 30
    check_receivers "$T/in.sha" $((16 << 20))
    [ "$(grep -c "^[0-9]* $((16 << 20)) $(cat "$T/in.sha") eof$" "$T/got")" -eq 2 ]
}

@test "-j: bad values and serve mode are usage errors" {
    run -2 timeout 10 "$RINGCAST" -j 0 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: -j '0': must be between 1 and 1024" ]
    run -2 timeout 10 "$RINGCAST" --threads many 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: -j 'many': not a number" ]
    run -2 timeout 10 "$RINGCAST" --serve -j 2 -l 0 /dev/null
    [ "${lines[0]}" = "ringcast: -j is for streams: serve mode runs one thread" ]
}
