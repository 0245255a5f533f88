#!/usr/bin/env bats
# The ring and RLIMIT_MEMLOCK for an unprivileged user (8 MiB here):
# --mlock on refuses clearly, --mlock auto warns once and delivers.

load helpers/common

setup() {
    common_setup
    [ "$(id -u)" -eq 0 ] || skip "needs root to run ringcast as an unprivileged user"
    command -v setpriv > /dev/null || skip "setpriv (util-linux) is not installed"
    [ "${RINGCAST_SANITIZED:-}" != 1 ] || skip "ASan replaces mlock(2) with a no-op"
    chmod 755 "$T"
    # The binary must be reachable by nobody too.
    setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$RINGCAST" ||
        skip "$RINGCAST is not executable by nobody"
}
teardown() { common_teardown; }

# Run as nobody with the 8 MiB memlock limit an ordinary login gets here.
AS_NOBODY=(prlimit --memlock=8388608:8388608
    setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all)

@test "--mlock on with a ring above RLIMIT_MEMLOCK fails with a clear error, exit 2" {
    make_input in 1
    chmod 644 "$T/in"
    run -2 timeout 20 "${AS_NOBODY[@]}" "$RINGCAST" --mlock on --file-pages off --ring-size 16M -i "$T/in" 127.0.0.1:9
    [ "$output" = "ringcast: --mlock on: cannot lock the 16.0 MiB ring in memory: Cannot allocate memory (RLIMIT_MEMLOCK is 8.0 MiB; raise it with ulimit -l, run with CAP_IPC_LOCK, or use --mlock auto)" ]
}

@test "--mlock auto with a ring above RLIMIT_MEMLOCK warns once and delivers" {
    make_input in 32
    chmod 644 "$T/in"
    start_receivers 4
    run -0 --separate-stderr timeout 60 "${AS_NOBODY[@]}" "$RINGCAST" --file-pages off --ring-size 16M -i "$T/in" "${DESTS[@]}"
    [ "$stderr" = "ringcast: cannot lock the 16.0 MiB ring in memory: Cannot allocate memory (RLIMIT_MEMLOCK is 8.0 MiB); running unlocked" ]
    wait_receivers 30
    check_receivers "$T/in.sha" $((32 << 20))
}

@test "--mlock on within the limit locks and delivers" {
    make_input in 8
    chmod 644 "$T/in"
    start_receivers 2
    run -0 --separate-stderr timeout 60 "${AS_NOBODY[@]}" "$RINGCAST" -v --mlock on --file-pages off --ring-size 4M -i "$T/in" "${DESTS[@]}"
    [[ $stderr == *"ringcast: ring: 4.0 MiB of anonymous memory, locked in memory"* ]]
    wait_receivers 30
    check_receivers "$T/in.sha" $((8 << 20))
}

@test "-v with --mlock off says the ring is not locked, and why" {
    make_input in 1
    start_receivers 1
    run -0 --separate-stderr timeout 60 "$RINGCAST" -v --mlock off --file-pages off --ring-size 4M -i "$T/in" "${DESTS[@]}"
    # (the size as the byte formatter writes it)
    [[ $stderr =~ "ringcast: ring: "[0-9.]+" MiB of anonymous memory, not locked (--mlock off)"$'\n' ]] || { echo "$stderr" >&2; false; }
    wait_receivers 30
    check_receivers "$T/in.sha" $((1 << 20))
}

@test "msgzc as nobody under an 8 MiB RLIMIT_MEMLOCK: ENOBUFS falls back to copying, all delivered" {
    "$RINGCAST" --version | grep -q '^transports:.* msgzc' || skip "MSG_ZEROCOPY not available"
    make_input in 32
    chmod 644 "$T/in"
    start_receivers 8 --slow 2 --slow-rate $((16 << 20))
    run -0 --separate-stderr timeout 60 "${AS_NOBODY[@]}" "$RINGCAST" -v --transport msgzc \
        --ring-size 16M -i "$T/in" "${DESTS[@]}"
    # Pinned pages count against the limit: some sends must have been refused and copied.
    local fallback
    fallback=$(sed -nE 's/.* ([0-9]+) sends? copied after ENOBUFS.*/\1/p' <<< "$stderr")
    [ "${fallback:-0}" -gt 0 ] || { echo "$stderr" >&2; false; }
    [[ $stderr != *"bug:"* ]]
    wait_receivers 30
    check_receivers "$T/in.sha" $((32 << 20))
}

@test "uring as nobody with a ring above RLIMIT_MEMLOCK: a clear error naming the limit, exit 2" {
    "$RINGCAST" --version | grep -q '^transports:.* uring' || skip "io_uring SEND_ZC not available"
    make_input in 1
    chmod 644 "$T/in"
    run -2 --separate-stderr timeout 20 "${AS_NOBODY[@]}" "$RINGCAST" --transport uring \
        --ring-size 16M -i "$T/in" 127.0.0.1:9
    [ "${stderr_lines[1]}" = "ringcast: --transport uring: cannot register the ring as io_uring buffers: Cannot allocate memory (RLIMIT_MEMLOCK is 8.0 MiB; raise it with ulimit -l, or use --transport auto)" ]
}

@test "auto as nobody with a ring above RLIMIT_MEMLOCK: skips uring, says why, delivers" {
    make_input in 32
    chmod 644 "$T/in"
    start_receivers 8 --slow 2 --slow-rate $((16 << 20))
    # --file-pages off: auto's ranking for a ring (a file to 8 destinations
    # would otherwise go from a memfd ring by sendfile, which registers nothing).
    run -0 --separate-stderr timeout 60 "${AS_NOBODY[@]}" "$RINGCAST" -v --ring-size 16M \
        --file-pages off -i "$T/in" "${DESTS[@]}"
    if "$RINGCAST" --version | grep -q '^transports:.* uring'; then
        [[ $stderr == *"ringcast: transport uring skipped: cannot register the ring as io_uring buffers: Cannot allocate memory (RLIMIT_MEMLOCK is 8.0 MiB)"* ]] ||
            { echo "$stderr" >&2; false; }
    fi
    [[ $stderr == *"ringcast: transport: "*" (auto: "* ]]
    [[ $stderr != *"bug:"* ]]
    wait_receivers 30
    check_receivers "$T/in.sha" $((32 << 20))
}

@test "as nobody with only CAP_IPC_LOCK (as contrib/ringcast.service gives it): --mlock on locks a 64 MiB ring and uring registers it" {
    make_input in 16
    chmod 644 "$T/in"
    start_receivers 2
    run -0 --separate-stderr timeout 60 prlimit --memlock=8388608:8388608 \
        setpriv --reuid=nobody --regid=nogroup --clear-groups \
        --inh-caps=-all,+ipc_lock --ambient-caps=-all,+ipc_lock \
        "$RINGCAST" -v --mlock on --file-pages off --transport uring --ring-size 64M -i "$T/in" "${DESTS[@]}"
    [[ $stderr == *"ringcast: ring: 64.0 MiB of anonymous memory, locked"* ]] || { echo "$stderr" >&2; false; }
    [[ $stderr == *"ringcast: transport: uring (asked for with --transport)"* ]]
    wait_receivers 30
    check_receivers "$T/in.sha" $((16 << 20))
}
