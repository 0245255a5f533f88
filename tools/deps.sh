#!/bin/sh
# Install the Debian packages ringcast needs to build, test and benchmark,
# skipping the ones already there.  Run as root (or with sudo) on Debian 12.
set -eu
want="gcc clang clang-format make libc6-dev pkg-config liburing-dev libcurl4-openssl-dev libarchive-dev zlib1g-dev libssl-dev python3 bats perl util-linux iproute2 man-db mandoc curl wget openssl zip zstd xz-utils bzip2 lz4 valgrind libfuse3-dev fuse3"
# The Debian package (debian/, tests/package.bats): its tools, and systemd-analyze.
want="$want dpkg-dev debhelper lintian fakeroot systemd"
case "${1:-}" in
--bench) want="$want mbuffer socat ncat gnuplot-nox nginx-light wrk linux-perf udpcast" ;;
esac
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing > /dev/null
