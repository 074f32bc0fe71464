#!/bin/bash
# Security checks of the real binary against libvirt's test:///default driver, with
# real qcow2 volumes made by qemu-img:
#   - no external program runs through a shell (strace -f -e trace=execve), while
#     qemu-img is seen to run;
#   - the state directory and the storage directory labvirt creates are 0711,
#     volumes 0600, and nothing labvirt writes is world-writable;
#   - an import-from= image with a backing file, or with an external data file, is
#     refused, and nothing is left of the volume.
# Usage: security.sh PATH_TO_labvirt. Exits 77 when strace or qemu-img is missing.
set -uo pipefail
LABVIRT=$(realpath "$1")
for prog in strace qemu-img; do
	command -v "$prog" >/dev/null 2>&1 || {
		echo "SKIP: $prog is not installed"
		exit 77
	}
done
unset LABVIRT_URI LIBVIRT_DEFAULT_URI LABVIRT_FAIL_STEP
T=$(mktemp -d /tmp/labvirt-security.XXXXXX)
trap 'rm -rf "$T"' EXIT
export LABVIRT_STATE_DIR=$T/state
# shellcheck source=check.sh
. "$(dirname "$0")/check.sh"
mode_is() { [ "$(stat -c %a "$1" 2>/dev/null)" = "$2" ]; }

mkdir "$T/lab"
printf 'lab: sec\n\ndir: local\n\tpath images\n\nbridge: vmbr0\n\tmode isolated\n' >"$T/lab/lab.cfg"
qemu-img create -q -f raw "$T/base.raw" 1M
cp "$T/base.raw" "$T/lab/plain.raw"
guest() { # NAME DISK
	printf 'cores: 1\nmemory: 64\nnet0: virtio,bridge=vmbr0\nvirtio0: %s\n' "$2" >"$T/lab/$1.conf"
}
guest a 'local:0.0625'
guest b 'local:0,import-from=plain.raw,clone=full'

# --- no shell: every program labvirt runs, it runs itself
# LeakSanitizer cannot run under ptrace: in a sanitizer build, leaks are checked by
# every other test, not this traced run.
(cd "$T" && umask 022 && ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -ff -qq -e trace=execve -o "$T/trace" "$LABVIRT" -L lab -c test:///default up) \
	>"$T/out" 2>&1
rc=$?
check "up with strace exits 0" test "$rc" -eq 0
# One trace file per process (-ff), so that no execve line is split by another's.
programs=$(cat "$T"/trace.* | sed -n 's/^execve("\([^"]*\)".*= 0$/\1/p' | sort -u)
echo "# programs run: $(echo "$programs" | tr '\n' ' ')"
check "qemu-img was run (the trace sees programs)" grep -q '/qemu-img$' <<<"$programs"
shells=$(grep -E '/(sh|bash|dash|zsh|ksh|busybox)$' <<<"$programs")
check "no program ran through a shell" test -z "$shells"
check "labvirt and qemu-img only" test "$(grep -cvE '/(labvirt|qemu-img)$' <<<"$programs")" -eq 0

# --- modes, with a permissive umask (022) in force
check "state directory is 0711" mode_is "$LABVIRT_STATE_DIR" 711
check "storage directory labvirt made is 0711" mode_is "$T/lab/images" 711
check "volume a is 0600" mode_is "$T/lab/images/sec-a-virtio0.qcow2" 600
check "volume b (full clone) is 0600" mode_is "$T/lab/images/sec-b-virtio0.qcow2" 600
ww=$(find "$LABVIRT_STATE_DIR" "$T/lab/images" -perm -o+w -print)
check "nothing labvirt made is world-writable" test -z "$ww"
wr=$(find "$LABVIRT_STATE_DIR" "$T/lab/images" -type f -perm -o+r -print)
check "no file labvirt made is world-readable" test -z "$wr"
[ -z "$ww$wr" ] || echo "# $ww $wr"

# --- images that could expose host files are refused
rm -rf "$T/lab/images" "$T/lab/b.conf"
qemu-img create -q -f qcow2 -b "$T/base.raw" -F raw "$T/lab/backed.qcow2"
qemu-img create -q -f qcow2 -o data_file="$T/ext.raw" "$T/lab/external.qcow2" 1M
for kind in backed external; do
	guest a "local:0,import-from=$kind.qcow2"
	(cd "$T" && "$LABVIRT" -L lab -c test:///default up) >"$T/out" 2>"$T/err"
	rc=$?
	want='has a backing file of its own: refused'
	[ "$kind" = external ] && want='has an external data file: refused'
	check "import-from a qcow2 with $kind file: exit 1" test "$rc" -eq 1
	check "import-from a qcow2 with $kind file: says why" grep -q "$want" "$T/err"
	check "import-from a qcow2 with $kind file: no volume left" \
		test -z "$(find "$T/lab/images" -type f 2>/dev/null)"
done

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
