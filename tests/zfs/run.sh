#!/bin/bash
# labvirt's ZFS (zfspool) storage on real OpenZFS. The host kernel may have no ZFS, so
# this boots a guest (plain qemu-system-x86_64 under TCG, no libvirt) from the host's
# Debian kernel with OpenZFS's modules built for it (tests/zfs/modules.sh, cached),
# whose initramfs holds busybox, zpool, zfs, zvol_id, qemu-img (with their shared
# libraries, found by ldd), test images and the test program. The guest's /init
# (tests/zfs/init.sh) makes a pool "lvz" mounted at /lvz on a sparse file, links
# /dev/zvol/POOL/NAME as udev would, and runs the program; this side collects its
# "ok"/"not ok" lines from the serial console, and shows its "# " lines.
#
#   run.sh PATH_TO_PROGRAM [ARGS...]
#
# The program runs in the guest as zfstest-program ARGS, with ZFSTEST_POOL=lvz and
# ZFSTEST_IMAGES=/images (raw.img: 0x5a in its first MiB; disk.qcow2: 0xa5). Prints
# the lines and "N passed, N failed"; exits 0 if all passed, 1 if not, 77 when this
# machine cannot boot such a guest. ZFSTEST_CONSOLE=1 also prints the whole console.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../e2e/lib.sh
. "$HERE/../e2e/lib.sh"

skip() {
	echo "SKIP: $*"
	exit 77
}
[ $# -ge 1 ] || {
	echo "usage: $0 PATH_TO_PROGRAM [ARGS...]" >&2
	exit 2
}
PROG=$1
shift
[ -f "$PROG" ] || {
	echo "$0: no program $PROG" >&2
	exit 2
}
[ "$(id -u)" = 0 ] || skip "not root: the ZFS modules are built and cached as root"
for p in qemu-system-x86_64 qemu-img qemu-io busybox cpio gzip timeout ldd; do
	command -v "$p" >/dev/null 2>&1 || skip "$p is not installed (scripts/deps)"
done
KVER=$(e2e_guest_kernel_version) || skip "no /boot/vmlinuz-* with its /lib/modules"
KERNEL=/boot/vmlinuz-$KVER
[ -r "$KERNEL" ] || skip "cannot read $KERNEL"
ldd "$(command -v busybox)" >/dev/null 2>&1 && skip "busybox is not static (install busybox-static)"
start=$(e2e_now)
ZFS=$("$HERE/modules.sh") || skip "no OpenZFS modules for $KVER (tests/zfs/modules.sh, above)"
e2e_log "OpenZFS: $ZFS ($(e2e_elapsed "$start") s)"

T=$(mktemp -d /tmp/labvirt-zfs.XXXXXX)
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
ROOT=$T/root

# copy_bin SRC DST: a program and the shared libraries it needs, at their own paths.
# The ZFS libraries are found in the cache's tree, the rest on the host.
copy_bin() { e2e_copy_bin "$ROOT" "$1" "$2" "$ZFS/root"; }

build_initramfs() {
	set -e
	mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,etc/zfs,lib/modules,lib/udev,run,tmp,images}
	cp "$(command -v busybox)" "$ROOT/bin/busybox"
	for a in $("$ROOT/bin/busybox" --list); do
		[ "$a" = busybox ] || ln -s busybox "$ROOT/bin/$a"
	done
	cp "$ZFS"/modules/*.ko "$ROOT/lib/modules/"
	cp "$ZFS/modules.order" "$ROOT/etc/modules.order"
	copy_bin "$ZFS/root/sbin/zpool" /sbin/zpool
	copy_bin "$ZFS/root/sbin/zfs" /sbin/zfs
	copy_bin "$ZFS/root/lib/udev/zvol_id" /lib/udev/zvol_id
	ln -s ../lib/udev/zvol_id "$ROOT/sbin/zvol_id"
	copy_bin "$(command -v qemu-img)" /usr/bin/qemu-img
	copy_bin "$PROG" /bin/zfstest-program
	chmod 0755 "$ROOT/bin/zfstest-program"
	: >"$ROOT/etc/zfstest.args"
	for a in "$@"; do
		printf '%s\n' "$a" >>"$ROOT/etc/zfstest.args"
	done
	cp "$HERE/init.sh" "$ROOT/init"
	chmod 0755 "$ROOT/init"

	# The images to import: a raw one and a qcow2 one, each with a known pattern.
	head -c 1048576 /dev/zero | tr '\0' '\132' >"$ROOT/images/raw.img"
	truncate -s 4M "$ROOT/images/raw.img"
	qemu-img create -q -f qcow2 "$ROOT/images/disk.qcow2" 16M
	qemu-io -f qcow2 -c "write -q -P 0xa5 0 1M" "$ROOT/images/disk.qcow2" >/dev/null

	(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) |
		gzip -1 >"$T/initrd.img"
}

start=$(e2e_now)
if ! (build_initramfs "$@"); then
	echo "not ok - build the test guest's initramfs"
	echo "0 passed, 1 failed"
	exit 1
fi
rm -rf "$ROOT"
e2e_log "initramfs: $(du -h "$T/initrd.img" | cut -f1) ($(e2e_elapsed "$start") s to build)"

e2e_test_guest_boot "$T" "$KERNEL" 1024 1800
qrc=$?
[ "${ZFSTEST_CONSOLE:-0}" = 1 ] && cat "$T/console.txt" >&2

if ! grep -q '^ZFSTEST-BOOTED' "$T/console.txt"; then
	cat "$T/qemu.log" >&2
	tail -n 30 "$T/console.txt" >&2
	skip "the test guest did not boot (qemu exit $qrc): cannot run the ZFS tests here"
fi
e2e_log "$(grep '^ZFSTEST-BOOTED' "$T/console.txt")"
e2e_test_guest_results "$T" ZFSTEST "the guest loaded OpenZFS and made the pool lvz on a file"
e2e_summary
