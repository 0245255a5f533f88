#!/usr/bin/env bats
# A regular file sent from its own pages (--file-pages auto, the default):
# no ring, a read lease on the file, every transport; what keeps the ring
# and why; and a file that changes while it is sent fails the run, resetting
# every receiver that did not yet have all of it.

load helpers/common

setup() { common_setup; }
teardown() { common_teardown; }

PAGES='ring: none: .* is sent from its own pages, under a read lease'

@test "every transport but sendfile sends a file from its own pages, -v says so, and every receiver gets it whole" {
    make_input in 24
    for t in $(transports); do
        start_receivers 3
        run -0 timeout 60 "$RINGCAST" -v --transport "$t" -i "$T/in" "${DESTS[@]}"
        wait_receivers 30
        check_receivers "$T/in.sha" $((24 << 20))
        if [ "$t" = sendfile ]; then
            # sendfile would let a loopback receiver's queue hold the page
            # cache's pages past the run: it sends from a ring's memfd.
            [[ $output == *"$T/in: read into a ring, not sent from its own pages: --transport sendfile sends from a ring"* ]]
            [[ $output == *"MiB memfd"* ]]
        else
            [[ $output =~ $PAGES ]] || { echo "$t: $output" >&2; return 1; }
            [[ $output != *"ring: "*" of anonymous memory"* ]]
        fi
    done
}

# A loopback receiver that reads only after the run: what it reads must be
# what was sent, though the file is written over as soon as ringcast exits
# (its lease gone).  sendfile from the file would fail this: the receiver's
# queue would still hold the page cache's own pages.
@test "a receiver that reads only after the run, the file written over at its end: it reads the bytes sent, every transport" {
    make_input in 4
    cp "$T/in" "$T/orig"
    local t
    for t in $(transports); do
        cp "$T/orig" "$T/in"
        rm -f "$T/late.port" "$T/go"
        "$PY" "$HELPERS/late_reader.py" --portfile "$T/late.port" --go "$T/go" > "$T/late" 2> /dev/null &
        local rpid=$!
        PIDS+=("$rpid")
        wait_file "$T/late.port"
        run -0 timeout 60 "$RINGCAST" -q --transport "$t" -i "$T/in" "127.0.0.1:$(cat "$T/late.port")"
        dd if=/dev/zero of="$T/in" bs=1M count=1 seek=1 conv=notrunc status=none
        : > "$T/go"
        wait_status "$rpid" 30
        [ "$(cat "$T/late")" = "$((4 << 20)) $(cat "$T/in.sha") eof" ] ||
            { echo "$t: $(cat "$T/late")" >&2; false; }
    done
}

@test "from its own pages with two sending threads, --digest from the mapping, and --stats" {
    make_input in 16
    start_receivers 6
    run -0 timeout 60 "$RINGCAST" -v -j 2 --digest --stats "$T/stats.json" -i "$T/in" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((16 << 20))
    [[ $output =~ $PAGES ]]
    [[ $output == *"sha256: $(cat "$T/in.sha")"* ]] || [[ $output == *"$(cat "$T/in.sha")"* ]]
    [ "$(json "$T/stats.json" 'j["source"]["bytes"], j["ring"]["file_pages"]')" = "($((16 << 20)), True)" ]
}

@test "--rate paces a file sent from its own pages" {
    make_input in 4
    start_receivers 2
    local t0
    t0=$(date +%s.%N)
    run -0 timeout 60 "$RINGCAST" -v --rate 8M -i "$T/in" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((4 << 20))
    [[ $output =~ $PAGES ]]
    # 4 MiB at 8 MiB/s after a burst of at most a tenth of a second's worth.
    awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { exit !(b - a >= 0.35) }'
}

@test "a pipe, --file-pages off, -z and a file open for writing keep the ring, and -v says why" {
    make_input in 4
    start_receivers 1
    run -0 timeout 60 bash -c 'cat "$1" | "$2" -v -i - "$3"' _ "$T/in" "$RINGCAST" "${DESTS[0]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((4 << 20))
    [[ $output == *"MiB of anonymous memory"* ]] && [[ ! $output =~ $PAGES ]]

    start_receivers 1
    run -0 timeout 60 "$RINGCAST" -v --file-pages off -i "$T/in" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((4 << 20))
    [[ $output == *"MiB of anonymous memory"* ]] && [[ ! $output =~ $PAGES ]]

    gzip -c "$T/in" > "$T/in.gz"
    start_receivers 1
    run -0 timeout 60 "$RINGCAST" -v -z -i "$T/in.gz" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((4 << 20))
    [[ $output == *"MiB of anonymous memory"* ]] && [[ ! $output =~ $PAGES ]]

    # Someone holds it open for writing: no lease, so the ring.
    start_receivers 1
    exec 7>> "$T/in"
    run -0 timeout 60 "$RINGCAST" -v -i "$T/in" "${DESTS[@]}"
    exec 7>&-
    wait_receivers 30
    check_receivers "$T/in.sha" $((4 << 20))
    [[ $output == *"ringcast: $T/in is open for writing elsewhere: it is read into a ring, where a change while it is read shows only in its size and times"* ]] || { echo "$output" >&2; false; }
}

@test "a file that is not the user's own is read into a ring: a lease needs its owner" {
    command -v setpriv > /dev/null || skip "setpriv is not installed"
    [ "$(id -u)" = 0 ] || skip "needs root to run as another user"
    make_input in 4
    chmod 755 "$T"
    chmod 644 "$T/in"
    start_receivers 1
    run -0 timeout 60 setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$RINGCAST" -v -i "$T/in" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((4 << 20))
    [[ $output == *"read into a ring, not sent from its own pages: a read lease needs its owner or CAP_LEASE"* ]]
}

# changed_run WHAT: 16 MiB to one fast receiver and one slow one (1 MiB/s);
# once the fast one has all of it, WHAT is done to the file (a command run
# by bash, with $1 the file); sets RC to ringcast's exit status and output
# to its stderr.
changed_run() {
    make_input in 16
    start_receivers 2 --slow 1 --slow-rate $((1 << 20))
    "$RINGCAST" -v -i "$T/in" "${DESTS[@]}" 2> "$T/err" &
    local pid=$!
    PIDS+=("$pid")
    wait_line "recv.py: 1 ended eof $((16 << 20))" "$T/recv.err" 60
    # The writer waits on the broken lease until ringcast lets go of it
    # (lease-break-time is 45 s): ringcast must let go at once.
    timeout 30 bash -c "$1" _ "$T/in"
    wait_status "$pid" 30 && RC=0 || RC=$?
    run cat "$T/err"
}

# fast_whole_slow_reset: after changed_run, the fast receiver (1), which
# had all of it before the change, got it whole with a FIN; the slow one (0)
# a reset, never a clean end.
fast_whole_slow_reset() {
    wait_receivers 30
    check_receivers "$T/in.sha" $((16 << 20)) 1 1
    run awk '$1 == 0 { print $5 }' "$T/results"
    [ "$output" = error:ConnectionResetError ]
}

@test "a file written while it is sent: the run fails with the reason, the receiver not yet whole is reset" {
    changed_run 'printf ABCD | dd of="$1" conv=notrunc bs=4 count=1 status=none'
    [ "$RC" -eq 1 ]
    [ "$(head -c 4 "$T/in")" = ABCD ] # the writer went on
    [[ $output == *"$T/in: was opened for writing or truncated while it was sent"* ]]
    [[ $output == *"reset: the source changed while it was sent"* ]]
    fast_whole_slow_reset
}

@test "a file truncated while it is sent: the same" {
    # truncate(2) itself, which waits on the lease (truncate(1) opens the
    # file with O_NONBLOCK, and the kernel refuses that open with EAGAIN
    # while it breaks the lease).
    changed_run '/usr/bin/python3 -c "import os, sys; os.truncate(sys.argv[1], 1 << 20)" "$1"'
    [ "$RC" -eq 1 ]
    [ "$(stat -c %s "$T/in")" -eq $((1 << 20)) ]
    [[ $output == *"$T/in: was opened for writing or truncated while it was sent"* ]]
    fast_whole_slow_reset
}

@test "a file written while --rate still paces it: cut, every receiver reset" {
    make_input in 8
    start_receivers 2 --mark $((1 << 20))
    "$RINGCAST" -v --rate 2M -i "$T/in" "${DESTS[@]}" 2> "$T/err" &
    local pid=$!
    PIDS+=("$pid")
    wait_line "recv.py: 0 got" "$T/recv.err" 30
    timeout 30 dd if=/dev/zero of="$T/in" conv=notrunc bs=4 count=1 status=none
    wait_status "$pid" 30 && RC=0 || RC=$?
    [ "$RC" -eq 1 ]
    grep -q "$T/in: was opened for writing or truncated while it was sent" "$T/err"
    wait_receivers 30
    run awk '$5 != "error:ConnectionResetError"' "$T/results"
    [ -z "$output" ]
}

@test "--slow drop has nobody to drop: a slow receiver holds no one back and gets the whole file too" {
    make_input in 8
    start_receivers 4 --slow 1 --slow-rate $((4 << 20))
    run -0 timeout 60 "$RINGCAST" -v --slow drop --max-lag 1M -i "$T/in" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((8 << 20))
    [[ $output =~ $PAGES ]]
    # The fast ones ended long before the slow one: nobody waited for it.
    grep -q "recv.py: 1 ended eof" "$T/recv.err"
}

@test "a late subscriber with --join start gets byte 0 however far the stream is: the file holds it" {
    make_input in 16
    start_listening "$T/pub.err" -v -l 127.0.0.1:0 --rate 8M -i "$T/in"
    local pub=$BG_PID
    "$PY" "$HELPERS/fetch.py" 127.0.0.1 "$PORT" --timeout 60 > "$T/first" &
    local first=$!
    PIDS+=("$first")
    # Once the stream is past what a default ring of 4 MiB would hold.
    wait_for 30 asked_status "$pub" "^ringcast: status: \([5-9]\|1[0-5]\)[.0-9]* MiB in" "$T/pub.err"
    run -0 timeout 60 "$PY" "$HELPERS/fetch.py" 127.0.0.1 "$PORT" --timeout 60
    [ "${lines[0]}" = "0 $((16 << 20)) $(cat "$T/in.sha") eof" ]
    wait_exit "$first" 30
    [ "$(head -1 "$T/first")" = "0 $((16 << 20)) $(cat "$T/in.sha") eof" ] || { cat "$T/first" "$T/pub.err" >&2; false; }
    wait_status "$pub" 30
}

@test "a file as standard input: sent from its offset, left at the end of what was sent, and no lease outlives the run" {
    make_input in 4
    # Opening for writing without waiting fails (EAGAIN) while a lease is held.
    local probe='import os, sys
try:
    os.close(os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)); print("writable")
except BlockingIOError:
    print("leased")'
    {
        head -c 1000 > /dev/null
        "$RINGCAST" -v -o "file:$T/out" 2> "$T/err"
        echo "exit $?"
        "$PY" -c "$probe" "$T/in"
        wc -c
    } < "$T/in" > "$T/res"
    [ "$(sed -n 1p "$T/res")" = "exit 0" ]
    [ "$(sed -n 2p "$T/res")" = writable ]
    [ "$(sed -n 3p "$T/res")" = 0 ] # nothing left to read after it
    grep -q "ring: none: stdin (4.0 MiB) is sent from its own pages" "$T/err"
    [ "$(tail -c +1001 "$T/in" | sha256sum | cut -d' ' -f1)" = "$(sha256sum < "$T/out" | cut -d' ' -f1)" ]
}

@test "a new file renamed over the path while the old one is sent: no change to what is sent, delivered whole" {
    make_input in 8
    head -c $((8 << 20)) /dev/urandom > "$T/new"
    start_receivers 2 --slow 1 --slow-rate $((4 << 20)) --mark $((1 << 20))
    "$RINGCAST" -v -i "$T/in" "${DESTS[@]}" 2> "$T/err" &
    local pid=$!
    PIDS+=("$pid")
    wait_line "recv.py: 0 got" "$T/recv.err" 30
    mv "$T/new" "$T/in"
    wait_status "$pid" 60 || { cat "$T/err" >&2; false; }
    wait_receivers 30
    check_receivers "$T/in.sha" $((8 << 20)) # in.sha: the old file's
}

@test "a file written while a ringcast:// receiver that has all of it has not answered yet: it goes on and verifies; the others are reset; exit 1" {
    make_input in 3
    # The receiver writes to a pipe read only once $T/go exists: its verdict
    # (after its output) waits, and its sender waits for it, draining.
    ("$RINGCAST" -v -i ringcast-listen://127.0.0.1:0 - 2> "$T/r.err" |
        { while [ ! -e "$T/go" ]; do sleep 0.05; done; cat > "$T/o1"; }) &
    PIDS+=($!)
    wait_line "listening on 127.0.0.1:" "$T/r.err" 30
    local port
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/r.err" | head -1)
    start_receivers 1 --slow 1 --slow-rate $((512 << 10))
    "$RINGCAST" -v -i "$T/in" "ringcast://127.0.0.1:$port" "${DESTS[@]}" 2> "$T/err" &
    local pid=$!
    PIDS+=("$pid")
    wait_line "transport: " "$T/err" 30 # its signals are set up by then
    wait_for 30 asked_status "$pid" "1 draining" "$T/err"
    dd if=/dev/zero of="$T/in" bs=4 count=1 conv=notrunc status=none &
    local writer=$!
    PIDS+=("$writer")
    wait_line "resetting the 1 destination not yet sent all of it; the 1 that were go on" "$T/err" 30
    : > "$T/go"
    wait_status "$pid" 30 && RC=0 || RC=$?
    [ "$RC" -eq 1 ] || { cat "$T/err" >&2; false; }
    wait_exit "$writer" 30
    grep -q "$T/in: was opened for writing or truncated while it was sent" "$T/err"
    grep -q "ringcast://127.0.0.1:$port: verified: 3.0 MiB" "$T/err"
    [ "$(sha256sum < "$T/o1" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]
    wait_receivers 30
    [ "$(awk '{ print $5 }' "$T/results")" = error:ConnectionResetError ]
}

@test "a file written before the stream starts (held for --min-subscribers): exit 1, the reason, nobody sent a byte" {
    make_input in 4
    start_listening "$T/pub.err" -v -l 127.0.0.1:0 --min-subscribers 2 -i "$T/in"
    local pub=$BG_PID
    timeout 30 dd if=/dev/zero of="$T/in" bs=4 count=1 conv=notrunc status=none
    wait_status "$pub" 30 && RC=0 || RC=$?
    [ "$RC" -eq 1 ] || { cat "$T/pub.err" >&2; false; }
    grep -q "$T/in: was opened for writing or truncated while it was sent" "$T/pub.err"
}

@test "a subscriber that comes after a file sent from its own pages ended still gets all of it; SIGINT says the source was read to its end" {
    make_input in 16
    start_listening "$T/pub.err" -v -l 127.0.0.1:0 -i "$T/in"
    local pub=$BG_PID
    # The first holds the run open: it reads 64 KiB and waits for $T/go.
    "$PY" -c 'import os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.recv(65536)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)' "$PORT" "$T/go" &
    local first=$!
    PIDS+=("$first")
    wait_line "the stream starts" "$T/pub.err" 30
    run -0 timeout 60 "$PY" "$HELPERS/fetch.py" 127.0.0.1 "$PORT" --timeout 60
    [ "${lines[0]}" = "0 $((16 << 20)) $(cat "$T/in.sha") eof" ]
    kill -INT "$pub"
    wait_line "Interrupt: the source was read to its end; draining for up to 10.0 s" "$T/pub.err" 30
    : > "$T/go"
    wait_exit "$pub" 30
    [ "$EXIT_STATUS" -eq 1 ] # the first never had all of it
}
