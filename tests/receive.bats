#!/usr/bin/env bats
# ringcast on both ends: DEST ringcast://HOST:PORT frames the stream (header,
# trailer with its length and SHA-256) for a receiver started as
# ringcast -i ringcast-listen://[HOST:]PORT DEST..., which writes its own
# outputs, verifies, and answers with its verdict on the same connection.
# Every test runs real processes on loopback and checks the files' SHA-256,
# the exit status of both ends and the words each prints.

load helpers/common

setup() {
    common_setup
    declare -gA RPORT=() RPID=()
}
teardown() { common_teardown; }

# receiver NAME ARGS...: a ringcast receiver on a free port of 127.0.0.1,
# writing file:$T/NAME (and ARGS); its stderr in $T/NAME.err, its port in
# RPORT[NAME], its PID in RPID[NAME].
receiver() {
    local name=$1
    shift
    start_listening "$T/$name.err" -v -i ringcast-listen://127.0.0.1:0 "file:$T/$name" "$@" || return 1
    RPORT[$name]=$PORT
    RPID[$name]=$BG_PID
}

# receiver_exits NAME STATUS: that receiver ends (bounded wait) with STATUS.
receiver_exits() {
    wait_exit "${RPID[$1]}" 60 || return 1
    [ "$EXIT_STATUS" = "$2" ] || { echo "receiver $1 exited $EXIT_STATUS, not $2:" >&2; cat "$T/$1.err" >&2; return 1; }
}

@test "8 receivers writing files, one sender with --digest: every file whole, 8 verified, exit 0 on both ends" {
    make_input in 24
    local dests=() i
    for i in 1 2 3 4 5 6 7 8; do
        receiver "r$i"
        dests+=("ringcast://127.0.0.1:${RPORT[r$i]}")
    done
    run -0 timeout 120 "$RINGCAST" -v --digest --stats "$T/st.json" -i "$T/in" "${dests[@]}"
    [ "${lines[-1]}" = "$(sha256sum --tag "$T/in")" ]
    for i in 1 2 3 4 5 6 7 8; do
        receiver_exits r$i 0
        [ "$(sha256sum < "$T/r$i" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]
        [ ! -e "$T/r$i.part" ]
        # -v: one line per host, with the digest the receiver computed
        has_lines 1 "^ringcast: ringcast://127.0.0.1:${RPORT[r$i]}: verified: 24.0 MiB, SHA-256 $(cat "$T/in.sha")\$" <(printf '%s\n' "${lines[@]}")
        grep -q "stream '$T/in' (24.0 MiB) from 127.0.0.1:" "$T/r$i.err"
    done
    [ "$(json "$T/st.json" 'sum(d["verified"] is True and d["kind"] == "framed" for d in j["dests"])')" = 8 ]
    [ "$(json "$T/st.json" 'j["exit_status"]')" = 0 ]
}

@test "a byte flipped in transit: that receiver says digest mismatch, keeps .part, exits 1; the sender names it and exits 1; the others verify" {
    make_input in 8
    receiver good1
    receiver bad
    receiver good2
    "$PY" "$HELPERS/flip_relay.py" "$T/relay.port" "${RPORT[bad]}" $((3 << 20)) 2> "$T/relay.err" &
    PIDS+=($!)
    wait_file "$T/relay.port"
    local relay
    relay=$(cat "$T/relay.port")
    run -1 timeout 120 "$RINGCAST" --stats "$T/st.json" -i "$T/in" \
        "ringcast://127.0.0.1:${RPORT[good1]}" "ringcast://127.0.0.1:$relay" "ringcast://127.0.0.1:${RPORT[good2]}"
    receiver_exits bad 1
    grep -q "digest mismatch: the stream's SHA-256 is [0-9a-f]*, the sender's trailer says $(cat "$T/in.sha")" "$T/bad.err"
    [ -e "$T/bad.part" ] && [ ! -e "$T/bad" ]
    receiver_exits good1 0 && receiver_exits good2 0
    [ "$(sha256sum < "$T/good1" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]
    [ "$(sha256sum < "$T/good2" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]
    [[ "$output" == *"ringcast://127.0.0.1:$relay: not verified: digest mismatch: the stream's SHA-256 is "* ]]
    [ "$(json "$T/st.json" '[d["verified"] for d in j["dests"]]')" = "[True, False, True]" ]
    [[ "$(json "$T/st.json" 'j["dests"][1]["error"]')" == "not verified: digest mismatch: "* ]]
}

@test "a sender killed part way: every receiver exits 1 (truncated) and no final file appears" {
    make_input in 8
    receiver r1
    receiver r2
    "$RINGCAST" --rate 2M -i "$T/in" "ringcast://127.0.0.1:${RPORT[r1]}" "ringcast://127.0.0.1:${RPORT[r2]}" 2> "$T/send.err" &
    local sender=$!
    PIDS+=("$sender")
    # Half way is a point in the stream: the receivers' outputs have grown.
    wait_size "$T/r1.part" $((2 << 20)) ||
        { cat "$T/send.err" "$T/r1.err"; false; }
    kill -KILL "$sender"
    for r in r1 r2; do
        receiver_exits $r 1
        grep -q "ringcast-listen://127.0.0.1:0: truncated: " "$T/$r.err"
        [ -e "$T/$r.part" ] && [ ! -e "$T/$r" ]
    done
}

@test "framed and plain destinations in one run, with --expect-digest: each gets the stream its way" {
    make_input in 8
    receiver framed
    start_receivers 2
    run -0 timeout 120 "$RINGCAST" --expect-digest "$(cat "$T/in.sha")" -i "$T/in" \
        "${DESTS[0]}" "ringcast://127.0.0.1:${RPORT[framed]}" "${DESTS[1]}"
    wait_receivers 60
    check_receivers "$T/in.sha" $((8 << 20))
    receiver_exits framed 0
    [ "$(sha256sum < "$T/framed" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]
}

@test "--expect-digest wrong: the framed receiver is reset, keeps .part and exits 1; the sender exits 1" {
    make_input in 4
    receiver r1
    run -1 timeout 120 "$RINGCAST" --expect-digest "$(printf '0%.0s' {1..64})" -i "$T/in" "ringcast://127.0.0.1:${RPORT[r1]}"
    [[ "$output" == *"digest mismatch: the stream's SHA-256 is $(cat "$T/in.sha"), --expect-digest says 0000"* ]]
    receiver_exits r1 1
    grep -q "truncated: the connection failed after [0-9]* bytes: Connection reset by peer" "$T/r1.err"
    [ -e "$T/r1.part" ] && [ ! -e "$T/r1" ]
}

@test "a garbled header and another version get a verdict naming why and a reset; nothing is written; the next sender is served" {
    make_input in 2
    receiver r1
    run -0 "$PY" "$HELPERS/frame_client.py" "${RPORT[r1]}" garbage
    [ "${lines[0]}" = "code=4 reason=not a ringcast stream (no RINGCAST header)" ] || { echo "$output"; false; }
    [ "${lines[1]}" = end=reset ]
    run -0 "$PY" "$HELPERS/frame_client.py" "${RPORT[r1]}" version2
    [[ "${lines[0]}" == "code=5 reason=protocol version not supported"* ]]
    run -0 "$PY" "$HELPERS/frame_client.py" "${RPORT[r1]}" critical
    [[ "${lines[0]}" == code=5* ]]
    [ ! -e "$T/r1.part" ] && [ ! -e "$T/r1" ]
    grep -q "^ringcast: ringcast-listen://127.0.0.1:0: 127.0.0.1:[0-9]*: bad header: not a ringcast stream (no RINGCAST header); waiting for the next sender\$" "$T/r1.err"
    run -0 timeout 60 "$RINGCAST" -i "$T/in" "ringcast://127.0.0.1:${RPORT[r1]}"
    receiver_exits r1 0
    [ "$(sha256sum < "$T/r1" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]
}

@test "a receiver's --allow: a sender outside it is reset and told nothing; one inside is served" {
    make_input in 1
    start_listening "$T/r.err" -i ringcast-listen://127.0.0.1:0 --allow 10.0.0.0/8 --allow 127.0.0.2 "file:$T/out"
    local rport=$PORT rpid=$BG_PID
    run -1 timeout 60 "$RINGCAST" -i "$T/in" "ringcast://127.0.0.1:$rport"
    [[ "$output" == *"ringcast://127.0.0.1:$rport: "* ]]
    wait_line "refused 127.0.0.1:[0-9]*: not in --allow" "$T/r.err"
    [ ! -e "$T/out.part" ]
    # The sender's address is its own choice: bind it inside the block.
    run -0 timeout 60 "$PY" "$HELPERS/frame_client.py" "$rport" garbage --from 127.0.0.2
    [ "${lines[0]}" = "code=4 reason=not a ringcast stream (no RINGCAST header)" ]
    kill "$rpid"
}

@test "an output of the receiver fails (a full file system): verdict output failed, .part kept, exit 1 on both ends" {
    mkdir "$T/mnt"
    mount -t tmpfs -o size=2M tmpfs "$T/mnt" || skip "cannot mount a tmpfs here"
    make_input in 4
    start_listening "$T/r.err" -i ringcast-listen://127.0.0.1:0 "file:$T/mnt/out" "file:$T/whole"
    local rport=$PORT rpid=$BG_PID
    run -1 timeout 60 "$RINGCAST" --stats "$T/st.json" -i "$T/in" "ringcast://127.0.0.1:$rport"
    [[ "$output" == *"ringcast://127.0.0.1:$rport: not verified: output failed: file:$T/mnt/out: write: No space left on device"* ]]
    wait_exit "$rpid" 60
    [ "$EXIT_STATUS" = 1 ]
    grep -q "^ringcast: file:$T/mnt/out: write: No space left on device" "$T/r.err"
    [ -e "$T/mnt/out.part" ] && [ ! -e "$T/mnt/out" ]
    # the other output of that receiver has it all, under its own name
    [ "$(sha256sum < "$T/whole" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]
}

@test "a receiver whose output cannot be written fails before it listens (exit 2)" {
    run -2 timeout 10 "$RINGCAST" -i ringcast-listen://127.0.0.1:0 "file:$T/no/such/dir/x"
    [ "${lines[0]}" = "ringcast: file:$T/no/such/dir/x: $T/no/such/dir: no such directory" ]
    run -2 timeout 10 "$RINGCAST" -i ringcast-listen://127.0.0.1:0 "file:$T"
    [ "${lines[0]}" = "ringcast: file:$T: $T: Is a directory" ]
    run -2 timeout 10 "$RINGCAST" -i ringcast-listen://127.0.0.1:0 "file:$T/a" "file:$T/a"
    [ "${lines[0]}" = "ringcast: output file:$T/a is given 2 times; one writer per output" ]
}

@test "an empty stream, framed, to a receiver writing file: and -: both empty, verified, exit 0" {
    start_listening "$T/r.err" -i ringcast-listen://127.0.0.1:0 "file:$T/empty" -
    local rpid=$BG_PID rport=$PORT
    run -0 timeout 60 "$RINGCAST" -i /dev/null "ringcast://127.0.0.1:$rport"
    wait_exit "$rpid" 60
    [ "$EXIT_STATUS" = 0 ] || { cat "$T/r.err"; false; }
    [ -e "$T/empty" ] && [ ! -s "$T/empty" ] && [ ! -e "$T/empty.part" ]
}

@test "a ringcast:// DEST that is no ringcast: a plain receiver closes without a verdict, a silent one is bounded by --stall-timeout" {
    make_input in 2
    start_receivers 1
    run -1 timeout 60 "$RINGCAST" -i "$T/in" "ringcast://${DESTS[0]}"
    [[ "$output" == *"ringcast://${DESTS[0]}: the receiver closed without a verdict"* ]]
    "$PY" "$HELPERS/silent_receiver.py" "$T/silent.port" &
    PIDS+=($!)
    wait_file "$T/silent.port"
    run -1 timeout 60 "$RINGCAST" --stall-timeout 1s -i "$T/in" "ringcast://127.0.0.1:$(cat "$T/silent.port")"
    [[ "$output" == *"not verified: no verdict from the receiver within 1.0 s (--stall-timeout)"* ]]
}
