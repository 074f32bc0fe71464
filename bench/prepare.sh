#!/bin/bash
# bench/prepare.sh - first-boot preparation: one new disk against three, side by side
# in each round, on libvirt's test:///default driver (nothing boots: only the
# preparation is measured); and the same guests with Proxmox's cloud-init drive
# (ide2: local:cloudinit) in place of the libguestfs preparation, and with no
# cloud-init at all, so that the drive's own cost is the difference. The disks are linked clones of the Alpine-like image of
# the end-to-end test (tests/e2e/lib.sh, e2e_build_alpine_image), each guest with a
# name, an ipconfig0 address, a user and a key, as in a real lab.
#
#   sudo bench/prepare.sh [-r ROUNDS] [LABVIRT]
#
#   -r ROUNDS  rounds (default 3); each round runs `up` of a one-guest lab and of a
#              three-guest lab, in alternating order
#   LABVIRT    the binary (default build/labvirt)
#
# Per run it records: the preparation time labvirt reports ("prepared N disks in one
# libguestfs launch (S s)": launch, inspection, writes and shutdown), the wall time of
# the whole `up`, and the libguestfs appliance launches, counted two ways that do not
# trust labvirt: "launch" calls in libguestfs's own trace (LIBGUESTFS_TRACE=1, on
# standard error) and distinct appliance QEMU processes seen while `up` runs (polled
# every 0.1 s; an appliance lives for seconds). Prints the medians as a markdown table,
# with the load average before and after. Not part of ctest.
set -uo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
# shellcheck source=../tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

ROUNDS=3
while getopts 'r:h' opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;;
	*)
		sed -n '2,19s/^# \{0,1\}//p' "$0" >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
LABVIRT=$(realpath "${1:-$ROOT/build/labvirt}")
[ "$(id -u)" = 0 ] || {
	echo "bench/prepare.sh: needs root (the libguestfs appliance)" >&2
	exit 2
}
export LIBGUESTFS_BACKEND=direct
unset LIBGUESTFS_BACKEND_SETTINGS # labvirt sets force_tcg itself (accel tcg)

T=$(mktemp -d /tmp/labvirt-bench-prepare.XXXXXX)
UP_PID=""
trap '[ -z "$UP_PID" ] || kill "$UP_PID" 2>/dev/null; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
export LABVIRT_STATE_DIR=$T/state # not the machine's own (/var/lib/labvirt)
CACHE=${LABVIRT_E2E_ALPINE_CACHE:-/var/tmp/labvirt-e2e-alpine}
e2e_build_alpine_image "$CACHE" || exit 1
cp "$CACHE/alpine.qcow2" "$T/alpine.qcow2"

# lab DIR N [MODE]: a lab folder of N guests, each with a new disk to prepare
# (MODE prep), or with a cloud-init drive (drive), or with no cloud-init (none).
lab() {
	local dir=$1 n=$2 mode=${3:-prep} i
	mkdir -p "$dir/lab" "$dir/store"
	printf 'lab: bp\n\taccel tcg\ndir: local\n\tpath %s\nbridge: vmbr0\n\tmode isolated\n' \
		"$dir/store" >"$dir/lab/lab.cfg"
	for i in $(seq "$n"); do
		cat >"$dir/lab/g$i.conf" <<CONF
virtio0: local:0,import-from=$T/alpine.qcow2
net0: virtio,bridge=vmbr0
ipconfig0: ip=10.80.0.$((10 + i))/24,gw=10.80.0.1
nameserver: 10.80.0.1
ciuser: admin
sshkeys: ssh-ed25519%20AAAAC3NzaC1lZDI1NTE5AAAAIHx%2Bkey%20me%40pc
CONF
		case $mode in
		drive) echo 'ide2: local:cloudinit' >>"$dir/lab/g$i.conf" ;;
		none) sed -i '/^\(ipconfig0\|nameserver\|ciuser\|sshkeys\):/d' "$dir/lab/g$i.conf" ;;
		esac
	done
}

# quick N MODE ROUND: one `up` of the drive or none lab; appends "MODE N up_s"
quick() {
	local n=$1 mode=$2 r=$3 dir="$T/q$3-$2-n$1" start end
	lab "$dir" "$n" "$mode"
	start=$EPOCHREALTIME
	"$LABVIRT" -c test:///default -L "$dir/lab" up >"$dir/out" 2>"$dir/err" || {
		echo "bench/prepare.sh: up of $n guests ($mode) failed:" >&2
		cat "$dir/err" >&2
		exit 1
	}
	end=$EPOCHREALTIME
	if [ "$mode" = drive ] && [ "$(grep -c '^create volume .*cloudinit' "$dir/out")" != "$n" ]; then
		echo "bench/prepare.sh: up of $n guests made no cloud-init drives:" >&2
		cat "$dir/out" >&2
		exit 1
	fi
	printf '%s %s %s\n' "$mode" "$n" "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }')" >>"$T/quick"
	rm -rf "$dir"
}

# appliances_during PID OUT: distinct appliance QEMU pids (children of PID: the
# direct backend forks QEMU itself) while PID runs, one a line.
appliances_during() {
	local pid=$1 out=$2 p
	: >"$out"
	while kill -0 "$pid" 2>/dev/null; do
		for p in $(pgrep -P "$pid" -f '\.guestfs-[0-9]+/appliance'); do
			grep -qx "$p" "$out" || echo "$p" >>"$out"
		done
		sleep 0.1
	done
}

# run N ROUND: one `up`; appends "N prep_s up_s trace_launches qemu_launches" to $T/results
run() {
	local n=$1 r=$2 dir="$T/r$2-n$1" start end pid prep
	lab "$dir" "$n"
	start=$EPOCHREALTIME
	LIBGUESTFS_TRACE=1 "$LABVIRT" -c test:///default -L "$dir/lab" up >"$dir/out" 2>"$dir/err" &
	pid=$!
	UP_PID=$pid
	appliances_during "$pid" "$dir/qemu"
	wait "$pid" || {
		echo "bench/prepare.sh: up of $n guests failed:" >&2
		cat "$dir/err" >&2
		exit 1
	}
	end=$EPOCHREALTIME
	UP_PID=""
	prep=$(sed -n 's/^prepared \([0-9]*\) disks\{0,1\} in one libguestfs launch (\([0-9.]*\) s)$/\1 \2/p' "$dir/out")
	[ "${prep%% *}" = "$n" ] || {
		echo "bench/prepare.sh: up of $n guests did not prepare $n disks:" >&2
		cat "$dir/out" >&2
		exit 1
	}
	printf '%s %s %s %s %s\n' "$n" "${prep#* }" \
		"$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')" \
		"$(grep -c '^libguestfs: trace: launch$' "$dir/err")" "$(wc -l <"$dir/qemu")" >>"$T/results"
	local f
	read -ra f < <(tail -n 1 "$T/results")
	printf '# round %s, %s disk(s): prepare %s s, up %s s, launches %s (trace) %s (qemu)\n' \
		"$r" "${f[@]}" >&2
	rm -rf "$dir"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$T/results"; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$T/results"
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then run 1 "$r" && run 3 "$r"; else run 3 "$r" && run 1 "$r"; fi
done
# The quick ones: many rounds each, as they take milliseconds.
: >"$T/quick"
for r in $(seq $((ROUNDS * 10))); do
	for n in 1 3; do quick "$n" drive "$r" && quick "$n" none "$r"; done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo "| disks | prepare (s, median) | whole up (s, median) | appliance launches per up (trace / QEMU processes) |"
echo "|---|---|---|---|"
for n in 1 3; do
	printf '| %s | %s | %s | %s / %s |\n' "$n" "$(col "$n" 2 | median)" "$(col "$n" 3 | median)" \
		"$(col "$n" 4 | sort -u | paste -sd,)" "$(col "$n" 5 | sort -u | paste -sd,)"
done
qcol() { awk -v m="$1" -v n="$2" '$1 == m && $2 == n { print $3 }' "$T/quick"; }
echo
echo "| guests | up with libguestfs preparation (s) | up with cloud-init drives (ms) | up without cloud-init (ms) | the drive, a guest (ms) | libguestfs up / drive up |"
echo "|---|---|---|---|---|---|"
for n in 1 3; do
	d=$(qcol drive "$n" | median) z=$(qcol none "$n" | median) u=$(col "$n" 3 | median)
	awk -v n="$n" -v d="$d" -v z="$z" -v u="$u" 'BEGIN {
		printf "| %d | %s | %.1f | %.1f | %.1f | %.0fx |\n", n, u, d * 1000, z * 1000, (d - z) * 1000 / n, u / d }'
done
p1=$(col 1 2 | median) p3=$(col 3 2 | median)
echo
echo "three disks take $(awk -v a="$p3" -v b="$p1" 'BEGIN { printf "%.2f", a / b }')x the preparation time of one ($ROUNDS rounds); load average before $load_before, after $load_after"
