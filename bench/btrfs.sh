#!/bin/bash
# bench/btrfs.sh - three disks from one 1 GiB image on a btrfs storage: `labvirt up`
# (three linked clones: one base subvolume, three snapshots; the domains on libvirt's
# test:///default driver) against the bare tools doing the same (`btrfs subvolume
# create`, `qemu-img convert`, `btrfs property set ro`, three `btrfs subvolume snapshot`
# and `truncate`), and against labvirt making three full copies (clone=full). Side by
# side in one run, each round on a fresh file system state; medians and ratios.
#
#   bench/btrfs.sh [-r ROUNDS] [PATH_TO_labvirt]
#
# Runs in a mount namespace of its own on a loop-backed btrfs (4 GiB sparse file under
# /var/tmp); needs root, mkfs.btrfs, qemu-img. Not part of ctest.
set -euo pipefail
ROUNDS=5
while getopts 'r:h' opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;;
	*)
		sed -n '2,12s/^# \{0,1\}//p' "$0" >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
BENCH=$(cd "$(dirname "$0")" && pwd)
LABVIRT=$(realpath "${1:-$BENCH/../build/labvirt}")
[ "$(id -u)" = 0 ] || {
	echo "bench: needs root (mounts, subvolumes)" >&2
	exit 2
}
if [ "${BTRFS_BENCH_INNER:-}" != 1 ]; then
	T=$(mktemp -d /var/tmp/labvirt-bench-btrfs.XXXXXX)
	trap 'rm -rf "$T"' EXIT
	truncate -s 4G "$T/fs.img"
	mkfs.btrfs -q "$T/fs.img" >/dev/null
	mkdir "$T/mnt"
	# shellcheck disable=SC2016 # expanded by that sh
	BTRFS_BENCH_INNER=1 T=$T unshare -m --propagation private \
		sh -c 'mount -o loop "$T/fs.img" "$T/mnt" && exec "$0" -r "$1" "$2"' "$0" "$ROUNDS" "$LABVIRT"
	exit
fi

FS=$T/mnt
IMG=$T/image.raw # 1 GiB: 256 MiB of data, the rest zeroes (sparse)
if [ ! -f "$IMG" ]; then
	head -c 268435456 /dev/urandom >"$IMG"
	truncate -s 1G "$IMG"
fi
lab() { # NAME CLONE: a lab of three VMs, each a disk from the image
	mkdir -p "$T/$1"
	printf 'lab: %s\n\turi test:///default\n\nbtrfs: fast\n\tpath %s/pve\n' "$1" "$FS" >"$T/$1/lab.cfg"
	for g in a b c; do
		printf 'name: %s\nmemory: 256\nvirtio0: fast:8,import-from=%s%s\n' "$g" "$IMG" "$2" \
			>"$T/$1/$g.conf"
	done
}
lab linked ""
lab full ",clone=full"
now() { date +%s.%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

bare() { # the same three disks with the bare tools
	local d=$FS/bare
	mkdir -p "$d"
	btrfs -q subvolume create "$d/base"
	truncate -s 1G "$d/base/disk.raw"
	qemu-img convert -q -n --target-is-zero -f raw -O raw "$IMG" "$d/base/disk.raw"
	btrfs property set "$d/base" ro true
	for g in a b c; do
		btrfs -q subvolume snapshot "$d/base" "$d/$g"
		truncate -s 8G "$d/$g/disk.raw"
	done
}
bare_clean() {
	local d=$FS/bare
	for g in a b c base; do btrfs -q subvolume delete "$d/$g" 2>/dev/null || true; done
	rm -rf "$d"
}
# Before each timed step: nothing dirty, and the deleted subvolumes cleaned (btrfs
# deletes them in the background), so that no step pays for the one before.
settle() {
	sync
	btrfs subvolume sync "$FS" >/dev/null 2>&1 || true
	sync
}
declare -a L F B
for r in $(seq 0 "$ROUNDS"); do # round 0 warms the page cache, not counted
	settle
	t=$(now)
	"$LABVIRT" -L "$T/linked" up >/dev/null
	l=$(echo "$(now) - $t" | bc)
	"$LABVIRT" -L "$T/linked" destroy --yes >/dev/null
	settle
	t=$(now)
	"$LABVIRT" -L "$T/full" up >/dev/null
	f=$(echo "$(now) - $t" | bc)
	"$LABVIRT" -L "$T/full" destroy --yes >/dev/null
	settle
	t=$(now)
	bare
	b=$(echo "$(now) - $t" | bc)
	bare_clean
	[ "$r" = 0 ] && continue
	L+=("$l") F+=("$f") B+=("$b")
done
# A linked clone costs O(1): one more disk from an image whose base is already there
# (a first guest made it), for a 1 GiB and a 64 GiB image (both 256 MiB of data), by
# labvirt (`up` of the lab with one guest more) and by the bare tool (one `btrfs
# subvolume snapshot` and `truncate`).
IMG64=$T/image64.raw
cp --sparse=always "$IMG" "$IMG64"
truncate -s 64G "$IMG64"
declare -A C1 CB
for img in "$IMG" "$IMG64"; do
	size=$([ "$img" = "$IMG" ] && echo 1 || echo 64)
	mkdir -p "$T/o$size"
	printf 'lab: o%s\n\turi test:///default\n\nbtrfs: fast\n\tpath %s/pve\n' "$size" "$FS" >"$T/o$size/lab.cfg"
	printf 'name: a\nmemory: 256\nvirtio0: fast:%s,import-from=%s\n' "$((size + 1))" "$img" >"$T/o$size/a.conf"
	"$LABVIRT" -L "$T/o$size" up >/dev/null # the base, and a's clone
	c=() cb=()
	for r in $(seq 0 "$ROUNDS"); do
		printf 'name: c\nmemory: 256\nvirtio0: fast:%s,import-from=%s\n' "$((size + 1))" "$img" >"$T/o$size/c.conf"
		settle
		t=$(now)
		"$LABVIRT" -L "$T/o$size" up >/dev/null
		x=$(echo "$(now) - $t" | bc)
		base=$(find "$FS/pve" -maxdepth 1 -name "o$size-base-*" | head -n 1)
		settle
		t=$(now)
		btrfs -q subvolume snapshot "$base" "$FS/bare-c"
		truncate -s "$((size + 1))G" "$FS/bare-c/disk.raw"
		y=$(echo "$(now) - $t" | bc)
		btrfs -q subvolume delete "$FS/bare-c"
		"$LABVIRT" -L "$T/o$size" destroy --yes c >/dev/null
		rm "$T/o$size/c.conf"
		[ "$r" = 0 ] && continue
		c+=("$x") cb+=("$y")
	done
	C1[$size]=$(printf '%s\n' "${c[@]}" | median)
	CB[$size]=$(printf '%s\n' "${cb[@]}" | median)
	"$LABVIRT" -L "$T/o$size" destroy --yes >/dev/null
done
rm -f "$IMG64"

ml=$(printf '%s\n' "${L[@]}" | median)
mf=$(printf '%s\n' "${F[@]}" | median)
mb=$(printf '%s\n' "${B[@]}" | median)
printf 'btrfs, three 8 GiB disks from one 1 GiB image (256 MiB of data), %s rounds, medians:\n' "$ROUNDS"
printf '  labvirt up, linked clones (base + 3 snapshots)   %6.3f s\n' "$ml"
printf '  bare tools, the same (btrfs, qemu-img, truncate) %6.3f s   labvirt/bare = %.2f\n' "$mb" "$(echo "$ml / $mb" | bc -l)"
printf '  labvirt up, clone=full (3 copies)                %6.3f s   linked/full  = %.2f\n' "$mf" "$(echo "$ml / $mf" | bc -l)"
printf 'one more linked clone of an image whose base exists, medians:\n'
for size in 1 64; do
	printf '  %2s GiB image: labvirt up (+1 guest) %6.3f s   bare snapshot + truncate %6.3f s\n' \
		"$size" "${C1[$size]}" "${CB[$size]}"
done
