#!/bin/bash
# labvirt's desktop, for real: a private libvirtd in a network namespace, two tiny
# guests with graphics (desk-vnc: vga std, VNC, DHCP on a nat bridge; desk-spice:
# vga qxl, SPICE, a static address on an isolated bridge), one that never gets an
# address (mute: its link is down; it has an agent channel but no agent), two with a
# real qemu-ga (agent-nat: DHCP on the nat bridge; agent-iso: a static address on the
# isolated bridge that it never uses, so only its agent can tell; each with a second
# address that only the guest knows), and desk-rdp (link down) whose RDP server is a
# stand-in (see there). Checks:
#   - up --wait: each gets an address (a DHCP lease, the neighbour table, the agent); a
#     timeout on mute fails with exit 1 and names it; labvirt ip and status show the
#     addresses, and for the agent guests the agent's (source "agent", the second address)
#   - labvirt view under Xvfb (VNC and SPICE): the screenshot of the viewer shows the
#     guest's own screen (compared with libvirt's screenshot of the guest)
#   - the kiosk file run by a real xinit with Xvfb as its server: twm and the viewer
#     full screen; killing the viewer ends the X session
#   - the console password is in no command line or environment, no labvirt output,
#     and no file that others can read
#   - RDP: labvirt view --rdp, and the kiosk --rdp file run by xinit, connect xfreerdp to
#     a real RDP server (freerdp-shadow-cli, NLA) at the address labvirt finds for the
#     guest; the screenshot shows the server's screen; a wrong password fails; the RDP
#     password is in no command line, output or readable file either
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
	libvirtd virtlogd dnsmasq Xvfb xinit twm remote-viewer import convert compare xwininfo \
	qemu-ga xfreerdp freerdp-shadow-cli display ss iconv openssl; do
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
RDPNS="" # the RDP stand-in's network namespace

cleanup() {
	local rc=$? p
	set +e
	trap - INT TERM
	for p in "${XPIDS[@]}"; do e2e_kill_tree "$p"; done
	if [ -n "$RDPNS" ]; then
		_e2e_netns_kill_all "$RDPNS"
		ip netns del "$RDPNS" 2>/dev/null
	fi
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

# The RDP password of the stand-in server (below); in no file and on no command line.
RDP_PW=$(head -c 15 /dev/urandom | base64 | tr -d '/+=')
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
guest agent-nat none vmbrn "labvirt.dhcp=1 labvirt.agent=1 labvirt.alias=192.0.2.31/32"
guest agent-iso none vmbri "labvirt.ip=10.79.0.22/24 labvirt.agent=1 labvirt.alias=192.0.2.32/32"
echo "agent: 1" >>"$LAB/agent-nat.conf"
echo "agent: 1" >>"$LAB/agent-iso.conf"
RDP_MAC=52:54:00:7d:00:01
guest desk-rdp none vmbrn "" ",link_down=1"
sed -i "s/^net0: virtio,/net0: virtio=$RDP_MAC,/" "$LAB/desk-rdp.conf"

e2e_check "guest image built" e2e_build_guest_image "$CACHE" || bail "no guest image"
{ mkdir -m 0755 "$GUEST" && cp "$CACHE/vmlinuz" "$CACHE/initrd.img" "$GUEST/"; } || bail "no copy"
e2e_check "private libvirtd answers in netns" e2e_daemon_start || bail "no daemon"

# --- up --wait, addresses
lv up --wait --timeout 300 desk-vnc desk-spice
e2e_check "up --wait desk-vnc desk-spice: exit 0" test "$LV_RC" -eq 0 || bail "not up"
# The address may come from the neighbour table, without its prefix length: dnsmasq
# puts the offered address there itself (SIOCSARP) when it unicasts its DHCPOFFER,
# before the guest takes it and before the lease reaches libvirt, and up --wait
# looks once a second. The nat bridge's default range is .128-.254.
e2e_check "up --wait names an address of desk-vnc (DHCP range)" \
	grep -Eq '^desk-vnc: 10\.78\.0\.(12[89]|1[3-9][0-9]|2[0-4][0-9]|25[0-4])(/24)?$' <<<"$LV_OUT"
e2e_check "up --wait names desk-spice's address" grep -qx 'desk-spice: 10.79.0.21' <<<"$LV_OUT"
lv up --wait --timeout 5 mute
e2e_check "up --wait on a guest that gets no address: exit 1" test "$LV_RC" -eq 1
e2e_check "... naming it, after its timeout" grep -qx \
	"labvirt: up: no address after 5 seconds for guest 'mute' (no agent answers, no DHCP lease, no neighbour entry)" <<<"$LV_ERR"

# With a guest agent: agent-iso has no DHCP and sends nothing, so only its agent can
# give its address; up --wait returns when the agent answers.
lv up --wait --timeout 300 agent-iso agent-nat
e2e_check "up --wait agent-iso agent-nat: exit 0" test "$LV_RC" -eq 0
e2e_check "up --wait: agent-iso's address, from its agent (with its prefix length)" \
	grep -qx 'agent-iso: 10.79.0.22/24' <<<"$LV_OUT"
e2e_check "up --wait: an address of agent-nat" grep -Eq '^agent-nat: 10\.78\.0\.[0-9]+(/24)?$' <<<"$LV_OUT"
# labvirt ip's lines as "NET ADDRESS SOURCE;...", sorted (the MACs checked apart)
ip_lines() { awk '{ print $1, $3, $4 }' <<<"$LV_OUT" | LC_ALL=C sort | tr '\n' ';'; }
guest_mac() { vsh domiflist "$1" | awk '{ print $5; exit }'; }
lv ip agent-iso
e2e_check "labvirt ip agent-iso: exactly its two addresses, from the agent" \
	test "$(ip_lines)" = "net0 10.79.0.22/24 agent;net0 192.0.2.32/32 agent;"
e2e_check "... both on agent-iso's MAC" \
	test "$(awk '{ print $2 }' <<<"$LV_OUT" | sort -u)" = "$(guest_mac agent-iso)"
# agent-nat's lease may come before its agent answers: wait (bounded) for the agent.
agent_answers() {
	e2e_in_ns "$LABVIRT" -L "$LAB" -c "$URI" ip "$1" 2>/dev/null | grep -q ' agent$'
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
e2e_check "agent-nat's agent answers" wait_for 240 agent_answers agent-nat
lv ip agent-nat
e2e_check "labvirt ip agent-nat: the leased address and the second one, from the agent (the lease merged in)" \
	grep -Eqx 'net0 10\.78\.0\.[0-9]+/24 agent;net0 192\.0\.2\.31/32 agent;' <<<"$(ip_lines)"
e2e_check "... both on agent-nat's MAC" \
	test "$(awk '{ print $2 }' <<<"$LV_OUT" | sort -u)" = "$(guest_mac agent-nat)"
lv status --json agent-iso
e2e_check 'status --json agent-iso: "addresses":["10.79.0.22/24","192.0.2.32/32"]' \
	grep -qF '"addresses":["10.79.0.22/24","192.0.2.32/32"]' <<<"$LV_OUT"

lv ip desk-vnc
e2e_check "labvirt ip desk-vnc: net0, a DHCP lease" \
	grep -Eq '^net0 +52:54:00:[0-9a-f:]{8} 10\.78\.0\.[0-9]+/24 +lease$' <<<"$LV_OUT"
e2e_check "... one line: its neighbour entry, if any, is the same address" test "$(wc -l <<<"$LV_OUT")" = 1
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
e2e_check "status: agent-iso's two addresses, from its agent" \
	grep -Eq '^agent-iso .* 10\.79\.0\.22/24,192\.0\.2\.32/32$' <<<"$LV_OUT"
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
	for pw in "$PW_VNC" "$PW_SPICE" "$RDP_PW"; do
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

# The guest paints its own screen (labvirt.screen): wait until libvirt's screenshot of it
# is that light screen, so that what is compared below is the viewer, not the guest.
guest_painted() { # GUEST
	local m
	guest_shot "$1" "$T/$1-own.png" || return 1
	m=$(mean "$T/$1-own.png")
	awk -v m="$m" 'BEGIN { exit !(m > 0.45) }'
}
# The X screen of display D shows guest G: both screenshots taken (X last), compared;
# a few tries, as the viewer draws a frame some time after its window appears.
shows_now() { # G D XPNG GUESTPNG
	local n
	wait_for 60 guest_painted "$1" ||
		e2e_log "$1's own screen is not its light screen (mean $(mean "$T/$1-own.png" 2>/dev/null))"
	for n in 1 2 3 4 5 6 7 8 9 10; do
		sleep 1
		guest_shot "$1" "$4" && x_shot "$2" "$3" && shows_guest "$3" "$4" && return 0
	done
	return 1
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
	e2e_check "labvirt view $g: the screenshot shows the guest's screen" \
		shows_now "$g" "$d" "$T/$g-view.png" "$T/$g-guest.png"
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
# A program NAME of the X session on display :$d (other X sessions may run here too).
in_session() { # NAME
	local p
	for p in $(pgrep -x "$1"); do
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "DISPLAY=:$d" && echo "$p"
	done
	return 0
}
twm_runs() { [ -n "$(in_session twm)" ]; }
e2e_check "kiosk: twm runs in the X session" wait_for 120 twm_runs
e2e_check "kiosk: the viewer window covers the whole screen" wait_for 120 window_covers "$d" desk-vnc
e2e_check "kiosk: the screen shows the guest" shows_now desk-vnc "$d" "$T/kiosk.png" "$T/desk-vnc-guest2.png"
# Really full screen: the whole X screen is the guest's 720x400 screen, pixel for pixel
# where it can be (no header bar at the top, no border, no offset).
rmse_of() { compare -metric RMSE "$@" null: 2>&1 | sed -n 's/.*(\([0-9.e-]*\)).*/\1/p'; }
FULL=$(rmse_of "$T/kiosk.png" "$T/desk-vnc-guest2.png")
TOP=$(convert "$T/kiosk.png" -crop 720x48+0+0 +repage "$T/kiosk-top.png" &&
	convert "$T/desk-vnc-guest2.png" -crop 720x48+0+0 +repage "$T/guest-top.png" &&
	rmse_of "$T/kiosk-top.png" "$T/guest-top.png")
e2e_log "kiosk screen vs the guest's screen: rmse $FULL; top 48 rows: rmse $TOP"
e2e_check "kiosk: the guest's screen covers the whole display (rmse $FULL), its top rows too: no header bar (rmse $TOP)" \
	awk -v f="$FULL" -v t="$TOP" 'BEGIN { exit !(f != "" && t != "" && f < 0.02 && t < 0.02) }'
check_password "kiosk"
e2e_check "kiosk: a remote-viewer runs in the session" test -n "$(in_session remote-viewer)"
# The guest goes away: remote-viewer (--kiosk-quit on-disconnect) quits, and so does the
# X session.
vsh destroy desk-vnc >/dev/null
ended() { ! _e2e_alive "$XINIT"; }
e2e_check "kiosk: the guest disconnecting ends the X session (xinit exits)" wait_for 120 ended
session_gone() {
	[ -z "$(in_session twm)" ] && [ -z "$(in_session remote-viewer)" ] && [ ! -e "/tmp/.X11-unix/X$d" ]
}
e2e_check "kiosk: then the X server, twm and the viewer are gone" wait_for 60 session_gone
wait "$XINIT" 2>/dev/null

# --- RDP. The tiny guest cannot run an RDP server, so a stand-in does, and this test
# says so: a network namespace of the test's own is plugged into desk-rdp's bridge (a
# veth) with desk-rdp's MAC (desk-rdp runs with its link down, so on the bridge that MAC
# is the stand-in's alone), and gets its address from the nat network's DHCP server as
# the guest would. labvirt finds it through its ordinary lookup: the lease of the
# guest's MAC. There freerdp-shadow-cli shares an Xvfb screen, with NLA against a SAM
# file that holds the password's NT hash only.
lv up desk-rdp
e2e_check "up desk-rdp (its link down): exit 0" test "$LV_RC" -eq 0
RDPNS=labvirt-rdp-$$
ip netns add "$RDPNS" && ip -n "$RDPNS" link set lo up &&
	ip -n "$E2E_NS" link add rdp-standin type veth peer name eth0 netns "$RDPNS" &&
	ip -n "$E2E_NS" link set rdp-standin master vmbrn up &&
	ip -n "$RDPNS" link set eth0 address "$RDP_MAC" up || bail "no RDP stand-in namespace"
printf '#!/bin/sh\n[ "$1" = bound ] && ip addr add "$ip/$mask" dev "$interface"\nexit 0\n' >"$T/udhcpc.sh"
chmod 0755 "$T/udhcpc.sh"
e2e_check "the stand-in gets a DHCP lease for desk-rdp's MAC" \
	ip netns exec "$RDPNS" busybox udhcpc -i eth0 -q -n -t 30 -s "$T/udhcpc.sh"
lv ip desk-rdp
e2e_check "labvirt ip desk-rdp: the lease of its MAC (the stand-in's address)" \
	grep -Eq "^net0 +$RDP_MAC 10\.78\.0\.[0-9]+/24 +lease$" <<<"$LV_OUT"
RDP_ADDR=$(ip -n "$RDPNS" -4 -o addr show dev eth0 | awk '{ sub(/\/.*/, "", $4); print $4 }')
e2e_check "... which is the address the stand-in has ($RDP_ADDR)" grep -q " $RDP_ADDR/24 " <<<"$LV_OUT"

# The server: an Xvfb screen with a picture on it, shared by freerdp-shadow-cli.
umask 077
printf 'labvirt:::%s:::\n' "$(printf '%s' "$RDP_PW" | iconv -t UTF-16LE |
	openssl dgst -md4 -provider default -provider legacy | sed 's/.*= //')" >"$T/rdp.sam"
umask 022
mkdir -p "$T/rdp-home" "$T/home"
convert -size 720x400 xc:white -fill '#c03030' -draw 'rectangle 40,40 300,200' \
	-fill '#3030c0' -draw 'rectangle 350,100 680,360' -fill '#30a030' \
	-draw 'circle 200,300 260,340' "$T/rdp-picture.png"
SD=$(free_display)
ip netns exec "$RDPNS" Xvfb ":$SD" -screen 0 720x400x24 -nolisten tcp >"$T/rdp-xvfb.log" 2>&1 &
XPIDS+=("$!")
wait_for 60 test -e "/tmp/.X11-unix/X$SD" || bail "no Xvfb for the RDP server"
ip netns exec "$RDPNS" env DISPLAY=":$SD" display -geometry +0+0 "$T/rdp-picture.png" &
XPIDS+=("$!")
ip netns exec "$RDPNS" env DISPLAY=":$SD" HOME="$T/rdp-home" freerdp-shadow-cli /port:3389 \
	/sec:nla /sam-file:"$T/rdp.sam" +auth >"$T/rdp-server.log" 2>&1 &
XPIDS+=("$!")
rdp_listens() { ip netns exec "$RDPNS" ss -Hltn 'sport = :3389' | grep -q .; }
e2e_check "the stand-in's RDP server listens" wait_for 120 rdp_listens
picture_shown() { import -display ":$SD" -window root "$T/rdp-server.png" && convert "$T/rdp-server.png" -format '%[fx:mean]' info: | awk '{ exit !($1 < 0.9) }'; }
wait_for 60 picture_shown
# RMSE of the window (or screen) of an X screenshot against the server's screen.
rdp_rmse() { # SHOT GEOMETRY
	convert "$1" -crop "$2" +repage "$T/rdp-crop.png" &&
		compare -metric RMSE "$T/rdp-crop.png" "$T/rdp-server.png" null: 2>&1 |
		sed -n 's/.*(\([0-9.e-]*\)).*/\1/p'
}
shows_server() { # SHOT GEOMETRY
	local r
	r=$(rdp_rmse "$1" "$2")
	e2e_log "screenshot $1 ($2) vs the RDP server's screen: rmse $r"
	awk -v r="$r" 'BEGIN { exit !(r != "" && r < 0.05) }'
}

CD=$(free_display)
e2e_in_ns Xvfb ":$CD" -screen 0 800x500x24 -nolisten tcp >"$T/xvfb-rdp.log" 2>&1 &
XVFB_RDP=$!
XPIDS+=("$XVFB_RDP")
wait_for 60 test -e "/tmp/.X11-unix/X$CD" || bail "no Xvfb for the RDP client"
# The password goes to labvirt's standard input (printf is a shell builtin: no process
# has it on its command line), which xfreerdp /from-stdin reads.
printf '%s\n' "$RDP_PW" | e2e_in_ns env DISPLAY=":$CD" HOME="$T/home" "$LABVIRT" -L "$LAB" \
	-c "$URI" view --rdp --user labvirt desk-rdp >"$T/view-rdp.out" 2>"$T/view-rdp.err" &
VIEW_RDP=$!
XPIDS+=("$VIEW_RDP")
e2e_check "labvirt view --rdp desk-rdp: an xfreerdp window 'desk-rdp (labvirt)'" \
	wait_for 120 window_of "$CD" desk-rdp
sleep 3 # a frame drawn: what is checked is the comparison below
x_shot "$CD" "$T/rdp-view.png"
GEOM=$(window_of "$CD" desk-rdp | grep -Eo '[0-9]+x[0-9]+\+-?[0-9]+\+-?[0-9]+' | head -n 1)
e2e_check "view --rdp: the client's window ($GEOM) shows the RDP server's screen" \
	shows_server "$T/rdp-view.png" "$GEOM"
e2e_check "view --rdp: xfreerdp was given the address labvirt found ($RDP_ADDR)" \
	sh -c "ps -eo args | grep -q '^xfreerdp /v:$RDP_ADDR '"
e2e_check "the server logged the NLA logon" grep -q 'AcceptSecurityContext' "$T/rdp-server.log"
check_password "while viewing desk-rdp over RDP"
e2e_kill_tree "$VIEW_RDP"
wait "$VIEW_RDP" 2>/dev/null
cat "$T/view-rdp.out" "$T/view-rdp.err" >>"$ALL_OUT"
printf 'not-the-password\n' | e2e_in_ns env DISPLAY=":$CD" HOME="$T/home" timeout 300 "$LABVIRT" \
	-L "$LAB" -c "$URI" view --rdp --user labvirt desk-rdp >"$T/view-rdp-bad.out" 2>"$T/view-rdp-bad.err"
BAD_RC=$?
e2e_check "view --rdp with a wrong password: exit 1, xfreerdp failed" sh -c \
	"test $BAD_RC = 1 && grep -q '^labvirt: view: xfreerdp exited with status [1-9]' '$T/view-rdp-bad.err'"
e2e_kill_tree "$XVFB_RDP"
wait "$XVFB_RDP" 2>/dev/null

# The kiosk --rdp file, run by xinit: the password comes on xinit's standard input, which
# the session's programs inherit.
lv kiosk --rdp --user labvirt --output "$T/xinitrc-rdp" desk-rdp
e2e_check "labvirt kiosk --rdp --output: exit 0" test "$LV_RC" -eq 0
d=$(free_display)
printf '%s\n' "$RDP_PW" | e2e_in_ns env HOME="$T/home" xinit "$T/xinitrc-rdp" -- \
	"$(command -v Xvfb)" ":$d" -screen 0 720x400x24 -nolisten tcp >"$T/xinit-rdp.log" 2>&1 &
XINIT=$!
XPIDS+=("$XINIT")
e2e_check "kiosk --rdp: twm runs in the X session" wait_for 120 twm_runs
e2e_check "kiosk --rdp: the xfreerdp window covers the whole screen" \
	wait_for 120 window_covers "$d" desk-rdp
sleep 3
x_shot "$d" "$T/kiosk-rdp.png"
e2e_check "kiosk --rdp: the screen is the RDP server's screen" \
	shows_server "$T/kiosk-rdp.png" 720x400+0+0
check_password "kiosk --rdp"
VIEWER=$(in_session xfreerdp)
e2e_check "kiosk --rdp: an xfreerdp runs in the session" test -n "$VIEWER"
[ -n "$VIEWER" ] && kill $VIEWER
e2e_check "kiosk --rdp: ending xfreerdp ends the X session (xinit exits)" wait_for 60 ended
rdp_session_gone() {
	[ -z "$(in_session twm)" ] && [ -z "$(in_session xfreerdp)" ] && [ ! -e "/tmp/.X11-unix/X$d" ]
}
e2e_check "kiosk --rdp: then the X server, twm and xfreerdp are gone" wait_for 60 rdp_session_gone
wait "$XINIT" 2>/dev/null

check_password "at the end"
e2e_check "libvirt keeps the definition with the password private (0600)" \
	test "$(e2e_in_ns stat -c %a /etc/libvirt/qemu/desk-vnc.xml)" = 600

[ "$E2E_FAILED" -eq 0 ] || e2e_daemon_dump_logs
lv destroy --yes
e2e_check "labvirt destroy --yes" test "$LV_RC" -eq 0
e2e_summary
