#!/bin/bash
# virsh-ct.sh - bench/ct.sh's containers brought up the way a shell script would do it
# with tar, mke2fs, mount and virsh, on lxc:///system (and the bridge's network on
# qemu:///system). XMLDIR holds CT.xml per container (what `labvirt xml CT` prints);
# each is started from the folder its <filesystem><source dir=.../> names.
#
#   virsh-ct.sh full TEMPLATE WORKDIR XMLDIR NETXML CT...
#       the network (net-define, net-start), then per container: tar -I zstd -xpf the
#       template into WORKDIR/CT/tree, ids shifted by 100000 (one chown -R --from per
#       owner found), mke2fs -t ext4 -d tree -E root_owner=100000:100000 of a 256 MiB
#       WORKDIR/CT/rootfs.raw, the tree removed, mount -o loop on the XML's folder,
#       virsh define, virsh start.
#   virsh-ct.sh define POOL XMLDIR CT...
#       per container: mount -o loop POOL/ctb-CT-rootfs.raw on the XML's folder
#       (an already made volume), virsh define, virsh start.
#   virsh-ct.sh start POOL XMLDIR CT...
#       the same for already defined, shut-off containers: mount, virsh start.
#
# Unlike labvirt, the id shift here is chown's, which clears setuid/setgid bits (the
# busybox template has none), and nothing of the container's identity (hostname,
# hosts, network config) is written into the tree.
set -euo pipefail
SHIFT=100000
LURI=lxc:///system
mode=${1:-}
case $mode in
full) [ $# -ge 6 ] || { echo "usage: $0 full TEMPLATE WORKDIR XMLDIR NETXML CT..." >&2; exit 2; } ;;
define | start) [ $# -ge 4 ] || { echo "usage: $0 $mode POOL XMLDIR CT..." >&2; exit 2; } ;;
*) sed -n '2,20s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
shift

# The folder the container's XML mounts as its root.
mnt_of() { sed -n 's:.*<source dir="\([^"]*\)"/>.*:\1:p' "$1" | head -n 1; }

if [ "$mode" = full ]; then
	template=$1 work=$2 xmldir=$3 netxml=$4
	shift 4
	virsh -q -c qemu:///system net-define "$netxml" >/dev/null
	virsh -q -c qemu:///system net-start "$(sed -n 's:.*<name>\(.*\)</name>.*:\1:p' "$netxml")" >/dev/null
	for ct in "$@"; do
		d=$work/$ct
		mkdir -p "$d/tree"
		tar -I zstd -xpf "$template" -C "$d/tree" --numeric-owner
		find "$d/tree" -printf '%U %G\n' | sort -u | while read -r u g; do
			chown -hR --from="$u:$g" "$((u + SHIFT)):$((g + SHIFT))" "$d/tree"
		done
		mke2fs -F -q -t ext4 -E root_owner=$SHIFT:$SHIFT -d "$d/tree" "$d/rootfs.raw" 256M
		rm -rf "$d/tree"
		m=$(mnt_of "$xmldir/$ct.xml")
		mkdir -p "$m"
		mount -o loop "$d/rootfs.raw" "$m"
		virsh -q -c "$LURI" define "$xmldir/$ct.xml" >/dev/null
		virsh -q -c "$LURI" start "$ct" >/dev/null
	done
	exit 0
fi

pool=$1 xmldir=$2
shift 2
for ct in "$@"; do
	m=$(mnt_of "$xmldir/$ct.xml")
	mkdir -p "$m"
	mount -o loop "$pool/ctb-$ct-rootfs.raw" "$m"
	[ "$mode" = define ] && virsh -q -c "$LURI" define "$xmldir/$ct.xml" >/dev/null
	virsh -q -c "$LURI" start "$ct" >/dev/null
done
