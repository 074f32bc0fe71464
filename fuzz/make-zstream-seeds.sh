#!/bin/bash
# Rebuilds the seed corpus of fuzz_zstream, fuzz/corpus/zstream/: a little text
# and a few random bytes compressed by the real zstd, gzip and lzop (from a pipe,
# as vzdump runs them), each alone and two of a kind one after the other.
# Usage: fuzz/make-zstream-seeds.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/corpus/zstream
rm -rf "$out"
mkdir -p "$out"
plain=$(mktemp)
trap 'rm -f "$plain"' EXIT
{
	printf 'boot: order=scsi0\nmemory: 512\nscsi0: local:100/vm-100-disk-0.raw\n'
	head -c 300 /dev/urandom
	head -c 2000 /dev/zero
} >"$plain"
cp "$plain" "$out/plain"
zstd -q -19 -c <"$plain" >"$out/seed.zst"
gzip -9 -n -c <"$plain" >"$out/seed.gz"
lzop -c <"$plain" >"$out/seed.lzo"
for f in seed.zst seed.gz seed.lzo; do
	cat "$out/$f" "$out/$f" >"$out/twice-$f"
done
echo "$(find "$out" -type f | wc -l) seeds in $out ($(du -sk "$out" | cut -f1) KiB)"
