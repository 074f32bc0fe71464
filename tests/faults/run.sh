#!/bin/bash
# Faults during `labvirt up`, for real: a private libvirtd in its own network and
# mount namespaces (tests/e2e/lib.sh), the three-guest tiny lab, and the real binary.
#
#   - every side-effecting step of the plan (the network, each volume, each define,
#     each start) is made to fail in turn (LABVIRT_FAIL_STEP): up exits 1, the
#     message names the step and its object, and afterwards the inventory (domains,
#     networks, bridges, taps, volume files) equals the one before;
#   - storage full (a tiny tmpfs as the dir storage) and storage without write
#     permission (a read-only bind mount): a clear error, exit 1, a clean state.
#
# Prints ok/not ok lines and "N passed, N failed"; exits 77 where the machine cannot
# run it (not root, no QEMU or libvirtd).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../e2e/lib.sh
. "$HERE/../e2e/lib.sh"
LABVIRT=$(realpath "$1")

e2e_daemon_suite faults

cat >"$LAB/lab.cfg" <<EOF
lab: flt
	accel tcg

dir: local
	path $POOL

bridge: vmbr0
	mode isolated
	address 10.78.0.1/24
EOF
for g in a b c; do
	cat >"$LAB/$g.conf" <<EOF
name: flt-$g
cores: 1
memory: 128
net0: virtio,bridge=vmbr0
virtio0: local:0.0625
kernel: $GUEST/vmlinuz
initrd: $GUEST/initrd.img
cmdline: console=ttyS0 labvirt.name=flt-$g
EOF
done

lv() { # ARGS...: labvirt in the daemon's namespaces; LV_OUT, LV_ERR, LV_RC
	LV_OUT=$(e2e_in_ns env ${FAIL:+LABVIRT_FAIL_STEP="$FAIL"} timeout 600 "$LABVIRT" -L "$LAB" -c "$URI" "$@" 2>"$T/stderr")
	LV_RC=$?
	LV_ERR=$(cat "$T/stderr")
}
inventory() { e2e_inventory e2e_in_ns "$URI" "$POOL"; }

e2e_check "guest image built" e2e_build_guest_image "$CACHE" || exit 1
mkdir -m 0755 "$GUEST" && cp "$CACHE/vmlinuz" "$CACHE/initrd.img" "$GUEST/"
e2e_check "private libvirtd answers in netns" e2e_daemon_start || exit 1

before=$(inventory)
FAIL="" lv plan
mapfile -t steps < <(sed -n 's/^+ //p' <<<"$LV_OUT")
e2e_check "plan lists the steps of up (network, 3 volumes, 3 defines, 3 starts)" test "${#steps[@]}" -eq 10

faults=0
for step in "${steps[@]}"; do
	FAIL=$step lv up
	faults=$((faults + 1))
	e2e_check "fail '$step': exit 1" test "$LV_RC" -eq 1
	e2e_check "fail '$step': the message names the step" \
		grep -qF "labvirt: up: $step: injected fault" <<<"$LV_ERR"
	after=$(inventory)
	e2e_check "fail '$step': inventory as before" test "$after" = "$before"
	[ "$after" = "$before" ] || diff <(echo "$before") <(echo "$after") | sed 's/^/#   /'
done

# Storage full: a tmpfs too small for one volume (its qcow2 metadata takes 12 KiB).
FAIL=""
e2e_in_ns mount -t tmpfs -o size=8k,mode=0755 tmpfs "$POOL"
lv up
faults=$((faults + 1))
e2e_check "storage full: exit 1" test "$LV_RC" -eq 1
e2e_check "storage full: says so" grep -q 'create volume .*No space left on device' <<<"$LV_ERR"
e2e_check "storage full: inventory as before" test "$(inventory)" = "$before"
e2e_in_ns umount "$POOL"

# Storage without permission to write: a read-only bind mount.
e2e_in_ns mount --bind "$POOL" "$POOL" && e2e_in_ns mount -o remount,bind,ro "$POOL"
lv up
faults=$((faults + 1))
e2e_check "read-only storage: exit 1" test "$LV_RC" -eq 1
e2e_check "read-only storage: says so" grep -q 'create volume .*Read-only file system' <<<"$LV_ERR"
e2e_check "read-only storage: inventory as before" test "$(inventory)" = "$before"
e2e_in_ns umount "$POOL"
[ "$E2E_FAILED" -eq 0 ] || printf '%s\n' "$LV_ERR" | sed 's/^/#   ! /'

# And after all that, the lab still comes up and goes away cleanly.
lv up
e2e_check "up after the faults exits 0" test "$LV_RC" -eq 0
lv destroy --yes
e2e_check "destroy exits 0" test "$LV_RC" -eq 0
e2e_check "inventory after destroy as before" test "$(inventory)" = "$before"
echo "# faults injected: $faults"
e2e_summary
