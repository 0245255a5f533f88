# Shared by the bats files: temp dirs, receivers and sinks, held ports, and
# bounded waits (wait_for, wait_file, wait_line, wait_exit, wait_status).
# Every process a test starts is recorded and killed by PID in teardown.
#
# No test assumes that something has happened after a sleep, since on a
# busy machine anything may take longer: a test waits for the event itself
# (a port file, a line on stderr, a line a helper prints when it has
# connected or received so many bytes), and every wait has a bound, so a
# test that goes wrong fails with a message instead of hanging.

RINGCAST=${RINGCAST:-$BATS_TEST_DIRNAME/../build/ringcast}
HELPERS=$BATS_TEST_DIRNAME/helpers
FLAKYFS=${FLAKYFS:-$BATS_TEST_DIRNAME/../build/flakyfs}
# The helpers run on the system's interpreter, never on the PATH's python3:
# that may be a version manager's shim (pyenv's takes 0.5-2 s to start on a
# busy machine), while Debian's /usr/bin/python3 takes a twentieth of that.
PY=/usr/bin/python3

# curl never waits without bound: every transfer in the tests is local.
curl() { command curl --max-time 30 "$@"; }

common_setup() {
    bats_require_minimum_version 1.5.0
    T=$(mktemp -d "${TMPDIR:-/tmp}/ringcast-test.XXXXXX")
    PIDS=()
}

# Everything the test started, by PID: SIGTERM, and SIGKILL for what is
# still there 5 s later (ringcast may be draining for --grace).
common_teardown() {
    local p
    ! mountpoint -q "$T/mnt" 2>/dev/null || umount -l "$T/mnt"
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        wait_for 5 not_running "$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$T"
}

# wait_for SECONDS CMD...: run CMD every 0.05 s until it succeeds, for at
# most SECONDS (and as many tries); fails saying so if it never does.
wait_for() {
    local secs=$1 i deadline
    shift
    deadline=$((${EPOCHREALTIME/./} + secs * 1000000))
    for ((i = 0; i <= secs * 20; i++)); do
        "$@" && return 0
        ((${EPOCHREALTIME/./} < deadline)) || break
        sleep 0.05
    done
    echo "not true within ${secs}s: $*" >&2
    return 1
}

# not_running PID: that process has exited.
not_running() {
    ! kill -0 "$1" 2>/dev/null
}

# wait_file FILE [SECONDS]: wait (30 s at most, or SECONDS) until FILE
# exists and is not empty, as a port file is once its writer renamed it.
wait_file() {
    wait_for "${2:-30}" test -s "$1"
}

# wait_line PATTERN FILE [SECONDS]: wait (30 s at most, or SECONDS) until a
# line of FILE matches PATTERN (grep's basic regex).
wait_line() {
    wait_for "${3:-30}" grep -q -- "$1" "$2"
}

# wait_size FILE BYTES: wait (60 s at most) until FILE has grown past
# BYTES, a point in a stream rather than a moment in time.
wait_size() {
    wait_for 60 bash -c '[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -gt "$2" ]' _ "$1" "$2"
}

# wait_exit PID [SECONDS]: wait (bounded) for a background process to exit;
# its exit status goes to EXIT_STATUS.  Fails if it is still running.
wait_exit() {
    if ! wait_for "${2:-30}" not_running "$1" 2>/dev/null; then
        echo "process $1 still running after ${2:-30}s" >&2
        return 1
    fi
    EXIT_STATUS=0
    wait "$1" || EXIT_STATUS=$?
}

# wait_status PID [SECONDS]: wait_exit, returning the process's exit status
# (1 if it is still running), for "wait_status $pid" to fail unless it
# exited 0.
wait_status() {
    wait_exit "$1" "${2:-30}" || return 1
    return "$EXIT_STATUS"
}

# json FILE EXPR: the value of a Python expression over the JSON document
# in FILE, parsed as j: json "$T/st.json" 'j["sends"]["bytes"]'.
json() {
    "$PY" "$HELPERS/json_get.py" "$1" "$2"
}

# need_ipv6: skip the test unless ::1 can be bound here.
need_ipv6() {
    "$PY" "$HELPERS/has_ipv6.py" 2>/dev/null || skip "no IPv6 loopback here"
}

# flip FILE [OFFSET]: invert the byte at OFFSET of FILE (default: the middle).
flip() {
    "$PY" "$HELPERS/flip.py" "$@"
}

# has_lines N PATTERN FILE: FILE has at least N lines matching PATTERN (grep -E).
has_lines() {
    [ "$(grep -Ec -- "$2" "$3" 2>/dev/null)" -ge "$1" ]
}

# make_input NAME MiB: random data in $T/NAME; its SHA-256 in $T/NAME.sha.
make_input() {
    head -c "$(($2 << 20))" /dev/urandom > "$T/$1"
    sha256sum < "$T/$1" | cut -d' ' -f1 > "$T/$1.sha"
}

# start_receivers N [recv.py options...]: listeners in the background; sets
# PORTS (array), DESTS (array of 127.0.0.1:PORT, or [::1]:PORT) and RECV_PID.
# With RECV_NETNS set they run in that network namespace.  Their events
# ("recv.py: I connected", "I ended ...", "I got ..." with --mark) are in
# $T/recv.err.
start_receivers() {
    local n=$1 host=127.0.0.1 i
    shift
    local args=("$@")
    for ((i = 0; i < ${#args[@]}; i++)); do
        [ "${args[i]}" = --host ] && host=${args[i + 1]}
    done
    rm -f "$T/ports" "$T/results" "$T/recv.err"
    ${RECV_NETNS:+ip netns exec "$RECV_NETNS"} "$PY" "$HELPERS/recv.py" --count "$n" --portfile "$T/ports" --out "$T/results" \
        --events "$@" 2> "$T/recv.err" &
    RECV_PID=$!
    PIDS+=("$RECV_PID")
    wait_file "$T/ports" || { echo "receivers did not start" >&2; cat "$T/recv.err" >&2; return 1; }
    mapfile -t PORTS < "$T/ports"
    DESTS=()
    for i in "${PORTS[@]}"; do
        case $host in *:*) DESTS+=("[$host]:$i") ;; *) DESTS+=("$host:$i") ;; esac
    done
}

# wait_receivers [SECONDS]: wait for the receiver process to finish; fails
# unless it exits 0.
wait_receivers() {
    wait_status "$RECV_PID" "${1:-30}"
}

# check_receivers SHAFILE BYTES [FIRST [COUNT]]: receivers FIRST..FIRST+COUNT-1
# (default all) got exactly BYTES bytes with that SHA-256 and a clean end.
check_receivers() {
    local want bytes=$2 first=${3:-0} count=${4:-0} idx port n sha end bad=0
    want=$(cat "$1")
    [ -s "$T/results" ] || { echo "no receiver results" >&2; return 1; }
    while read -r idx port n sha end; do
        [ "$idx" -lt "$first" ] && continue
        [ "$count" -gt 0 ] && [ "$idx" -ge $((first + count)) ] && continue
        if [ "$sha" != "$want" ] || [ "$n" != "$bytes" ] || [ "$end" != eof ]; then
            echo "receiver $idx (port $port): $n bytes, sha $sha, end $end; want $bytes, $want" >&2
            bad=1
        fi
    done < "$T/results"
    return $bad
}

# check_reset SHAFILE BYTES: every receiver got exactly BYTES bytes with
# that SHA-256 and then a reset, not a clean end.
check_reset() {
    local want idx port n sha end bad=0
    want=$(cat "$1")
    [ -s "$T/results" ] || { echo "no receiver results" >&2; return 1; }
    while read -r idx port n sha end; do
        if [ "$sha" != "$want" ] || [ "$n" != "$2" ] || [ "$end" != error:ConnectionResetError ]; then
            echo "receiver $idx (port $port): $n bytes, sha $sha, end $end; want $2, $want, a reset" >&2
            bad=1
        fi
    done < "$T/results"
    return $bad
}

# deliver N SHAFILE BYTES ARGS...: ringcast -q ARGS to N fresh receivers,
# exit status 0; every receiver must get exactly BYTES bytes with that SHA-256.
deliver() {
    local n=$1 sha=$2 bytes=$3
    shift 3
    start_receivers "$n"
    run -0 timeout 60 "$RINGCAST" -q "$@" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$sha" "$bytes"
}

# transports: the transports --version lists, then auto.  copy is always
# there; an empty list would make the loops that use this test nothing.
transports() {
    local list
    list=$("$RINGCAST" --version | sed -n 's/^transports: //p')
    [[ " $list " == *" copy "* ]] || { echo "no transports in --version: '$list'" >&2; return 1; }
    echo "$list auto"
}

# start_listening ERRFILE ARGS...: ringcast ARGS in the background, stderr in
# ERRFILE; waits (30 s at most: it may run under valgrind) for its first
# "listening on ADDRESS for WHAT" line (127.0.0.1, [::] or 0.0.0.0) and
# sets PORT from it and BG_PID.
start_listening() {
    local err=$1
    shift
    PORT=""
    # Emptied here, not only by the background redirection, which may come
    # after the first look: a file left by an earlier run (a loop in a
    # test) must not be read as this run's.
    : > "$err"
    "$RINGCAST" "$@" 2> "$err" &
    BG_PID=$!
    PIDS+=("$BG_PID")
    wait_for 30 listening_or_gone "$err" "$BG_PID" 2>/dev/null
    [ -n "$PORT" ] && return 0
    echo "no listening address in $err:" >&2
    cat "$err" >&2
    return 1
}

# listening_or_gone ERRFILE PID: ERRFILE has a listening address (then in
# PORT), or PID has exited and never will.
listening_or_gone() {
    PORT=$(sed -n 's/^ringcast: listening on \(127\.0\.0\.1\|\[::\]\|0\.0\.0\.0\):\([0-9]*\) for [a-zA-Z ]*$/\2/p' "$1" | head -1)
    [ -n "$PORT" ] || not_running "$2"
}

# seconds_since T0: elapsed seconds (with decimals) since T0=$(date +%s.%N).
seconds_since() {
    awk -v t0="$1" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.3f\n", t1 - t0 }'
}

# holds EXPR: an awk condition on numbers, like holds "$t < 2 * $t0".
holds() {
    awk "BEGIN { exit !($1) }" || { echo "does not hold: $1" >&2; return 1; }
}

# mount_flaky SIZE GOOD: a FUSE file $T/mnt/flaky of SIZE bytes whose reads
# fail with EIO from byte GOOD on (tests/helpers/flakyfs.c); FLAKY_PID.
mount_flaky() {
    mkdir "$T/mnt"
    "$FLAKYFS" "$T/mnt" "$1" "$2" 2> "$T/flakyfs.err" &
    FLAKY_PID=$!
    PIDS+=("$FLAKY_PID")
    wait_for 30 test -e "$T/mnt/flaky" || { cat "$T/flakyfs.err" >&2; return 1; }
}

unmount_flaky() {
    umount "$T/mnt" 2>/dev/null || umount -l "$T/mnt"
    wait_exit "$FLAKY_PID" 10
}

# second_sigterm ARGS...: ringcast ARGS sends 32 MiB to 2 receivers that
# never read, with --grace 60s; once both are connected, SIGTERM, and once it
# says it is draining, SIGTERM again.  It must exit 1 within 3 s of the
# second, name both receivers as interrupted and reset both.  Its stderr is
# left in $T/err.
second_sigterm() {
    make_input in 32
    start_receivers 2 --stall 2
    "$RINGCAST" "$@" -i "$T/in" --stall-timeout 0 --grace 60s "${DESTS[@]}" 2> "$T/err" &
    local pid=$! t0
    PIDS+=("$pid")
    wait_for 30 has_lines 2 "^recv.py: [01] connected$" "$T/recv.err"
    kill -TERM "$pid"
    wait_line "draining for up to 60.0 s" "$T/err"
    t0=$(date +%s.%N)
    kill -TERM "$pid"
    wait_exit "$pid" 10
    holds "$(seconds_since "$t0") < 3"
    [ "$EXIT_STATUS" -eq 1 ]
    grep -q "^ringcast: ${DESTS[0]}: interrupted (after " "$T/err"
    grep -q "^ringcast: ${DESTS[1]}: interrupted (after " "$T/err"
    wait_receivers 10
    [ "$(grep -c "stalled-reset$" "$T/results")" -eq 2 ]
}

# hold_port NAME [--silent | --full]: a port on 127.0.0.1 held by a helper
# (helpers/holdport.py) until the test ends, so that no other process on
# this busy machine can take it meanwhile; sets HELD_PORT.  Without an
# option it is bound and never listening, so that connections are refused;
# --silent accepts one connection and never answers (creating
# $T/NAME.accepted once it has); --full has its backlog full, so that SYNs
# are dropped and a connection is never made.
hold_port() {
    rm -f "$T/$1" "$T/$1.accepted"
    "$PY" "$HELPERS/holdport.py" "$T/$1" "${@:2}" &
    PIDS+=("$!")
    wait_file "$T/$1" || return 1
    HELD_PORT=$(cat "$T/$1")
}

# refused_port: sets REFUSED_PORT, a port on 127.0.0.1 that refuses
# connections until the test ends (hold_port).
refused_port() {
    hold_port refused || return 1
    REFUSED_PORT=$HELD_PORT
}

# start_sink N BYTES FILE [SECONDS]: helpers/sink.py for N connections on one
# port, each to carry BYTES bytes with FILE's CRC-32 (FILE may be /dev/null
# with BYTES 0), for at most SECONDS (default 120); sets SINK_PID and
# SINK_PORT; its summary goes to $T/sink.out.
start_sink() {
    local crc
    crc=$("$PY" "$HELPERS/crc32.py" "$3")
    rm -f "$T/sport"
    "$PY" "$HELPERS/sink.py" --count "$1" --bytes "$2" --crc "$crc" --portfile "$T/sport" \
        --timeout "${4:-120}" > "$T/sink.out" &
    SINK_PID=$!
    PIDS+=("$SINK_PID")
    wait_file "$T/sport" || return 1
    SINK_PORT=$(cat "$T/sport")
}

# asked_status PID PATTERN FILE: SIGUSR1 to ringcast PID, and its stderr FILE
# has a status line matching PATTERN; for wait_for, which repeats it until
# the stream has come that far.
asked_status() {
    kill -USR1 "$1" && grep -q -- "$2" "$3"
}

# gated_source NAME BYTES: a FIFO, $T/NAME.fifo, that carries the first BYTES
# of $T/NAME and the rest only after open_gate, so that a test can do
# something at a known point of the stream (while it is held there) rather
# than at a guessed moment.  Without open_gate within 60 s the pipe closes
# early and the stream comes out short, failing the test.
gated_source() {
    rm -f "$T/$1.fifo" "$T/gate"
    mkfifo "$T/$1.fifo"
    {
        head -c "$2" "$T/$1"
        wait_for 60 test -e "$T/gate" && tail -c +"$(($2 + 1))" "$T/$1"
    } > "$T/$1.fifo" &
    PIDS+=("$!")
}

open_gate() { : > "$T/gate"; }

# status_when_marked N PID ERRFILE: once each of N receivers started with
# --mark 1M has 1 MiB, SIGUSR1 to ringcast PID, and wait for its status
# line in ERRFILE.
status_when_marked() {
    wait_for 30 has_lines "$1" "^recv.py: [0-$(($1 - 1))] got $((1 << 20))$" "$T/recv.err"
    kill -USR1 "$2"
    wait_line "^ringcast: status: " "$3"
}

# cpu_hog: a busy process beside the test (killed in teardown), so that
# ringcast and the receivers compete for the CPUs as on a loaded machine.
cpu_hog() {
    yes > /dev/null &
    PIDS+=($!)
}

# A byte count as messages print it (fmt_bytes): "512 B", "524.3 KiB"; for
# [[ =~ ]], unquoted.
SIZE_RE='([0-9]+ B|[0-9]+\.[0-9] [KMGTPE]iB)'

# drop_msg SIZE: how --slow drop reports a destination it drops, before its
# "(after ...)"; SIZE is --max-lag as printed, like "4.0 MiB".
drop_msg() {
    echo "dropped: held the others back for 1.0 s, $1 or more behind the stream's head (--slow drop, --max-lag)"
}

# The three runs below read the file into the ring (--file-pages off): a
# file sent from its own pages has no ring for a slow destination to hold.

# staller_runs RUNS ARGS...: issue 15's case, RUNS times beside a CPU hog:
# ringcast ARGS --slow drop --ring-size 8M --max-lag 4M sends 32 MiB to 8
# receivers that read as fast as they can and one that never reads (first
# in the list on even runs, last on odd ones: at -j 2, in either thread's
# share).  Every run: exit 1; the one that never reads, and only it, is
# dropped with the --slow drop message and reset; the 8 get the whole file.
staller_runs() {
    local runs=$1 r dests
    shift
    make_input in 32
    cpu_hog
    for ((r = 0; r < runs; r++)); do
        start_receivers 9 --stall 1
        if ((r % 2)); then dests=("${DESTS[@]:1}" "${DESTS[0]}"); else dests=("${DESTS[@]}"); fi
        run -1 --separate-stderr timeout 60 "$RINGCAST" "$@" --file-pages off -i "$T/in" --slow drop \
            --ring-size 8M --max-lag 4M "${dests[@]}"
        wait_receivers 30
        [[ ${stderr_lines[0]} =~ ^"ringcast: ${DESTS[0]}: $(drop_msg "4.0 MiB") (after "$SIZE_RE")"$ ]] &&
            [ "${stderr_lines[1]}" = "ringcast: 1 of 9 destinations did not receive the whole stream" ] &&
            [ "$(grep -c ": dropped: " <<< "$stderr")" -eq 1 ] || { echo "run $r: $stderr" >&2; false; }
        check_receivers "$T/in.sha" $((32 << 20)) 1 8 || { echo "run $r" >&2; false; }
        grep -q "^0 [0-9]* [0-9]* [0-9a-f]* stalled-reset$" "$T/results"
    done
}

# keep_pace_runs ARGS...: beside a CPU hog, ringcast ARGS --slow drop
# --max-lag 256K sends 128 MiB to 8 receivers that read as fast as they can,
# on a 1 MiB and on a 4 MiB ring, twice each.  --max-lag is far below what
# one socket takes into kernel buffers at once, so their positions jump by
# more than it, and each run lasts several times the drop's grace period;
# yet they keep pace, so none may be dropped: exit 0, every checksum matches.
keep_pace_runs() {
    local ring r
    make_input in 128
    cpu_hog
    for ring in 1M 4M 1M 4M; do
        start_receivers 8
        run --separate-stderr timeout 120 "$RINGCAST" "$@" --file-pages off -i "$T/in" --slow drop \
            --ring-size "$ring" --max-lag 256K "${DESTS[@]}"
        [ "$status" -eq 0 ] || { echo "--ring-size $ring: exit $status: $stderr" >&2; false; }
        wait_receivers 30
        check_receivers "$T/in.sha" $((128 << 20)) || { echo "--ring-size $ring" >&2; false; }
    done
}

# slow_runs RUNS ARGS...: RUNS times beside a CPU hog, ringcast ARGS --slow
# drop --ring-size 4M --max-lag 1M sends 32 MiB to one receiver that reads
# 1 MiB/s and 8 that read as fast as they can.  The slow one holds the
# others back (it crosses the ring in 4 s), so it is dropped with the --slow
# drop message (exit 1); the 8 get the whole file.
slow_runs() {
    local runs=$1 r
    shift
    make_input in 32
    cpu_hog
    for ((r = 0; r < runs; r++)); do
        start_receivers 9 --slow 1 --slow-rate $((1 << 20))
        run -1 --separate-stderr timeout 60 "$RINGCAST" "$@" --file-pages off -i "$T/in" --slow drop \
            --ring-size 4M --max-lag 1M "${DESTS[@]}"
        wait_receivers 30
        [[ ${stderr_lines[0]} =~ ^"ringcast: ${DESTS[0]}: $(drop_msg "1.0 MiB") (after "$SIZE_RE")"$ ]] &&
            [ "${stderr_lines[1]}" = "ringcast: 1 of 9 destinations did not receive the whole stream" ] ||
            { echo "run $r: $stderr" >&2; false; }
        check_receivers "$T/in.sha" $((32 << 20)) 1 8 || { echo "run $r" >&2; false; }
        grep -q "^0 [0-9]* [0-9]* [0-9a-f]* error:ConnectionResetError$" "$T/results"
    done
}
