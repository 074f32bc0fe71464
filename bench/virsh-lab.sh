#!/bin/bash
# virsh-lab.sh - the benchmark's lab brought up the way a shell script would do it
# with qemu-img and virsh: an isolated network (net-define, net-start), then per
# guest a qcow2 volume, `virsh define` of a hand-written XML, `virsh start`.
#
#   virsh-lab.sh URI POOLDIR KERNEL INITRD MEMORY_MIB GUEST...
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
	disk=$pool/bench-$g-virtio0.qcow2
	qemu-img create -q -f qcow2 "$disk" 64M
	cat >"$tmp/$g.xml" <<XML
<domain type='qemu'>
  <name>$g</name>
  <memory unit='MiB'>$mem</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$kernel</kernel>
    <initrd>$initrd</initrd>
    <cmdline>console=ttyS0 labvirt.name=$g</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$disk'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='bridge'>
      <source bridge='vmbr0'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <video><model type='vga'/></video>
    <memballoon model='virtio'/>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
  </devices>
</domain>
XML
	virsh -q -c "$uri" define "$tmp/$g.xml" >/dev/null
	virsh -q -c "$uri" start "$g" >/dev/null
done
