#!/usr/bin/env bats
# Local outputs: DEST file:PATH (a regular file written as PATH.part, synced
# and renamed only when the stream is whole; a device written in place) and
# - (standard output), next to network DESTs, in push and subscribe modes
# and on a receiving ringcast (tee).  A failing output fails alone.

load helpers/common

setup() { common_setup; }
teardown() {
    [ -z "${LOOPDEV:-}" ] || losetup -d "$LOOPDEV" 2>/dev/null
    common_teardown
}

sha_of() { sha256sum < "$1" | cut -d' ' -f1; }

@test "push: file:, - and two network DESTs in one run, each whole; no .part left" {
    make_input in 16
    start_receivers 2
    run -0 timeout 120 bash -c '"$1" -q -i "$2" "file:$3/copy" - "${@:4}" > "$3/stdout"' _ \
        "$RINGCAST" "$T/in" "$T" "${DESTS[@]}"
    [ "$(sha_of "$T/copy")" = "$(cat "$T/in.sha")" ]
    [ "$(sha_of "$T/stdout")" = "$(cat "$T/in.sha")" ]
    [ ! -e "$T/copy.part" ]
    wait_receivers 60
    check_receivers "$T/in.sha" $((16 << 20))
}

@test "- into a pipe, as in ringcast ... - | sha256sum: the pipe's reader paces it, the bytes are whole" {
    make_input in 16
    run -0 timeout 120 bash -c '"$1" -i "$2" --ring-size 1M - | (sleep 0.2; sha256sum)' _ "$RINGCAST" "$T/in"
    [ "${output%% *}" = "$(cat "$T/in.sha")" ]
}

@test "- into a pipe whose reader quits early: that output fails alone (write: Broken pipe), exit 1" {
    make_input in 16
    start_receivers 1
    run -1 timeout 120 bash -c 'set -o pipefail; "$1" -i "$2" --ring-size 1M "file:$3/copy" - "$4" | head -c 1000 > /dev/null' _ \
        "$RINGCAST" "$T/in" "$T" "${DESTS[0]}"
    [[ "$output" == *"ringcast: -: write: Broken pipe"* ]]
    [ "$(sha_of "$T/copy")" = "$(cat "$T/in.sha")" ]
    wait_receivers 60
    check_receivers "$T/in.sha" $((16 << 20))
}

@test "subscribe mode: file: beside subscribers, whole" {
    make_input in 8
    start_listening "$T/pub.err" -l 127.0.0.1:0 --min-subscribers 2 --wait-timeout 60s -i "$T/in" "file:$T/copy"
    local pub=$BG_PID
    "$PY" "$HELPERS/fetch.py" 127.0.0.1 "$PORT" --count 2 --timeout 60 > "$T/got" 2> "$T/got.err" &
    PIDS+=($!)
    wait_status $! 60
    wait_status "$pub" 60
    [ "$(grep -c "^[0-9]* $((8 << 20)) $(cat "$T/in.sha") eof$" "$T/got")" = 2 ]
    [ "$(sha_of "$T/copy")" = "$(cat "$T/in.sha")" ]
}

@test "a tee: tcp-listen:// source written to file: and forwarded to the next host" {
    make_input in 8
    start_receivers 1
    start_listening "$T/tee.err" -i tcp-listen://127.0.0.1:0 "file:$T/copy" "${DESTS[0]}"
    local tee=$BG_PID
    run -0 timeout 60 "$RINGCAST" -q -i "$T/in" "127.0.0.1:$PORT"
    wait_status "$tee" 60
    [ "$(sha_of "$T/copy")" = "$(cat "$T/in.sha")" ]
    wait_receivers 60
    check_receivers "$T/in.sha" $((8 << 20))
}

@test "a full file system: that output fails alone with ENOSPC and stays .part; the others are whole; exit 1" {
    mkdir "$T/mnt"
    mount -t tmpfs -o size=4M tmpfs "$T/mnt" || skip "cannot mount a tmpfs here"
    make_input in 12
    start_receivers 2
    run -1 timeout 120 "$RINGCAST" --stats "$T/st.json" -i "$T/in" "file:$T/mnt/copy" "file:$T/copy" "${DESTS[@]}"
    [[ "$output" == *"ringcast: file:$T/mnt/copy: write: No space left on device (after "* ]]
    [ -e "$T/mnt/copy.part" ] && [ ! -e "$T/mnt/copy" ]
    [ "$(sha_of "$T/copy")" = "$(cat "$T/in.sha")" ]
    wait_receivers 60
    check_receivers "$T/in.sha" $((12 << 20))
    [ "$(json "$T/st.json" '[(d["kind"], d["state"], d["transport"]) for d in j["dests"][:2]]')" = "[('output', 'failed', 'write'), ('output', 'done', 'write')]" ]
}

@test "a cut stream (SIGINT): the file stays PATH.part, never under its name; exit 1" {
    make_input in 8
    gated_source in $((1 << 20))
    "$RINGCAST" -i "$T/in.fifo" "file:$T/copy" 2> "$T/r.err" &
    local pid=$!
    PIDS+=("$pid")
    wait_size "$T/copy.part" $(((1 << 20) - 1))
    kill -INT "$pid"
    wait_exit "$pid" 30
    [ "$EXIT_STATUS" = 1 ]
    [ -e "$T/copy.part" ] && [ ! -e "$T/copy" ]
    grep -q "file:$T/copy: interrupted before the end of the stream" "$T/r.err"
}

@test "a block device (a loop device) is written in place from its start and synced" {
    command -v losetup > /dev/null || skip "no losetup"
    truncate -s 16M "$T/disk"
    LOOPDEV=$(losetup -f --show "$T/disk" 2>/dev/null) || skip "cannot attach a loop device here"
    make_input in 8
    run -0 timeout 120 "$RINGCAST" -q -i "$T/in" "file:$LOOPDEV"
    [ ! -e "$LOOPDEV.part" ]
    [ "$(head -c $((8 << 20)) "$LOOPDEV" | sha256sum | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]
}

@test "outputs given twice, a missing directory, a directory: usage errors before anything is sent" {
    run -2 timeout 10 "$RINGCAST" -i /dev/null - -
    [ "${lines[0]}" = "ringcast: output - is given 2 times; one writer per output" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null "file:$T/nope/x"
    [ "${lines[0]}" = "ringcast: file:$T/nope/x: $T/nope: no such directory" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null "file:$T"
    [ "${lines[0]}" = "ringcast: file:$T: $T: Is a directory" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null "file:"
    [ "${lines[0]}" = "ringcast: destination 'file:': file: without a path (expected HOST:PORT, [IPv6]:PORT, tcp://HOST:PORT, ringcast://HOST:PORT, file:PATH or - (standard output))" ]
}

@test "a FIFO never blocks the others: without a reader it fails alone; with one that never reads it is dropped by --stall-timeout" {
    make_input in 4
    mkfifo "$T/fifo"
    start_receivers 1
    run -1 timeout 60 "$RINGCAST" -i "$T/in" "file:$T/fifo" "${DESTS[0]}"
    [[ "$output" == *"ringcast: file:$T/fifo: open: No such device or address"* ]]
    wait_receivers 60
    check_receivers "$T/in.sha" $((4 << 20))
    sleep 60 < "$T/fifo" &
    PIDS+=($!)
    start_receivers 1
    run -1 timeout 60 "$RINGCAST" --stall-timeout 2s -i "$T/in" "file:$T/fifo" "${DESTS[0]}"
    [[ "$output" == *"ringcast: file:$T/fifo: stalled: accepted nothing for 2.0 s (--stall-timeout)"* ]]
    wait_receivers 60
    check_receivers "$T/in.sha" $((4 << 20))
}

@test "file: follows a symbolic link to its target, never a stale PATH.part link, and keeps a replaced file's permissions" {
    make_input in 1
    echo old > "$T/target"
    chmod 640 "$T/target"
    ln -s target "$T/link"
    echo victim > "$T/victim"
    ln -s victim "$T/out.part"
    run -0 timeout 60 "$RINGCAST" -i "$T/in" "file:$T/link" "file:$T/out"
    [ -L "$T/link" ] && [ "$(stat -c %a "$T/target")" = 640 ]
    [ "$(sha256sum < "$T/target" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]
    [ "$(cat "$T/victim")" = victim ] && [ ! -e "$T/out.part" ]
    [ "$(sha256sum < "$T/out" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]
}

@test "one output under two spellings, a closed standard output, a trailing /, a file for a directory: refused before anything is sent" {
    run -2 timeout 10 "$RINGCAST" -i /dev/null "file:$T/a" "file:$T/./a"
    [ "${lines[0]}" = "ringcast: file:$T/a and file:$T/./a are one output; one writer per output" ]
    run -2 timeout 10 bash -c 'set -o pipefail; "$1" -i /dev/null - file:/dev/stdout | cat' _ "$RINGCAST"
    [ "${lines[0]}" = "ringcast: - and file:/dev/stdout are one output; one writer per output" ]
    run -2 timeout 10 bash -c '"$1" -i /dev/null - >&-' _ "$RINGCAST"
    [ "${lines[0]}" = "ringcast: -: standard output is closed" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null "file:$T/newdir/"
    [ "${lines[0]}" = "ringcast: file:$T/newdir/: $T/newdir/: a trailing / names a directory, not a file" ]
    touch "$T/plain"
    run -2 timeout 10 "$RINGCAST" -i /dev/null "file:$T/plain/x"
    [ "${lines[0]}" = "ringcast: file:$T/plain/x: $T/plain: not a directory" ]
}

@test "closed standard descriptors: no log line or stream lands in a descriptor ringcast opened in their place" {
    make_input in 4
    start_receivers 2
    run -0 timeout 60 bash -c '"$1" -v --transport copy --ring-size 64K -i "$2" "$3" "$4" <&- >&- 2>&-' _ \
        "$RINGCAST" "$T/in" "${DESTS[@]}"
    wait_receivers 60
    check_receivers "$T/in.sha" $((4 << 20))
}
