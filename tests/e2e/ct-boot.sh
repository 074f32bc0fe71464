#!/bin/bash
# Containers end to end, for real: a lab folder laid out like /etc/pve (lab.cfg with
# the bridge and the dir storage 'local', qemu-server/100.conf, lxc/101.conf and
# lxc/102.conf) is brought up by the real binary on a private libvirtd (its own network
# and mount namespaces; its LXC driver sees the cgroup v1 hierarchies alone):
#
#   ct1 (lxc/101.conf)  unprivileged, ostemplate local:vztmpl/busybox-ct.tar.zst
#   ct2 (lxc/102.conf)  privileged, ostemplate given as an absolute path
#   ct3 (lxc/103.conf)  unprivileged, its rootfs a btrfs subvolume (fast:0)
#   vm1 (qemu-server/100.conf)  the tiny busybox VM of run.sh (host kernel + initrd,
#                       TCG), so that a container reaches a VM over the bridge; its
#                       disk virtio0 a raw volume on the btrfs storage (fast:1)
#
# The btrfs storage 'fast' is a loop-backed btrfs mounted in the daemon's mount
# namespace alone (it goes with the namespace).
#
# The template is tests/e2e/ct-template.sh's busybox one (cached): its /sbin/init prints
# "LABVIRT-CT-UP <hostname>" and `ip addr` on /dev/console, touches /root/made-by-ct and
# keeps a shell on the console. Checked: up makes both rootfs volumes (raw ext4) and
# runs ct1 and ct2 on lxc:///system and vm1 on qemu:///system; status; the live XML
# (idmap for ct1 alone, veth101i0/veth102i0 on vmbr0); a second up with nothing to do
# (the containers' init not restarted); the markers through `labvirt console`; the
# static ip= and gw= set by libvirt inside; ct1 pings ct2 and vm1 (on its console),
# ct2 pings ct1 (virsh lxc-enter-namespace: it runs as the host's root, which an
# unprivileged container's user namespace does not map), vm1 pings ct1; after down, the
# owners of /root/made-by-ct in the images (debugfs, nothing mounted): 100000 for ct1,
# 0 for ct2; after destroy --yes: no domain, no volume, no veth, no mount, no loop
# device, no container process.
#
#   ct-boot.sh PATH_TO_labvirt
#
# Prints "ok - ..." / "not ok - ..." lines and "N passed, N failed"; exits 0 if all
# passed, 1 if any failed, 2 on a usage error, 77 if this machine cannot run it.
# LABVIRT_E2E_CACHE: where the VM's kernel and initrd are cached (default
# /var/tmp/labvirt-e2e-guest); LABVIRT_CT_CACHE: where the template is (see
# ct-template.sh). LABVIRT_E2E_KEEP=1 keeps the temp dir.

# No -e: a failed check is reported and the test goes on; fatal steps bail out.
set -uo pipefail
# A console client that exits early must not kill the test with SIGPIPE while
# e2e_console_expect still writes to it (the write fails instead).
trap '' PIPE

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
[ "$(id -u)" -eq 0 ] || skip "needs root (namespaces, libvirt's LXC driver)"
for prog in qemu-system-x86_64 virsh ip nsenter unshare busybox cpio gzip timeout libvirtd \
	virtlogd zstd tar debugfs losetup script mkfs.btrfs; do
	command -v "$prog" >/dev/null 2>&1 || skip "$prog is not installed"
done
[ -e /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_lxc.so ] ||
	skip "libvirt's LXC driver is not installed (libvirt-daemon-driver-lxc)"
[ -d /sys/fs/cgroup/memory ] || skip "no cgroup v1 memory hierarchy (libvirt 9.0's LXC driver needs v1 here)"
e2e_guest_kernel_version >/dev/null || skip "no /boot/vmlinuz-* with its /lib/modules"

if [ ! -x "$LABVIRT" ]; then
	echo "not ok - labvirt binary '$LABVIRT' is not executable"
	echo "0 passed, 1 failed"
	exit 1
fi
LABVIRT=$(realpath "$LABVIRT")

CACHE=${LABVIRT_E2E_CACHE:-/var/tmp/labvirt-e2e-guest}
LABNAME=ctl
declare -A IP=([vm1]=10.81.0.10 [ct1]=10.81.0.21 [ct2]=10.81.0.22 [ct3]=10.81.0.23)
GW=10.81.0.1
SHIFT=100000
uuid1="" uuid2="" uuid3="" # the containers' uuids, once they run

unset LABVIRT_URI LIBVIRT_DEFAULT_URI LIBVIRT_LOG_OUTPUTS
T=$(mktemp -d /tmp/labvirt-e2e-ct.XXXXXX)
chmod 0755 "$T" # QEMU's user and the unprivileged container's root (100000) pass through
LAB=$T/pve      # laid out like /etc/pve
POOL=$T/vz      # the dir storage 'local', like /var/lib/vz
GUEST=$T/guest  # this run's copy of the VM's kernel and initrd
TMPL_DIR=$T/tmpl # the template given by absolute path (ct2)
export LABVIRT_STATE_DIR=$T/state
QURI=qemu:///system
LURI=lxc:///system
VOL1=$POOL/$LABNAME-ct1-rootfs.raw
VOL2=$POOL/$LABNAME-ct2-rootfs.raw
BT=$T/bt     # the btrfs file system's mount point (daemon's namespace)
FAST=$BT/pve # the btrfs storage 'fast'
VOL3=$FAST/$LABNAME-ct3-rootfs
VMDISK=$FAST/$LABNAME-vm1-virtio0/disk.raw
mkdir -p "$LAB/qemu-server" "$LAB/lxc"
mkdir -m 0755 "$POOL" "$TMPL_DIR"

# Loop devices are the host's: the ones backed by a file of ours (but the btrfs
# storage's own, which the test made).
our_loops() { losetup -a 2>/dev/null | grep -F -- "$T/" | grep -vF -- "$T/btrfs.img" || true; }
# Mounts of anything of ours, in the daemon's mount namespace (where labvirt and
# libvirt run) and on the host: below $T, or below the folder where labvirt mounts an
# unprivileged container's volumes (/run/labvirt/ct/LAB/...), and that folder itself.
CT_MNT=/run/labvirt/ct/$LABNAME
our_mounts() {
	if [ -n "$E2E_HOLDER_PID" ] && [ -d "/proc/$E2E_HOLDER_PID" ]; then
		e2e_in_ns cat /proc/self/mountinfo | grep -F -e "$T/" -e "$CT_MNT" |
			grep -vF " $T/bt " | sed 's/^/ns: /' # but the btrfs storage's
	fi
	grep -F -e "$T/" -e "$CT_MNT" /proc/self/mountinfo | sed 's/^/host: /'
	[ ! -e "$CT_MNT" ] || echo "folder $CT_MNT"
	return 0
}

cleanup() {
	local rc=$? p m l
	set +e
	trap - INT TERM
	e2e_console_abort
	e2e_daemon_stop # the domains of both drivers, then every process of the netns
	for p in $(pgrep -f -- "$T/"); do
		[ "$p" = "$$" ] || kill -KILL "$p" 2>/dev/null
	done
	# Whatever was mounted on the host from our files (nothing should be).
	awk -v t="$T/" -v c="$CT_MNT" 'index($5, t) == 1 || index($5, c) == 1 { print $5 }' \
		/proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	for l in $(losetup -a 2>/dev/null | grep -F -- "$T/" | cut -d: -f1); do
		losetup -d "$l" 2>/dev/null
	done
	[ -e "$CT_MNT" ] && rm -rf --one-file-system "$CT_MNT"
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

phase() { e2e_log "time: $1: ${2}s"; }

# lv ARGS...: labvirt on this lab, in the daemon's namespaces. Standard output in
# LV_OUT, standard error in LV_ERR, exit status in LV_RC; both are echoed to the log.
lv() {
	LV_OUT=$(e2e_in_ns timeout 900 "$LABVIRT" -L "$LAB" -c "$QURI" "$@" 2>"$T/stderr")
	LV_RC=$?
	LV_ERR=$(cat "$T/stderr")
	e2e_log "labvirt $* -> exit $LV_RC"
	[ -z "$LV_OUT" ] || printf '%s\n' "$LV_OUT" | sed 's/^/#   | /' >&2
	[ -z "$LV_ERR" ] || printf '%s\n' "$LV_ERR" | sed 's/^/#   ! /' >&2
	return 0
}

# The console client for e2e_console_expect (stdin is a pipe: labvirt copies).
lv_console() { e2e_in_ns "$LABVIRT" -L "$LAB" -c "$QURI" console "$1"; }

vsh() { e2e_in_ns virsh -q -c "$QURI" "$@"; }
lsh() { e2e_in_ns virsh -q -c "$LURI" "$@"; }

veths() { ip -n "$E2E_NS" -br link show type veth | awk '{ sub(/@.*/, "", $1); print $1 }' | LC_ALL=C sort; }

# What exists: domains of both drivers, networks, bridges, taps, veths, the storage's
# files, our mounts and loop devices.
inventory() {
	e2e_inventory e2e_in_ns "$QURI" "$POOL"
	if _e2e_virsh e2e_in_ns "$LURI" list --all --name; then
		printf '%s\n' "$_E2E_VIRSH_OUT" | sed '/^$/d; s/^/lxc-domain /'
	else
		echo "error: cannot list containers: $_E2E_VIRSH_ERR"
	fi
	veths | sed 's/^/veth /'
	our_mounts | sed 's/^/mount /'
	our_loops | sed 's/^/loop /'
}

dump_logs() {
	e2e_daemon_dump_logs
	# shellcheck disable=SC2016 # expanded by that sh
	e2e_in_ns sh -c '
		for f in /var/log/libvirt/lxc/*.log; do
			[ -f "$f" ] || continue
			echo "## $f"
			tail -n 30 "$f"
		done' 2>&1 | sed 's/^/#   /' >&2
}

# has TEXT REGEX...: TEXT matches every REGEX
has() {
	local text=$1 re
	shift
	for re in "$@"; do
		grep -Eq -- "$re" <<<"$text" || return 1
	done
}
lacks() { ! grep -Eq -- "$2" <<<"$1"; }

# owner_in IMAGE PATH -> "UID GID" of PATH inside the ext4 IMAGE (debugfs: read only,
# nothing mounted)
owner_in() {
	debugfs -R "stat $2" "$1" 2>/dev/null |
		sed -n 's/^User: *\([0-9]*\) *Group: *\([0-9]*\).*/\1 \2/p' | head -n 1
}

# --- the template and the VM's image
t=$(e2e_now)
TEMPLATE=$("$HERE/ct-template.sh")
case $? in
0) e2e_ok "busybox CT template: $TEMPLATE" ;;
77) skip "ct-template.sh cannot build the template here" ;;
*) e2e_not_ok "busybox CT template built" && bail "no template" ;;
esac
if ! { mkdir -p "$POOL/template/cache" &&
	cp "$TEMPLATE" "$POOL/template/cache/busybox-ct.tar.zst" &&
	cp "$TEMPLATE" "$TMPL_DIR/busybox-ct.tar.zst"; }; then
	bail "cannot copy the template"
fi
chmod -R a+rX "$POOL" "$TMPL_DIR"
e2e_check "guest image built" e2e_build_guest_image "$CACHE" || bail "no guest image"
if ! { mkdir -m 0755 "$GUEST" && cp "$CACHE/vmlinuz" "$CACHE/initrd.img" "$GUEST/"; }; then
	bail "cannot copy the guest image"
fi
phase "template and guest image" "$(e2e_elapsed "$t")"

# --- the lab folder, as /etc/pve lays it out (lab.cfg is labvirt's)
cat >"$LAB/lab.cfg" <<EOF
lab: $LABNAME
	accel tcg

dir: local
	path $POOL

btrfs: fast
	path $FAST
	content images,rootdir

bridge: vmbr0
	mode isolated
	address $GW/24
EOF
cat >"$LAB/qemu-server/100.conf" <<EOF
cmdline: console=ttyS0 labvirt.name=vm1 labvirt.ip=${IP[vm1]}/24
cores: 1
initrd: $GUEST/initrd.img
kernel: $GUEST/vmlinuz
memory: 256
name: vm1
net0: virtio=BC:24:11:81:00:0A,bridge=vmbr0
ostype: l26
serial0: socket
virtio0: fast:1
EOF
# As pct writes them: keys sorted, the description as a comment first.
cat >"$LAB/lxc/101.conf" <<EOF
#unprivileged busybox container, template from the storage
arch: amd64
cores: 1
hostname: ct1
memory: 128
net0: name=eth0,bridge=vmbr0,gw=$GW,hwaddr=BC:24:11:81:00:15,ip=${IP[ct1]}/24,type=veth
ostemplate: local:vztmpl/busybox-ct.tar.zst
ostype: unmanaged
rootfs: local:1
swap: 0
unprivileged: 1
EOF
cat >"$LAB/lxc/102.conf" <<EOF
#privileged busybox container, template by path
arch: amd64
cores: 1
hostname: ct2
memory: 128
net0: name=eth0,bridge=vmbr0,gw=$GW,hwaddr=BC:24:11:81:00:16,ip=${IP[ct2]}/24,type=veth
ostemplate: $TMPL_DIR/busybox-ct.tar.zst
ostype: unmanaged
rootfs: local:1
swap: 0
EOF
cat >"$LAB/lxc/103.conf" <<EOF
#unprivileged busybox container on a btrfs subvolume
arch: amd64
cores: 1
hostname: ct3
memory: 128
net0: name=eth0,bridge=vmbr0,gw=$GW,hwaddr=BC:24:11:81:00:17,ip=${IP[ct3]}/24,type=veth
ostemplate: local:vztmpl/busybox-ct.tar.zst
ostype: unmanaged
rootfs: fast:0
swap: 0
unprivileged: 1
EOF

# --- the daemon
e2e_log "labvirt $LABVIRT, temp dir $T"
t=$(e2e_now)
e2e_check "private libvirtd (LXC driver on cgroup v1) answers in its netns" \
	e2e_daemon_start cgroups || bail "no daemon"
NS=$E2E_NS
e2e_check "the daemon's LXC driver answers" lsh version || bail "no LXC driver"
phase "daemon" "$(e2e_elapsed "$t")"
# The btrfs of storage 'fast': mounted in the daemon's namespace only.
mkdir -m 0755 "$BT"
if ! { truncate -s 1G "$T/btrfs.img" && mkfs.btrfs -q "$T/btrfs.img" >/dev/null &&
	e2e_in_ns mount -o loop "$T/btrfs.img" "$BT"; }; then
	bail "cannot make the btrfs storage"
fi
# an inode number of 256 is a btrfs subvolume's root
subvolume() { [ "$(e2e_in_ns stat -c %i "$1" 2>/dev/null)" = 256 ]; }

before=$(inventory)
printf '%s\n' "$before" | sed 's/^/#   before: /' >&2

# --- up
lv validate
e2e_check "labvirt validate accepts the lab with containers" test "$LV_RC" -eq 0
e2e_check "labvirt validate leaves no container out" lacks "$LV_ERR" "left out"

t=$(e2e_now)
lv up
e2e_check "labvirt up exits 0" test "$LV_RC" -eq 0 || {
	dump_logs
	bail "the lab is not up"
}
e2e_check "labvirt up leaves no container out" lacks "$LV_ERR" "left out"
t_up=$EPOCHREALTIME
phase "labvirt up" "$(e2e_elapsed "$t")"

e2e_check "libvirt ($LURI) runs ct1, ct2 and ct3" \
	test "$(lsh list --name | sed '/^$/d' | LC_ALL=C sort | paste -sd' ')" = "ct1 ct2 ct3"
e2e_check "libvirt ($QURI) runs vm1" \
	test "$(vsh list --name | sed '/^$/d' | paste -sd' ')" = "vm1"

lv status
ct_running() { grep -Eq "^$1[[:space:]].*running" <<<"$LV_OUT"; }
e2e_check "labvirt status exits 0" test "$LV_RC" -eq 0
for g in ct1 ct2 ct3 vm1; do
	e2e_check "labvirt status: $g running" ct_running "$g"
done
types() { grep -Eq '^ct1[[:space:]]+ct[[:space:]]' <<<"$LV_OUT" && grep -Eq '^ct2[[:space:]]+ct[[:space:]]' <<<"$LV_OUT" &&
	grep -Eq '^vm1[[:space:]]+vm[[:space:]]' <<<"$LV_OUT"; }
e2e_check "labvirt status: TYPE ct for ct1 and ct2, vm for vm1" types

# --- the live domains and the volumes
x1=$(lsh dumpxml ct1)
x2=$(lsh dumpxml ct2)
printf '%s\n' "$x1" | sed 's/^/#   ct1 live: /' >&2
uuid1=$(sed -n 's:^ *<uuid>\(.*\)</uuid>$:\1:p' <<<"$x1")
uuid2=$(sed -n 's:^ *<uuid>\(.*\)</uuid>$:\1:p' <<<"$x2")
x3=$(lsh dumpxml ct3)
uuid3=$(sed -n 's:^ *<uuid>\(.*\)</uuid>$:\1:p' <<<"$x3")
# shellcheck disable=SC2016 # expanded by that sh
e2e_check "the containers' init processes are found by their uuid while up" \
	sh -c 'for u in "$@"; do grep -qsF "container_uuid=$u" /proc/[0-9]*/environ || exit 1; done' \
	sh "${uuid1:-none}" "${uuid2:-none}" "${uuid3:-none}"
e2e_check "ct1 live: an lxc domain with Proxmox's idmap (0 -> $SHIFT, 65536 ids)" \
	has "$x1" "<domain type=.lxc." "<uid start=.0. target=.$SHIFT. count=.65536./>" \
	"<gid start=.0. target=.$SHIFT. count=.65536./>"
privileged_lxc() { has "$x2" "<domain type=.lxc." && lacks "$x2" "<idmap"; }
e2e_check "ct2 live: an lxc domain without idmap (privileged)" privileged_lxc
e2e_check "ct1 live: static ip and gateway for libvirt to set" \
	has "$x1" "<ip address=.${IP[ct1]//./\\.}. [^>]*prefix=.24." "gateway=.${GW//./\\.}."
e2e_check "ct1/ct2 live: host side of the veth is veth101i0/veth102i0 on vmbr0" \
	has "$x1$x2" "<target dev=.veth101i0./>" "<target dev=.veth102i0./>" "<source bridge=.vmbr0./>"
e2e_check "ct1 live: memory 128 MiB, no swap" \
	has "$x1" "<hard_limit unit=.KiB.>131072<|<hard_limit unit=.MiB.>128<"
e2e_check "rootfs volumes $LABNAME-ct1-rootfs.raw and $LABNAME-ct2-rootfs.raw exist" \
	test -f "$VOL1" -a -f "$VOL2"
e2e_check "ct1's rootfs volume is 1 GiB" test "$(stat -c %s "$VOL1" 2>/dev/null)" = 1073741824
e2e_check "host: three veths in the netns (veth101i0, veth102i0, veth103i0)" \
	test "$(veths | paste -sd' ')" = "veth101i0 veth102i0 veth103i0"
ct3_on_subvolume() { subvolume "$VOL3" && has "$x3" "<source dir=.${VOL3//./\\.}./>"; }
e2e_check "ct3's rootfs is a btrfs subvolume $VOL3, mounted by libvirt as a folder" ct3_on_subvolume
e2e_check "ct3 (unprivileged): the template's /bin/busybox in the subvolume is owned by $SHIFT" \
	test "$(e2e_in_ns stat -c '%u %g' "$VOL3/bin/busybox" 2>/dev/null)" = "$SHIFT $SHIFT"
vm_disk_on_btrfs() {
	subvolume "${VMDISK%/disk.raw}" && [ "$(e2e_in_ns stat -c %s "$VMDISK")" = 1073741824 ]
}
e2e_check "vm1's disk is disk.raw (1 GiB) in the btrfs subvolume $LABNAME-vm1-virtio0" vm_disk_on_btrfs


id1=$(lsh domid ct1 | sed '/^$/d')
id2=$(lsh domid ct2 | sed '/^$/d')
id3=$(lsh domid ct3 | sed '/^$/d')
lv up
said_nothing_to_do() { [ "$LV_RC" -eq 0 ] && grep -q 'nothing to do' <<<"$LV_OUT"; }
e2e_check "second labvirt up: nothing to do" said_nothing_to_do
not_restarted() {
	[ -n "$id1" ] && [ -n "$id2" ] && [ -n "$id3" ] &&
		[ "$(lsh domid ct1 | sed '/^$/d') $(lsh domid ct2 | sed '/^$/d') $(lsh domid ct3 | sed '/^$/d')" = "$id1 $id2 $id3" ]
}
e2e_check "second labvirt up: the containers were not restarted (same init pids)" not_restarted

during=$(inventory)
printf '%s\n' "$during" | sed 's/^/#   while up: /' >&2

# --- inside: the markers, the addresses, the pings
for g in ct1 ct2 ct3; do
	t=$(e2e_now)
	e2e_check "boot marker of $g through labvirt console" \
		e2e_console_expect -t 120 -p '' -p 'cat /run/marker' "LABVIRT-CT-UP $g" -- lv_console "$g"
	phase "console marker of $g (since up returned: $(e2e_elapsed "$t_up")s)" "$(e2e_elapsed "$t")"
done
e2e_check "boot marker of vm1 through labvirt console: its 1 GiB disk on btrfs" \
	e2e_console_expect -t 300 -p '' -p 'cat /run/marker' "LABVIRT-BOOT-OK name=vm1 disk=1073741824" -- lv_console vm1

# The address, the route and the host name, as libvirt set them before init.
# shellcheck disable=SC2016 # expanded by the container's shell
e2e_check "ct1 has ${IP[ct1]}/24 on eth0, its default route via $GW and host name ct1" \
	e2e_console_expect -t 60 -p '' -w 'ct1# ' \
	-s 'echo "probe $(ip -4 addr show dev eth0 | grep -o "inet [0-9./]*") $(ip route | grep ^default) $(hostname) end=$((6*7))"' \
	"probe inet ${IP[ct1]//./\\.}/24 default via ${GW//./\\.} dev eth0.* ct1 end=42" -- lv_console ct1
for to in ct2 vm1; do
	e2e_check "ct1 (unprivileged) pings $to over vmbr0 (on its console)" \
		e2e_console_expect -t 60 -p '' -w 'ct1# ' -s "ping -c 3 ${IP[$to]}" \
		'3 packets received' -- lv_console ct1
done
e2e_check "ct3 (on btrfs) pings vm1 over vmbr0 (on its console)" \
	e2e_console_expect -t 60 -p '' -w 'ct3# ' -s "ping -c 3 ${IP[vm1]}" \
	'3 packets received' -- lv_console ct3
e2e_check "ct2 (privileged) pings ct1 over vmbr0 (virsh lxc-enter-namespace)" \
	lsh lxc-enter-namespace ct2 /bin/ping -c 3 "${IP[ct1]}"
e2e_check "vm1 pings ct2 over vmbr0" \
	e2e_console_expect -t 60 -p '' -w 'vm1# ' -s "ping -c 3 ${IP[ct2]}" \
	'3 packets received' -- lv_console vm1
# The console on a terminal (script(1) gives it a pty): Ctrl-] leaves.
tty_console() {
	e2e_in_ns script -qec "$LABVIRT -L $LAB -c $QURI console ct1; echo console-exit=\$?" /dev/null
}
e2e_check "labvirt console ct1 on a terminal: Ctrl-] leaves" \
	e2e_console_expect -t 60 -w 'Connected to ct1' -s $'\035' 'console-exit=0' -- tty_console
[ "$E2E_FAILED" -eq 0 ] || dump_logs

# --- down
t=$(e2e_now)
lv down --timeout 30
e2e_check "labvirt down exits 0" test "$LV_RC" -eq 0
phase "labvirt down" "$(e2e_elapsed "$t")"
for g in ct1 ct2 ct3; do
	e2e_check "libvirt: $g is shut off" test "$(lsh domstate "$g" | sed '/^$/d')" = "shut off"
done
e2e_check "libvirt: vm1 is shut off" test "$(vsh domstate vm1 | sed '/^$/d')" = "shut off"
lv status
cts_off() { grep -Eq "^ct1[[:space:]].*shut.?off" <<<"$LV_OUT" && grep -Eq "^ct2[[:space:]].*shut.?off" <<<"$LV_OUT"; }
e2e_check "labvirt status: ct1 and ct2 shut off" cts_off
e2e_check "no veth left after down" test -z "$(veths)"
e2e_check "no mount or loop device of the containers' volumes left after down" \
	test -z "$(our_mounts)$(our_loops)"

# --- what the containers wrote, in their images, nothing mounted
o1=$(owner_in "$VOL1" /root/made-by-ct)
o2=$(owner_in "$VOL2" /root/made-by-ct)
e2e_log "owners of /root/made-by-ct: ct1 '$o1', ct2 '$o2'"
e2e_check "ct1 (unprivileged): /root/made-by-ct is owned by $SHIFT:$SHIFT on the host" \
	test "$o1" = "$SHIFT $SHIFT"
e2e_check "ct2 (privileged): /root/made-by-ct is owned by 0:0 on the host" test "$o2" = "0 0"
e2e_check "ct1: the template's /bin/busybox is owned by $SHIFT (ids shifted at extraction)" \
	test "$(owner_in "$VOL1" /bin/busybox)" = "$SHIFT $SHIFT"
e2e_check "ct2: the template's /bin/busybox is owned by 0" test "$(owner_in "$VOL2" /bin/busybox)" = "0 0"
e2e_check "ct3 (unprivileged, btrfs): /root/made-by-ct is owned by $SHIFT:$SHIFT on the host" \
	test "$(e2e_in_ns stat -c '%u %g' "$VOL3/root/made-by-ct" 2>/dev/null)" = "$SHIFT $SHIFT"

# --- destroy: nothing may be left
t=$(e2e_now)
lv destroy --yes
e2e_check "labvirt destroy --yes exits 0" test "$LV_RC" -eq 0
phase "labvirt destroy" "$(e2e_elapsed "$t")"
e2e_check "no container domain left on $LURI" test -z "$(lsh list --all --name | sed '/^$/d')"
e2e_check "no VM domain left on $QURI" test -z "$(vsh list --all --name | sed '/^$/d')"
e2e_check "the rootfs volumes are gone" sh -c '! ls -d "$@" 2>/dev/null' sh "$VOL1" "$VOL2"
e2e_check "the btrfs storage holds nothing any more (no subvolume, no temporary)" \
	test -z "$(e2e_in_ns ls -A "$FAST" 2>&1)"
e2e_check "no veth left" test -z "$(veths)"
e2e_check "no mount of ours left (daemon's namespace and host)" test -z "$(our_mounts)"
e2e_check "no loop device on a file of ours" test -z "$(our_loops)"
# A container's processes live in network namespaces of their own, not in the
# daemon's: they are found anywhere on the host by the uuid libvirt puts in the
# environment of the container's init (container_uuid=), its controller by its
# command line (libvirt_lxc --name NAME, in the daemon's netns), vm1's QEMU likewise.
ct_procs() {
	local p u
	for p in $(e2e_netns_pids "$NS"); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null |
			grep -Eq 'libvirt_lxc --name ct[123] |guest=vm1' && echo "$p"
	done
	for u in $uuid1 $uuid2 $uuid3; do
		grep -lsF "container_uuid=$u" /proc/[0-9]*/environ | cut -d/ -f3
	done
	return 0
}
e2e_check "no container or VM process left in the netns" test -z "$(ct_procs)"
after=$(inventory)
e2e_check "inventory after destroy equals before (domains, networks, bridges, veths, files, mounts)" \
	test "$after" = "$before"
diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed -n 's/^[<>]/#   &/p' >&2

[ "$E2E_FAILED" -eq 0 ] || dump_logs
e2e_summary
