#!/usr/bin/env bats
# Subscribe mode (-l without --serve): every client that connects gets the
# stream; --min-subscribers holds the source, --join says where late ones
# start, --max-subscribers turns extra ones away, --wait-timeout bounds the
# wait.  Clients are real sockets (helpers/fetch.py); every check is on bytes.

load helpers/common

setup() { common_setup; }
teardown() { common_teardown; }

# start_pub ARGS...: ringcast -l 127.0.0.1:0 ARGS in the background, stderr
# in $T/pub.err; sets PUB_PID and PORT.  It waits 60 s at most for
# --min-subscribers (unless ARGS say otherwise), not for ever; with
# --min-subscribers 0 it waits for none, and --wait-timeout is refused.
start_pub() {
    local wait=(--wait-timeout 60s)
    [[ " $* " != *" --min-subscribers 0 "* ]] || wait=()
    start_listening "$T/pub.err" -l 127.0.0.1:0 "${wait[@]}" "$@" || return 1
    PUB_PID=$BG_PID
}

# fetch OUT [fetch.py options]: subscribers in the background, their
# "index bytes sha256 end" lines in OUT, their events ("fetch.py: I
# connected", "I got BYTES" with --mark) in OUT.err; sets FETCH_PID.
fetch() {
    local out=$1
    shift
    : > "$out"; : > "$out.err" # as start_listening's: no earlier run's lines
    "$PY" "$HELPERS/fetch.py" 127.0.0.1 "$PORT" --events --timeout 60 "$@" > "$out" 2> "$out.err" &
    FETCH_PID=$!
    PIDS+=("$FETCH_PID")
}

# fetch_early OUT [fetch.py options]: like fetch, but started before
# start_pub: the helper takes the port from the "listening on" line of
# $T/pub.err as soon as it appears, so that its interpreter's start-up does
# not count against a --wait-timeout.
fetch_early() {
    local out=$1
    shift
    rm -f "$T/pub.err"
    "$PY" "$HELPERS/fetch.py" 127.0.0.1 --port-from "$T/pub.err" --events --timeout 60 "$@" \
        > "$out" 2> "$out.err" &
    FETCH_PID=$!
    PIDS+=("$FETCH_PID")
}

# first_and_late SPLIT ARGS...: start_pub -v ARGS with the 8 MiB $T/in as
# source, through a FIFO that holds the stream after SPLIT bytes: one
# subscriber ($T/first) gets those SPLIT bytes, then another ($T/late)
# connects, and only once ringcast has said where it joined does the rest
# flow.  So the late one joins at byte SPLIT of the stream, whatever the
# machine's load.  Waits for all three, ringcast's exit status in EXIT_STATUS.
first_and_late() {
    local split=$1 first
    shift
    gated_source in "$split"
    start_pub -v -i "$T/in.fifo" "$@"
    fetch "$T/first" --mark "$split"
    first=$FETCH_PID
    wait_line "^fetch.py: 0 got $split$" "$T/first.err"
    fetch "$T/late"
    wait_for 30 has_lines 2 ": joined at byte [0-9]+$" "$T/pub.err"
    open_gate
    wait_exit "$first" 30
    wait_exit "$FETCH_PID" 30
    wait_exit "$PUB_PID" 30
}

# whole OUT SHAFILE BYTES COUNT: COUNT subscribers in OUT got the whole stream.
whole() {
    local n
    n=$(grep -c "^[0-9]* $3 $(cat "$2") eof$" "$1")
    [ "$n" -eq "$4" ] || { echo "$n of $4 got the whole stream:" >&2; cat "$1" >&2; false; }
}

@test "32 subscribers with --min-subscribers 32: all get the whole stream, exit 0" {
    make_input in 16
    start_pub -i "$T/in" --min-subscribers 32
    fetch "$T/got" --count 32
    wait_status "$FETCH_PID" 60
    wait_exit "$PUB_PID" 30
    [ "$EXIT_STATUS" -eq 0 ] || { cat "$T/pub.err" >&2; false; }
    # Had the stream started before the 32nd connected, it would miss a prefix.
    whole "$T/got" "$T/in.sha" $((16 << 20)) 32
}

@test "--join oldest: a late subscriber gets the whole stream while it fits in the ring" {
    make_input in 8
    # The second subscriber joins half way.
    first_and_late $((4 << 20)) --rate 8M --join oldest
    [ "$EXIT_STATUS" -eq 0 ]
    whole "$T/first" "$T/in.sha" $((8 << 20)) 1
    whole "$T/late" "$T/in.sha" $((8 << 20)) 1
    # It joined while the stream ran, not before.
    grep -q "subscriber 127.0.0.1:[0-9]*: joined at byte 0" "$T/pub.err"
    [ "$(grep -c "joined at byte" "$T/pub.err")" -eq 2 ]
    grep -q "1 subscriber connected: the stream starts" "$T/pub.err"
}

@test "--join live: a late subscriber gets exactly the tail of the stream from where it joined" {
    make_input in 8
    first_and_late $((4 << 20)) --rate 8M --join live
    [ "$EXIT_STATUS" -eq 0 ]
    whole "$T/first" "$T/in.sha" $((8 << 20)) 1
    local n sha end joined
    read -r _ n sha end < "$T/late"
    [ "$end" = eof ]
    [ "$n" -gt 0 ] && [ "$n" -lt $((8 << 20)) ]
    # The bytes, not just the count: the suffix of the input of that length.
    [ "$sha" = "$(tail -c "$n" "$T/in" | sha256sum | cut -d' ' -f1)" ]
    joined=$(sed -n 's/.*: joined at byte \([1-9][0-9]*\)$/\1/p' "$T/pub.err")
    [ "$joined" -eq $(((8 << 20) - n)) ]
}

@test "every transport: a late --join oldest subscriber on a 1 MiB ring gets the true tail" {
    make_input in 8
    local t list n sha end
    list=$(transports)
    for t in $list; do
        # It joins when 3 MiB have gone through the 1 MiB ring.
        first_and_late $((3 << 20)) --transport "$t" --ring-size 1M --rate 16M --join oldest
        [ "$EXIT_STATUS" -eq 0 ] || { echo "$t" >&2; cat "$T/pub.err" >&2; false; }
        whole "$T/first" "$T/in.sha" $((8 << 20)) 1
        # It starts a ring's length (or less) behind the head: bytes the ring
        # still held, never a block already retired or rewritten.
        read -r _ n sha end < "$T/late"
        [ "$end" = eof ] && [ "$n" -gt $((4 << 20)) ] && [ "$n" -lt $((8 << 20)) ] ||
            { echo "$t: $n $end" >&2; false; }
        [ "$sha" = "$(tail -c "$n" "$T/in" | sha256sum | cut -d' ' -f1)" ] || { echo "$t: wrong bytes" >&2; false; }
    done
}

@test "--join oldest with --slow drop starts half of --max-lag back, so it is not dropped at once" {
    make_input in 8
    first_and_late $((4 << 20)) --rate 8M --join oldest --slow drop --max-lag 2M
    [ "$EXIT_STATUS" -eq 0 ] || { cat "$T/pub.err" >&2; false; }
    local n sha end joined
    read -r _ n sha end < "$T/late"
    [ "$end" = eof ]
    [ "$sha" = "$(tail -c "$n" "$T/in" | sha256sum | cut -d' ' -f1)" ]
    joined=$(sed -n 's/.*: joined at byte \([1-9][0-9]*\)$/\1/p' "$T/pub.err")
    [ "$joined" -eq $(((8 << 20) - n)) ]
    # Half of --max-lag (1 MiB) behind the head, which had passed 3 MiB by then.
    [ "$joined" -gt $((2 << 20)) ]
}

@test "--max-subscribers: one too many is turned away with a reset; the others get everything" {
    make_input in 4
    # The stream is held after 1 MiB until the third has been turned away.
    gated_source in $((1 << 20))
    start_pub -i "$T/in.fifo" --rate 4M --min-subscribers 2 --max-subscribers 2
    fetch "$T/two" --count 2 --mark $((1 << 20))
    local two=$FETCH_PID
    # Both are subscribers: each has its first MiB.
    wait_for 30 has_lines 2 "^fetch.py: [01] got $((1 << 20))$" "$T/two.err"
    run -0 timeout 30 "$PY" "$HELPERS/fetch.py" 127.0.0.1 "$PORT"
    [[ ${lines[0]} == "0 0 "*" ConnectionResetError" ]]
    open_gate
    wait_exit "$two" 30
    wait_status "$PUB_PID" 30
    whole "$T/two" "$T/in.sha" $((4 << 20)) 2
    grep -q "^ringcast: subscriber 127.0.0.1:[0-9]*: turned away: 2 subscribers already (--max-subscribers)$" "$T/pub.err"
}

@test "--wait-timeout: nobody came is exit 2; too few start the stream anyway, exit 1" {
    make_input in 1
    run -2 timeout 30 "$RINGCAST" -i "$T/in" -l 127.0.0.1:0 --wait-timeout 300ms
    [ "${lines[1]}" = "ringcast: no subscriber connected within 0.3 s (--wait-timeout)" ]

    # The subscriber is started first and connects as soon as ringcast
    # listens: 3 s is then a wide margin, however slowly it started.
    fetch_early "$T/one"
    start_pub -i "$T/in" --min-subscribers 2 --wait-timeout 3s
    wait_exit "$FETCH_PID" 30
    wait_exit "$PUB_PID" 30
    [ "$EXIT_STATUS" -eq 1 ] || { cat "$T/pub.err" "$T/one.err" >&2; false; }
    whole "$T/one" "$T/in.sha" $((1 << 20)) 1
    grep -q "^ringcast: 1 of 2 subscribers connected within 3.0 s (--wait-timeout); starting with them$" "$T/pub.err"
    grep -q "^ringcast: the stream started with fewer than 2 subscribers (--wait-timeout)$" "$T/pub.err"
}

@test "--wait-timeout 0 waits for ever, as the default does; a value that rounds to 0 ms is refused" {
    make_input in 1
    # Had 0 meant "do not wait", this would exit 2 at once, nobody connected.
    start_listening "$T/pub.err" -i "$T/in" -l 127.0.0.1:0 --wait-timeout 0
    PUB_PID=$BG_PID
    fetch "$T/one"
    wait_exit "$FETCH_PID" 30
    wait_exit "$PUB_PID" 30
    [ "$EXIT_STATUS" -eq 0 ] || { cat "$T/pub.err" >&2; false; }
    whole "$T/one" "$T/in.sha" $((1 << 20)) 1
    run -2 timeout 10 "$RINGCAST" -i "$T/in" -l 127.0.0.1:0 --wait-timeout 0.0004s
    [ "${lines[0]}" = "ringcast: --wait-timeout '0.0004s': rounds to 0 ms; the smallest is 1ms" ]
}

@test "SIGTERM while the source waits for subscribers: says that nothing was read, exit 1" {
    make_input in 1
    start_receivers 1
    start_listening "$T/pub.err" -i "$T/in" -l 127.0.0.1:0 --min-subscribers 1 "${DESTS[0]}"
    wait_line "connected$" "$T/recv.err"
    kill -TERM "$BG_PID"
    wait_exit "$BG_PID" 30
    [ "$EXIT_STATUS" -eq 1 ]
    grep -qx "ringcast: Terminated: stopped before the first byte was read (waiting for --min-subscribers)" "$T/pub.err"
    ! grep -q "draining" "$T/pub.err"
    # The DEST it had connected gets nothing and a reset, never a FIN.
    wait_receivers 30
    check_reset <(printf '' | sha256sum | cut -d' ' -f1) 0
}

@test "a subscriber killed part way is reported; the others get everything, exit 1" {
    make_input in 8
    start_pub -i "$T/in" --rate 8M --min-subscribers 4
    fetch "$T/three" --count 3
    local three=$FETCH_PID
    # The victim kills itself (SIGKILL) when it has 1 MiB: only once it is
    # one of the 4, and while the stream runs.
    fetch "$T/victim" --die-at $((1 << 20))
    wait_exit "$FETCH_PID" 30
    [ "$EXIT_STATUS" -eq 137 ] || { echo "victim: exit $EXIT_STATUS" >&2; cat "$T/victim.err" >&2; false; }
    wait_exit "$three" 30
    wait_exit "$PUB_PID" 30
    [ "$EXIT_STATUS" -eq 1 ]
    whole "$T/three" "$T/in.sha" $((8 << 20)) 3
    grep -Eq "^ringcast: subscriber 127.0.0.1:[0-9]+: send: (Connection reset by peer|Broken pipe) \(after [0-9.]+ [KM]iB\)$" "$T/pub.err"
    grep -q "^ringcast: 1 of 4 destinations did not receive the whole stream$" "$T/pub.err"
}

@test "push destinations and subscribers in one run all get the stream" {
    make_input in 8
    start_receivers 3
    start_pub -i "$T/in" --min-subscribers 2 "${DESTS[@]}"
    fetch "$T/subs" --count 2
    wait_exit "$FETCH_PID" 30
    wait_receivers 30
    wait_status "$PUB_PID" 30
    whole "$T/subs" "$T/in.sha" $((8 << 20)) 2
    check_receivers "$T/in.sha" $((8 << 20))
}

@test "after the end of the stream the listener is closed: a new subscriber is refused" {
    : > "$T/empty"
    start_pub -i "$T/empty" --min-subscribers 1
    run -0 timeout 30 "$PY" "$HELPERS/fetch.py" 127.0.0.1 "$PORT"
    [[ ${lines[0]} == "0 0 "*" eof" ]]
    wait_status "$PUB_PID" 30
    run -0 timeout 30 "$PY" "$HELPERS/reach.py" "$PORT" 127.0.0.1
    [ "$output" = "127.0.0.1 refused" ]
}

@test "--allow: a subscriber from outside every block is reset and counted; one inside gets the stream" {
    make_input in 1
    # The refused one is started first and connects as soon as ringcast
    # listens, well within the 3 s after which ringcast gives up.
    fetch_early "$T/out"
    start_pub -i "$T/in" --allow 192.0.2.0/24 --allow 2001:db8::/32 --wait-timeout 3s
    wait_exit "$FETCH_PID" 30
    [ "$EXIT_STATUS" -eq 0 ] || { cat "$T/out.err" >&2; false; }
    [[ $(head -1 "$T/out") == "0 0 "*" ConnectionResetError" ]] || { cat "$T/out" >&2; false; }
    wait_exit "$PUB_PID" 30
    [ "$EXIT_STATUS" -eq 2 ]
    grep -q "^ringcast: refused 1 connection from addresses not --allow'ed$" "$T/pub.err"

    start_pub -i "$T/in" --allow 192.0.2.0/24 --allow 127.0.0.0/8
    fetch "$T/ok"
    wait_exit "$FETCH_PID" 30
    wait_status "$PUB_PID" 30
    whole "$T/ok" "$T/in.sha" $((1 << 20)) 1
}

@test "--min-subscribers 0, no DEST and no subscriber: nobody received the stream, says so, exit 1" {
    make_input in 1
    run -1 --separate-stderr timeout 30 "$RINGCAST" -i "$T/in" -l 127.0.0.1:0 --min-subscribers 0 --stats "$T/st.json"
    [ "${stderr_lines[-1]}" = "ringcast: nobody received the stream: no DEST was given and no subscriber connected" ] ||
        { echo "$stderr" >&2; false; }
    [ "$(json "$T/st.json" 'j["exit_status"]')" = 1 ]
}

@test "--min-subscribers 0 and the only subscriber refused by --allow: nobody received the stream, exit 1" {
    make_input in 1
    # The source is held until the refused one has been reset, so that it
    # comes while the stream runs.
    gated_source in 0
    start_pub -i "$T/in.fifo" --min-subscribers 0 --allow 192.0.2.0/24
    fetch "$T/out"
    wait_exit "$FETCH_PID" 30
    [[ $(head -1 "$T/out") == "0 0 "*" ConnectionResetError" ]] || { cat "$T/out" "$T/out.err" >&2; false; }
    open_gate
    wait_exit "$PUB_PID" 30
    [ "$EXIT_STATUS" -eq 1 ] || { cat "$T/pub.err" >&2; false; }
    [ "$(tail -1 "$T/pub.err")" = "ringcast: nobody received the stream: no DEST was given and no subscriber connected from an --allow'ed address" ] ||
        { cat "$T/pub.err" >&2; false; }
}
