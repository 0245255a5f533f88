#!/usr/bin/env bats
# Relay trees (--tree K): the root sends to at most K ringcast receivers,
# each forwarding to its share of the rest as the signed (or --allow'ed)
# plan in its header says, and every host's verdict comes back up to the
# root.  Real receivers on loopback, each on its own port; every output is
# checked by SHA-256 and every exit status.

load helpers/common

setup() {
    common_setup
    declare -gA RPORT=() RPID=()
    HOSTS=()
    FLEET_NS=()
}
teardown() {
    common_teardown # the receivers in the namespaces first
    [ "${#FLEET_NS[@]}" -eq 0 ] || fleet_down
}

# receivers N ARGS...: N more ringcast receivers writing $T/oI (I counting
# on from the last call), with ARGS (for example --allow 127.0.0.1 or
# --key-file F); adds to HOSTS (ringcast://...) and sets RPID[I].
receivers() {
    local first=$((${#HOSTS[@]} + 1)) last=$((${#HOSTS[@]} + $1)) i
    shift
    for ((i = first; i <= last; i++)); do
        start_listening "$T/r$i.err" -v -i ringcast-listen://127.0.0.1:0 "$@" "file:$T/o$i" || return 1
        RPORT[$i]=$PORT
        RPID[$i]=$BG_PID
        HOSTS+=("ringcast://127.0.0.1:$PORT")
    done
}

# make_key FILE...: a fleet key of 32 random bytes in each FILE, readable by root only.
make_key() {
    local f
    for f in "$@"; do
        head -c 32 /dev/urandom > "$f"
        chmod 600 "$f"
    done
}

# all_exit N STATUS: every one of the N receivers exits (bounded) with STATUS.
all_exit() {
    local i
    for ((i = 1; i <= $1; i++)); do
        wait_exit "${RPID[$i]}" 60 || return 1
        [ "$EXIT_STATUS" = "$2" ] || { echo "receiver $i exited $EXIT_STATUS:" >&2; cat "$T/r$i.err" >&2; return 1; }
    done
}

# start_root ARGS...: the root, in the background, sending to HOSTS with
# ARGS (its source among them), its stderr in $T/root.err; sets ROOT.
start_root() {
    "$RINGCAST" "$@" "${HOSTS[@]}" 2> "$T/root.err" &
    ROOT=$!
    PIDS+=("$ROOT")
}

# stop_at I BYTES: stop receiver I (SIGSTOP) once its output has BYTES,
# wait (bounded) for the root to end, then let it go on; EXIT_STATUS is the root's.
stop_at() {
    wait_size "$T/o$1.part" "$2"
    kill -STOP "${RPID[$1]}"
    wait_exit "$ROOT" 120
    kill -CONT "${RPID[$1]}"
}

# all_whole N: every output has the input's SHA-256, under its own name.
all_whole() {
    local i
    for ((i = 1; i <= $1; i++)); do
        [ "$(sha256sum < "$T/o$i" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ] || { echo "o$i differs" >&2; return 1; }
    done
}

@test "a pipeline of 8 (--tree 1): every host verified, listed in --stats, a line each with -v; exit 0 everywhere" {
    make_input in 16
    receivers 8 --allow 127.0.0.1
    run -0 timeout 120 "$RINGCAST" -v --tree 1 --stats "$T/st.json" -i "$T/in" "${HOSTS[@]}"
    all_exit 8 0
    all_whole 8
    [ "$(json "$T/st.json" 'sum(h["verified"] and h["state"] == "done" and h["bytes"] == 16 << 20 for h in j["hosts"])')" = 8 ]
    [ "$(json "$T/st.json" 'len(j["dests"])')" = 1 ] # the root sends to the first only
    for h in "${HOSTS[@]}"; do
        [[ "$output" == *"ringcast: $h: verified: 16.0 MiB"* ]]
    done
    # the first relays to the other 7, one at a time
    grep -q "relaying to 7 hosts, 1 at a time" "$T/r1.err"
}

@test "a tree of 15 with K = 2, signed with --key-file: every host verified, exit 0 everywhere" {
    make_input in 8
    make_key "$T/key"
    receivers 15 --key-file "$T/key"
    run -0 timeout 120 "$RINGCAST" --tree 2 --key-file "$T/key" --stats "$T/st.json" -i "$T/in" "${HOSTS[@]}"
    all_exit 15 0
    all_whole 15
    [ "$(json "$T/st.json" 'sum(h["verified"] for h in j["hosts"])')" = 15 ]
    [ "$(json "$T/st.json" 'len(j["dests"])')" = 2 ]
    # K = 2 over 15: the root's two children each relay to 7, split 4 and 3
    grep -q "relaying to 7 hosts, 2 at a time" "$T/r1.err"
}

@test "no open relay: a plan signed with another key, an unsigned one, and one a receiver has no way to trust are refused" {
    make_input in 1
    make_key "$T/key" "$T/other"
    receivers 1 --key-file "$T/key"
    receivers 1 # no key, no --allow: o2
    receivers 1 --key-file "$T/key" # o3, the one the plans would reach
    run -1 timeout 60 "$RINGCAST" --tree 1 --key-file "$T/other" -i "$T/in" "${HOSTS[0]}" "${HOSTS[2]}"
    [[ "$output" == *"${HOSTS[0]}: not verified: refused: the header's MAC does not match this receiver's --key-file (signed with another key)"* ]]
    run -1 timeout 60 "$RINGCAST" --tree 1 -i "$T/in" "${HOSTS[0]}" "${HOSTS[2]}"
    [[ "$output" == *"${HOSTS[0]}: not verified: refused: the header is not signed, and this receiver takes only headers signed with its --key-file"* ]]
    run -1 timeout 60 "$RINGCAST" --tree 1 -i "$T/in" "${HOSTS[1]}" "${HOSTS[2]}"
    [[ "$output" == *"${HOSTS[1]}: not verified: refused: a plan to relay the stream, and this receiver has no --key-file or --allow to trust it by: it relays for no stranger"* ]]
    # each said so, and waits on; nothing was written, nobody was relayed to
    grep -q "refused: the header's MAC does not match" "$T/r1.err"
    grep -q "refused: a plan to relay the stream" "$T/r2.err"
    [ ! -e "$T/o1.part" ] && [ ! -e "$T/o2.part" ] && [ ! -e "$T/o3.part" ]
    [ ! -s "$T/r3.err" ] || ! grep -q "stream" "$T/r3.err"
}

@test "a leaf killed part way: reported failed, every other host verified; its relay and the root exit 1" {
    make_input in 16
    receivers 4 --allow 127.0.0.1
    start_root -v --tree 2 --rate 4M --stats "$T/st.json" -i "$T/in"
    # K = 2 over 4: hosts 1 and 3 relay, 2 and 4 are leaves; kill 4 at a quarter
    wait_size "$T/o4.part" $((4 << 20))
    kill -KILL "${RPID[4]}"
    wait_exit "$ROOT" 120
    [ "$EXIT_STATUS" = 1 ] || { cat "$T/root.err"; false; }
    for i in 1 2 3; do
        wait_exit "${RPID[$i]}" 60
        # 3 relayed to 4, which did not get the stream: its run failed too
        [ "$EXIT_STATUS" = $((i == 3)) ] || { cat "$T/r$i.err"; false; }
    done
    all_whole 3
    [ "$(json "$T/st.json" '[h["verified"] for h in j["hosts"]]')" = "[True, True, True, False]" ]
    [ "$(json "$T/st.json" 'j["hosts"][3]["state"]')" = unanswered ]
    grep -q "^ringcast: ringcast://127.0.0.1:${RPORT[4]}: no verdict: " "$T/root.err"
}

@test "plans that cannot be: a host given twice (or under two spellings), a DEST that is no ringcast receiver, too deep, too many hosts, more than the descriptors, the root itself; nothing is sent" {
    run -2 timeout 10 "$RINGCAST" --tree 2 -i /dev/null ringcast://127.0.0.1:9 ringcast://127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --tree: ringcast://127.0.0.1:9 is given 2 times; a tree reaches each host once" ]
    run -2 timeout 10 "$RINGCAST" --tree 1 -i /dev/null ringcast://127.0.0.1:9 ringcast://127.1:10 ringcast://127.0.0.1:10
    [ "${lines[0]}" = "ringcast: --tree: ringcast://127.1:10 and ringcast://127.0.0.1:10 are one host (127.0.0.1:10); a tree reaches each host once" ]
    run -2 timeout 10 "$RINGCAST" --tree 1 -i /dev/null ringcast://127.0.0.1:9 'ringcast://[::ffff:127.0.0.1]:10' ringcast://127.0.0.1:10
    [ "${lines[0]}" = "ringcast: --tree: ringcast://[::ffff:127.0.0.1]:10 and ringcast://127.0.0.1:10 are one host (127.0.0.1:10); a tree reaches each host once" ]
    run -2 timeout 10 "$RINGCAST" --tree 2 -i /dev/null ringcast://127.0.0.1:9 127.0.0.1:10
    [ "${lines[0]}" = "ringcast: --tree relays through ringcast receivers: '127.0.0.1:10' is not ringcast://HOST:PORT" ]
    local many=() i
    for ((i = 1; i <= 1025; i++)); do many+=("ringcast://h$i:9"); done
    run -2 timeout 10 "$RINGCAST" --tree 1 -i /dev/null "${many[@]}"
    [ "${lines[0]}" = "ringcast: --tree 1 over 1025 hosts is 1025 hosts deep, more than 1024; a larger K makes it shallower" ]
    for ((i = 1026; i <= 8193; i++)); do many+=("ringcast://h$i:9"); done
    run -2 timeout 10 "$RINGCAST" --tree 64 -i /dev/null "${many[@]}"
    [ "${lines[0]}" = "ringcast: --tree: 8193 hosts; a tree reports on at most 8192" ]
    run -2 timeout 10 "$RINGCAST" --tree 2 -i /dev/null
    [ "${lines[0]}" = "ringcast: no destination given (expected DEST..., -o DEST or -l [HOST:]PORT)" ]
    # more children than descriptors
    run -2 timeout 10 bash -c 'ulimit -n 100 && exec "$0" --tree 300 -i /dev/null "$@"' "$RINGCAST" "${many[@]:0:300}"
    [[ "${lines[0]}" == "ringcast: 300 destinations need "*" file descriptors, but the limit (ulimit -n) leaves room for "* ]]
    # a host that is the root itself: its own listener, under any name of this machine
    run -2 timeout 10 "$RINGCAST" --tree 1 -l 127.0.0.1:9 -i /dev/null ringcast://127.0.0.1:10 ringcast://localhost:9
    [ "${lines[0]}" = "ringcast: --tree: ringcast://localhost:9 is this host's own listener (-l); the root sends to other hosts" ]
    run -2 timeout 10 "$RINGCAST" --tree 2 -i ringcast-listen://:9 ringcast://127.0.0.2:9
    [ "${lines[0]}" = "ringcast: --tree: ringcast://127.0.0.2:9 is this host's own listener (ringcast-listen://:9); the root sends to other hosts" ]
}

# fleet_up N RATE: namespaces rcf$$-0 (the root, 10.215.0.1) to rcf$$-N
# (10.215.0.N+1), each joined by a veth pair to one bridge in rcf$$-br, and
# each host's port limited to RATE (tc tbf) in both directions, so that the
# links, not the two CPUs, are the limit.  FLEET_NS lists them for teardown.
fleet_up() {
    local n=$1 rate=$2 i ns
    command -v tc > /dev/null || skip "tc is not installed"
    ip netns add "rcf$$-br" 2> /dev/null || skip "cannot create network namespaces (ip netns)"
    FLEET_NS=("rcf$$-br")
    ip -n "rcf$$-br" link add br0 type bridge
    ip -n "rcf$$-br" link set br0 up
    for ((i = 0; i <= n; i++)); do
        ns=rcf$$-$i
        ip netns add "$ns"
        FLEET_NS+=("$ns")
        ip link add "v$i" netns "$ns" type veth peer name "p$i" netns "rcf$$-br"
        ip -n "rcf$$-br" link set "p$i" master br0 up
        ip -n "$ns" addr add "10.215.0.$((i + 1))/24" dev "v$i"
        ip -n "$ns" link set "v$i" up
        ip -n "$ns" link set lo up
        ip netns exec "$ns" tc qdisc add dev "v$i" root tbf rate "$rate" burst 64kb latency 100ms
        ip netns exec "rcf$$-br" tc qdisc add dev "p$i" root tbf rate "$rate" burst 64kb latency 100ms
    done
}

fleet_down() {
    local ns
    for ns in "${FLEET_NS[@]}"; do ip netns del "$ns" 2> /dev/null; done
    FLEET_NS=()
}

# fleet_run N K: receivers on hosts 1..N (port 9000), the root on host 0
# pushing $T/in with --tree K; every host verified and whole, exit 0 everywhere.
fleet_run() {
    local n=$1 k=$2 i hosts=() pids=()
    for ((i = 1; i <= n; i++)); do
        : > "$T/f$i.err"
        ip netns exec "rcf$$-$i" "$RINGCAST" -i ringcast-listen://10.215.0.$((i + 1)):9000 \
            --allow 10.215.0.0/24 "file:$T/f$i" 2> "$T/f$i.err" &
        pids+=($!)
        PIDS+=($!)
        hosts+=("ringcast://10.215.0.$((i + 1)):9000")
    done
    for ((i = 1; i <= n; i++)); do wait_line "listening on" "$T/f$i.err" || return 1; done
    run -0 timeout 120 ip netns exec "rcf$$-0" "$RINGCAST" --tree "$k" --stats "$T/st.json" \
        -i "$T/in" "${hosts[@]}"
    for ((i = 1; i <= n; i++)); do
        wait_exit "${pids[i - 1]}" 60
        [ "$EXIT_STATUS" = 0 ] || { cat "$T/f$i.err"; return 1; }
        [ "$(sha256sum < "$T/f$i" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ] || return 1
    done
    [ "$(json "$T/st.json" 'sum(h["verified"] for h in j["hosts"])')" = "$n" ]
}

@test "across network namespaces on a bridge, each port at 100 Mbit/s: a pipeline of 8 and a tree (K 3) of 8 verify everywhere" {
    make_input in 8
    fleet_up 8 100mbit
    fleet_run 8 1
    fleet_run 8 3
}

@test "repair: a middle relay of a pipeline killed at half; its child resumes from its offset, every other host verifies, the dead one is reported" {
    make_input in 8
    receivers 4 --allow 127.0.0.1
    start_root -v --tree 1 --rate 2M --stats "$T/st.json" -i "$T/in"
    # the source is paced, so that half way is a moment the test can reach
    wait_size "$T/o2.part" $((4 << 20))
    kill -KILL "${RPID[2]}"
    wait_exit "$ROOT" 120
    [ "$EXIT_STATUS" = 1 ] || { cat "$T/root.err"; false; }
    for i in 1 3 4; do
        wait_exit "${RPID[$i]}" 60
        # 1 relayed to 2, which died: its run failed too
        [ "$EXIT_STATUS" = $((i == 1)) ] || { cat "$T/r$i.err"; false; }
        [ "$(sha256sum < "$T/o$i" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]
    done
    [ ! -e "$T/o2" ]
    local h3=127.0.0.1:${RPORT[3]} h2=127.0.0.1:${RPORT[2]}
    [ "$(json "$T/st.json" "[h['verified'] for h in j['hosts'] if h['address'] != '$h2']")" = "[True, True, True]" ]
    [ "$(json "$T/st.json" "[h['state'] for h in j['hosts'] if h['address'] == '$h2']")" = "['unanswered']" ]
    [ "$(json "$T/st.json" "[h['resumed_from'] > 0 for h in j['hosts'] if h['address'] == '$h3']")" = "[True]" ]
    grep -q "resumed the stream at byte [1-9]" "$T/r3.err"
    grep -q "ringcast://$h2 failed; ringcast://$h3 resumes from this host" "$T/r1.err"
}

@test "repair: a relay that stops reading (SIGSTOP) is dropped by its parent after a tree's --stall-timeout (5 s by default, 2 s more per level below a relay) and bypassed; its child verifies" {
    make_input in 8
    receivers 3 --allow 127.0.0.1
    start_root -v --tree 1 --rate 2M --stats "$T/st.json" -i "$T/in"
    stop_at 2 $((3 << 20))
    [ "$EXIT_STATUS" = 1 ] || { cat "$T/root.err"; false; }
    wait_exit "${RPID[3]}" 60
    [ "$EXIT_STATUS" = 0 ] || { cat "$T/r3.err"; false; }
    [ "$(sha256sum < "$T/o3" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]
    [ "$(sha256sum < "$T/o1" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]
    grep -q "stalled: accepted nothing for 7.0 s (a tree's --stall-timeout, 2 s more for the 1 level of hosts below it)" "$T/r1.err"
}

@test "no takeover by a stranger: in the middle of a tree's stream, a connection to a receiver whose sender is live is refused unread, an unsigned header to a keyed one whose sender is silent is refused, and the stream verifies" {
    make_input in 8
    make_key "$T/key"
    receivers 1 --key-file "$T/key"
    start_root --tree 1 --key-file "$T/key" --rate 4M -i "$T/in"
    wait_size "$T/o1.part" $((1 << 20))
    run -0 timeout 30 "$PY" "$HELPERS/frame_client.py" "${RPORT[1]}" unsigned
    [ "${lines[0]}" = "code=7 reason=this receiver's sender is alive: it sent within the last second" ]
    # a sender silent for more than a second may be replaced, by a host the receiver trusts
    kill -STOP "$ROOT"
    sleep 1.5
    run -0 timeout 30 "$PY" "$HELPERS/frame_client.py" "${RPORT[1]}" unsigned
    kill -CONT "$ROOT"
    [ "${lines[0]}" = "code=5 reason=the header is not signed, and this receiver takes only headers signed with its --key-file" ]
    wait_exit "$ROOT" 120
    [ "$EXIT_STATUS" = 0 ] || { cat "$T/root.err"; false; }
    all_exit 1 0
    all_whole 1
}

@test "a relay whose own output fails still relays: it is reported failed once, its child verified once, nobody adopted" {
    make_input in 2
    receivers 1 --allow 127.0.0.1
    start_listening "$T/r2.err" -v -i ringcast-listen://127.0.0.1:0 --allow 127.0.0.1 file:/dev/full
    RPID[2]=$BG_PID
    HOSTS+=("ringcast://127.0.0.1:$PORT")
    local h2=127.0.0.1:$PORT
    receivers 1 --allow 127.0.0.1
    run -1 timeout 120 "$RINGCAST" -v --tree 1 --stats "$T/st.json" -i "$T/in" "${HOSTS[@]}"
    [ "$(json "$T/st.json" 'len(j["hosts"])')" = 3 ]
    [ "$(json "$T/st.json" '[h["verified"] for h in j["hosts"]]')" = "[True, False, True]" ]
    [[ "$(json "$T/st.json" 'j["hosts"][1]["error"]')" == "output failed: file:/dev/full: write: No space left on device"* ]]
    [[ "$output" != *"resumes from this host"* ]]
    wait_exit "${RPID[3]}" 60
    [ "$EXIT_STATUS" = 0 ]
    [ "$(sha256sum < "$T/o3" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]
}

# behind_ring [ROOT_ARGS...]: a pipeline of 4 hosts whose first relay has a
# 64 KiB ring and a --stall-timeout of 2 s, and whose second stops reading
# (SIGSTOP) at 3 MiB: by the time the first relay drops it, the offset the
# third host has is far behind what that ring holds (the stopped host's
# socket buffers alone hold more).  The root (ROOT_ARGS before the hosts;
# its source among them) paces the source at 2 MiB/s; sets ROOT and H3.
behind_ring() {
    receivers 4 --allow 127.0.0.1
    kill "${RPID[1]}"
    wait_exit "${RPID[1]}" 30
    start_listening "$T/r1.err" -v --stall-timeout 2s --ring-size 64K \
        -i ringcast-listen://127.0.0.1:0 --allow 127.0.0.1 "file:$T/o1"
    RPID[1]=$BG_PID
    HOSTS[0]="ringcast://127.0.0.1:$PORT"
    H3=127.0.0.1:${RPORT[3]}
    start_root -v --tree 1 --rate 2M --stats "$T/st.json" "$@"
    stop_at 2 $((3 << 20))
    grep -q "ringcast://$H3: this host's ring no longer holds byte [1-9][0-9]*; asked its sender to resume it" "$T/r1.err"
}

# resumed_whole: the first, third and fourth hosts verified with the
# input's SHA-256, the third resumed part way, the root exited 1 (the
# second host failed).
resumed_whole() {
    [ "$EXIT_STATUS" = 1 ] || { cat "$T/root.err"; false; }
    for i in 3 4; do
        wait_exit "${RPID[$i]}" 60
        [ "$EXIT_STATUS" = 0 ] || { cat "$T/r$i.err" "$T/r1.err" "$T/root.err"; false; }
    done
    for i in 1 3 4; do
        [ "$(sha256sum < "$T/o$i" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]
    done
    [ "$(json "$T/st.json" "[h['verified'] for h in j['hosts']]")" = "[True, False, True, True]" ]
    [ "$(json "$T/st.json" "[h['resumed_from'] > 0 for h in j['hosts'] if h['address'] == '$H3']")" = "[True]" ]
    grep -q "ringcast://${HOSTS[0]#ringcast://} cannot resume ringcast://$H3 at byte [1-9][0-9]*; it resumes from this host" "$T/root.err"
}

@test "repair from further up: a relay whose ring no longer holds its orphan's offset asks its sender, and the root's ring still holds it" {
    make_input in 8
    behind_ring -i "$T/in"
    resumed_whole
    grep -q "ringcast://$H3: resumes at byte [1-9]" "$T/root.err"
}

@test "repair from further up: the root's ring does not hold it either, and the root reads its source file again at that offset" {
    make_input in 8
    behind_ring --file-pages off --ring-size 64K -i "$T/in"
    resumed_whole
    grep -q "ringcast://$H3: resumes at byte \([1-9][0-9]*\), bytes \1 to [1-9][0-9]* read again from the source" "$T/root.err"
}

@test "repair from further up: a source that cannot be read again bounds it at the root's ring; the report names the host that could not resume" {
    make_input in 8
    mkfifo "$T/fifo"
    cat "$T/in" > "$T/fifo" &
    PIDS+=("$!")
    behind_ring --ring-size 64K -i "$T/fifo"
    [ "$EXIT_STATUS" = 1 ] || { cat "$T/root.err"; false; }
    [ "$(json "$T/st.json" "[h['verified'] for h in j['hosts']]")" = "[True, False, False, False]" ] || { cat "$T/root.err" "$T/st.json"; false; }
    [[ "$(json "$T/st.json" "[h['error'] for h in j['hosts'] if h['address'] == '$H3'][0]")" =~ ^"no verdict: cannot resume at byte "[1-9][0-9]*": this host's ring holds bytes "[0-9]+" to "[0-9]+" only (--ring-size); the source cannot be read again"$ ]]
    [[ "$(json "$T/st.json" "j['hosts'][3]['error']")" == "no verdict: its relay $H3 gave no verdict: cannot resume at byte "* ]]
    [ "$(json "$T/st.json" "[(h['bytes'] > 0, h['resumed_from']) for h in j['hosts'] if h['address'] == '$H3']")" = "[(True, 0)]" ]
    [ "$(sha256sum < "$T/o1" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]
}

@test "repair from further up, two levels: neither the dead relay's parent nor its grandparent holds the offset, and the root does" {
    make_input in 8
    receivers 1 --allow 127.0.0.1 --ring-size 64K
    start_listening "$T/r2.err" -v --stall-timeout 2s --ring-size 64K \
        -i ringcast-listen://127.0.0.1:0 --allow 127.0.0.1 "file:$T/o2"
    RPID[2]=$BG_PID
    HOSTS+=("ringcast://127.0.0.1:$PORT")
    receivers 3 --allow 127.0.0.1
    local h4=127.0.0.1:${RPORT[4]}
    start_root -v --tree 1 --rate 2M --stats "$T/st.json" -i "$T/in"
    stop_at 3 $((3 << 20))
    [ "$EXIT_STATUS" = 1 ] || { cat "$T/root.err"; false; }
    for i in 1 2 4 5; do
        [ "$i" -lt 4 ] || wait_exit "${RPID[$i]}" 60
        [ "$i" -lt 4 ] || [ "$EXIT_STATUS" = 0 ] || { cat "$T/r$i.err"; false; }
        [ "$(sha256sum < "$T/o$i" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]
    done
    grep -q "ringcast://$h4: this host's ring no longer holds byte [1-9][0-9]*; asked its sender to resume it" "$T/r2.err"
    grep -q "ringcast://$h4: this host's ring no longer holds byte [1-9][0-9]*; asked its sender to resume it" "$T/r1.err"
    grep -q "ringcast://${HOSTS[0]#ringcast://} cannot resume ringcast://$h4 at byte [1-9][0-9]*; it resumes from this host" "$T/root.err"
    [ "$(json "$T/st.json" "[h['verified'] for h in j['hosts']]")" = "[True, True, False, True, True]" ]
    [ "$(json "$T/st.json" "[h['resumed_from'] > 0 for h in j['hosts'] if h['address'] == '$h4']")" = "[True]" ]
}

@test "a relay that refuses the stream (another key) is reported refused; its children are served by its parent and verify" {
    make_input in 2
    make_key "$T/key" "$T/other"
    receivers 1 --key-file "$T/key"
    receivers 1 --key-file "$T/other"
    receivers 2 --key-file "$T/key"
    run -1 timeout 60 "$RINGCAST" -v --tree 1 --key-file "$T/key" --stats "$T/st.json" -i "$T/in" "${HOSTS[@]}"
    [ "$(json "$T/st.json" "[h['verified'] for h in j['hosts']]")" = "[True, False, True, True]" ]
    [[ "$(json "$T/st.json" "j['hosts'][1]['error']")" == "refused: the header's MAC does not match this receiver's --key-file"* ]]
    grep -q "${HOSTS[1]} failed; ${HOSTS[2]} resumes from this host" "$T/r1.err"
    for i in 1 3 4; do
        wait_exit "${RPID[$i]}" 60
        [ "$(sha256sum < "$T/o$i" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]
    done
    [ ! -e "$T/o2" ] && [ ! -e "$T/o2.part" ]
}

@test "a host of a plan whose name does not resolve at its relay is reported so; the relay writes its copy and serves the rest" {
    make_input in 2
    receivers 1 --allow 127.0.0.1
    HOSTS+=("ringcast://no-such-host.invalid:9")
    receivers 1 --allow 127.0.0.1
    run -1 timeout 60 "$RINGCAST" -v --tree 1 --stats "$T/st.json" -i "$T/in" "${HOSTS[0]}" "${HOSTS[1]}" "${HOSTS[2]}"
    [ "$(json "$T/st.json" "[h['verified'] for h in j['hosts']]")" = "[True, False, True]" ]
    [[ "$(json "$T/st.json" "j['hosts'][1]['error']")" == "no verdict: cannot resolve no-such-host.invalid: "* ]]
    wait_exit "${RPID[1]}" 60
    [ "$EXIT_STATUS" = 1 ] # a host below it failed
    wait_exit "${RPID[3]}" 60
    [ "$EXIT_STATUS" = 0 ]
    for i in 1 3; do [ "$(sha256sum < "$T/o$i" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]; done
}

@test "repair from further up at the stream's end: a relay's ask and its verdict come together, and both are taken" {
    make_input in 8
    receivers 4 --allow 127.0.0.1 --ring-size 64K
    start_root -v --tree 1 --rate 2M --file-pages off --ring-size 64K --stats "$T/st.json" -i "$T/in"
    # stopped at 6 MiB of 8: its relay drops it 5 s later, when the root has sent everything
    stop_at 2 $((6 << 20))
    [ "$EXIT_STATUS" = 1 ] || { cat "$T/root.err"; false; }
    [ "$(json "$T/st.json" "[h['verified'] for h in j['hosts']]")" = "[True, False, True, True]" ] || { cat "$T/root.err"; false; }
    grep -q "read again from the source" "$T/root.err"
    ! grep -q "closed without a verdict" "$T/root.err"
    for i in 1 3 4; do [ "$(sha256sum < "$T/o$i" | cut -d' ' -f1)" = "$(cat "$T/in.sha")" ]; done
}
