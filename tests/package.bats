#!/usr/bin/env bats
# The Debian package: debian/ builds ringcast_VERSION_ARCH.deb (VERSION from
# src/version.h) holding the binary, the man page, the bash, zsh and fish
# completions, both systemd units and the receiver's example configuration;
# lintian finds no error in it; systemd-analyze accepts the units.
#
# The package is built once for the file (setup_file, about a minute), with
# `dpkg-buildpackage -us -uc -b` in a copy of the work tree: the files git
# tracks, as they are now, and the new ones it does not ignore (so neither
# the tree's build/ nor its debian/ is touched).

load helpers/common

ROOT=$BATS_TEST_DIRNAME/..

# Why the file's tests skip, or "": bats 1.8 cannot skip from setup_file,
# so setup_file says why and each test's setup skips.
no_package() {
    local tool
    for tool in dpkg-buildpackage dpkg-checkbuilddeps dh lintian git; do
        command -v "$tool" > /dev/null || {
            echo "$tool is not installed (tools/deps.sh installs dpkg-dev, debhelper, lintian)"
            return
        }
    done
    git -C "$ROOT" rev-parse --git-dir > /dev/null 2>&1 ||
        echo "not a git checkout: the tree to package is what git ls-files lists"
}

setup_file() {
    PKG=$(mktemp -d "${TMPDIR:-/tmp}/ringcast-package.XXXXXX")
    export PKG
    NO_PACKAGE=$(no_package)
    export NO_PACKAGE
    [ -z "$NO_PACKAGE" ] || return 0
    mkdir "$PKG/src"
    # A tracked file deleted in the work tree is left out, not an error.
    git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
        tar -C "$ROOT" --null -T - --ignore-failed-read -cf - 2> /dev/null |
        tar -C "$PKG/src" -xf -
    if ! (cd "$PKG/src" && dpkg-checkbuilddeps) > "$PKG/builddeps" 2>&1; then
        NO_PACKAGE="build dependencies missing (tools/deps.sh installs them): $(cat "$PKG/builddeps")"
        return 0
    fi
    # The build's status is the first test's to report, with its log.
    local status=0
    (cd "$PKG/src" && timeout 600 dpkg-buildpackage -us -uc -b) > "$PKG/build.log" 2>&1 || status=$?
    echo "$status" > "$PKG/build.status"
}

teardown_file() {
    [ -z "${PKG:-}" ] || rm -rf "$PKG"
}

setup() {
    [ -z "$NO_PACKAGE" ] || skip "$NO_PACKAGE"
    common_setup
    VERSION=$(sed -n 's/^#define RINGCAST_VERSION "\(.*\)"$/\1/p' "$ROOT/src/version.h")
    DEB=$PKG/ringcast_${VERSION}_$(dpkg --print-architecture).deb
}

teardown() { common_teardown; }

# The .deb, unpacked into $T/root (fails, saying so, if the build made none).
unpack() {
    [ -f "$DEB" ] || { echo "no $DEB: the build failed (see its test)" >&2; return 1; }
    dpkg-deb -x "$DEB" "$T/root"
}

@test "dpkg-buildpackage builds ringcast_VERSION_ARCH.deb, VERSION as in src/version.h" {
    [ -n "$VERSION" ]
    if [ "$(cat "$PKG/build.status")" != 0 ]; then
        echo "dpkg-buildpackage failed (status $(cat "$PKG/build.status")):" >&2
        grep -v '^cc ' "$PKG/build.log" | tail -40 >&2
        return 1
    fi
    [ -f "$DEB" ] || { ls "$PKG" >&2; echo "no $DEB (debian/changelog's version?)" >&2; false; }
    # The test suite is not run by the package build (it runs in CI).
    ! grep -q 'prove --comments' "$PKG/build.log"
}

@test "the package holds the binary, the man page, the completions, both units and the example" {
    [ -f "$DEB" ] || { echo "no $DEB: the build failed (see its test)" >&2; false; }
    dpkg-deb -c "$DEB" | awk '{ print $NF }' | sed 's|^\./||' > "$T/list"
    local f
    for f in usr/bin/ringcast usr/share/man/man1/ringcast.1.gz \
        usr/share/bash-completion/completions/ringcast \
        usr/share/zsh/vendor-completions/_ringcast \
        usr/share/fish/vendor_completions.d/ringcast.fish \
        lib/systemd/system/ringcast.service lib/systemd/system/ringcast-receive@.service \
        usr/share/doc/ringcast/examples/receive-example.conf; do
        grep -qxF "$f" "$T/list" || { echo "not in the package: $f" >&2; cat "$T/list" >&2; return 1; }
    done
    unpack
    run -0 "$T/root/usr/bin/ringcast" --version
    [ "${lines[0]}" = "ringcast $VERSION" ]
    # The packaged serve unit runs the packaged binary.
    grep -qx 'ExecStart=/usr/bin/ringcast .*' "$T/root/lib/systemd/system/ringcast.service"
    ! grep -q /usr/local "$T/root/lib/systemd/system/ringcast.service"
    # No unit is started by the maintainer scripts, nor enabled unless the
    # administrator had enabled it (the enable that follows was-enabled).
    dpkg-deb -e "$DEB" "$T/control"
    ! grep -hE 'deb-systemd-invoke (start|restart)|systemctl .*start' "$T"/control/*
    awk '/deb-systemd-helper enable/ && prev !~ /was-enabled/ { print FILENAME ": " $0; bad = 1 }
        NF && !/^[[:space:]]*#/ { prev = $0 } END { exit bad }' "$T"/control/*
}

@test "lintian reports no error on the .deb and the .changes" {
    local changes=$PKG/ringcast_${VERSION}_$(dpkg --print-architecture).changes
    [ -f "$changes" ] || { echo "no $changes: the build failed (see its test)" >&2; false; }
    # The .changes names the .deb: lintian checks both.
    # (Its status says nothing more: it is 0 with warnings, 1 with errors.)
    timeout 300 lintian --info --pedantic "$changes" 2>&1 | grep -v 'running with root privileges' > "$T/lintian" || true
    if grep -q '^E: ' "$T/lintian"; then
        echo "lintian reports errors:" >&2
        cat "$T/lintian" >&2
        return 1
    fi
    # What it does report (warnings, notes) goes to the log.
    sed 's/^/# lintian: /' "$T/lintian" >&3
}

@test "systemd-analyze verify accepts the receiver template and the serve unit" {
    command -v systemd-analyze > /dev/null || skip "systemd-analyze is not installed"
    unpack
    local units=$T/root/lib/systemd/system
    mkdir "$T/units"
    cp "$units/ringcast-receive@.service" "$T/units/"
    # The serve unit's ExecStart must name a program that exists: the
    # unpacked one stands in for /usr/bin/ringcast.
    sed "s|^ExecStart=/usr/bin/ringcast |ExecStart=$T/root/usr/bin/ringcast |" \
        "$units/ringcast.service" > "$T/units/ringcast.service"
    cd "$T/units"
    # --man=no: the man page is in the package, not necessarily installed.
    run systemd-analyze verify --man=no ./ringcast-receive@.service ./ringcast-receive@disk.service \
        ./ringcast.service
    echo "$output" >&2
    [ "$status" -eq 0 ]
    # A warning (an unknown setting, a bad value) does not change the status.
    ! grep -q 'ringcast' <<< "$output"
}
