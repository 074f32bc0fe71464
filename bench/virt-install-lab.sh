#!/bin/bash
# virt-install-lab.sh - the benchmark's lab brought up with virt-install: the
# isolated network with virsh (virt-install makes no networks), then one
# `virt-install --import` per guest, which creates the qcow2 volume through
# libvirt's storage pool of POOLDIR, defines the domain and starts it.
#
#   virt-install-lab.sh URI POOLDIR KERNEL INITRD MEMORY_MIB GUEST...
set -euo pipefail
[ $# -ge 6 ] || { echo "usage: $0 URI POOLDIR KERNEL INITRD MEMORY_MIB GUEST..." >&2; exit 2; }
uri=$1 pool=$2 kernel=$3 initrd=$4 mem=$5
shift 5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/net.xml" <<XML
<network>
  <name>labvirt-bench-vmbr0</name>
  <bridge name='vmbr0' stp='on' delay='0'/>
  <ip address='10.77.0.1' netmask='255.255.255.0'/>
</network>
XML
virsh -q -c "$uri" net-define "$tmp/net.xml" >/dev/null
virsh -q -c "$uri" net-start labvirt-bench-vmbr0 >/dev/null

for g in "$@"; do
	virt-install -q --connect "$uri" --name "$g" --virt-type qemu --memory "$mem" --vcpus 1 \
		--osinfo detect=off,require=off --import --noautoconsole --graphics none \
		--boot "kernel=$kernel,initrd=$initrd,kernel_args=console=ttyS0 labvirt.name=$g" \
		--disk "path=$pool/bench-$g-virtio0.qcow2,size=0.0625,format=qcow2,bus=virtio" \
		--network bridge=vmbr0,model=virtio >/dev/null
done
