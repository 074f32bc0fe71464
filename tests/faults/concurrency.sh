#!/bin/bash
# Concurrent labvirt runs on one lab, for real (private libvirtd in its own
# namespaces, tests/e2e/lib.sh), ROUNDS rounds each (default 3; the full run is
# `concurrency.sh LABVIRT 100`):
#   up || up            both exit 0; one domain, one volume (no duplicate)
#   up || destroy       both exit 0; the lab is all there or all gone, never half
#   destroy || destroy  both exit 0; nothing left
# Each labvirt runs under `timeout`, so a deadlock fails the round (exit 124). A
# labvirt that waits must say whose lock it waits for: in the rounds (when it
# happens) and for certain once at the end, with the test holding the lab's lock.
# After each round the lab is destroyed and the inventory must equal the first one.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../e2e/lib.sh
. "$HERE/../e2e/lib.sh"
LABVIRT=$(realpath "$1")
ROUNDS=${2:-3}

e2e_daemon_suite conc

printf 'lab: conc\n\taccel tcg\n\ndir: local\n\tpath %s\n\nbridge: vmbr0\n\tmode isolated\n' "$POOL" >"$LAB/lab.cfg"
cat >"$LAB/a.conf" <<EOF
name: conc-a
cores: 1
memory: 128
net0: virtio,bridge=vmbr0
virtio0: local:0.0625
kernel: $GUEST/vmlinuz
initrd: $GUEST/initrd.img
cmdline: console=ttyS0
EOF

# lv_bg N ARGS...: labvirt in the background; exit code in $T/rc.N, stderr in $T/err.N
lv_bg() {
	local n=$1
	shift
	(
		e2e_in_ns timeout 300 "$LABVIRT" -L "$LAB" -c "$URI" "$@" >"$T/out.$n" 2>"$T/err.$n"
		echo $? >"$T/rc.$n"
	) &
	LV_PIDS+=("$!")
}
# lv_wait: waits for the runs started by lv_bg (not for the daemon's holder)
lv_wait() {
	wait "${LV_PIDS[@]}"
	LV_PIDS=()
}
LV_PIDS=()
inventory() { e2e_inventory e2e_in_ns "$URI" "$POOL"; }
count() { grep -c "^$1 " <<<"$2"; }

e2e_check "guest image built" e2e_build_guest_image "$CACHE" || exit 1
mkdir -m 0755 "$GUEST" && cp "$CACHE/vmlinuz" "$CACHE/initrd.img" "$GUEST/"
e2e_check "private libvirtd answers in netns" e2e_daemon_start || exit 1
before=$(inventory)

waits=0 bad_waits=0
declare -A fails=()
round() { # KIND ARGS1 -- ARGS2
	local kind=$1 r=$2 inv ok=1
	shift 2
	local -a a1=() a2=()
	while [ "$1" != -- ]; do a1+=("$1") && shift; done
	shift
	a2=("$@")
	rm -f "$T"/rc.*
	lv_bg 1 "${a1[@]}"
	lv_bg 2 "${a2[@]}"
	lv_wait
	for n in 1 2; do
		[ "$(cat "$T/rc.$n")" = 0 ] || { ok=0 && echo "# $kind round $r: run $n exit $(cat "$T/rc.$n"): $(tail -n 2 "$T/err.$n")"; }
		if grep -q 'waiting for the lock' "$T/err.$n"; then
			waits=$((waits + 1))
			grep -q "waiting for the lock of lab 'conc', held by ." "$T/err.$n" || bad_waits=$((bad_waits + 1))
		fi
	done
	inv=$(inventory)
	local doms vols
	doms=$(count domain "$inv") vols=$(count file "$inv")
	case $kind in
	up-up) [ "$doms" = 1 ] && [ "$vols" = 1 ] || ok=0 ;;
	up-destroy) [ "$doms" = "$vols" ] || ok=0 ;;
	destroy-destroy) [ "$inv" = "$before" ] || ok=0 ;;
	esac
	[ "$ok" = 1 ] || echo "# $kind round $r: $doms domains, $vols volumes"
	e2e_in_ns timeout 300 "$LABVIRT" -L "$LAB" -c "$URI" destroy --yes >/dev/null 2>&1
	[ "$(inventory)" = "$before" ] || { ok=0 && echo "# $kind round $r: left behind after destroy"; }
	[ "$ok" = 1 ] || fails[$kind]=$((${fails[$kind]:-0} + 1))
}

for ((r = 1; r <= ROUNDS; r++)); do
	round up-up "$r" up -- up
	round up-destroy "$r" up -- destroy --yes
	e2e_in_ns "$LABVIRT" -L "$LAB" -c "$URI" up >/dev/null 2>&1
	round destroy-destroy "$r" destroy --yes -- destroy --yes
done
for kind in up-up up-destroy destroy-destroy; do
	e2e_check "$kind: $ROUNDS rounds, no duplicate, no leak, no deadlock" test "${fails[$kind]:-0}" -eq 0
done
echo "# rounds: $((3 * ROUNDS)); a run waited for the lock $waits times"
e2e_check "every waiting run said whose lock it waits for" test "$bad_waits" -eq 0

# The waiting one, made certain: the test holds the lab's lock as labvirt would, and
# up must say whose lock it waits for, then finish once it is free.
printf 'labvirt up (pid 4242)\n' >"$LABVIRT_STATE_DIR/conc.lock"
rm -f "$T"/rc.* "$T/held" "$T/release"
( # only this subshell has the lock's file open
	exec 9<"$LABVIRT_STATE_DIR/conc.lock"
	flock -x 9 && : >"$T/held"
	while [ ! -e "$T/release" ]; do sleep 0.1; done
) &
holder=$!
while [ ! -e "$T/held" ] && kill -0 "$holder" 2>/dev/null; do sleep 0.1; done
lv_bg 1 up
said=0
for _ in $(seq 600); do # a bound on the wait, not a timing assertion
	grep -q "^labvirt: waiting for the lock of lab 'conc', held by labvirt up (pid 4242)$" "$T/err.1" && said=1 && break
	sleep 0.1
done
e2e_check "a waiting up says: waiting for the lock of lab 'conc', held by labvirt up (pid 4242)" test "$said" = 1
e2e_check "it has not gone on while the lock is held" test ! -e "$T/rc.1"
: >"$T/release"
lv_wait
wait "$holder"
e2e_check "it finishes once the lock is free" test "$(cat "$T/rc.1")" = 0
e2e_in_ns "$LABVIRT" -L "$LAB" -c "$URI" destroy --yes >/dev/null 2>&1
e2e_check "inventory at the end as at the start" test "$(inventory)" = "$before"
e2e_summary
