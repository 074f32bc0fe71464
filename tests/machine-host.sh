#!/usr/bin/env bash
# A machine type newer than this host's QEMU (pc-q35-99.0, as a Proxmox host with a
# newer QEMU writes pc-q35-9.2+pve0) runs on the newest of its family the host has,
# and plan says so; one the host has is left as it is. Real libvirt: the embedded
# QEMU driver (no daemon), asked for its capabilities; nothing is created.
# Usage: machine-host.sh PATH_TO_labvirt
set -uo pipefail
LABVIRT=$1
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: no qemu-system-x86_64"; exit 77; }
T=$(mktemp -d /tmp/labvirt-machine.XXXXXX)
trap 'rm -rf "$T"' EXIT
export LABVIRT_STATE_DIR=$T/state
unset LABVIRT_URI
# shellcheck source=check.sh
. "$(dirname "$0")/check.sh"
mkdir -p "$T/lab"
printf 'lab: mh\n\ndir: local\n\tpath %s/pool\n\nbridge: vmbr0\n\tmode isolated\n' "$T" >"$T/lab/lab.cfg"
printf 'machine: pc-q35-99.0+pve0\nmemory: 256\nnet0: virtio,bridge=vmbr0\nvirtio0: local:1\n' >"$T/lab/new.conf"
newest=$(qemu-system-x86_64 -machine help | awk '$1 ~ /^pc-q35-[0-9]+\.[0-9]+$/ { print $1 }' |
	sort -t- -k3 -V | tail -n 1)
have=$(qemu-system-x86_64 -machine help | awk '$1 ~ /^pc-i440fx-[0-9]+\.[0-9]+$/ { print $1 }' | head -n 1)
printf 'machine: %s\nmemory: 256\nnet0: virtio,bridge=vmbr0\nvirtio0: local:1\n' "$have" >"$T/lab/old.conf"
"$LABVIRT" -L "$T/lab" -c "qemu:///embed?root=$T/embed" plan >"$T/out" 2>"$T/err"
rc=$?
check "plan exits 0" test "$rc" -eq 0
check "plan notes that new runs as $newest" grep -qx \
	"note: $T/lab/new.conf: machine 'pc-q35-99.0' is newer than this host's QEMU: new runs as '$newest'" "$T/err"
check "no note for old ($have, which the host has)" sh -c "! grep -q old.conf '$T/err'"
check "plan changes nothing: no pool made" test ! -e "$T/pool"
cat "$T/err"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
