#!/usr/bin/env bash
# Faults of the fetch step of `up` (the images a lab's guests start from), for
# real: a loopback HTTP server (tests/fetch/server.py), libvirt's test:///default
# driver, real qcow2 volumes.
#   - an image whose download does not match its checksum, one the server does not
#     have, and no server at all: up exits 1 naming the image and the URL, and
#     nothing of the lab is created (no volume, no journal);
#   - labvirt killed (SIGKILL) in the middle of a download: the next up resumes it
#     where it stopped, checks it and brings the lab up; destroy removes the lab.
# Usage: fetch.sh LABVIRT TESTS_DIR
set -uo pipefail
labvirt=$(realpath "$1")
here=$2
command -v qemu-img >/dev/null || { echo "SKIP: needs qemu-img"; exit 77; }
unset LABVIRT_FAIL_STEP LABVIRT_KILL_STEP LABVIRT_KILL_AT LABVIRT_URI
tmp=$(mktemp -d /tmp/labvirt-fetchfault.XXXXXX)
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
export LABVIRT_STATE_DIR=$tmp/state
# shellcheck source=../check.sh
. "$(dirname "$0")/../check.sh"

mkdir -p "$tmp/www" "$tmp/store"
head -c 3145728 /dev/urandom >"$tmp/www/img.raw"
sum=$(sha256sum "$tmp/www/img.raw" | cut -d' ' -f1)
python3 "$here/fetch/server.py" "$tmp/www" "$tmp/port" "$tmp/log" &
server_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
base=http://127.0.0.1:$(cat "$tmp/port")

# lab NAME URL SUM: a lab of two guests, a (a blank disk) and b (from the image)
lab() {
	rm -rf "${tmp:?}/$1" && mkdir "$tmp/$1"
	printf 'lab: %s\ndir: local\n\tpath %s\nimage: img\n\turl %s\n\tsha256 %s\n\tfile %s.raw\n' \
		"$1" "$tmp/store" "$2" "$3" "$1" >"$tmp/$1/lab.cfg"
	printf 'virtio0: local:0.0625\n' >"$tmp/$1/a.conf"
	printf 'virtio0: local:0,import-from=img\n' >"$tmp/$1/b.conf"
}
lv() { # LAB ARGS...: OUT, ERR, RC
	local l=$1
	shift
	OUT=$("$labvirt" -c test:///default -L "$tmp/$l" "$@" 2>"$tmp/err")
	RC=$?
	ERR=$(cat "$tmp/err")
}
volumes() { find "$tmp/store" -maxdepth 1 -type f | LC_ALL=C sort; }
before=$(volumes)

lab wrong "$base/files/img.raw" "$(printf 'f%.0s' {1..64})"
lab missing "$base/files/nothere.raw" "$sum"
lab offline "http://127.0.0.1:1/img.raw" "$sum"
for l in wrong missing offline; do
	lv "$l" up
	check "$l: up exits 1" test "$RC" = 1
	case $l in
	wrong) want="^labvirt: image 'img': the download from $base/files/img.raw does not match its sha256 " ;;
	missing) want="^labvirt: image 'img': cannot download $base/files/nothere.raw: " ;;
	offline) want="^labvirt: image 'img': cannot download http://127.0.0.1:1/img.raw: " ;;
	esac
	check "$l: the image and its URL named" grep -q "$want" <<<"$ERR"
	if [ "$RC" != 1 ] || ! grep -q "$want" <<<"$ERR"; then sed 's/^/#   ! /' <<<"$ERR"; fi
	check "$l: no volume made" test "$(volumes)" = "$before"
	check "$l: no partial image kept" test ! -e "$tmp/store/import/$l.raw"
	check "$l: no journal" test ! -e "$LABVIRT_STATE_DIR/$l.journal"
done

# Killed in the middle of a download: /hold/ sends half the image, then holds on.
lab held "$base/hold/img.raw" "$sum"
rm -f "$tmp/www/.release"
"$labvirt" -c test:///default -L "$tmp/held" up >"$tmp/held.out" 2>&1 &
pid=$!
part=$tmp/store/import/held.raw.part
while kill -0 "$pid" 2>/dev/null && [ "$(stat -c %s "$part" 2>/dev/null || echo 0)" -lt 1572864 ]; do
	sleep 0.1
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
: >"$tmp/www/.release"
check "killed mid-download: half the image is kept as .part" test "$(stat -c %s "$part")" = 1572864
check "killed mid-download: no volume made" test "$(volumes)" = "$before"
lv held up
check "killed mid-download, then up: exit 0" test "$RC" = 0
[ "$RC" = 0 ] || sed 's/^/#   ! /' <<<"$ERR"
check "killed mid-download, then up: resumed at the half" \
	grep -qx "image img: resume $base/hold/img.raw at 1572864 bytes" <<<"$OUT"
check "killed mid-download, then up: the image is the served one" cmp -s "$tmp/www/img.raw" "$tmp/store/import/held.raw"
check "killed mid-download, then up: no .part left" test ! -e "$part"
check "killed mid-download, then up: both volumes made" test "$(volumes | wc -l)" = 2
lv held destroy --yes
check "destroy: exit 0" test "$RC" = 0
check "destroy: no volume left" test "$(volumes)" = "$before"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
