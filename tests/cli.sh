#!/usr/bin/env bash
# The command line of the real binary: usage errors, help, version, layout
# errors and exit codes. Needs no libvirt daemon (nothing here connects).
# Usage: cli.sh PATH_TO_labvirt TESTS_DIR
set -uo pipefail
LABVIRT=$1
TESTS=$2
passed=0 failed=0
T=$(mktemp -d /tmp/labvirt-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
export LABVIRT_STATE_DIR=$T/state
unset LABVIRT_URI

# expect CODE STDOUT_FILE_OR_- STDERR_TEXT -- ARGS... : exact stderr, exit code
expect() {
	local code=$1 want_err=$2 desc=$3
	shift 3
	local out err rc
	out=$("$LABVIRT" "$@" 2>"$T/err")
	rc=$?
	err=$(cat "$T/err")
	if [ "$rc" = "$code" ] && [ "$err" = "$want_err" ]; then
		passed=$((passed + 1))
		echo "ok - $desc"
	else
		failed=$((failed + 1))
		printf 'not ok - %s\n  exit %s (want %s)\n  stderr: %s\n  want:   %s\n' \
			"$desc" "$rc" "$code" "$err" "$want_err"
	fi
	LAST_OUT=$out
}

expect_out() { # DESC PATTERN : last stdout matches the pattern
	if [[ $LAST_OUT == $2 ]]; then
		passed=$((passed + 1))
		echo "ok - $1"
	else
		failed=$((failed + 1))
		printf 'not ok - %s\n  stdout: %s\n' "$1" "$LAST_OUT"
	fi
}

expect 2 "usage: labvirt [-L LABDIR] [-c URI] COMMAND [ARGS]

Brings up a Proxmox-style lab of libvirt guests from layout files.

Commands:
  up           [--wait [--timeout SECONDS]] [GUEST...]
  plan         [GUEST...]
  status       [--json] [GUEST...]
  console      GUEST
  down         [--timeout SECONDS] [GUEST...]
  destroy      [--yes] [GUEST...]
  xml          GUEST
  validate     
  ip           GUEST
  view         [--full-screen] [--kiosk] [--rdp [--user NAME]] GUEST
  kiosk        [--print] [--output FILE] [--rdp [--user NAME]] GUEST
  snapshot     [--vmstate] [--description TEXT] GUEST NAME
  rollback     [--start] GUEST NAME
  delsnapshot  GUEST NAME
  listsnapshot [--json] GUEST
  backup       [--dir DIR] [--compress zstd|gzip|lzo|0] [--mode snapshot|suspend|stop] GUEST...
  restore      ARCHIVE [VMID] [--as NAME] [--storage ID] [--unique]
  clone        [--full] [--storage ID] GUEST NEWNAME [VMID]
  fetch        [--all] [GUEST...]

Options:
  -L, --lab DIR      the lab folder (default: domains)
  -c, --connect URI  libvirt URI (default: LABVIRT_URI, the lab's uri,
                     qemu:///system if a daemon answers, else embedded)
  -h, --help         this help; 'labvirt COMMAND --help' for a command
  -V, --version      print the version

Exit codes: 0 done, 1 failed, 2 usage or layout error.
labvirt: no command given" "no command is a usage error"
expect 0 "" "--help" --help
expect_out "--help lists the commands" "usage: labvirt *Commands:*destroy*Exit codes*"
expect 0 "" "--version" --version
expect_out "--version prints the version" "labvirt [0-9]*.[0-9]*.[0-9]*"
expect 2 "labvirt: unknown command 'frobnicate' (see labvirt --help)" "unknown command" frobnicate
expect 2 "labvirt: unknown option '--bogus'" "unknown global option" --bogus up
expect 2 "labvirt: -L needs a value" "missing option value" -L
for verb in up plan status console down destroy xml validate ip view kiosk fetch snapshot \
	rollback delsnapshot listsnapshot backup restore clone; do
	expect 0 "" "$verb --help" "$verb" --help
	expect_out "$verb --help shows its usage" "usage: labvirt $verb*"
done
expect 2 "labvirt: up: unknown option '--force'" "unknown verb option" -L "$TESTS/lifecycle/lab" up --force
expect 2 "labvirt: up: --timeout goes with --wait" "up --timeout without --wait" \
	-L "$TESTS/lifecycle/lab" up --timeout 5
expect 2 "labvirt: view: --user goes with --rdp" "view --user without --rdp" \
	-L "$TESTS/lifecycle/lab" -c test:///default view --user me a
expect 2 "labvirt: kiosk: name one guest" "kiosk without a guest" -L "$TESTS/lifecycle/lab" kiosk
expect 2 "labvirt: down: --timeout 'soon' is not 0..86400 seconds" "bad --timeout" \
	-L "$TESTS/lifecycle/lab" down --timeout soon
expect 2 "labvirt: usage: labvirt snapshot GUEST NAME (see labvirt snapshot --help)" \
	"snapshot without its name" -L "$TESTS/lifecycle/lab" snapshot a
expect 2 "labvirt: backup: --compress 'xz': one of zstd, gzip, lzo, 0" "backup --compress xz" \
	-L "$TESTS/lifecycle/lab" backup --compress xz a
expect 2 "labvirt: backup: --mode pause: snapshot, suspend or stop" \
	"backup --mode pause" -L "$TESTS/lifecycle/lab" backup --mode pause a
expect 2 "labvirt: restore: /nonexistent/x.vma is not named as vzdump names archives: give the VMID" \
	"restore of a file not named as vzdump names them" -L "$TESTS/lifecycle/lab" restore /nonexistent/x.vma
expect 2 "labvirt: usage: labvirt clone GUEST NEWNAME [VMID] [--full] [--storage ID]" \
	"clone without a new name" -L "$TESTS/lifecycle/lab" clone a
expect 2 "labvirt: clone: '99' is not a VMID (100 or more)" "clone with a bad VMID" \
	-L "$TESTS/lifecycle/lab" clone a b 99
expect 2 "labvirt: clone: 'B c' is not a valid guest name" "clone to a bad name" \
	-L "$TESTS/lifecycle/lab" clone a "B c"
expect 2 "labvirt: restore: 'abc' is not a VMID (100 or more)" "restore with a bad VMID" \
	-L "$TESTS/lifecycle/lab" restore /nonexistent/x.vma abc
expect 2 "labvirt: validate takes no arguments" "validate with an argument" \
	-L "$TESTS/lifecycle/lab" validate extra
expect 0 "" "validate a good lab" -L "$TESTS/lifecycle/lab" validate
expect_out "validate says what it checked" "lab lc: 2 guests, 1 storage, 1 bridge: valid"
expect 2 "labvirt: xml: name one guest" "xml without a guest" -L "$TESTS/lifecycle/lab" xml
expect 2 "labvirt: no guest 'zz' in lab 'lc'" "xml of an unknown guest" \
	-L "$TESTS/lifecycle/lab" xml zz
expect 0 "" "xml of a guest (accel set: no connection)" -L "$TESTS/lifecycle/lab" xml a
expect_out "xml is the rendered domain" "<domain type=\"qemu\">*<name>a</name>*</domain>"

# Options after the operands too, GNU style, for every verb; "--" ends the options.
# same DESC "ARGS1" "ARGS2": two command lines (split on blanks) that must run alike:
# exit 0, the same stdout (not empty) and the same stderr.
same() {
	local desc=$1 out1 out2 rc1 rc2
	# shellcheck disable=SC2086 # the words of each command line
	out1=$("$LABVIRT" $2 2>"$T/err1")
	rc1=$?
	# shellcheck disable=SC2086
	out2=$("$LABVIRT" $3 2>"$T/err2")
	rc2=$?
	if [ "$rc1:$rc2" = 0:0 ] && [ -n "$out1" ] && [ "$out1" = "$out2" ] &&
		cmp -s "$T/err1" "$T/err2"; then
		passed=$((passed + 1))
		echo "ok - $desc"
	else
		failed=$((failed + 1))
		printf 'not ok - %s\n  exit %s and %s\n  stderr: %s\n  and:    %s\n' "$desc" \
			"$rc1" "$rc2" "$(cat "$T/err1")" "$(cat "$T/err2")"
	fi
}
mkdir -p "$T/desk"
printf 'lab: desk\n\taccel tcg\n\ndir: local\n\tpath %s/pool\n' "$T" >"$T/desk/lab.cfg"
printf 'name: xubuntu\nvga: qxl\nvirtio0: local:8\n' >"$T/desk/xubuntu.conf"
D="-L $T/desk -c test:///default"
same "kiosk GUEST --print: as kiosk --print GUEST" "$D kiosk --print xubuntu" "$D kiosk xubuntu --print"
same "kiosk GUEST --rdp --print --user=NAME: as the options first" \
	"$D kiosk --print --rdp --user me xubuntu" "$D kiosk xubuntu --rdp --print --user=me"
same "status GUEST --json: as status --json GUEST" "$D status --json xubuntu" "$D status xubuntu --json"
same "xml -- GUEST: as xml GUEST" "$D xml xubuntu" "$D xml -- xubuntu"
expect 2 "labvirt: kiosk: name one guest" "kiosk GUEST -- --print: after --, no option" \
	-L "$T/desk" kiosk xubuntu -- --print
expect 2 "labvirt: no guest '--print' in lab 'desk'" "xml -- --print: a guest called --print" \
	-L "$T/desk" xml -- --print
for verb in up plan status console down destroy xml validate ip view kiosk fetch snapshot \
	rollback delsnapshot listsnapshot backup restore clone; do
	expect 2 "labvirt: $verb: unknown option '--bogus'" "$verb GUEST --bogus: an option after the guest" \
		-L "$T/desk" -c test:///default "$verb" xubuntu --bogus
done
expect 2 "labvirt: up: --timeout goes with --wait" "up GUEST --timeout, without --wait" \
	-L "$T/desk" -c test:///default up xubuntu --timeout 5
expect 2 "labvirt: kiosk: --output needs a value" "kiosk GUEST --output, no value" \
	-L "$T/desk" kiosk xubuntu --output

# A bad layout: every error, file:line, exit 2, and nothing created.
mkdir -p "$T/bad"
printf 'lab: bad\n\taccel tcg\n\ndir: local\n\tpath %s/pool\n\nbridge: vmbr0\n\tmode isolated\n' "$T" >"$T/bad/lab.cfg"
printf 'name: one\ncores: 0\nvirtio0: local:8\nfoo: bar\n' >"$T/bad/one.conf"
printf 'name: two\nmemory: lots\nnet0: virtio,bridge=vmbr9\nvirtio0: local:8\n' >"$T/bad/two.conf"
for verb in validate up plan; do
	expect 2 "$T/bad/one.conf:2: cores: '0' is out of range (1..128)
$T/bad/one.conf:4: unknown key 'foo'
$T/bad/two.conf:2: memory: 'lots' is not a whole number of MiB
$T/bad/two.conf:3: net0: bridge 'vmbr9' is not defined in lab.cfg
labvirt: layout '$T/bad' has 4 errors" "$verb reports every layout error" -L "$T/bad" "$verb"
done
if [ -e "$T/pool" ] || [ -e "$T/state/embed" ]; then
	failed=$((failed + 1))
	echo "not ok - a bad layout creates nothing"
else
	passed=$((passed + 1))
	echo "ok - a bad layout creates nothing"
fi
expect 2 "$T/missing: cannot read: No such file or directory
labvirt: layout '$T/missing' has 1 error" "a missing lab folder" -L "$T/missing" validate

# Proxmox's protection: 1: destroy refuses, before it asks or removes anything (the
# test:///default driver in the process: no daemon).
mkdir -p "$T/prot"
printf 'lab: prot\n\ndir: local\n\tpath %s/prot-pool\n\nbridge: vmbr0\n\tmode isolated\n' "$T" >"$T/prot/lab.cfg"
printf 'name: keep\nprotection: 1\nmemory: 256\nnet0: virtio,bridge=vmbr0\n' >"$T/prot/100.conf"
printf 'name: other\nmemory: 256\nnet0: virtio,bridge=vmbr0\n' >"$T/prot/101.conf"
expect 1 "labvirt: destroy: guest keep is protected (protection: 1 in $T/prot/100.conf): nothing removed" \
	"destroy refuses a protected guest" -L "$T/prot" -c test:///default destroy --yes
expect 0 "" "destroy of the others goes on" -L "$T/prot" -c test:///default destroy --yes other
expect_out "destroy of the others: done" "*lab prot: destroyed*"

# A copy of /etc/pve with containers (lxc/): validate and xml take them; up refuses
# a container whose rootfs volume is not there (nothing made), then runs both kinds
# once it is (the test driver takes containers too).
mkdir -p "$T/pve/lxc" "$T/pve/qemu-server"
printf 'lab: pve\n\ndir: local\n\tpath %s/pve-pool\n\nbridge: vmbr0\n\tmode isolated\n' "$T" >"$T/pve/lab.cfg"
printf 'name: vm\nmemory: 256\nnet0: virtio,bridge=vmbr0\n' >"$T/pve/qemu-server/100.conf"
printf 'hostname: ct\nrootfs: local:200/vm-200-disk-0.raw,size=1G\nnet0: name=eth0,bridge=vmbr0,ip=dhcp\n' >"$T/pve/lxc/200.conf"
expect 0 "" "validate reads a container" -L "$T/pve" validate
expect_out "validate counts it" "lab pve: 2 guests, 1 storage, 1 bridge: valid"
expect 0 "" "xml renders a container" -L "$T/pve" xml ct
expect_out "its XML is LXC's" '<domain type="lxc">*<source file="'"$T"'/pve-pool/images/200/vm-200-disk-0.raw"/>*'
expect 1 "ct: rootfs volume '$T/pve-pool/images/200/vm-200-disk-0.raw' is missing: restore the container's backup there, or make a new one (rootfs: STORAGE:SIZE with ostemplate:)
labvirt: 1 file the lab needs is missing" \
	"up refuses a container without its rootfs" -L "$T/pve" -c test:///default up
if [ -e "$T/pve-pool" ]; then
	failed=$((failed + 1))
	echo "not ok - nothing made for it"
else
	passed=$((passed + 1))
	echo "ok - nothing made for it"
fi
mkdir -p "$T/pve-pool/images/200" && truncate -s 1G "$T/pve-pool/images/200/vm-200-disk-0.raw"
expect 0 "" "with its rootfs, up runs the VM and the container" -L "$T/pve" -c test:///default up
expect_out "both are up" "*define domain ct*define domain vm*lab pve is up: 2 of 2 guests running"

# A hostile template: etc -> an outside folder. The setup written into a new rootfs
# resolves paths as the container would (inside it): nothing lands outside.
if [ "$(id -u)" = 0 ] && command -v mke2fs >/dev/null; then
	mkdir -p "$T/evil/tree" "$T/outside/etc" "$T/evil/lab/lxc"
	ln -s "$T/outside/etc" "$T/evil/tree/etc"
	mkdir "$T/evil/tree/root"
	tar --owner=0 --group=0 --numeric-owner -C "$T/evil/tree" -czf "$T/evil/evil.tar.gz" .
	printf 'lab: evil\n\ndir: local\n\tpath %s/evil/pool\n\nbridge: vmbr0\n\tmode isolated\n' "$T" >"$T/evil/lab/lab.cfg"
	printf 'hostname: ct\nostype: debian\npassword: hunter22\nrootfs: local:0.0625\nostemplate: %s\nnet0: name=eth0,bridge=vmbr0,ip=dhcp\n' \
		"$T/evil/evil.tar.gz" >"$T/evil/lab/lxc/300.conf"
	expect 0 "" "up from a template whose etc leads outside" -L "$T/evil/lab" -c test:///default up
	if [ -z "$(ls -A "$T/outside/etc")" ]; then
		passed=$((passed + 1))
		echo "ok - nothing written through the template's symlink"
	else
		failed=$((failed + 1))
		echo "not ok - written outside the rootfs: $(ls -A "$T/outside/etc")"
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
