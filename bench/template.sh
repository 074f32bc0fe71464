#!/bin/bash
# bench/template.sh - the time to extract a real-sized CT template: labvirt's
# extractor (template.c, libarchive in-process; bench/tmpl_extract.c) against
# `tar -I zstd -xf` of the same file, each into a fresh folder, side by side in
# one run; medians, their ratio, and peak RSS (/usr/bin/time).
#
#   bench/template.sh [-r ROUNDS] [-d DIR] [-s]
#
#   -r ROUNDS  timed rounds per figure (default 5; one more, untimed, warms the
#              page cache)
#   -d DIR     where the trees are extracted (default a temporary folder under
#              /var/tmp, on disk); removed at the end
#   -s         a synthetic tree (~10k files, ~150 MB) instead of Debian 12
#
# The template: Debian 12 minbase from Debian's archive (mmdebstrap
# --variant=minbase --format=tar), compressed with zstd -19, as Proxmox ships
# its templates; without the archive (or with -s) the synthetic tree. Cached in
# /var/cache/labvirt-bench/template, keyed by a hash of this recipe and the
# mirror. Needs root (owners), libarchive-dev, zstd. Not part of ctest.
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
ROUNDS=5
DIR=""
SYNTH=0
MIRROR=${LABVIRT_BENCH_MIRROR:-http://deb.debian.org/debian}
CACHE=/var/cache/labvirt-bench/template
while getopts 'r:d:sh' opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;;
	d) DIR=$OPTARG ;;
	s) SYNTH=1 ;;
	*)
		sed -n '2,20s/^# \{0,1\}//p' "$0" >&2
		exit 2
		;;
	esac
done
[ "$(id -u)" = 0 ] || {
	echo "bench: needs root (the trees keep their owners)" >&2
	exit 1
}
for p in zstd tar /usr/bin/time; do
	command -v "$p" >/dev/null || {
		echo "bench: $p missing (scripts/deps)" >&2
		exit 1
	}
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
if [ -z "$DIR" ]; then
	DIR=$(mktemp -d /var/tmp/labvirt-template.XXXXXX)
	trap 'rm -rf "$T" "$DIR"' EXIT
fi

# shellcheck disable=SC2046 # pkg-config's flags are several words
cc -O2 -D_GNU_SOURCE -std=gnu11 -I"$ROOT/include" -o "$T/tmpl_extract" "$BENCH/tmpl_extract.c" \
	"$ROOT/src/adapters/template.c" "$ROOT/src/adapters/host.c" "$ROOT"/src/core/{util,error}.c \
	$(pkg-config --cflags --libs libarchive)

# The cache key: the recipes below (not the rest of this script) and the mirror.
key() { printf '%s %s %s\n' "$1" "$MIRROR" "$(declare -f build_debian build_synthetic)" | sha256sum | cut -c1-16; }

# Debian 12 minbase as a template, or nothing when the archive cannot be reached.
build_debian() {
	local out=$1
	command -v mmdebstrap >/dev/null || return 1
	mmdebstrap --quiet --variant=minbase --format=tar bookworm - "$MIRROR" |
		zstd -q -19 -T0 -o "$out.part" || return 1
	mv "$out.part" "$out"
}

# ~10k files, ~150 MB: folders of small text files, some binaries of random
# bytes (incompressible, like shared libraries are nearly), symlinks, a setuid file.
build_synthetic() {
	local out=$1 tree=$T/synth
	mkdir -p "$tree/usr/bin" "$tree/dev"
	for d in $(seq 1 100); do
		mkdir -p "$tree/usr/share/d$d"
		for f in $(seq 1 98); do
			seq "$d" "$((d * f + 50))" >"$tree/usr/share/d$d/f$f.txt"
		done
		head -c 1400000 /dev/urandom >"$tree/usr/share/d$d/blob.bin"
		ln -s "d$d/f1.txt" "$tree/usr/share/link$d"
	done
	install -m 4755 /bin/true "$tree/usr/bin/su"
	mknod "$tree/dev/null" c 1 3
	tar --numeric-owner -C "$tree" -cf - . | zstd -q -19 -T0 -o "$out.part"
	mv "$out.part" "$out"
	rm -rf "$tree"
}

mkdir -p "$CACHE"
if [ "$SYNTH" = 0 ]; then
	TEMPLATE=$CACHE/debian-12-minbase-$(key debian).tar.zst
	[ -f "$TEMPLATE" ] || rm -f "$CACHE"/debian-12-minbase-*.tar.zst # built by an older recipe
	if [ ! -f "$TEMPLATE" ] && ! build_debian "$TEMPLATE"; then
		rm -f "$TEMPLATE.part"
		echo "# Debian's archive unreachable: the synthetic tree instead" >&2
		SYNTH=1
	fi
fi
if [ "$SYNTH" = 1 ]; then
	TEMPLATE=$CACHE/synthetic-$(key synthetic).tar.zst
	[ -f "$TEMPLATE" ] || rm -f "$CACHE"/synthetic-*.tar.zst
	[ -f "$TEMPLATE" ] || build_synthetic "$TEMPLATE"
fi

# One extraction into a fresh folder: "SECONDS PEAK_RSS_KB".
run() {
	local dest=$DIR/tree
	rm -rf "$dest"
	mkdir "$dest"
	sync
	case $1 in
	labvirt) /usr/bin/time -f '%e %M' -o "$T/time" "$T/tmpl_extract" "$TEMPLATE" "$dest" >"$T/out" ;;
	labvirt-u) /usr/bin/time -f '%e %M' -o "$T/time" "$T/tmpl_extract" -u "$TEMPLATE" "$dest" >"$T/out" ;;
	tar) /usr/bin/time -f '%e %M' -o "$T/time" tar -I zstd -xf "$TEMPLATE" -C "$dest" ;;
	esac
	cat "$T/time"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "# $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(df -T "$DIR" | awk 'NR==2 {print $2}') at $DIR" >&2
size=$(stat -c %s "$TEMPLATE")
raw=$(zstd -dc "$TEMPLATE" | wc -c)
echo "template: $(basename "$TEMPLATE"), $((size / 1048576)) MiB zstd, $((raw / 1048576)) MiB tar"
declare -A secs rss
ways=(labvirt labvirt-u tar)
for w in "${ways[@]}"; do run "$w" >/dev/null; done # warm-up, untimed
for _ in $(seq 1 "$ROUNDS"); do
	for w in "${ways[@]}"; do
		read -r s m < <(run "$w")
		secs[$w]+="$s "
		rss[$w]+="$m "
	done
done
"$T/tmpl_extract" -u "$TEMPLATE" "$(rm -rf "$DIR/tree" && mkdir "$DIR/tree" && echo "$DIR/tree")"
for w in "${ways[@]}"; do echo "# $w: seconds ${secs[$w]}; peak RSS KiB ${rss[$w]}" >&2; done
echo
echo "| extraction ($ROUNDS rounds, median) | seconds | peak RSS (MiB) | vs tar |"
echo "|---|---|---|---|"
t_tar=$(tr ' ' '\n' <<<"${secs[tar]}" | grep . | median)
for w in "${ways[@]}"; do
	s=$(tr ' ' '\n' <<<"${secs[$w]}" | grep . | median)
	m=$(tr ' ' '\n' <<<"${rss[$w]}" | grep . | median)
	case $w in
	labvirt) label="labvirt tmpl_extract, privileged" ;;
	labvirt-u) label="labvirt tmpl_extract, unprivileged (ids shifted)" ;;
	tar) label="tar -I zstd -xf" ;;
	esac
	awk -v l="$label" -v s="$s" -v m="$m" -v t="$t_tar" \
		'BEGIN { printf "| %s | %.2f | %.1f | %.2fx |\n", l, s, m / 1024, (t > 0 ? s / t : 0) }' 
done
