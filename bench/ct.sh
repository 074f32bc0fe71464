#!/bin/bash
# bench/ct.sh - labvirt's containers against a virsh script doing the same work by
# hand (bench/virsh-ct.sh), side by side in one run, on a private libvirtd in network
# and mount namespaces of its own whose LXC driver sees the host's cgroup v1
# hierarchies (tests/e2e/lib.sh, as tests/e2e/ct-boot.sh).
#
#   sudo bench/ct.sh [-r ROUNDS] PATH_TO_labvirt
#
#   -r ROUNDS  timed rounds per figure (default 5; medians)
#
# The lab: 3 unprivileged containers ct1..ct3 (lxc/101..103.conf: rootfs local:0.25,
# ostemplate tests/e2e/ct-template.sh's busybox template, 128 MiB, one veth each on
# the isolated bridge vmbr0 with a static ip). Measured, each against its baseline:
#   up        labvirt up from nothing (network, volumes from the template, define,
#             start; destroy --yes between rounds, untimed) against
#             `virsh-ct.sh full` (net-define/start; per container tar -I zstd -xpf,
#             chown -R --from id shift, mke2fs -d, mount -o loop, virsh define, start)
#   define    labvirt up with the volumes made and the domains undefined (mount,
#             define, start) against `virsh-ct.sh define` (mount, define, start)
#   start     labvirt up of the shut-off lab (after labvirt down: mount, start)
#             against `virsh-ct.sh start` (mount -o loop, virsh start), the floor
#   one       one container alone, defined and started by virsh (mount untimed)
# and labvirt up's peak RSS (/usr/bin/time -v). After every up, exactly 3 containers
# must run. Writes only under a temporary folder (and the template's cache; labvirt
# mounts the volumes on /run/labvirt/ct/ctb/ in the daemon's mount namespace) and
# removes domains, networks, volumes, mounts and loop devices when it ends.
set -uo pipefail
trap '' PIPE

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
# shellcheck source=../tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

ROUNDS=5
while getopts 'r:h' opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;;
	*)
		sed -n '2,27s/^# \{0,1\}//p' "$0" >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || {
	sed -n '2,27s/^# \{0,1\}//p' "$0" >&2
	exit 2
}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || {
	echo "bench: -r '$ROUNDS' is not a positive number" >&2
	exit 2
}

die() {
	echo "bench: $*" >&2
	exit 1
}
log() { printf '# %s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || die "run me as root (namespaces, libvirt's LXC driver)"
[ -x "$1" ] || die "'$1' is not an executable labvirt"
LABVIRT=$(realpath "$1")
for p in virsh libvirtd virtlogd nsenter unshare zstd tar mke2fs losetup mount; do
	command -v "$p" >/dev/null 2>&1 || die "$p is not installed"
done
[ -d /sys/fs/cgroup/memory ] || die "no cgroup v1 memory hierarchy (libvirt 9.0's LXC driver needs v1)"
if [ ! -x /usr/bin/time ]; then
	log "installing time"
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
		--no-install-recommends time >/dev/null || die "cannot install time"
fi
TEMPLATE=$("$ROOT/tests/e2e/ct-template.sh") || die "no busybox CT template (tests/e2e/ct-template.sh)"

unset LABVIRT_URI LIBVIRT_DEFAULT_URI LIBVIRT_LOG_OUTPUTS
T=$(mktemp -d /tmp/labvirt-bench-ct.XXXXXX)
chmod 0755 "$T" # the containers' root (100000) passes through
LAB=$T/pve      # laid out like /etc/pve
POOL=$T/vz      # the dir storage 'local'
WORK=$T/virsh   # virsh-ct.sh full: trees, images, mount points
XML=$T/xml      # labvirt's XML per container (define, start)
XMLW=$T/xmlw    # the same, mounted below $WORK, without labvirt's metadata (full)
LABNAME=ctb
CT_MNT=/run/labvirt/ct/$LABNAME
LURI=lxc:///system
QURI=qemu:///system
CTS=(ct1 ct2 ct3)
export LABVIRT_STATE_DIR=$T/state
export BLOG=$T/bench.log
mkdir -p "$LAB/lxc" "$WORK" "$XML" "$XMLW"
mkdir -m 0755 "$POOL"
: >"$BLOG"

cleanup() {
	local rc=$? m l
	set +e
	trap - INT TERM
	[ "$rc" -eq 0 ] || tail -n 20 "$BLOG" | sed 's/^/#   log: /' >&2
	e2e_daemon_stop # both drivers' domains and networks, then every process of the netns
	awk -v t="$T/" -v c="$CT_MNT" 'index($5, t) == 1 || index($5, c) == 1 { print $5 }' \
		/proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	for l in $(losetup -a 2>/dev/null | grep -F -- "$T/" | cut -d: -f1); do
		losetup -d "$l" 2>/dev/null
	done
	[ -e "$CT_MNT" ] && rm -rf --one-file-system "$CT_MNT"
	rmdir /run/labvirt/ct /run/labvirt 2>/dev/null
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the lab
cat >"$LAB/lab.cfg" <<EOF
lab: $LABNAME

dir: local
	path $POOL

bridge: vmbr0
	mode isolated
	address 10.78.0.1/24
EOF
for i in 1 2 3; do
	cat >"$LAB/lxc/10$i.conf" <<EOF
arch: amd64
cores: 1
hostname: ct$i
memory: 128
net0: name=eth0,bridge=vmbr0,gw=10.78.0.1,ip=10.78.0.2$i/24,type=veth
ostemplate: $TEMPLATE
ostype: unmanaged
rootfs: local:0.25
swap: 0
unprivileged: 1
EOF
done
# The network labvirt makes for vmbr0, by hand.
cat >"$T/net.xml" <<EOF
<network>
  <name>labvirt-$LABNAME-vmbr0</name>
  <bridge name='vmbr0' stp='on' delay='0'/>
  <ip address='10.78.0.1' netmask='255.255.255.0'/>
</network>
EOF

for ct in "${CTS[@]}"; do # labvirt xml reads only the lab folder
	"$LABVIRT" -L "$LAB" xml "$ct" >"$XML/$ct.xml" 2>>"$BLOG" || die "labvirt xml $ct failed"
	sed -e "s:<source dir=\"$CT_MNT/$ct/rootfs\"/>:<source dir=\"$WORK/$ct/mnt\"/>:" \
		-e '/<metadata>/,/<\/metadata>/d' "$XML/$ct.xml" >"$XMLW/$ct.xml"
	grep -q "$WORK/$ct/mnt" "$XMLW/$ct.xml" || die "no rootfs folder in labvirt's XML of $ct"
done

log "starting the private libvirtd (LXC driver, cgroup v1)"
e2e_daemon_start cgroups || die "no private libvirtd"
e2e_in_ns virsh -q -c "$LURI" version >/dev/null 2>&1 || die "the daemon's LXC driver does not answer"

# --- measuring (as bench/run.sh)
declare -A S # samples per key: "s s s "

# tm CMD...: CMD in the daemon's namespaces; prints its wall time in seconds, read in
# there, so entering the namespaces is not counted.
tm() {
	# shellcheck disable=SC2016 # expanded by that bash
	e2e_in_ns env LABVIRT_STATE_DIR="$LABVIRT_STATE_DIR" bash -c 's=$EPOCHREALTIME
		"$@" >>"$BLOG" 2>&1 || exit 1
		e=$EPOCHREALTIME
		awk -v a="$s" -v b="$e" "BEGIN { printf \"%.3f\n\", b - a }"' tm "$@"
}
sample() {
	local key=$1 s
	shift
	echo "== $key: $*" >>"$BLOG"
	s=$(tm "$@") || die "$key: '$*' failed"
	S[$key]+="$s "
	log "$key: $s s"
}
run() { e2e_in_ns env LABVIRT_STATE_DIR="$LABVIRT_STATE_DIR" "$@" >>"$BLOG" 2>&1; }

# running N: exactly N containers run, or the measurement before meant nothing
running() {
	local n
	n=$(e2e_in_ns virsh -q -c "$LURI" list --name | sed '/^$/d' | wc -l)
	[ "$n" -eq "$1" ] || die "$1 containers should run, $n do"
}

median() {
	local v
	# shellcheck disable=SC2086 # the samples are words
	v=$(printf '%s\n' ${S[$1]-} | sort -n | awk '{ a[NR] = $1 } END {
		if (NR == 0) exit; m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		printf "%.3f", m }')
	printf '%s\n' "${v:--}"
}
ratio() { # median(A) / median(B)
	awk -v a="$(median "$1")" -v b="$(median "$2")" \
		'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f\n", a / b }'
}

# Undo virsh-ct.sh: its containers, mounts, images, the network (untimed).
unmount_all() {
	local m
	# shellcheck disable=SC2016 # awk's
	for m in $(e2e_in_ns awk -v t="$WORK/" -v c="$CT_MNT/" \
		'index($5, t) == 1 || index($5, c) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		run umount "$m" || die "cannot unmount $m"
	done
}
reset_virsh() {
	e2e_virsh_cleanup e2e_in_ns "$LURI"
	e2e_virsh_cleanup e2e_in_ns "$QURI"
	unmount_all
	rm -rf "${WORK:?}"/*
}
undefine_all() {
	local ct
	for ct in "${CTS[@]}"; do run virsh -q -c "$LURI" undefine "$ct" || die "cannot undefine $ct"; done
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# A first up and destroy, untimed: the daemon's LXC driver and the page cache warm.
run "$LABVIRT" -c "$QURI" -L "$LAB" up || die "the first labvirt up failed"
running 3
run "$LABVIRT" -c "$QURI" -L "$LAB" destroy --yes || die "labvirt destroy failed"

# 1. from nothing
log "1. up from nothing, $ROUNDS rounds"
for _ in $(seq 1 "$ROUNDS"); do
	sample up.labvirt "$LABVIRT" -c "$QURI" -L "$LAB" up
	running 3
	run "$LABVIRT" -c "$QURI" -L "$LAB" destroy --yes || die "labvirt destroy failed"
	sample up.virsh "$BENCH/virsh-ct.sh" full "$TEMPLATE" "$WORK" "$XMLW" "$T/net.xml" "${CTS[@]}"
	running 3
	reset_virsh
done
RSS=$(e2e_in_ns env LABVIRT_STATE_DIR="$LABVIRT_STATE_DIR" /usr/bin/time -v \
	"$LABVIRT" -c "$QURI" -L "$LAB" up 2>&1 >>"$BLOG" |
	awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }')
running 3

# 2. volumes made, domains undefined; 3. the lab shut off
log "2, 3. define and start, start alone, $ROUNDS rounds"
run "$LABVIRT" -c "$QURI" -L "$LAB" down --timeout 30 || die "labvirt down failed"
for _ in $(seq 1 "$ROUNDS"); do
	undefine_all
	sample define.labvirt "$LABVIRT" -c "$QURI" -L "$LAB" up
	running 3
	run "$LABVIRT" -c "$QURI" -L "$LAB" down --timeout 30 || die "labvirt down failed"
	undefine_all
	sample define.virsh "$BENCH/virsh-ct.sh" define "$POOL" "$XML" "${CTS[@]}"
	running 3
	run "$LABVIRT" -c "$QURI" -L "$LAB" down --timeout 30 || die "labvirt down failed"
	unmount_all

	sample start.labvirt "$LABVIRT" -c "$QURI" -L "$LAB" up
	running 3
	run "$LABVIRT" -c "$QURI" -L "$LAB" down --timeout 30 || die "labvirt down failed"
	sample start.virsh "$BENCH/virsh-ct.sh" start "$POOL" "$XML" "${CTS[@]}"
	running 3
	run "$LABVIRT" -c "$QURI" -L "$LAB" down --timeout 30 || die "labvirt down failed"
	unmount_all

	# one container alone, its volume mounted beforehand (untimed)
	run virsh -q -c "$LURI" undefine ct1 || die "cannot undefine ct1"
	run mkdir -p "$CT_MNT/ct1/rootfs"
	run mount -o loop "$POOL/$LABNAME-ct1-rootfs.raw" "$CT_MNT/ct1/rootfs" || die "cannot mount ct1's volume"
	# shellcheck disable=SC2016 # expanded by that sh
	sample one.virsh sh -c 'virsh -q -c "$1" define "$2" >/dev/null && virsh -q -c "$1" start ct1 >/dev/null' \
		sh "$LURI" "$XML/ct1.xml"
	running 1
	run "$LABVIRT" -c "$QURI" -L "$LAB" down --timeout 30 || die "labvirt down failed"
	unmount_all
done
run "$LABVIRT" -c "$QURI" -L "$LAB" destroy --yes || die "labvirt destroy failed"

# --- the report
echo "Machine: $(nproc) cores, $(. /etc/os-release && echo "$PRETTY_NAME"), libvirt $(virsh -v);" \
	"$ROUNDS rounds, medians in seconds; load average at the start $LOAD0, at the end" \
	"$(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| 3 unprivileged containers | median s | baseline | median s | labvirt / baseline |"
echo "|---|---:|---|---:|---:|"
echo "| labvirt up, from nothing | $(median up.labvirt) | virsh-ct.sh full (tar, chown, mke2fs, mount, define, start) | $(median up.virsh) | $(ratio up.labvirt up.virsh) |"
echo "| labvirt up, volumes made, undefined | $(median define.labvirt) | virsh-ct.sh define (mount, define, start) | $(median define.virsh) | $(ratio define.labvirt define.virsh) |"
echo "| labvirt up, shut off (the floor) | $(median start.labvirt) | virsh-ct.sh start (mount, start) | $(median start.virsh) | $(ratio start.labvirt start.virsh) |"
echo "| one container: virsh define + start | $(median one.virsh) | | | |"
echo
echo "labvirt up from nothing: peak RSS ${RSS:--} MiB (/usr/bin/time -v)."
log "samples: $(for k in "${!S[@]}"; do printf '%s: %s; ' "$k" "${S[$k]}"; done)"
