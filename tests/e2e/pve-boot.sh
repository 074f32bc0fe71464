#!/bin/bash
# Proxmox's own guest configs, unchanged, booted for real: a lab folder laid out like
# /etc/pve (storage.cfg, qemu-server/100.conf, 101.conf, 102.conf as Proxmox writes them, and
# labvirt's lab.cfg beside them) is brought up by the real binary on libvirt's embedded
# QEMU driver, in a network namespace of the test's own (no daemon).
#
#   100: q35, OVMF (efidisk0, no pre-enrolled keys), a TPM 2.0 (tpmstate0), a
#        virtio-scsi-single disk with its iothread, cpu host (TCG: mode=maximum), two
#        sockets on two NUMA nodes, smbios1 with a manufacturer, a virtio nic
#   101: i440fx, SeaBIOS, legacy boot letters with bootdisk, a virtio disk made by
#        labvirt and one restored from elsewhere (made here, before up), an e1000 nic,
#        an i6300esb watchdog, a virtio rng
#   102: OVMF whose efidisk0 was restored before up (an older config: no
#        pre-enrolled-keys=); destroy must leave it, as any volume labvirt did not make
#
# Both guests boot the host's kernel with a busybox initramfs (kernel:, initrd:,
# cmdline: are labvirt's keys; everything else is Proxmox's). Checked: the boot
# markers, pings both ways over vmbr0, what guest 100 sees (scsi disk, DMI vendor, CPUs,
# NUMA nodes, TPM), the live domain XML, the volumes labvirt and libvirt made (name,
# format, size), a second up with nothing to do, and after down and destroy: the
# restored volume untouched, everything else gone.
#
#   pve-boot.sh PATH_TO_labvirt
#
# Prints "ok - ..." / "not ok - ..." lines and "N passed, N failed"; exits 0 if all
# passed, 1 if any failed, 2 on a usage error, 77 if this machine cannot run it.
# LABVIRT_E2E_CACHE: where the guest kernel and initrd are cached
# (default /var/tmp/labvirt-e2e-guest). LABVIRT_E2E_KEEP=1 keeps the temp dir.

# No -e: a failed check is reported and the test goes on; fatal steps bail out.
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
for prog in qemu-system-x86_64 qemu-img virsh ip busybox cpio gzip timeout swtpm swtpm_setup; do
	command -v "$prog" >/dev/null 2>&1 || skip "$prog is not installed"
done
e2e_guest_kernel_version >/dev/null || skip "no /boot/vmlinuz-* with its /lib/modules"
ls /usr/share/qemu/firmware/*.json >/dev/null 2>&1 || skip "no UEFI firmware for QEMU (install ovmf)"

if [ ! -x "$LABVIRT" ]; then
	echo "not ok - labvirt binary '$LABVIRT' is not executable"
	echo "0 passed, 1 failed"
	exit 1
fi
LABVIRT=$(realpath "$LABVIRT")

CACHE=${LABVIRT_E2E_CACHE:-/var/tmp/labvirt-e2e-guest}
declare -A IP=([100]=10.79.0.100 [101]=10.79.0.101 [102]=10.79.0.102)
GIB=1073741824
VENDOR="labvirt PVE e2e" # smbios1's manufacturer (base64 in the file, as Proxmox writes it)
# swtpm_setup's certificate authority keeps its key here (/etc/swtpm-localca.conf): each
# labvirt run gets a tmpfs over it, so that the test leaves nothing there.
LOCALCA=/var/lib/swtpm-localca

unset LABVIRT_URI LIBVIRT_DEFAULT_URI LIBVIRT_LOG_OUTPUTS
T=$(mktemp -d /tmp/labvirt-e2e-pve.XXXXXX)
chmod 0755 "$T" # libvirt's QEMU user opens the volumes below
LAB=$T/pve # laid out like /etc/pve
POOL=$T/vz # the dir storage 'local', like /var/lib/vz
GUEST=$T/guest # this run's copy of the image: libvirt chowns what a guest boots from
export LABVIRT_STATE_DIR=$T/state
URI="qemu:///embed?root=$LABVIRT_STATE_DIR/embed"
mkdir -p "$LAB/qemu-server"
mkdir -m 0755 "$POOL"

cleanup() {
	local rc=$? p
	set +e
	trap - INT TERM
	e2e_console_abort # it holds the embedded driver: virsh could not connect
	if [ -n "$E2E_NS" ] && [ -d "$LABVIRT_STATE_DIR/embed" ]; then
		e2e_virsh_cleanup run "$URI"
	fi
	e2e_netns_only_stop # ends every process left in the netns: QEMU and swtpm included
	for p in $(pgrep -f -- "$T/"); do # any QEMU still running with a path of ours
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

phase() { e2e_log "time: $1: ${2}s"; }

# run CMD...: CMD in the test's network namespace (e2e_in_netns), with a tmpfs over
# swtpm's certificate authority when the host has one, owned as that folder is (swtpm_setup
# runs as libvirt's swtpm user, tss).
run() {
	if [ -d "$LOCALCA" ]; then
		# shellcheck disable=SC2016 # expanded by that sh
		e2e_in_netns sh -c 'mount -t tmpfs -o "mode=$1" tmpfs "$0" || exit 125; shift; exec "$@"' \
			"$LOCALCA" "$(stat -c '%a,uid=%u,gid=%g' "$LOCALCA")" "$@"
	else
		e2e_in_netns "$@"
	fi
}

# lv ARGS...: labvirt on this lab. Standard output in LV_OUT, standard error in LV_ERR,
# exit status in LV_RC; both are echoed to the log.
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

vsh() { run virsh -q -c "$URI" "$@"; }

# What exists: domains (once the embedded root does), bridges, taps, the storage's
# files, and what swtpm's certificate authority holds on the host.
inventory() {
	local uri=$URI
	[ -d "$LABVIRT_STATE_DIR/embed" ] || uri="" # connecting would create it
	e2e_inventory run "$uri" "$POOL"
	if [ -d "$LOCALCA" ]; then
		find "$LOCALCA" -mindepth 1 -printf 'localca %P\n' | LC_ALL=C sort
	fi
}

dump_logs() {
	local f
	for f in "$LABVIRT_STATE_DIR/libvirt.log" "$LABVIRT_STATE_DIR"/embed/log/qemu/*.log \
		"$LABVIRT_STATE_DIR"/embed/log/swtpm/*.log; do
		[ -f "$f" ] || continue
		echo "## $f"
		tail -n 30 "$f"
	done 2>&1 | sed 's/^/#   /' >&2
}

# vol_info FILE -> "FORMAT VIRTUAL-SIZE" (-U: a running guest holds the image's lock)
vol_info() {
	local json
	json=$(qemu-img info -U --output=json "$1" 2>/dev/null) || return 0
	printf '%s %s\n' "$(sed -n 's/^ *"format": "\(.*\)",$/\1/p' <<<"$json")" \
		"$(sed -n 's/^ *"virtual-size": \([0-9]*\),$/\1/p' <<<"$json")"
}

# --- the lab folder, as /etc/pve lays it out
cat >"$LAB/storage.cfg" <<EOF
dir: local
	path $POOL
	content iso,vztmpl,backup,images,snippets
	prune-backups keep-last=3,keep-weekly=2

zfspool: local-zfs
	pool rpool/data
	sparse 1
	content images,rootdir

pbs: backup-server
	datastore store1
	server 192.0.2.10
	content backup
	fingerprint 5f:0a:3e:21:9b:7c:44:d1:08:6e:2a:b9:c3:f4:15:77:e0:92:6d:3b:a8:1c:55:f6:0d:49:e7:83:2b:c1:9a:60
	prune-backups keep-all=1
	username backup@pbs
EOF
cat >"$LAB/lab.cfg" <<EOF
# What Proxmox keeps elsewhere: the lab and its bridge (isolated: no uplink).
lab: pve
	accel tcg

bridge: vmbr0
	mode isolated
	address 10.79.0.1/24
EOF
# Keys in sorted order, the description as comment lines first, snapshots last: as
# qemu-server writes a config. digest is what the API adds to a config it returns.
cat >"$LAB/qemu-server/100.conf" <<EOF
#UEFI guest%3A q35, TPM, two NUMA nodes
agent: 1,fstrim_cloned_disks=1
bios: ovmf
boot: order=scsi0;net0
cmdline: console=ttyS0 labvirt.name=pve-100 labvirt.ip=${IP[100]}/24
cores: 1
cpu: host
digest: 9e4c1d7a2b3f5e6d8c0a1b2c3d4e5f60718293a4
efidisk0: local:100/vm-100-disk-0.raw,efitype=4m,pre-enrolled-keys=0,size=528K
initrd: $GUEST/initrd.img
kernel: $GUEST/vmlinuz
machine: q35
memory: 512
meta: creation-qemu=8.1.5,ctime=1733210000
name: pve-100
net0: virtio=BC:24:11:79:00:64,bridge=vmbr0,firewall=1
numa: 1
ostype: l26
parent: before-test
scsi0: local:100/vm-100-disk-1.qcow2,iothread=1,size=1G,ssd=1,discard=on
scsihw: virtio-scsi-single
serial0: socket
smbios1: base64=1,manufacturer=$(printf '%s' "$VENDOR" | base64),uuid=5d7b3c1e-9f24-4a86-b0e3-2c4d6e8f1a35
sockets: 2
tags: e2e;uefi
tpmstate0: local:100/vm-100-disk-2.raw,size=4M,version=v2.0
vga: serial0
vmgenid: 1f2e3d4c-5b6a-4789-9abc-def012345678

[before-test]
bios: ovmf
boot: order=scsi0;net0
cores: 1
efidisk0: local:100/vm-100-disk-0.raw,efitype=4m,pre-enrolled-keys=0,size=528K
machine: q35
memory: 512
name: pve-100
net0: virtio=BC:24:11:79:00:64,bridge=vmbr0,firewall=1
scsi0: local:100/vm-100-disk-1.qcow2,iothread=1,size=1G,ssd=1,discard=on
scsihw: virtio-scsi-single
smbios1: uuid=5d7b3c1e-9f24-4a86-b0e3-2c4d6e8f1a35
snaptime: 1733212345
sockets: 2
EOF
cat >"$LAB/qemu-server/101.conf" <<EOF
boot: cdn
bootdisk: virtio0
cmdline: console=ttyS0 labvirt.name=pve-101 labvirt.ip=${IP[101]}/24
cores: 1
initrd: $GUEST/initrd.img
kernel: $GUEST/vmlinuz
memory: 256
name: pve-101
net0: e1000=BC:24:11:79:00:65,bridge=vmbr0,firewall=1
onboot: 0
ostype: l26
rng0: source=/dev/urandom
serial0: socket
smbios1: uuid=0c9a8b7d-6e5f-4d3c-a2b1-f0e9d8c7b6a5
sockets: 1
virtio0: local:101/vm-101-disk-0.qcow2,size=1G
virtio1: local:101/vm-101-disk-1.raw,size=64M
vmgenid: 7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d
watchdog: model=i6300esb,action=reset
EOF
cat >"$LAB/qemu-server/102.conf" <<EOF
bios: ovmf
cmdline: console=ttyS0 labvirt.name=pve-102 labvirt.ip=${IP[102]}/24
cores: 1
efidisk0: local:102/vm-102-disk-0.raw,efitype=4m,size=528K
initrd: $GUEST/initrd.img
kernel: $GUEST/vmlinuz
memory: 256
name: pve-102
net0: virtio=BC:24:11:79:00:66,bridge=vmbr0
ostype: l26
smbios1: uuid=3b2a1908-f7e6-4d5c-9b4a-39281706f5e4
vga: serial0
EOF
# virtio1 exists before up, as a disk restored from a Proxmox backup would: a raw file
# with data on it, not made by labvirt. It must be used as it is and never removed.
RESTORED=$POOL/images/101/vm-101-disk-1.raw
mkdir -p "$POOL/images/101"
qemu-img create -q -f raw "$RESTORED" 64M || bail "cannot make $RESTORED"
printf 'restored from a proxmox backup\n' | dd of="$RESTORED" conv=notrunc status=none
RESTORED_SUM=$(sha256sum <"$RESTORED")
# So does 102's efidisk0: OVMF's variables as that guest left them (here the template).
RESTORED_EFI=$POOL/images/102/vm-102-disk-0.raw
mkdir -p "$POOL/images/102"
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$RESTORED_EFI" || bail "cannot make $RESTORED_EFI"
chmod -R a+rX "$POOL"

# --- the harness
e2e_log "labvirt $LABVIRT, temp dir $T"
t=$(e2e_now)
e2e_check "guest image built" e2e_build_guest_image "$CACHE" || bail "no guest image"
if ! { mkdir -m 0755 "$GUEST" && cp "$CACHE/vmlinuz" "$CACHE/initrd.img" "$GUEST/"; }; then
	bail "cannot copy the guest image"
fi
phase "guest image" "$(e2e_elapsed "$t")"
e2e_check "network namespace made" e2e_netns_only_start || bail "no netns"
NS=$E2E_NS

before=$(inventory)
printf '%s\n' "$before" | sed 's/^/#   before: /' >&2

# --- up
lv validate
e2e_check "labvirt validate accepts the /etc/pve layout" test "$LV_RC" -eq 0
lv plan
e2e_check "labvirt plan exits 0" test "$LV_RC" -eq 0

t=$(e2e_now)
lv up
e2e_check "labvirt up exits 0" test "$LV_RC" -eq 0 || {
	dump_logs
	bail "the lab is not up"
}
t_up=$EPOCHREALTIME
phase "labvirt up" "$(e2e_elapsed "$t")"

e2e_check "libvirt runs pve-100, pve-101 and pve-102" \
	test "$(vsh list --name | sed '/^$/d' | LC_ALL=C sort | paste -sd' ')" = "pve-100 pve-101 pve-102"

# --- the live domains
x100=$(vsh dumpxml pve-100)
x101=$(vsh dumpxml pve-101)
sed -n '/<os/,/<\/os>/p' <<<"$x100" | sed 's/^/#   pve-100 live: /' >&2
# has TEXT REGEX...: TEXT matches every REGEX; lacks TEXT REGEX: it matches none
has() {
	local text=$1 re
	shift
	for re in "$@"; do
		grep -Eq -- "$re" <<<"$text" || return 1
	done
}
lacks() { ! grep -Eq -- "$2" <<<"$1"; }
# libvirt 9.0 shows the firmware it chose for <os firmware='efi'> as loader and template.
e2e_check "pve-100 live: UEFI firmware (an OVMF pflash loader)" \
	has "$x100" "<loader [^>]*type=.pflash.[^>]*>/usr/share/OVMF/OVMF_CODE"
# Proxmox starts such a guest from OVMF's variables without keys; libvirt, left to
# choose, took the variables with Microsoft's keys (OVMF_VARS_4M.ms.fd) and Secure Boot.
e2e_check "pve-100 live: pre-enrolled-keys=0: firmware and variables without Microsoft's keys" \
	lacks "$x100" "\.ms\.fd[<']"
e2e_check "pve-100 live: nvram is the efidisk0 volume" \
	has "$x100" "<nvram[^>]*>$POOL/images/100/vm-100-disk-0.raw</nvram>"
e2e_check "pve-100 live: machine q35" has "$x100" "machine=.pc-q35-"
e2e_check "pve-100 live: tpm 2.0 emulator" \
	has "$x100" "<tpm model=" "<backend type=.emulator. version=.2\.0."
e2e_check "pve-100 live: an iothread for scsi0" \
	has "$x100" "<iothreads>1</iothreads>" "iothread=.1."
e2e_check "pve-100 live: two numa cells" \
	has "$x100" "<cell id=.0." "<cell id=.1." "<cell id=.1.[^>]*memory=.262144."
e2e_check "pve-100 live: cpu host under tcg is mode=maximum" has "$x100" "<cpu mode=.maximum."
e2e_check "pve-100 live: smbios1 manufacturer" has "$x100" "<entry name=.manufacturer.>$VENDOR</entry>"
e2e_check "pve-100 live: uuid from smbios1" has "$x100" "<uuid>5d7b3c1e-9f24-4a86-b0e3-2c4d6e8f1a35</uuid>"
seabios_i440fx() { has "$x101" "machine=.pc-i440fx-" && lacks "$x101" "firmware=.efi."; }
e2e_check "pve-101 live: machine i440fx, no UEFI" seabios_i440fx
e2e_check "pve-101 live: i6300esb watchdog, action reset" \
	has "$x101" "<watchdog model=.i6300esb. action=.reset."
e2e_check "pve-101 live: virtio rng from /dev/urandom" has "$x101" "<rng model=.virtio."
e2e_check "pve-101 live: e1000 nic" has "$x101" "<model type=.e1000./>"
e2e_check "pve-101 live: the restored disk as raw" \
	has "$(grep -B2 -- "$RESTORED" <<<"$x101")" "type=.raw."

# --- the volumes
v_disk=$POOL/images/100/vm-100-disk-1.qcow2
v_efi=$POOL/images/100/vm-100-disk-0.raw
v_tpm=$POOL/images/100/vm-100-disk-2.raw
v_101=$POOL/images/101/vm-101-disk-0.qcow2
e2e_check "scsi0 volume images/100/vm-100-disk-1.qcow2: qcow2, 1 GiB" \
	test "$(vol_info "$v_disk")" = "qcow2 $GIB"
e2e_check "virtio0 volume images/101/vm-101-disk-0.qcow2: qcow2, 1 GiB" \
	test "$(vol_info "$v_101")" = "qcow2 $GIB"
# efidisk0 is libvirt's <nvram>: libvirt copies OVMF's variable template there at the
# first start (528K, what Proxmox's size= says for efitype=4m).
e2e_check "efidisk0 volume images/100/vm-100-disk-0.raw: raw, 528 KiB, OVMF's variables" \
	test "$(vol_info "$v_efi")" = "raw 540672"
# tpmstate0: libvirt keeps the TPM's state in its own directory (swtpm); labvirt makes
# no volume for it.
e2e_check "tpmstate0: no volume images/100/vm-100-disk-2.raw (the state is libvirt's)" \
	test ! -e "$v_tpm"
e2e_check "the restored volume is unchanged" test "$(sha256sum <"$RESTORED")" = "$RESTORED_SUM"

lv up
said_nothing_to_do() { [ "$LV_RC" -eq 0 ] && grep -q 'nothing to do' <<<"$LV_OUT"; }
e2e_check "second labvirt up: nothing to do" said_nothing_to_do

# --- the guests
for id in 100 101 102; do
	disk=none
	[ "$id" = 101 ] && disk=$GIB
	t=$(e2e_now)
	e2e_check "boot marker of pve-$id through labvirt console" \
		e2e_console_expect -t 300 -p '' -p 'cat /run/marker' \
		"LABVIRT-BOOT-OK name=pve-$id disk=$disk" -- lv_console "pve-$id"
	phase "console marker of pve-$id (since up returned: $(e2e_elapsed "$t_up")s)" "$(e2e_elapsed "$t")"
done

e2e_check "pve-100 pings pve-101 (e1000) over vmbr0" \
	e2e_console_expect -t 60 -p '' -w 'pve-100# ' -s "ping -c 3 ${IP[101]}" \
	'3 packets received' -- lv_console pve-100
e2e_check "pve-101 pings pve-100 (virtio) over vmbr0" \
	e2e_console_expect -t 60 -p '' -w 'pve-101# ' -s "ping -c 3 ${IP[100]}" \
	'3 packets received' -- lv_console pve-101

# What guest 100 sees, one line; $((6*7)) tells the answer from the echoed command.
# shellcheck disable=SC2016 # expanded by the guest's shell
probe='echo "probe sda=$(cat /sys/block/sda/size 2>/dev/null) vendor=$(cat /sys/class/dmi/id/sys_vendor 2>/dev/null) cpus=$(cat /sys/devices/system/cpu/online) nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l) tpm=$(cat /sys/class/tpm/tpm0/tpm_version_major 2>/dev/null) efi=$(ls -d /sys/firmware/efi 2>/dev/null) $(dmesg | grep -o "Secure boot [a-z]*" | head -n 1 | tr " " _) end=$((6*7))"'
if e2e_console_expect -t 60 -p '' -w 'pve-100# ' -s "$probe" 'end=42' -- lv_console pve-100; then
	line=$(grep -E '^probe sda=.*end=42' <<<"$E2E_CONSOLE_OUTPUT" | tail -n 1)
else
	line=""
fi
e2e_log "pve-100 says: $line"
e2e_check "pve-100 sees scsi0 as /dev/sda, 1 GiB" has "$line" "sda=2097152 "
e2e_check "pve-100 sees smbios1's manufacturer in /sys/class/dmi/id/sys_vendor" has "$line" "vendor=$VENDOR "
e2e_check "pve-100 has 2 CPUs (sockets: 2)" has "$line" "cpus=0-1 "
e2e_check "pve-100 has 2 NUMA nodes (numa: 1)" has "$line" "nodes=2 "
e2e_check "pve-100 has a TPM 2.0 (tpmstate0)" has "$line" "tpm=2 "
e2e_check "pve-100 booted through UEFI (/sys/firmware/efi)" has "$line" "efi=/sys/firmware/efi "
e2e_check "pve-100: Secure Boot is off (no keys enrolled)" has "$line" "Secure_boot_disabled "
# shellcheck disable=SC2016 # expanded by the guest's shell
e2e_check "pve-101 sees the restored disk as /dev/vdb, 64 MiB" \
	e2e_console_expect -t 60 -p '' -w 'pve-101# ' -s 'echo "vdb=$(cat /sys/block/vdb/size) end=$((6*7))"' \
	'vdb=131072 end=42' -- lv_console pve-101
[ "$E2E_FAILED" -eq 0 ] || dump_logs

during=$(inventory)
printf '%s\n' "$during" | sed 's/^/#   while up: /' >&2

# --- down, destroy: nothing may be left but the restored volume
t=$(e2e_now)
lv down --timeout 30
e2e_check "labvirt down exits 0" test "$LV_RC" -eq 0
phase "labvirt down" "$(e2e_elapsed "$t")"
lv destroy --yes
e2e_check "labvirt destroy --yes exits 0" test "$LV_RC" -eq 0
left_alone() {
	grep -qF "$RESTORED: not made by labvirt: left alone" <<<"$LV_ERR" &&
		grep -qF "$RESTORED_EFI: not made by labvirt: left alone" <<<"$LV_ERR"
}
e2e_check "labvirt destroy says the restored volumes are not its own" left_alone
e2e_check "the restored volume is still there, unchanged" \
	test "$(sha256sum <"$RESTORED" 2>/dev/null)" = "$RESTORED_SUM"
# OVMF writes its variables while it boots: the file stays, its content is the guest's.
e2e_check "pve-102's restored efidisk0 is still there" \
	test "$(vol_info "$RESTORED_EFI")" = "raw 540672"
e2e_check "the volumes labvirt and libvirt made are gone" \
	sh -c '! ls -d "$@" 2>/dev/null' sh "$v_disk" "$v_efi" "$v_101"
after=$(inventory)
e2e_check "inventory after destroy equals before (domains, bridges, taps, files)" \
	test "$after" = "$before"
diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed -n 's/^[<>]/#   &/p' >&2
e2e_check "no process left in the netns (QEMU, swtpm)" test -z "$(e2e_netns_pids "$NS")"

[ "$E2E_FAILED" -eq 0 ] || dump_logs
e2e_summary
