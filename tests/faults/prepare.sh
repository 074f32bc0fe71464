#!/usr/bin/env bash
# Faults of the first-boot preparation step, for real (libguestfs on real qcow2
# clones of Alpine-like and Ubuntu-like images, as tests/prepare.sh builds them;
# libvirt's test:///default driver, whose domains live only as long as one run):
#   - the step fails (LABVIRT_FAIL_STEP="prepare disks"): exit 1, the step named,
#     the new volumes removed, no journal left;
#   - labvirt killed (SIGKILL) before the preparation, during it (the appliance up,
#     the first disk written) and after it but before it is recorded: the volumes
#     stay behind, made but not known to be prepared (a half-prepared disk must not
#     boot); the next up removes them from the journal, makes and prepares them
#     again; or destroy removes them. Killed during it, the appliance's QEMU and
#     libguestfs's temporary directories (its socket directory, its TMPDIR one)
#     must go away by themselves.
# Usage: prepare.sh LABVIRT. Exits 77 without root or guestfish.
set -uo pipefail
labvirt=$(realpath "$1")
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (libguestfs appliance)"; exit 77; }
command -v guestfish >/dev/null || { echo "SKIP: needs guestfish"; exit 77; }
command -v getfattr >/dev/null || { echo "SKIP: needs getfattr"; exit 77; }
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
unset LABVIRT_FAIL_STEP LABVIRT_KILL_STEP LABVIRT_KILL_AT LABVIRT_URI
tmp=$(mktemp -d /tmp/labvirt-prepfault.XXXXXX)
spy=
trap '[ -z "$spy" ] || kill "$spy" 2>/dev/null; rm -rf "$tmp"' EXIT
export LABVIRT_STATE_DIR=$tmp/state
journal=$LABVIRT_STATE_DIR/prep.journal
# shellcheck source=../check.sh
. "$(dirname "$0")/../check.sh"

rootfs() { # DIR ID VERSION: a tiny root filesystem that inspection recognises
	mkdir -p "$1"/{etc,bin,sbin,root,home,lib/apk/db,var/lib}
	printf 'NAME="%s"\nID=%s\nVERSION_ID=%s\n' "$2" "$2" "$3" >"$1/etc/os-release"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$1/etc/passwd"
	printf 'root:x:0:root\n' >"$1/etc/group"
	printf 'root:*::0:::::\n' >"$1/etc/shadow"
	printf '/dev/vda / ext4 rw 0 1\n' >"$1/etc/fstab"
	touch "$1/lib/apk/db/installed" "$1/bin/sh"
}
rootfs "$tmp/alpine" alpine 3.20.3
echo 3.20.3 >"$tmp/alpine/etc/alpine-release"
rootfs "$tmp/ubuntu" ubuntu 24.04
mkdir -p "$tmp/ubuntu/etc/cloud" "$tmp/lab/img" "$tmp/store"
echo "datasource_list: [NoCloud]" >"$tmp/ubuntu/etc/cloud/cloud.cfg"
for os in alpine ubuntu; do
	truncate -s 32M "$tmp/lab/img/$os.raw" && mkfs.ext4 -q -d "$tmp/$os" "$tmp/lab/img/$os.raw"
done
printf 'lab: prep\n\taccel tcg\ndir: local\n\tpath %s\nbridge: vmbr0\n\tmode isolated\n' \
	"$tmp/store" >"$tmp/lab/lab.cfg"
for g in alp:alpine ubu:ubuntu; do
	printf 'virtio0: local:0,import-from=img/%s.raw\nnet0: virtio,bridge=vmbr0\nipconfig0: ip=dhcp\nciuser: admin\nsshkeys: ssh-ed25519%%20AAAAC3NzaC1lZDI1NTE5AAAAIHx%%2Bkey%%20me%%40pc\n' \
		"${g#*:}" >"$tmp/lab/${g%%:*}.conf"
done
vols=("$tmp/store/prep-alp-virtio0.qcow2" "$tmp/store/prep-ubu-virtio0.qcow2")

lv() { # [VAR=VALUE...] ARGS...: OUT, ERR, RC
	local -a envs=()
	while [[ $1 == *=* ]]; do envs+=("$1") && shift; done
	OUT=$(env ${envs[@]+"${envs[@]}"} "$labvirt" -c test:///default -L "$tmp/lab" "$@" 2>"$tmp/err")
	RC=$?
	ERR=$(cat "$tmp/err")
}
store() { (cd "$tmp/store" && find . -mindepth 1 | LC_ALL=C sort); }
prepared() { # VOLUME: carries the marker prepare_disks sets once done
	getfattr -n user.labvirt.prepared --only-values "$1" >/dev/null 2>&1
}
before=$(store)

# The appliance of a run killed during the preparation: its QEMU is the one whose
# command line names this test's volumes (so started by this test); its socket
# directory is in that command line (.../guestfsd.sock); libguestfs's temporary
# directory goes under TMPDIR, here one of the test's own (the appliance stays
# cached where it is).
gtmp=$tmp/gtmp
mkdir -p "$gtmp"
appliance() { pgrep -f "qemu-system.*$tmp/store/" >/dev/null; }
spy_start() { # records the appliance's command lines in $tmp/seen until spy_stop
	: >"$tmp/seen"
	while :; do
		pgrep -af "qemu-system.*$tmp/store/" >>"$tmp/seen"
		sleep 0.1
	done &
	spy=$!
}
spy_stop() { kill "$spy" && wait "$spy" 2>/dev/null; spy=; }
sockdirs() { grep -o 'path=[^ ,]*/guestfsd\.sock' "$tmp/seen" | sort -u | sed 's|^path=||; s|/guestfsd\.sock$||'; }
leftovers() { # none of the appliance's processes or files
	! appliance || return 1
	[ -z "$(find "$gtmp" -mindepth 1 -print -quit)" ] || return 1
	local d
	while read -r d; do [ ! -e "$d" ] || return 1; done < <(sockdirs)
}
gone_within() { # SECS: polls until leftovers finds none; WAITED: the time it took
	local start=$SECONDS
	until leftovers; do
		[ $((SECONDS - start)) -lt "$1" ] || { WAITED=; return 1; }
		sleep 0.2
	done
	WAITED=$((SECONDS - start))
}
kill_during() { # up killed during the preparation, then the checks of what it leaves
	spy_start
	lv TMPDIR="$gtmp" LIBGUESTFS_CACHEDIR="${LIBGUESTFS_CACHEDIR:-/var/tmp}" \
		LABVIRT_KILL_STEP="prepare disks" LABVIRT_KILL_AT=during up
	spy_stop
	check "kill during 'prepare disks': died of SIGKILL" test "$RC" = 137
	check "kill during 'prepare disks': the appliance was running (its QEMU seen, $(sockdirs | wc -l) socket directory)" test "$(sockdirs | wc -l)" = 1
	check "kill during 'prepare disks': the journal is left" grep -q "^begun	volume	prepare	" "$journal"
	check "kill during 'prepare disks': the volumes are not prepared" bash -c "! getfattr -n user.labvirt.prepared '${vols[0]}' 2>/dev/null"
	gone_within 60
	check "kill during 'prepare disks': no appliance QEMU, socket or temporary directory left within 60 s (${WAITED:-over 60} s)" test -n "$WAITED"
	if [ -z "$WAITED" ]; then
		pgrep -af "qemu-system.*$tmp/store/" | cut -c1-120 | sed 's/^/#   ! /'
		{ find "$gtmp" -mindepth 1 && sockdirs | xargs -r ls -d 2>/dev/null; } | sed 's/^/#   ! /'
	fi
}

lv LABVIRT_FAIL_STEP="prepare disks" up
check "fail 'prepare disks': exit 1" test "$RC" = 1
check "fail 'prepare disks': the step named" grep -qx "labvirt: up: prepare disks: injected fault" <<<"$ERR"
check "fail 'prepare disks': the new volumes undone" grep -qx "undone: create volume ${vols[0]} for alp/virtio0" <<<"$ERR"
check "fail 'prepare disks': storage as before" test "$(store)" = "$before"
check "fail 'prepare disks': no journal left" test ! -e "$journal"

for at in before during after; do
	if [ "$at" = during ]; then
		kill_during
	else
		lv LABVIRT_KILL_STEP="prepare disks" LABVIRT_KILL_AT=$at up
		check "kill $at 'prepare disks': died of SIGKILL" test "$RC" = 137
		check "kill $at 'prepare disks': the journal is left" grep -q "^begun	volume	prepare	" "$journal"
	fi
	check "kill $at 'prepare disks': the volumes are there" test -e "${vols[0]}" -a -e "${vols[1]}"
	if [ "$at" = after ]; then
		check "kill after 'prepare disks': the volumes were prepared" prepared "${vols[0]}"
	elif [ "$at" = before ]; then
		check "kill before 'prepare disks': the volumes are not prepared" bash -c "! getfattr -n user.labvirt.prepared '${vols[0]}' 2>/dev/null"
	fi
	lv up
	check "kill $at, then up: exit 0" test "$RC" = 0
	[ "$RC" = 0 ] || sed 's/^/#   ! /' <<<"$ERR"
	for v in "${vols[@]}"; do
		check "kill $at, then up: $(basename "$v") removed as unprepared" \
			grep -qx "recover: removed unprepared volume $v" <<<"$OUT"
		check "kill $at, then up: $(basename "$v") made and prepared again" prepared "$v"
	done
	check "kill $at, then up: both prepared in one launch" grep -q "^prepared 2 disks in one libguestfs launch (" <<<"$OUT"
	check "kill $at, then up: the journal is gone" test ! -e "$journal"
	lv destroy --yes
	check "kill $at, then up, destroy: storage as before" test "$(store)" = "$before"
done

lv LABVIRT_KILL_STEP="prepare disks" up
check "kill after 'prepare disks' again: died of SIGKILL" test "$RC" = 137
lv destroy --yes
check "kill, then destroy: exit 0" test "$RC" = 0
check "kill, then destroy: storage as before" test "$(store)" = "$before"
check "kill, then destroy: the journal is gone" test ! -e "$journal"

kill_during
lv destroy --yes
check "kill during, then destroy: exit 0" test "$RC" = 0
check "kill during, then destroy: storage as before" test "$(store)" = "$before"
check "kill during, then destroy: the journal is gone" test ! -e "$journal"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
