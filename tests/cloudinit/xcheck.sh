#!/bin/bash
# xcheck.sh - compares the golden files here with what Proxmox's own
# Cloudinit.pm writes for the same cases (see README.md). Needs perl with
# URI::Escape, Digest::SHA and JSON (Debian: liburi-perl, libjson-perl).
# Usage: tests/cloudinit/xcheck.sh CLOUDINIT_DUMP [Cloudinit.pm]
#   (or PROXMOX_CLOUDINIT_PM=PATH); exits 77 (skipped) without a Cloudinit.pm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dump=$1
pm=${2:-${PROXMOX_CLOUDINIT_PM:-}}
if [ -z "$pm" ] || [ ! -r "$pm" ]; then
	echo "xcheck: no Cloudinit.pm given (PROXMOX_CLOUDINIT_PM): skipped"
	exit 77
fi
perl -MURI::Escape -MJSON -MDigest::SHA -e1 2>/dev/null || {
	echo "xcheck: perl lacks URI::Escape, JSON or Digest::SHA: skipped"
	exit 77
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/snippets" "$tmp/out"
"$dump" "$tmp/snippets" | perl "$here/xcheck.pl" "$(realpath "$pm")" "$tmp/out" 2>"$tmp/warnings"

# Perl's hash order is random: the meta data of Windows guests (encode_json,
# one line) is compared by its keys and values, then the whole tree byte for
# byte.
python3 -c '
import json, os, shutil, sys
out, here = sys.argv[1:]
for case in sorted(os.listdir(out)):
    rel = os.path.join(case, "openstack/latest/meta_data.json")
    got, want = os.path.join(out, rel), os.path.join(here, rel)
    if not os.path.exists(got) or b"\n" in open(got, "rb").read():
        continue
    if not os.path.exists(want) or json.load(open(got)) != json.load(open(want)):
        sys.exit("xcheck: %s differs from what Proxmox writes" % want)
    shutil.copyfile(want, got)
' "$tmp/out" "$here"
if ! diff -r -x '*.md' -x 'xcheck.*' -x from-lab "$tmp/out" "$here"; then
	echo "xcheck: the files above differ from what Proxmox's Cloudinit.pm writes"
	exit 1
fi
echo "xcheck: $(find "$tmp/out" -type f | wc -l) files identical to Proxmox's ($pm)"
