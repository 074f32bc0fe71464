#!/bin/bash
# Faults during `labvirt up`, for real: a private libvirtd in its own network and
# mount namespaces (tests/e2e/lib.sh), the three-guest tiny lab, and the real binary.
#
#   - every side-effecting step of the plan (the network, each volume, each define,
#     each start) is made to fail in turn (LABVIRT_FAIL_STEP): up exits 1, the
#     message names the step and its object, and afterwards the inventory (domains,
#     networks, bridges, taps, volume files) equals the one before;
#   - storage full (a tiny tmpfs as the dir storage) and storage without write
#     permission (a read-only bind mount): a clear error, exit 1, a clean state;
#   - a storage directory that up makes (it did not exist): a failed run removes it;
#   - an import-from image in a directory labvirt cannot search, and one it cannot
#     read (labvirt run without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH: root
#     bypasses file permissions otherwise): the file named, exit 1, nothing created;
#   - a host-mode bridge that does not exist: the bridge named, exit 2, nothing created;
#   - the libvirt daemon stopped in the middle of up (LABVIRT_PAUSE_STEP holds up
#     before a step meanwhile): the step named and the daemon said gone, exit 1;
#     with the daemon back, up finishes the lab, or destroy removes it all.
#
# Prints ok/not ok lines and "N passed, N failed"; exits 77 where the machine cannot
# run it (not root, no QEMU or libvirtd).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../e2e/lib.sh
. "$HERE/../e2e/lib.sh"
LABVIRT=$(realpath "$1")

e2e_daemon_suite faults

e2e_write_fault_lab

lv() { # ARGS...: labvirt in the daemon's namespaces; LV_OUT, LV_ERR, LV_RC
	LV_OUT=$(e2e_in_ns env ${FAIL:+LABVIRT_FAIL_STEP="$FAIL"} timeout 600 ${PRIV:+"${PRIV[@]}"} \
		"$LABVIRT" -L "${LABDIR:-$LAB}" -c "$URI" "$@" 2>"$T/stderr")
	LV_RC=$?
	LV_ERR=$(cat "$T/stderr")
}
inventory() { e2e_inventory e2e_in_ns "$URI" "$POOL"; }
# A copy of the lab in $T/NAME with sed expression EXPR applied to each file.
lab_variant() {
	rm -rf "${T:?}/$1" && mkdir "$T/$1"
	for f in "$LAB"/*; do sed "$2" "$f" >"$T/$1/$(basename "$f")"; done
}
PRIV=()

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

# A storage directory that does not exist yet: up makes it, a failed up removes it.
lab_variant newdir "s|path $POOL\$|path $POOL/new|"
FAIL="start domain flt-c" LABDIR=$T/newdir lv up
faults=$((faults + 1))
e2e_check "new storage directory, fail 'start domain flt-c': exit 1" test "$LV_RC" -eq 1
e2e_check "new storage directory: the undo says it removed it" \
	grep -qx "undone: create directory $POOL/new" <<<"$LV_ERR"
e2e_check "new storage directory: inventory as before (no directory left)" test "$(inventory)" = "$before"

# An image directory without permission, and an image without permission: root
# bypasses both, so labvirt runs without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH.
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	# shellcheck disable=SC2054 # the commas belong to setpriv's capability lists
	PRIV=(setpriv --inh-caps=-dac_override,-dac_read_search
		--bounding-set=-dac_override,-dac_read_search --)
	mkdir -m 0755 "$T/images" "$T/private"
	qemu-img create -q -f qcow2 "$T/private/base.qcow2" 64M
	qemu-img create -q -f qcow2 "$T/images/base.qcow2" 64M
	chown nobody "$T/private" "$T/images/base.qcow2"
	chmod 0700 "$T/private" && chmod 0600 "$T/images/base.qcow2"
	for img in private/base.qcow2 images/base.qcow2; do
		lab_variant perm "s|^virtio0: local:0.0625\$|virtio0: local:0,import-from=$T/$img|"
		LABDIR=$T/perm lv up
		faults=$((faults + 1))
		case $img in
		private/*) why="cannot be reached: Permission denied" ;;
		*) why="cannot be read: Permission denied" ;;
		esac
		e2e_check "import-from $img without permission: exit 1" test "$LV_RC" -eq 1
		e2e_check "import-from $img without permission: the file named" \
			grep -qx "flt-a: virtio0: import-from image '$T/$img' $why" <<<"$LV_ERR"
		e2e_check "import-from $img without permission: inventory as before" test "$(inventory)" = "$before"
	done
	PRIV=()
else
	e2e_ok "# SKIP image without permission: no setpriv or no user nobody"
fi

# A host-mode bridge that does not exist.
lab_variant nobridge 's|^\tmode isolated$|\tmode host|; /^\taddress /d; s|vmbr0|lvmissing0|'
LABDIR=$T/nobridge lv up
faults=$((faults + 1))
e2e_check "missing host bridge: exit 2" test "$LV_RC" -eq 2
e2e_check "missing host bridge: the bridge named" \
	grep -q "lab.cfg:[0-9]*: bridge 'lvmissing0' does not exist on this host" <<<"$LV_ERR"
e2e_check "missing host bridge: inventory as before" test "$(inventory)" = "$before"

# The daemon stopped in the middle of up: up waits before 'start domain flt-b'
# (LABVIRT_PAUSE_STEP) while the test stops libvirtd, then goes on.
lab_running() { e2e_in_ns virsh -q -c "$URI" list --state-running --name | grep -c '^flt-'; }
daemon_gone() { # STEP: up paused before STEP, the daemon stopped meanwhile
	rm -f "$T/go"
	(
		e2e_in_ns env LABVIRT_PAUSE_STEP="$1" LABVIRT_PAUSE_FILE="$T/go" timeout 600 \
			"$LABVIRT" -L "$LAB" -c "$URI" up >"$T/bg.out" 2>"$T/bg.err"
		echo $? >"$T/bg.rc"
	) &
	local bg=$!
	while ! grep -q "paused before '$1'" "$T/bg.err" 2>/dev/null && kill -0 "$bg" 2>/dev/null; do
		sleep 0.1
	done
	e2e_libvirtd_stop
	: >"$T/go"
	wait "$bg"
	LV_RC=$(cat "$T/bg.rc") LV_ERR=$(cat "$T/bg.err")
}
# Before the network (one step, nothing else under way) and before a start (the other
# guests' chains are under way: the first of them in plan order to fail is named).
net_step="create network labvirt-flt-vmbr0 (bridge vmbr0, isolated)"
for then in up destroy; do
	for step in "$net_step" "start domain flt-b"; do
		daemon_gone "$step"
		faults=$((faults + 1))
		case $step in
		create*) named="create network labvirt-flt-vmbr0 (bridge vmbr0, isolated)" ;;
		*) named="[a-z]* domain flt-[abc]" ;;
		esac
		e2e_check "daemon stopped before '$step': exit 1" test "$LV_RC" -eq 1
		e2e_check "daemon stopped before '$step': the step named, the daemon said gone" \
			grep -q "^labvirt: up: $named: the libvirt daemon (qemu:///system) is gone: " <<<"$LV_ERR"
		grep -q "^labvirt: up: $named: the libvirt daemon" <<<"$LV_ERR" ||
			printf 'rc %s\n%s\n' "$LV_RC" "$LV_ERR" | sed 's/^/#   ! /'
		e2e_check "daemon stopped before '$step': the journal is kept" test -s "$LABVIRT_STATE_DIR/flt.journal"
		e2e_check "daemon back" e2e_libvirtd_start
		if [ "$then" = up ]; then lv up; else lv destroy --yes; fi
		e2e_check "daemon stopped before '$step', back, then $then: exit 0" test "$LV_RC" -eq 0
		[ "$LV_RC" -eq 0 ] || printf '%s\n' "$LV_ERR" | sed 's/^/#   ! /'
		e2e_check "daemon stopped before '$step', then $then: the journal is gone" \
			test ! -e "$LABVIRT_STATE_DIR/flt.journal"
		if [ "$then" = up ]; then
			e2e_check "daemon stopped before '$step', then up: 3 guests running" test "$(lab_running)" = 3
			lv destroy --yes
		fi
		e2e_check "daemon stopped before '$step', then $then: inventory as before at the end" \
			test "$(inventory)" = "$before"
	done
done

# And after all that, the lab still comes up and goes away cleanly.
lv up
e2e_check "up after the faults exits 0" test "$LV_RC" -eq 0
lv destroy --yes
e2e_check "destroy exits 0" test "$LV_RC" -eq 0
e2e_check "inventory after destroy as before" test "$(inventory)" = "$before"
echo "# faults injected: $faults"
e2e_summary
