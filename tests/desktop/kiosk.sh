#!/bin/bash
# labvirt kiosk without X: the exact session file (golden files, with @LABVIRT@ and
# @LAB@ for the binary's and the lab's absolute paths), --output, the backup of an
# existing file, the default ~/.xinitrc, and the check of the packages it needs.
#
#   kiosk.sh PATH_TO_labvirt
#
# Prints "ok - ..." / "not ok - ..." lines and "N passed, N failed".
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LABVIRT=$(realpath "$1")
LAB=$HERE/lab
T=$(mktemp -d /tmp/labvirt-kiosk.XXXXXX)
trap 'rm -rf "$T"' EXIT
export LABVIRT_STATE_DIR=$T/state # not the machine's own (/var/lib/labvirt)
unset LABVIRT_URI SUDO_USER
PASSED=0 FAILED=0
check() {
	local desc=$1
	shift
	if "$@" >&2; then
		PASSED=$((PASSED + 1)) && echo "ok - $desc"
	else
		FAILED=$((FAILED + 1)) && echo "not ok - $desc"
	fi
}
expected() { sed -e "s|@LABVIRT@|$LABVIRT|" -e "s|@LAB@|$LAB|" "$HERE/$1"; }
lv() { "$LABVIRT" -L "$LAB" "$@" >"$T/out" 2>"$T/err"; echo $? >"$T/rc"; }
rc() { cat "$T/rc"; }

lv kiosk --print desktop
check "kiosk --print desktop: exit 0" test "$(rc)" = 0
check "kiosk --print desktop: exactly kiosk-desktop.expected" \
	diff -u <(expected kiosk-desktop.expected) "$T/out"
lv -c qemu:///system kiosk --print --rdp --user "o'brien" server
check "kiosk --print --rdp: exactly kiosk-rdp.expected (quoting, -c, --user)" \
	diff -u <(expected kiosk-rdp.expected) "$T/out"
check "kiosk --print writes nothing" test ! -e "$T/home/.xinitrc"

lv kiosk server
check "kiosk of a guest without graphics: exit 2" test "$(rc)" = 2
check "... and says so" grep -qx "labvirt: kiosk: guest 'server' has no graphical console (give it 'vga: qxl' or 'vga: std', or use --rdp)" "$T/err"

# Every program missing: the packages are named, nothing is written.
PATH=/nonexistent lv kiosk --output "$T/x" desktop
check "missing programs: exit 1" test "$(rc)" = 1
check "missing programs: the Debian packages are named" grep -qx \
	"labvirt: kiosk: missing Debian packages: xinit xserver-xorg twm virt-viewer x11-utils xdotool (apt-get install --no-install-recommends xinit xserver-xorg twm virt-viewer x11-utils xdotool)" "$T/err"
PATH=/nonexistent lv kiosk --rdp --output "$T/x" server
check "missing programs with --rdp: freerdp2-x11 instead of virt-viewer" grep -q \
	"missing Debian packages: xinit xserver-xorg twm freerdp2-x11 " "$T/err"
check "missing programs: no file written" test ! -e "$T/x"

have_all=1
for p in xinit Xorg twm remote-viewer xprop xdotool; do command -v "$p" >/dev/null || have_all=0; done
if [ "$have_all" = 1 ]; then
	lv kiosk --output "$T/x" desktop
	check "kiosk --output: exit 0" test "$(rc)" = 0
	check "kiosk --output: the file is kiosk-desktop.expected" diff -u <(expected kiosk-desktop.expected) "$T/x"
	check "kiosk --output: the file is executable (0755)" test "$(stat -c %a "$T/x")" = 755
	lv kiosk --output "$T/x" desktop
	check "kiosk again: nothing changes, no backup" \
		sh -c "grep -q 'already this kiosk' '$T/out' && ! ls '$T'/x.labvirt-backup* 2>/dev/null"
	echo "exec xterm" >"$T/x"
	lv kiosk --output "$T/x" desktop
	check "an existing file is kept as FILE.labvirt-backup" \
		sh -c "grep -qx 'exec xterm' '$T/x.labvirt-backup' && grep -q 'kept as $T/x.labvirt-backup' '$T/out'"
	check "... and the new one written" diff -u <(expected kiosk-desktop.expected) "$T/x"
	echo "exec xclock" >"$T/x"
	lv kiosk --output "$T/x" desktop
	check "a second backup does not replace the first" \
		sh -c "grep -qx 'exec xterm' '$T/x.labvirt-backup' && grep -qx 'exec xclock' '$T/x.labvirt-backup.2'"
	mkdir "$T/home"
	HOME=$T/home lv kiosk desktop
	check "without --output: \$HOME/.xinitrc" diff -u <(expected kiosk-desktop.expected) "$T/home/.xinitrc"
else
	echo "# xinit, Xorg, twm, remote-viewer, xprop or xdotool missing (scripts/deps installs them): writing not checked" >&2
	FAILED=$((FAILED + 1)) && echo "not ok - the kiosk's programs are installed (scripts/deps)"
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
