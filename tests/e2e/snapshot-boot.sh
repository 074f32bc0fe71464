#!/bin/bash
# shellcheck disable=SC2016,SC2012 # sh -c checks take their values as arguments
# Snapshots of a real guest, as qm takes them: a tiny guest (the host's kernel, a
# busybox initramfs, a qcow2 disk labvirt makes) runs on libvirt's embedded QEMU driver
# in a network namespace of the test's own. Inside, a marker is written to its disk;
# labvirt snapshot, the marker changed, labvirt rollback, and the guest reads the first
# marker back (the disks as they were, the guest off until started). With --vmstate the
# rollback brings back the running guest itself: a value it holds only in memory is
# there again. The config file carries the snapshots as Proxmox writes them ([NAME]
# sections, parent:, snaptime, vmstate), listsnapshot shows the tree, delsnapshot
# removes them from the config and from the qcow2 disk; errors (a raw disk, a name
# taken, an unknown name) change nothing. Then clones, as qm clone makes them: the
# stopped guest copied whole (same bytes, new MAC), then made a template (template: 1:
# up leaves it off, no snapshot) and cloned linked: the clone boots from a qcow2 over
# the template's disk, reads its marker, writes its own, and the template's disk keeps
# the template's; destroy refuses the template while its clone stands. A full clone
# onto a btrfs storage (a loop-mounted btrfs in the test's own mount namespace) boots
# from its raw volume; a snapshot of it running (btrfs snapshot subvolumes, the guest
# paused meanwhile), a change, and a rollback bring back the snapshot's bytes.
#
#   snapshot-boot.sh PATH_TO_labvirt
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
for prog in qemu-system-x86_64 qemu-img virsh ip busybox cpio gzip timeout mkfs.btrfs unshare; do
	command -v "$prog" >/dev/null 2>&1 || skip "$prog is not installed"
done
e2e_guest_kernel_version >/dev/null || skip "no /boot/vmlinuz-* with its /lib/modules"
grep -qw btrfs /proc/filesystems || modprobe btrfs 2>/dev/null || skip "no btrfs in this kernel"
LABVIRT=$(realpath "$LABVIRT")
# A mount namespace of the test's own, for the btrfs storage's loop mount: it goes when
# the last process of the test (QEMU included) does.
if [ -z "${LABVIRT_E2E_SNAP_NS:-}" ]; then
	LABVIRT_E2E_SNAP_NS=1 exec unshare -m --propagation private "$0" "$@"
fi

CACHE=${LABVIRT_E2E_CACHE:-/var/tmp/labvirt-e2e-guest}
unset LABVIRT_URI LIBVIRT_DEFAULT_URI LIBVIRT_LOG_OUTPUTS
T=$(mktemp -d /tmp/labvirt-e2e-snap.XXXXXX)
chmod 0755 "$T"
LAB=$T/lab
POOL=$T/vz
GUEST=$T/guest
export LABVIRT_STATE_DIR=$T/state
URI="qemu:///embed?root=$LABVIRT_STATE_DIR/embed"
mkdir -p "$LAB/qemu-server" "$GUEST"
mkdir -m 0755 "$POOL"
BT=$T/bt
mkdir -m 0755 "$BT"

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
	mountpoint -q "$BT" && umount "$BT"
	if [ "${LABVIRT_E2E_KEEP:-0}" = 1 ]; then
		e2e_log "kept $T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
truncate -s 256M "$T/bt.img"
if ! mkfs.btrfs -q "$T/bt.img" >/dev/null || ! mount -o loop "$T/bt.img" "$BT"; then
	skip "cannot make and mount a btrfs"
fi

bail() {
	e2e_log "cannot go on: $*"
	e2e_summary
	exit 1
}

run() { e2e_in_netns "$@"; }
lv() {
	LV_OUT=$(run timeout 900 "$LABVIRT" -L "$LAB" "$@" 2>"$T/stderr")
	LV_RC=$?
	LV_ERR=$(cat "$T/stderr")
	e2e_log "labvirt $* -> exit $LV_RC"
	[ -z "$LV_OUT" ] || printf '%s\n' "$LV_OUT" | sed 's/^/#   | /' >&2
	[ -z "$LV_ERR" ] || printf '%s\n' "$LV_ERR" | sed 's/^/#   ! /' >&2
	return 0
}
lv_console() { run "$LABVIRT" -L "$LAB" console "$1"; }
rc_is() { [ "$LV_RC" -eq "$1" ]; }
err_has() { grep -qF -- "$1" <<<"$LV_ERR"; }
out_has() { grep -qF -- "$1" <<<"$LV_OUT"; }
# in_guest CMD REGEX: CMD run on the guest's console, REGEX seen in what it prints
in_guest() {
	e2e_console_expect -t 180 -p '' -w 'snap# ' -s "$1" "$2" -- lv_console snap
}
marker_is() { in_guest 'echo "disk=$(head -c 8 /dev/vda)"' "disk=$1"; }

e2e_check "guest image built" e2e_build_guest_image "$CACHE" || bail "no guest image"
cp "$CACHE/vmlinuz" "$CACHE/initrd.img" "$GUEST/" || bail "cannot copy the guest image"
chmod -R a+rX "$GUEST"

cat >"$LAB/lab.cfg" <<EOF
lab: snap
	accel tcg

bridge: vmbr0
	mode isolated
	address 10.79.2.1/24

dir: local
	path $POOL
	content images

btrfs: fastbt
	path $BT/pve
	content images
EOF
CONF=$LAB/qemu-server/100.conf
cat >"$CONF" <<EOF
#a guest to break on purpose
boot: order=virtio0
cmdline: console=ttyS0 labvirt.name=snap labvirt.ip=10.79.2.100/24
cores: 1
initrd: $GUEST/initrd.img
kernel: $GUEST/vmlinuz
memory: 256
name: snap
net0: virtio=BC:24:11:5E:7A:11,bridge=vmbr0
virtio0: local:100/vm-100-disk-0.qcow2,size=64M
EOF
cat >"$LAB/qemu-server/101.conf" <<EOF
cmdline: console=ttyS0
initrd: $GUEST/initrd.img
kernel: $GUEST/vmlinuz
memory: 128
name: rawdisk
virtio0: local:101/vm-101-disk-0.raw,size=16M
EOF

e2e_check "network namespace made" e2e_netns_only_start || bail "no netns"
lv up snap
e2e_check "labvirt up: exit 0" rc_is 0
e2e_check "the guest boots" e2e_console_expect -t 300 -p '' -p 'cat /run/marker' \
	"LABVIRT-BOOT-OK name=snap disk=67108864" -- lv_console snap

# --- errors change nothing
before=$(cat "$CONF")
lv snapshot rawdisk first
e2e_check "snapshot of a guest with a raw disk: exit 2" rc_is 2
e2e_check "... says the disk is not qcow2" err_has "virtio0 ($POOL/images/101/vm-101-disk-0.raw) is not a qcow2 volume"
lv snapshot snap 9bad
e2e_check "a snapshot name that starts with a digit: exit 2" rc_is 2
lv rollback snap nosuch
e2e_check "rollback to a snapshot that does not exist: exit 1" rc_is 1
e2e_check "... says so" err_has "no snapshot 'nosuch'"
e2e_check "the config is unchanged by all that" test "$(cat "$CONF")" = "$before"

# --- a disk snapshot of the running guest
in_guest 'printf FIRST123 >/dev/vda; sync; echo "wrote=$?"' 'wrote=0' ||
	bail "cannot write in the guest"
lv snapshot snap first --description "before: the break"
e2e_check "snapshot snap first: exit 0" rc_is 0
e2e_check "the config has [first] with snaptime and the description" \
	sh -c 'grep -qx "\[first\]" "$1" && sed -n "/^\[first\]/,\$p" "$1" | grep -q "^snaptime: [0-9]" &&
		sed -n "/^\[first\]/,\$p" "$1" | grep -qx "#before%3A the break"' sh "$CONF"
e2e_check "the current config's parent is first" grep -qx 'parent: first' "$CONF"
lv snapshot snap first
e2e_check "the same name again: exit 1, already used" sh -c '[ "$1" -eq 1 ]' sh "$LV_RC"
e2e_check "... says so" err_has "snapshot name 'first' already used"
lv validate
e2e_check "labvirt validate reads the config with its snapshot" rc_is 0

in_guest 'printf SECOND45 >/dev/vda; sync; echo "wrote=$?"' 'wrote=0'
e2e_check "the guest sees its new marker" marker_is SECOND45
lv rollback snap first
e2e_check "rollback snap first: exit 0" rc_is 0
e2e_check "... leaves the guest off (no running state kept)" out_has "snap rolled back to first, off"
lv up snap
e2e_check "labvirt up starts it again" rc_is 0
e2e_check "the guest boots again" e2e_console_expect -t 300 -p '' -p 'cat /run/marker' \
	"LABVIRT-BOOT-OK name=snap" -- lv_console snap
e2e_check "its disk has the first marker back" marker_is FIRST123

# --- with the running state
in_guest 'echo kept-in-memory >/run/state; echo "set=$?"' 'set=0'
lv snapshot snap second --vmstate
e2e_check "snapshot snap second --vmstate: exit 0" rc_is 0
e2e_check "[second] records its vmstate and its parent" \
	sh -c 'sed -n "/^\[second\]/,\$p" "$1" | grep -q "^vmstate: " &&
		sed -n "/^\[second\]/,\$p" "$1" | grep -qx "parent: first"' sh "$CONF"
in_guest 'echo changed >/run/state; printf THIRD678 >/dev/vda; sync; echo "set=$?"' 'set=0'
lv rollback snap second
e2e_check "rollback snap second: exit 0, running as it was" out_has "running as it was"
e2e_check "the guest's memory is as it was: /run/state" \
	in_guest 'echo "state=$(cat /run/state)"' 'state=kept-in-memory'
e2e_check "... and its disk" marker_is FIRST123

lv listsnapshot snap
e2e_check "listsnapshot: the tree, current under second" \
	sh -c 'printf "%s\n" "$1" | grep -q "^\`-> first " && printf "%s\n" "$1" | grep -q "^  \`-> second " &&
		printf "%s\n" "$1" | grep -q "^    \`-> current .*You are here!"' sh "$LV_OUT"
lv listsnapshot snap --json
e2e_check "listsnapshot --json names both and current" \
	sh -c 'printf "%s" "$1" | python3 -c "import json,sys; v=json.load(sys.stdin); assert [s[\"name\"] for s in v]==[\"first\",\"second\",\"current\"]; assert v[1][\"vmstate\"]==1 and v[2][\"parent\"]==\"second\""' sh "$LV_OUT"

lv delsnapshot snap first
e2e_check "delsnapshot snap first: exit 0" rc_is 0
e2e_check "[first] is gone; second has no parent now" \
	sh -c '! grep -qx "\[first\]" "$1" && ! sed -n "/^\[second\]/,\$p" "$1" | grep -q "^parent:"' sh "$CONF"
lv delsnapshot snap second
e2e_check "delsnapshot snap second: exit 0" rc_is 0
e2e_check "no snapshot section and no parent left in the config" \
	sh -c '! grep -q "^\[\|^parent:" "$1"' sh "$CONF"
e2e_check "the qcow2 disk has no internal snapshot left" \
	test -z "$(run virsh -q -c "$URI" snapshot-list snap --name 2>/dev/null | grep -v '^$')"

# --- clones, as qm clone makes them: a stopped guest copied whole, a template linked
lv clone snap copy1
e2e_check "clone of the running guest: exit 1" rc_is 1
e2e_check "... says to stop it first" err_has "stop it first (labvirt down snap)"
e2e_check "... and writes no config" test ! -e "$LAB/qemu-server/102.conf"
lv down --timeout 10 snap
e2e_check "labvirt down snap: exit 0" rc_is 0
lv clone snap copy1
e2e_check "clone snap copy1 (stopped): exit 0, full copies" \
	sh -c '[ "$1" -eq 0 ] && printf "%s" "$2" | grep -q "cloned copy1 (102) from snap: 1 disk, full copies"' \
	sh "$LV_RC" "$LV_OUT"
C102=$LAB/qemu-server/102.conf
e2e_check "its config: 102.conf, name copy1, a new MAC, the disk on VMID 102's volume" \
	sh -c 'grep -qx "name: copy1" "$1" && grep -q "^net0: virtio=BC:24:11:[0-9A-F:]*,bridge=vmbr0$" "$1" &&
		! grep -q 5E:7A:11 "$1" && grep -qx "virtio0: local:102/vm-102-disk-0.qcow2,size=64M" "$1"' sh "$C102"
e2e_check "the copy has no backing file and the same bytes as the source" \
	sh -c '! qemu-img info "$1" | grep -q "^backing file" && qemu-img compare -q "$1" "$2"' \
	sh "$POOL/images/102/vm-102-disk-0.qcow2" "$POOL/images/100/vm-100-disk-0.qcow2"

# a full clone onto the btrfs storage: a raw volume in a subvolume (booted below)
lv clone snap onbt 104 --storage fastbt
e2e_check "clone snap onbt 104 --storage fastbt: exit 0, a raw volume on btrfs" \
	sh -c '[ "$1" -eq 0 ] && grep -qx "virtio0: fastbt:104/vm-104-disk-0.raw,size=64M" "$2"' \
	sh "$LV_RC" "$LAB/qemu-server/104.conf"
BTVOL=$BT/pve/images/104/vm-104-disk-0

echo "template: 1" >>"$CONF"
lv snapshot snap t1
e2e_check "a template takes no snapshot: exit 2" rc_is 2
lv up snap
e2e_check "labvirt up of the template: exit 0, nothing started" \
	sh -c '[ "$1" -eq 0 ] && ! printf "%s" "$2" | grep -q "start domain"' sh "$LV_RC" "$LV_OUT"
e2e_check "... its domain is defined and shut off" \
	test "$(run virsh -q -c "$URI" domstate snap 2>/dev/null | head -n 1)" = "shut off"
lv clone snap linked1 --storage local
e2e_check "a linked clone with --storage: exit 2 (needs --full)" rc_is 2
lv clone snap linked1
e2e_check "clone of the template: exit 0, a linked clone" out_has "cloned linked1 (103) from snap: 1 disk, linked clones"
TDISK=$POOL/images/100/vm-100-disk-0.qcow2
e2e_check "its disk's backing file is the template's disk" \
	sh -c 'qemu-img info "$1" | grep -qx "backing file: $2"' sh "$POOL/images/103/vm-103-disk-0.qcow2" "$TDISK"
lv up linked1
e2e_check "labvirt up linked1: exit 0" rc_is 0
e2e_check "the linked clone boots" e2e_console_expect -t 300 -p '' -p 'cat /run/marker' \
	"LABVIRT-BOOT-OK name=snap disk=67108864" -- lv_console linked1
in_clone() { e2e_console_expect -t 180 -p '' -w 'snap# ' -s "$1" "$2" -- lv_console linked1; }
e2e_check "it reads the template's marker" in_clone 'echo "disk=$(head -c 8 /dev/vda)"' 'disk=FIRST123'
in_clone 'printf LINKED99 >/dev/vda; sync; echo "wrote=$?"' 'wrote=0'
e2e_check "it writes its own" in_clone 'echo "disk=$(head -c 8 /dev/vda)"' 'disk=LINKED99'
e2e_check "the template's disk still holds the template's marker" \
	sh -c 'qemu-io -r -U -f qcow2 -c "read -v 0 8" "$1" | grep -q FIRST123' sh "$TDISK"
lv destroy --yes snap
e2e_check "destroy of the template while its linked clone stands: exit 1" rc_is 1
e2e_check "... says whose base it is, and its disk is still there" \
	sh -c 'printf "%s" "$1" | grep -q "is the base of linked1" && test -f "$2"' sh "$LV_ERR" "$TDISK"

# --- snapshots of a running guest on btrfs: the storage's own (BTVOL@NAME), the guest
# paused meanwhile; rollback stops it and clones the snapshot's extents back
lv down --timeout 10 linked1
lv up onbt
e2e_check "labvirt up onbt (its disk raw on btrfs): exit 0" rc_is 0
e2e_check "it boots" e2e_console_expect -t 300 -p '' -p 'cat /run/marker' \
	"LABVIRT-BOOT-OK name=snap disk=67108864" -- lv_console onbt
in_bt() { e2e_console_expect -t 180 -p '' -w 'snap# ' -s "$1" "$2" -- lv_console onbt; }
in_bt 'printf BTRFS001 >/dev/vda; sync; echo "wrote=$?"' 'wrote=0'
lv snapshot onbt b1
e2e_check "snapshot onbt b1 of the running guest: exit 0, btrfs snapshots" \
	out_has "snapshot b1 of onbt taken (btrfs snapshots of its disks)"
e2e_check "... a read-only snapshot subvolume beside its volume's" \
	sh -c 'btrfs subvolume show "$1@b1" | grep -q "Flags:.*readonly"' sh "$BTVOL"
e2e_check "... and the guest runs on (paused and resumed): it writes a new marker" \
	in_bt 'printf BTRFS002 >/dev/vda; sync; echo "disk=$(head -c 8 /dev/vda)"' 'disk=BTRFS002'
lv snapshot --vmstate onbt b2
e2e_check "snapshot --vmstate on btrfs: exit 2 (not supported yet), no subvolume" \
	sh -c '[ "$1" -eq 2 ] && [ ! -e "$2@b2" ]' sh "$LV_RC" "$BTVOL"
lv rollback --start onbt b1
e2e_check "rollback --start onbt b1: exit 0, stopped, rolled back, started" \
	out_has "onbt rolled back to b1, started"
e2e_check "it boots again" e2e_console_expect -t 300 -p '' -p 'cat /run/marker' \
	"LABVIRT-BOOT-OK name=snap disk=67108864" -- lv_console onbt
e2e_check "... and reads the snapshot's marker" \
	in_bt 'echo "disk=$(head -c 8 /dev/vda)"' 'disk=BTRFS001'

lv destroy --yes
e2e_check "labvirt destroy --yes: exit 0" rc_is 0
e2e_check "no volume left in the storage" test -z "$(find "$POOL" -type f)"
e2e_check "no subvolume left on the btrfs (the snapshot went with its volume)" \
	test -z "$(btrfs subvolume list "$BT")"
e2e_check "no process left in the netns" test -z "$(e2e_netns_pids "$E2E_NS")"
e2e_summary
