#!/usr/bin/env bats
# Many destinations: five thousand in one run from two sending threads,
# descriptors checked before anything is sent.  (19,000 is in make bench: bench/fanout.py.)

load helpers/common

setup() { common_setup; }
teardown() { common_teardown; }


@test "5000 push destinations from 2 threads: each gets 1 MiB intact and a clean end, none is reset" {
    make_input in 1
    start_sink 5000 $((1 << 20)) "$T/in"
    yes "127.0.0.1:$SINK_PORT" | head -5000 > "$T/fleet"
    run -0 --separate-stderr timeout 120 "$RINGCAST" -v -j 2 -i "$T/in" --dests-from "$T/fleet" \
        --stats "$T/st.json"
    wait_exit "$SINK_PID" 120
    [ "$EXIT_STATUS" -eq 0 ] || { cat "$T/sink.out" >&2; false; }
    [ "$(head -1 "$T/sink.out")" = "connections 5000 good 5000 bad 0 resets 0" ]
    [[ $stderr == *"ringcast: 2 sending threads for 5000 destinations"* ]]
    [[ $stderr == *"ringcast: 1.0 MiB from $T/in to 5000 of 5000 destinations in "* ]]
    [ "$(json "$T/st.json" 'j["destinations"]')" = \
        "{'total': 5000, 'done': 5000, 'failed': 0}" ]
    # Both threads sent: the sends add up to every byte.
    [ "$(json "$T/st.json" 'j["sends"]["bytes"]')" = 5242880000 ]
}

@test "ulimit -n 64 with 100 destinations: a clear error before anything is sent, exit 2" {
    local fleet=() i
    for ((i = 0; i < 100; i++)); do fleet+=("127.0.0.1:$((40000 + i))"); done
    run -2 timeout 10 bash -c 'ulimit -n 64 && exec "$@"' _ "$RINGCAST" -i /dev/null "${fleet[@]}"
    [ "$output" = "ringcast: 100 destinations need 164 file descriptors, but the limit (ulimit -n) leaves room for 0; raise it, or push to fewer and let them relay" ]
}

@test "the soft descriptor limit is raised as far as the hard one allows" {
    make_input in 1
    start_sink 200 $((1 << 20)) "$T/in"
    yes "127.0.0.1:$SINK_PORT" | head -200 > "$T/fleet"
    run -0 timeout 60 bash -c 'ulimit -Sn 100 && exec "$@"' _ "$RINGCAST" -q -i "$T/in" --dests-from "$T/fleet"
    wait_exit "$SINK_PID" 60
    [ "$(head -1 "$T/sink.out")" = "connections 200 good 200 bad 0 resets 0" ]
}
