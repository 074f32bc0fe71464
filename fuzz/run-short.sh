#!/bin/bash
# A short fuzz run of each target, for CI: builds fuzz/ with clang (ASan, UBSan,
# libFuzzer) in BUILD_DIR and runs RUNS inputs per target from the seed corpus
# (new inputs go to a temp dir; the corpus in the repository is left as it is).
# Usage: fuzz/run-short.sh [BUILD_DIR] [RUNS]   (defaults: build-fuzz, 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
runs=${2:-20000}
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DLABVIRT_FUZZ=ON -DLABVIRT_CORE_ONLY=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz_layout fuzz_render fuzz_template fuzz_aplinfo fuzz_vma fuzz_zstream
work=$(mktemp -d /tmp/labvirt-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
for t in layout render template aplinfo vma zstream; do
	mkdir "$work/$t"
	# The lab seeds are for the layout targets; the others have their own.
	corpora=()
	case $t in layout | render) corpora+=(fuzz/corpus/seed) ;; esac
	[ -d "fuzz/corpus/$t" ] && corpora+=("fuzz/corpus/$t")
	max_len=8192
	[ "$t" = template ] && max_len=16384 # archives: 512-byte blocks
	[ "$t" = vma ] && max_len=32768      # a VMA header alone is 12.5 KiB
	"$build/fuzz/fuzz_$t" -runs="$runs" -max_len="$max_len" -artifact_prefix="$work/" \
		"$work/$t" "${corpora[@]}" 2>&1 | tail -n 3
	echo "fuzz_$t: $runs runs, no finding"
done
