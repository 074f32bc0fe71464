#!/bin/bash
# bench/cidrive.sh - the time to make the cloud-init drives of a lab (one guest,
# the reference lab's three), labvirt in-process (cloudinit.c + isofs.c) against
# the files plus genisoimage as Proxmox does it (bench/cidrive.c). The issue's
# goal: under 20 ms a guest.
#
#   bench/cidrive.sh [-r ROUNDS] [-d DIR]
#
#   -r ROUNDS  timed rounds per figure (default 21; one more, untimed, warms up)
#   -d DIR     where the drives are written (default a temporary folder under
#              /var/tmp, on disk: the fsync is part of the cost); removed at the end
#
# Builds bench/cidrive.c from the sources in a temporary folder (needs
# libisofs-dev and genisoimage: scripts/deps) and prints a markdown table of
# medians and ratios. Not part of ctest.
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
ROUNDS=21
DIR=""
while getopts 'r:d:h' opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;;
	d) DIR=$OPTARG ;;
	*)
		sed -n '2,15s/^# \{0,1\}//p' "$0" >&2
		exit 2
		;;
	esac
done
command -v genisoimage >/dev/null || {
	echo "bench: genisoimage missing (scripts/deps)" >&2
	exit 1
}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
if [ -z "$DIR" ]; then
	DIR=$(mktemp -d /var/tmp/labvirt-cidrive.XXXXXX)
	trap 'rm -rf "$T" "$DIR"' EXIT
fi
# shellcheck disable=SC2046 # pkg-config's flags are several words
cc -O2 -D_GNU_SOURCE -std=gnu11 -I"$ROOT/include" -o "$T/cidrive" "$BENCH/cidrive.c" \
	"$ROOT"/src/core/{cloudinit,sha1,util,error}.c "$ROOT/src/adapters/isofs.c" \
	$(pkg-config --cflags --libs libisofs-1) -pthread
echo "# $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(df -T "$DIR" | awk 'NR==2 {print $2}') at $DIR" >&2
"$T/cidrive" -r "$ROUNDS" "$DIR"
