#!/usr/bin/env bash
# ct-define.sh DIR - defines every container's domain XML DIR/*/expected/*.xml
# (<domain type="lxc">) on libvirt's real LXC driver, in a private libvirtd of the
# test's own mount and network namespaces, and undefines it again: the golden XML of
# containers is what libvirt's LXC driver accepts, beyond its schema.
# Prints each failure and a final "N passed, N failed" line; exits 0 when all pass,
# 1 when any fails or there is nothing to check, 77 when the LXC driver is missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: ct-define.sh DIR" >&2
	exit 2
fi
if [ ! -e /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_lxc.so ] ||
	[ "$(id -u)" != 0 ]; then
	echo "ct-define.sh: needs root and libvirt-daemon-driver-lxc: skipped" >&2
	exit 77
fi
# shellcheck source=e2e/lib.sh
. "$here/e2e/lib.sh"
trap e2e_daemon_stop EXIT
e2e_daemon_start cgroups || exit 1

dir=$(realpath "$1") # nsenter starts in the namespace's /
passed=0
failed=0
for file in "$dir"/*/expected/*.xml; do
	grep -q '^<domain type="lxc">' "$file" || continue
	name=$(sed -n 's:^  <name>\(.*\)</name>$:\1:p' "$file")
	if out=$(e2e_in_ns virsh -q -c lxc:///system define "$file" 2>&1) &&
		out=$(e2e_in_ns virsh -q -c lxc:///system undefine "$name" 2>&1); then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL $file:"
		printf '%s\n' "$out" | sed 's/^/  /'
	fi
done
echo "$passed passed, $failed failed"
if [ $((passed + failed)) -eq 0 ]; then
	echo "ct-define.sh: no container XML under $1" >&2
	exit 1
fi
[ "$failed" -eq 0 ]
