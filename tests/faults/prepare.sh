#!/usr/bin/env bash
# Faults of the first-boot preparation step, for real (libguestfs on real qcow2
# clones of Alpine-like and Ubuntu-like images, as tests/prepare.sh builds them;
# libvirt's test:///default driver, whose domains live only as long as one run):
#   - the step fails (LABVIRT_FAIL_STEP="prepare disks"): exit 1, the step named,
#     the new volumes removed, no journal left;
#   - labvirt killed (SIGKILL) before the preparation, and after it but before it is
#     recorded: the volumes stay behind, made but not known to be prepared (a
#     half-prepared disk must not boot); the next up removes them from the journal,
#     makes and prepares them again; or destroy removes them.
# Usage: prepare.sh LABVIRT. Exits 77 without root or guestfish.
set -uo pipefail
labvirt=$(realpath "$1")
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (libguestfs appliance)"; exit 77; }
command -v guestfish >/dev/null || { echo "SKIP: needs guestfish"; exit 77; }
command -v getfattr >/dev/null || { echo "SKIP: needs getfattr"; exit 77; }
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
unset LABVIRT_FAIL_STEP LABVIRT_KILL_STEP LABVIRT_KILL_AT LABVIRT_URI
tmp=$(mktemp -d /tmp/labvirt-prepfault.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
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

lv LABVIRT_FAIL_STEP="prepare disks" up
check "fail 'prepare disks': exit 1" test "$RC" = 1
check "fail 'prepare disks': the step named" grep -qx "labvirt: up: prepare disks: injected fault" <<<"$ERR"
check "fail 'prepare disks': the new volumes undone" grep -qx "undone: create volume ${vols[0]} for alp/virtio0" <<<"$ERR"
check "fail 'prepare disks': storage as before" test "$(store)" = "$before"
check "fail 'prepare disks': no journal left" test ! -e "$journal"

for at in before after; do
	lv LABVIRT_KILL_STEP="prepare disks" LABVIRT_KILL_AT=$at up
	check "kill $at 'prepare disks': died of SIGKILL" test "$RC" = 137
	check "kill $at 'prepare disks': the volumes are there" test -e "${vols[0]}" -a -e "${vols[1]}"
	check "kill $at 'prepare disks': the journal is left" grep -q "^begun	volume	prepare	" "$journal"
	if [ "$at" = after ]; then
		check "kill after 'prepare disks': the volumes were prepared" prepared "${vols[0]}"
	else
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

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
