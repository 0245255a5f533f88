#!/usr/bin/env bats
# --digest and --expect-digest: the stream's SHA-256, computed once as the
# ring fills, printed as sha256sum's BSD (tag) form, recorded in --stats,
# and checked before any receiver gets a clean end.

load helpers/common

setup() { common_setup; }
teardown() { common_teardown; }

@test "--digest from a file: the line sha256sum --tag prints, --stats has it, 8 receivers whole, exit 0" {
    make_input in 16
    start_receivers 8
    run -0 timeout 120 "$RINGCAST" -q --digest --stats "$T/st.json" -i "$T/in" "${DESTS[@]}"
    # -q keeps everything back but what was asked for.
    [ "$output" = "$(sha256sum --tag "$T/in")" ]
    wait_receivers 60
    check_receivers "$T/in.sha" $((16 << 20))
    [ "$(json "$T/st.json" 'j["sha256"]')" = "$(cat "$T/in.sha")" ]
}

@test "--digest from a pipe through a small ring: SHA256 (-), as sha256sum --tag names stdin" {
    make_input in 16
    start_receivers 2
    run -0 timeout 120 bash -c 'cat "$1" | "$2" --digest --ring-size 1M "${@:3}"' _ "$T/in" "$RINGCAST" "${DESTS[@]}"
    [ "${lines[-1]}" = "SHA256 (-) = $(cat "$T/in.sha")" ]
    [ "${lines[-1]}" = "$(sha256sum --tag < "$T/in")" ]
    wait_receivers 60
    check_receivers "$T/in.sha" $((16 << 20))
}

@test "--expect-digest with the right digest, in either case: exit 0, every receiver whole" {
    make_input in 8
    start_receivers 4
    run -0 timeout 120 "$RINGCAST" -i "$T/in" --expect-digest "$(tr a-f A-F < "$T/in.sha")" "${DESTS[@]}"
    [ "${lines[-1]}" = "SHA256 ($T/in) = $(cat "$T/in.sha")" ]
    wait_receivers 60
    check_receivers "$T/in.sha" $((8 << 20))
}

@test "--expect-digest with another digest: every receiver reset, both digests named, exit 1" {
    make_input in 8
    local other
    other=$(printf 'not the stream' | sha256sum | cut -d' ' -f1)
    start_receivers 4
    run -1 timeout 120 "$RINGCAST" -i "$T/in" --expect-digest "$other" --stats "$T/st.json" "${DESTS[@]}"
    [[ $output == *"ringcast: $T/in: digest mismatch: the stream's SHA-256 is $(cat "$T/in.sha"), --expect-digest says $other"* ]]
    [[ $output == *"ringcast: ${DESTS[0]}: reset: the stream's SHA-256 is not --expect-digest's"* ]]
    [[ $output != *"SHA256 ("* ]]
    wait_receivers 60
    [ "$(grep -c ' error:ConnectionResetError$' "$T/results")" -eq 4 ] || { cat "$T/results" >&2; false; }
    [ "$(json "$T/st.json" 'j["sha256"], j["exit_status"]')" = "(None, 1)" ]
    [ "$(json "$T/st.json" 'j["destinations"]')" = "{'total': 4, 'done': 0, 'failed': 4}" ]
}

@test "--expect-digest that is not a SHA-256, and in serve mode: refused before anything is sent, exit 2" {
    run -2 "$RINGCAST" -i /dev/null --expect-digest abc 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --expect-digest 'abc': not a SHA-256 (64 hexadecimal digits)" ]
    run -2 "$RINGCAST" -i /dev/null --expect-digest "$(printf 'g%.0s' {1..64})" 127.0.0.1:9
    [[ ${lines[0]} == *": not a SHA-256 (64 hexadecimal digits)" ]]
    run -2 "$RINGCAST" --serve -l 127.0.0.1:0 --digest /dev/null
    [ "${lines[0]}" = "ringcast: --digest is for streams: --serve does not use it" ]
}

@test "--digest of a name with a backslash: the escaped line sha256sum -c reads back; an empty stream's mismatch exits 1" {
    printf x > "$T/back\\slash"
    start_receivers 1
    run -0 timeout 60 "$RINGCAST" -q --digest -i "$T/back\\slash" "${DESTS[@]}"
    [ "$output" = "$(sha256sum --tag "$T/back\\slash")" ]
    echo "$output" > "$T/line"
    run -0 sha256sum -c "$T/line"
    wait_receivers 30
    # The empty stream ends at the first read, before the destination has
    # connected: it is failed where it stands (the receiver, stopped at
    # teardown, never sees a connection), and the exit status is still 1.
    : > "$T/empty"
    start_receivers 1
    run -1 timeout 60 "$RINGCAST" -q -i "$T/empty" --expect-digest "$(printf '0%.0s' {1..64})" "${DESTS[@]}"
    [[ ${lines[0]} == "ringcast: $T/empty: digest mismatch: the stream's SHA-256 is e3b0c442"* ]]
}
