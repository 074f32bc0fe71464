#!/bin/bash
# labvirt end to end, for real: a lab of three tiny guests on one bridge is brought up
# by the real binary, the guests' boot markers are read through `labvirt console`,
# e2e-a pings the two others over the bridge, the lab goes down and is destroyed, and
# afterwards nothing the test saw appear is left.
#
#   run.sh daemon PATH_TO_labvirt   private libvirtd (qemu:///system) in its own
#                                   network and mount namespaces
#   run.sh embed  PATH_TO_labvirt   no daemon at all: labvirt picks libvirt's embedded
#                                   driver (qemu:///embed?root=$LABVIRT_STATE_DIR/embed)
#
# Prints "ok - ..." / "not ok - ..." lines and "N passed, N failed"; exits 0 if all
# passed, 1 if any failed, 2 on a usage error, 77 if this machine cannot run it.
# LABVIRT_E2E_CACHE: where the guest kernel and initrd are cached
# (default /var/tmp/labvirt-e2e-guest). LABVIRT_E2E_KEEP=1 keeps the temp dir.

# No -e: a failed check is reported and the test goes on; fatal steps bail out.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

if [ $# -ne 2 ] || { [ "$1" != daemon ] && [ "$1" != embed ]; }; then
	echo "usage: $0 daemon|embed PATH_TO_labvirt" >&2
	exit 2
fi
MODE=$1
LABVIRT=$2

skip() {
	echo "SKIP: $*"
	exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, libvirt's system driver)"
need=(qemu-system-x86_64 qemu-img virsh ip nsenter unshare busybox cpio gzip timeout)
[ "$MODE" = daemon ] && need+=(libvirtd virtlogd)
for prog in "${need[@]}"; do
	command -v "$prog" >/dev/null 2>&1 || skip "$prog is not installed"
done
e2e_guest_kernel_version >/dev/null || skip "no /boot/vmlinuz-* with its /lib/modules"

if [ ! -x "$LABVIRT" ]; then
	echo "not ok - labvirt binary '$LABVIRT' is not executable"
	echo "0 passed, 1 failed"
	exit 1
fi
LABVIRT=$(realpath "$LABVIRT")
# LABVIRT_WRAPPER: a command that runs labvirt for the verbs (not the console), e.g.
# "valgrind --error-exitcode=99 --leak-check=full" (CI's memcheck run).
read -ra WRAPPER <<<"${LABVIRT_WRAPPER-}"

CACHE=${LABVIRT_E2E_CACHE:-/var/tmp/labvirt-e2e-guest}
GUESTS=(e2e-a e2e-b e2e-c)
declare -A IP=([e2e-a]=10.77.0.11 [e2e-b]=10.77.0.12 [e2e-c]=10.77.0.13)
DISK_BYTES=67108864 # virtio0: local:0.0625 (GiB)

unset LABVIRT_URI LIBVIRT_DEFAULT_URI LIBVIRT_LOG_OUTPUTS
T=$(mktemp -d /tmp/labvirt-e2e.XXXXXX)
chmod 0755 "$T" # libvirt's QEMU user opens the volumes below
LAB=$T/lab
POOL=$T/pool
GUEST=$T/guest # this run's copy of the image: libvirt chowns what a guest boots from
export LABVIRT_STATE_DIR=$T/state
mkdir -p "$LAB"
mkdir -m 0755 "$POOL"

if [ "$MODE" = daemon ]; then
	RUN=e2e_in_ns
	URI=qemu:///system
	CONNECT=(-c "$URI")
else
	RUN=e2e_in_netns
	URI="qemu:///embed?root=$LABVIRT_STATE_DIR/embed"
	CONNECT=()
fi

cleanup() {
	local rc=$? p
	set +e
	trap - INT TERM
	e2e_console_abort # it holds the embedded driver: virsh could not connect
	if [ "$MODE" = daemon ]; then
		e2e_daemon_stop
	else
		if [ -n "$E2E_NS" ] && [ -d "$LABVIRT_STATE_DIR/embed" ]; then
			e2e_virsh_cleanup e2e_in_netns "$URI"
		fi
		e2e_netns_only_stop # ends every process left in the netns: QEMU included
	fi
	# Any QEMU still running with a path of ours (there should be none).
	for p in $(pgrep -f -- "$T/"); do
		[ "$p" = "$$" ] || kill -KILL "$p" 2>/dev/null
	done
	if [ "${LABVIRT_E2E_KEEP:-0}" = 1 ]; then
		e2e_log "kept $T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bail() {
	e2e_log "cannot go on: $*"
	e2e_summary
	exit 1
}

phase() { e2e_log "time: $1: ${2}s"; }

# lv ARGS...: labvirt on this lab, in the test's namespaces. Standard output in LV_OUT,
# standard error in LV_ERR, exit status in LV_RC; both are echoed to the log.
lv() {
	LV_OUT=$("$RUN" timeout 900 "${WRAPPER[@]}" "$LABVIRT" -L "$LAB" "${CONNECT[@]}" "$@" 2>"$T/stderr")
	LV_RC=$?
	LV_ERR=$(cat "$T/stderr")
	e2e_log "labvirt $* -> exit $LV_RC"
	[ -z "$LV_OUT" ] || printf '%s\n' "$LV_OUT" | sed 's/^/#   | /' >&2
	[ -z "$LV_ERR" ] || printf '%s\n' "$LV_ERR" | sed 's/^/#   ! /' >&2
	return 0
}

# The console client for e2e_console_expect (stdin is a pipe: labvirt copies).
lv_console() {
	"$RUN" "$LABVIRT" -L "$LAB" "${CONNECT[@]}" console "$1"
}

vsh() { "$RUN" virsh -q -c "$URI" "$@"; }

inventory() {
	local uri=$URI
	# Connecting to the embedded driver would create its root: do not, before labvirt.
	[ "$MODE" = embed ] && [ ! -d "$LABVIRT_STATE_DIR/embed" ] && uri=""
	e2e_inventory "$RUN" "$uri" "$POOL"
}

dump_logs() {
	if [ "$MODE" = daemon ]; then
		e2e_daemon_dump_logs
	else
		for f in "$LABVIRT_STATE_DIR/libvirt.log" "$LABVIRT_STATE_DIR"/embed/log/qemu/*.log; do
			[ -f "$f" ] || continue
			echo "## $f"
			tail -n 30 "$f"
		done 2>&1 | sed 's/^/#   /' >&2
	fi
}

# --- the lab folder
cat >"$LAB/lab.cfg" <<EOF
lab: e2e
	accel tcg

dir: local
	path $POOL

bridge: vmbr0
	mode isolated
	address 10.77.0.1/24
EOF
for g in "${GUESTS[@]}"; do
	cat >"$LAB/${g#e2e-}.conf" <<EOF
name: $g
cores: 1
memory: 256
net0: virtio,bridge=vmbr0
virtio0: local:0.0625
serial0: socket
kernel: $GUEST/vmlinuz
initrd: $GUEST/initrd.img
cmdline: console=ttyS0 labvirt.name=$g labvirt.ip=${IP[$g]}/24
EOF
done

# --- the harness
e2e_log "mode $MODE, labvirt $LABVIRT, temp dir $T"
t=$(e2e_now)
e2e_check "guest image built" e2e_build_guest_image "$CACHE" || bail "no guest image"
if ! { mkdir -m 0755 "$GUEST" && cp "$CACHE/vmlinuz" "$CACHE/initrd.img" "$GUEST/"; }; then
	bail "cannot copy the guest image"
fi
phase "guest image" "$(e2e_elapsed "$t")"
t=$(e2e_now)
if [ "$MODE" = daemon ]; then
	e2e_check "private libvirtd answers in netns" e2e_daemon_start || bail "no daemon"
else
	e2e_check "network namespace made" e2e_netns_only_start || bail "no netns"
fi
phase "namespaces (and daemon)" "$(e2e_elapsed "$t")"
NS=$E2E_NS

before=$(inventory)
[ -z "$before" ] || printf '%s\n' "$before" | sed 's/^/#   before: /' >&2

# --- up
lv validate
e2e_check "labvirt validate" test "$LV_RC" -eq 0

t=$(e2e_now)
lv up
e2e_check "labvirt up exits 0" test "$LV_RC" -eq 0 || {
	dump_logs
	bail "the lab is not up"
}
t_up=$EPOCHREALTIME
phase "labvirt up" "$(e2e_elapsed "$t")"

lv status
running=0
for g in "${GUESTS[@]}"; do
	grep -Eq "^${g}[[:space:]]+vm[[:space:]]+running([[:space:]]|\$)" <<<"$LV_OUT" && running=$((running + 1))
done
e2e_check "labvirt status shows 3 running" test "$LV_RC" -eq 0 -a "$running" -eq 3

lv status --json
if command -v jq >/dev/null 2>&1; then
	e2e_check "labvirt status --json: 3 guests running" test "$LV_RC" -eq 0 -a \
		"$(jq '[.guests[] | select(.state == "running")] | length' <<<"$LV_OUT" 2>/dev/null)" = 3
	e2e_check "labvirt status --json: connected to $URI" \
		test "$(jq -r .uri <<<"$LV_OUT" 2>/dev/null)" = "$URI"
fi

# Opening the embedded driver starts a thread per running guest that reconnects to its
# QEMU; a command that ended while they ran died of SIGSEGV (labvirt status, 10 times
# in 150 on this machine, before labvirt waited for them). Forty in a row must all
# exit 0 (without a wrapper: valgrind would make forty too slow).
if [ "$MODE" = embed ]; then
	crashed=0 first=""
	for i in $(seq 40); do
		"$RUN" timeout 120 "$LABVIRT" -L "$LAB" "${CONNECT[@]}" status >/dev/null 2>"$T/stderr"
		rc=$?
		[ "$rc" -eq 0 ] && continue
		crashed=$((crashed + 1))
		[ -n "$first" ] || first="run $i: exit $rc: $(head -c 400 "$T/stderr")"
	done
	e2e_check "embedded: labvirt status exits 0 forty times in a row ($crashed did not)" \
		test "$crashed" -eq 0
	[ -z "$first" ] || e2e_log "first that did not: $first"
fi

e2e_check "libvirt ($URI) runs e2e-a, e2e-b, e2e-c" \
	test "$(vsh list --name | sed '/^$/d' | LC_ALL=C sort | paste -sd' ')" = "e2e-a e2e-b e2e-c"
e2e_check "accel tcg: domain type is qemu" \
	sh -c 'grep -q "<domain type=.qemu." && ! grep -q "<domain type=.kvm."' \
	< <(vsh dumpxml e2e-a)
e2e_check "bridge vmbr0 is up in the netns" ip -n "$NS" link show vmbr0 type bridge up
# The inventory sees what the lab made, so that "after equals before" means something.
during=$(inventory)
counts() { printf '%s\n' "$during" | awk '{ n[$1]++ } END { printf "%d %d %d %d", n["domain"], n["bridge"], n["tap"], n["file"] }'; }
e2e_check "inventory while up: 3 domains, 1 bridge, 3 taps, 3 volume files" test "$(counts)" = "3 1 3 3"
[ "$MODE" = embed ] || e2e_check "inventory while up: the lab's network" grep -q '^network ' <<<"$during"
printf '%s\n' "$during" | sed 's/^/#   while up: /' >&2

lv up
said_nothing_to_do() { [ "$LV_RC" -eq 0 ] && grep -q 'nothing to do' <<<"$LV_OUT"; }
e2e_check "second labvirt up: nothing to do" said_nothing_to_do

# --- the guests, through labvirt's own console
for g in "${GUESTS[@]}"; do
	t=$(e2e_now)
	e2e_check "boot marker of $g through labvirt console" \
		e2e_console_expect -p '' -p 'cat /run/marker' \
		"LABVIRT-BOOT-OK name=$g disk=$DISK_BYTES" -- lv_console "$g"
	phase "console marker of $g (since up returned: $(e2e_elapsed "$t_up")s)" "$(e2e_elapsed "$t")"
done

for g in e2e-b e2e-c; do
	t=$(e2e_now)
	e2e_check "e2e-a pings $g over vmbr0" \
		e2e_console_expect -t 60 -p '' -w 'e2e-a# ' -s "ping -c 3 ${IP[$g]}" \
		'3 packets received' -- lv_console e2e-a
	phase "ping -c 3 $g (console attach included)" "$(e2e_elapsed "$t")"
done
# --- the console on a terminal (script(1) gives it a pty): raw mode, Ctrl-] leaves,
# and the terminal is restored afterwards ("icanon" again, not "-icanon").
tty_console() {
	"$RUN" script -qec "stty -a | grep -o -- '-*icanon'; $LABVIRT -L $LAB ${CONNECT[*]} console e2e-a; echo console-exit=\$?; stty -a | grep -o -- '-*icanon'" /dev/null
}
e2e_check "labvirt console on a terminal: Ctrl-] leaves, terminal restored" \
	e2e_console_expect -t 60 -w 'Connected to e2e-a' -s $'\035' \
	'console-exit=0[[:space:]]+icanon' -- tty_console
[ "$E2E_FAILED" -eq 0 ] || dump_logs

# --- down
t=$(e2e_now)
lv down --timeout 5
e2e_check "labvirt down --timeout 5 exits 0" test "$LV_RC" -eq 0
phase "labvirt down" "$(e2e_elapsed "$t")"
lv status
off=0
for g in "${GUESTS[@]}"; do
	grep -Eq "^${g}[[:space:]]+vm[[:space:]]+shut.?off([[:space:]]|\$)" <<<"$LV_OUT" && off=$((off + 1))
done
e2e_check "labvirt status shows 3 shut off" test "$LV_RC" -eq 0 -a "$off" -eq 3
for g in "${GUESTS[@]}"; do
	e2e_check "libvirt: $g is shut off" test "$(vsh domstate "$g" | sed '/^$/d')" = "shut off"
done

# --- destroy: nothing may be left
t=$(e2e_now)
lv destroy --yes
e2e_check "labvirt destroy --yes exits 0" test "$LV_RC" -eq 0
phase "labvirt destroy" "$(e2e_elapsed "$t")"

after=$(inventory)
e2e_check "inventory after destroy equals before (domains, networks, bridges, taps, volumes)" \
	test "$after" = "$before"
diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed -n 's/^[<>]/#   &/p' >&2

qemu_left() {
	local p
	for p in $(e2e_netns_pids); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q 'guest=e2e-' && echo "$p"
	done
	return 0
}
e2e_check "no QEMU of the lab left in the netns" test -z "$(qemu_left)"

[ "$E2E_FAILED" -eq 0 ] || dump_logs
e2e_summary
