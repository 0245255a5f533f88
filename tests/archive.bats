#!/usr/bin/env bats
# Archives and compressed streams through libarchive, made by the test with
# the system's own tar, zip, gzip, xz and zstd.

load helpers/common

setup() {
    common_setup
    mkdir -p "$T/d/sub"
    head -c $((6 << 20)) /dev/urandom > "$T/d/sub/disk.img"
    sha256sum < "$T/d/sub/disk.img" | cut -d' ' -f1 > "$T/disk.sha"
    printf 'hello\n' > "$T/d/readme.txt"
}
teardown() { common_teardown; }

@test "--extract one member of a tar.gz, a zip and a .tar.zst: it matches the file it was made from" {
    (cd "$T" && tar czf a.tar.gz d && zip -qr a.zip d && tar cf - d | zstd -q -o a.tar.zst)
    deliver 3 "$T/disk.sha" $((6 << 20)) --extract d/sub/disk.img -i "$T/a.tar.gz"
    deliver 3 "$T/disk.sha" $((6 << 20)) --extract d/sub/disk.img -i "$T/a.zip"
    deliver 3 "$T/disk.sha" $((6 << 20)) --extract ./d/sub/disk.img -i "$T/a.tar.zst"
}

@test "--extract reads the archive from stdin and from a URL too" {
    (cd "$T" && tar cJf a.tar.xz d)
    start_receivers 2
    run -0 timeout 60 bash -c '"$1" -q --extract d/sub/disk.img < "$2" "${@:3}"' _ "$RINGCAST" "$T/a.tar.xz" "${DESTS[@]}"
    wait_receivers 30
    check_receivers "$T/disk.sha" $((6 << 20))
    start_listening "$T/srv.err" --serve --http -l 127.0.0.1:0 "$T/a.tar.xz"
    local port=$PORT
    deliver 3 "$T/disk.sha" $((6 << 20)) --extract d/sub/disk.img -i "http://127.0.0.1:$port/a.tar.xz"
}

@test "-z decodes gzip, xz, zstd, bzip2 and lz4 by content, whatever the name" {
    local c
    for c in "gzip -c" "xz -c" "zstd -q -c" "bzip2 -c" "lz4 -q -c"; do
        $c < "$T/d/sub/disk.img" > "$T/stream.unnamed"
        deliver 3 "$T/disk.sha" $((6 << 20)) -z -i "$T/stream.unnamed" || { echo "$c" >&2; false; }
    done
}

@test "a missing member lists what the archive has; exit 2, nothing sent" {
    (cd "$T" && tar czf a.tar.gz d)
    start_receivers 1
    run -2 timeout 30 "$RINGCAST" --extract d/nothing -i "$T/a.tar.gz" "${DESTS[@]}"
    [ "${lines[0]}" = "ringcast: $T/a.tar.gz: no member 'd/nothing' in the archive; it has 4: d/, d/sub/, d/sub/disk.img, d/readme.txt" ] ||
        [ "${lines[0]}" = "ringcast: $T/a.tar.gz: no member 'd/nothing' in the archive; it has 4: d/, d/readme.txt, d/sub/, d/sub/disk.img" ] ||
        { echo "$output" >&2; false; }
    wait_receivers 30
    [ "$(grep -c ' 0 [0-9a-f]* error:ConnectionResetError$' "$T/results")" -eq 1 ]
}

@test "a corrupt or unrecognised archive, and -z on plain data, are clear errors" {
    (cd "$T" && tar czf a.tar.gz d)
    head -c 1000000 "$T/a.tar.gz" > "$T/cut.tar.gz"
    start_receivers 1
    run timeout 30 "$RINGCAST" --extract d/sub/disk.img -i "$T/cut.tar.gz" "${DESTS[@]}"
    [ "$status" -eq 1 ] || [ "$status" -eq 2 ]
    [ "${lines[0]}" = "ringcast: $T/cut.tar.gz: truncated gzip input" ] || { echo "$output" >&2; false; }
    wait_receivers 30
    start_receivers 1
    run -2 timeout 30 "$RINGCAST" --extract x -i "$T/d/readme.txt" "${DESTS[@]}"
    [ "${lines[0]}" = "ringcast: $T/d/readme.txt: Unrecognized archive format" ]
    wait_receivers 30
    start_receivers 1
    run -2 timeout 30 "$RINGCAST" -z -i "$T/d/readme.txt" "${DESTS[@]}"
    [ "${lines[0]}" = "ringcast: $T/d/readme.txt: -z: not compressed with gzip, bzip2, xz, zstd, lz4 or another filter libarchive knows" ]
    wait_receivers 30
    run -2 timeout 10 "$RINGCAST" -z --extract x 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --extract already decodes compressed archives; drop -z" ]
}

@test "serve --unpack: each regular member of a tar.gz and a zip is a blob under its path; ../ and absolute names are refused" {
    (cd "$T" && tar czf a.tar.gz d && mkdir z && cp d/readme.txt z/other.txt && zip -qr b.zip z)
    "$PY" -c '
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w")
for name, data in (("../evil", b"x"), ("/etc/abs", b"y"), ("ok/./fine.txt", b"fine\n")):
    i = tarfile.TarInfo(name)
    i.size = len(data)
    t.addfile(i, io.BytesIO(data))
t.close()' "$T/evil.tar"
    start_listening "$T/srv.err" --serve --http --unpack -l 127.0.0.1:0 "$T/a.tar.gz" "$T/b.zip" "$T/evil.tar"
    local port=$PORT
    curl -sSf -o "$T/got" "http://127.0.0.1:$port/d/sub/disk.img"
    [ "$(sha256sum < "$T/got" | cut -d' ' -f1)" = "$(cat "$T/disk.sha")" ]
    run -0 curl -sSf "http://127.0.0.1:$port/z/other.txt"
    [ "$output" = hello ]
    run -0 curl -sSf "http://127.0.0.1:$port/ok/fine.txt"
    [ "$output" = fine ]
    run -0 curl -s --path-as-is -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/../evil"
    [ "$output" = 404 ]
    grep -q "^ringcast: $T/evil.tar: skipping member '../evil': it names a place outside the archive$" "$T/srv.err"
    grep -q "^ringcast: $T/evil.tar: skipping member '/etc/abs': it names a place outside the archive$" "$T/srv.err"
}

@test "serve --unpack of something that is not an archive: a clear error, exit 2" {
    run -2 timeout 10 "$RINGCAST" --serve --unpack -l 127.0.0.1:0 "$T/d/readme.txt"
    [ "${lines[0]}" = "ringcast: $T/d/readme.txt: --unpack: Unrecognized archive format" ] || { echo "$output" >&2; false; }
    run -2 timeout 10 "$RINGCAST" --unpack 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --unpack needs --serve" ]
}
