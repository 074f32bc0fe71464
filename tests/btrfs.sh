#!/bin/bash
# The btrfs backend on a real btrfs: a loop-backed file system made with mkfs.btrfs and
# mounted in a mount namespace of this test's own (nothing shows on the host), then
# test_btrfs (tests/test_btrfs.c) on it, with a tmpfs beside it as the file system that
# is not btrfs. Exits 77 when this machine cannot (not root, no mkfs.btrfs, no btrfs in
# the kernel, no loop devices).
#
# Then tests/btrfs-kill.sh on the same file system: `labvirt up` killed while it makes
# a volume there, and the next run.
#
#   btrfs.sh PATH_TO_test_btrfs PATH_TO_labvirt
set -uo pipefail
[ $# -eq 2 ] || {
	echo "usage: $0 PATH_TO_test_btrfs PATH_TO_labvirt" >&2
	exit 2
}
skip() {
	echo "SKIP: $*"
	exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (mounts, subvolume deletion)"
command -v mkfs.btrfs >/dev/null || skip "mkfs.btrfs is not installed (btrfs-progs)"
command -v qemu-img >/dev/null || skip "qemu-img is not installed (qemu-utils)"
grep -qw btrfs /proc/filesystems || modprobe btrfs 2>/dev/null || skip "no btrfs in this kernel"
PROG=$(realpath "$1")
LABVIRT=$(realpath "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/labvirt-btrfs.XXXXXX)
trap 'rm -rf "$T"' EXIT
truncate -s 256M "$T/fs.img"
mkfs.btrfs -q "$T/fs.img" >/dev/null || skip "mkfs.btrfs failed"
mkdir "$T/mnt" "$T/other"
# The mounts live and die with the namespace: a killed test leaves none behind.
# shellcheck disable=SC2016 # expanded by the inner shell
unshare -m --propagation private sh -c '
	mount -o loop "$1/fs.img" "$1/mnt" || exit 77
	mount -t tmpfs -o size=400M tmpfs "$1/other" || exit 77
	"$2" "$1/mnt/pve" "$1/other"
	a=$?
	"$3/btrfs-kill.sh" "$4" "$1/mnt"
	b=$?
	[ "$a" = 0 ] && exit "$b"
	exit "$a"
' sh "$T" "$PROG" "$HERE" "$LABVIRT"
