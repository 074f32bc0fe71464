#!/bin/sh
# The LVM test guest's /init (busybox sh): device-mapper modules, a loop-backed
# volume group "lvt" with a 48 MiB thin pool "pool" and a plain LV "plain", then
# labvirt's LVM-thin test program; its lines go to the serial console.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /run /tmp
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/lock/lvm /run/lvm
exec >/dev/ttyS0 2>&1

while read -r m; do
	insmod "/lib/modules/$m" || echo "# insmod $m failed"
done </etc/modules.order
echo "LVMTEST-BOOTED kernel=$(uname -r)"

dump=
grep -q lvmtest.dump /proc/cmdline && dump=--dump
setup() {
	dd if=/dev/zero of=/tmp/pv.img bs=1M count=0 seek=128 2>/dev/null &&
		dev=$(losetup -f) && losetup "$dev" /tmp/pv.img &&
		pvcreate -q "$dev" && vgcreate -q lvt "$dev" &&
		lvcreate -q --type thin-pool -L 48m -n pool lvt &&
		lvchange -q --errorwhenfull y lvt/pool &&
		lvcreate -q -L 8m -n plain lvt
}
if setup; then
	echo "LVMTEST-SETUP-OK"
	if [ -f /images/debug.sh ]; then # LVMTEST_DEBUG_SCRIPT of run.sh
		sh -x /images/debug.sh
	else
		lvmthin-guest /images $dump
	fi
	echo "LVMTEST-DONE rc=$?"
	lvs -a lvt
else
	echo "LVMTEST-SETUP-FAILED"
fi
sync
poweroff -f
