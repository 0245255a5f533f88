#!/usr/bin/env bats
# Sources beyond files: tcp:// and tcp-listen:// (relay chains and trees),
# and --rate.

load helpers/common

setup() { common_setup; }
teardown() { common_teardown; }

# start_relay NAME ARGS...: ringcast -i tcp-listen://127.0.0.1:0 ARGS in the
# background; sets RELAY_PORT and RELAY_PID, stderr in $T/NAME.err.
start_relay() {
    local name=$1
    shift
    start_listening "$T/$name.err" -i tcp-listen://127.0.0.1:0 "$@" || return 1
    RELAY_PORT=$PORT
    RELAY_PID=$BG_PID
}

# within T0 T1 MIN MAX: T1 - T0 seconds lies in [MIN, MAX].
within() {
    awk -v a="$1" -v b="$2" -v lo="$3" -v hi="$4" \
        'BEGIN { d = b - a; printf "took %.2f s\n", d > "/dev/stderr"; exit !(d >= lo && d <= hi) }'
}

# wait_pid PID: its exit status, waiting at most 60 s (fails if it is
# still running then).
wait_pid() {
    wait_exit "$1" 60 || return 1
    return "$EXIT_STATUS"
}

@test "a relay: producer -> ringcast -i tcp-listen:// -> 4 receivers, every checksum matches" {
    make_input in 32
    start_receivers 4
    start_relay relay "${DESTS[@]}"
    # The producer is another ringcast pushing to the relay.
    run -0 timeout 60 "$RINGCAST" -q -i "$T/in" "127.0.0.1:$RELAY_PORT"
    wait_pid "$RELAY_PID"
    wait_receivers 30
    check_receivers "$T/in.sha" $((32 << 20))
}

@test "a two-level tree: one ringcast feeds two relays, each feeds 4 receivers" {
    make_input in 32
    start_receivers 8
    start_relay r1 "${DESTS[@]:0:4}"
    local p1=$RELAY_PORT pid1=$RELAY_PID
    start_relay r2 "${DESTS[@]:4:4}"
    local p2=$RELAY_PORT pid2=$RELAY_PID
    run -0 timeout 60 "$RINGCAST" -q -i "$T/in" "127.0.0.1:$p1" "127.0.0.1:$p2"
    wait_pid "$pid1"
    wait_pid "$pid2"
    wait_receivers 30
    check_receivers "$T/in.sha" $((32 << 20))
}

@test "tcp://HOST:PORT reads what a server sends until it closes" {
    make_input in 8
    # The server: ringcast's own serve mode, raw TCP.
    start_listening "$T/srv.err" --serve -l 127.0.0.1:0 "$T/in"
    local port=$PORT
    deliver 3 "$T/in.sha" $((8 << 20)) -i "tcp://127.0.0.1:$port"
}

@test "tcp:// to a refused port, and malformed tcp sources: clear errors, exit 2" {
    run -2 timeout 10 "$RINGCAST" -i tcp://127.0.0.1:9 127.0.0.1:9
    [ "$output" = "ringcast: tcp://127.0.0.1:9: Connection refused" ]
    run -2 timeout 10 "$RINGCAST" -i tcp://nohost 127.0.0.1:9
    [ "$output" = "ringcast: tcp://nohost: missing port (expected tcp://HOST:PORT or tcp://[IPv6]:PORT)" ]
    run -2 timeout 10 "$RINGCAST" -i tcp-listen://127.0.0.1:99999 127.0.0.1:9
    [ "$output" = "ringcast: tcp-listen://127.0.0.1:99999: port out of range (0-65535)" ]
}

@test "--rate 20M on a 100 MiB input takes about 5 s" {
    make_input in 100
    start_receivers 2
    local t0 t1
    t0=$(date +%s.%N)
    run -0 timeout 60 "$RINGCAST" -q --rate 20M -i "$T/in" "${DESTS[@]}"
    t1=$(date +%s.%N)
    wait_receivers 30
    check_receivers "$T/in.sha" $((100 << 20))
    within "$t0" "$t1" 3.5 8
}

@test "--rate applies to a pipe too, and a bad rate is refused" {
    make_input in 8
    start_receivers 1
    local t0 t1
    t0=$(date +%s.%N)
    run -0 timeout 60 bash -c 'cat "$1" | "$2" -q --rate 4M "$3"' _ "$T/in" "$RINGCAST" "${DESTS[0]}"
    t1=$(date +%s.%N)
    wait_receivers 30
    check_receivers "$T/in.sha" $((8 << 20))
    within "$t0" "$t1" 1.4 4
    run -2 timeout 10 "$RINGCAST" --rate fast 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --rate 'fast': not a size (a number with K, M, G or T, like 64M or 1.5G)" ]
}

# start_httpd FILE [httpd.py options]: the test server; sets HTTPD_PORT.
start_httpd() {
    "$PY" "$HELPERS/httpd.py" "$@" > "$T/httpd.out" &
    PIDS+=($!)
    wait_for 30 grep -q '^port ' "$T/httpd.out" || return 1
    HTTPD_PORT=$(sed -n 's/^port //p' "$T/httpd.out")
}

@test "an HTTP URL served by a real server (ringcast --serve --http) fans out to 8 receivers" {
    make_input disk.img 32
    start_listening "$T/srv.err" --serve --http -l 127.0.0.1:0 "$T/disk.img"
    local port=$PORT
    deliver 8 "$T/disk.img.sha" $((32 << 20)) -i "http://127.0.0.1:$port/disk.img"
}

@test "file:// URLs work, and -H sends a request header" {
    make_input in 4
    deliver 2 "$T/in.sha" $((4 << 20)) -i "file://$T/in"
    start_httpd "$T/in" --need "X-Token: yes"
    start_receivers 2
    run -0 timeout 60 "$RINGCAST" -q -H "X-Token: yes" -i "http://127.0.0.1:$HTTPD_PORT/in" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((4 << 20))
}

@test "URL errors: 404, 403, a refused port and an unknown host are reported with curl's reason, exit 2, receivers reset" {
    make_input in 1
    start_listening "$T/srv.err" --serve --http -l 127.0.0.1:0 "$T/in"
    local port=$PORT
    start_receivers 2
    run -2 timeout 30 "$RINGCAST" -i "http://127.0.0.1:$port/nothing" "${DESTS[@]}"
    [ "${lines[0]}" = "ringcast: http://127.0.0.1:$port/nothing: The requested URL returned error: 404" ]
    [ "${lines[1]}" = "ringcast: resetting the 2 destinations not finished, so that none takes a partial stream for a whole one" ]
    wait_receivers 30
    # No receiver took an error page, or anything, for data; each saw a reset.
    [ "$(grep -c ' 0 [0-9a-f]* error:ConnectionResetError$' "$T/results")" -eq 2 ]

    start_httpd "$T/in" --need "X-Token: yes"
    start_receivers 1
    run -2 timeout 30 "$RINGCAST" -i "http://127.0.0.1:$HTTPD_PORT/in" "${DESTS[@]}"
    [ "${lines[0]}" = "ringcast: http://127.0.0.1:$HTTPD_PORT/in: The requested URL returned error: 403" ]
    wait_receivers 30

    start_receivers 1
    run -2 timeout 30 "$RINGCAST" -i "http://127.0.0.1:9/x" "${DESTS[@]}"
    [[ ${lines[0]} == "ringcast: http://127.0.0.1:9/x: Failed to connect to 127.0.0.1 port 9 "* ]]
    wait_receivers 30
    start_receivers 1
    run -2 timeout 30 "$RINGCAST" -i "http://nosuch.invalid/x" "${DESTS[@]}"
    [ "${lines[0]}" = "ringcast: http://nosuch.invalid/x: Could not resolve host: nosuch.invalid" ]
    wait_receivers 30
}

@test "a server that closes mid-body: exit 1, the reason, and every receiver reset" {
    make_input in 8
    start_httpd "$T/in" --cut $((3 << 20))
    start_receivers 3
    run -1 timeout 60 "$RINGCAST" -i "http://127.0.0.1:$HTTPD_PORT/in" "${DESTS[@]}"
    [[ ${lines[0]} == "ringcast: http://127.0.0.1:$HTTPD_PORT/in: transfer closed with "*" bytes remaining to read" ]] ||
        { echo "$output" >&2; false; }
    [[ $output == *"resetting the 3 destinations not finished"* ]]
    wait_receivers 30
    [ "$(grep -c 'error:ConnectionResetError$' "$T/results")" -eq 3 ]
}

@test "serve mode loads a BLOB from a URL" {
    make_input disk.img 4
    start_httpd "$T/disk.img"
    start_listening "$T/srv2.err" --serve -l 127.0.0.1:0 "http://127.0.0.1:$HTTPD_PORT/disk.img"
    local port=$PORT
    run -0 timeout 30 "$PY" "$HELPERS/fetch.py" 127.0.0.1 "$port" --count 2
    [ "$(grep -c "^[0-9] 4194304 $(cat "$T/disk.img.sha") eof$" <<< "$output")" -eq 2 ]
}

@test "https: a certificate the system does not trust is a TLS error with curl's reason, exit 2" {
    command -v openssl > /dev/null || skip "openssl is not installed"
    make_input in 1
    openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
        -keyout "$T/key.pem" -out "$T/cert.pem" 2> /dev/null
    start_httpd "$T/in" --tls "$T/cert.pem" "$T/key.pem"
    start_receivers 1
    run -2 timeout 30 "$RINGCAST" -i "https://localhost:$HTTPD_PORT/in" "${DESTS[@]}"
    [[ ${lines[0]} == "ringcast: https://localhost:$HTTPD_PORT/in: SSL certificate problem: self"?"signed certificate" ]] ||
        { echo "$output" >&2; false; }
    wait_receivers 30
}

@test "a disk source that fails part way (EIO at 5 MiB of 32): the reason, exit 1, every receiver reset" {
    mount_flaky $((32 << 20)) $((5 << 20))
    start_receivers 4
    run -1 timeout 60 "$RINGCAST" -q -i "$T/mnt/flaky" "${DESTS[@]}"
    unmount_flaky
    [ "${lines[0]}" = "ringcast: $T/mnt/flaky: read: Input/output error" ] || { echo "$output" >&2; false; }
    [ "${lines[1]}" = "ringcast: resetting the 4 destinations not finished, so that none takes a partial stream for a whole one" ]
    wait_receivers 30
    [ "$(grep -c 'error:ConnectionResetError$' "$T/results")" -eq 4 ]
    # None was sent a byte the disk did not give: what each got is the file's
    # own first bytes, at most the 5 MiB before the failure.
    local idx port n sha end
    while read -r idx port n sha end; do
        [ "$n" -le $((5 << 20)) ] || { echo "receiver $idx: $n bytes" >&2; false; }
        [ "$sha" = "$("$FLAKYFS" --print "$n" | sha256sum | cut -d' ' -f1)" ] ||
            { echo "receiver $idx: other bytes than the file's first $n" >&2; false; }
    done < "$T/results"
}

@test "a FIFO whose writer is killed part way: the stream ends there, every receiver gets that prefix, exit 0" {
    make_input in 16
    mkfifo "$T/fifo"
    start_receivers 3
    # The writer sends 3 MiB, then dies by SIGKILL while holding the pipe.
    { head -c $((3 << 20)) "$T/in"; kill -KILL $BASHPID; } > "$T/fifo" &
    PIDS+=($!)
    run -0 timeout 60 "$RINGCAST" -q -i "$T/fifo" "${DESTS[@]}"
    wait_receivers 30
    head -c $((3 << 20)) "$T/in" | sha256sum | cut -d' ' -f1 > "$T/prefix.sha"
    check_receivers "$T/prefix.sha" $((3 << 20))
}
