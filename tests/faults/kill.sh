#!/bin/bash
# labvirt killed (SIGKILL) in the middle of `up`, for real: a private libvirtd in its
# own network and mount namespaces (tests/e2e/lib.sh), or (embed) no daemon but
# libvirt's embedded driver inside labvirt itself, killed with it; the three-guest tiny
# lab of faults/run.sh, a foreign domain and a foreign volume beside it, the real binary.
#   kill.sh LABVIRT [daemon|embed [STEP_PREFIX]]
#
# For each side-effecting step of the plan (the network, 3 volumes, 3 defines,
# 3 starts), labvirt raises SIGKILL on itself (LABVIRT_KILL_STEP) after the step's
# side effect and before it is recorded as done, and before the side effect; for the
# volumes also while the volume is still under its temporary name. Then:
#   (a) `up` again exits 0: 3 guests running, no duplicate, no temporary file, the
#       journal gone, the inventory that of the clean full lab; `destroy --yes`
#       brings back the inventory from before;
#   (b) (at each step, killed after the side effect) `destroy --yes` straight away
#       brings back the inventory from before.
# Then the same lab in a storage directory that does not exist yet ($POOL/new), which
# up makes and records in the journal: killed before and during the first volume in it
# and right after it is made, `destroy --yes` removes it again (and nothing else is
# left), and `up` finishes the lab in it; a storage directory that existed before
# (empty) stays after a kill and `destroy`.
# The foreign domain and volume are in every inventory: they must stay untouched.
#
# Prints ok/not ok lines and "N passed, N failed"; exits 77 where the machine cannot
# run it (not root, no QEMU or libvirtd).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../e2e/lib.sh
. "$HERE/../e2e/lib.sh"
LABVIRT=$(realpath "$1")
MODE=${2:-daemon}
ONLY=${3:-} # a prefix: only the steps it starts (for a quick look by hand)

e2e_daemon_suite "kill-$MODE"
if [ "$MODE" = daemon ]; then
	RUN=e2e_in_ns
else
	RUN=e2e_in_netns URI="qemu:///embed?root=$LABVIRT_STATE_DIR/embed"
fi

e2e_write_fault_lab
JOURNAL=$LABVIRT_STATE_DIR/flt.journal

lv() { # ARGS...: labvirt in the daemon's namespaces; LV_OUT, LV_ERR, LV_RC
	LV_OUT=$("$RUN" env ${KILL:+LABVIRT_KILL_STEP="$KILL"} ${AT:+LABVIRT_KILL_AT="$AT"} \
		timeout 600 "$LABVIRT" -L "${LABDIR:-$LAB}" -c "$URI" "$@" 2>"$T/stderr")
	LV_RC=$?
	LV_ERR=$(cat "$T/stderr")
}
# The inventory without the taps' names (libvirt numbers them anew for each start),
# their number instead.
inventory() {
	local inv
	inv=$(e2e_inventory "$RUN" "$URI" "$POOL")
	grep -v '^tap ' <<<"$inv"
	echo "taps $(grep -c '^tap ' <<<"$inv")"
}
# A copy of the lab in $T/NAME with sed expression EXPR applied to each file.
lab_variant() {
	rm -rf "${T:?}/$1" && mkdir "$T/$1"
	for f in "$LAB"/*; do sed "$2" "$f" >"$T/$1/$(basename "$f")"; done
}
running() { "$RUN" virsh -q -c "$URI" list --state-running --name | grep -c '^flt-'; }
same() { # WHAT EXPECTED ACTUAL
	e2e_check "$1" test "$2" = "$3"
	[ "$2" = "$3" ] || diff <(echo "$2") <(echo "$3") | sed 's/^/#   /'
}

e2e_check "guest image built" e2e_build_guest_image "$CACHE" || exit 1
mkdir -m 0755 "$GUEST" && cp "$CACHE/vmlinuz" "$CACHE/initrd.img" "$GUEST/"
if [ "$MODE" = daemon ]; then
	e2e_check "private libvirtd answers in netns" e2e_daemon_start || exit 1
else
	e2e_check "network namespace made" e2e_netns_only_start || exit 1
	KILL="" AT="" lv plan # makes the embedded driver's root, as labvirt wants it
fi

# Foreign objects beside the lab: a domain and a volume file labvirt did not make.
cat >"$T/other.xml" <<EOF
<domain type='qemu'><name>other-x</name><memory unit='MiB'>64</memory>
<os><type arch='x86_64'>hvm</type></os></domain>
EOF
"$RUN" virsh -q -c "$URI" define "$T/other.xml" >/dev/null
qemu-img create -q -f qcow2 "$POOL/flt-other.qcow2" 1M
before=$(inventory)
e2e_check "the foreign domain and volume are there" \
	grep -qx 'domain other-x' <<<"$before"

KILL="" AT="" lv plan
mapfile -t steps < <(sed -n 's/^+ //p' <<<"$LV_OUT")
e2e_check "plan lists the steps of up (network or bridge, 3 volumes, 3 defines, 3 starts)" test "${#steps[@]}" -eq 10
lv up
e2e_check "a clean up exits 0" test "$LV_RC" -eq 0
full=$(inventory)
e2e_check "the clean full lab runs 3 guests" test "$(running)" = 3
lv destroy --yes
same "a clean destroy: inventory as before" "$before" "$(inventory)"

kills=0 temps=0
kill_at() { # STEP AT: up killed there; the journal must be left
	KILL=$1 AT=$2 lv up
	kills=$((kills + 1))
	e2e_check "kill at '$1' ($2): labvirt died of SIGKILL" test "$LV_RC" -eq 137
	[ "$LV_RC" -eq 137 ] || printf '%s\n' "$LV_ERR" | sed 's/^/#   ! /'
	e2e_check "kill at '$1' ($2): the journal is left" test -s "$JOURNAL"
	grep -q '^file \.flt-flt-[abc]-virtio0\.qcow2\.part-[0-9]*$' <(e2e_inventory "$RUN" "" "$POOL") &&
		temps=$((temps + 1))
}
then_up() { # STEP AT [FULL AFTER]: the inventories of the full lab and after destroy
	local want_full=${3:-$full} want_after=${4:-$before}
	KILL="" AT="" lv up
	e2e_check "kill at '$1' ($2), then up: exit 0" test "$LV_RC" -eq 0
	[ "$LV_RC" -eq 0 ] || printf '%s\n' "$LV_ERR" | sed 's/^/#   ! /'
	e2e_check "kill at '$1' ($2), then up: recovered from the journal" \
		grep -q '^recover: run [0-9]* of lab flt was interrupted' <<<"$LV_OUT"
	e2e_check "kill at '$1' ($2), then up: 3 guests running" test "$(running)" = 3
	[ "$(running)" = 3 ] || { "$RUN" virsh -c "$URI" list --all && printf '%s\n' "$LV_OUT" "$LV_ERR"; } | sed 's/^/#   /'
	same "kill at '$1' ($2), then up: the full lab, no duplicate, no temporary file" \
		"$want_full" "$(inventory)"
	e2e_check "kill at '$1' ($2), then up: the journal is gone" test ! -e "$JOURNAL"
	lv destroy --yes
	e2e_check "kill at '$1' ($2), then up, destroy: exit 0" test "$LV_RC" -eq 0
	same "kill at '$1' ($2), then up, destroy: inventory as before" "$want_after" "$(inventory)"
}
then_destroy() { # STEP AT
	KILL="" AT="" lv destroy --yes
	e2e_check "kill at '$1' ($2), then destroy: exit 0" test "$LV_RC" -eq 0
	[ "$LV_RC" -eq 0 ] || printf '%s\n' "$LV_ERR" | sed 's/^/#   ! /'
	same "kill at '$1' ($2), then destroy: inventory as before" "$before" "$(inventory)"
	e2e_check "kill at '$1' ($2), then destroy: the journal is gone" test ! -e "$JOURNAL"
}

for step in "${steps[@]}"; do
	[[ $step == $ONLY* ]] || continue
	ats=(before after)
	case $step in "create volume "*) ats+=(during) ;; esac
	for at in "${ats[@]}"; do
		kill_at "$step" "$at"
		then_up "$step" "$at"
	done
	kill_at "$step" after
	then_destroy "$step" after
done
# A storage directory that up makes: recorded in the journal before its mkdir, so a
# run killed while it is still empty (or holds only a temporary file, or volumes that
# destroy removes) leaves nothing behind. After a complete up, destroy leaves the
# storage directory, empty, as it leaves any (before_new: the inventory with it).
NEW=$POOL/new
if [[ "create directory" == "$ONLY"* ]]; then
	lab_variant newdir "s|path $POOL\$|path $NEW|"
	LABDIR=$T/newdir
	KILL="" AT="" lv plan
	newvol=$(sed -n 's|^+ \(create volume .*flt-a/virtio0\)$|\1|p' <<<"$LV_OUT")
	e2e_check "new storage directory: the plan's first volume is in it" \
		grep -q "^create volume $NEW/" <<<"$newvol"
	mkdir -m 0711 "$NEW" && before_new=$(inventory) && rmdir "$NEW"
	lv up
	e2e_check "new storage directory: a clean up exits 0" test "$LV_RC" -eq 0
	full_new=$(inventory)
	e2e_check "new storage directory: the clean full lab runs 3 guests" test "$(running)" = 3
	lv destroy --yes
	same "new storage directory: a clean up and destroy leave it, empty" \
		"$before_new" "$(inventory)"
	rmdir "$NEW"
	gone() { # STEP AT
		e2e_check "kill at '$1' ($2), then destroy: the storage directory up made is gone" \
			test ! -e "$NEW"
	}
	for at in before during; do
		kill_at "$newvol" "$at"
		then_destroy "$newvol" "$at"
		gone "$newvol" "$at"
		kill_at "$newvol" "$at"
		then_up "$newvol" "$at" "$full_new" "$before_new"
		rmdir "$NEW"
	done
	kill_at "create directory $NEW" after
	then_destroy "create directory $NEW" after
	gone "create directory $NEW" after
	kill_at "create directory $NEW" after
	then_up "create directory $NEW" after "$full_new" "$before_new"
	rmdir "$NEW"
	# One that was there before the run (empty) is not the run's: it stays.
	mkdir -m 0711 "$NEW"
	kill_at "$newvol" before
	KILL="" AT="" lv destroy --yes
	e2e_check "an empty storage directory from before, kill, destroy: exit 0" test "$LV_RC" -eq 0
	same "an empty storage directory from before, kill, destroy: it stays, nothing else" \
		"$before_new" "$(inventory)"
	e2e_check "an empty storage directory from before, kill, destroy: the journal is gone" \
		test ! -e "$JOURNAL"
	rmdir "$NEW"
	LABDIR=""
fi

# A bridge made by `ip link add` and killed before its alias was set (as in embedded
# mode, where labvirt makes bridges itself) is removed from the journal; a bridge of
# someone else's of the same kind of name is not.
"$RUN" ip link add name lvhalf0 type bridge
"$RUN" ip link add name lvother0 type bridge
"$RUN" ip link set dev lvother0 alias someone-else
printf 'labvirt journal 1\nlab\tflt\npid\t4242\n%s\n%s\n' \
	"$(printf 'begun\tbridge\t-\tcreate bridge lvhalf0\tlvhalf0\t\t\t\t')" \
	"$(printf 'begun\tbridge\t-\tcreate bridge lvother0\tlvother0\t\t\t\t')" >"$JOURNAL"
KILL="" AT="" lv destroy --yes
e2e_check "a half-made bridge: destroy exits 0" test "$LV_RC" -eq 0
e2e_check "a half-made bridge: removed" grep -qx "recover: removed half-made bridge lvhalf0" <<<"$LV_OUT"
e2e_check "a half-made bridge: gone" test -z "$("$RUN" ip -br link show dev lvhalf0 2>/dev/null)"
e2e_check "another's bridge named in the journal: kept" test -n "$("$RUN" ip -br link show dev lvother0 2>/dev/null)"
"$RUN" ip link del dev lvother0

echo "# kills: $kills; a temporary volume file was left by $temps of them"
[ -n "$ONLY" ] || e2e_check "at least one kill left a volume under its temporary name" test "$temps" -gt 0
same "at the end: inventory as before (foreign domain and volume untouched)" "$before" "$(inventory)"
e2e_summary
