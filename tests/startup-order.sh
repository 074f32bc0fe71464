#!/usr/bin/env bash
# Proxmox's startup: order=,up=: `up` starts guests with an order first, ascending,
# the others after, each once every lower order has started and that order's up=
# delay has passed; the volumes and definitions are still made side by side. Read
# from the order and the spacing of the start steps that labvirt's test hook
# LABVIRT_TRACE_FILE records (libvirt's test:///default driver: starts are instant).
# (`down`'s reverse order is in the lifecycle test: test:///default lives in one
# process.) Usage: startup-order.sh PATH_TO_labvirt
set -uo pipefail
LABVIRT=$1
T=$(mktemp -d /tmp/labvirt-startup.XXXXXX)
trap 'rm -rf "$T"' EXIT
export LABVIRT_STATE_DIR=$T/state LABVIRT_TRACE_FILE=$T/trace
unset LABVIRT_URI
# shellcheck source=check.sh
. "$(dirname "$0")/check.sh"
mkdir -p "$T/lab"
printf 'lab: so\n\ndir: local\n\tpath %s/pool\n\nbridge: vmbr0\n\tmode isolated\n' "$T" >"$T/lab/lab.cfg"
guest() { # NAME STARTUP
	printf 'name: %s\nmemory: 256\nnet0: virtio,bridge=vmbr0\nvirtio0: local:0.01\n%s\n' "$1" "$2" >"$T/lab/$1.conf"
}
guest a 'startup: order=2,up=1'
guest b 'startup: 1,up=2'
guest c ''
guest d 'startup: order=2'
"$LABVIRT" -L "$T/lab" -c test:///default up >"$T/out" 2>"$T/err"
check "up exits 0" test $? -eq 0
starts=$(awk '$2 == "start" && $3 == "domain" { print $4 }' "$T/trace" | paste -sd' ')
at() { awk -v g="$1" '$2 == "start" && $3 == "domain" && $4 == g { print $1 }' "$T/trace"; }
check "b (order 1) starts first, then a and d (order 2), c (no order) last: $starts" \
	sh -c "[ '$starts' = 'b a d c' ] || [ '$starts' = 'b d a c' ]"
check "a and d start at least up=2 s after b" \
	awk -v b="$(at b)" -v a="$(at a)" -v d="$(at d)" 'BEGIN { exit !(a - b >= 2 && d - b >= 2) }'
check "c starts at least up=1 s (a's) after the later of a and d" \
	awk -v a="$(at a)" -v d="$(at d)" -v c="$(at c)" 'BEGIN { m = a > d ? a : d; exit !(c - m >= 1) }'
vols=$(awk '$2 == "create" && $3 == "volume" { n++ } END { print n + 0 }' "$T/trace")
first_start=$(grep -n ' start domain ' "$T/trace" | head -n 1 | cut -d: -f1)
last_vol=$(grep -n ' create volume ' "$T/trace" | tail -n 1 | cut -d: -f1)
check "the four volumes are made before the first start waits ($vols)" \
	sh -c "[ '$vols' = 4 ] && [ '$last_vol' -lt '$first_start' ]"
check "the output stays in plan order" grep -qz 'start domain a.*start domain b.*start domain c.*start domain d' "$T/out"
cat "$T/trace"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
