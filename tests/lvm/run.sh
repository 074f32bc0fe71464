#!/bin/bash
# labvirt's LVM-thin and LVM (thick) backends on real device-mapper. The host kernel may have no
# device-mapper, so this boots a guest (plain qemu-system-x86_64 under TCG, no
# libvirt) from the host's Debian kernel with its dm modules, whose initramfs holds
# busybox, lvm2, thin-provisioning-tools, qemu-img (with their shared libraries, found
# by ldd) and the test program lvmthin-guest (tests/lvm/guest.c, linked with
# storage_lvmthin.c). The guest makes a loop-backed volume group and thin pool and runs
# the program; this side collects its "ok"/"not ok" lines from the serial console.
#
#   run.sh PATH_TO_lvmthin-guest
#
# Prints the lines and "N passed, N failed"; exits 0 if all passed, 1 if not, 77 when
# this machine cannot boot such a guest. LVMTEST_DUMP=1 also prints the raw lvm2 JSON
# reports the guest saw (tests/lvm/reports/ keeps such captures for the unit tests);
# LVMTEST_DEBUG_SCRIPT=FILE runs FILE (sh -x) in the guest instead of the program.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../e2e/lib.sh
. "$HERE/../e2e/lib.sh"

skip() {
	echo "SKIP: $*"
	exit 77
}
[ $# -eq 1 ] || {
	echo "usage: $0 PATH_TO_lvmthin-guest" >&2
	exit 2
}
PROG=$1
for p in qemu-system-x86_64 qemu-img qemu-io busybox cpio gzip timeout ldd lvm pdata_tools; do
	command -v "$p" >/dev/null 2>&1 || skip "$p is not installed (scripts/deps)"
done
KVER=$(e2e_guest_kernel_version) || skip "no /boot/vmlinuz-* with its /lib/modules"
KERNEL=/boot/vmlinuz-$KVER
[ -r "$KERNEL" ] || skip "cannot read $KERNEL"
ldd "$(command -v busybox)" >/dev/null 2>&1 && skip "busybox is not static (install busybox-static)"

T=$(mktemp -d /tmp/labvirt-lvm.XXXXXX)
trap 'rm -rf "$T"' EXIT
ROOT=$T/root

# copy_bin SRC DST: a program and the shared libraries it needs, at their own paths.
copy_bin() { e2e_copy_bin "$ROOT" "$1" "$2"; }

build_initramfs() {
	set -e
	mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,etc/lvm,lib/modules,run,tmp,images}
	cp "$(command -v busybox)" "$ROOT/bin/busybox"
	for a in $("$ROOT/bin/busybox" --list); do
		[ "$a" = busybox ] || ln -s busybox "$ROOT/bin/$a"
	done

	_e2e_mod_order=()
	for m in loop crc32c_generic dm_mod dm_bufio dm_persistent_data \
		dm_bio_prison dm_thin_pool dm_snapshot; do
		path=$(_e2e_mod_path "$KVER" "$m")
		[ -n "$path" ] && _e2e_mod_add "$KVER" "$path"
	done
	: >"$ROOT/etc/modules.order"
	for path in "${_e2e_mod_order[@]}"; do
		src=/lib/modules/$KVER/$path dst=${path##*/}
		case $src in
		*.ko.xz) xz -dc "$src" >"$ROOT/lib/modules/${dst%.xz}" && dst=${dst%.xz} ;;
		*.ko.zst) zstd -qdc "$src" >"$ROOT/lib/modules/${dst%.zst}" && dst=${dst%.zst} ;;
		*) cp "$src" "$ROOT/lib/modules/$dst" ;;
		esac
		echo "$dst" >>"$ROOT/etc/modules.order"
	done

	copy_bin "$(command -v lvm)" /sbin/lvm
	for t in lvs vgs pvcreate vgcreate lvcreate lvremove lvextend lvchange lvdisplay; do
		ln -s lvm "$ROOT/sbin/$t"
	done
	copy_bin "$(command -v pdata_tools)" /usr/sbin/pdata_tools
	for t in thin_check thin_repair thin_dump thin_restore; do
		ln -s pdata_tools "$ROOT/usr/sbin/$t"
	done
	copy_bin "$(command -v qemu-img)" /usr/bin/qemu-img
	copy_bin "$PROG" /bin/lvmthin-guest
	cat >"$ROOT/etc/lvm/lvm.conf" <<-'CONF'
		devices { obtain_device_list_from_udev = 0 external_device_info_source = "none" use_devicesfile = 0 }
		activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
		global { event_activation = 0 thin_check_executable = "/usr/sbin/thin_check" }
		backup { backup = 0 archive = 0 }
	CONF
	cp "$HERE/init.sh" "$ROOT/init"
	[ -z "${LVMTEST_DEBUG_SCRIPT:-}" ] || cp "$LVMTEST_DEBUG_SCRIPT" "$ROOT/images/debug.sh"
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
if ! (build_initramfs); then
	echo "not ok - build the test guest's initramfs"
	echo "0 passed, 1 failed"
	exit 1
fi
e2e_log "initramfs: $(du -h "$T/initrd.img" | cut -f1) ($(e2e_elapsed "$start") s to build)"

extra=
[ "${LVMTEST_DUMP:-0}" = 1 ] && extra=lvmtest.dump
e2e_test_guest_boot "$T" "$KERNEL" 512 1200 "$extra"
qrc=$?
[ -z "${LVMTEST_DEBUG_SCRIPT:-}" ] || cat "$T/console.txt" >&2

if ! grep -q '^LVMTEST-BOOTED' "$T/console.txt"; then
	cat "$T/qemu.log" >&2
	tail -n 30 "$T/console.txt" >&2
	skip "the test guest did not boot (qemu exit $qrc): cannot run the LVM-thin tests here"
fi
e2e_log "$(grep '^LVMTEST-BOOTED' "$T/console.txt")"
[ -n "$extra" ] && sed -n '/^-----BEGIN/,/^-----END/p' "$T/console.txt"
e2e_test_guest_results "$T" LVMTEST "the guest set up a loop-backed volume group and thin pool"
e2e_summary
