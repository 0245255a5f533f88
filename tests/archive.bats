#!/usr/bin/env bats
# Archives and compressed streams (gzip through zlib, the rest through
# libarchive), made by the test with the system's own tar, zip, gzip, bzip2,
# xz, zstd and lz4; and corrupt ones, each of which must end every receiver
# with a reset, a message naming the source and why, and exit status 1.

load helpers/common

setup() {
    common_setup
    mkdir -p "$T/d/sub"
    head -c $((6 << 20)) /dev/urandom > "$T/d/sub/disk.img"
    sha256sum < "$T/d/sub/disk.img" | cut -d' ' -f1 > "$T/disk.sha"
    printf 'hello\n' > "$T/d/readme.txt"
}
teardown() { common_teardown; }

# seeded NAME MiB: pseudo-random bytes from a fixed seed in $T/NAME, their
# SHA-256 in $T/NAME.sha.  Random, so no flipped byte can be compensated;
# the same every run, so each compressor lays them out the same way and a
# byte flipped at a given offset always lands in the data, never in a
# block header.
seeded() {
    "$PY" "$HELPERS/seeded.py" "$2" > "$T/$1"
    sha256sum < "$T/$1" | cut -d' ' -f1 > "$T/$1.sha"
}


# tar_of DIR PATH...: a tar of those paths under DIR on stdout, the same
# bytes every time for the same files.
tar_of() {
    local dir=$1
    shift
    tar cf - -C "$dir" --mtime=@0 --owner=0 --group=0 --numeric-owner "$@"
}

# rejects MESSAGE ARGS...: ringcast -q ARGS to 2 fresh receivers exits with
# status 1, says "ringcast: MESSAGE" first, and resets both receivers: none
# gets a clean end (eof).
rejects() {
    local msg=$1
    shift
    start_receivers 2
    run -1 timeout 60 "$RINGCAST" -q "$@" "${DESTS[@]}"
    [ "${lines[0]}" = "ringcast: $msg" ] || { echo "$output" >&2; false; }
    wait_receivers 30
    [ "$(grep -c ' error:ConnectionResetError$' "$T/results")" -eq 2 ] || { cat "$T/results" >&2; false; }
}

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

@test "gzip, one byte flipped mid-stream: CRC-32 mismatch, exit 1, every receiver reset" {
    seeded in 4
    gzip -1 -c "$T/in" > "$T/bad.gz"
    flip "$T/bad.gz"
    run -1 gzip -t "$T/bad.gz"
    [[ "$output" == *"crc error"* ]]
    rejects "$T/bad.gz: gzip: CRC-32 mismatch (member 1)" -z -i "$T/bad.gz"
}

@test "gzip, truncated: exit 1, every receiver reset" {
    seeded in 4
    gzip -1 -c "$T/in" | head -c 3000000 > "$T/cut.gz"
    rejects "$T/cut.gz: gzip: truncated input (member 1)" -z -i "$T/cut.gz"
}

@test "gzip, ISIZE wrong and CRC-32 intact: exit 1, every receiver reset" {
    seeded in 4
    gzip -1 -c "$T/in" > "$T/bad.gz"
    "$PY" "$HELPERS/gzip_isize.py" "$T/bad.gz"
    run -1 gzip -t "$T/bad.gz"
    [[ "$output" == *"length error"* ]]
    rejects "$T/bad.gz: gzip: ISIZE mismatch (member 1)" -z -i "$T/bad.gz"
}

@test "gzip, the second of two concatenated members corrupt: exit 1, every receiver reset" {
    seeded in 4
    head -c 1000000 "$T/in" | gzip -1 > "$T/bad.gz"
    local one
    one=$(stat -c %s "$T/bad.gz")
    tail -c +1000001 "$T/in" | gzip -1 >> "$T/bad.gz"
    flip "$T/bad.gz" $(((one + $(stat -c %s "$T/bad.gz")) / 2))
    rejects "$T/bad.gz: gzip: CRC-32 mismatch (member 2)" -z -i "$T/bad.gz"
}

@test "gzip, two good concatenated members, then zero padding: delivered whole" {
    seeded in 4
    head -c 1000000 "$T/in" | gzip -1 > "$T/two.gz"
    tail -c +1000001 "$T/in" | gzip -9 >> "$T/two.gz"
    deliver 2 "$T/in.sha" $((4 << 20)) -z -i "$T/two.gz"
    head -c 10240 /dev/zero >> "$T/two.gz"
    deliver 2 "$T/in.sha" $((4 << 20)) -z -i "$T/two.gz"
}

@test "gzip, bytes after the last member that start no other: exit 1, every receiver reset" {
    seeded in 4
    { gzip -1 -c "$T/in"; echo trailing; } > "$T/bad.gz"
    rejects "$T/bad.gz: gzip: bytes after member 1 are not a gzip member" -z -i "$T/bad.gz"
}

@test "tar.gz under --extract, its member corrupt: exit 1, every receiver reset" {
    seeded in 4
    cp "$T/in" "$T/d/sub/disk.img"
    tar_of "$T" d/sub/disk.img d/readme.txt | gzip -1 > "$T/bad.tar.gz"
    flip "$T/bad.tar.gz"
    run -1 gzip -t "$T/bad.tar.gz"
    [[ "$output" == *"crc error"* ]]
    rejects "$T/bad.tar.gz: gzip: CRC-32 mismatch (member 1)" --extract d/sub/disk.img -i "$T/bad.tar.gz"
}

@test "tar.gz, tar.xz, tar.zst, tar.lz4 under --extract, a member followed by others: whole" {
    local c
    for c in "gzip -1" "xz -0" "zstd -q" "lz4 -q"; do
        tar_of "$T" d/sub/disk.img d/readme.txt | $c > "$T/a.tar.c"
        deliver 2 "$T/disk.sha" $((6 << 20)) --extract d/sub/disk.img -i "$T/a.tar.c" || { echo "$c" >&2; false; }
    done
}

@test "tar.xz, tar.zst, tar.lz4 under --extract, a byte of the member flipped: found by the check at the stream's end" {
    seeded in 4
    cp "$T/in" "$T/d/sub/disk.img"
    # A MiB after the member, so that reading the member does not reach the
    # check, and only reading the stream to its end does.
    head -c $((1 << 20)) /dev/zero > "$T/d/zeros"
    tar_of "$T" d/sub/disk.img d/zeros | xz -0 > "$T/bad.tar.xz"
    tar_of "$T" d/sub/disk.img d/zeros | zstd -q > "$T/bad.tar.zst"
    tar_of "$T" d/sub/disk.img d/zeros | lz4 -q > "$T/bad.tar.lz4"
    flip "$T/bad.tar.xz"
    flip "$T/bad.tar.zst"
    flip "$T/bad.tar.lz4"
    rejects "$T/bad.tar.xz: xz: Lzma library error: Corrupted input data" --extract d/sub/disk.img -i "$T/bad.tar.xz"
    rejects "$T/bad.tar.zst: zstd: Zstd decompression failed: Restored data doesn't match checksum" \
        --extract d/sub/disk.img -i "$T/bad.tar.zst"
    rejects "$T/bad.tar.lz4: lz4: lz4 stream checksum error" --extract d/sub/disk.img -i "$T/bad.tar.lz4"
}

@test "bzip2, one byte flipped mid-stream: exit 1, every receiver reset" {
    seeded in 4
    bzip2 -c "$T/in" > "$T/bad.bz2"
    flip "$T/bad.bz2"
    run -2 bzip2 -t "$T/bad.bz2"
    [[ "$output" == *"CRC"* ]]
    rejects "$T/bad.bz2: bzip2: bzip decompression failed" -z -i "$T/bad.bz2"
}

@test "xz, one byte flipped mid-stream: the CRC64 check fails, exit 1, every receiver reset" {
    seeded in 4
    xz -c "$T/in" > "$T/bad.xz"
    xz -lv "$T/bad.xz" | grep -q 'Check: *CRC64'
    flip "$T/bad.xz"
    rejects "$T/bad.xz: xz: Lzma library error: Corrupted input data" -z -i "$T/bad.xz"
}

@test "zstd, one byte flipped mid-stream: the content checksum fails, exit 1, every receiver reset" {
    seeded in 4
    zstd -q -c "$T/in" > "$T/bad.zst"
    zstd -lv "$T/bad.zst" | grep -q 'Check: *XXH64'
    flip "$T/bad.zst"
    rejects "$T/bad.zst: zstd: Zstd decompression failed: Restored data doesn't match checksum" -z -i "$T/bad.zst"
}

@test "lz4 with its content checksum, one byte flipped mid-stream: exit 1, every receiver reset" {
    seeded in 4
    lz4 -q -c "$T/in" > "$T/bad.lz4"
    # lz4(1)'s frame flags (FLG, the fifth byte): content checksum set.
    [ $(($(od -An -tu1 -j4 -N1 "$T/bad.lz4") & 4)) -eq 4 ]
    flip "$T/bad.lz4"
    rejects "$T/bad.lz4: lz4: lz4 stream checksum error" -z -i "$T/bad.lz4"
}

@test "zip, one byte of a stored member flipped: its CRC-32 fails, exit 1, every receiver reset" {
    seeded in 4
    (cd "$T" && zip -q -0 bad.zip in)
    local crcs
    crcs=$("$PY" "$HELPERS/zip_flip.py" "$T/bad.zip" in)
    rejects "$T/bad.zip: ZIP bad CRC: $crcs" --extract in -i "$T/bad.zip"
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
    [ "${lines[0]}" = "ringcast: $T/cut.tar.gz: gzip: truncated input (member 1)" ] || { echo "$output" >&2; false; }
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

@test "serve --unpack: each regular member of a tar.gz and a zip is a blob under its path; ../ and absolute names are refused, named with control bytes escaped" {
    (cd "$T" && tar czf a.tar.gz d && mkdir z && cp d/readme.txt z/other.txt && zip -qr b.zip z)
    "$PY" "$HELPERS/mktar.py" "$T/evil.tar" ../evil x /etc/abs y ok/./fine.txt $'fine\n' \
        $'../\e]0;PWNED\a\e[31mevil' z
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
    # A member's name reaches the terminal escaped: no title change, no colour.
    grep -Fxq "ringcast: $T/evil.tar: skipping member '../\\x1b]0;PWNED\\x07\\x1b[31mevil': it names a place outside the archive" "$T/srv.err"
    ! grep -q $'\e' "$T/srv.err"
}

@test "serve --unpack of a tar.gz with a member corrupt: a clear error, exit 2, nothing served" {
    seeded in 4
    cp "$T/in" "$T/d/sub/disk.img"
    tar_of "$T" d/sub/disk.img d/readme.txt | gzip -1 > "$T/bad.tar.gz"
    flip "$T/bad.tar.gz"
    run -2 timeout 30 "$RINGCAST" --serve --unpack -l 127.0.0.1:0 "$T/bad.tar.gz"
    # Named by the member being read when the trailer was reached, or by
    # --unpack when it was reached after the last.
    [[ "${lines[0]}" =~ ^"ringcast: $T/bad.tar.gz: "(d/sub/disk.img|d/readme.txt|--unpack)": gzip: CRC-32 mismatch (member 1)"$ ]] ||
        { echo "$output" >&2; false; }
}

@test "serve --unpack of something that is not an archive: a clear error, exit 2" {
    run -2 timeout 10 "$RINGCAST" --serve --unpack -l 127.0.0.1:0 "$T/d/readme.txt"
    [ "${lines[0]}" = "ringcast: $T/d/readme.txt: --unpack: Unrecognized archive format" ] || { echo "$output" >&2; false; }
    run -2 timeout 10 "$RINGCAST" --unpack 127.0.0.1:9
    [ "${lines[0]}" = "ringcast: --unpack needs --serve" ]
}

@test "serve --unpack without --http: an archive of two files is refused, one of one file is served" {
    tar_of "$T" d/sub/disk.img d/readme.txt > "$T/two.tar"
    run -2 timeout 30 "$RINGCAST" --serve --unpack -l 127.0.0.1:0 "$T/two.tar"
    [ "${lines[-1]}" = "ringcast: --unpack: the archives hold 2 files, and --serve without --http sends each client the first only: add --http to serve each by its name" ] ||
        { echo "$output" >&2; false; }
    tar_of "$T" d/sub/disk.img > "$T/one.tar"
    start_listening "$T/srv.err" --serve --unpack -l 127.0.0.1:0 "$T/one.tar"
    run -0 timeout 30 "$PY" "$HELPERS/fetch.py" 127.0.0.1 "$PORT"
    [ "${lines[0]}" = "0 $((6 << 20)) $(cat "$T/disk.sha") eof" ]
}
