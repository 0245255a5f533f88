#!/usr/bin/env bats
# Push mode delivers the whole stream, unaltered, to every destination.

load helpers/common

setup() { common_setup; }
teardown() { common_teardown; }

@test "64 MiB from a file to 16 receivers: every checksum matches, exit 0" {
    make_input in 64
    start_receivers 16
    run -0 timeout 120 "$RINGCAST" -q -i "$T/in" "${DESTS[@]}"
    [ -z "$output" ]
    wait_receivers 60
    check_receivers "$T/in.sha" $((64 << 20))
}

@test "64 MiB from a pipe (stdin) to 16 receivers" {
    make_input in 64
    start_receivers 16
    run -0 timeout 120 bash -c 'cat "$1" | "$2" -q "${@:3}"' _ "$T/in" "$RINGCAST" "${DESTS[@]}"
    wait_receivers 60
    check_receivers "$T/in.sha" $((64 << 20))
}

@test "64 MiB from a FIFO to 16 receivers, destinations given with -o and tcp://" {
    make_input in 64
    mkfifo "$T/fifo"
    start_receivers 16
    cat "$T/in" > "$T/fifo" &
    PIDS+=($!)
    local args=() d
    for d in "${DESTS[@]}"; do args+=(-o "tcp://$d"); done
    run -0 timeout 120 "$RINGCAST" -q -i "$T/fifo" "${args[@]}"
    wait_receivers 60
    check_receivers "$T/in.sha" $((64 << 20))
}

# Every transport this kernel offers, and auto, delivers the same.
@test "every transport: 64 MiB to 16 receivers, all checksums match, exit 0" {
    make_input in 64
    local t list
    list=$(transports)
    for t in $list; do
        start_receivers 16
        run -0 --separate-stderr timeout 120 "$RINGCAST" -v --transport "$t" -i "$T/in" "${DESTS[@]}"
        if [ "$t" = auto ]; then
            [[ $stderr == *"transport: "*" (auto: "* ]] || { echo "$t: $stderr" >&2; false; }
        else
            [[ $stderr == *"transport: $t (asked for"* ]] || { echo "$t: $stderr" >&2; false; }
        fi
        wait_receivers 60
        check_receivers "$T/in.sha" $((64 << 20)) || { echo "transport $t" >&2; false; }
    done
}
