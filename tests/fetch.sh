#!/usr/bin/env bash
# The download path of `labvirt fetch` against a real HTTP server on loopback
# (tests/fetch/server.py, started here): a good image, one checked against a
# published checksum file, a wrong checksum (refused, nothing kept), a
# transfer cut short (resumed), a leftover .part (resumed), a missing URL and
# no server (clear errors), a file put there by hand (checked once).
# Usage: fetch.sh LABVIRT TESTS_DIR
set -uo pipefail
labvirt=$1
here=$2
tmp=$(mktemp -d /tmp/labvirt-fetch.XXXXXX)
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
export LABVIRT_STATE_DIR=$tmp/state # not the machine's own (/var/lib/labvirt)
# shellcheck source=check.sh
. "$(dirname "$0")/check.sh"

mkdir -p "$tmp/www" "$tmp/lab" "$tmp/store"
head -c 3145728 /dev/urandom >"$tmp/www/img.raw"
sum256=$(sha256sum "$tmp/www/img.raw" | cut -d' ' -f1)
sum512=$(sha512sum "$tmp/www/img.raw" | cut -d' ' -f1)
(cd "$tmp/www" && sha512sum img.raw other.raw 2>/dev/null >SHA512SUMS; echo "$(printf '0%.0s' {1..128})  other.raw" >>SHA512SUMS)
python3 "$here/fetch/server.py" "$tmp/www" "$tmp/port" "$tmp/log" &
server_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port")
base=http://127.0.0.1:$port
wrong=$(printf 'f%.0s' {1..64})

cat >"$tmp/lab/lab.cfg" <<CFG
lab: fetch
dir: local
	path $tmp/store
image: good
	url $base/files/img.raw
	sha256 $sum256
image: sums
	url $base/files/img.raw
	sha512-url $base/files/SHA512SUMS
	file sums.raw
image: wrong
	url $base/files/img.raw
	sha256 $wrong
	file wrong.raw
image: cut
	url $base/cut/img.raw
	sha256 $sum256
	file cut.raw
image: leftover
	url $base/files/img.raw
	sha256 $sum256
	file leftover.raw
image: missing
	url $base/files/nothere.raw
	sha256 $sum256
image: offline
	url http://127.0.0.1:1/img.raw
	sha256 $sum256
	file offline.raw
image: byhand
	url http://127.0.0.1:1/byhand.raw
	sha256 $sum256
image: badhand
	url http://127.0.0.1:1/badhand.raw
	sha256 $sum256
CFG
for g in good sums wrong cut leftover missing offline byhand badhand; do
	printf 'virtio0: local:0,import-from=%s\n' "$g" >"$tmp/lab/g-$g.conf"
done
imp=$tmp/store/import
fetch() { "$labvirt" -L "$tmp/lab" fetch "$@" >"$tmp/out" 2>"$tmp/err"; }
same() { cmp -s "$tmp/www/img.raw" "$1"; }
mode() { [ "$(stat -c %a "$1")" = "$2" ]; }
requests() { grep -c "^$1 $2\$" "$tmp/log"; }

# 0. `plan` lists the download of an image that is not there yet, and not after.
plan() { "$labvirt" -c test:///default -L "$tmp/lab" plan "$@" >"$tmp/plan" 2>&1; }
plan g-good
check "plan: lists the download first" test "$(head -n 1 "$tmp/plan")" = "+ fetch image good into $imp/img.raw"
check "plan: only the image g-good uses" test "$(grep -c '^+ fetch image ' "$tmp/plan")" = 1

# 1. A good image: downloaded, checked, read-only, nothing else left.
check "good: fetch succeeds" fetch g-good
check "good: the image is the served file" same "$imp/img.raw"
check "good: the image is read-only (0444)" mode "$imp/img.raw" 444
check "good: no .part left" test ! -e "$imp/img.raw.part"
check "good: a line per step (not a terminal)" grep -q "^image good: download $base/files/img.raw\$" "$tmp/out"
n=$(wc -l <"$tmp/log")
check "good: a second fetch downloads nothing" fetch g-good
check "good: ... and sends no request" test "$(wc -l <"$tmp/log")" = "$n"
plan g-good
check "plan: no download once the image is there" bash -c "! grep -q '^+ fetch' '$tmp/plan' && grep -q '^+ create volume ' '$tmp/plan'"

# 2. Checked against a published checksum file that lists several files.
check "sums: fetch succeeds" fetch g-sums
check "sums: the checksum file was read" grep -q "^image sums: checksum from $base/files/SHA512SUMS\$" "$tmp/out"
check "sums: the image is the served file" same "$imp/sums.raw"

# 3. A wrong checksum: refused, nothing kept.
fetch g-wrong
check "wrong: fetch fails with exit 1" test $? = 1
check "wrong: the error says so" grep -q "^labvirt: image 'wrong': the download from $base/files/img.raw does not match its sha256 (want ffffffffffffffff..., got ${sum256:0:16}...): removed\$" "$tmp/err"
check "wrong: no image kept" test ! -e "$imp/wrong.raw"
check "wrong: no .part kept" test ! -e "$imp/wrong.raw.part"

# 4. A transfer cut in the middle is resumed where it stopped.
check "cut: fetch succeeds" fetch g-cut
check "cut: the first request started at 0" test "$(requests /cut/img.raw -)" = 1
check "cut: the second resumed at the half" test "$(requests /cut/img.raw bytes=1572864-)" = 1
check "cut: said so" grep -q "^image cut: resume $base/cut/img.raw at 1572864 bytes\$" "$tmp/out"
check "cut: the image is the served file" same "$imp/cut.raw"

# 5. A .part left by an earlier run is resumed, not restarted.
head -c 1048576 "$tmp/www/img.raw" >"$imp/leftover.raw.part"
check "leftover: fetch succeeds" fetch g-leftover
check "leftover: asked only for the rest" test "$(grep -c 'bytes=1048576-$' "$tmp/log")" = 1
check "leftover: the image is the served file" same "$imp/leftover.raw"
check "leftover: no .part left" test ! -e "$imp/leftover.raw.part"

# 6. A URL the server does not have, and no server at all: clear errors.
fetch g-missing
check "missing: exit 1" test $? = 1
check "missing: the error names image, URL and where to put it" grep -qx "labvirt: image 'missing': cannot download $base/files/nothere.raw: The requested URL returned error: 404; put the file there by hand: '$imp/nothere.raw' (its sha256 is checked)" "$tmp/err"
check "missing: nothing kept" test ! -e "$imp/nothere.raw" -a ! -e "$imp/nothere.raw.part"
fetch g-offline
check "offline: exit 1" test $? = 1
check "offline: the error names image, URL and where to put it" grep -q "^labvirt: image 'offline': cannot download http://127.0.0.1:1/img.raw: .*; put the file there by hand: '$imp/offline.raw' (its sha256 is checked)\$" "$tmp/err"

# 7. A file put there by hand is checked before use, then sealed.
cp "$tmp/www/img.raw" "$imp/byhand.raw"
check "by hand: fetch succeeds without network" fetch g-byhand
check "by hand: checked" grep -q "^image byhand: verify $imp/byhand.raw\$" "$tmp/out"
check "by hand: now read-only" mode "$imp/byhand.raw" 444
head -c 100 /dev/zero >"$imp/badhand.raw"
fetch g-badhand
check "bad by hand: exit 1" test $? = 1
check "bad by hand: refused, not used" grep -q "^labvirt: image 'badhand': '$imp/badhand.raw' does not match its sha256 .*: not used; remove it and run again\$" "$tmp/err"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
