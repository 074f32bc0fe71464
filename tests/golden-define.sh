#!/bin/sh
# golden-define.sh DIR - defines every domain DIR/*/expected/*.xml (not the
# network-*.xml files) on libvirt's embedded QEMU driver, in a root of its own,
# and undefines it again: the golden XML is what a real QEMU driver accepts,
# beyond its schema (machine types, buses, controllers, addresses).
# Prints each failure and a final "N passed, N failed" line; exits 0 when all
# pass, 1 when any fails or when there is nothing to check, 77 when virsh or
# QEMU is missing (skipped), 2 on usage errors.
set -u

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: golden-define.sh DIR" >&2
	exit 2
fi
for tool in virsh qemu-system-x86_64; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "golden-define.sh: $tool not found (Debian: libvirt-clients, qemu-system-x86): skipped" >&2
		exit 77
	fi
done

root=$(mktemp -d /tmp/labvirt-golden-define.XXXXXX) || exit 1
trap 'rm -rf "$root"' EXIT
uri="qemu:///embed?root=$root"

passed=0
failed=0
for file in "$1"/*/expected/*.xml; do
	[ -e "$file" ] || continue
	case "$(basename "$file")" in
	network-*.xml) continue ;;
	esac
	# containers: defined on a real LXC driver by tests/ct-define.sh
	grep -q '^<domain type="lxc">' "$file" && continue
	name=$(sed -n 's:^  <name>\(.*\)</name>$:\1:p' "$file")
	if out=$(virsh -q -c "$uri" define "$file" 2>&1) &&
		out=$(virsh -q -c "$uri" undefine --nvram "$name" 2>&1); then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL $file:"
		printf '%s\n' "$out" | sed 's/^/  /'
	fi
done

echo "$passed passed, $failed failed"
if [ $((passed + failed)) -eq 0 ]; then
	echo "golden-define.sh: no expected domain XML under $1" >&2
	exit 1
fi
[ "$failed" -eq 0 ]
