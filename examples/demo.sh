#!/bin/sh
# The built-in example: fan a generated 64 MiB stream out to four local
# receivers through ringcast and show that each got identical bytes.
set -eu
cd "$(dirname "$0")/.."
RINGCAST=${RINGCAST:-build/ringcast}
dir=$(mktemp -d /tmp/ringcast-demo.XXXXXX)
recv_pid=""
cleanup() {
    [ -n "$recv_pid" ] && kill "$recv_pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

python3 tests/helpers/recv.py --count 4 --portfile "$dir/ports" --out "$dir/results" --timeout 60 &
recv_pid=$!
i=0
while [ ! -s "$dir/ports" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
dests=$(sed 's/^/127.0.0.1:/' "$dir/ports" | tr '\n' ' ')

echo "generating 64 MiB of random data and sending it to: $dests"
head -c 64M /dev/urandom | tee "$dir/src" | "$RINGCAST" -v --ring-size 8M $dests
wait "$recv_pid"
recv_pid=""

want=$(sha256sum < "$dir/src" | cut -d' ' -f1)
echo "source      $want  $(stat -c %s "$dir/src") bytes"
bad=0
while read -r idx port n sha end; do
    verdict=identical
    [ "$sha" = "$want" ] || { verdict=DIFFERENT; bad=1; }
    echo "receiver $idx  $sha  $n bytes  $verdict (port $port, $end)"
done < "$dir/results"
exit $bad
