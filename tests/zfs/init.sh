#!/bin/sh
# The ZFS test guest's /init (busybox sh): OpenZFS's modules, a pool "lvz" (mounted at
# /lvz) on a 512 MiB sparse file, then the test program with the arguments run.sh was
# given (/etc/zfstest.args, one a line); its lines go to the serial console.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /run /tmp /vdev
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
exec >/dev/ttyS0 2>&1

# ZFS's ARC would take half the guest's memory, which also holds the pool's file:
# 128 MiB is plenty for tests.
while read -r m; do
	case $m in
	zfs.ko) insmod "/lib/modules/$m" zfs_arc_max=134217728 ;;
	*) insmod "/lib/modules/$m" ;;
	esac || echo "# insmod $m failed"
done </etc/modules.order
echo "ZFSTEST-BOOTED kernel=$(uname -r) zfs=$(cat /sys/module/zfs/version 2>/dev/null)"

# A stand-in for udev, which the guest does not have: its 60-zvol.rules give each zvol
# (/dev/zdN, partitions /dev/zdNpM) the link /dev/zvol/POOL/NAME (zvol_id prints the
# name, with -partM for a partition), which is the path Proxmox's ZFS plugin uses.
# Every 0.2 s, as udev's events would: a device no link points to gets its link (add);
# a link whose device is gone, or whose name is no longer a volume, goes (remove, and
# rename: the renamed device then has no link and gets its new one). zvol_id opens the
# device, and an open zvol cannot be destroyed ("dataset is busy"), so it runs once for
# a new device, as udev's rule does, not on every round.
zvol_links() {
	while :; do
		if vols=$(zfs list -H -o name -t volume 2>/dev/null); then
			find /dev/zvol -type l 2>/dev/null | while IFS= read -r link; do
				name=${link#/dev/zvol/}
				if [ ! -b "$(readlink "$link")" ] ||
					! printf '%s\n' "$vols" | grep -qxF "${name%-part[0-9]*}"; then
					rm -f "$link"
				fi
			done
		fi
		linked=$(find /dev/zvol -type l -exec readlink {} \; 2>/dev/null)
		for dev in /dev/zd*; do
			[ -b "$dev" ] || continue
			printf '%s\n' "$linked" | grep -qxF "$dev" && continue
			name=$(zvol_id "$dev" 2>/dev/null) || continue
			[ -n "$name" ] || continue
			mkdir -p "/dev/zvol/${name%/*}"
			ln -sfn "$dev" "/dev/zvol/$name"
		done
		sleep 0.2
	done
}
zvol_links &
links=$!

# A file vdev rather than a second disk: no udev to wait for partitions, nothing more
# on the host. ashift=12 as Proxmox's installer makes pools.
setup() {
	truncate -s 512M /vdev/lvz.img &&
		zpool create -o ashift=12 -m /lvz lvz /vdev/lvz.img
}
if setup; then
	echo "ZFSTEST-SETUP-OK"
	set --
	while IFS= read -r a; do
		set -- "$@" "$a"
	done </etc/zfstest.args
	ZFSTEST_POOL=lvz ZFSTEST_IMAGES=/images zfstest-program "$@"
	echo "ZFSTEST-DONE rc=$?"
	zpool export lvz || echo "# zpool export lvz failed"
else
	echo "ZFSTEST-SETUP-FAILED"
fi
kill "$links"
sync
poweroff -f
