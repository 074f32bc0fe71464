#!/usr/bin/env bash
# First-boot preparation for real, without booting: `labvirt up` on libvirt's
# test:///default driver makes real qcow2 linked clones of small ext4 images
# that libguestfs inspection recognises as Alpine and as Ubuntu (built here
# with mkfs.ext4 -d), prepares them with libguestfs in one appliance launch,
# and the files it wrote are read back with guestfish and compared with
# tests/prepare/*.golden. An OS labvirt does not know is an error that names
# it, and leaves no volume. Usage: prepare.sh LABVIRT TESTS_DIR
set -uo pipefail
labvirt=$1
here=$2
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (libguestfs appliance)"; exit 77; }
command -v guestfish >/dev/null || { echo "SKIP: needs guestfish"; exit 77; }
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
tmp=$(mktemp -d /tmp/labvirt-prepare.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export LABVIRT_STATE_DIR=$tmp/state # not the machine's own (/var/lib/labvirt)
# shellcheck source=check.sh
. "$(dirname "$0")/check.sh"

# rootfs DIR ID VERSION: a tiny root filesystem with os-release.
rootfs() {
	mkdir -p "$1"/{etc,bin,sbin,root,home,lib/apk/db,var/lib}
	printf 'NAME="%s"\nID=%s\nVERSION_ID=%s\n' "$2" "$2" "$3" >"$1/etc/os-release"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$1/etc/passwd"
	printf 'root:x:0:root\n' >"$1/etc/group"
	printf 'root:*::0:::::\n' >"$1/etc/shadow"
	printf '/dev/vda / ext4 rw 0 1\n' >"$1/etc/fstab" # inspection looks for it
	touch "$1/lib/apk/db/installed" "$1/bin/sh"
}
image() { truncate -s 32M "$2" && mkfs.ext4 -q -d "$1" "$2"; }
rootfs "$tmp/alpine" alpine 3.20.3
echo 3.20.3 >"$tmp/alpine/etc/alpine-release"
rootfs "$tmp/ubuntu" ubuntu 24.04
mkdir -p "$tmp/ubuntu/etc/cloud"
echo "datasource_list: [NoCloud]" >"$tmp/ubuntu/etc/cloud/cloud.cfg"
rootfs "$tmp/fedora" fedora 40
mkdir -p "$tmp/lab/img" "$tmp/store/snippets"
for os in alpine ubuntu fedora; do image "$tmp/$os" "$tmp/lab/img/$os.raw"; done
printf '#cloud-config\npackages: [xubuntu-desktop, xrdp]\n' >"$tmp/store/snippets/desk.yaml"

cat >"$tmp/lab/lab.cfg" <<CFG
lab: prep
	accel tcg
dir: local
	path $tmp/store
	content images,snippets
bridge: vmbr0
	mode isolated
CFG
cat >"$tmp/lab/alp.conf" <<'CONF'
virtio0: local:0,import-from=img/alpine.raw
net0: virtio=52:54:00:00:00:0a,bridge=vmbr0
ipconfig0: ip=10.10.10.5/24,gw=10.10.10.1
nameserver: 10.10.10.1
searchdomain: lab.example
ciuser: admin
cipassword: $6$labvirt$Jr4f1DZwg4GqcYZ0.pLZ0gbhqIBmYBBRwq2/xFbDEzSnS3rTGXbXbT6c/9xP0yZ8cKQPXKvSCs5EBDJqFgkBi.
sshkeys: ssh-ed25519%20AAAAC3NzaC1lZDI1NTE5AAAAIHx%2Bkey%20me%40pc
CONF
cat >"$tmp/lab/ubu.conf" <<'CONF'
virtio0: local:0,import-from=img/ubuntu.raw
net0: virtio=52:54:00:00:00:0b,bridge=vmbr0
net1: virtio=52:54:00:00:00:0c,bridge=vmbr0
ipconfig0: ip=10.10.10.6/24,gw=10.10.10.1
ipconfig1: ip=dhcp
nameserver: 10.10.10.1 10.10.10.2
searchdomain: lab.example
ciuser: admin
cipassword: $6$labvirt$Jr4f1DZwg4GqcYZ0.pLZ0gbhqIBmYBBRwq2/xFbDEzSnS3rTGXbXbT6c/9xP0yZ8cKQPXKvSCs5EBDJqFgkBi.
sshkeys: ssh-ed25519%20AAAAC3NzaC1lZDI1NTE5AAAAIHx%2Bkey%20me%40pc
CONF
cat >"$tmp/lab/desk.conf" <<'CONF'
virtio0: local:0,import-from=img/ubuntu.raw
net0: virtio=52:54:00:00:00:0d,bridge=vmbr0
ipconfig0: ip=dhcp
cicustom: user=local:snippets/desk.yaml
CONF

"$labvirt" -c test:///default -L "$tmp/lab" plan >"$tmp/plan" 2>&1
check "plan lists the preparation of each new volume, after its creation" diff -u - "$tmp/plan" <<PLAN
+ create network labvirt-prep-vmbr0 (bridge vmbr0, isolated)
+ create volume $tmp/store/prep-alp-virtio0.qcow2 for alp/virtio0
+ prepare volume $tmp/store/prep-alp-virtio0.qcow2 for alp/virtio0
+ define domain alp
+ start domain alp
+ create volume $tmp/store/prep-desk-virtio0.qcow2 for desk/virtio0
+ prepare volume $tmp/store/prep-desk-virtio0.qcow2 for desk/virtio0
+ define domain desk
+ start domain desk
+ create volume $tmp/store/prep-ubu-virtio0.qcow2 for ubu/virtio0
+ prepare volume $tmp/store/prep-ubu-virtio0.qcow2 for ubu/virtio0
+ define domain ubu
+ start domain ubu
lab prep: 13 changes
PLAN

"$labvirt" -c test:///default -L "$tmp/lab" up >"$tmp/out" 2>"$tmp/err"
check "up prepares three disks: exit 0" test $? = 0
cat "$tmp/err"
check "... in one libguestfs launch" grep -q "^prepared 3 disks in one libguestfs launch (" "$tmp/out"
grep "^prepare\|^prepared" "$tmp/out"
check "... the Alpine one found as Alpine" grep -qx "prepare volume $tmp/store/prep-alp-virtio0.qcow2 for alp/virtio0 (alpinelinux 3.20)" "$tmp/out"
check "... the Ubuntu one as Ubuntu" grep -qx "prepare volume $tmp/store/prep-ubu-virtio0.qcow2 for ubu/virtio0 (ubuntu 24.4)" "$tmp/out"
check "... each volume carries the marker" bash -c "getfattr -n user.labvirt.prepared --only-values '$tmp/store/prep-desk-virtio0.qcow2' 2>/dev/null | grep -qx 'ubuntu 24.4' || ! command -v getfattr >/dev/null"
check "the base image was not changed" bash -c "guestfish --ro -a '$tmp/lab/img/alpine.raw' -m /dev/sda is-file /etc/hostname | grep -qx false"

# read VOLUME FILE...: the files as labvirt wrote them, one after another.
# One appliance launch per volume.
read_back() {
	local vol=$1 cmds=()
	shift
	for f in "$@"; do cmds+=(echo "== $f" : cat "$f" :); done
	guestfish --ro -a "$vol" -m /dev/sda "${cmds[@]}" echo "== end"
}
read_back "$tmp/store/prep-alp-virtio0.qcow2" /etc/hostname /etc/hosts /etc/network/interfaces \
	/etc/resolv.conf /etc/passwd /etc/group /etc/shadow /home/admin/.ssh/authorized_keys >"$tmp/alp.txt" 2>&1
seed=/var/lib/cloud/seed/nocloud
read_back "$tmp/store/prep-ubu-virtio0.qcow2" $seed/meta-data $seed/user-data $seed/network-config >"$tmp/ubu.txt" 2>&1
read_back "$tmp/store/prep-desk-virtio0.qcow2" $seed/meta-data $seed/user-data $seed/network-config >"$tmp/desk.txt" 2>&1
for t in alp ubu desk; do
	if [ -n "${LABVIRT_REGENERATE:-}" ]; then cp "$tmp/$t.txt" "$here/prepare/$t.golden"; fi
	check "files written into $t are exactly prepare/$t.golden" diff -u "$here/prepare/$t.golden" "$tmp/$t.txt"
done

# A second up prepares nothing again.
"$labvirt" -c test:///default -L "$tmp/lab" up >"$tmp/out2" 2>&1
check "a second up prepares nothing" bash -c "! grep -q '^prepare' '$tmp/out2'"

# An OS labvirt does not know: a clear error, and no volume left.
mkdir -p "$tmp/lab2"
sed "s/^lab: prep/lab: prep2/" "$tmp/lab/lab.cfg" >"$tmp/lab2/lab.cfg"
printf 'virtio0: local:0,import-from=%s\nnet0: virtio,bridge=vmbr0\nipconfig0: ip=dhcp\n' "$tmp/lab/img/fedora.raw" >"$tmp/lab2/fed.conf"
"$labvirt" -c test:///default -L "$tmp/lab2" up >"$tmp/out3" 2>"$tmp/err3"
check "unknown OS: exit 1" test $? = 1
cat "$tmp/err3"
check "unknown OS: the error names what was found" grep -q "the guest's OS is linux/fedora 40.0, which labvirt cannot prepare (it knows alpinelinux, ubuntu and debian)" "$tmp/err3"
check "unknown OS: the new volume was removed" test ! -e "$tmp/store/prep2-fed-virtio0.qcow2"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
