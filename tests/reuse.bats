#!/usr/bin/env bats
# The reuse invariant: the ring overwrites a region only after the kernel
# has said that every send of it is complete.  A 1 MiB ring laps many times
# while slow receivers hold sends in flight; every byte must arrive intact.
# Across a rate-limited veth pair the kernel keeps the ring's pages long
# after the send returned, so a wrong reuse cannot go unnoticed; the build
# made with RECLAIM_ON_SEND=1 reuses on the send result (and sendfile's ring
# rewrites blocks without retiring them) and must fail here.

load helpers/common

setup_file() {
    # The deliberately wrong build, made once for this file.
    UNSAFE=$BATS_FILE_TMPDIR/unsafe
    make -s -C "$BATS_TEST_DIRNAME/.." B="$UNSAFE" RECLAIM_ON_SEND=1 "$UNSAFE/ringcast" >&2
    export UNSAFE
}

setup() {
    common_setup
    NSA="" NSB=""
}

teardown() {
    common_teardown
    [ -z "$NSA" ] || ip netns del "$NSA" 2>/dev/null
    [ -z "$NSB" ] || ip netns del "$NSB" 2>/dev/null
    true
}

# netns_setup: namespaces $NSA (sender, 10.213.0.1) and $NSB (receivers,
# 10.213.0.2) joined by a veth pair whose sending side tbf limits to
# 400 Mbit/s; receivers started afterwards run in $NSB.
netns_setup() {
    command -v tc > /dev/null || skip "tc is not installed"
    ip netns list > /dev/null 2>&1 || skip "ip netns is unavailable"
    NSA=rc-reuse-a-$$ NSB=rc-reuse-b-$$
    ip netns add "$NSA" 2> /dev/null || { NSA=""; NSB=""; skip "cannot create network namespaces (not root?)"; }
    ip netns add "$NSB"
    ip link add veth-a netns "$NSA" type veth peer name veth-b netns "$NSB"
    ip -n "$NSA" addr add 10.213.0.1/24 dev veth-a
    ip -n "$NSB" addr add 10.213.0.2/24 dev veth-b
    ip -n "$NSA" link set veth-a up
    ip -n "$NSB" link set veth-b up
    ip netns exec "$NSA" tc qdisc add dev veth-a root tbf rate 400mbit burst 64kb latency 50ms
    RECV_NETNS=$NSB
}

# reuse_run BINARY TRANSPORT [HOST]: 16 MiB through a 1 MiB ring (or
# $RING) to 4 fast and 2 slow receivers (in $NSB when set up), from $JOBS
# sending threads (default 1); leaves results in $T/results and the
# statistics in $T/st.json.  With -j 2 the slow receivers
# are the first and the fourth, one in each thread's share.
reuse_run() {
    local bin=$1 t=$2 host=${3:-127.0.0.1} wrap=()
    [ -z "$NSA" ] || wrap=(ip netns exec "$NSA")
    start_receivers 6 --slow 2 --slow-rate $((6 << 20)) --host "$host"
    local dests=("${DESTS[@]}")
    [ "${JOBS:-1}" -eq 1 ] || dests=("${DESTS[0]}" "${DESTS[2]}" "${DESTS[3]}" "${DESTS[1]}" "${DESTS[4]}" "${DESTS[5]}")
    run timeout 120 "${wrap[@]}" "$bin" -q -j "${JOBS:-1}" --transport "$t" --file-pages off \
        --ring-size "${RING:-1M}" --chunk 64K --stats "$T/st.json" -i "$T/in" "${dests[@]}"
    wait_receivers 60
}

# every_transport_and_host CHECK: reuse_run with every transport, on
# loopback and then across the slowed veth; each run must exit 0 with every
# checksum right, and pass CHECK (a command) as well.
every_transport_and_host() {
    local t host
    for host in 127.0.0.1 10.213.0.2; do
        [ "$host" = 127.0.0.1 ] || netns_setup
        for t in $(transports); do
            reuse_run "$RINGCAST" "$t" "$host"
            [ "$status" -eq 0 ] || { echo "-j ${JOBS:-1}, $t to $host: exit $status: $output" >&2; false; }
            check_receivers "$T/in.sha" $((16 << 20)) || { echo "-j ${JOBS:-1}, $t to $host" >&2; false; }
            "$1" || { echo "-j ${JOBS:-1}, $t to $host" >&2; false; }
        done
    done
}

# corrupted SHAFILE: how many receivers got other bytes than the source.
corrupted() {
    local want
    want=$(cat "$1")
    awk -v w="$want" '$4 != w { n++ } END { print n + 0 }' "$T/results"
}

@test "every transport: a 1 MiB ring, 4 fast and 2 slow receivers, all checksums match" {
    make_input in 16
    local t
    for t in $(transports); do
        reuse_run "$RINGCAST" "$t"
        [ "$status" -eq 0 ] || { echo "transport $t: exit $status: $output" >&2; false; }
        check_receivers "$T/in.sha" $((16 << 20)) || { echo "transport $t" >&2; false; }
    done
}

@test "every transport: the same across a veth pair slowed by tbf, all checksums match" {
    netns_setup
    make_input in 16
    local t
    for t in $(transports); do
        reuse_run "$RINGCAST" "$t" 10.213.0.2
        [ "$status" -eq 0 ] || { echo "transport $t: exit $status: $output" >&2; false; }
        check_receivers "$T/in.sha" $((16 << 20)) || { echo "transport $t" >&2; false; }
    done
}

# A ring that grows (ring.h): 4 MiB in use of 8 MiB at first; the slow
# receivers hold the fast ones back, so it grows, and then laps in its new
# size (sendfile's memfd ring is whole from the start).
@test "a growing ring, every transport, on loopback and across the slowed veth: it grows, all checksums match" {
    RING=8M
    make_input in 16
    every_transport_and_host grown
}

# grown: the ring started with 4 MiB in use (sendfile's with all 8) and grew.
grown() {
    [ "$(json "$T/st.json" 'j["ring"]["in_use"]')" = $((8 << 20)) ] ||
        { echo "$(json "$T/st.json" 'j["ring"]')" >&2; false; }
}

@test "RECLAIM_ON_SEND=1 build: a growing ring is corrupted across the slowed veth" {
    RING=8M
    netns_setup
    make_input in 16
    unsafe_corrupts 10.213.0.2
}

# The tests above can fail: reusing on the send result (for sendfile:
# rewriting a block without retiring it) corrupts streams.
@test "RECLAIM_ON_SEND=1 build: uring, msgzc and sendfile corrupt streams on loopback" {
    make_input in 16
    local t n tested=0 bugs=0
    for t in uring msgzc sendfile; do
        "$RINGCAST" --version | grep -q "^transports:.* $t\b" || continue
        tested=$((tested + 1))
        reuse_run "$UNSAFE/ringcast" "$t"
        n=$(corrupted "$T/in.sha")
        echo "transport $t: $n of 6 receivers corrupted" >&2
        [ "$n" -gt 0 ]
        # The exit check of sends against completions notices it too.
        if [[ $output == *": bug: "*" zero-copy sends never completed"* ]]; then
            [ "$status" -eq 1 ]
            bugs=$((bugs + 1))
        fi
    done
    [ "$tested" -lt 2 ] || [ "$bugs" -gt 0 ]
    [ "$tested" -gt 0 ] || skip "this kernel offers no zero-copy transport"
}

# unsafe_corrupts HOST: with each zero-copy transport this kernel offers,
# the RECLAIM_ON_SEND build (from $JOBS threads) corrupts some receiver's
# stream.
unsafe_corrupts() {
    local t n tested=0
    for t in uring msgzc sendfile; do
        "$RINGCAST" --version | grep -q "^transports:.* $t\b" || continue
        tested=$((tested + 1))
        reuse_run "$UNSAFE/ringcast" "$t" "$1"
        n=$(corrupted "$T/in.sha")
        echo "-j ${JOBS:-1}, transport $t: $n of 6 receivers corrupted" >&2
        [ "$n" -gt 0 ] || return 1
    done
    [ "$tested" -gt 0 ] || skip "this kernel offers no zero-copy transport"
}

@test "RECLAIM_ON_SEND=1 build: uring, msgzc and sendfile corrupt streams across the slowed veth" {
    netns_setup
    make_input in 16
    unsafe_corrupts 10.213.0.2
}

# The same invariant with two sending threads sharing the ring: each
# thread's share has a slow receiver, so both threads hold the ring back.
@test "-j 2: every transport, on loopback and across the slowed veth, all checksums match" {
    JOBS=2
    make_input in 16
    every_transport_and_host true
}

@test "-j 2, RECLAIM_ON_SEND=1 build: the zero-copy transports corrupt streams across the slowed veth" {
    JOBS=2
    netns_setup
    make_input in 16
    unsafe_corrupts 10.213.0.2
}
