#!/bin/bash
# shellcheck disable=SC2016 # the sh -c scripts expand their own arguments
# A run of `labvirt up` killed while it makes a volume on a btrfs storage, and the next
# run: run by tests/btrfs.sh inside its mount namespace, on the btrfs mounted at MNT. The
# guests are defined on libvirt's test:///default driver (nothing boots); the volumes are
# real. Killed (SIGKILL, the test hook LABVIRT_KILL_AT=during) when the volume is complete
# under its temporary subvolume, just before it takes its name: the next `up` removes the
# temporary subvolume (the journal names it), makes the volume, and `destroy` leaves the
# storage empty. Before that, snapshots of that guest's volume (btrfs snapshots) and
# clones of it made a template, linked and full.
#
#   btrfs-kill.sh PATH_TO_labvirt MNT
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=e2e/lib.sh
. "$HERE/e2e/lib.sh"
LABVIRT=$1 MNT=$2
FAST=$MNT/kill
LAB=$(mktemp -d /tmp/labvirt-btrfs-kill.XXXXXX)
trap 'rm -rf "$LAB"' EXIT
export LABVIRT_STATE_DIR=$LAB/state
printf 'lab: k\n\turi test:///default\n\nbtrfs: fast\n\tpath %s\n' "$FAST" >"$LAB/lab.cfg"
printf 'name: g\nmemory: 128\nvirtio0: fast:1\n' >"$LAB/g.conf"
VOL=$FAST/k-g-virtio0

LABVIRT_KILL_STEP="create volume $VOL/disk.raw for g/virtio0" LABVIRT_KILL_AT=during \
	"$LABVIRT" -L "$LAB" up >"$LAB/out1" 2>&1
rc=$?
e2e_check "up killed while it makes the volume (exit $rc)" test "$rc" = 137
parts() { find "$FAST" -maxdepth 1 -name '.k-g-virtio0.part-*' | wc -l; }
# inode 256: the root of a btrfs subvolume
# shellcheck disable=SC2016 # expanded by that sh
e2e_check "the volume is left under its temporary name, a subvolume" \
	sh -c '[ "$(stat -c %i "$1"/.k-g-virtio0.part-* 2>/dev/null)" = 256 ]' sh "$FAST"
e2e_check "... and not under its own" test ! -e "$VOL"

"$LABVIRT" -L "$LAB" up >"$LAB/out2" 2>&1
rc=$?
sed 's/^/#   | /' "$LAB/out2" >&2
e2e_check "the next up exits 0" test "$rc" = 0
e2e_check "... it says it removed the temporary subvolume" \
	grep -q "^recover: removed temporary folder $FAST/.k-g-virtio0.part-" "$LAB/out2"
e2e_check "... which is gone" test "$(parts)" = 0
# shellcheck disable=SC2016 # expanded by that sh
e2e_check "... and made the volume: a subvolume with its 1 GiB disk.raw" \
	sh -c '[ "$(stat -c %i "$1")" = 256 ] && [ "$(stat -c %s "$1/disk.raw")" = 1073741824 ]' sh "$VOL"

# Clones of g made a template, as qm clone makes them on btrfs: a linked clone is a
# writable snapshot of one base subvolume copied once from the template's disk, a full
# clone a subvolume of its own; both hold the template's bytes.
# test_btrfs filled the file system before: let btrfs finish freeing its deleted subvolumes
btrfs filesystem sync "$MNT" && btrfs subvolume sync "$MNT"
lvc() {
	"$LABVIRT" -L "$LAB" "$@" >"$LAB/outc" 2>&1
	LVC_RC=$?
	sed 's/^/#   | /' "$LAB/outc" >&2
}
# Snapshots as Proxmox takes them on btrfs: a read-only snapshot subvolume
# k-g-virtio0@NAME of the guest's volume, rolled back by cloning its extents into the
# volume, which keeps its own subvolume. (test:///default keeps no domain from one
# labvirt to the next: the guest is stopped here. A running guest is paused while its
# volumes are snapshotted; that is not tested here.)
mark() { printf %s "$1" | dd of="$VOL/disk.raw" conv=notrunc status=none; }
subvol() { btrfs subvolume show "$1" | sed -n "s/^[[:space:]]*$2:[[:space:]]*//p"; }
mark SNAPAAAA
lvc snapshot g s1
e2e_check "snapshot g s1: exit 0" \
	sh -c '[ "$1" = 0 ] && grep -q "snapshot s1 of g taken (btrfs snapshots of its disks)" "$2"' sh "$LVC_RC" "$LAB/outc"
snap_ok() { [ "$(subvol "$1@$2" "Parent UUID")" = "$(subvol "$1" UUID)" ] && subvol "$1@$2" Flags | grep -qx readonly; }
e2e_check "... a read-only snapshot subvolume k-g-virtio0@s1 of the volume" snap_ok "$VOL" s1
e2e_check "... and the config has its [s1] section and parent: s1" \
	sh -c 'grep -qx "\[s1\]" "$1" && grep -qx "parent: s1" "$1"' sh "$LAB/g.conf"
UUID=$(subvol "$VOL" UUID)
mark CHANGED1
lvc snapshot g s1
e2e_check "snapshot with a name taken: exit 1, nothing changed" \
	sh -c '[ "$1" = 1 ] && [ "$(head -c 8 "$2/disk.raw")" = CHANGED1 ]' sh "$LVC_RC" "$VOL"
lvc rollback g s1
e2e_check "rollback g s1: exit 0, the guest off" \
	sh -c '[ "$1" = 0 ] && grep -q "g rolled back to s1, off" "$2"' sh "$LVC_RC" "$LAB/outc"
e2e_check "... the volume holds the snapshot's bytes again" test "$(head -c 8 "$VOL/disk.raw")" = SNAPAAAA
same_vol() { [ "$(subvol "$VOL" UUID)" = "$UUID" ] && [ "$(stat -c %s "$VOL/disk.raw")" = 1073741824 ]; }
e2e_check "... in the same subvolume, still 1 GiB" same_vol
mark SNAPBBBB
lvc snapshot g s2
lvc delsnapshot g s1
e2e_check "delsnapshot g s1: exit 0, its subvolume gone, s2's kept" \
	sh -c '[ "$1" = 0 ] && [ ! -e "$2@s1" ] && [ "$(head -c 8 "$2@s2/disk.raw")" = SNAPBBBB ]' sh "$LVC_RC" "$VOL"
# A snapshot subvolume a killed run left (the config does not name it) is replaced.
btrfs subvolume snapshot -r "$VOL" "$VOL@s3" >/dev/null
mark SNAPCCCC
lvc snapshot g s3
e2e_check "a killed run's snapshot subvolume is replaced by the next snapshot" \
	sh -c '[ "$1" = 0 ] && [ "$(head -c 8 "$2@s3/disk.raw")" = SNAPCCCC ]' sh "$LVC_RC" "$VOL"
lvc delsnapshot g s3
# Then clones: g made a template (its snapshot s2 stays and goes with it).
printf TMPL0001 | dd of="$VOL/disk.raw" conv=notrunc status=none
sed -i "1i template: 1" "$LAB/g.conf" # in the current config, above [s2]
lvc clone g linked1 200
e2e_check "clone g linked1 200 (a template): exit 0, a linked clone" \
	sh -c '[ "$1" = 0 ] && grep -q "cloned linked1 (200) from g: 1 disk, linked clones" "$2"' sh "$LVC_RC" "$LAB/outc"
C200=$FAST/images/200/vm-200-disk-0
e2e_check "its config names Proxmox's volume fast:200/vm-200-disk-0.raw" \
	grep -qx "virtio0: fast:200/vm-200-disk-0.raw" "$LAB/qemu-server/200.conf"
# shellcheck disable=SC2016 # expanded by that sh
e2e_check "... a snapshot of the lab's base subvolume, holding the template's bytes" \
	sh -c 'btrfs subvolume show "$1" | grep -q "Parent UUID:.*-" &&
		btrfs subvolume show "$1" | grep -v "Parent UUID:[[:space:]]*-$" | grep -q "Parent UUID" &&
		[ "$(head -c 8 "$1/disk.raw")" = TMPL0001 ] && ls -d "$2"/k-base-* >/dev/null' sh "$C200" "$FAST"
lvc clone --full g full1 201
e2e_check "clone --full g full1 201: exit 0, full copies" \
	sh -c '[ "$1" = 0 ] && grep -q "cloned full1 (201) from g: 1 disk, full copies" "$2"' sh "$LVC_RC" "$LAB/outc"
# shellcheck disable=SC2016 # expanded by that sh
e2e_check "... a subvolume of its own with the template's bytes" \
	sh -c 'btrfs subvolume show "$1" | grep -q "Parent UUID:[[:space:]]*-$" &&
		[ "$(head -c 8 "$1/disk.raw")" = TMPL0001 ]' sh "$FAST/images/201/vm-201-disk-0"

# A container's snapshots, as pct takes them on btrfs: its rootfs (an ext4 image in a
# raw volume, from a template of the test's own) snapshotted and rolled back.
mkdir -p "$LAB/lxc" "$LAB/vz/template/cache" "$LAB/tree/etc"
echo 12 >"$LAB/tree/etc/debian_version"
tar -C "$LAB/tree" -czf "$LAB/vz/template/cache/tiny.tar.gz" .
printf '\ndir: local\n\tpath %s/vz\n\tcontent vztmpl\n' "$LAB" >>"$LAB/lab.cfg"
printf 'hostname: c\nmemory: 128\nostemplate: local:vztmpl/tiny.tar.gz\nostype: debian\nrootfs: fast:1\n' \
	>"$LAB/lxc/300.conf"
CTVOL=$FAST/k-c-rootfs
ct_marker() {
	printf %s "$1" >"$LAB/m"
	debugfs -w -R "rm /marker" "$CTVOL/disk.raw" >/dev/null 2>&1
	debugfs -w -R "write $LAB/m /marker" "$CTVOL/disk.raw" >/dev/null 2>&1
}
ct_marker_is() { [ "$(debugfs -R "cat /marker" "$CTVOL/disk.raw" 2>/dev/null)" = "$1" ]; }
lvc up c
e2e_check "up c (a container, its rootfs on btrfs): exit 0" test "$LVC_RC" = 0
ct_marker CTMARK1
lvc snapshot c cs1
e2e_check "snapshot c cs1: exit 0, a read-only snapshot subvolume of its rootfs" \
	sh -c '[ "$1" = 0 ] && btrfs subvolume show "$2@cs1" | grep -q "Flags:.*readonly"' sh "$LVC_RC" "$CTVOL"
e2e_check "... the config has its [cs1] section" grep -qx "\[cs1\]" "$LAB/lxc/300.conf"
ct_marker CTMARK2
e2e_check "... a new marker written into the rootfs" ct_marker_is CTMARK2
lvc rollback c cs1
e2e_check "rollback c cs1: exit 0" test "$LVC_RC" = 0
e2e_check "... the rootfs has the snapshot's marker again" ct_marker_is CTMARK1
lvc snapshot --vmstate c cs2
e2e_check "snapshot --vmstate of a stopped container: exit 0, nothing kept to run" \
	sh -c '[ "$1" = 0 ] && ! grep -q "^vmstate" "$2"' sh "$LVC_RC" "$LAB/lxc/300.conf"

"$LABVIRT" -L "$LAB" destroy --yes >"$LAB/out3" 2>&1
rc=$?
# shellcheck disable=SC2016 # expanded by that sh
e2e_check "destroy --yes exits 0 and leaves the storage empty (images/ and nothing in it)" \
	sh -c '[ "$1" = 0 ] && [ "$(find "$2" -mindepth 1)" = "$2/images" ]' sh "$rc" "$FAST"
e2e_summary
