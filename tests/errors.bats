#!/usr/bin/env bats
# Bad input: the exact message, the exact exit status, and no hang.

load helpers/common

setup() { common_setup; }
teardown() { common_teardown; }

try_line="Try 'ringcast --help' for more information."

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
    [ "${lines[0]}" = "ringcast: destination 'host': missing port (expected HOST:PORT)" ]
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
    [ "${lines[0]}" = "ringcast: destination 'host:http': port is not a number" ]
}

@test "an empty destination" {
    run -2 timeout 10 "$RINGCAST" -o ''
    [ "${lines[0]}" = "ringcast: destination '': empty (expected HOST:PORT)" ]
}

@test "an IPv6 address without brackets" {
    run -2 timeout 10 "$RINGCAST" ::1:9000
    [ "${lines[0]}" = "ringcast: destination '::1:9000': IPv6 addresses need brackets: [ADDRESS]:PORT" ]
}

@test "bad sizes, durations and choices" {
    run -2 timeout 10 "$RINGCAST" --ring-size 12Q 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --ring-size '12Q': not a size (use a number with K, M or G)" ]
    run -2 timeout 10 "$RINGCAST" --ring-size 1K 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --ring-size '1K': must be between 64.0 KiB and 1.0 TiB" ]
    run -2 timeout 10 "$RINGCAST" --ring-size 1T 127.0.0.1:9
    [[ ${lines[0]} == "ringcast: --ring-size: more than half of this machine's memory ("*")" ]]
    run -2 timeout 10 "$RINGCAST" --ring-size 1M --chunk 2M 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --chunk must not exceed --ring-size" ]
    run -2 timeout 10 "$RINGCAST" --grace soon 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --grace 'soon': not a duration (like 10s, 500ms, 2m)" ]
    run -2 timeout 10 "$RINGCAST" --stall-timeout soon 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --stall-timeout 'soon': not a duration (like 10s, 500ms, 2m)" ]
    run -2 timeout 10 "$RINGCAST" --mlock maybe 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --mlock 'maybe': expected auto, on or off" ]
    run -2 timeout 10 "$RINGCAST" --transport carrier-pigeon 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --transport 'carrier-pigeon': expected auto, uring, msgzc, sendfile or copy" ]
    run -2 timeout 10 "$RINGCAST" -4 -6 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: -4 and -6 contradict each other" ]
}

@test "delivery policy and subscriber options: bad values and misplaced ones" {
    run -2 timeout 10 "$RINGCAST" --slow fast 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --slow 'fast': expected block or drop" ]
    run -2 timeout 10 "$RINGCAST" --max-lag 1M 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --max-lag only applies with --slow drop" ]
    run -2 timeout 10 "$RINGCAST" --slow drop --ring-size 4M --max-lag 8M 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --max-lag must not exceed --ring-size: no destination can fall further behind than the ring holds" ]
    run -2 timeout 10 "$RINGCAST" --retry many 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --retry 'many': not a number" ]
    run -2 timeout 10 "$RINGCAST" --retry 5000 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --retry '5000': must be between 0 and 1000" ]
    run -2 timeout 10 "$RINGCAST" --connect-timeout soon 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --connect-timeout 'soon': not a duration (like 10s, 500ms, 2m)" ]
    run -2 timeout 10 "$RINGCAST" --join oldest 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --join is for subscribers: it needs -l [HOST:]PORT without --serve" ]
    run -2 timeout 10 "$RINGCAST" --serve -l 0 --min-subscribers 2 /dev/null
    [ "${lines[0]}" = "ringcast: --min-subscribers is for subscribers: it needs -l [HOST:]PORT without --serve" ]
    run -2 timeout 10 "$RINGCAST" -l 0 --join middle
    [ "${lines[0]}" = "ringcast: --join 'middle': expected start, live or oldest" ]
    run -2 timeout 10 "$RINGCAST" --allow 10.0.0.0/8 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --allow restricts who may connect to -l; there is no -l" ]
    run -2 timeout 10 "$RINGCAST" -l 0 --allow 10.0.0.0/40
    [ "${lines[0]}" = "ringcast: --allow '10.0.0.0/40': prefix length must be 0-32" ]
    run -2 timeout 10 "$RINGCAST" -l 0 --allow example.org
    [ "${lines[0]}" = "ringcast: --allow 'example.org': not an IPv4 or IPv6 address" ]
    run -2 timeout 10 "$RINGCAST" -l 0 --min-subscribers 5 --max-subscribers 2
    [ "${lines[0]}" = "ringcast: --min-subscribers 5 is more than --max-subscribers 2" ]
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
