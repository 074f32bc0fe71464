#!/bin/bash
# First-boot preparation end to end, for real: a locally built image that libguestfs
# inspection recognises as Alpine (busybox; its init brings the network up with
# busybox `ifup -a`, which reads /etc/network/interfaces, and sets the hostname from
# /etc/hostname) is the base of two linked clones. `labvirt up` (private libvirtd in
# its own namespaces, tests/e2e/lib.sh) prepares both in one libguestfs launch with
# each guest's name and its ipconfig0 address, then boots them. Through `labvirt
# console` each guest must print the hostname labvirt wrote and the address labvirt
# gave it, and reach the other one at the address labvirt gave that one. Only the peer
# to ping comes on the kernel command line; nothing else tells the guest who it is.
# Also: the base image is unchanged, a second `up` prepares nothing, and after destroy
# nothing is left (domains, networks, bridges, taps, volumes, QEMU, the appliance).
#
# Usage: prepare-boot.sh PATH_TO_labvirt. Prints ok/not ok lines and "N passed, N
# failed"; exits 77 where the machine cannot run it. LABVIRT_E2E_ALPINE_CACHE: where
# the image is cached (default /var/tmp/labvirt-e2e-alpine).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
LABVIRT=$(realpath "$1")

for prog in mkfs.ext4 guestfish; do
	command -v "$prog" >/dev/null 2>&1 || {
		echo "SKIP: $prog is not installed"
		exit 77
	}
done
e2e_daemon_suite prepboot
ACACHE=${LABVIRT_E2E_ALPINE_CACHE:-/var/tmp/labvirt-e2e-alpine}
export LIBGUESTFS_BACKEND=direct
unset LIBGUESTFS_BACKEND_SETTINGS # labvirt sets force_tcg itself (accel tcg)
IMG=$T/img/alpine.qcow2
declare -A IP=([pb-a]=10.79.0.11 [pb-b]=10.79.0.12)
declare -A PEER=([pb-a]=pb-b [pb-b]=pb-a)

cat >"$LAB/lab.cfg" <<CFG
lab: pb
	accel tcg

dir: local
	path $POOL

bridge: vmbr0
	mode isolated
	address 10.79.0.1/24
CFG
for g in pb-a pb-b; do
	cat >"$LAB/${g#pb-}.conf" <<CONF
name: $g
cores: 1
memory: 256
net0: virtio,bridge=vmbr0
virtio0: local:0,import-from=$IMG
serial0: socket
ipconfig0: ip=${IP[$g]}/24
kernel: $GUEST/vmlinuz
initrd: $GUEST/initrd.img
cmdline: console=ttyS0 labvirt.peer=${IP[${PEER[$g]}]}
CONF
done

lv() { # ARGS...: labvirt in the daemon's namespaces; LV_OUT, LV_ERR, LV_RC (echoed)
	LV_OUT=$(e2e_in_ns timeout 900 "$LABVIRT" -L "$LAB" -c "$URI" "$@" 2>"$T/stderr")
	LV_RC=$?
	LV_ERR=$(cat "$T/stderr")
	e2e_log "labvirt $* -> exit $LV_RC"
	[ -z "$LV_OUT" ] || printf '%s\n' "$LV_OUT" | sed 's/^/#   | /' >&2
	[ -z "$LV_ERR" ] || printf '%s\n' "$LV_ERR" | sed 's/^/#   ! /' >&2
	return 0
}
lv_console() { e2e_in_ns "$LABVIRT" -L "$LAB" -c "$URI" console "$1"; }
inventory() { e2e_inventory e2e_in_ns "$URI" "$POOL"; }
# Processes of ours in the netns: QEMU of the lab's guests, and libguestfs's appliance.
procs_matching() {
	local p
	for p in $(e2e_netns_pids); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "$1" && echo "$p"
	done
	return 0
}
phase() { e2e_log "time: $1: ${2}s"; }

t=$(e2e_now)
e2e_check "Alpine-like image built" e2e_build_alpine_image "$ACACHE" || exit 1
phase "image" "$(e2e_elapsed "$t")"
mkdir -m 0755 "$GUEST" "$T/img" &&
	cp "$ACACHE/vmlinuz" "$ACACHE/initrd.img" "$GUEST/" && cp "$ACACHE/alpine.qcow2" "$IMG" || exit 1
base_sum=$(sha256sum <"$IMG")
e2e_check "private libvirtd answers in netns" e2e_daemon_start || exit 1
before=$(inventory)

lv plan
for g in pb-a pb-b; do
	e2e_check "plan lists the preparation of $g's new volume" \
		grep -qx "+ prepare volume $POOL/pb-$g-virtio0.qcow2 for $g/virtio0" <<<"$LV_OUT"
done

t=$(e2e_now)
lv up
e2e_check "labvirt up exits 0" test "$LV_RC" -eq 0 || {
	e2e_daemon_dump_logs
	e2e_summary
	exit 1
}
phase "labvirt up" "$(e2e_elapsed "$t")"
for g in pb-a pb-b; do
	e2e_check "up: $g's disk found as Alpine by inspection" \
		grep -qx "prepare volume $POOL/pb-$g-virtio0.qcow2 for $g/virtio0 (alpinelinux 3.20)" <<<"$LV_OUT"
done
e2e_check "up: both disks prepared in one libguestfs launch" \
	grep -q '^prepared 2 disks in one libguestfs launch (' <<<"$LV_OUT"
e2e_check "no libguestfs appliance left running after up" test -z "$(procs_matching guestfs)"
e2e_check "the base image is unchanged" test "$(sha256sum <"$IMG")" = "$base_sum"
for g in pb-a pb-b; do
	e2e_check "$g's volume is a linked clone of the base image" \
		grep -q "^backing file: $IMG\$" < <(qemu-img info -U "$POOL/pb-$g-virtio0.qcow2")
done

# What the guests say: the hostname and the address labvirt wrote, then the ping.
for g in pb-a pb-b; do
	t=$(e2e_now)
	e2e_check "$g says hostname=$g addr=${IP[$g]}/24 (from its prepared disk)" \
		e2e_console_expect -t 300 -p '' -p 'cat /run/marker' \
		"LABVIRT-PREP-BOOT hostname=$g addr=${IP[$g]}/24" -- lv_console "$g"
	phase "console marker of $g" "$(e2e_elapsed "$t")"
done
for g in pb-a pb-b; do
	peer=${PEER[$g]}
	# The guest tries for a while, then says ok or unreachable.
	e2e_console_expect -t 600 -r 5 -p 'cat /run/marker' \
		"LABVIRT-PREP-PING to=${IP[$peer]} (ok|unreachable)" -- lv_console "$g"
	e2e_check "$g reaches $peer at ${IP[$peer]}, the address labvirt gave $peer" \
		grep -q "LABVIRT-PREP-PING to=${IP[$peer]} ok" <<<"$E2E_CONSOLE_OUTPUT"
done

lv up
# shellcheck disable=SC2016 # expanded by that sh
e2e_check "second up exits 0 with nothing to do" \
	sh -c '[ "$1" -eq 0 ] && printf "%s\n" "$2" | grep -q "nothing to do"' sh "$LV_RC" "$LV_OUT"
# shellcheck disable=SC2016 # expanded by that sh
e2e_check "second up prepares nothing" sh -c '! printf "%s\n" "$1" | grep -q "^prepare"' sh "$LV_OUT"

lv destroy --yes
e2e_check "labvirt destroy --yes exits 0" test "$LV_RC" -eq 0
after=$(inventory)
e2e_check "inventory after destroy equals before (domains, networks, bridges, taps, volumes)" \
	test "$after" = "$before"
diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed -n 's/^[<>]/#   &/p' >&2
e2e_check "no QEMU of the lab left" test -z "$(procs_matching 'guest=pb-')"
e2e_check "no libguestfs appliance left" test -z "$(procs_matching guestfs)"
e2e_check "the base image is still unchanged" test "$(sha256sum <"$IMG")" = "$base_sum"
e2e_summary
