#!/bin/bash
# The qcow2 writer (src/core/qcow2.c) against qemu-img itself: for sizes from one
# byte to a pebibyte (one and several L1 clusters), with and without a backing
# file (qcow2 and raw), the image labvirt writes must be byte for byte the one
# `qemu-img create` writes, pass `qemu-img check`, be 0600 from the start and
# sparse; errors (size 0, a name too long, an existing file, no space) leave
# nothing behind.
# Usage: tests/qcow2.sh QCOW2_NEW   (the tests/qcow2_new helper)
set -uo pipefail
NEW=$1
command -v qemu-img >/dev/null || {
	echo "SKIP: qemu-img is not installed"
	exit 77
}
T=$(mktemp -d /tmp/labvirt-qcow2.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }
check() { # DESCRIPTION CMD...
	local d=$1
	shift
	if "$@" >"$T/out" 2>&1; then ok "$d"; else not_ok "$d: $(head -c 300 "$T/out")"; fi
}

qemu-img create -q -f qcow2 "$T/base.qcow2" 64M
qemu-img create -q -f raw "$T/base.raw" 64M
sizes=(1 511 512 1000 67108864 536870912 536870913 1073741824 34359738368 68719476736
	4398046511104 4398583382016 1125899906842624)
for size in "${sizes[@]}"; do
	for kind in plain qcow2 raw; do
		args=() qargs=()
		case $kind in
		qcow2) args=("$T/base.qcow2" qcow2) qargs=(-b "$T/base.qcow2" -F qcow2) ;;
		raw) args=("$T/base.raw" raw) qargs=(-b "$T/base.raw" -F raw) ;;
		esac
		ours=$T/ours-$kind-$size theirs=$T/theirs-$kind-$size
		if ! "$NEW" "$ours" "$size" "${args[@]}" 2>"$T/err"; then
			not_ok "$kind $size: $(cat "$T/err")"
			continue
		fi
		qemu-img create -q -f qcow2 "${qargs[@]}" "$theirs" "$size"
		check "$kind, $size bytes: the same bytes as qemu-img create" cmp "$ours" "$theirs"
		check "$kind, $size bytes: qemu-img check is clean" qemu-img check -q "$ours"
		check "$kind, $size bytes: mode 0600" test "$(stat -c %a "$ours")" = 600
		rm -f "$ours" "$theirs"
	done
done
# What a new linked clone costs on disk: the metadata written, nothing more.
"$NEW" "$T/clone" 34359738368 "$T/base.qcow2" qcow2
check "a 32 GiB linked clone takes at most 16 KiB of disk" test "$(du -k "$T/clone" | cut -f1)" -le 16
check "its backing file and format as qemu-img reads them" \
	grep -q "\"backing-filename\": \"$T/base.qcow2\"" <(qemu-img info --output=json "$T/clone")
check "a guest writes to it and reads back (qemu-io)" \
	bash -c "qemu-io -c 'write -P 0x5a 1G 64k' '$T/clone' && qemu-io -c 'read -P 0x5a 1G 64k' '$T/clone' | grep -q 'read 65536'"

# Errors: exact message, exit 1, nothing left.
expect_error() { # DESCRIPTION EXPECTED-STDERR ARGS...
	local d=$1 want=$2
	shift 2
	"$NEW" "$@" 2>"$T/err"
	local rc=$?
	if [ $rc -eq 1 ] && [ "$(cat "$T/err")" = "$want" ]; then ok "$d"; else
		not_ok "$d: rc $rc, stderr '$(cat "$T/err")'"
	fi
}
expect_error "size 0 is refused" "cannot create '$T/zero': a size of 0 bytes" "$T/zero" 0
check "size 0: no file" test ! -e "$T/zero"
long=$(printf '/%.0s' {1..1024})
expect_error "a backing name over 1023 bytes is refused" \
	"cannot create '$T/long': backing file name too long" "$T/long" 1048576 "$long" qcow2
echo keep >"$T/exists"
expect_error "an existing file is never overwritten" "cannot create '$T/exists': File exists" \
	"$T/exists" 1048576
check "the existing file is unchanged" grep -qx keep "$T/exists"
if [ "$(id -u)" -eq 0 ]; then
	mkdir "$T/full" && mount -t tmpfs -o size=8k tmpfs "$T/full"
	expect_error "a full file system: a clear error" \
		"cannot write '$T/full/vol': No space left on device" "$T/full/vol" 1073741824
	check "a full file system: nothing left" test -z "$(ls -A "$T/full")"
	umount "$T/full"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
