#!/bin/bash
# cidrive.sh - the cloud-init drive as an ISO image, read back by readers that
# share no code with libisofs: isoinfo (genisoimage's) and xorriso's own reader.
# For each case: the label (isoinfo -d and blkid), Rock Ridge and Joliet
# present, every file extracted through Rock Ridge (isoinfo -R -x, xorriso) and
# through Joliet (isoinfo -J -x) byte for byte the golden file, owner root and
# mode 0644, the same names in all three name spaces as genisoimage gives with
# Proxmox's flags, and the same bytes when made again by another process or
# by four threads at once.
# Usage: tests/cidrive.sh CIDRIVE_ISO GOLDEN_DIR   (exits 77 without isoinfo/xorriso)
set -euo pipefail
iso_tool=$1
golden=$2
for t in isoinfo xorriso; do
	command -v $t >/dev/null || {
		echo "cidrive: $t missing (apt-get install genisoimage xorriso): skipped"
		exit 77
	}
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() {
	echo "FAIL $case: $*"
	failed=$((failed + 1))
}

check_case() {
	local iso=$tmp/$case.iso want=$golden/$case label
	label=$(cat "$want/volume-id")
	"$iso_tool" "$case" "$iso" || {
		fail "cidrive_iso failed"
		return
	}
	"$iso_tool" "$case" "$tmp/again.iso"
	cmp -s "$iso" "$tmp/again.iso" || fail "two runs gave different bytes"
	[ "$(stat -c %a "$iso")" = 600 ] || fail "image mode is $(stat -c %a "$iso"), not 600"

	local info
	info=$(isoinfo -d -i "$iso")
	grep -qx "Volume id: $label" <<<"$info" || fail "volume id is not '$label'"
	grep -q "^Rock Ridge signatures" <<<"$info" || fail "no Rock Ridge"
	grep -q "^Joliet with UCS level 3 found" <<<"$info" || fail "no Joliet"
	if command -v blkid >/dev/null; then
		[ "$(blkid -p -o value -s LABEL "$iso")" = "$label" ] || fail "blkid's label is not '$label'"
	fi

	# Every golden file, through Rock Ridge and Joliet; nothing else in the image.
	local files f
	files=$(cd "$want" && find . -type f ! -name volume-id | sed 's|^\./||' | sort)
	for f in $files; do
		isoinfo -R -i "$iso" -x "/$f" >"$tmp/rr" || fail "isoinfo -R -x /$f"
		cmp -s "$tmp/rr" "$want/$f" || fail "/$f (Rock Ridge) differs from $want/$f"
		isoinfo -J -i "$iso" -x "/$f" >"$tmp/joliet" || fail "isoinfo -J -x /$f"
		cmp -s "$tmp/joliet" "$want/$f" || fail "/$f (Joliet) differs from $want/$f"
	done
	local listed expected_listing
	listed=$(isoinfo -R -f -i "$iso" | sed 's|^/||' | sort)
	expected_listing=$(cd "$want" && find . -mindepth 1 ! -name volume-id | sed 's|^\./||' | sort)
	[ "$listed" = "$expected_listing" ] || fail "the image holds: ${listed//$'\n'/ }"

	# Owner root, files 0644, folders 0755 (as Proxmox's files under /run/pve).
	local modes
	modes=$(isoinfo -R -l -i "$iso" | awk '/^[-d]/ && $NF != "" {print $1, $3, $4}' | sort -u)
	grep -vqxE -e '-rw-r--r-- 0 0' -e 'drwxr-xr-x 0 0' <<<"$modes" &&
		fail "owners or modes: ${modes//$'\n'/, }"

	# The three name spaces (ISO 9660 level 3, Joliet, Rock Ridge) and the label
	# as Proxmox's own call makes them from the same files.
	if command -v genisoimage >/dev/null; then
		rm -rf "$tmp/src" && mkdir "$tmp/src"
		(cd "$want" && find . -type f ! -name volume-id -exec cp --parents {} "$tmp/src" \;)
		genisoimage -quiet -iso-level 3 -J -R -V "$label" -o "$tmp/ref.iso" "$tmp/src"
		local opt
		for opt in "" -J -R; do
			[ "$(isoinfo $opt -f -i "$iso" | sort)" = "$(isoinfo $opt -f -i "$tmp/ref.iso" | sort)" ] ||
				fail "names (isoinfo $opt -f) differ from genisoimage's"
		done
		[ "$(isoinfo -d -i "$tmp/ref.iso" | grep '^Volume id:')" = "Volume id: $label" ] ||
			fail "genisoimage's label differs"
	fi

	# xorriso's reader, the whole tree at once.
	rm -rf "$tmp/x"
	xorriso -osirrox on -indev "$iso" -extract / "$tmp/x" >/dev/null 2>&1 ||
		fail "xorriso cannot extract"
	diff -r -x volume-id "$want" "$tmp/x" >/dev/null || fail "xorriso's extraction differs"
}

for case in static-ipv4 ipv6 nets-root-keys cicustom bytes-nocloud configdrive2 configdrive2-windows \
	opennebula; do
	check_case
done
# Four threads making images at once (as up's workers do) get the same bytes.
case=threads
"$iso_tool" -j 4 configdrive2 "$tmp/threads.iso" || fail "images made in parallel differ"
[ $failed -eq 0 ] && echo "cidrive: all images read back as written"
exit $((failed > 0))
