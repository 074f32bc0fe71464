#!/bin/bash
# bench/vzdump.sh - backup and restore of a 4 GiB qcow2 disk holding 1 GiB of data (four
# 256 MiB runs of random bytes, the rest never written): `labvirt backup` (VMA, zstd)
# and `labvirt restore` against the pipeline of bare tools that does the same work,
# `qemu-img convert -O raw` then `zstd -T2` (backup) and `zstd -d` then
# `qemu-img convert -O qcow2` (restore). Side by side in one run, ROUNDS rounds each, the
# page cache dropped before each; medians, MB/s of the disk's data, ratios, and the
# largest resident set (memory must not grow with the disk).
#
#   bench/vzdump.sh [-r ROUNDS] [PATH_TO_labvirt]
#
# Needs root (drop_caches), qemu-img, zstd, GNU time. Works under /var/tmp. Not part
# of ctest.
set -euo pipefail
ROUNDS=3
while getopts 'r:h' opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;;
	*)
		sed -n '2,13s/^# \{0,1\}//p' "$0" >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
BENCH=$(cd "$(dirname "$0")" && pwd)
LABVIRT=$(realpath "${1:-$BENCH/../build/labvirt}")
[ "$(id -u)" = 0 ] || {
	echo "bench: needs root (drop_caches)" >&2
	exit 2
}
for p in qemu-img zstd /usr/bin/time; do
	command -v "$p" >/dev/null || {
		echo "bench: $p is not installed" >&2
		exit 2
	}
done
T=$(mktemp -d /var/tmp/labvirt-bench-vzdump.XXXXXX)
trap 'rm -rf "$T"' EXIT
export LABVIRT_STATE_DIR=$T/state
LAB=$T/lab
POOL=$T/vz
mkdir -p "$LAB/qemu-server" "$POOL/images/100" "$T/out"
cat >"$LAB/lab.cfg" <<EOF
lab: bench
dir: local
	path $POOL
	content images
EOF
cat >"$LAB/qemu-server/100.conf" <<EOF
memory: 512
name: data
scsi0: local:100/vm-100-disk-0.qcow2,size=4G
EOF
DISK=$POOL/images/100/vm-100-disk-0.qcow2
qemu-img create -q -f qcow2 "$DISK" 4G
for off in 0 1024 2048 3072; do # MiB
	head -c 268435456 /dev/urandom >"$T/chunk"
	qemu-io -f qcow2 -c "write -q -s $T/chunk ${off}M 256M" "$DISK" >/dev/null
done
rm -f "$T/chunk"
DATA_MB=1024

drop() { sync && echo 3 >/proc/sys/vm/drop_caches; }
# timed NAME CMD...: seconds and max RSS (KiB) of CMD appended to $T/NAME
timed() {
	local name=$1
	shift
	drop
	/usr/bin/time -f '%e %M' -o "$T/t" bash -c "$1" >/dev/null 2>&1
	cat "$T/t" >>"$T/$name"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
col() { awk -v c="$1" '{ print $c }' "$T/$2"; }

lv_backup() {
	rm -f "$T"/out/*
	LABVIRT_URI=test:///default "$LABVIRT" -L "$LAB" backup data --dir "$T/out"
}
bare_backup() {
	rm -f "$T"/out/*
	qemu-img convert -O raw "$DISK" "$T/out/disk.raw" && zstd -q -T2 --rm "$T/out/disk.raw"
}
lv_restore() {
	rm -rf "$LAB/qemu-server/200.conf" "$POOL/images/200"
	LABVIRT_URI=test:///default "$LABVIRT" -L "$LAB" restore "$ARCH" 200 --as copy --unique
}
bare_restore() {
	rm -f "$T/r.raw" "$T/r.qcow2"
	zstd -q -d "$T/bare.raw.zst" -o "$T/r.raw" && qemu-img convert -O qcow2 "$T/r.raw" "$T/r.qcow2"
}

export -f lv_backup bare_backup lv_restore bare_restore
export T LAB POOL DISK LABVIRT LABVIRT_STATE_DIR
for _ in $(seq "$ROUNDS"); do
	timed lv_backup lv_backup
	timed bare_backup bare_backup
done
lv_backup >/dev/null 2>&1
ARCH=$(ls "$T"/out/*.vma.zst)
mv "$ARCH" "$T/archive.vma.zst"
ARCH=$T/archive.vma.zst
export ARCH
bare_backup
mv "$T/out/disk.raw.zst" "$T/bare.raw.zst"
for _ in $(seq "$ROUNDS"); do
	timed lv_restore lv_restore
	timed bare_restore bare_restore
done
lv_restore >/dev/null 2>&1
vol=$(sed -n 's/^scsi0: local:\([^,]*\),.*/\1/p' "$LAB/qemu-server/200.conf")
same=$(qemu-img compare -q "$DISK" "$POOL/images/$vol" && echo "identical ($vol)" || echo DIFFERENT)

report() { # report WHAT LV BARE
	local lv bare lm
	lv=$(col 1 "$2" | median)
	bare=$(col 1 "$3" | median)
	lm=$(col 2 "$2" | sort -n | tail -n 1)
	printf '%-8s labvirt %6.2f s (%5.0f MB/s, max RSS %5.1f MiB)   bare tools %6.2f s (%5.0f MB/s)   ratio %.2f\n' \
		"$1" "$lv" "$(echo "$DATA_MB / $lv" | bc -l)" "$(echo "$lm / 1024" | bc -l)" \
		"$bare" "$(echo "$DATA_MB / $bare" | bc -l)" "$(echo "$lv / $bare" | bc -l)"
}
echo "vzdump bench: 4 GiB qcow2 disk, 1 GiB of data, $ROUNDS rounds, medians; ratio = labvirt / bare tools"
report backup lv_backup bare_backup
report restore lv_restore bare_restore
echo "archive: labvirt $(du -m "$ARCH" | cut -f1) MiB (VMA, zstd), bare tools $(du -m "$T/bare.raw.zst" | cut -f1) MiB (raw, zstd)"
echo "restored disk vs source: $same"
