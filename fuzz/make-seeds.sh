#!/bin/bash
# Rebuilds the seed corpus fuzz/corpus/seed/ from the labs of tests/golden and
# tests/bad: each lab becomes one input, lab.cfg, then each VM's *.conf file (at most
# three; empty ones before containers), then each lxc/*.conf (at most two), joined by
# lines "%%" (see fuzz_common.h). Usage: fuzz/make-seeds.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/corpus/seed
rm -rf "$out"
mkdir -p "$out"
for lab in tests/golden/*/lab tests/bad/*/lab; do
	[ -d "$lab" ] || continue
	name=$(basename "$(dirname "$lab")")
	kind=$(basename "$(dirname "$(dirname "$lab")")")
	{
		# Regular files only, and not too big: a case may make lab.cfg /dev/zero.
		if [ -f "$lab/lab.cfg" ] && [ ! -L "$lab/lab.cfg" ]; then
			head -c 65536 "$lab/lab.cfg"
		fi
		n=0
		while IFS= read -r -d '' f; do
			[ $n -lt 3 ] || break
			printf '\n%%%%\n'
			head -c 65536 "$f"
			n=$((n + 1))
		done < <(find "$lab" "$lab/qemu-server" -maxdepth 1 -name '*.conf' -type f -print0 2>/dev/null |
			LC_ALL=C sort -z)
		if [ -d "$lab/lxc" ]; then
			while [ $n -lt 3 ]; do printf '\n%%%%\n'; n=$((n + 1)); done
			while IFS= read -r -d '' f; do
				[ $n -lt 5 ] || break
				printf '\n%%%%\n'
				head -c 65536 "$f"
				n=$((n + 1))
			done < <(find "$lab/lxc" -maxdepth 1 -name '*.conf' -type f -print0 | LC_ALL=C sort -z)
		fi
	} >"$out/$kind-$name"
done
echo "$(find "$out" -type f | wc -l) seeds in $out"
