# shellcheck shell=bash
# Shared helpers of labvirt's end-to-end tests. Source this file from bash.
#
#   e2e_build_guest_image OUTDIR      tiny bootable guest: OUTDIR/vmlinuz, OUTDIR/initrd.img
#                                     (kernel command line: labvirt.name=, labvirt.ip=,
#                                     labvirt.dhcp=1, labvirt.ping=ADDR, labvirt.screen=WORD,
#                                     labvirt.alias=ADDR/LEN, labvirt.agent=1)
#   e2e_write_fault_lab               the three-guest tiny lab 'flt' of the fault tests
#   e2e_daemon_start / e2e_daemon_stop
#                                     private libvirtd + virtlogd in their own network and
#                                     mount namespaces (tmpfs over libvirt's state dirs)
#   e2e_in_ns CMD...                  run CMD inside that daemon's namespaces
#   e2e_netns_only_start / e2e_netns_only_stop / e2e_in_netns CMD...
#                                     only a network namespace (embedded libvirt driver)
#   e2e_console_expect [opts] REGEX -- CMD...
#                                     drive a console client, wait for REGEX
#   e2e_inventory RUNNER URI [DIR]    sorted list of what exists (before/after compare)
#   e2e_ok / e2e_not_ok / e2e_check / e2e_summary
#                                     TAP-like result lines and the final count
#
# Network rule: everything here lives in a network namespace made by this file; no
# bridge is ever attached to a real interface.

E2E_NS=""              # name of our network namespace
E2E_HOLDER_PID=""      # process that keeps the daemon's mount namespace alive
E2E_DAEMON_DIR=""      # scratch dir of the daemon (ready flag, staging)
E2E_MADE_RUN_LIBVIRT=0 # 1 if we had to create /run/libvirt as a mount point
E2E_CONSOLE_PID=""     # console client of a running e2e_console_expect
E2E_PASSED=0
E2E_FAILED=0

# Bump when the guest image recipe changes, so that cached images are rebuilt.
E2E_IMAGE_RECIPE=5

e2e_log() { printf '# %s\n' "$*" >&2; }

e2e_now() { printf '%s\n' "$EPOCHREALTIME"; }

# e2e_elapsed START -> seconds since START with one decimal
e2e_elapsed() {
	local now=$EPOCHREALTIME
	awk -v a="$1" -v b="$now" 'BEGIN { printf "%.1f\n", b - a }'
}

# ---------------------------------------------------------------------------
# Results

e2e_ok() {
	E2E_PASSED=$((E2E_PASSED + 1))
	printf 'ok - %s\n' "$*"
}

e2e_not_ok() {
	E2E_FAILED=$((E2E_FAILED + 1))
	printf 'not ok - %s\n' "$*"
}

# e2e_check DESCRIPTION CMD... : "ok" if CMD succeeds, else "not ok" and returns 1.
# CMD's standard output goes to standard error: standard output carries results only.
e2e_check() {
	local desc=$1
	shift
	if "$@" >&2; then
		e2e_ok "$desc"
	else
		e2e_not_ok "$desc"
		return 1
	fi
}

# Prints "N passed, N failed"; returns 1 if anything failed.
e2e_summary() {
	printf '%d passed, %d failed\n' "$E2E_PASSED" "$E2E_FAILED"
	[ "$E2E_FAILED" -eq 0 ]
}

# ---------------------------------------------------------------------------
# Guest image

# Newest /boot/vmlinuz-VERSION that has /lib/modules/VERSION; prints VERSION.
e2e_guest_kernel_version() {
	local k v best=""
	for k in /boot/vmlinuz-*; do
		[ -f "$k" ] || continue
		v=${k#/boot/vmlinuz-}
		[ -f "/lib/modules/$v/modules.dep" ] || continue
		if [ -z "$best" ] || [ "$(printf '%s\n%s\n' "$best" "$v" | sort -V | tail -n 1)" = "$v" ]; then
			best=$v
		fi
	done
	[ -n "$best" ] || return 1
	printf '%s\n' "$best"
}

# _e2e_mod_path KVER NAME -> path (relative to /lib/modules/KVER) of module NAME, or
# nothing if it is built in or absent.
_e2e_mod_path() {
	local dep="/lib/modules/$1/modules.dep" name=$2 alt
	alt=${name//_/-}
	awk -F: -v a="$name" -v b="$alt" '{
		n = $1; sub(/.*\//, "", n); sub(/\.ko(\.(xz|zst|gz))?$/, "", n)
		if (n == a || n == b) { print $1; exit }
	}' "$dep"
}

# _e2e_mod_deps KVER PATH -> the dependencies of PATH listed in modules.dep
_e2e_mod_deps() {
	awk -F: -v p="$2" '$1 == p { print $2; exit }' "/lib/modules/$1/modules.dep"
}

# _e2e_mod_add KVER PATH: appends PATH to _e2e_mod_order after its dependencies.
_e2e_mod_add() {
	local kver=$1 path=$2 d seen
	for seen in "${_e2e_mod_order[@]}"; do
		[ "$seen" = "$path" ] && return 0
	done
	for d in $(_e2e_mod_deps "$kver" "$path"); do
		_e2e_mod_add "$kver" "$d"
	done
	_e2e_mod_order+=("$path")
}

# The guest's /init (busybox sh). Settings come from the kernel command line.
_e2e_guest_init() {
	cat <<'EOF'
#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /run /tmp
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run

# Modules, already in dependency order; built-in or missing ones are simply absent.
while read -r m; do
	insmod "/lib/modules/$m" 2>/dev/null
done </etc/modules.order

name=guest
addr=
dhcp=
screen=
pingto=
alias=
agent=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	labvirt.name=*) name=${arg#labvirt.name=} ;;
	labvirt.ip=*) addr=${arg#labvirt.ip=} ;;
	labvirt.dhcp=1) dhcp=1 ;;
	labvirt.screen=*) screen=${arg#labvirt.screen=} ;;
	labvirt.ping=*) pingto=${arg#labvirt.ping=} ;;
	labvirt.alias=*) alias=${arg#labvirt.alias=} ;;
	labvirt.agent=1) agent=1 ;;
	esac
done
hostname "$name"
ip link set lo up
if [ -n "$addr" ]; then
	i=0
	while [ ! -e /sys/class/net/eth0 ] && [ "$i" -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	ip addr add "$addr" dev eth0 && ip link set eth0 up
fi
# labvirt.dhcp=1: an address for eth0 from DHCP (busybox udhcpc, in the background).
if [ "$dhcp" = 1 ]; then
	printf '#!/bin/sh\n[ "$1" = bound ] && ip addr add "$ip/$mask" dev "$interface"\nexit 0\n' >/run/udhcpc.sh
	chmod 0755 /run/udhcpc.sh
	ip link set eth0 up && udhcpc -b -q -i eth0 -s /run/udhcpc.sh >/dev/null 2>&1
fi
# labvirt.alias=ADDR/LEN: a second address on eth0, which only the guest knows (the host
# sees no packet from it): what its guest agent reports.
if [ -n "$alias" ]; then
	i=0
	while [ ! -e /sys/class/net/eth0 ] && [ "$i" -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	ip addr add "$alias" dev eth0
fi
# labvirt.agent=1: qemu-ga (if the image has it) on the virtio port that libvirt names
# org.qemu.guest_agent.0; there is no udev to make the /dev/virtio-ports/ link.
if [ "$agent" = 1 ] && [ -x /usr/sbin/qemu-ga ]; then
	insmod /lib/modules/virtio_console.ko 2>/dev/null
	port=
	i=0
	while [ -z "$port" ] && [ "$i" -lt 100 ]; do
		for f in /sys/class/virtio-ports/*/name; do
			[ "$(cat "$f" 2>/dev/null)" = org.qemu.guest_agent.0 ] || continue
			port=${f%/name}
			port=${port##*/}
		done
		[ -n "$port" ] && [ -e "/dev/$port" ] && break
		port=
		sleep 0.1
		i=$((i + 1))
	done
	if [ -n "$port" ]; then
		mkdir -p /dev/virtio-ports /var/run
		ln -sf "/dev/$port" /dev/virtio-ports/org.qemu.guest_agent.0
		LD_LIBRARY_PATH=/lib/x86_64-linux-gnu /usr/sbin/qemu-ga -d -m virtio-serial \
			-p /dev/virtio-ports/org.qemu.guest_agent.0 -t /run -f /run/qemu-ga.pid \
			-l /run/qemu-ga.log
	else
		echo "labvirt.agent=1: no virtio port org.qemu.guest_agent.0" >/run/qemu-ga.log
	fi
fi
# labvirt.ping=ADDR: keep pinging ADDR, so that the host sees this guest.
[ -n "$pingto" ] && ping "$pingto" >/dev/null 2>&1 &
# labvirt.screen=WORD: a white screen with WORD on it on the VGA console, painted again
# every 2 seconds (no blanking; whatever else wrote to tty1 is covered) until poweroff.
if [ -n "$screen" ] && [ -e /dev/tty1 ]; then
	(
		while true; do
			printf '\033[9;0]\033[13]\033[?25l\033[47;30m\033[H'
			i=0
			while [ "$i" -lt 10 ]; do
				printf '  %s %s %s %s\033[K\n' "$screen" "$name" "$screen" "$name"
				i=$((i + 1))
			done
			printf '\033[J'
			sleep 2
		done >/dev/tty1 2>/dev/null
	) &
fi

disk=none
if [ -r /sys/block/vda/size ]; then
	disk=$(($(cat /sys/block/vda/size) * 512))
fi

# A clean shutdown on the ACPI power button (labvirt down), if the modules are here.
mkdir -p /etc/acpi/PWRF
printf '#!/bin/sh\nsync\npoweroff -f\n' >/etc/acpi/PWRF/00000080
chmod 0755 /etc/acpi/PWRF/00000080
ls /dev/input/event* >/dev/null 2>&1 && acpid -l /run/acpid.log -p /run/acpid.pid

dmesg -n 1
echo "LABVIRT-BOOT-OK name=$name disk=$disk" >/run/marker
cat /run/marker >/dev/ttyS0

export PS1="$name# "
export HOME=/
while true; do
	setsid sh -c 'exec sh -i </dev/ttyS0 >/dev/ttyS0 2>&1'
	sleep 1
done
EOF
}

# e2e_copy_bin ROOT SRC DST [TREE]: program SRC at ROOT/DST, with the shared libraries
# it needs at their own paths below ROOT (for an initramfs); TREE is a staged root whose
# libraries (TREE/lib/x86_64-linux-gnu) are found first and taken from there.
e2e_copy_bin() {
	local root=$1 src dst=$3 tree=${4:-} lib from
	src=$(realpath "$2")
	mkdir -p "$root$(dirname "$dst")"
	cp "$src" "$root$dst"
	for lib in $(LD_LIBRARY_PATH=${tree:+$tree/lib/x86_64-linux-gnu} ldd "$src" 2>/dev/null |
		awk '/=> \// { print $3 } /^\t\// { print $1 }'); do
		from=$lib
		[ -n "$tree" ] && [ "${lib#"$tree"/}" != "$lib" ] && lib=/${lib#"$tree"/}
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$from" "$root$lib"
	done
}

# e2e_test_guest_boot DIR KERNEL MEM TIMEOUT [APPEND]: boots a test guest under TCG from
# KERNEL and DIR/initrd.img (its /init runs a test program and powers off), its console
# in DIR/console.txt; returns QEMU's exit status.
e2e_test_guest_boot() {
	local dir=$1 kernel=$2 mem=$3 limit=$4 append=${5:-} boot rc
	boot=$(e2e_now)
	timeout "$limit" qemu-system-x86_64 -accel tcg -m "$mem" -smp 1 -nodefaults -display none \
		-kernel "$kernel" -initrd "$dir/initrd.img" \
		-append "console=ttyS0 panic=-1 quiet $append" \
		-serial "file:$dir/console.log" -no-reboot </dev/null >"$dir/qemu.log" 2>&1
	rc=$?
	e2e_log "guest boot + test: $(e2e_elapsed "$boot") s (qemu exit $rc)"
	tr -d '\r' <"$dir/console.log" >"$dir/console.txt"
	return "$rc"
}

# e2e_test_guest_results DIR PREFIX SETUP: the test program's "ok"/"not ok" lines from
# DIR/console.txt, whose /init printed PREFIX-SETUP-OK once its storage was set up (the
# check SETUP) and PREFIX-DONE rc=N after the program; "# " lines go to the log. A
# program that exits non-zero without a failed test crashed: that fails too.
e2e_test_guest_results() {
	local con=$1/console.txt prefix=$2 line rc
	grep '^# ' "$con" >&2
	while IFS= read -r line; do
		case $line in
		"ok - "*) e2e_ok "${line#ok - }" ;;
		"not ok - "*) e2e_not_ok "${line#not ok - }" ;;
		esac
	done <"$con"
	if ! e2e_check "$3" grep -q "^$prefix-SETUP-OK" "$con" ||
		! e2e_check "the test program ran to its end" grep -q "^$prefix-DONE rc=" "$con"; then
		tail -n 40 "$con" >&2
		return
	fi
	rc=$(sed -n "s/^$prefix-DONE rc=//p" "$con" | head -n 1)
	if [ "$rc" != 0 ] && ! grep -q '^not ok - ' "$con"; then
		e2e_not_ok "the test program exited $rc without a failed test"
	fi
}

# e2e_build_guest_image OUTDIR: makes OUTDIR/vmlinuz and OUTDIR/initrd.img once; later
# calls reuse them unless the kernel or the recipe changed.
e2e_build_guest_image() {
	local out=$1 kver stamp busybox stage m path src dst a qga lib
	kver=$(e2e_guest_kernel_version) || {
		e2e_log "no /boot/vmlinuz-* with matching /lib/modules"
		return 1
	}
	qga=$(command -v qemu-ga || true) # the guest agent, when the host has it installed
	stamp="recipe=$E2E_IMAGE_RECIPE kernel=$kver init=$(_e2e_guest_init | md5sum | cut -d' ' -f1) agent=${qga:-none}"
	if [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] &&
		[ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
		return 0
	fi
	busybox=$(command -v busybox) || {
		e2e_log "busybox not found"
		return 1
	}
	if ldd "$busybox" >/dev/null 2>&1; then # dynamic: useless in the initrd
		e2e_log "$busybox is not static (install busybox-static)"
		return 1
	fi
	mkdir -p "$out" && chmod 0755 "$out" || return 1
	# One builder at a time; a concurrent one may have built it meanwhile.
	local lock
	exec {lock}>"$out/.lock"
	flock "$lock"
	if [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] &&
		[ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
		exec {lock}>&-
		return 0
	fi
	e2e_log "building guest image in $out (kernel $kver)"
	stage=$(mktemp -d "$out/.stage.XXXXXX")
	(
		set -euo pipefail
		cd "$stage"
		mkdir -p root/bin root/sbin root/dev root/proc root/sys root/etc root/lib/modules root/run root/tmp
		cp "$busybox" root/bin/busybox
		for a in $("$busybox" --list); do
			[ "$a" = busybox ] || ln -s busybox "root/bin/$a"
		done
		ln -s ../bin/busybox root/sbin/init
		mknod root/dev/console c 5 1
		mknod root/dev/null c 1 3
		mknod root/dev/ttyS0 c 4 64

		# virtio_scsi, sd_mod and e1000: the scsi disks and e1000 nics of Proxmox's
		# configs (pve-boot.sh); the TPM drivers are built into Debian's kernel.
		_e2e_mod_order=()
		for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
			failover net_failover virtio_net virtio_blk button evdev virtio_scsi sd_mod e1000; do
			path=$(_e2e_mod_path "$kver" "$m")
			if [ -z "$path" ]; then
				e2e_log "module $m: built in or absent, skipped"
				continue
			fi
			_e2e_mod_add "$kver" "$path"
		done
		: >root/etc/modules.order
		for path in "${_e2e_mod_order[@]}"; do
			src="/lib/modules/$kver/$path"
			dst=${path##*/}
			case "$src" in
			*.ko.xz) xz -dc "$src" >"root/lib/modules/${dst%.xz}"; dst=${dst%.xz} ;;
			*.ko.zst) zstd -qdc "$src" >"root/lib/modules/${dst%.zst}"; dst=${dst%.zst} ;;
			*.ko.gz) gzip -dc "$src" >"root/lib/modules/${dst%.gz}"; dst=${dst%.gz} ;;
			*) cp "$src" "root/lib/modules/$dst" ;;
			esac
			printf '%s\n' "$dst" >>root/etc/modules.order
		done
		# The guest agent (labvirt.agent=1): qemu-ga, its libraries and the loader, and
		# virtio_console (loaded only then).
		if [ -n "$qga" ]; then
			mkdir -p root/usr/sbin root/lib/x86_64-linux-gnu root/lib64
			cp -L "$qga" root/usr/sbin/qemu-ga
			for lib in $(ldd "$qga" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
				cp -L "$lib" "root/lib/x86_64-linux-gnu/${lib##*/}"
			done
			cp -L /lib64/ld-linux-x86-64.so.2 root/lib64/
			path=$(_e2e_mod_path "$kver" virtio_console)
			src="/lib/modules/$kver/$path"
			[ -n "$path" ] || src=none # built in
			case "$src" in
			none) ;;
			*.ko.xz) xz -dc "$src" >root/lib/modules/virtio_console.ko ;;
			*.ko.zst) zstd -qdc "$src" >root/lib/modules/virtio_console.ko ;;
			*.ko.gz) gzip -dc "$src" >root/lib/modules/virtio_console.ko ;;
			*) cp "$src" root/lib/modules/virtio_console.ko ;;
			esac
		else
			e2e_log "qemu-ga not installed (qemu-guest-agent): the image has no guest agent"
		fi

		_e2e_guest_init >root/init
		chmod 0755 root/init
		(cd root && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) |
			gzip -9 >initrd.img
		cp "/boot/vmlinuz-$kver" vmlinuz
		chmod 0644 vmlinuz initrd.img
	) || {
		rm -rf "$stage"
		exec {lock}>&-
		return 1
	}
	rm -f "$out/stamp"
	mv -f "$stage/vmlinuz" "$out/vmlinuz"
	mv -f "$stage/initrd.img" "$out/initrd.img"
	printf '%s\n' "$stamp" >"$out/stamp"
	rm -rf "$stage"
	exec {lock}>&-
}

# ---------------------------------------------------------------------------
# Processes and namespaces

# _e2e_kill_pids SIGNAL PID...: signal each pid that still exists
_e2e_kill_pids() {
	local sig=$1 p
	shift
	for p in "$@"; do
		kill "-$sig" "$p" 2>/dev/null || true
	done
}

# _e2e_alive PID: the process has a thread that is not a zombie yet (a process that is
# exiting may have left its namespaces while its other threads still run)
_e2e_alive() {
	local f stat
	for f in /proc/"$1"/task/*/stat; do
		stat=$(cat "$f" 2>/dev/null) || continue
		stat=${stat##*) }
		case ${stat%% *} in Z | X) ;; *) return 0 ;; esac
	done
	return 1
}

# _e2e_any_alive PID...: some of them is alive
_e2e_any_alive() {
	local p
	for p in "$@"; do
		_e2e_alive "$p" && return 0
	done
	return 1
}

# e2e_kill_tree PID: TERM, then KILL, PID and its descendants (by pid, children first).
e2e_kill_tree() {
	local pids=() p left
	_e2e_tree "$1"
	[ "${#pids[@]}" -gt 0 ] || return 0
	_e2e_kill_pids TERM "${pids[@]}"
	for _ in $(seq 50); do
		left=""
		for p in "${pids[@]}"; do
			_e2e_alive "$p" && left=$p
		done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	_e2e_kill_pids KILL "${pids[@]}"
}

_e2e_tree() {
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		_e2e_tree "$c"
	done
	_e2e_alive "$1" && pids+=("$1")
	return 0
}

# e2e_netns_pids [NS]: pids of all processes in our (or that) network namespace
e2e_netns_pids() {
	local ns=${1:-$E2E_NS}
	[ -n "$ns" ] || return 0
	ip netns pids "$ns" 2>/dev/null || true
}

# _e2e_netns_kill_all [NS]: end every process in our network namespace (all are ours),
# and wait until they are really gone.
_e2e_netns_kill_all() {
	local ns=${1:-$E2E_NS} p
	local -a seen=()
	for p in $(e2e_netns_pids "$ns"); do seen+=("$p"); done
	[ "${#seen[@]}" -gt 0 ] || return 0
	_e2e_kill_pids TERM "${seen[@]}"
	for _ in $(seq 100); do
		for p in $(e2e_netns_pids "$ns"); do seen+=("$p"); done # forked meanwhile
		_e2e_any_alive "${seen[@]}" || return 0
		sleep 0.1
	done
	_e2e_kill_pids KILL "${seen[@]}"
	for _ in $(seq 50); do
		_e2e_any_alive "${seen[@]}" || return 0
		sleep 0.1
	done
	e2e_log "processes left in netns $ns: $(e2e_netns_pids "$ns" | tr '\n' ' ')"
}

# Leftovers of an earlier run that was killed outright (SIGKILL: no trap could run): a
# netns labvirt-e2e-PID whose PID is gone. What runs in it is that run's daemons and
# guests; ending them also frees its mount namespace and tmpfs.
_e2e_reap_stale() {
	local ns
	for ns in $(ip netns list | awk '$1 ~ /^labvirt-e2e-[0-9]+$/ { print $1 }'); do
		[ -d "/proc/${ns#labvirt-e2e-}" ] && continue
		e2e_log "removing netns $ns, left by an earlier run that was killed"
		_e2e_netns_kill_all "$ns"
		ip netns del "$ns" 2>/dev/null || true
	done
}

_e2e_netns_create() {
	_e2e_reap_stale
	E2E_NS="labvirt-e2e-$$"
	if [ -e "/var/run/netns/$E2E_NS" ]; then
		e2e_log "netns $E2E_NS already exists"
		return 1
	fi
	ip netns add "$E2E_NS" || return 1
	ip -n "$E2E_NS" link set lo up
}

_e2e_netns_delete() {
	[ -n "$E2E_NS" ] || return 0
	_e2e_netns_kill_all
	ip netns del "$E2E_NS" 2>/dev/null || true
	E2E_NS=""
}

e2e_netns_only_start() {
	_e2e_netns_create || return 1
	if [ ! -d /run/libvirt ]; then
		mkdir /run/libvirt || return 1 # a mount point only; see e2e_in_netns
		E2E_MADE_RUN_LIBVIRT=1
	fi
}

e2e_netns_only_stop() {
	_e2e_netns_delete
	if [ "$E2E_MADE_RUN_LIBVIRT" = 1 ]; then
		rmdir /run/libvirt 2>/dev/null || true
		E2E_MADE_RUN_LIBVIRT=0
	fi
}

# e2e_in_netns CMD...: CMD in our network namespace, with a matching /sys (ip netns
# exec gives it a mount namespace of its own) and an empty /run/libvirt: no libvirt
# daemon of the host can be reached from there, and what libvirt's embedded driver
# keeps in /run/libvirt (hostdevmgr/, common/) does not land on the host.
e2e_in_netns() {
	# shellcheck disable=SC2016 # expanded by that sh
	ip netns exec "$E2E_NS" sh -c \
		'mount -t tmpfs -o mode=0755 tmpfs /run/libvirt || exit 125; exec "$@"' sh "$@"
}

# e2e_in_ns CMD...: CMD in the private daemon's mount and network namespaces
e2e_in_ns() {
	nsenter --mount="/proc/$E2E_HOLDER_PID/ns/mnt" --net="/var/run/netns/$E2E_NS" -- "$@"
}

# The daemon side, run by sh inside the new namespaces. $1 = scratch dir.
# shellcheck disable=SC2016 # expanded by that sh, not here
_E2E_DAEMON_SCRIPT='
set -e
dir=$1
for d in /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
	mount -t tmpfs -o mode=0755 tmpfs "$d"
done
# /etc/libvirt: a copy of the host config without any persistent definition, so that
# the daemon never writes to the host (it creates storage/, secrets/, ... on start).
mkdir "$dir/etc"
mount -t tmpfs -o mode=0755 tmpfs "$dir/etc"
cp -a /etc/libvirt/. "$dir/etc/"
rm -rf "$dir/etc/qemu" "$dir/etc/lxc" "$dir/etc/storage" "$dir/etc/secrets"
mkdir -p "$dir/etc/qemu" "$dir/etc/lxc"
mount --move "$dir/etc" /etc/libvirt
mount -t tmpfs -o mode=0755 tmpfs /etc/libvirt/qemu
mount -t tmpfs -o mode=0755 tmpfs /etc/libvirt/lxc
# For containers ($2 = cgroups): ip netns exec gave us a fresh /sys without the
# host'"'"'s cgroup mounts; the v1 hierarchies come back (the same hierarchies, so
# libvirt'"'"'s LXC driver has its cgroup backend), the cgroup2 mount of a hybrid
# host does not: libvirt 9.0 cannot start a container while it sees both.
if [ "${2:-}" = cgroups ] && ! mountpoint -q /sys/fs/cgroup; then
	mount -t tmpfs -o mode=0755 cgroup /sys/fs/cgroup
	awk '"'"'$3 == "cgroup" { print $2, $4 }'"'"' /proc/1/mounts | while read -r d o; do
		mkdir -p "$d" && mount -t cgroup -o "$o" cgroup "$d"
	done
fi
mkdir -p /var/log/libvirt/qemu
export LIBVIRT_LOG_OUTPUTS="3:file:/var/log/libvirt/libvirtd.log"
virtlogd -d -p /run/libvirt/virtlogd.pid
libvirtd -d -p /run/libvirt/libvirtd.pid
echo ready >"$dir/ready"
exec sleep infinity
'

# e2e_daemon_start [cgroups]: private libvirtd; sets E2E_NS, E2E_HOLDER_PID. With
# cgroups, the daemon sees the host's cgroup v1 hierarchies (its LXC driver needs them).
e2e_daemon_start() {
	local cgroups=${1:-}
	_e2e_netns_create || return 1
	E2E_DAEMON_DIR=$(mktemp -d /tmp/labvirt-e2e-daemon.XXXXXX) || return 1
	if [ ! -d /run/libvirt ]; then
		mkdir /run/libvirt || return 1 # a mount point only; removed by e2e_daemon_stop
		E2E_MADE_RUN_LIBVIRT=1
	fi
	# ip netns exec execs unshare, which execs sh, which execs sleep: one pid.
	ip netns exec "$E2E_NS" unshare -m --propagation private \
		sh -c "$_E2E_DAEMON_SCRIPT" sh "$E2E_DAEMON_DIR" "$cgroups" \
		</dev/null >"$E2E_DAEMON_DIR/holder.log" 2>&1 &
	E2E_HOLDER_PID=$!
	for _ in $(seq 300); do
		[ -f "$E2E_DAEMON_DIR/ready" ] && break
		if ! _e2e_alive "$E2E_HOLDER_PID"; then
			e2e_log "daemon holder died: $(cat "$E2E_DAEMON_DIR/holder.log")"
			return 1
		fi
		sleep 0.1
	done
	[ -f "$E2E_DAEMON_DIR/ready" ] || {
		e2e_log "daemon holder not ready: $(cat "$E2E_DAEMON_DIR/holder.log")"
		return 1
	}
	for _ in $(seq 300); do
		if e2e_in_ns virsh -c qemu:///system version >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	e2e_log "libvirtd does not answer"
	e2e_daemon_dump_logs
	return 1
}

# e2e_daemon_dump_logs: tails of the private daemon's logs, to stderr
e2e_daemon_dump_logs() {
	[ -n "$E2E_HOLDER_PID" ] && [ -d "/proc/$E2E_HOLDER_PID" ] || return 0
	# shellcheck disable=SC2016 # expanded by that sh
	e2e_in_ns sh -c '
		for f in /var/log/libvirt/libvirtd.log /var/log/libvirt/qemu/*.log; do
			[ -f "$f" ] || continue
			echo "## $f"
			tail -n 30 "$f"
		done' 2>&1 | sed 's/^/#   /' >&2 || true
}

# e2e_virsh_cleanup RUNNER URI: destroy and undefine every domain and network there
e2e_virsh_cleanup() {
	local run=$1 uri=$2 d n
	for d in $("$run" timeout 60 virsh -q -c "$uri" list --all --name 2>/dev/null); do
		"$run" timeout 60 virsh -q -c "$uri" destroy "$d" >/dev/null 2>&1 || true
		"$run" timeout 60 virsh -q -c "$uri" undefine --nvram "$d" >/dev/null 2>&1 ||
			"$run" timeout 60 virsh -q -c "$uri" undefine "$d" >/dev/null 2>&1 || true
	done
	for n in $("$run" timeout 60 virsh -q -c "$uri" net-list --all --name 2>/dev/null); do
		"$run" timeout 60 virsh -q -c "$uri" net-destroy "$n" >/dev/null 2>&1 || true
		"$run" timeout 60 virsh -q -c "$uri" net-undefine "$n" >/dev/null 2>&1 || true
	done
}

# e2e_daemon_stop: stop guests, daemons and the holder; delete the netns. Idempotent.
e2e_daemon_stop() {
	if [ -n "$E2E_HOLDER_PID" ] && [ -d "/proc/$E2E_HOLDER_PID" ] && [ -n "$E2E_NS" ]; then
		# Gracefully first, so that libvirt gives files their owners back.
		e2e_virsh_cleanup e2e_in_ns qemu:///system
		# Containers live in network namespaces of their own: ending the daemon's
		# would leave them running, so they are destroyed while it still answers.
		e2e_virsh_cleanup e2e_in_ns lxc:///system
	fi
	_e2e_netns_delete # every process of the daemon lives in the netns
	if [ -n "$E2E_HOLDER_PID" ]; then
		kill -KILL "$E2E_HOLDER_PID" 2>/dev/null || true
		wait "$E2E_HOLDER_PID" 2>/dev/null || true
		E2E_HOLDER_PID=""
	fi
	if [ "$E2E_MADE_RUN_LIBVIRT" = 1 ]; then
		rmdir /run/libvirt 2>/dev/null || true
		E2E_MADE_RUN_LIBVIRT=0
	fi
	if [ -n "$E2E_DAEMON_DIR" ]; then
		rm -rf "$E2E_DAEMON_DIR"
		E2E_DAEMON_DIR=""
	fi
}

# e2e_libvirtd_stop: stops the private libvirtd alone (virtlogd and the guests' QEMU
# go on), as when the daemon goes away in the middle of a labvirt run.
e2e_libvirtd_stop() {
	local pid
	pid=$(e2e_in_ns cat /run/libvirt/libvirtd.pid) || return 1
	kill "$pid" || return 1 # the namespaces share the host's pids
	while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

# e2e_libvirtd_start: starts the private libvirtd again and waits until it answers.
e2e_libvirtd_start() {
	e2e_in_ns env LIBVIRT_LOG_OUTPUTS="3:file:/var/log/libvirt/libvirtd.log" \
		libvirtd -d -p /run/libvirt/libvirtd.pid || return 1
	for _ in $(seq 300); do
		e2e_in_ns virsh -c qemu:///system version >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# ---------------------------------------------------------------------------
# Console

# _e2e_read_available FD: appends what FD has to read now to the caller's buf (carriage
# returns dropped), or sleeps a little if nothing; sets _e2e_eof=1 at end of file.
# No `read -t N` here: a trap that exits the script while such a read waits leaves
# bash's timer armed, and bash then aborts ("longjmp causes uninitialized stack
# frame") in the middle of the cleanup.
_e2e_read_available() {
	local c n=0
	while [ "$n" -lt 65536 ] && read -r -t 0 -u "$1"; do
		if ! IFS= read -r -N 1 -u "$1" c; then
			_e2e_eof=1
			return 0
		fi
		[ "$c" = $'\r' ] || buf+=$c
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || sleep 0.2
}

# e2e_console_expect [-t WAIT] [-r EVERY] [-p POKE]... [-w READY] [-s LINE]... [-q QUIT]
#                    REGEX -- CMD [ARG...]
#   Starts CMD (a console client: stdin to the guest, guest output to stdout) as a
#   coprocess and reads its output until the extended REGEX matches, or WAIT seconds
#   (default 120; a bound on the wait, not a timing assertion) have passed.
#   Input: each POKE line is written at once and again every EVERY seconds (default 3)
#   until the output matches READY (if given) or REGEX; each LINE is written once, when
#   READY has matched (at once if there is no READY). Pokes are for things that may get
#   lost while the guest boots or the client attaches ('' and 'cat /run/marker');
#   lines are for commands that must run once ('ping ...').
#   Then QUIT is written (if any; virsh console's ^]) and the input is closed, so that
#   CMD exits (it is killed if it has not after a while).
#   Returns 0 on a match, 1 otherwise (and prints the output seen to stderr). The output
#   is left in E2E_CONSOLE_OUTPUT, without carriage returns.
e2e_console_expect() {
	local wait=120 every=3 quit="" ready="" regex opt
	local -a pokes=() lines=()
	OPTIND=1
	while getopts 't:r:p:w:s:q:' opt; do
		case $opt in
		t) wait=$OPTARG ;;
		r) every=$OPTARG ;;
		p) pokes+=("$OPTARG") ;;
		w) ready=$OPTARG ;;
		s) lines+=("$OPTARG") ;;
		q) quit=$OPTARG ;;
		*) return 2 ;;
		esac
	done
	shift $((OPTIND - 1))
	regex=$1
	shift
	[ "${1-}" = -- ] && shift
	[ $# -gt 0 ] || {
		e2e_log "e2e_console_expect: no command"
		return 2
	}

	local rfd wfd pid buf="" matched=1 start last_poke now l deadline is_ready sent
	_e2e_eof=0
	coproc E2E_CON { "$@" 2>&1; }
	pid=$E2E_CON_PID
	E2E_CONSOLE_PID=$pid
	# Own copies: bash closes the coproc's fds as soon as it exits.
	if [ -z "${E2E_CON[0]-}" ] || [ -z "${E2E_CON[1]-}" ]; then
		e2e_log "console client exited at once: $*"
		wait "$pid" 2>/dev/null || true
		return 1
	fi
	exec {rfd}<&"${E2E_CON[0]}" {wfd}>&"${E2E_CON[1]}"
	l=${E2E_CON[0]}
	exec {l}<&-
	l=${E2E_CON[1]}
	exec {l}>&- # else closing wfd would not end the client's input
	start=$SECONDS
	last_poke=-1
	is_ready=0
	[ -z "$ready" ] && is_ready=1
	sent=0
	while :; do
		now=$SECONDS
		if [ "$is_ready" -eq 0 ] && [[ $buf =~ $ready ]]; then
			is_ready=1
		fi
		if [ "${#pokes[@]}" -gt 0 ] && { [ -z "$ready" ] || [ "$is_ready" -eq 0 ]; } &&
			{ [ "$last_poke" -lt 0 ] || [ $((now - last_poke)) -ge "$every" ]; }; then
			for l in "${pokes[@]}"; do
				printf '%s\n' "$l" 1>&"$wfd" 2>/dev/null || true
			done
			last_poke=$now
		fi
		if [ "$is_ready" -eq 1 ] && [ "$sent" -eq 0 ]; then
			for l in "${lines[@]}"; do
				printf '%s\n' "$l" 1>&"$wfd" 2>/dev/null || true
			done
			sent=1
		fi
		_e2e_read_available "$rfd"
		if [[ $buf =~ $regex ]]; then
			matched=0
			break
		fi
		[ "$_e2e_eof" -eq 0 ] || break # the client is gone
		[ $((SECONDS - start)) -lt "$wait" ] || break
	done
	[ -n "$quit" ] && { printf '%s' "$quit" 1>&"$wfd" 2>/dev/null || true; }
	exec {wfd}>&-
	# Let it finish on its own (bounded: until its output ends), then make sure.
	deadline=$((SECONDS + 10))
	while [ "$_e2e_eof" -eq 0 ] && [ "$SECONDS" -lt "$deadline" ]; do
		_e2e_read_available "$rfd"
	done
	if [ "$_e2e_eof" -eq 0 ]; then
		e2e_log "console client still running 10s after its input was closed: killed"
	fi
	e2e_kill_tree "$pid"
	exec {rfd}<&-
	wait "$pid" 2>/dev/null || true
	E2E_CONSOLE_PID=""
	# shellcheck disable=SC2034 # for the caller
	E2E_CONSOLE_OUTPUT=$buf
	if [ "$matched" -ne 0 ]; then
		e2e_log "no match for /$regex/ within ${wait}s; console output was:"
		printf '%s\n' "$buf" | tail -n 40 | sed 's/^/#   | /' >&2
	fi
	return "$matched"
}

# e2e_console_abort: ends the console client of an e2e_console_expect that a signal
# interrupted (for cleanup handlers).
e2e_console_abort() {
	[ -n "$E2E_CONSOLE_PID" ] || return 0
	e2e_kill_tree "$E2E_CONSOLE_PID"
	E2E_CONSOLE_PID=""
}

# ---------------------------------------------------------------------------
# Inventory

# _e2e_virsh RUNNER URI ARGS...: virsh, its standard output in _E2E_VIRSH_OUT and its
# standard error in _E2E_VIRSH_ERR; run once more (up to 3 tries) when it dies of a
# signal. With the embedded driver, virsh runs libvirt's QEMU driver in its own process
# and can crash as it shuts that down, after printing its answer (seen once, a SIGSEGV
# after a complete list, in kill-embed): most likely the race labvirt avoids by waiting
# for the driver's threads that reconnect to the running guests' QEMUs before it closes
# (src/adapters/virt/conn.c, embed_wait_reconnect), which virsh does not. Each crash is said
# on stderr.
_e2e_virsh() {
	local run=$1 uri=$2 rc try errf
	shift 2
	errf=$(mktemp /tmp/labvirt-e2e-virsh.XXXXXX) || return 1
	for try in 1 2 3; do
		_E2E_VIRSH_OUT=$("$run" virsh -q -c "$uri" "$@" 2>"$errf")
		rc=$?
		[ "$rc" -lt 128 ] && break
		e2e_log "virsh $* died of signal $((rc - 128)) (try $try of 3)"
	done
	_E2E_VIRSH_ERR=$(cat "$errf")
	rm -f "$errf"
	return "$rc"
}

# Networks, if the driver has any (libvirt's embedded QEMU driver has none).
_e2e_inventory_networks() {
	if _e2e_virsh "$1" "$2" net-list --all --name; then
		printf '%s\n' "$_E2E_VIRSH_OUT" | sed '/^$/d; s/^/network /'
	elif ! grep -q 'not supported by the connection driver' <<<"$_E2E_VIRSH_ERR"; then
		echo "error: cannot list networks: $_E2E_VIRSH_ERR"
	fi
}

# e2e_inventory RUNNER URI [STORAGE_DIR]: sorted lines "domain X", "network X",
# "bridge X", "tap X", "file X". RUNNER is e2e_in_ns or e2e_in_netns. An empty URI
# skips libvirt (say, an embedded driver's root that does not exist yet: connecting
# would create it, with other permissions than labvirt gives it).
e2e_inventory() {
	local run=$1 uri=$2 dir=${3-}
	{
		if [ -n "$uri" ]; then
			if _e2e_virsh "$run" "$uri" list --all --name; then
				printf '%s\n' "$_E2E_VIRSH_OUT" | sed '/^$/d; s/^/domain /'
			else
				echo "error: cannot list domains: $_E2E_VIRSH_ERR"
			fi
			_e2e_inventory_networks "$run" "$uri"
		fi
		ip -n "$E2E_NS" -br link show type bridge | awk '{ sub(/@.*/, "", $1); print "bridge " $1 }' ||
			echo "error: cannot list bridges"
		ip -n "$E2E_NS" -br link show type tun | awk '{ sub(/@.*/, "", $1); print "tap " $1 }' ||
			echo "error: cannot list taps"
		if [ -n "$dir" ] && [ -d "$dir" ]; then
			(cd "$dir" && find . -mindepth 1 -print | sed 's|^\./|file |')
		fi
	} | LC_ALL=C sort
}

# ---------------------------------------------------------------------------
# The common start of a test that drives labvirt against the private daemon

# e2e_daemon_suite NAME: exits 77 where this machine cannot run such a test; makes the
# temp dir T (0755: libvirt's QEMU user opens files below it) with LAB, POOL and GUEST
# paths, sets CACHE, URI and LABVIRT_STATE_DIR, and stops the daemon and removes T on
# exit. The daemon itself is started by the caller (e2e_daemon_start).
e2e_daemon_suite() {
	local prog
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: needs root (network namespaces, libvirt's system driver)"
		exit 77
	fi
	for prog in qemu-system-x86_64 qemu-img virsh ip nsenter unshare busybox cpio gzip libvirtd virtlogd; do
		command -v "$prog" >/dev/null 2>&1 && continue
		echo "SKIP: $prog is not installed"
		exit 77
	done
	if ! e2e_guest_kernel_version >/dev/null; then
		echo "SKIP: no /boot/vmlinuz-* with its /lib/modules"
		exit 77
	fi
	unset LABVIRT_URI LIBVIRT_DEFAULT_URI LIBVIRT_LOG_OUTPUTS LABVIRT_FAIL_STEP
	CACHE=${LABVIRT_E2E_CACHE:-/var/tmp/labvirt-e2e-guest}
	T=$(mktemp -d "/tmp/labvirt-$1.XXXXXX")
	chmod 0755 "$T"
	LAB=$T/lab POOL=$T/pool GUEST=$T/guest
	export LABVIRT_STATE_DIR=$T/state
	URI=qemu:///system
	mkdir -p "$LAB" && mkdir -m 0755 "$POOL"
	trap _e2e_suite_cleanup EXIT
	trap 'exit 130' INT TERM
}

_e2e_suite_cleanup() {
	local rc=$?
	set +e
	e2e_daemon_stop
	rm -rf "$T"
	exit "$rc"
}

# ---------------------------------------------------------------------------
# An Alpine-like disk image for first-boot preparation tests

# Bump when the recipe of e2e_build_alpine_image changes.
E2E_ALPINE_RECIPE=1

# The boot initramfs's /init: loads the virtio and ext4 modules, mounts /dev/vda (the
# guest's disk, a filesystem without partition table) and switch_roots into it.
_e2e_alpine_boot_init() {
	cat <<'EOF2'
#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do
	insmod "/lib/modules/$m" 2>/dev/null
done </etc/modules.order
i=0
while [ ! -b /dev/vda ] && [ "$i" -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
mkdir -p /newroot
if ! mount -t ext4 -o rw /dev/vda /newroot; then
	echo "LABVIRT-BOOT-FAILED: cannot mount /dev/vda" >/dev/ttyS0
	exec sh </dev/ttyS0 >/dev/ttyS0 2>&1
fi
mount --move /dev /newroot/dev
mount --move /sys /newroot/sys
mount --move /proc /newroot/proc
exec switch_root /newroot /sbin/init
EOF2
}

# The image's boot script, run by busybox init (::sysinit:). What it knows of the
# guest comes from the disk as labvirt prepared it: the hostname from /etc/hostname,
# the address from /etc/network/interfaces (busybox ifup -a). Only the peer to ping
# comes from the kernel command line (labvirt.peer=ADDR).
_e2e_alpine_rcs() {
	cat <<'EOF2'
#!/bin/sh
export PATH=/bin:/sbin
mkdir -p /dev/pts /run /tmp
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
dmesg -n 1
[ -s /etc/hostname ] && hostname -F /etc/hostname
peer=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	labvirt.peer=*) peer=${arg#labvirt.peer=} ;;
	esac
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ "$i" -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
ifup -a >/run/ifup.log 2>&1 || echo "LABVIRT-IFUP-FAILED: $(cat /run/ifup.log)" >/dev/console
addr=$(ip -4 -o addr show dev eth0 2>/dev/null | awk '{ print $4; exit }')
echo "LABVIRT-PREP-BOOT hostname=$(hostname) addr=${addr:-none}" >/run/marker
cat /run/marker >/dev/console
# The peer boots at the same time: try for a while (a bound, not a timing check).
if [ -n "$peer" ]; then
	(
		result=unreachable
		i=0
		while [ "$i" -lt 300 ]; do
			if ping -c 1 -W 2 "$peer" >/dev/null 2>&1; then
				result=ok
				break
			fi
			i=$((i + 1))
			sleep 1
		done
		echo "LABVIRT-PREP-PING to=$peer $result" >>/run/marker
		echo "LABVIRT-PREP-PING to=$peer $result" >/dev/console
	) &
fi
EOF2
}

# _e2e_alpine_rootfs DIR: the root filesystem (busybox, Alpine's release files, init).
_e2e_alpine_rootfs() {
	local root=$1 busybox=$2 a d
	mkdir -p "$root"/{bin,sbin,dev,proc,sys,run,tmp,root,home,var/lib,lib/apk/db,etc/init.d}
	for d in if-pre-up.d if-up.d if-down.d if-post-down.d; do
		mkdir -p "$root/etc/network/$d" # busybox ifup runs run-parts on them
	done
	ln -s ../run "$root/var/run" # busybox ifup keeps its state in /var/run/ifstate
	cp "$busybox" "$root/bin/busybox"
	for a in $("$busybox" --list); do
		[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
	done
	ln -s ../bin/busybox "$root/sbin/init"
	echo 3.20.3 >"$root/etc/alpine-release"
	cat >"$root/etc/os-release" <<'EOF2'
NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.20.3
PRETTY_NAME="Alpine Linux v3.20"
HOME_URL="https://alpinelinux.org/"
EOF2
	echo base >"$root/etc/hostname" # labvirt's preparation replaces it
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
	printf 'root:x:0:root\n' >"$root/etc/group"
	printf 'root:*::0:::::\n' >"$root/etc/shadow"
	chmod 0640 "$root/etc/shadow"
	printf '/dev/vda / ext4 rw 0 1\n' >"$root/etc/fstab"
	: >"$root/lib/apk/db/installed"
	cat >"$root/etc/inittab" <<'EOF2'
::sysinit:/etc/init.d/rcS
ttyS0::respawn:-/bin/sh
::ctrlaltdel:/bin/poweroff -f
EOF2
	# shellcheck disable=SC2016 # expanded by the guest's shell
	printf 'export PATH=/bin:/sbin\nexport PS1="$(hostname)# "\n' >"$root/etc/profile"
	_e2e_alpine_rcs >"$root/etc/init.d/rcS"
	chmod 0755 "$root/etc/init.d/rcS"
}

# e2e_build_alpine_image OUTDIR: an Alpine-like guest, built without mounting anything
# on the host: OUTDIR/alpine.qcow2 (an ext4 filesystem made with mkfs.ext4 -d, no
# partition table; libguestfs inspection finds Alpine 3.20 on it), and OUTDIR/vmlinuz
# with OUTDIR/initrd.img (the host's kernel and an initramfs that mounts /dev/vda and
# switch_roots into it; the kernel command line needs console=ttyS0 and may carry
# labvirt.peer=ADDR, which the guest pings). Made once; later calls reuse it unless the
# kernel or the recipe changed.
e2e_build_alpine_image() {
	local out=$1 kver stamp busybox stage m path src dst lock
	kver=$(e2e_guest_kernel_version) || {
		e2e_log "no /boot/vmlinuz-* with matching /lib/modules"
		return 1
	}
	stamp="alpine-recipe=$E2E_ALPINE_RECIPE kernel=$kver init=$({
		_e2e_alpine_boot_init
		_e2e_alpine_rcs
		declare -f _e2e_alpine_rootfs
	} | md5sum | cut -d' ' -f1)"
	_e2e_alpine_fresh() {
		[ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] && [ -f "$out/alpine.qcow2" ] &&
			[ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]
	}
	_e2e_alpine_fresh && return 0
	busybox=$(command -v busybox) || {
		e2e_log "busybox not found"
		return 1
	}
	if ldd "$busybox" >/dev/null 2>&1; then
		e2e_log "$busybox is not static (install busybox-static)"
		return 1
	fi
	command -v mkfs.ext4 >/dev/null || {
		e2e_log "mkfs.ext4 not found (install e2fsprogs)"
		return 1
	}
	mkdir -p "$out" && chmod 0755 "$out" || return 1
	exec {lock}>"$out/.lock"
	flock "$lock"
	if _e2e_alpine_fresh; then
		exec {lock}>&-
		return 0
	fi
	e2e_log "building the Alpine-like image in $out (kernel $kver)"
	stage=$(mktemp -d "$out/.stage.XXXXXX")
	(
		set -euo pipefail
		cd "$stage"
		# The boot initramfs.
		mkdir -p boot/bin boot/dev boot/proc boot/sys boot/etc boot/lib/modules boot/newroot
		cp "$busybox" boot/bin/busybox
		for a in sh mount insmod sleep mkdir switch_root cat; do
			ln -s busybox "boot/bin/$a"
		done
		ln -s bin boot/sbin
		mknod boot/dev/console c 5 1
		mknod boot/dev/null c 1 3
		mknod boot/dev/ttyS0 c 4 64
		_e2e_mod_order=()
		for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
			failover net_failover virtio_net virtio_blk crc16 mbcache jbd2 crc32c_generic ext4; do
			path=$(_e2e_mod_path "$kver" "$m")
			[ -n "$path" ] && _e2e_mod_add "$kver" "$path"
		done
		: >boot/etc/modules.order
		for path in "${_e2e_mod_order[@]}"; do
			src="/lib/modules/$kver/$path"
			dst=${path##*/}
			case "$src" in
			*.ko.xz) xz -dc "$src" >"boot/lib/modules/${dst%.xz}"; dst=${dst%.xz} ;;
			*.ko.zst) zstd -qdc "$src" >"boot/lib/modules/${dst%.zst}"; dst=${dst%.zst} ;;
			*.ko.gz) gzip -dc "$src" >"boot/lib/modules/${dst%.gz}"; dst=${dst%.gz} ;;
			*) cp "$src" "boot/lib/modules/$dst" ;;
			esac
			printf '%s\n' "$dst" >>boot/etc/modules.order
		done
		_e2e_alpine_boot_init >boot/init
		chmod 0755 boot/init
		(cd boot && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) |
			gzip -9 >initrd.img
		cp "/boot/vmlinuz-$kver" vmlinuz
		# The disk.
		_e2e_alpine_rootfs root "$busybox"
		truncate -s 64M alpine.raw
		mkfs.ext4 -q -L alpine -d root alpine.raw
		qemu-img convert -q -f raw -O qcow2 alpine.raw alpine.qcow2
		chmod 0644 vmlinuz initrd.img alpine.qcow2
	) || {
		rm -rf "$stage"
		exec {lock}>&-
		return 1
	}
	rm -f "$out/stamp"
	mv -f "$stage/vmlinuz" "$stage/initrd.img" "$stage/alpine.qcow2" "$out/"
	printf '%s\n' "$stamp" >"$out/stamp"
	rm -rf "$stage"
	exec {lock}>&-
}

# e2e_write_fault_lab: the fault tests' lab in $LAB: lab 'flt', dir storage
# 'local' at $POOL, the isolated bridge vmbr0, and three tiny guests flt-a, flt-b,
# flt-c booting the kernel and initrd in $GUEST.
e2e_write_fault_lab() {
	local g
	cat >"$LAB/lab.cfg" <<EOF
lab: flt
	accel tcg

dir: local
	path $POOL

bridge: vmbr0
	mode isolated
	address 10.78.0.1/24
EOF
	for g in a b c; do
		cat >"$LAB/$g.conf" <<EOF
name: flt-$g
cores: 1
memory: 128
net0: virtio,bridge=vmbr0
virtio0: local:0.0625
kernel: $GUEST/vmlinuz
initrd: $GUEST/initrd.img
cmdline: console=ttyS0 labvirt.name=flt-$g
EOF
	done
}
