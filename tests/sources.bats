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


@test "a relay: producer -> ringcast -i tcp-listen:// -> 4 receivers, every checksum matches" {
    make_input in 32
    start_receivers 4
    start_relay relay "${DESTS[@]}"
    # The producer is another ringcast pushing to the relay.
    run -0 timeout 60 "$RINGCAST" -q -i "$T/in" "127.0.0.1:$RELAY_PORT"
    wait_status "$RELAY_PID" 60
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
    wait_status "$pid1" 60
    wait_status "$pid2" 60
    wait_receivers 30
    check_receivers "$T/in.sha" $((32 << 20))
}

@test "a relay with subscribers: its two listening lines say which is for the source; schemes in any case" {
    make_input in 4
    start_listening "$T/relay.err" -i Tcp-Listen://127.0.0.1:0 -l 127.0.0.1:0
    local src=$PORT relay=$BG_PID sub
    grep -qx "ringcast: listening on 127.0.0.1:$src for the source" "$T/relay.err"
    "$RINGCAST" -q -i "$T/in" "TCP://127.0.0.1:$src" &
    local producer=$!
    PIDS+=($producer)
    wait_line " for subscribers$" "$T/relay.err"
    sub=$(sed -n 's/^ringcast: listening on 127\.0\.0\.1:\([0-9]*\) for subscribers$/\1/p' "$T/relay.err")
    [ -n "$sub" ] && [ "$sub" != "$src" ]
    run -0 timeout 60 "$PY" "$HELPERS/fetch.py" 127.0.0.1 "$sub" --timeout 60
    [ "${lines[0]}" = "0 $((4 << 20)) $(cat "$T/in.sha") eof" ] || { echo "$output" >&2; cat "$T/relay.err" >&2; false; }
    wait_status "$producer" 60
    wait_status "$relay" 60
    # libcurl's schemes in any case too.
    start_listening "$T/srv.err" --serve --http -l 127.0.0.1:0 "$T/in"
    deliver 1 "$T/in.sha" $((4 << 20)) -i "HTTP://127.0.0.1:$PORT/in"
}

@test "-4 and -6 apply to tcp-listen://, tcp:// and URL sources: tcp-listen://:PORT -4 binds IPv4 only" {
    need_ipv6
    make_input in 1
    start_receivers 1
    start_listening "$T/r4.err" -4 -i tcp-listen://:0 "${DESTS[0]}"
    local relay=$BG_PID
    grep -qx "ringcast: listening on 0.0.0.0:$PORT for the source" "$T/r4.err"
    # Not over IPv6: refused there.
    run -1 timeout 10 "$RINGCAST" -q -6 -i "$T/in" "[::1]:$PORT"
    [ "${lines[0]}" = "ringcast: [::1]:$PORT: connect: Connection refused" ]
    run -0 timeout 30 "$RINGCAST" -q -4 -i "$T/in" "127.0.0.1:$PORT"
    wait_status "$relay" 60
    wait_receivers 30
    check_receivers "$T/in.sha" $((1 << 20))
    # -6 to a tcp:// source on an IPv4 address: refused with the reason.
    run -2 timeout 10 "$RINGCAST" -6 -i "tcp://127.0.0.1:$PORT" '[::1]:9'
    [ "$output" = "ringcast: tcp://127.0.0.1:$PORT: not an IPv6 address, and -6 is given" ]
    # And to URLs, through libcurl: refused before any DEST is connected (at
    # once: curl fails in its timer callback, which must end the wait).
    start_listening "$T/srv.err" --serve --http -l 127.0.0.1:0 "$T/in"
    run -2 timeout 10 "$RINGCAST" -6 -i "http://127.0.0.1:$PORT/in" '[::1]:9'
    [[ $output == "ringcast: http://127.0.0.1:$PORT/in: "*"Couldn't connect to server" ]]
    deliver 1 "$T/in.sha" $((1 << 20)) -4 -i "http://127.0.0.1:$PORT/in"
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
    [ "${lines[0]}" = "ringcast: --rate 'fast': not a size (a number of bytes, optionally with K, M, G or T for powers of 1024: 4096, 64M, 1.5G)" ]
}

# start_httpd FILE [httpd.py options]: the test server; sets HTTPD_PORT.
start_httpd() {
    rm -f "$T/httpd.out" # a previous server's port must not be read as this one's
    "$PY" "$HELPERS/httpd.py" "$@" > "$T/httpd.out" &
    PIDS+=($!)
    wait_line '^port ' "$T/httpd.out" || return 1
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

# never_connected: nothing ever connected to the receivers of
# start_receivers.  Each takes one connection, the first in its queue (a
# connection closed or reset before it was accepted is still there, and
# reads as ended), so if a probe's five bytes are what every one of them got,
# the probe was the first to connect to each.
never_connected() {
    local p want
    want=$(printf probe | sha256sum | cut -d' ' -f1)
    for p in "${PORTS[@]}"; do
        printf probe > "/dev/tcp/127.0.0.1/$p"
    done
    wait_receivers 30
    [ "$(grep -c " 5 $want eof$" "$T/results")" -eq "${#PORTS[@]}" ] || { cat "$T/results" >&2; false; }
}

# refused_early SOURCE PATTERN [ARGS...]: ringcast -i SOURCE ARGS, with 2
# receivers and -l for subscribers, is refused at start-up: exit 2, one line
# of output that matches "ringcast: SOURCE: PATTERN" (no "listening on": -l
# never opened, no reset), and neither receiver was ever connected.
refused_early() {
    local src=$1 pattern=$2
    shift 2
    start_receivers 2
    run -2 timeout 60 "$RINGCAST" -i "$src" "$@" -l 127.0.0.1:0 "${DESTS[@]}"
    [ "${#lines[@]}" -eq 1 ] && [[ ${lines[0]} == "ringcast: $src: "$pattern ]] || { echo "$output" >&2; false; }
    never_connected
}

@test "a URL that cannot be fetched is refused before any connection, like a missing file: 404 (also under -z, --extract), 500, 403, a redirect to a 404, a refused port, an unknown host" {
    make_input in 1
    # The yardstick: a missing file.
    refused_early "$T/nonexistent" "No such file or directory"
    start_listening "$T/srv.err" --serve --http -l 127.0.0.1:0 "$T/in"
    local port=$PORT
    refused_early "http://127.0.0.1:$port/nothing" "404 Not Found"
    # Under -z and --extract too: the archive's reader opens the URL first.
    refused_early "http://127.0.0.1:$port/nothing" "404 Not Found" -z
    refused_early "http://127.0.0.1:$port/nothing" "404 Not Found" --extract disk.img
    start_httpd "$T/in" --status "500 Internal Server Error"
    refused_early "http://127.0.0.1:$HTTPD_PORT/in" "500 Internal Server Error"
    start_httpd "$T/in" --need "X-Token: yes"
    refused_early "http://127.0.0.1:$HTTPD_PORT/in" "403 Forbidden"
    # The message names the URL given, the reason is the last response's.
    start_httpd "$T/in" --redirect "http://127.0.0.1:$port/nothing"
    refused_early "http://127.0.0.1:$HTTPD_PORT/moved" "404 Not Found"
    refused_port
    refused_early "http://127.0.0.1:$REFUSED_PORT/x" \
        "Failed to connect to 127.0.0.1 port $REFUSED_PORT after "*" ms: Couldn't connect to server"
    refused_early "http://nosuch.invalid/x" "Could not resolve host: nosuch.invalid"
}

@test "a malformed URL is refused at once with curl's reason, exit 2, in push and serve mode (it used to hang)" {
    local u why="URL using bad/illegal format or missing URL"
    for u in http://127.0.0.1:99999/x http://127.0.0.1:abc/x 'http://127.0.0.1:18081/x y' 'http://[::1/x'; do
        refused_early "$u" "$why"
        run -2 timeout 30 "$RINGCAST" --serve --http -l 0 "$u"
        [ "$output" = "ringcast: $u: $why" ] || { echo "$output" >&2; false; }
    done
    # A control byte: refused too, and shown escaped.
    run -2 timeout 30 "$RINGCAST" -i $'http://127.0.0.1:9/a\x01b' 127.0.0.1:9
    [ "$output" = "ringcast: http://127.0.0.1:9/a\\x01b: $why" ]
}

@test "a URL whose server never takes the connection: curl's 30 s connect timeout ends it with its reason, exit 2 (it used to hang)" {
    # A listener whose accept queue is full: the kernel drops every further SYN.
    hold_port fullq --full
    local u="http://127.0.0.1:$HELD_PORT/x"
    run -2 timeout 60 "$RINGCAST" -i "$u" 127.0.0.1:9
    [[ $output == "ringcast: $u: Failed to connect to 127.0.0.1 port "*" after "*" ms: Timeout was reached" ]] ||
        { echo "$output" >&2; false; }
}

@test "a URL whose final response is not 2xx is refused before any connection: 301 without Location, 300, 304" {
    make_input in 1
    start_httpd "$T/in" --status "301 Moved Permanently"
    refused_early "http://127.0.0.1:$HTTPD_PORT/in" \
        "301 Moved Permanently (no Location to follow; only a 2xx response is streamed)"
    start_httpd "$T/in" --status "300 Multiple Choices"
    refused_early "http://127.0.0.1:$HTTPD_PORT/in" \
        "300 Multiple Choices (no Location to follow; only a 2xx response is streamed)"
    start_httpd "$T/in" --status "304 Not Modified"
    refused_early "http://127.0.0.1:$HTTPD_PORT/in" "304 Not Modified (only a 2xx response is streamed)"
    run -2 timeout 30 "$RINGCAST" --serve --http -l 127.0.0.1:0 "http://127.0.0.1:$HTTPD_PORT/in"
    [ "$output" = "ringcast: http://127.0.0.1:$HTTPD_PORT/in: 304 Not Modified (only a 2xx response is streamed)" ]
}

@test "a server's reason phrase reaches stderr with its control bytes escaped" {
    make_input in 1
    start_httpd "$T/in" --status $'404 \e]0;PWNED\a\e[31mred'
    run -2 timeout 30 "$RINGCAST" -i "http://127.0.0.1:$HTTPD_PORT/in" 127.0.0.1:9
    [ "$output" = "ringcast: http://127.0.0.1:$HTTPD_PORT/in: 404 \\x1b]0;PWNED\\x07\\x1b[31mred" ]
}

@test "a good URL: the bytes that come with the response head are neither lost nor doubled, and its size is known" {
    # Head and body in one write: empty, 1000 bytes, 4 MiB.
    : > "$T/empty"
    head -c 1000 /dev/urandom > "$T/small"
    make_input big 4
    local f
    for f in empty small big; do
        sha256sum < "$T/$f" | cut -d' ' -f1 > "$T/$f.sha"
        start_httpd "$T/$f" --one-write
        deliver 2 "$T/$f.sha" "$(stat -c %s "$T/$f")" -i "http://127.0.0.1:$HTTPD_PORT/$f"
    done
    # 32 MiB through a 1 MiB ring: curl's pause and resume, many times over.
    make_input in 32
    start_httpd "$T/in"
    deliver 3 "$T/in.sha" $((32 << 20)) --ring-size 1M --stats "$T/st.json" \
        -i "http://127.0.0.1:$HTTPD_PORT/in"
    grep -q '"source": {"name": "http://127.0.0.1:'"$HTTPD_PORT"'/in", "bytes": 33554432, "size": 33554432,' "$T/st.json" ||
        { cat "$T/st.json" >&2; false; }
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

@test "https: a certificate the system does not trust is a TLS error with curl's reason, refused before any connection, exit 2" {
    command -v openssl > /dev/null || skip "openssl is not installed"
    make_input in 1
    openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
        -keyout "$T/key.pem" -out "$T/cert.pem" 2> /dev/null
    start_httpd "$T/in" --tls "$T/cert.pem" "$T/key.pem"
    refused_early "https://localhost:$HTTPD_PORT/in" "SSL certificate problem: self"?"signed certificate"
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
