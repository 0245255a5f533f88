#!/usr/bin/env bats
# Bad input: the exact message, the exact exit status, and no hang.

load helpers/common

setup() { common_setup; }
teardown() { common_teardown; }

try_line="Try 'ringcast --help' for more information."
# What each place that takes an address accepts, as its messages end.
dest_forms="(expected HOST:PORT, [IPv6]:PORT, tcp://HOST:PORT, ringcast://HOST:PORT, file:PATH or - (standard output))"
listen_forms="(expected PORT, HOST:PORT or [IPv6]:PORT)"
tls_forms="(expected tcp-listen://PORT, tcp-listen://HOST:PORT or tcp-listen://[IPv6]:PORT)"
not_size="not a size (a number of bytes, optionally with K, M, G or T for powers of 1024: 4096, 64M, 1.5G)"

@test "unknown long option" {
    run -2 timeout 10 "$RINGCAST" --bogus 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: unknown option '--bogus'" ]
    [ "${lines[1]}" = "$try_line" ]
}

@test "unknown short option" {
    run -2 timeout 10 "$RINGCAST" -x 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: unknown option '-x'" ]
}

@test "option without its argument" {
    run -2 timeout 10 "$RINGCAST" 127.0.0.1:9 --ring-size
    [ "${lines[0]}" = "ringcast: option '--ring-size' needs an argument" ]
}

@test "no destination" {
    run -2 timeout 10 "$RINGCAST" -i /dev/null
    [ "${lines[0]}" = "ringcast: no destination given (expected DEST..., -o DEST or -l [HOST:]PORT)" ]
}

@test "a host without a port" {
    run -2 timeout 10 "$RINGCAST" host
    [ "${lines[0]}" = "ringcast: destination 'host': missing port $dest_forms" ]
    [ "${lines[1]}" = "$try_line" ]
}

@test "port 0 and port 70000" {
    run -2 timeout 10 "$RINGCAST" 127.0.0.1:0
    [ "${lines[0]}" = "ringcast: destination '127.0.0.1:0': port out of range (1-65535)" ]
    run -2 timeout 10 "$RINGCAST" -o tcp://127.0.0.1:70000
    [ "${lines[0]}" = "ringcast: destination 'tcp://127.0.0.1:70000': port out of range (1-65535)" ]
}

@test "a port that is not a number" {
    run -2 timeout 10 "$RINGCAST" host:http
    [ "${lines[0]}" = "ringcast: destination 'host:http': port 'http' is not a number $dest_forms" ]
}

@test "an empty destination" {
    run -2 timeout 10 "$RINGCAST" -o ''
    [ "${lines[0]}" = "ringcast: destination '': empty $dest_forms" ]
}

@test "an IPv6 address without brackets" {
    run -2 timeout 10 "$RINGCAST" ::1:9000
    [ "${lines[0]}" = "ringcast: destination '::1:9000': an IPv6 address needs brackets $dest_forms" ]
}

@test "a scheme ringcast does not speak, as DEST: named as such, with the forms accepted" {
    run -2 timeout 10 "$RINGCAST" -i /dev/null udp://127.0.0.1:9000
    [ "${lines[0]}" = "ringcast: destination 'udp://127.0.0.1:9000': unsupported scheme 'udp://' $dest_forms" ]
    [ "${lines[1]}" = "$try_line" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null unix:/tmp/x.sock
    [ "${lines[0]}" = "ringcast: destination 'unix:/tmp/x.sock': unsupported scheme 'unix:' $dest_forms" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null -o UDP:127.0.0.1:9000
    [ "${lines[0]}" = "ringcast: destination 'UDP:127.0.0.1:9000': unsupported scheme 'UDP:' $dest_forms" ]
    # A source's scheme as DEST: most likely the source without -i.
    run -2 timeout 10 "$RINGCAST" https://example.org/disk.img 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: destination 'https://example.org/disk.img': https:// is for a source (-i), not a destination $dest_forms" ]
}

@test "a path after a DEST's port: the trailing part is named" {
    run -2 timeout 10 "$RINGCAST" -i /dev/null tcp://127.0.0.1:1/
    [ "${lines[0]}" = "ringcast: destination 'tcp://127.0.0.1:1/': unexpected '/' after port 1 $dest_forms" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null 127.0.0.1:80/index.html
    [ "${lines[0]}" = "ringcast: destination '127.0.0.1:80/index.html': unexpected '/index.html' after port 80 $dest_forms" ]
}

@test "a bare port as DEST: missing host, and how to listen there instead" {
    run -2 timeout 10 "$RINGCAST" -i /dev/null 9000
    [ "${lines[0]}" = "ringcast: destination '9000': missing host; to listen on port 9000, use -l 9000 $dest_forms" ]
}

@test "-l: a host without its port, with the forms -l takes" {
    run -2 timeout 10 "$RINGCAST" -i /dev/null -l abc
    [ "${lines[0]}" = "ringcast: -l 'abc': missing port $listen_forms" ]
    [ "${lines[1]}" = "$try_line" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null -l 127.0.0.1
    [ "${lines[0]}" = "ringcast: -l '127.0.0.1': missing port $listen_forms" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null -l localhost
    [ "${lines[0]}" = "ringcast: -l 'localhost': missing port $listen_forms" ]
    run -2 timeout 10 "$RINGCAST" -i tcp-listen://127.0.0.1 127.0.0.1:9
    [ "$output" = "ringcast: tcp-listen://127.0.0.1: missing port $tls_forms" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null -l 9000/
    [ "${lines[0]}" = "ringcast: -l '9000/': unexpected '/' after port 9000 $listen_forms" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null -l udp://0:9000
    [ "${lines[0]}" = "ringcast: -l 'udp://0:9000': unsupported scheme 'udp://' $listen_forms" ]
}

@test "--dests-from: a bad line gets the same reasons, after the file and line" {
    printf '127.0.0.1:9\n# a comment\nudp://127.0.0.1:9000  # there\n' > "$T/fleet"
    run -2 timeout 10 "$RINGCAST" -i /dev/null --dests-from "$T/fleet"
    [ "${lines[0]}" = "ringcast: --dests-from $T/fleet: line 3: destination 'udp://127.0.0.1:9000': unsupported scheme 'udp://' $dest_forms" ]
    printf '9000\n' > "$T/fleet"
    run -2 timeout 10 "$RINGCAST" -i /dev/null --dests-from "$T/fleet"
    [ "${lines[0]}" = "ringcast: --dests-from $T/fleet: line 1: destination '9000': missing host; to listen on port 9000, use -l 9000 $dest_forms" ]
    # Two on a line: not an IPv6 address without brackets.
    printf '127.0.0.1:9 127.0.0.1:10\n' > "$T/fleet"
    run -2 timeout 10 "$RINGCAST" -i /dev/null --dests-from "$T/fleet"
    [ "${lines[0]}" = "ringcast: --dests-from $T/fleet: line 1: destination '127.0.0.1:9 127.0.0.1:10': unexpected '127.0.0.1:10' after '127.0.0.1:9' (one DEST per line)" ]
}

@test "--dests-from: a line with control bytes is shown escaped, like every name from outside" {
    printf 'bad\033[31mhost\n' > "$T/fleet"
    run -2 timeout 10 "$RINGCAST" -i /dev/null --dests-from "$T/fleet"
    [ "${lines[0]}" = "ringcast: --dests-from $T/fleet: line 1: destination 'bad\\x1b[31mhost': missing port $dest_forms" ]
}

@test "sources: a scheme no source speaks, and tcp:// and tcp-listen:// forms, with the forms accepted" {
    run -2 timeout 10 "$RINGCAST" -i udp://127.0.0.1:9000 127.0.0.1:9
    [ "$output" = "ringcast: udp://127.0.0.1:9000: unsupported scheme 'udp://' (expected -, a file, tcp://HOST:PORT, tcp-listen://[HOST:]PORT, ringcast-listen://[HOST:]PORT or a URL: http, https, ftp, ftps, file, sftp or scp)" ]
    run -2 timeout 10 "$RINGCAST" -i tcp://127.0.0.1:1/ 127.0.0.1:9
    [ "$output" = "ringcast: tcp://127.0.0.1:1/: unexpected '/' after port 1 (expected tcp://HOST:PORT or tcp://[IPv6]:PORT)" ]
    run -2 timeout 10 "$RINGCAST" -i tcp-listen://abc 127.0.0.1:9
    [ "$output" = "ringcast: tcp-listen://abc: missing port $tls_forms" ]
    # A file of that name is still read as a file.
    mkdir "$T/udp:"
    printf 'a file\n' > "$T/udp:/h"
    sha256sum < "$T/udp:/h" | cut -d' ' -f1 > "$T/h.sha"
    start_receivers 1
    run -0 bash -c 'cd "$1" && timeout 30 "$2" -q -i udp://h "$3"' - "$T" "$RINGCAST" "${DESTS[0]}"
    wait_receivers 30
    check_receivers "$T/h.sha" 7
}

@test "an address in use is named once: push -l, --serve -l and tcp-listen://" {
    local port
    refused_port
    port=$REFUSED_PORT
    run -2 timeout 10 "$RINGCAST" -i /dev/null -l "127.0.0.1:$port"
    [ "$output" = "ringcast: -l 127.0.0.1:$port: Address already in use" ]
    run -2 timeout 10 "$RINGCAST" --serve -l "127.0.0.1:$port" /dev/null
    [ "$output" = "ringcast: -l 127.0.0.1:$port: Address already in use" ]
    run -2 timeout 10 "$RINGCAST" -i "tcp-listen://127.0.0.1:$port" 127.0.0.1:9
    [ "$output" = "ringcast: tcp-listen://127.0.0.1:$port: Address already in use" ]
    # With DESTs: nothing was started, and no line says so of each.
    printf 'x\n' > "$T/s.txt"
    run -2 timeout 10 "$RINGCAST" -i "$T/s.txt" -l "127.0.0.1:$port" 127.0.0.1:9
    [ "$output" = "ringcast: -l 127.0.0.1:$port: Address already in use" ]
    # A name, which may resolve to several addresses: the one that failed too.
    run -2 timeout 10 "$RINGCAST" -4 -i /dev/null -l "localhost:$port"
    [ "$output" = "ringcast: -l localhost:$port: 127.0.0.1:$port: Address already in use" ]
}

@test "bad sizes, durations and choices" {
    run -2 timeout 10 "$RINGCAST" --ring-size 12Q 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --ring-size '12Q': $not_size" ]
    run -2 timeout 10 "$RINGCAST" --ring-size 1K 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --ring-size '1K': must be between 64.0 KiB and 1.0 TiB" ]
    run -2 timeout 10 "$RINGCAST" --ring-size 1T 127.0.0.1:9
    [[ ${lines[0]} == "ringcast: --ring-size 1T (1099511627776 bytes) is more than half of this machine's memory ("*")" ]]
    run -2 timeout 10 "$RINGCAST" --ring-size 1M --chunk 2M 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --chunk 2M (2097152 bytes) exceeds --ring-size 1M (1048576 bytes)" ]
    run -2 timeout 10 "$RINGCAST" --ring-size 64K --chunk 64.0005K 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --chunk 64.0005K (65537 bytes) exceeds --ring-size 64K (65536 bytes)" ]
    run -2 timeout 10 "$RINGCAST" --chunk 128M 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --chunk 128M (134217728 bytes) exceeds the default --ring-size (67108864 bytes)" ]
    local pg ring
    pg=$(getconf PAGESIZE)
    ring=$(((65537 + pg - 1) / pg * pg))
    run -2 timeout 10 "$RINGCAST" --ring-size 65537 --chunk $((ring + 1)) 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --chunk $((ring + 1)) ($((ring + 1)) bytes) exceeds --ring-size 65537 ($ring bytes, rounded up to whole pages)" ]
    run -2 timeout 10 "$RINGCAST" --grace soon 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --grace 'soon': not a duration (like 10s, 1.5s, 500ms, 2m)" ]
    run -2 timeout 10 "$RINGCAST" --stall-timeout soon 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --stall-timeout 'soon': not a duration (like 10s, 1.5s, 500ms, 2m)" ]
    run -2 timeout 10 "$RINGCAST" --mlock maybe 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --mlock 'maybe': expected auto, on or off" ]
    run -2 timeout 10 "$RINGCAST" --transport carrier-pigeon 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --transport 'carrier-pigeon': expected auto, uring, msgzc, sendfile or copy" ]
    run -2 timeout 10 "$RINGCAST" -4 -6 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: -4 and -6 contradict each other" ]
}

@test "decimal sizes: a fraction of a byte, a dot without digits, too large" {
    run -2 timeout 10 "$RINGCAST" --rate 1.5 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --rate '1.5': not a whole number of bytes (a fraction needs K, M, G or T)" ]
    [ "${lines[1]}" = "$try_line" ]
    run -2 timeout 10 "$RINGCAST" --chunk 1.M 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --chunk '1.M': $not_size" ]
    run -2 timeout 10 "$RINGCAST" --ring-size .5G 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --ring-size '.5G': $not_size" ]
    run -2 timeout 10 "$RINGCAST" --rate 1.2.3M 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --rate '1.2.3M': $not_size" ]
    run -2 timeout 10 "$RINGCAST" --rate 1.00000000000000000001M 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --rate '1.00000000000000000001M': too many decimals (at most 19)" ]
    run -2 timeout 10 "$RINGCAST" --rate 18446744073709551616 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --rate '18446744073709551616': must be between 1 B and 1.0 TiB" ]
    run -2 timeout 10 "$RINGCAST" --rate 1.0000001T 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --rate '1.0000001T': must be between 1 B and 1.0 TiB" ]
    run -2 timeout 10 "$RINGCAST" --grace 1e3 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --grace '1e3': not a duration (like 10s, 1.5s, 500ms, 2m)" ]
    run -2 timeout 10 "$RINGCAST" --grace 1000000000000.001 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --grace '1000000000000.001': too long (at most 1000000000000 s)" ]
}

@test "delivery policy and subscriber options: bad values and misplaced ones" {
    run -2 timeout 10 "$RINGCAST" --slow fast 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --slow 'fast': expected block or drop" ]
    run -2 timeout 10 "$RINGCAST" --max-lag 1M 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --max-lag only applies with --slow drop" ]
    run -2 timeout 10 "$RINGCAST" --slow drop --ring-size 4M --max-lag 8M 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --max-lag 8M (8388608 bytes) exceeds --ring-size 4M (4194304 bytes): no destination can fall further behind than the ring holds" ]
    run -2 timeout 10 "$RINGCAST" --retry many 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --retry 'many': not a number" ]
    run -2 timeout 10 "$RINGCAST" --retry 5000 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --retry '5000': must be between 0 and 1000" ]
    run -2 timeout 10 "$RINGCAST" --connect-timeout soon 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --connect-timeout 'soon': not a duration (like 10s, 1.5s, 500ms, 2m)" ]
    run -2 timeout 10 "$RINGCAST" --join oldest 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --join is for subscribers: it needs -l [HOST:]PORT without --serve" ]
    run -2 timeout 10 "$RINGCAST" --serve -l 0 --min-subscribers 2 /dev/null
    [ "${lines[0]}" = "ringcast: --min-subscribers is for subscribers: it needs -l [HOST:]PORT without --serve" ]
    run -2 timeout 10 "$RINGCAST" -l 0 --join middle
    [ "${lines[0]}" = "ringcast: --join 'middle': expected start, live or oldest" ]
    run -2 timeout 10 "$RINGCAST" --allow 10.0.0.0/8 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --allow restricts who may connect to -l or to a listening SOURCE (tcp-listen://, ringcast-listen://); there is neither" ]
    run -2 timeout 10 "$RINGCAST" -l 0 --allow 10.0.0.0/40
    [ "${lines[0]}" = "ringcast: --allow '10.0.0.0/40': prefix length must be 0-32" ]
    run -2 timeout 10 "$RINGCAST" -l 0 --allow example.org
    [ "${lines[0]}" = "ringcast: --allow 'example.org': not an IPv4 or IPv6 address" ]
    run -2 timeout 10 "$RINGCAST" -l 0 --min-subscribers 5 --max-subscribers 2
    [ "${lines[0]}" = "ringcast: --min-subscribers 5 is more than --max-subscribers 2" ]
}

@test "--serve --slow drop: --slow is for streams, exit 2" {
    run -2 timeout 10 "$RINGCAST" --serve --slow drop -l 127.0.0.1:0 /dev/null
    [ "${lines[0]}" = "ringcast: --slow is for streams: --serve does not use it" ]
    [ "${lines[1]}" = "$try_line" ]
}

@test "--serve without --http and two BLOBs: refused, as raw TCP sends one" {
    : > "$T/a.img"
    : > "$T/b.txt"
    run -2 timeout 10 "$RINGCAST" --serve -l 127.0.0.1:0 "$T/a.img" "$T/b.txt"
    [ "${lines[0]}" = "ringcast: --serve without --http sends each client the first BLOB only, and 2 are given: add --http to serve each by its name" ]
    [ "${lines[1]}" = "$try_line" ]
}

@test "serve mode's options in a stream: refused, exit 2" {
    run -2 timeout 10 "$RINGCAST" -i /dev/null --max-clients 5 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --max-clients needs --serve (subscribers: --max-subscribers)" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null -l 127.0.0.1:0 --idle-timeout 5s
    [ "${lines[0]}" = "ringcast: --idle-timeout needs --serve (streams: --stall-timeout)" ]
    run -2 timeout 10 "$RINGCAST" --serve -l 127.0.0.1:0 --header-timeout 5s /dev/null
    [ "${lines[0]}" = "ringcast: --header-timeout needs --serve --http" ]
}

@test "every option of the mode table, in every mode that does not take it: its message, exit 2" {
    local label name arg modes msg bit n=0 opt
    # A valid argument for every option that takes one.
    local -A sample=(
        [input]=/dev/null [output]=127.0.0.1:9 [dests-from]=$T/fleet [ring-size]=1M [chunk]=64K
        [mlock]=off [file-pages]=off [transport]=copy [grace]=1s [stall-timeout]=1s [slow]=drop [max-lag]=1M
        [retry]=1 [connect-timeout]=1s [threads]=1 [rate]=1.5M [header]='X-A: b' [user]=a:b
        [extract]=x [listen]=127.0.0.1:0 [min-subscribers]=1 [max-subscribers]=1
        [wait-timeout]=1s [join]=live [allow]=127.0.0.1 [max-clients]=10 [max-header]=8K
        [header-timeout]=1s [idle-timeout]=1s [stats]=$T/st.json [expect-digest]=2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 [tree]=2 [key-file]=/dev/null [size]=1M
    )
    printf '127.0.0.1:9\n' > "$T/fleet"
    # push, subscribe, raw serve, HTTP serve: the modes' bits in src/cli.c
    local -A base=(
        [1]="-i /dev/null 127.0.0.1:9" [2]="-i /dev/null -l 127.0.0.1:0"
        [4]="--serve -l 127.0.0.1:0 /dev/null" [8]="--serve --http -l 127.0.0.1:0 /dev/null"
    )
    "$PY" "$HELPERS/option_modes.py" "$BATS_TEST_DIRNAME/../src/cli.c" > "$T/table"
    [ "$(wc -l < "$T/table")" -ge 40 ]
    while IFS=$'\t' read -r label name arg modes msg; do
        opt=("$label")
        if [ "$arg" = 1 ]; then
            [ -n "${sample[$name]+set}" ] || { echo "no sample argument for --$name" >&2; return 1; }
            opt+=("${sample[$name]}")
        fi
        for bit in 1 2 4 8; do
            ((modes & bit)) && continue
            # shellcheck disable=SC2086 # base holds words
            run timeout 10 "$RINGCAST" "${opt[@]}" ${base[$bit]}
            [ "$status" -eq 2 ] && [ "${lines[0]}" = "ringcast: $label $msg" ] ||
                { echo "${opt[*]} ${base[$bit]}: exit $status: $output" >&2; return 1; }
            n=$((n + 1))
        done
    done < "$T/table"
    # Stream options twice (both serve modes), serve ones twice, and so on.
    [ "$n" -ge 60 ]
}

@test "durations: above 0 but under half a millisecond is refused, not taken for 0; 20 decimals; units in any case" {
    run -2 timeout 10 "$RINGCAST" -i /dev/null -l 127.0.0.1:0 --wait-timeout 0.0004s
    [ "${lines[0]}" = "ringcast: --wait-timeout '0.0004s': rounds to 0 ms; the smallest is 1ms" ]
    [ "${lines[1]}" = "$try_line" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null --stall-timeout 0.4ms 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --stall-timeout '0.4ms': rounds to 0 ms; the smallest is 1ms" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null --grace 1.00000000000000000001s 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --grace '1.00000000000000000001s': too many decimals (at most 19)" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null --grace 10sec 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --grace '10sec': not a duration (like 10s, 1.5s, 500ms, 2m)" ]
    # S, MS, M and H in any case, as sizes take theirs.
    make_input in 1
    deliver 1 "$T/in.sha" $((1 << 20)) -i "$T/in" --stall-timeout 1S --grace 500MS --connect-timeout 1M
}

@test "addresses: brackets only for IPv6, more colons after the port, white space" {
    run -2 timeout 10 "$RINGCAST" -i /dev/null 127.0.0.1:9000:1
    [ "${lines[0]}" = "ringcast: destination '127.0.0.1:9000:1': unexpected ':1' after port 9000 $dest_forms" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null -l 127.0.0.1:0:1
    [ "${lines[0]}" = "ringcast: -l '127.0.0.1:0:1': unexpected ':1' after port 0 $listen_forms" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null '[127.0.0.1]:9'
    [ "${lines[0]}" = "ringcast: destination '[127.0.0.1]:9': brackets are for IPv6 addresses only $dest_forms" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null ' 127.0.0.1:9000'
    [ "${lines[0]}" = "ringcast: destination ' 127.0.0.1:9000': unexpected ' ' at the start $dest_forms" ]
    [ "${lines[1]}" = "$try_line" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null '127.0.0.1:9000 '
    [ "${lines[0]}" = "ringcast: destination '127.0.0.1:9000 ': unexpected ' ' after port 9000 $dest_forms" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null -l ' 9000'
    [ "${lines[0]}" = "ringcast: -l ' 9000': unexpected ' ' at the start $listen_forms" ]
}

@test "schemes: -l takes none, tcp: without its //, any case" {
    run -2 timeout 10 "$RINGCAST" -i /dev/null -l tcp://127.0.0.1:9000
    [ "${lines[0]}" = "ringcast: -l 'tcp://127.0.0.1:9000': -l takes no scheme: did you mean -l 127.0.0.1:9000? $listen_forms" ]
    [ "${lines[1]}" = "$try_line" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null -l tcp-listen://127.0.0.1:9000
    [ "${lines[0]}" = "ringcast: -l 'tcp-listen://127.0.0.1:9000': -l takes no scheme: did you mean -l 127.0.0.1:9000? $listen_forms" ]
    run -2 timeout 10 "$RINGCAST" --serve -l TCP://abc /dev/null
    [ "${lines[0]}" = "ringcast: -l 'TCP://abc': -l takes no scheme $listen_forms" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null tcp:127.0.0.1:9
    [ "${lines[0]}" = "ringcast: destination 'tcp:127.0.0.1:9': did you mean tcp://127.0.0.1:9? $dest_forms" ]
    run -2 timeout 10 "$RINGCAST" -i tcp:127.0.0.1:9 127.0.0.1:9
    [ "$output" = "ringcast: tcp:127.0.0.1:9: No such file or directory; did you mean tcp://127.0.0.1:9?" ]
    run -2 timeout 10 "$RINGCAST" -i tcp-listen:0 127.0.0.1:9
    [ "$output" = "ringcast: tcp-listen:0: No such file or directory; did you mean tcp-listen://0?" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null Tcp-Listen://0
    [ "${lines[0]}" = "ringcast: destination 'Tcp-Listen://0': Tcp-Listen:// is for a source (-i), not a destination $dest_forms" ]
    # In any case, as DEST (RFC 3986 section 3.1).
    make_input in 1
    start_receivers 1
    run -0 timeout 30 "$RINGCAST" -q -i "$T/in" "TCP://${DESTS[0]}"
    wait_receivers 30
    check_receivers "$T/in.sha" $((1 << 20))
}

@test "-l and tcp-listen:// take the same forms: :PORT is every address, ::1 needs brackets in both" {
    run -2 timeout 10 "$RINGCAST" -i /dev/null -l ::1
    [ "${lines[0]}" = "ringcast: -l '::1': an IPv6 address needs brackets $listen_forms" ]
    run -2 timeout 10 "$RINGCAST" -i tcp-listen://::1 127.0.0.1:9
    [ "$output" = "ringcast: tcp-listen://::1: an IPv6 address needs brackets $tls_forms" ]
    run -2 timeout 10 "$RINGCAST" -i tcp-listen://127.0.0.1:0:1 127.0.0.1:9
    [ "$output" = "ringcast: tcp-listen://127.0.0.1:0:1: unexpected ':1' after port 0 $tls_forms" ]
    # :PORT: no subscriber is waited for and no DEST given, so it ends at once.
    run -1 timeout 10 "$RINGCAST" -i /dev/null -l :0 --min-subscribers 0
    [[ ${lines[0]} =~ ^"ringcast: listening on "(\[::\]|0\.0\.0\.0):[0-9]+" for subscribers"$ ]]
}

@test "-4 and -6 with an address of the other family, as DEST, -l, tcp:// and tcp-listen://" {
    run -2 timeout 10 "$RINGCAST" -6 -i /dev/null 127.0.0.1:9
    [ "$output" = "ringcast: 127.0.0.1:9: not an IPv6 address, and -6 is given" ]
    run -2 timeout 10 "$RINGCAST" -4 -i /dev/null '[::1]:9'
    [ "$output" = "ringcast: [::1]:9: not an IPv4 address, and -4 is given" ]
    run -2 timeout 10 "$RINGCAST" -6 -i /dev/null -l 127.0.0.1:0
    [ "$output" = "ringcast: -l 127.0.0.1:0: not an IPv6 address, and -6 is given" ]
    run -2 timeout 10 "$RINGCAST" -6 --serve -l 127.0.0.1:0 /dev/null
    [ "$output" = "ringcast: -l 127.0.0.1:0: not an IPv6 address, and -6 is given" ]
    run -2 timeout 10 "$RINGCAST" -6 -i tcp://127.0.0.1:9 '[::1]:9'
    [ "$output" = "ringcast: tcp://127.0.0.1:9: not an IPv6 address, and -6 is given" ]
    run -2 timeout 10 "$RINGCAST" -4 -i 'tcp-listen://[::1]:0' 127.0.0.1:9
    [ "$output" = "ringcast: tcp-listen://[::1]:0: not an IPv4 address, and -4 is given" ]
    # A name without an address of that family (here: none resolves).
    run -2 timeout 30 "$RINGCAST" -6 -i /dev/null nosuch.invalid:9
    [ "$output" = "ringcast: nosuch.invalid:9: cannot resolve nosuch.invalid: Name or service not known" ]
}

@test "options the others leave nothing to do: refused, exit 2" {
    run -2 timeout 10 "$RINGCAST" -i /dev/null -H 'X:y' 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: -H is for a URL source, and the source (/dev/null) is not one" ]
    [ "${lines[1]}" = "$try_line" ]
    run -2 timeout 10 "$RINGCAST" -u a:b 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: -u is for a URL source, and the source (standard input) is not one" ]
    run -2 timeout 10 "$RINGCAST" -i "file://$T/x" --netrc 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --netrc is for a URL source, and the source (file://$T/x) is not one" ]
    run -2 timeout 10 "$RINGCAST" --serve --http -H 'X:y' -l 127.0.0.1:0 /dev/null "$T/x"
    [ "${lines[0]}" = "ringcast: -H is for URL BLOBs, and no BLOB is a URL" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null -l 127.0.0.1:0 --retry 3
    [ "${lines[0]}" = "ringcast: --retry is for DESTs, and none is given: subscribers connect by themselves" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null -l 127.0.0.1:0 --connect-timeout 1s
    [ "${lines[0]}" = "ringcast: --connect-timeout is for DESTs, and none is given: subscribers connect by themselves" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null -l 127.0.0.1:0 -j 2
    [ "${lines[0]}" = "ringcast: -j shares the DESTs out among sending threads, and none is given: subscribers are sent to by the main thread" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null -l 127.0.0.1:0 --wait-timeout 5s 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --wait-timeout has nothing to wait for with --min-subscribers 0 (the default when DESTs are given)" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null -l 127.0.0.1:0 --min-subscribers 0 --wait-timeout 5s
    [ "${lines[0]}" = "ringcast: --wait-timeout has nothing to wait for with --min-subscribers 0 (the default when DESTs are given)" ]
}

@test "-i, -l and --stats given twice: refused; other options take the last value" {
    run -2 timeout 10 "$RINGCAST" -i /dev/null -i /dev/zero 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: -i given twice" ]
    [ "${lines[1]}" = "$try_line" ]
    run -2 timeout 10 "$RINGCAST" --input /dev/null -l 127.0.0.1:0 --listen 127.0.0.1:0
    [ "${lines[0]}" = "ringcast: -l given twice" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null --stats - --stats "$T/st" 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --stats given twice" ]
    run -2 timeout 10 "$RINGCAST" -i /dev/null --ring-size 1M --ring-size 64K --chunk 128K 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --chunk 128K (131072 bytes) exceeds --ring-size 64K (65536 bytes)" ]
}

@test "a missing source file" {
    run -2 timeout 10 "$RINGCAST" -i "$T/nonexistent" 127.0.0.1:9
    [ "$output" = "ringcast: $T/nonexistent: No such file or directory" ]
}

@test "a directory as source" {
    run -2 timeout 10 "$RINGCAST" -i "$T" 127.0.0.1:9
    [ "$output" = "ringcast: $T: is a directory" ]
}

@test "an unresolvable host name" {
    run -2 timeout 30 "$RINGCAST" -i /dev/null nosuch.invalid:9000
    [ "$output" = "ringcast: nosuch.invalid:9000: cannot resolve nosuch.invalid: Name or service not known" ]
}

@test "a refused connection: reported by address, exit 1" {
    local port
    refused_port
    port=$REFUSED_PORT
    run -1 timeout 10 "$RINGCAST" -i /dev/null "127.0.0.1:$port"
    [ "${lines[0]}" = "ringcast: 127.0.0.1:$port: connect: Connection refused" ]
    [ "${lines[1]}" = "ringcast: 1 of 1 destination did not receive the whole stream" ]
}

@test "a refused destination among good ones: the others get everything, exit 1" {
    make_input in 8
    start_receivers 3
    local port
    refused_port
    port=$REFUSED_PORT
    run -1 timeout 30 "$RINGCAST" -i "$T/in" "${DESTS[@]}" "127.0.0.1:$port"
    [ "${lines[0]}" = "ringcast: 127.0.0.1:$port: connect: Connection refused" ]
    wait_receivers 30
    check_receivers "$T/in.sha" $((8 << 20))
}

@test "--help and --version" {
    run -0 timeout 10 "$RINGCAST" --help
    [[ ${lines[0]} == "usage: ringcast [-46Pqv] [-i SOURCE] [-o DEST]... [OPTIONS] [DEST...]" ]]
    run -0 timeout 10 "$RINGCAST" --version
    [ "${lines[0]}" = "ringcast 0.1.0" ]
    [[ ${lines[1]} == "transports: "*copy* ]]
}
