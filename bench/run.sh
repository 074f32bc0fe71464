#!/bin/bash
# bench/run.sh - labvirt against the floor (bench/floor.c: only the necessary libvirt
# calls), a virsh script (bench/virsh-lab.sh) and virt-install
# (bench/virt-install-lab.sh), side by side, on a private libvirtd in a network and
# mount namespace of its own (tests/e2e/lib.sh), with tiny real guests (the host's
# kernel and a busybox initrd, direct kernel boot, TCG).
#
#   sudo bench/run.sh [-r ROUNDS] [-s SECTIONS] [-o FILE]
#
#   -r ROUNDS    timed rounds per measurement (default 5; one more, untimed, warms up)
#   -s SECTIONS  comma list of sections to run (default all): lab, idle, status50,
#                scale, clone
#   -o FILE      also write the results table (markdown) to FILE
#
# Installs what it needs (scripts/deps, plus virtinst and time), builds labvirt and the
# floor in a temporary folder, and removes everything it made when it ends. Prints
# the medians (milliseconds) and ratios as a markdown table. BENCH_LABVIRT=PATH uses
# an already built labvirt instead of building one. Not part of ctest: it takes
# several minutes.
set -uo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
# shellcheck source=../tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

ROUNDS=5
SECTIONS=lab,idle,status50,scale,clone
OUTFILE=""
while getopts 'r:s:o:h' opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;;
	s) SECTIONS=$OPTARG ;;
	o) OUTFILE=$OPTARG ;;
	*)
		sed -n '2,19s/^# \{0,1\}//p' "$0" >&2
		exit 2
		;;
	esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || {
	echo "bench: -r '$ROUNDS' is not a positive number" >&2
	exit 2
}

die() {
	echo "bench: $*" >&2
	exit 1
}
log() { printf '# %s\n' "$*" >&2; }
want() { [[ ",$SECTIONS," == *",$1,"* ]]; }

[ "$(id -u)" -eq 0 ] || die "run me as root (network namespace, private libvirtd)"

# --- what it needs
"$ROOT/scripts/deps" >&2 || die "cannot install labvirt's dependencies"
extra=()
command -v virt-install >/dev/null 2>&1 || extra+=(virtinst)
[ -x /usr/bin/time ] || extra+=(time)
if [ ${#extra[@]} -gt 0 ]; then
	log "installing ${extra[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
		--no-install-recommends "${extra[@]}" >/dev/null || die "cannot install ${extra[*]}"
fi

unset LABVIRT_URI LIBVIRT_DEFAULT_URI LIBVIRT_LOG_OUTPUTS
T=$(mktemp -d /tmp/labvirt-bench.XXXXXX)
chmod 0755 "$T" # the daemon's QEMU opens the volumes and kernels below
cleanup() {
	local rc=$?
	set +e
	trap - INT TERM
	e2e_daemon_stop
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export BLOG=$T/bench.log # what the measured commands print
: >"$BLOG"
POOL=$T/pool
GUEST=$T/guest
URI=qemu:///system
export LABVIRT_STATE_DIR=$T/state
mkdir -m 0755 "$POOL" "$GUEST"

# --- build
if [ -n "${BENCH_LABVIRT:-}" ]; then
	LABVIRT=$(realpath "$BENCH_LABVIRT")
else
	log "building labvirt (release flags of the project: RelWithDebInfo)"
	cmake -S "$ROOT" -B "$T/build" >/dev/null &&
		cmake --build "$T/build" -j"$(nproc)" --target labvirt >/dev/null ||
		die "cannot build labvirt"
	LABVIRT=$T/build/labvirt
fi
# shellcheck disable=SC2046 # pkg-config's words
cc -O2 -Wall -o "$T/floor" "$BENCH/floor.c" $(pkg-config --cflags --libs libvirt) -pthread ||
	die "cannot build bench/floor.c"
e2e_build_guest_image /var/tmp/labvirt-e2e-guest || die "cannot build the guest image"
cp /var/tmp/labvirt-e2e-guest/vmlinuz /var/tmp/labvirt-e2e-guest/initrd.img "$GUEST/"
chmod 0644 "$GUEST"/*
log "starting the private libvirtd"
e2e_daemon_start || die "no private libvirtd"

# --- labs: N guests b01..bNN, each like the end-to-end test's: 1 vCPU, MEM MiB, a
# 64 MiB qcow2 disk, a virtio NIC on the isolated bridge vmbr0, direct kernel boot.
guests() { seq -f 'b%02g' 1 "$1"; }
make_lab() { # make_lab DIR N MEM [DISK] [idle]
	local dir=$1 n=$2 mem=$3 disk=${4:-local:0.0625} idle=${5:-} g i=10
	mkdir -p "$dir"
	printf 'lab: bench\n\taccel tcg\n\ndir: local\n\tpath %s\n\nbridge: vmbr0\n\tmode isolated\n\taddress 10.77.0.1/24\n' \
		"$POOL" >"$dir/lab.cfg"
	for g in $(guests "$n"); do
		i=$((i + 1))
		cat >"$dir/$g.conf" <<EOF
name: $g
cores: 1
memory: $mem
net0: virtio,bridge=vmbr0
virtio0: $disk
serial0: socket
EOF
		if [ -n "$idle" ]; then
			# Firmware only: nothing to boot on the empty disk, so the guest idles.
			echo "boot: order=virtio0" >>"$dir/$g.conf"
			continue
		fi
		cat >>"$dir/$g.conf" <<EOF
kernel: $GUEST/vmlinuz
initrd: $GUEST/initrd.img
cmdline: console=ttyS0 labvirt.name=$g labvirt.ip=10.77.0.$i/24
EOF
	done
}

# --- measuring
declare -A S # samples per key: "ms ms ms "

# tm CMD...: runs CMD in the daemon's namespaces and prints its wall time in ms;
# the clock is read in there, so entering the namespaces is not counted.
tm() {
	# shellcheck disable=SC2016 # expanded by that bash
	e2e_in_ns bash -c 's=$EPOCHREALTIME
		"$@" >>"$BLOG" 2>&1 || exit 1
		e=$EPOCHREALTIME
		awk -v a="$s" -v b="$e" "BEGIN { printf \"%.1f\n\", (b - a) * 1000 }"' tm "$@"
}

# sample KEY CMD...: tm, recorded under KEY; a failure ends the benchmark.
sample() {
	local key=$1 ms
	shift
	echo "== $key: $*" >>"$BLOG"
	ms=$(tm "$@") || {
		tail -n 20 "$BLOG" | sed 's/^/#   /' >&2
		die "$key: '$*' failed"
	}
	S[$key]+="$ms "
	log "$key: $ms ms"
}

# running N: exactly N domains run, or the measurement before meant nothing
running() {
	local n
	n=$(e2e_in_ns virsh -q -c "$URI" list --name | sed '/^$/d' | wc -l)
	[ "$n" -eq "$1" ] && return 0
	tail -n 20 "$BLOG" | sed 's/^/#   /' >&2
	e2e_daemon_dump_logs
	die "$1 guests should run, $n do"
}

# run CMD...: in the namespaces, untimed, output to the log
run() { e2e_in_ns "$@" >>"$BLOG" 2>&1; }

median() {
	local v
	v=$(printf '%s\n' ${S[$1]-} | sort -n | awk '{ a[NR] = $1 } END {
		if (NR == 0) exit; m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		printf "%.1f", m }')
	printf '%s\n' "${v:--}"
}
ratio() { # ratio KEY_A KEY_B -> median(A) / median(B)
	awk -v a="$(median "$1")" -v b="$(median "$2")" \
		'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f\n", a / b }'
}

# pratio KEY_A KEY_B -> the median over the rounds of A/B, each round's two samples
# paired (taken one after the other): steadier than ratio when the machine's speed
# drifts from round to round.
pratio() {
	paste -d' ' <(printf '%s\n' ${S[$1]-}) <(printf '%s\n' ${S[$2]-}) |
		awk 'NF == 2 && $2 > 0 { printf "%.6f\n", $1 / $2 }' | sort -g | awk '{ a[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		printf "%.2f\n", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

lv() { env LABVIRT_STATE_DIR="$LABVIRT_STATE_DIR" "$LABVIRT" "$@"; }

# Everything back to nothing: domains, networks, volumes (untimed).
reset_all() {
	e2e_virsh_cleanup e2e_in_ns "$URI"
	rm -f "$POOL"/* "$POOL"/.*.part-* 2>/dev/null
	local p
	for p in $(e2e_in_ns virsh -q -c "$URI" pool-list --name 2>/dev/null); do
		run virsh -q -c "$URI" pool-refresh "$p"
	done
	return 0
}

# The arguments the floor and the scripts take for an N-guest lab of MEM MiB.
contender_args() { # N MEM [idle]
	if [ -n "${3:-}" ]; then
		echo "$URI $POOL - - $2 $(guests "$1" | paste -sd' ')"
	else
		echo "$URI $POOL $GUEST/vmlinuz $GUEST/initrd.img $2 $(guests "$1" | paste -sd' ')"
	fi
}

# wait_booted N: each guest's boot marker through labvirt console (as the e2e test)
lv_console() { e2e_in_ns "$LABVIRT" -L "$T/lab-3" console "$1"; }
wait_booted() {
	local g
	for g in $(guests "$1"); do
		e2e_console_expect -t 180 -p '' -p 'cat /run/marker' "LABVIRT-BOOT-OK name=$g" \
			-- lv_console "$g" >/dev/null 2>&1 || die "guest $g did not boot"
	done
}

rusage() { # rusage KEY CMD...: CPU time (user+sys) and peak RSS of CMD
	local out key=$1
	shift
	out=$(e2e_in_ns /usr/bin/time -f 'RUSAGE %U %S %M' "$@" 2>&1 >>"$BLOG") || {
		printf '%s\n' "$out" | sed 's/^/#   /' >&2
		die "$key: failed"
	}
	RU[$key]=$(printf '%s\n' "$out" | awk '/^RUSAGE/ { printf "%.0f ms CPU, %.1f MiB peak", ($2 + $3) * 1000, $4 / 1024 }')
}
declare -A RU DU APP CHECK

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
make_lab "$T/lab-3" 3 256
reset_all

# 1. the three-guest lab: volumes, network, define, start
if want lab; then
	log "1. up of the three-guest lab, $ROUNDS rounds"
	read -r -a args <<<"$(contender_args 3 256)"
	for r in $(seq 0 "$ROUNDS"); do
		key() { [ "$r" -eq 0 ] && echo "warmup" || echo "$1"; }
		reset_all
		sample "$(key lab.labvirt)" "$LABVIRT" -L "$T/lab-3" up
		running 3
		reset_all
		sample "$(key lab.floor)" "$T/floor" "${args[@]}"
		running 3
		reset_all
		sample "$(key lab.floorj)" "$T/floor" -j "${args[@]}"
		running 3
		reset_all
		sample "$(key lab.virsh)" "$BENCH/virsh-lab.sh" "${args[@]}"
		running 3
		reset_all
		sample "$(key lab.virtinst)" "$BENCH/virt-install-lab.sh" "${args[@]}"
		running 3
	done
	reset_all
	rusage up3 "$LABVIRT" -L "$T/lab-3" up
	reset_all
	# The same figures for the floor: what any libvirt client costs here.
	rusage floor3 "$T/floor" -j "${args[@]}"
	reset_all
fi

# 2. the lab running: no-op up, status, down, destroy
if want idle; then
	log "2. no-op up, status, down, destroy of the three-guest lab, $ROUNDS rounds"
	for r in $(seq 1 "$ROUNDS"); do
		reset_all
		run "$LABVIRT" -L "$T/lab-3" up || die "up failed"
		wait_booted 3 # idle guests: their boot would compete for the CPU
		for _ in 1 2 3; do
			sample noop "$LABVIRT" -L "$T/lab-3" up
			sample status3 "$LABVIRT" -L "$T/lab-3" status
			sample floorstatus3 "$T/floor" -s "$URI"
			sample virshlist3 virsh -q -c "$URI" list --all
		done
		[ "$r" -eq 1 ] && rusage noop "$LABVIRT" -L "$T/lab-3" up &&
			rusage status3 "$LABVIRT" -L "$T/lab-3" status &&
			rusage floorstatus3 "$T/floor" -s "$URI" &&
			rusage virshlist3 virsh -q -c "$URI" list --all
		sample down "$LABVIRT" -L "$T/lab-3" down --timeout 60
		sample destroy "$LABVIRT" -L "$T/lab-3" destroy --yes
	done
	reset_all
fi

# 3. status of 50 defined (not started) guests
if want status50; then
	log "3. status of 50 defined guests"
	make_lab "$T/lab-50" 50 128
	for g in $(guests 50); do
		lv -L "$T/lab-50" xml "$g" >"$T/$g.xml" || die "labvirt xml $g failed"
		run virsh -q -c "$URI" define "$T/$g.xml" || die "cannot define $g"
	done
	for _ in $(seq 0 $((ROUNDS * 2))); do
		sample status50 "$LABVIRT" -L "$T/lab-50" status
		sample floorstatus50 "$T/floor" -s "$URI"
		sample virshlist50 virsh -q -c "$URI" list --all
	done
	rusage status50 "$LABVIRT" -L "$T/lab-50" status
	reset_all
fi

# 5. how up grows with the number of guests (128 MiB each). These guests boot only
# their firmware, which finds nothing on the empty disk and idles: 30 Linux kernels
# booting under TCG on a small machine would take the CPU from the starts that
# follow them, and the series would measure that instead of up.
if want scale; then
	make_lab "$T/scale-warm" 1 128 local:0.0625 idle
	reset_all && run "$LABVIRT" -L "$T/scale-warm" up && reset_all # untimed: a first start warms the daemon
	for n in 1 3 10 30; do
		log "5. up of $n guests, $ROUNDS rounds"
		make_lab "$T/scale-$n" "$n" 128 local:0.0625 idle
		read -r -a args <<<"$(contender_args "$n" 128 idle)"
		for _ in $(seq 1 "$ROUNDS"); do
			reset_all
			sample "scale.labvirt.$n" "$LABVIRT" -L "$T/scale-$n" up
			running "$n"
			reset_all
			sample "scale.floor.$n" "$T/floor" "${args[@]}"
			running "$n"
			reset_all
			sample "scale.floorj.$n" "$T/floor" -j "${args[@]}"
			running "$n"
		done
		[ "$n" -eq 30 ] && reset_all && rusage up30 "$LABVIRT" -L "$T/scale-30" up
		reset_all
	done
fi

# 6. the disk a new linked-clone guest costs before it boots
if want clone; then
	log "6. disk of a linked clone"
	e2e_in_ns qemu-img create -q -f qcow2 "$T/base.qcow2" 1G || die "no base image"
	make_lab "$T/lab-clone" 1 128 "local:0,import-from=$T/base.qcow2"
	make_lab "$T/lab-new" 1 128
	vol=$POOL/bench-b01-virtio0.qcow2
	for kind in clone new; do
		reset_all
		run "$LABVIRT" -L "$T/lab-$kind" up || die "up of lab-$kind failed"
		DU[$kind]=$(du -k "$vol" | cut -f1)
		APP[$kind]=$(stat -c %s "$vol")
		e2e_in_ns qemu-img check -U -q "$vol" >>"$BLOG" 2>&1 && CHECK[$kind]=clean || CHECK[$kind]=errors
		run "$LABVIRT" -L "$T/lab-$kind" destroy --yes
	done
	reset_all
fi

# --- the report
report() {
	echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)," \
		"$(. /etc/os-release && echo "$PRETTY_NAME"), libvirt $(virsh -v), QEMU" \
		"$(qemu-system-x86_64 --version | awk 'NR == 1 { print $4 }'), TCG; $ROUNDS rounds, medians in ms;" \
		"load average at the start $LOAD0, at the end $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	if want lab; then
		echo "| up of the three-guest lab | median ms | labvirt is (ratio of the medians) | median of the rounds' ratios |"
		echo "|---|---:|---|---|"
		echo "| labvirt up | $(median lab.labvirt) | | |"
		echo "| floor (C, sequential) | $(median lab.floor) | $(ratio lab.labvirt lab.floor)x the floor | $(pratio lab.labvirt lab.floor)x |"
		echo "| floor -j (C, a thread per guest) | $(median lab.floorj) | $(ratio lab.labvirt lab.floorj)x | $(pratio lab.labvirt lab.floorj)x |"
		echo "| virsh script | $(median lab.virsh) | $(ratio lab.virsh lab.labvirt)x faster (floor -j: $(ratio lab.virsh lab.floorj)x) | $(pratio lab.virsh lab.labvirt)x (floor -j: $(pratio lab.virsh lab.floorj)x) |"
		echo "| virt-install | $(median lab.virtinst) | $(ratio lab.virtinst lab.labvirt)x faster (floor -j: $(ratio lab.virtinst lab.floorj)x) | $(pratio lab.virtinst lab.labvirt)x (floor -j: $(pratio lab.virtinst lab.floorj)x) |"
		echo
	fi
	if want idle || want status50; then
		echo "| command | median ms | for comparison |"
		echo "|---|---:|---|"
		want idle && echo "| no-op up (3 running) | $(median noop) | |"
		want idle && echo "| status, 3 guests | $(median status3) | floor -s: $(median floorstatus3); virsh list --all: $(median virshlist3) |"
		want status50 && echo "| status, 50 defined guests | $(median status50) | floor -s: $(median floorstatus50); virsh list --all: $(median virshlist50) |"
		want idle && echo "| down (ACPI, 3 booted guests) | $(median down) | |"
		want idle && echo "| destroy --yes (3 shut off) | $(median destroy) | |"
		echo
	fi
	if want scale; then
		echo "| guests | labvirt up ms | per guest | floor ms | floor -j ms |"
		echo "|---:|---:|---:|---:|---:|"
		for n in 1 3 10 30; do
			echo "| $n | $(median "scale.labvirt.$n") | $(awk -v a="$(median "scale.labvirt.$n")" -v n="$n" 'BEGIN { if (a == "-") print "-"; else printf "%.0f", a / n }') | $(median "scale.floor.$n") | $(median "scale.floorj.$n") |"
		done
		echo
	fi
	if [ ${#RU[@]} -gt 0 ]; then
		echo "| resources (getrusage via /usr/bin/time) | |"
		echo "|---|---|"
		local k
		declare -A what=([up3]="labvirt up, 3 guests" [floor3]="floor -j, 3 guests (the least a libvirt client costs)"
			[noop]="labvirt no-op up" [status3]="labvirt status, 3 guests"
			[floorstatus3]="floor -s, 3 guests (the least a libvirt client costs to list them)" [virshlist3]="virsh list --all, 3 guests"
			[status50]="labvirt status, 50 guests" [up30]="labvirt up, 30 guests")
		for k in up3 floor3 noop status3 floorstatus3 virshlist3 status50 up30; do
			[ -n "${RU[$k]-}" ] && echo "| ${what[$k]} | ${RU[$k]} |"
		done
		echo
	fi
	if want clone; then
		echo "| new guest's volume, before boot | allocated | apparent | qemu-img check |"
		echo "|---|---:|---:|---|"
		echo "| linked clone (import-from= a 1 GiB qcow2) | ${DU[clone]} KiB | ${APP[clone]} B | ${CHECK[clone]} |"
		echo "| new empty 64 MiB volume | ${DU[new]} KiB | ${APP[new]} B | ${CHECK[new]} |"
	fi
}
report | tee ${OUTFILE:+"$OUTFILE"}
