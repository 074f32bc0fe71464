#!/bin/sh
# validate-xml.sh DIR - checks every DIR/*/expected/*.xml against libvirt's own
# schemas: network-*.xml as a network, every other file as a domain.
# Prints each failure and a final "N passed, N failed" line; exits 0 when all
# pass, 1 when any fails or when there is nothing to check, 2 on usage errors.
set -u

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: validate-xml.sh DIR" >&2
	exit 2
fi
if ! command -v virt-xml-validate >/dev/null 2>&1; then
	echo "validate-xml.sh: virt-xml-validate not found (Debian: libvirt-clients)" >&2
	exit 1
fi

passed=0
failed=0
for file in "$1"/*/expected/*.xml; do
	[ -e "$file" ] || continue
	case "$(basename "$file")" in
	network-*.xml) schema=network ;;
	*) schema=domain ;;
	esac
	if out=$(virt-xml-validate "$file" "$schema" 2>&1); then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL $file ($schema):"
		printf '%s\n' "$out" | sed 's/^/  /'
	fi
done

echo "$passed passed, $failed failed"
if [ $((passed + failed)) -eq 0 ]; then
	echo "validate-xml.sh: no expected XML under $1" >&2
	exit 1
fi
[ "$failed" -eq 0 ]
