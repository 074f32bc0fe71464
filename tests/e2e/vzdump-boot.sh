#!/bin/bash
# shellcheck disable=SC2016,SC2012 # sh -c checks take their values as arguments
# `labvirt restore` of a vzdump archive labvirt did not write, booted for real. The
# archive is made by tests/vzdump/mkvma.py, a VMA writer of the test's own written from
# Proxmox's vma_spec.txt, compressed by the real zstd; its config is a qemu-server
# config as vzdump stores it (#qmdump#map lines, drives on local-lvm, a MAC, vmgenid),
# plus labvirt's kernel:, initrd:, cmdline: so that the tiny test guest boots without a
# boot loader. Its disks: a 64 MiB one with data at known places and holes, and an
# empty 1 GiB one (all zero clusters: nothing stored).
#
# Checked: each bad archive (no storage for its drives, a wrong header checksum, a
# truncated extent, one that ends where an extent would start) fails with its message and
# leaves nothing (no config, no volume, no journal); the good one restores: the config
# as qmrestore writes it, the volume bytes identical to the source; a second restore of
# the same VMID, and one whose MAC collides, are refused; --unique makes a second copy;
# a restore killed (SIGKILL) while it writes is cleaned up by the next restore; the
# restored guest boots on libvirt's embedded QEMU driver (in a network namespace of the
# test's own) and reads, inside, the bytes the archive carried; destroy removes it all.
#
#   vzdump-boot.sh PATH_TO_labvirt
#
# Prints "ok - ..." / "not ok - ..." lines and "N passed, N failed"; exits 0 if all
# passed, 1 if any failed, 2 on a usage error, 77 if this machine cannot run it.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

if [ $# -ne 1 ]; then
	echo "usage: $0 PATH_TO_labvirt" >&2
	exit 2
fi
LABVIRT=$1

skip() {
	echo "SKIP: $*"
	exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, libvirt's QEMU driver)"
for prog in qemu-system-x86_64 qemu-img qemu-nbd virsh ip busybox cpio gzip timeout zstd python3 debugfs tar; do
	command -v "$prog" >/dev/null 2>&1 || skip "$prog is not installed"
done
e2e_guest_kernel_version >/dev/null || skip "no /boot/vmlinuz-* with its /lib/modules"
LABVIRT=$(realpath "$LABVIRT")
MKVMA=$HERE/../vzdump/mkvma.py

CACHE=${LABVIRT_E2E_CACHE:-/var/tmp/labvirt-e2e-guest}
unset LABVIRT_URI LIBVIRT_DEFAULT_URI LIBVIRT_LOG_OUTPUTS
T=$(mktemp -d /tmp/labvirt-e2e-vzdump.XXXXXX)
chmod 0755 "$T"
LAB=$T/lab
POOL=$T/vz
GUEST=$T/guest
export LABVIRT_STATE_DIR=$T/state
URI="qemu:///embed?root=$LABVIRT_STATE_DIR/embed"
mkdir -p "$LAB" "$GUEST" "$T/src"
mkdir -m 0755 "$POOL"

cleanup() {
	local rc=$? p
	set +e
	trap - INT TERM
	e2e_console_abort
	if [ -n "$E2E_NS" ] && [ -d "$LABVIRT_STATE_DIR/embed" ]; then
		e2e_virsh_cleanup run "$URI"
	fi
	e2e_netns_only_stop
	for p in $(pgrep -f -- "$T/"); do
		[ "$p" = "$$" ] || kill -KILL "$p" 2>/dev/null
	done
	if [ "${LABVIRT_E2E_KEEP:-0}" = 1 ]; then
		e2e_log "kept $T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bail() {
	e2e_log "cannot go on: $*"
	e2e_summary
	exit 1
}

run() { e2e_in_netns "$@"; }

# lv ARGS...: labvirt on this lab (in the netns once it exists): stdout in LV_OUT,
# stderr in LV_ERR, exit status in LV_RC, both echoed to the log.
lv() {
	if [ -n "$E2E_NS" ]; then
		LV_OUT=$(run timeout 900 "$LABVIRT" -L "$LAB" "$@" 2>"$T/stderr")
	else
		LV_OUT=$(LABVIRT_URI=test:///default timeout 900 "$LABVIRT" -L "$LAB" "$@" 2>"$T/stderr")
	fi
	LV_RC=$?
	LV_ERR=$(cat "$T/stderr")
	e2e_log "labvirt $* -> exit $LV_RC"
	[ -z "$LV_OUT" ] || printf '%s\n' "$LV_OUT" | sed 's/^/#   | /' >&2
	[ -z "$LV_ERR" ] || printf '%s\n' "$LV_ERR" | sed 's/^/#   ! /' >&2
	return 0
}
lv_console() { run "$LABVIRT" -L "$LAB" console "$1"; }

# What the lab folder and the storage hold, and the state folder's journal.
files() {
	(cd "$T" && find lab vz -mindepth 1 | LC_ALL=C sort)
	ls "$LABVIRT_STATE_DIR"/*.journal 2>/dev/null
}
rc_is() { [ "$LV_RC" -eq "$1" ]; }
err_has() { grep -qF -- "$1" <<<"$LV_ERR"; }
out_has() { grep -qF -- "$1" <<<"$LV_OUT"; }

# --- the guest image and the source disks
e2e_check "guest image built" e2e_build_guest_image "$CACHE" || bail "no guest image"
cp "$CACHE/vmlinuz" "$CACHE/initrd.img" "$GUEST/" || bail "cannot copy the guest image"
chmod -R a+rX "$GUEST"
DISK0=$T/src/disk0.raw
DISK1=$T/src/disk1.raw
truncate -s 64M "$DISK0"
head -c 3145728 /dev/urandom | dd of="$DISK0" bs=1M seek=1 conv=notrunc status=none
printf 'LABVIRT-VZDUMP-MARKER' | dd of="$DISK0" bs=1M seek=40 conv=notrunc status=none
# a block alone in its cluster, and a last partial block
printf 'x' | dd of="$DISK0" bs=1 seek=$((50 * 1048576 + 8192)) conv=notrunc status=none
printf 'end' | dd of="$DISK0" bs=1 seek=$((64 * 1048576 - 3)) conv=notrunc status=none
truncate -s 1G "$DISK1"
SUM0=$(md5sum <"$DISK0" | cut -d' ' -f1)

cat >"$LAB/lab.cfg" <<EOF
lab: vzd
	accel tcg

bridge: vmbr0
	mode isolated
	address 10.79.1.1/24

dir: local
	path $POOL
	content images,iso,backup
EOF

# The config as vzdump puts it in the archive: drives on local-lvm (which this lab does
# not have), the map lines last.
cat >"$T/src/qemu-server.conf" <<EOF
boot: order=virtio0
cmdline: console=ttyS0 labvirt.name=restored labvirt.ip=10.79.1.100/24
cores: 1
initrd: $GUEST/initrd.img
kernel: $GUEST/vmlinuz
memory: 256
meta: creation-qemu=8.1.5,ctime=1714600000
name: restored
net0: virtio=BC:24:11:5E:7A:01,bridge=vmbr0
ostype: l26
scsi1: local-lvm:vm-100-disk-1,size=1G
scsihw: virtio-scsi-single
smbios1: uuid=5d8e0a35-7f7e-4b0a-9f0c-3a4f5d6e7f80
virtio0: local-lvm:vm-100-disk-0,format=raw,iothread=1,size=64M
vmgenid: 1b4c9a5e-2d3f-4e5a-8b6c-7d8e9f0a1b2c
#qmdump#map:scsi1:drive-scsi1:local-lvm:raw:
#qmdump#map:virtio0:drive-virtio0:local-lvm:raw:
EOF
STAMP=2024_05_02-18_00_00
mkvma() { # mkvma VMID [--corrupt WHAT]: the archive, uncompressed
	local out=$T/src/vzdump-qemu-$1-$STAMP.vma
	shift
	python3 "$MKVMA" "$out" --config "qemu-server.conf=$T/src/qemu-server.conf" \
		--device "drive-virtio0=$DISK0" --device "drive-scsi1=$DISK1" "$@" && echo "$out"
}
GOOD=$(mkvma 100) || bail "mkvma.py failed"
zstd -q --rm "$GOOD" || bail "zstd failed"
GOOD=$GOOD.zst
e2e_log "archive: $(du -h "$GOOD" | cut -f1) for 64 MiB + 1 GiB of disks"
e2e_check "the archive of 1 GiB of zeros and 4 MiB of data is small (< 8 MiB)" \
	test "$(stat -c %s "$GOOD")" -lt 8388608

# --- bad archives: a clear error, nothing made
empty=$(files)
lv restore "$GOOD"
e2e_check "restore without --storage: exit 2" rc_is 2
e2e_check "... names the drive and the storage the lab lacks" \
	err_has "drive scsi1 was on storage 'local-lvm', which the lab does not have: give --storage ID"
e2e_check "... nothing made" test "$(files)" = "$empty"

for bad in header-md5 extent-md5 truncate-data; do
	arch=$(mkvma 300 --corrupt "$bad") || bail "mkvma.py failed"
	lv restore "$arch" --storage local
	e2e_check "restore of an archive with $bad: exit 1" rc_is 1
	e2e_check "... the error names the archive" err_has "$arch"
	e2e_check "... nothing made" test "$(files)" = "$empty"
	rm -f "$arch"
done
# Cut where the next extent would start: nothing in the stream says so but what is missing.
arch=$(mkvma 300) || bail "mkvma.py failed"
cut=$(python3 - "$arch" <<'PYEOF'
import struct, sys
# the end of the first extent, after the header (its size at byte 56): the extent
# header's block count says how much data follows it
f = open(sys.argv[1], "rb")
f.seek(56)
start = struct.unpack(">I", f.read(4))[0]
f.seek(start)
n = struct.unpack(">H", f.read(8)[6:8])[0]
print(start + 512 + n * 4096)
PYEOF
)
truncate -s "$cut" "$arch"
lv restore "$arch" --storage local
e2e_check "restore of an archive cut at an extent's end: exit 1" rc_is 1
e2e_check "... the error says clusters are missing" err_has "missing"
e2e_check "... nothing made" test "$(files)" = "$empty"
rm -f "$arch"

# --- the good one
lv restore "$GOOD" --storage local
e2e_check "restore --storage local: exit 0" rc_is 0
CONF=$LAB/qemu-server/100.conf
e2e_check "the config landed as qemu-server/100.conf" test -f "$CONF"
e2e_check "virtio0 is on the new raw volume, format= dropped, its options kept" \
	grep -qx 'virtio0: local:100/vm-100-disk-1.raw,iothread=1,size=64M' "$CONF"
e2e_check "scsi1 is on its new volume" grep -qx 'scsi1: local:100/vm-100-disk-0.raw,size=1G' "$CONF"
e2e_check "no map lines in the config" sh -c '! grep -q "^#qmdump#" "$1"' sh "$CONF"
e2e_check "vmgenid is new" sh -c '! grep -q "1b4c9a5e" "$1" && grep -q "^vmgenid: " "$1"' sh "$CONF"
e2e_check "the MAC is kept (no --unique)" grep -qx 'net0: virtio=BC:24:11:5E:7A:01,bridge=vmbr0' "$CONF"
V0=$POOL/images/100/vm-100-disk-1.raw
V1=$POOL/images/100/vm-100-disk-0.raw
e2e_check "virtio0's volume has the source disk's bytes" test "$(md5sum <"$V0" | cut -d' ' -f1)" = "$SUM0"
e2e_check "scsi1's volume is 1 GiB of zeros, sparse" \
	sh -c 'cmp -s "$1" "$2" && [ "$(du -k "$1" | cut -f1)" -lt 1024 ]' sh "$V1" "$DISK1"
e2e_check "no journal left" sh -c '! ls "$1"/*.journal 2>/dev/null' sh "$LABVIRT_STATE_DIR"
e2e_check "labvirt validate accepts the lab with the restored guest" \
	env LABVIRT_URI=test:///default "$LABVIRT" -L "$LAB" validate

after_one=$(files)
lv restore "$GOOD" --storage local
e2e_check "a second restore of VMID 100: exit 1, VMID taken" sh -c '[ "$1" -eq 1 ]' sh "$LV_RC"
e2e_check "... says so" err_has "VMID 100 is taken"
lv restore "$GOOD" 101 --as copy --storage local
e2e_check "restore as 101 with 100's MAC: refused (exit 2)" rc_is 2
e2e_check "... suggests --unique" err_has "--unique"
e2e_check "... nothing more made" test "$(files)" = "$after_one"
lv restore "$GOOD" 101 --as copy --storage local --unique
e2e_check "restore 101 --as copy --unique: exit 0" rc_is 0
e2e_check "... its name is copy" grep -qx 'name: copy' "$LAB/qemu-server/101.conf"
e2e_check "... its MAC and SMBIOS UUID are new" \
	sh -c '! grep -q "BC:24:11:5E:7A:01\|5d8e0a35" "$1"' sh "$LAB/qemu-server/101.conf"

# --- killed while it writes: the archive comes through a FIFO that stops half-way
mkfifo "$T/src/vzdump-qemu-102-$STAMP.vma"
python3 "$MKVMA" "$T/src/full102.vma" --config "qemu-server.conf=$T/src/qemu-server.conf" \
	--device "drive-virtio0=$DISK0" --device "drive-scsi1=$DISK1" || bail "mkvma.py failed"
LABVIRT_URI=test:///default "$LABVIRT" -L "$LAB" restore "$T/src/vzdump-qemu-102-$STAMP.vma" \
	--as half --storage local --unique >"$T/kill.out" 2>&1 &
pid=$!
exec 7>"$T/src/vzdump-qemu-102-$STAMP.vma"
head -c 2097152 "$T/src/full102.vma" >&7 # the header and part of the first disk
for _ in $(seq 100); do
	[ -e "$POOL/images/102" ] && break
	sleep 0.1
done
sleep 1
kill -KILL "$pid"
wait "$pid" 2>/dev/null
exec 7>&-
e2e_check "the killed restore left its journal" sh -c 'ls "$1"/*.journal' sh "$LABVIRT_STATE_DIR"
e2e_check "... and no config for 102" test ! -e "$LAB/qemu-server/102.conf"
rm -f "$T/src/vzdump-qemu-102-$STAMP.vma"
mv "$T/src/full102.vma" "$T/src/vzdump-qemu-102-$STAMP.vma"
lv restore "$T/src/vzdump-qemu-102-$STAMP.vma" --as whole --storage local --unique
e2e_check "the next restore recovers first" out_has "recover: removed half-made volume"
e2e_check "... then restores 102: exit 0" rc_is 0
e2e_check "... whose volumes are whole" \
	test "$(md5sum <"$POOL/images/102/vm-102-disk-1.raw" | cut -d' ' -f1)" = "$SUM0"
rm -f "$T/src/vzdump-qemu-102-$STAMP.vma"

# --- a container's archive (vzdump-lxc-*.tar.zst): its pct.conf and its tree, made with
# the real tar and zstd as vzdump makes them (numeric owners, ./etc/vzdump/ first). Into a
# lab folder of its own on the same storage, on test:///default: the embedded QEMU
# driver has no LXC driver, and the container is not started here (e2e-ct starts them).
CTLAB=$T/ctlab
mkdir -p "$CTLAB"
cp "$LAB/lab.cfg" "$CTLAB/"
lvct() {
	local lab=$LAB
	LAB=$CTLAB
	E2E_NS_SAVED=$E2E_NS
	E2E_NS=
	lv "$@"
	E2E_NS=$E2E_NS_SAVED
	LAB=$lab
}
CTT=$T/src/ct
mkdir -p "$CTT/etc/vzdump" "$CTT/root" "$CTT/srv"
echo restored-ct-marker >"$CTT/srv/marker"
cat >"$CTT/etc/vzdump/pct.conf" <<EOF
arch: amd64
cores: 1
hostname: web
lock: backup
memory: 256
net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:AA,ip=dhcp,type=veth
ostype: alpine
rootfs: local-lvm:vm-110-disk-0,size=64M
swap: 0
unprivileged: 1
EOF
CTA=$T/src/vzdump-lxc-110-$STAMP.tar.zst
tar --numeric-owner --owner=0 --group=0 -C "$CTT" -cf - ./etc/vzdump ./root ./srv | zstd -q >"$CTA"
head -c $(($(stat -c %s "$CTA") / 2)) "$CTA" >"$T/src/vzdump-lxc-111-$STAMP.tar.zst"
before_ct=$(files)
lvct restore "$T/src/vzdump-lxc-111-$STAMP.tar.zst" --storage local
e2e_check "restore of a truncated container archive: exit 1" rc_is 1
e2e_check "... nothing made" test "$(files)" = "$before_ct"
lvct restore "$CTA" --storage local
e2e_check "restore of the container's archive: exit 0" rc_is 0
e2e_check "its config landed as lxc/110.conf, rootfs on a new volume, lock: dropped" \
	sh -c 'grep -qx "rootfs: local:110/vm-110-disk-0.raw,size=64M" "$1" && ! grep -q "^lock:" "$1"' \
	sh "$CTLAB/lxc/110.conf"
CTV=$POOL/images/110/vm-110-disk-0.raw
e2e_check "the rootfs is an ext4 volume holding the archive's file" \
	test "$(debugfs -R 'cat /srv/marker' "$CTV" 2>/dev/null)" = restored-ct-marker
e2e_check "... owned by the unprivileged container's root (100000)" \
	sh -c 'debugfs -R "stat /srv/marker" "$1" 2>/dev/null | grep -q "User: 100000 "' sh "$CTV"
e2e_check "... without vzdump's etc/vzdump/pct.conf" \
	sh -c '! debugfs -R "stat /etc/vzdump/pct.conf" "$1" 2>/dev/null | grep -q "User:"' sh "$CTV"
# pct clone: the stopped container copied whole, a new hostname and MAC
lvct clone web webcopy 120
e2e_check "clone web webcopy (a container): exit 0, a full copy" \
	out_has "cloned webcopy (120) from web: 1 disk, full copies"
C120=$CTLAB/lxc/120.conf
e2e_check "its config: lxc/120.conf, hostname webcopy, rootfs on a new volume, a new MAC" \
	sh -c 'grep -qx "hostname: webcopy" "$1" && grep -qx "rootfs: local:120/vm-120-disk-0.raw,size=64M" "$1" &&
		grep -q "^net0: .*hwaddr=BC:24:11:" "$1" && ! grep -q "00:00:AA" "$1"' sh "$C120"
CTV2=$POOL/images/120/vm-120-disk-0.raw
e2e_check "... the volume has the same bytes (the archive's file in it)" \
	sh -c 'cmp -s "$1" "$2" && [ "$(debugfs -R "cat /srv/marker" "$2" 2>/dev/null)" = restored-ct-marker ]' \
	sh "$CTV" "$CTV2"
# vzdump of the stopped container: a tar the real tar reads, restored again
mkdir -p "$T/ctdump"
lvct backup web --dir "$T/ctdump"
e2e_check "backup web (a container): exit 0" rc_is 0
CTB=$(ls "$T"/ctdump/vzdump-lxc-110-*.tar.zst 2>/dev/null | head -n 1)
CTLIST=$(zstd -dc "$CTB" | tar --numeric-owner -tvf - 2>&1)
printf '%s\n' "$CTLIST" | head -n 8 | sed 's/^/#   tar: /' >&2
e2e_check "... named vzdump-lxc-110-DATE.tar.zst, its .log and .notes beside it" \
	sh -c 'basename "$1" | grep -Eq "^vzdump-lxc-110-[0-9_-]+\.tar\.zst$" && [ -s "${1%.tar.zst}.log" ] && [ -s "$1.notes" ]' sh "$CTB"
e2e_check "... tar reads it: ./etc/vzdump/pct.conf first, then the tree from ." \
	sh -c 'printf "%s\n" "$1" | head -n 1 | grep -q " ./etc/vzdump/pct.conf$" &&
		printf "%s\n" "$1" | sed -n 2p | grep -q " ./$"' sh "$CTLIST"
e2e_check "... the marker owned by the container's root (0/0, shifted back from 100000)" \
	sh -c 'printf "%s\n" "$1" | grep -q "^-rw-r--r-- 0/0 .* ./srv/marker$"' sh "$CTLIST"
e2e_check "... with its content, and pct.conf the container's config" \
	sh -c '[ "$(zstd -dc "$1" | tar -xOf - ./srv/marker)" = restored-ct-marker ] &&
		zstd -dc "$1" | tar -xOf - ./etc/vzdump/pct.conf | grep -qx "hostname: web"' sh "$CTB"
lvct restore "$CTB" 121 --as back --unique --storage local
e2e_check "labvirt restores its own container backup as 121: exit 0" rc_is 0
e2e_check "... the marker back in its rootfs, owned by 100000 again" \
	sh -c '[ "$(debugfs -R "cat /srv/marker" "$1" 2>/dev/null)" = restored-ct-marker ] &&
		debugfs -R "stat /srv/marker" "$1" 2>/dev/null | grep -q "User: 100000 "' \
	sh "$POOL/images/121/vm-121-disk-0.raw"
lvct validate
e2e_check "labvirt validate accepts the lab with the restored container and its clone" rc_is 0
lvct destroy --yes
e2e_check "labvirt destroy --yes removes the containers and their volumes" \
	sh -c '[ "$1" -eq 0 ] && [ ! -e "$2" ] && [ ! -e "$3" ] && [ ! -e "$4" ]' sh "$LV_RC" "$CTV" "$CTV2" \
	"$POOL/images/121/vm-121-disk-0.raw"

# --- boot the restored guest; it reads its disk
e2e_check "network namespace made" e2e_netns_only_start || bail "no netns"
lv up restored
e2e_check "labvirt up restored: exit 0" rc_is 0
e2e_check "the restored guest boots (marker through labvirt console)" \
	e2e_console_expect -t 300 -p '' -p 'cat /run/marker' \
	"LABVIRT-BOOT-OK name=restored disk=67108864" -- lv_console restored
e2e_check "inside, /dev/vda has the archive's bytes" \
	e2e_console_expect -t 120 -p '' -w 'restored# ' -s 'echo "sum=$(md5sum </dev/vda)"' \
	"sum=$SUM0" -- lv_console restored
e2e_check "inside, the marker is at 40 MiB" \
	e2e_console_expect -t 120 -p '' -w 'restored# ' \
	-s 'echo "at40=$(dd if=/dev/vda bs=1M skip=40 count=1 2>/dev/null | head -c 21)"' \
	"at40=LABVIRT-VZDUMP-MARKER" -- lv_console restored

# --- backup: refused while it runs; once off, an archive another reader checks
lv backup restored --dir "$T/dump" --mode stop
e2e_check "backup --mode stop of the running guest: exit 1, stop it first" rc_is 1
e2e_check "... says so" err_has "it is running: stop it first"
mkdir -p "$T/live"
lv backup restored --dir "$T/live"
e2e_check "backup of the running guest (snapshot mode, libvirt's backup job): exit 0" rc_is 0
LIVE=$(ls "$T"/live/vzdump-qemu-100-*.vma.zst 2>/dev/null | head -n 1)
LREAD=$(zstd -dc "$LIVE" | python3 "$HERE/../vzdump/readvma.py" - 2>&1)
printf '%s\n' "$LREAD" | sed 's/^/#   readvma (live): /' >&2
e2e_check "... the independent reader finds virtio0's bytes in it" \
	grep -q "^drive-virtio0 67108864 $SUM0 " <<<"$LREAD"
e2e_check "... its log says snapshot mode" grep -q "mode snapshot" "${LIVE%.vma.zst}.log"
e2e_check "... and libvirt's copies are gone" \
	sh -c '! ls -d /var/tmp/labvirt-backup-* 2>/dev/null' sh
e2e_check "the guest still runs, and answers" \
	e2e_console_expect -t 120 -p '' -w 'restored# ' -s 'echo "alive=$((6*7))"' 'alive=42' \
	-- lv_console restored
mkdir -p "$T/susp"
lv backup restored --dir "$T/susp" --mode suspend
e2e_check "backup --mode suspend of the running guest: exit 0" rc_is 0
SUSP=$(ls "$T"/susp/vzdump-qemu-100-*.vma.zst 2>/dev/null | head -n 1)
SREAD=$(zstd -dc "$SUSP" | python3 "$HERE/../vzdump/readvma.py" - 2>&1)
e2e_check "... the independent reader finds virtio0's bytes in it" \
	grep -q "^drive-virtio0 67108864 $SUM0 " <<<"$SREAD"
e2e_check "... its log says suspend mode" grep -q "mode suspend" "${SUSP%.vma.zst}.log"
e2e_check "... and the guest runs again (resumed), and answers" \
	test "$(run virsh -q -c "$URI" domstate restored 2>/dev/null | head -n 1)" = running
e2e_check "... at its console" \
	e2e_console_expect -t 120 -p '' -w 'restored# ' -s 'echo "alive=$((6*7))"' 'alive=42' \
	-- lv_console restored
lv down restored --timeout 30
e2e_check "labvirt down restored: exit 0" rc_is 0
mkdir -p "$T/dump"
lv backup restored --dir "$T/dump"
e2e_check "backup restored: exit 0" rc_is 0
ARCH=$(ls "$T"/dump/vzdump-qemu-100-*.vma.zst 2>/dev/null | head -n 1)
e2e_check "the archive is named as vzdump names it (vzdump-qemu-100-DATE.vma.zst)" \
	sh -c 'basename "$1" | grep -Eq "^vzdump-qemu-100-[0-9]{4}_[0-9]{2}_[0-9]{2}-[0-9]{2}_[0-9]{2}_[0-9]{2}\.vma\.zst$"' sh "$ARCH"
e2e_check "its .log and .notes are beside it" \
	test -s "${ARCH%.vma.zst}.log" -a -s "$ARCH.notes"
e2e_check "nothing else in the folder (no temporary file)" \
	test "$(ls "$T/dump" | wc -l)" -eq 3
e2e_check "the archive of 64 MiB + 1 GiB with 4 MiB of data is small (< 8 MiB)" \
	test "$(stat -c %s "$ARCH")" -lt 8388608
READ=$(zstd -dc "$ARCH" | python3 "$HERE/../vzdump/readvma.py" - --config qemu-server.conf)
printf '%s\n' "$READ" | sed 's/^/#   readvma: /' >&2
e2e_check "an independent reader accepts it: virtio0's bytes are the source's" \
	grep -q "^drive-virtio0 67108864 $SUM0 " <<<"$READ"
e2e_check "... scsi1 is 1 GiB with no data block stored" \
	grep -q "^drive-scsi1 1073741824 $(head -c 1073741824 /dev/zero | md5sum | cut -d' ' -f1) 0$" <<<"$READ"
e2e_check "... its config maps both drives to their storage" \
	sh -c 'printf "%s\n" "$1" | grep -qx "#qmdump#map:virtio0:drive-virtio0:local:raw:" &&
		printf "%s\n" "$1" | grep -qx "#qmdump#map:scsi1:drive-scsi1:local:raw:"' sh "$READ"
lv restore "$ARCH" 103 --as again --unique
e2e_check "labvirt restores its own backup as 103 (storage from the map): exit 0" rc_is 0
V103=$(sed -n 's/^virtio0: local:\([^,]*\),.*/\1/p' "$LAB/qemu-server/103.conf")
e2e_check "... bit for bit" \
	test "$(md5sum <"$POOL/images/$V103" 2>/dev/null | cut -d' ' -f1)" = "$SUM0"

lv destroy --yes
e2e_check "labvirt destroy --yes: exit 0" rc_is 0
e2e_check "the restored volumes are gone with it" test ! -e "$V0" -a ! -e "$V1"
e2e_check "no process left in the netns" test -z "$(e2e_netns_pids "$E2E_NS")"
e2e_summary
