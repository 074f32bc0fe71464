#!/bin/bash
# bench/validate.sh - reading and rendering stay linear: `labvirt validate` and
# `labvirt xml` of labs of 1, 10, 100 and 1000 Proxmox-style guests (qemu-server/
# VMID.conf with the keys the Proxmox GUI writes, a storage.cfg beside lab.cfg).
# Prints the median of ROUNDS runs each and the time per guest; the baseline is the
# lab of one guest (the fixed cost of starting the program).
#
#   bench/validate.sh [-r ROUNDS] [LABVIRT]     (default 9 rounds, build/labvirt)
set -uo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
ROUNDS=9
while getopts 'r:h' opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;;
	*)
		sed -n '2,9s/^# \{0,1\}//p' "$0" >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
LABVIRT=$(realpath "${1:-$BENCH/../build/labvirt}")
T=$(mktemp -d /tmp/labvirt-bench-validate.XXXXXX)
trap 'rm -rf "$T"' EXIT
export LABVIRT_STATE_DIR=$T/state

lab() { # DIR N
	local dir=$1 n=$2 i id
	mkdir -p "$dir/qemu-server"
	printf 'lab: big\n\taccel tcg\n\nbridge: vmbr0\n\tmode isolated\n' >"$dir/lab.cfg"
	printf 'dir: local\n\tpath %s/pool\n\tcontent images,iso\n\nlvmthin: local-lvm\n\tvgname pve\n\tthinpool data\n' \
		"$T" >"$dir/storage.cfg"
	for i in $(seq "$n"); do
		id=$((100 + i))
		cat >"$dir/qemu-server/$id.conf" <<CONF
agent: 1,fstrim_cloned_disks=1
boot: order=scsi0;ide2;net0
cores: 2
cpu: x86-64-v2-AES
ide2: local:iso/debian-12.iso,media=cdrom,size=628M
memory: 2048
meta: creation-qemu=9.0.2,ctime=1730000000
name: guest-$id
net0: virtio=BC:24:11:$(printf '%02X:%02X:%02X' $((id / 65536 % 256)) $((id / 256 % 256)) $((id % 256))),bridge=vmbr0,firewall=1
numa: 0
ostype: l26
scsi0: local-lvm:vm-$id-disk-0,iothread=1,size=32G,ssd=1,discard=on
scsihw: virtio-scsi-single
smbios1: uuid=$(printf '%08x-0000-4000-8000-%012x' "$id" "$id")
sockets: 1
tags: bench
vmgenid: $(printf '%08x-1111-4000-8000-%012x' "$id" "$id")
CONF
	done
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
time_ms() { # COMMAND...: wall time in ms
	local a b
	a=$EPOCHREALTIME
	"$@" >/dev/null 2>&1 || { echo "bench/validate.sh: $* failed" >&2; exit 1; }
	b=$EPOCHREALTIME
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f\n", (b - a) * 1000 }'
}

echo "| guests | validate (ms) | per guest (ms) | xml of the last guest (ms) |"
echo "|---|---|---|---|"
for n in 1 10 100 1000; do
	lab "$T/l$n" "$n"
	v=$(for _ in $(seq "$ROUNDS"); do time_ms "$LABVIRT" -L "$T/l$n" validate; done | median)
	x=$(for _ in $(seq "$ROUNDS"); do time_ms "$LABVIRT" -L "$T/l$n" xml "guest-$((100 + n))"; done | median)
	awk -v n="$n" -v v="$v" -v x="$x" 'BEGIN { printf "| %d | %.1f | %.3f | %.1f |\n", n, v, v / n, x }'
done
echo
echo "load average $(cut -d' ' -f1-3 /proc/loadavg), $ROUNDS rounds"
