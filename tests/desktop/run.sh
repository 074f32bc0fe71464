#!/bin/bash
# labvirt's desktop, for real: a private libvirtd in a network namespace, two tiny
# guests with graphics (desk-vnc: vga std, VNC, DHCP on a nat bridge; desk-spice:
# vga qxl, SPICE, a static address on an isolated bridge) and one that never gets an
# address (mute: its link is down; it has an agent channel but no agent). Checks:
#   - up --wait: both get an address (a DHCP lease, the neighbour table); a timeout on
#     mute fails with exit 1 and names it; labvirt ip and status show the addresses
#   - labvirt view under Xvfb (VNC and SPICE): the screenshot of the viewer shows the
#     guest's own screen (compared with libvirt's screenshot of the guest)
#   - the kiosk file run by a real xinit with Xvfb as its server: twm and the viewer
#     full screen; killing the viewer ends the X session
#   - the console password is in no command line or environment, no labvirt output,
#     and no file that others can read
#
#   run.sh PATH_TO_labvirt
#
# Prints "ok - ..." / "not ok - ..." lines and "N passed, N failed"; exits 0 if all
# passed, 1 if any failed, 77 if this machine cannot run it. LABVIRT_E2E_KEEP=1 keeps
# the temp dir (screenshots: $T/*.png).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../e2e/lib.sh
. "$HERE/../e2e/lib.sh"

[ $# -eq 1 ] || {
	echo "usage: $0 PATH_TO_labvirt" >&2
	exit 2
}
skip() {
	echo "SKIP: $*"
	exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, libvirt's system driver)"
for prog in qemu-system-x86_64 qemu-img virsh ip nsenter unshare busybox cpio gzip timeout \
	libvirtd virtlogd dnsmasq Xvfb xinit twm remote-viewer import convert compare xwininfo; do
	command -v "$prog" >/dev/null 2>&1 || skip "$prog is not installed (scripts/deps)"
done
e2e_guest_kernel_version >/dev/null || skip "no /boot/vmlinuz-* with its /lib/modules"
LABVIRT=$(realpath "$1")

CACHE=${LABVIRT_E2E_CACHE:-/var/tmp/labvirt-e2e-guest}
unset LABVIRT_URI LIBVIRT_DEFAULT_URI LIBVIRT_LOG_OUTPUTS DISPLAY
T=$(mktemp -d /tmp/labvirt-desktop.XXXXXX)
chmod 0755 "$T"
touch "$T/start"
LAB=$T/lab POOL=$T/pool GUEST=$T/guest
export LABVIRT_STATE_DIR=$T/state
mkdir -p "$LAB" && mkdir -m 0755 "$POOL"
URI=qemu:///system
XPIDS=()

cleanup() {
	local rc=$? p
	set +e
	trap - INT TERM
	for p in "${XPIDS[@]}"; do e2e_kill_tree "$p"; done
	e2e_daemon_stop
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
	e2e_daemon_dump_logs
	e2e_summary
	exit 1
}

ALL_OUT=$T/all-output # every labvirt output, for the password check
: >"$ALL_OUT"
lv() {
	LV_OUT=$(e2e_in_ns timeout 600 "$LABVIRT" -L "$LAB" -c "$URI" "$@" 2>"$T/stderr")
	LV_RC=$?
	LV_ERR=$(cat "$T/stderr")
	printf '%s\n%s\n' "$LV_OUT" "$LV_ERR" >>"$ALL_OUT"
	e2e_log "labvirt $* -> exit $LV_RC"
	[ -z "$LV_OUT" ] || printf '%s\n' "$LV_OUT" | sed 's/^/#   | /' >&2
	[ -z "$LV_ERR" ] || printf '%s\n' "$LV_ERR" | sed 's/^/#   ! /' >&2
	return 0
}
vsh() { e2e_in_ns virsh -q -c "$URI" "$@"; }

# --- the lab
printf '%s\n' "lab: desk" "	accel tcg" "" "dir: local" "	path $POOL" "" \
	"bridge: vmbrn" "	mode nat" "	address 10.78.0.1/24" "" \
	"bridge: vmbri" "	mode isolated" "	address 10.79.0.1/24" >"$LAB/lab.cfg"
guest() { # NAME VGA BRIDGE CMDLINE [NET-PROPERTIES]
	printf '%s\n' "name: $1" "memory: 256" "vga: $2" "net0: virtio,bridge=$3${5-}" \
		"serial0: socket" "kernel: $GUEST/vmlinuz" "initrd: $GUEST/initrd.img" \
		"cmdline: console=ttyS0 labvirt.name=$1 $4" >"$LAB/$1.conf"
}
guest desk-vnc std vmbrn "labvirt.dhcp=1 labvirt.screen=LABVIRT-VNC"
guest desk-spice qxl vmbri "labvirt.ip=10.79.0.21/24 labvirt.ping=10.79.0.1 labvirt.screen=LABVIRT-SPICE"
guest mute none vmbri "" ",link_down=1"
echo "agent: 1" >>"$LAB/mute.conf"

e2e_check "guest image built" e2e_build_guest_image "$CACHE" || bail "no guest image"
{ mkdir -m 0755 "$GUEST" && cp "$CACHE/vmlinuz" "$CACHE/initrd.img" "$GUEST/"; } || bail "no copy"
e2e_check "private libvirtd answers in netns" e2e_daemon_start || bail "no daemon"

# --- up --wait, addresses
lv up --wait --timeout 300 desk-vnc desk-spice
e2e_check "up --wait desk-vnc desk-spice: exit 0" test "$LV_RC" -eq 0 || bail "not up"
e2e_check "up --wait names an address of desk-vnc (DHCP range)" \
	grep -Eq '^desk-vnc: 10\.78\.0\.(1[2-9][0-9]|2[0-9][0-9])/24$' <<<"$LV_OUT"
e2e_check "up --wait names desk-spice's address" grep -qx 'desk-spice: 10.79.0.21' <<<"$LV_OUT"
lv up --wait --timeout 5 mute
e2e_check "up --wait on a guest that gets no address: exit 1" test "$LV_RC" -eq 1
e2e_check "... naming it, after its timeout" grep -qx \
	"labvirt: up: no address after 5 seconds for guest 'mute' (no agent answers, no DHCP lease, no neighbour entry)" <<<"$LV_ERR"
lv ip desk-vnc
e2e_check "labvirt ip desk-vnc: net0, a DHCP lease" \
	grep -Eq '^net0 +52:54:00:[0-9a-f:]{8} 10\.78\.0\.[0-9]+/24 +lease$' <<<"$LV_OUT"
lv ip desk-spice
e2e_check "labvirt ip desk-spice: net0, the neighbour table (isolated bridge, no DHCP)" \
	grep -Eq '^net0 +52:54:00:[0-9a-f:]{8} 10\.79\.0\.21 +arp$' <<<"$LV_OUT"
lv ip mute
e2e_check "labvirt ip mute: exit 1, no address, its agent does not answer" test "$LV_RC:$LV_ERR" = \
	"1:labvirt: ip: guest 'mute' has no address yet (no agent answers, no DHCP lease, no neighbour entry)"
lv status
e2e_check "status: an ADDRESSES column with desk-spice's address" \
	sh -c 'head -n 1 | grep -q "ADDRESSES$"' <<<"$LV_OUT"
e2e_check "status: desk-spice's address" grep -Eq '^desk-spice .* 10\.79\.0\.21$' <<<"$LV_OUT"
e2e_check "status: mute has none" grep -Eq '^mute .* -$' <<<"$LV_OUT"
lv status --json desk-spice
e2e_check 'status --json: "addresses":["10.79.0.21"]' grep -q '"addresses":\["10.79.0.21"\]' <<<"$LV_OUT"

# --- the password: libvirt has one per graphics guest; labvirt's XML has none
passwd_of() { vsh dumpxml --security-info "$1" | sed -n "s/.*<graphics [^>]*passwd='\([^']*\)'.*/\1/p"; }
PW_VNC=$(passwd_of desk-vnc)
PW_SPICE=$(passwd_of desk-spice)
e2e_check "desk-vnc's VNC console has an 8-character password" test "${#PW_VNC}" -eq 8
e2e_check "desk-spice's SPICE console has a 20-character password" test "${#PW_SPICE}" -eq 20
e2e_check "the consoles listen on 127.0.0.1 only" sh -c \
	'! grep -E "<listen [^>]*address=" | grep -v "address=.127\.0\.0\.1."' < <(vsh dumpxml desk-vnc; vsh dumpxml desk-spice)
lv xml desk-vnc
e2e_check "labvirt xml has a graphics element and no passwd" \
	sh -c 'grep -q "<graphics type=\"vnc\"" && ! grep -q passwd' <<<"$LV_OUT"
lv up desk-vnc desk-spice
e2e_check "a second up changes nothing (the password is not in the config stamp)" \
	grep -q 'nothing to do' <<<"$LV_OUT"
e2e_check "... and the password stays" test "$(passwd_of desk-vnc)" = "$PW_VNC"

# Nowhere for others to read: command lines and environments of every process, what
# labvirt printed, and files readable by others made since the test began (its own
# dir, /tmp, /var/tmp).
check_password() {
	local pw where=$1 leak="" files
	for pw in "$PW_VNC" "$PW_SPICE"; do
		[ -n "$pw" ] || continue
		# (the password goes to grep through a pipe: on its command line, ps would see it)
		ps -eo args | grep -qFf <(printf '%s\n' "$pw") && leak+=" ps"
		cat /proc/[0-9]*/environ 2>/dev/null | tr '\0' '\n' | grep -qFf <(printf '%s\n' "$pw") &&
			leak+=" environ"
		cat "$ALL_OUT" "$T"/view-*.out "$T"/view-*.err 2>/dev/null |
			grep -qFf <(printf '%s\n' "$pw") && leak+=" output"
		files=$(find "$T" /tmp /var/tmp -xdev -type f -perm -o=r -newer "$T/start" -size -20M \
			-print0 2>/dev/null | xargs -0 -r grep -lFf <(printf '%s\n' "$pw") 2>/dev/null)
		[ -z "$files" ] || leak+=" files: $files"
	done
	[ -z "$leak" ] || e2e_log "password leaks:$leak"
	e2e_check "the password is in no command line, environment, output or readable file ($where)" \
		test -z "$leak"
}

# --- X: Xvfb displays of our own, in the daemon's namespaces (the consoles listen on
# its loopback)
free_display() {
	local n
	for n in $(seq $((100 + $$ % 400)) 999); do
		[ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || {
			echo "$n"
			return
		}
	done
}
wait_for() { # TRIES CMD...: bounded wait (0.5 s steps) until CMD succeeds
	local n=$1
	shift
	for _ in $(seq "$n"); do
		"$@" 2>/dev/null && return 0
		sleep 0.5
	done
	return 1
}
# The guest's own screen, from libvirt, and the X screen, both as PNG.
guest_shot() { vsh screenshot "$1" "$T/$1-guest.ppm" >/dev/null && convert "$T/$1-guest.ppm" "$2"; }
x_shot() { e2e_in_ns import -display ":$1" -window root "$2"; }
# Where the guest's first two lines of text (a 200x40 patch of libvirt's screenshot of
# it) best match in the top left of the X screen (below a title or tool bar, if any):
# prints the normalised RMSE of the best match.
patch_rmse() {
	convert "$2" -crop 200x40+16+0 +repage "$T/patch.png" &&
		convert "$1" -crop 260x140+0+0 +repage "$T/area.png" &&
		compare -subimage-search -metric RMSE "$T/area.png" "$T/patch.png" null: 2>&1 |
		sed -n 's/.*(\([0-9.e-]*\)).*/\1/p' | head -n 1
}
mean() { convert "$1" -colorspace gray -format '%[fx:mean]' info:; }
# The viewer shows the guest: the guest's own pixels (its text) are on the X screen,
# and the screen is mostly the guest's light background (black, an empty viewer or an
# error dialog are not).
shows_guest() {
	local r m
	r=$(patch_rmse "$1" "$2") m=$(mean "$1")
	e2e_log "screenshot $1 vs $2: rmse of the best match $r, mean $m"
	awk -v r="$r" -v m="$m" 'BEGIN { exit !(r != "" && r < 0.05 && m > 0.45) }'
}
window_of() { # DISPLAY TITLE: the viewer's window ("TITLE (labvirt)", maybe " (1)")
	xwininfo -display ":$1" -root -tree | grep -F "\"$2 (labvirt)"
}
# The window's geometry "WxH+X+Y" covers the 720x400 screen.
window_covers() {
	window_of "$@" | grep -Eo '[0-9]+x[0-9]+\+-?[0-9]+\+-?[0-9]+' | head -n 1 |
		awk -F'[x+]' '{ exit !($1 + $3 >= 720 && $2 + $4 >= 400 && $3 <= 0 && $4 <= 0) }'
}

view_test() { # GUEST
	local g=$1 d pid xvfb
	d=$(free_display)
	e2e_in_ns Xvfb ":$d" -screen 0 720x400x24 -nolisten tcp >"$T/xvfb-$g.log" 2>&1 &
	xvfb=$!
	XPIDS+=("$xvfb")
	wait_for 60 test -e "/tmp/.X11-unix/X$d" || {
		e2e_not_ok "Xvfb :$d for $g"
		return
	}
	e2e_in_ns env DISPLAY=":$d" "$LABVIRT" -L "$LAB" -c "$URI" view --kiosk "$g" \
		>"$T/view-$g.out" 2>"$T/view-$g.err" &
	pid=$!
	XPIDS+=("$pid")
	e2e_check "labvirt view $g: a viewer window '$g (labvirt)'" wait_for 120 window_of "$d" "$g"
	sleep 3 # a frame drawn: what is checked is the comparison below
	wait_for 20 guest_shot "$g" "$T/$g-guest.png"
	x_shot "$d" "$T/$g-view.png"
	e2e_check "labvirt view $g: the screenshot shows the guest's screen" \
		shows_guest "$T/$g-view.png" "$T/$g-guest.png"
	check_password "while viewing $g"
	e2e_kill_tree "$pid"
	e2e_kill_tree "$xvfb"
	wait "$pid" "$xvfb" 2>/dev/null
}

view_test desk-vnc
view_test desk-spice
lv view mute
e2e_check "labvirt view of a guest without graphics: exit 1, says so" test "$LV_RC:$LV_ERR" = \
	"1:labvirt: view: guest 'mute' has no graphical console"

# --- the kiosk: the file, run by a real xinit with Xvfb as the X server
lv kiosk --output "$T/xinitrc" desk-vnc
e2e_check "labvirt kiosk --output: exit 0" test "$LV_RC" -eq 0
d=$(free_display)
e2e_in_ns xinit "$T/xinitrc" -- "$(command -v Xvfb)" ":$d" -screen 0 720x400x24 -nolisten tcp \
	>"$T/xinit.log" 2>&1 &
XINIT=$!
XPIDS+=("$XINIT")
twm_runs() { pgrep -x twm >/dev/null; }
e2e_check "kiosk: twm runs in the X session" wait_for 120 twm_runs
e2e_check "kiosk: the viewer window covers the whole screen" wait_for 120 window_covers "$d" desk-vnc
sleep 3
x_shot "$d" "$T/kiosk.png"
wait_for 20 guest_shot desk-vnc "$T/desk-vnc-guest2.png"
e2e_check "kiosk: the screen shows the guest" shows_guest "$T/kiosk.png" "$T/desk-vnc-guest2.png"
check_password "kiosk"
VIEWER=$(pgrep -x remote-viewer | head -n 1)
e2e_check "kiosk: a remote-viewer runs" test -n "$VIEWER"
[ -n "$VIEWER" ] && kill "$VIEWER"
ended() { ! _e2e_alive "$XINIT"; }
e2e_check "kiosk: killing the viewer ends the X session (xinit exits)" wait_for 60 ended
session_gone() {
	! pgrep -x twm >/dev/null && ! pgrep -x remote-viewer >/dev/null && [ ! -e "/tmp/.X11-unix/X$d" ]
}
e2e_check "kiosk: then the X server, twm and the viewer are gone" wait_for 60 session_gone
wait "$XINIT" 2>/dev/null

check_password "at the end"
e2e_check "libvirt keeps the definition with the password private (0600)" \
	test "$(e2e_in_ns stat -c %a /etc/libvirt/qemu/desk-vnc.xml)" = 600

[ "$E2E_FAILED" -eq 0 ] || e2e_daemon_dump_logs
lv destroy --yes
e2e_check "labvirt destroy --yes" test "$LV_RC" -eq 0
e2e_summary
