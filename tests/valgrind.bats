#!/usr/bin/env bats
# The long-running paths once under valgrind's memcheck: no invalid reads or
# writes, no uninitialised use, no memory definitely lost at exit.  (The
# whole suite also runs under ASan and UBSan: make check-asan.)  The copy
# transport and --mlock off, because this valgrind knows neither io_uring's
# buffer registration nor mlock2.

load helpers/common

setup() {
    common_setup
    command -v valgrind > /dev/null || skip "valgrind is not installed"
    [ "${RINGCAST_SANITIZED:-}" != 1 ] || skip "valgrind and ASan do not mix"
    # ringcast under valgrind, as a command of its own (start_listening runs $RINGCAST).
    VG=$T/ringcast-vg
    printf '#!/bin/sh\nexec valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 --log-file=%s %s "$@"\n' \
        "$T/vg.log" "$RINGCAST" > "$VG"
    chmod +x "$VG"
}
teardown() { common_teardown; }

# vg_clean: valgrind said nothing.
vg_clean() {
    [ ! -s "$T/vg.log" ] || { cat "$T/vg.log" >&2; false; }
}

@test "valgrind: push with a resetting receiver" {
    make_input in 8
    start_receivers 4 --reset 1 --reset-after $((1 << 20))
    run -1 timeout 120 "$VG" -q --mlock off --transport copy --ring-size 2M \
        -i "$T/in" "${DESTS[@]}"
    vg_clean
    wait_receivers 60
    check_receivers "$T/in.sha" $((8 << 20)) 1 3
}

@test "valgrind: subscribers come and go, one is killed, --stats keeps their records" {
    make_input in 8
    # The stream is held after 2 MiB until the late subscriber is in.
    gated_source in $((2 << 20))
    RINGCAST=$VG start_listening "$T/err" --mlock off --transport copy --rate 4M \
        -i "$T/in.fifo" -l 127.0.0.1:0 --min-subscribers 2 --wait-timeout 60s --join oldest --stats "$T/st.json"
    local pub=$BG_PID
    "$PY" "$HELPERS/fetch.py" 127.0.0.1 "$PORT" --count 2 --timeout 60 > "$T/two" &
    local two=$!
    PIDS+=("$two")
    # The victim kills itself (SIGKILL) when it has 1 MiB, while the stream runs.
    "$PY" "$HELPERS/fetch.py" 127.0.0.1 "$PORT" --die-at $((1 << 20)) --timeout 60 > "$T/victim" &
    local victim=$!
    PIDS+=("$victim")
    wait_exit "$victim" 60
    [ "$EXIT_STATUS" -eq 137 ] || { echo "victim: exit $EXIT_STATUS" >&2; cat "$T/err" >&2; false; }
    # A late one: it has its first byte (from the oldest in the ring), so it
    # is in; then the rest of the stream flows.
    "$PY" "$HELPERS/fetch.py" 127.0.0.1 "$PORT" --mark 1 --timeout 60 > "$T/late" 2> "$T/late.err" &
    local late=$!
    PIDS+=("$late")
    wait_line "^fetch.py: 0 got 1$" "$T/late.err" 60
    open_gate
    wait_exit "$late" 60
    wait_exit "$two" 60
    wait_exit "$pub" 60
    [ "$EXIT_STATUS" -eq 1 ]
    vg_clean
    [ "$(grep -c " 8388608 $(cat "$T/in.sha") eof$" "$T/two")" -eq 2 ]
    [ "$(json "$T/st.json" 'len(j["dests"])')" -eq 4 ]
}

@test "valgrind: serve mode, real and hostile clients, then SIGTERM" {
    make_input blob 2
    RINGCAST=$VG start_listening "$T/err" --serve --http -l 127.0.0.1:0 "$T/blob"
    local srv=$BG_PID
    run -0 timeout 60 curl -sSf -o "$T/got" "http://127.0.0.1:$PORT/blob"
    cmp "$T/got" "$T/blob"
    run -0 timeout 60 curl -sSf -r 100-199 -o "$T/part" "http://127.0.0.1:$PORT/blob"
    # The listing at /, a precondition that fails, and a HEAD error.
    run -0 timeout 60 curl -sSf -o "$T/page" "http://127.0.0.1:$PORT/"
    grep -q '<a href="/blob">blob</a>' "$T/page"
    run -0 timeout 60 curl -s -o /dev/null -w '%{http_code}' -H 'If-Match: "x"' "http://127.0.0.1:$PORT/blob"
    [ "$output" = 412 ]
    run -0 timeout 60 curl -sI -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/missing"
    [ "$output" = 404 ]
    run -0 timeout 120 "$PY" "$HELPERS/hostile.py" 127.0.0.1 "$PORT"
    kill -TERM "$srv"
    wait_status "$srv" 60
    vg_clean
}

@test "valgrind: a gzip source through the archive thread" {
    make_input in 4
    gzip -c < "$T/in" > "$T/in.gz"
    start_receivers 2
    run -0 timeout 120 "$VG" -q --mlock off --transport copy -z -i "$T/in.gz" "${DESTS[@]}"
    vg_clean
    wait_receivers 60
    check_receivers "$T/in.sha" $((4 << 20))
}

@test "valgrind: a corrupt gzip member, and a corrupt tar.gz under --extract, through zlib" {
    make_input in 4
    { head -c 1000000 "$T/in" | gzip -1; tail -c +1000001 "$T/in" | gzip -1; } > "$T/bad.gz"
    (cd "$T" && tar cf - in | gzip -1 > bad.tar.gz)
    local f
    for f in "$T/bad.gz" "$T/bad.tar.gz"; do
        flip "$f" $(($(stat -c %s "$f") * 3 / 4))
    done
    start_receivers 2
    run -1 timeout 120 "$VG" -q --mlock off --transport copy -z -i "$T/bad.gz" "${DESTS[@]}"
    vg_clean
    wait_receivers 60
    start_receivers 2
    run -1 timeout 120 "$VG" -q --mlock off --transport copy --extract in -i "$T/bad.tar.gz" "${DESTS[@]}"
    vg_clean
    wait_receivers 60
}

@test "valgrind: both ends of the framed protocol, with a file: output, and a mismatch" {
    make_input in 4
    # a receiver under valgrind, a sender under valgrind, a verified stream
    RINGCAST=$VG start_listening "$T/r.err" -i ringcast-listen://127.0.0.1:0 --mlock off \
        --transport copy --ring-size 1M "file:$T/out"
    local rpid=$BG_PID
    run -0 timeout 120 "$VG" -q --mlock off --transport copy --ring-size 1M --digest \
        -i "$T/in" "ringcast://127.0.0.1:$PORT"
    wait_exit "$rpid" 60
    [ "$EXIT_STATUS" = 0 ] || { cat "$T/r.err"; false; }
    [ "$(sha256sum < "$T/out" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]
    # a garbled header turned away, then a sender whose --expect-digest fails
    RINGCAST=$VG start_listening "$T/r2.err" -i ringcast-listen://127.0.0.1:0 --mlock off \
        --transport copy --ring-size 1M "file:$T/out2"
    rpid=$BG_PID
    run -0 "$PY" "$HELPERS/frame_client.py" "$PORT" garbage
    run -1 timeout 120 "$VG" -q --mlock off --transport copy --ring-size 1M \
        --expect-digest "$(printf '0%.0s' {1..64})" -i "$T/in" "ringcast://127.0.0.1:$PORT"
    wait_exit "$rpid" 60
    [ "$EXIT_STATUS" = 1 ]
    vg_clean
}
