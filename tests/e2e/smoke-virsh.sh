#!/bin/bash
# Proof of the end-to-end harness without labvirt: a private libvirtd in its own
# namespaces, two tiny guests defined with virsh on a bridge inside the netns, their
# boot markers read through `virsh console`, a ping between them, and nothing left after.
#
#   tests/e2e/smoke-virsh.sh        (root; exit 77 if the machine cannot run it)
#
# LABVIRT_E2E_CACHE: where the guest kernel and initrd are cached
# (default /var/tmp/labvirt-e2e-guest).
# No -e: a failed check is reported and the test goes on (fatal steps bail out).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

skip() {
	echo "SKIP: $*"
	exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, a private libvirtd)"
for prog in qemu-system-x86_64 qemu-img virsh libvirtd virtlogd ip nsenter unshare script \
	busybox cpio gzip; do
	command -v "$prog" >/dev/null 2>&1 || skip "$prog is not installed"
done
e2e_guest_kernel_version >/dev/null || skip "no /boot/vmlinuz-* with its /lib/modules"

CACHE=${LABVIRT_E2E_CACHE:-/var/tmp/labvirt-e2e-guest}
URI=qemu:///system
BR=vmbrt0
GUESTS=(smoke-1 smoke-2)
declare -A IP=([smoke-1]=10.77.0.11 [smoke-2]=10.77.0.12)

T=$(mktemp -d /tmp/labvirt-smoke.XXXXXX)
chmod 0755 "$T" # the guests' files are opened by libvirt's qemu user
mkdir -m 0755 "$T/pool"
GUEST=$T/guest # this run's copy of the image: libvirt chowns what a guest boots from

cleanup() {
	local rc=$?
	set +e
	trap - INT TERM
	e2e_console_abort
	e2e_daemon_stop
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

vsh() { e2e_in_ns virsh -q -c "$URI" "$@"; }

# The console client: virsh console wants a terminal, so give it one with script(1).
console() {
	e2e_in_ns script -qfec "$(printf '%q ' virsh -c "$URI" console --force "$1")" /dev/null
}

domain_xml() {
	local name=$1 ip=$2
	cat <<EOF
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$GUEST/vmlinuz</kernel>
    <initrd>$GUEST/initrd.img</initrd>
    <cmdline>console=ttyS0 labvirt.name=$name labvirt.ip=$ip/24</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>$(command -v qemu-system-x86_64)</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$T/pool/$name.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='bridge'>
      <source bridge='$BR'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

bail() {
	e2e_summary
	exit 1
}

phase() { e2e_log "time: $1: ${2}s"; }

# --- the harness itself
t=$(e2e_now)
e2e_check "guest image built" e2e_build_guest_image "$CACHE" || bail
if ! { mkdir -m 0755 "$GUEST" && cp "$CACHE/vmlinuz" "$CACHE/initrd.img" "$GUEST/"; }; then
	bail
fi
phase "guest image (cached after the first build)" "$(e2e_elapsed "$t")"

t=$(e2e_now)
e2e_check "private libvirtd answers in netns" e2e_daemon_start || bail
phase "daemon start" "$(e2e_elapsed "$t")"
NS=$E2E_NS

before=$(e2e_inventory e2e_in_ns "$URI" "$T/pool")
e2e_check "inventory is empty before" test -z "$before"

make_bridge() { ip -n "$NS" link add "$BR" type bridge && ip -n "$NS" link set "$BR" up; }
e2e_check "bridge $BR made in the netns" make_bridge

# --- two guests
for g in "${GUESTS[@]}"; do
	qemu-img create -q -f qcow2 "$T/pool/$g.qcow2" 64M
	domain_xml "$g" "${IP[$g]}" >"$T/$g.xml"
	e2e_check "define $g" vsh define "$T/$g.xml"
done

t_start=$(e2e_now)
for g in "${GUESTS[@]}"; do
	e2e_check "start $g" vsh start "$g"
done

during=$(e2e_inventory e2e_in_ns "$URI" "$T/pool")
counts() { printf '%s\n' "$during" | awk '{ n[$1]++ } END { printf "%d %d %d %d", n["domain"], n["bridge"], n["tap"], n["file"] }'; }
e2e_check "inventory while running: 2 domains, 1 bridge, 2 taps, 2 files" test "$(counts)" = "2 1 2 2"
printf '%s\n' "$during" | sed 's/^/#   while running: /' >&2

for g in "${GUESTS[@]}"; do
	e2e_check "boot marker of $g through virsh console" \
		e2e_console_expect -p '' -p 'cat /run/marker' -q $'\x1d' \
		"LABVIRT-BOOT-OK name=$g disk=67108864" -- console "$g"
	phase "virsh start to boot marker of $g" "$(e2e_elapsed "$t_start")"
done

t=$(e2e_now)
e2e_check "smoke-1 pings smoke-2 over $BR" \
	e2e_console_expect -t 60 -p '' -w 'smoke-1# ' -s "ping -c 3 ${IP[smoke-2]}" -q $'\x1d' \
	'3 packets received' -- console smoke-1
phase "ping -c 3 (console attach included)" "$(e2e_elapsed "$t")"
phase "virsh start to ping done" "$(e2e_elapsed "$t_start")"

# --- teardown, then nothing may be left
t=$(e2e_now)
for g in "${GUESTS[@]}"; do
	e2e_check "destroy $g" vsh destroy "$g"
	e2e_check "undefine $g" vsh undefine "$g"
	rm -f "$T/pool/$g.qcow2"
done
ip -n "$NS" link del "$BR"
phase "teardown" "$(e2e_elapsed "$t")"

after=$(e2e_inventory e2e_in_ns "$URI" "$T/pool")
e2e_check "inventory after equals before (empty)" test "$after" = "$before"
[ -z "$after" ] || printf '%s\n' "$after" | sed 's/^/#   left: /' >&2

[ "$E2E_FAILED" -eq 0 ] || e2e_daemon_dump_logs

e2e_daemon_stop
e2e_check "netns $NS deleted" test ! -e "/var/run/netns/$NS"
e2e_check "no qemu of this test left" sh -c '! pgrep -af "[g]uest=smoke-"'

e2e_summary
