#!/bin/bash
# Writes the bad-layout corpus: one folder per case, tests/bad/CASE/lab/ holding a
# lab that labvirt must refuse (a valid base lab with one thing wrong). The expected
# stderr and exit code come from the runner: LABVIRT_REGENERATE=1 tests/bad/run.sh
# LABVIRT writes CASE/expected.err and CASE/expected.code (read the diff).
#
# Usage: tests/bad/make-corpus.sh   (rewrites every CASE/lab; keeps nothing else)
# Deterministic: the same script writes the same bytes (bash's RANDOM is seeded).
set -euo pipefail
OUT=$(cd "$(dirname "$0")" && pwd)
RANDOM=20240605

CFG_BASE=$'lab: bad\n\ndir: local\n\tpath images\n\nbridge: vmbr0\n\tmode isolated\n'
GUEST_BASE=(
	'cores: 1'
	'memory: 256'
	'net0: virtio,bridge=vmbr0'
	'virtio0: local:1'
)

# Old cases go; expected files of cases that still exist stay (the runner checks them).
for d in "$OUT"/*/; do
	[ -d "$d/lab" ] && rm -rf "$d/lab"
done
declare -A SEEN=()
C=""
N=0

# new SLUG: a case with the base lab.cfg and no guest yet
new() {
	[ -z "${SEEN[$1]-}" ] || {
		echo "make-corpus: case '$1' twice" >&2
		exit 1
	}
	SEEN[$1]=1
	C=$OUT/$1/lab
	mkdir -p "$C"
	printf '%s' "$CFG_BASE" >"$C/lab.cfg"
	N=$((N + 1))
}

# put FILE TEXT: FILE holds exactly TEXT
put() { printf '%s' "$2" >"$C/$1"; }

# from_base BASE FILE LINE...: the lines of the array named BASE, each LINE replacing
# the base line of its key (or added); a LINE "-KEY" drops that key; written to FILE
from_base() {
	local -n base=$1
	local file=$2 l k i
	shift 2
	local -a lines=("${base[@]}")
	for l in "$@"; do
		if [[ $l == -* ]]; then
			for i in "${!lines[@]}"; do
				[[ ${lines[$i]} == "${l#-}:"* ]] && unset "lines[$i]"
			done
			continue
		fi
		k=${l%%:*}
		for i in "${!lines[@]}"; do
			if [[ ${lines[$i]%%:*} == "$k" ]]; then
				lines[$i]=$l
				continue 2
			fi
		done
		lines+=("$l")
	done
	printf '%s\n' "${lines[@]}" >"$C/$file"
}

# guestf FILE LINE...: the base guest with those lines (see from_base)
guestf() { from_base GUEST_BASE "$@"; }

# g SLUG LINE...: a case whose one guest g.conf has those lines
g() {
	new "$1"
	shift
	guestf g.conf "$@"
}

# cfg SLUG TEXT: a case whose lab.cfg is TEXT, with the base guest
cfg() {
	new "$1"
	put lab.cfg "$2"
	guestf g.conf
}

# cfgadd SLUG TEXT: the base lab.cfg followed by TEXT
cfgadd() {
	new "$1"
	printf '%s' "$2" >>"$C/lab.cfg"
	guestf g.conf
}

# junk N: N pseudo-random bytes (deterministic)
junk() {
	local i h fmt=""
	for ((i = 0; i < $1; i++)); do
		printf -v h '%02x' $((RANDOM % 256))
		fmt+="\\x$h"
	done
	printf "$fmt"
}

# ---- whole files: empty, missing, huge, binary, truncated
new file-empty-lab-cfg
put lab.cfg ''
guestf g.conf
new file-missing-lab-cfg
rm "$C/lab.cfg"
guestf g.conf
new file-lab-cfg-only-comments
put lab.cfg $'# nothing here\n\n   # nor here\n'
guestf g.conf
new file-lab-cfg-is-dir
rm "$C/lab.cfg" && mkdir "$C/lab.cfg" && touch "$C/lab.cfg/.keep" # git keeps no empty folder
guestf g.conf
# (an empty guest file is a guest with Proxmox's defaults and no disk: valid)
new file-huge-guest
{
	guestf g.conf
	for ((i = 0; i < 19000; i++)); do printf '# %s\n' "padding line $i of a file far too large for a layout"; done
} >"$C/g.conf.tmp" && cat "$C/g.conf" "$C/g.conf.tmp" >"$C/x" && mv "$C/x" "$C/g.conf" && rm "$C/g.conf.tmp"
new file-huge-lab-cfg
{
	printf '%s' "$CFG_BASE"
	for ((i = 0; i < 19000; i++)); do printf '# %s\n' "padding line $i of a file far too large for a layout"; done
} >"$C/lab.cfg"
guestf g.conf
new file-long-line-guest
guestf g.conf "description: $(printf 'x%.0s' $(seq 5000))"
new file-long-line-lab-cfg
printf '# %s\n' "$(printf 'y%.0s' $(seq 4100))" >>"$C/lab.cfg"
guestf g.conf
new file-long-line-exact-4097
guestf g.conf "description: $(printf 'z%.0s' $(seq 4084))"
new file-many-long-lines
guestf g.conf
for i in 1 2 3; do printf '#%s\n' "$(printf 'w%.0s' $(seq 4200))" >>"$C/g.conf"; done
for n in 16 64 256 1024 4096; do
	new "file-binary-guest-$n"
	junk "$n" >"$C/g.conf"
done
for n in 16 300 2000; do
	new "file-binary-lab-cfg-$n"
	junk "$n" >"$C/lab.cfg"
	guestf g.conf
done
new file-nul-in-guest
guestf g.conf
printf 'name: g\0x\n' >>"$C/g.conf"
new file-nul-in-lab-cfg
printf '\0' >>"$C/lab.cfg"
guestf g.conf
new file-nul-only
printf '\0\0\0\0' >"$C/g.conf"
new file-elf-header-guest
printf '\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00>\x00' >"$C/g.conf"
new file-gzip-guest
printf '\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcb\x4b\xcc\x4d\xb5\x52' >"$C/g.conf"
new file-utf16-guest
printf '\xff\xfen\x00a\x00m\x00e\x00:\x00 \x00g\x00\n\x00' >"$C/g.conf"
new file-bom-guest
printf '\xef\xbb\xbf' >"$C/g.conf" && printf '%s\n' "${GUEST_BASE[@]}" >>"$C/g.conf"
new file-bom-lab-cfg
printf '\xef\xbb\xbf%s' "$CFG_BASE" >"$C/lab.cfg"
guestf g.conf
new file-dos-line-endings-guest
printf '%s\r\n' "${GUEST_BASE[@]}" >"$C/g.conf"
new file-dos-line-endings-lab-cfg
printf '%s' "$CFG_BASE" | sed 's/$/\r/' >"$C/lab.cfg"
guestf g.conf
new file-old-mac-line-endings
printf '%s\r' "${GUEST_BASE[@]}" >"$C/g.conf"
new file-lab-cfg-dev-zero
rm "$C/lab.cfg" && ln -s /dev/zero "$C/lab.cfg"
guestf g.conf
new file-lab-cfg-dangling-link
rm "$C/lab.cfg" && ln -s nowhere.cfg "$C/lab.cfg"
guestf g.conf
new file-name-invalid-utf8
guestf $'\xff\xfe.conf'
new file-name-control-char
guestf $'a\x01b.conf'
new file-name-escape-seq
guestf $'\x1b[31mred.conf'
# truncated: a file cut in the middle of a line
for t in 'net0: virtio,bri' 'net0: virtio,bridge=' 'net0: virtio=52:54:00:1' 'virtio0: local:' \
	'virtio0: loc' 'virtio0: local:1,cache=' 'memory: ' 'memory' 'cores:' 'smbios1: uuid=1234' \
	'boot: order=virtio0;' 'boot: order=' 'ide2: local:iso/' 'name: '; do
	slug=$(printf '%s' "$t" | tr -c 'a-z0-9' '-' | sed 's/--*/-/g; s/-$//')
	new "trunc-guest-$N-$slug"
	printf '%s\n' "${GUEST_BASE[@]}" | grep -v "^${t%%:*}:" >"$C/g.conf" || true
	printf '%s' "$t" >>"$C/g.conf"
done
for t in $'lab: bad\n\ndir: local\n\tpa' $'lab: bad\n\ndir: local\n\tpath images\n\nbridge: vmbr0\n\tmode iso' \
	$'lab: bad\n\ndir: local\n\tpath images\n\nbridge: vmbr0\n\tmode isolated\n\taddress 10.1.2.' \
	$'lab: bad\n\ndir: local\n\tpath images\n\nbridge:' $'lab: bad\n\ndir' $'lab: bad\n\ndir: local\n\tpath images\n\nbri' \
	$'la'; do
	new "trunc-lab-cfg-$N"
	put lab.cfg "$t"
	guestf g.conf
done

# ---- text: invalid UTF-8 and control characters inside lines
for b in '\x80' '\xc0\xaf' '\xe0\x80\xaf' '\xed\xa0\x80' '\xf4\x90\x80\x80' '\xc2\x85' '\x1b' '\x7f' '\x0b' \
	'\x0c' '\xc2' '\xf8\x88\x80\x80\x80' '\xfe' '\x08' '\x07'; do
	slug=$(printf '%s' "$b" | tr -d '\\x')
	new "text-guest-$slug"
	guestf g.conf
	printf "description: bad${b}byte\n" >>"$C/g.conf"
	new "text-lab-cfg-$slug"
	printf "\tpath images${b}\n" >"$C/x" && printf '%s' "$CFG_BASE" | sed 's/^\tpath images$/PLACEHOLDER/' |
		while IFS= read -r l; do if [ "$l" = PLACEHOLDER ]; then cat "$C/x"; else printf '%s\n' "$l"; fi; done >"$C/lab.cfg" && rm "$C/x"
	guestf g.conf
done

# ---- unknown keys, stanzas and properties
for k in hostpci16 usb14 serial4 parallel3 numa8 rng1 audio1 virtiofs10 unused256 efidisk1 \
	tpmstate1 vmid frobnicate NAME Name 'memory ' '-x' '_x' 'net' 'virtio' 'net32' 'net-1' 'virtio16' \
	'scsi31' 'sata6' 'ide4' 'net00' 'virtio01' 'ide99999999999999999999'; do
	slug=$(printf '%s' "$k" | tr -c 'a-zA-Z0-9' '-' | sed 's/--*/-/g; s/^-//; s/-$//' | tr 'A-Z' 'a-z')
	slug=${slug:-blank}
	[ -n "${SEEN[key-$slug]-}" ] && slug=$slug-$N
	new "key-$slug"
	guestf g.conf
	printf '%s: 1\n' "$k" >>"$C/g.conf"
done
for l in 'name g' 'name = g' ': g' 'name:g:h' $'\tcores: 2' 'cores :2' '[1snapshot]' \
	'[PENDING' '[]' '[special:other]' 'key with space: 1' 'ümlaut: 1' '=: 1' $'[snap1]\ncores: x' \
	$'[snap1]\ncores: 2\ncores: 2' $'[snap1]\nfrobnicate: 1'; do
	new "line-$N"
	guestf g.conf
	printf '%s\n' "$l" >>"$C/g.conf"
done
for s in zfspool nfs lvm cifs pbs rbd cephfs iscsi glusterfs zfs esxi DIR Dir 'dir ' x; do
	slug=$(printf '%s' "$s" | tr -c 'a-zA-Z0-9' '-' | sed 's/-*$//' | tr 'A-Z' 'a-z')
	[ -n "${SEEN[stanza-$slug]-}" ] && slug=$slug-$N
	cfgadd "stanza-$slug" $'\n'"$s: other"$'\n\tpath /srv\n'
	guestf g.conf 'scsi0: other:vm-1-disk-0,size=1G'
done
# storage.cfg beside lab.cfg: Proxmox's file; lab.cfg's stanza of the same id wins
new storage-cfg-zfs-used
put storage.cfg $'zfspool: local-zfs\n\tpool rpool/data\n\tsparse 1\n'
guestf g.conf 'virtio0: local-zfs:vm-1-disk-0,size=1G'
new storage-cfg-disabled
put storage.cfg $'dir: old\n\tpath /srv/old\n\tdisable 1\n'
guestf g.conf 'virtio0: old:1/vm-1-disk-0.qcow2,size=1G'
new storage-cfg-bad-key
put storage.cfg $'dir: more\n\tpath /srv/more\n\tsharde 1\n'
guestf g.conf
new storage-cfg-dup-id
put storage.cfg $'dir: a\n\tpath /srv/a\n\ndir: a\n\tpath /srv/b\n'
guestf g.conf
for p in 'dir:shared 2' 'dir:disable yes' 'dir:preallocation fast' 'dir:format vdi' 'dir:mkdir no' \
	'bridge:vlan 5' 'bridge:mtu 9000' 'bridge:ports eth0' 'bridge:stp on' 'lab:owner me' 'lab:path /x' \
	'lab:accel hvf' 'lab:accel KVM' 'lab:accel' 'dir:path' 'dir:content images,nonsense' 'dir:content' \
	'dir:content images,,iso' 'bridge:mode' 'bridge:mode bridged' 'bridge:mode NAT'; do
	stanza=${p%%:*} kv=${p#*:}
	new "cfgkey-$N-$stanza-${kv%% *}"
	case $stanza in
	lab) printf 'lab: bad\n\t%s\n\ndir: local\n\tpath images\n\nbridge: vmbr0\n\tmode isolated\n' "$kv" >"$C/lab.cfg" ;;
	dir) printf 'lab: bad\n\ndir: local\n\tpath images\n\t%s\n\nbridge: vmbr0\n\tmode isolated\n' "$kv" >"$C/lab.cfg" ;;
	bridge) printf 'lab: bad\n\ndir: local\n\tpath images\n\nbridge: vmbr0\n\tmode isolated\n\t%s\n' "$kv" >"$C/lab.cfg" ;;
	esac
	guestf g.conf
done
for v in 'virtio,bridge=vmbr0,tag=0' 'virtio,bridge=vmbr0,tag=4095' 'virtio,bridge=vmbr0,rate=fast' \
	'virtio,bridge=vmbr0,mtu=0' 'virtio,bridge=vmbr0,mtu=65521' 'virtio,bridge=vmbr0,queues=65' \
	'virtio,bridge=vmbr0,macaddr=52:54:00:00:00' 'virtio,bridge=vmbr0,trunks=5-1' 'virtio,bridge=vmbr0,trunks=1;' \
	'virtio,bridge=vmbr0,trunks=4095' 'virtio,bridge=vmbr0,vlan=5' 'virtio,bridge=vmbr0,=1' 'virtio,bridge=vmbr0,' 'virtio,,bridge=vmbr0' ',bridge=vmbr0' \
	'virtio,bridge=vmbr0,bridge=vmbr0' 'virtio,bridge=vmbr0,model=e1000' 'virtio,bridge' 'virtio,bridge=vmbr0,link_down=2' \
	'virtio,bridge=vmbr0,firewall=yes' 'virtio' 'e1001,bridge=vmbr0' 'VIRTIO,bridge=vmbr0' 'ne2k,bridge=vmbr0' \
	'bridge=vmbr0' 'virtio,bridge=vmbr1' 'virtio,bridge=' 'virtio,bridge=vmbr0 ,firewall=1'; do
	g "net-prop-$N" "net0: $v"
done
for v in 'local:1,iothread=2' 'local:1,ssd=yes' 'local:1,backup=no' 'local:1,aio=posix' 'local:1,file=x' \
	'local:1,cache=fast' 'local:1,discard=off' 'local:1,ro=yes' 'local:1,format=vdi' 'local:1,media=floppy' \
	'local:1,media=cdrom' 'local:1,clone=linked' 'local:1,clone=deep,import-from=/x.img' 'local:1,import-from=' \
	'local:1,cache=none,cache=none' 'local:1,size=' 'local:1,size=32X' 'local:1,size=-1G' 'local:1,size=G' \
	'local:1,size=1.5.5G' 'local:1,,' 'none' 'none,media=disk' 'local:iso/x.iso,media=cdrom' \
	'local:1,replicate=2' 'local:1,snapshot=on' 'local:1,serial=abc/def' \
	'local:1,serial=012345678901234567890' 'local:1,wwn=0x5000' 'local:1,wwn=5000c50015ea71ac' 'local:1,mbps=ten' \
	'local:1,iops=-1' 'local:1,iops_rd_max=1e3' 'local:1,rerror=crash' 'local:1,werror=' 'local:1,detect_zeroes=unmap' \
	'local:1,queues=1' 'local:1,queues=17' 'local:1,cyls=0' 'local:1,trans=chs' 'local:1,scsiblock=2' \
	'local:1,vendor=' 'local:1,bps_wr=lots' 'local:1,frobnicate=1' 'file=local:1,file=local:1' \
	'local:vm-1-disk-0' 'local:1/disk-0.qcow2' 'local:x/vm-1-disk-0.qcow2' 'local:cloudinit' \
	'local:1/vm-1-cloudinit.qcow2,media=cdrom'; do
	g "disk-prop-$N" "virtio0: $v"
done
for v in 'enabled=1,fstrim_cloned_disks=2' 'type=com1' '2' 'yes' 'enabled=2' 'enabled=1,enabled=1' \
	'1,freeze-fs-on-backup=maybe' '1,size=1'; do
	g "agent-$N" "agent: $v"
done
for v in 'std,clipboard=spice' 'qxl5' 'virtio-gpu' 'memory=2' 'memory=513' 'type=std,memory=x' 'serial4' 'std,std'; do
	g "vga-$N" "vga: $v"
done
for v in 'base64=1,serial=abc!' 'uuid=1234' 'uuid=zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz' 'uuid=' 'base64=2' \
	'base64=1,product=AAE=' 'chassis=x' \
	'uuid=123e4567-e89b-12d3-a456-4266141740000' 'uuid=123e4567e89b12d3a456426614174000' \
	'uuid={123e4567-e89b-12d3-a456-426614174000}'; do
	g "smbios1-$N" "smbios1: $v"
done
for k in ciuser cipassword sshkeys ipconfig0 nameserver searchdomain cicustom citype; do
	g "cloudinit-$k" "$k: x"
done
# the cloud-init drive: where it may be, and what only it carries
for v in 'virtio1: local:cloudinit' 'sata1: local:cloudinit,media=disk' 'ide2: nowhere:cloudinit' \
	'ide2: local:x/vm-1-cloudinit.qcow2' 'ide2: local:cloudinit,size=x'; do
	g "cidrive-$N" "$v" 'ciuser: admin'
done
g cidrive-ip6-without-drive 'virtio0: local:1,import-from=/x.img' 'ipconfig0: ip6=auto'
g cidrive-configdrive2-without-drive 'virtio0: local:1,import-from=/x.img' 'citype: configdrive2'
g cidrive-bad-ip6 'ide2: local:cloudinit' 'ipconfig0: ip6=fe80::1/129'
g cidrive-bad-gw6 'ide2: local:cloudinit' 'ipconfig0: ip6=2001:db8::5/64,gw6=2001:db8::zz'
g cidrive-gw6-without-static 'ide2: local:cloudinit' 'ipconfig0: ip6=auto,gw6=2001:db8::1'

for v in 'cdx' 'legacy=cdnac' 'order=virtio0;net1' 'order=virtio1' 'order=' 'order=virtio0;virtio0' \
	'order=ide2' 'order=net0,virtio0' 'legacy=' 'C'; do
	g "boot-$N" "boot: $v"
done
for v in 'wxp2' 'linux' 'L26' 'l2 6' 'win12'; do g "ostype-$N" "ostype: $v"; done
for v in '2' 'yes' 'true' '01' '-1'; do g "onboot-$N" "onboot: $v"; done
for v in 'PC' 'q35;reboot' 'pc q35' 'pc/q35' '../q35'; do g "machine-$N" "machine: $v"; done
for v in 'tcp' 'pty' '/dev/' '/dev/../etc/passwd' 'socket,x=1'; do g "serial0-$N" "serial0: $v"; done

# ---- Proxmox's other keys: bad values, and host-bound devices without 'host-devices skip'
while IFS='|' read -r k v; do
	g "pve-$N-$k" "$k: $v"
done <<'KEYS'
cpu|host,flags=aes
cpu|kvm64,phys-bits=7
cpu|my model
cpu|kvm64,flags=+aes;;-pcid
cpu|kvm64,hidden=2
numa|2
numa0|memory=1024
numa0|cpus=3-1,memory=1024
numa0|cpus=0,policy=spread
balloon|-1
balloon|lots
shares|50001
bios|uefi
efidisk0|local
efidisk0|local:101/vm-101-disk-0.raw,efitype=8m
efidisk0|efitype=4m
efidisk0|nowhere:101/vm-101-disk-0.raw
tpmstate0|local:1/vm-1-disk-1.raw,version=v3
scsihw|virtio
tablet|2
localtime|yes
kvm|off
acpi|on
reboot|-1
vcpus|0
cpulimit|129
cpulimit|x
cpuunits|0
affinity|3-1
affinity|a
hugepages|4
vmgenid|abc
keyboard|us
arch|riscv64
startup|order=x
startup|up=1,sideways=2
watchdog|model=i6400
watchdog|i6300esb,action=explode
ivshmem|name=x
ivshmem|size=0
ivshmem|size=1,name=a b
spice_enhancements|videostreaming=some
spice_enhancements|foldersharing=2
args|-device 'x'
hookscript|local:hook.sh
hookscript|local:snippets/hook.pl
amd-sev|type=std
amd-sev|type=tdx
meta|ctime=x
meta|creation-qemu=8.1,owner=me
digest|xyz
lock|frozen
tags|a;-b
parent|x
hotplug|gpu
vmstatestorage|1x
migrate_downtime|soon
migrate_speed|fast
startdate|2024-13
startdate|yesterday
smp|0
rng0|source=/dev/zero
rng0|/dev/urandom,period=x
audio0|driver=spice
audio0|device=sb16
serial1|tcp
parallel0|/dev/lp0
usb0|host=1-2
usb0|host=xyz
usb0|mapping=dongle
usb0|usb3=1
hostpci0|host=zz
hostpci0|mapping=gpu
hostpci0|host=01:00.0;01:00.1
hostpci0|host=01:00.0,rombar=2
virtiofs0|dirid=share
virtiofs0|cache=never
unused0|x
unused0|local:vm-1-disk-1,size=1G
ciupgrade|2
autostart|yes
protection|yes
template|2
snaptime|now
tdf|1.0
freeze|true
bootdisk|net0
machine|q35,viommu=amd
machine|q35,enable-s3=2
KEYS
g kernel-initrd-without-kernel 'initrd: /boot/initrd.img'
g kernel-cmdline-without-kernel 'cmdline: console=ttyS0'

# ---- duplicates
new dup-guest-name-two-files
guestf a.conf 'name: same'
guestf b.conf 'name: same'
new dup-guest-file-stem-and-name
guestf g.conf
guestf h.conf 'name: g'
new dup-guest-vmid-and-name
guestf 100.conf 'name: web'
guestf web.conf
new dup-three-guests-one-name
guestf a.conf 'name: x'
guestf b.conf 'name: x'
guestf c.conf 'name: x'
g dup-key-memory 'memory: 256' 'cores: 1'
printf 'memory: 512\n' >>"$C/g.conf"
g dup-key-name 'name: g'
printf 'name: g\n' >>"$C/g.conf"
g dup-key-net0
printf 'net0: virtio,bridge=vmbr0\n' >>"$C/g.conf"
new dup-mac-two-guests
guestf a.conf 'net0: virtio=52:54:00:aa:bb:cc,bridge=vmbr0'
guestf b.conf 'net0: virtio=52:54:00:aa:bb:cc,bridge=vmbr0'
new dup-mac-case
guestf a.conf 'net0: virtio=52:54:00:AA:BB:CC,bridge=vmbr0'
guestf b.conf 'net0: e1000=52:54:00:aa:bb:cc,bridge=vmbr0'
g dup-mac-one-guest 'net0: virtio=52:54:00:12:34:56,bridge=vmbr0' 'net1: virtio=52:54:00:12:34:56,bridge=vmbr0'
new dup-mac-three-guests
for x in a b c; do guestf $x.conf 'net0: virtio=52:54:00:00:00:01,bridge=vmbr0'; done
new dup-uuid
guestf a.conf 'smbios1: uuid=123e4567-e89b-12d3-a456-426614174000'
guestf b.conf 'smbios1: uuid=123E4567-E89B-12D3-A456-426614174000'
cfg dup-lab-stanza $'lab: bad\nlab: bad\n\ndir: local\n\tpath images\n\nbridge: vmbr0\n\tmode isolated\n'
cfgadd dup-storage-id $'\ndir: local\n\tpath other\n'
cfgadd dup-storage-id-lvmthin $'\nlvmthin: local\n\tvgname pve\n\tthinpool data\n'
cfgadd dup-bridge $'\nbridge: vmbr0\n\tmode isolated\n'
cfg dup-cfg-key $'lab: bad\n\ndir: local\n\tpath images\n\tpath images\n\nbridge: vmbr0\n\tmode isolated\n'
g dup-disk-prop 'virtio0: local:1,cache=none,discard=on,cache=none'

# ---- names: guests (name: and file stem), labs, bridges, storages
names=('a/b' '../x' '..' '.' 'a b' ' ' '-a' 'a-' 'a_b' 'a..b' '.a' 'a.' 'a.-b' '<x>' 'a&b' '"a"' "it's" 'a;b'
	'a|b' '$(id)' '`id`' 'a$b' 'a*' 'a?' 'a!' '~a' '{a}' '[a]' 'a\b' 'a#b' 'a%b' 'a@b' 'a=b' 'a,b' 'a+b'
	$'\xd0\xb0lpine' $'alp\xce\xb9ne' $'\xef\xbd\x81' $'a\xe2\x80\x93b' $'a\xe2\x80\x8bb' $'a\xc2\xa0b' $'a\xcc\x81'
	$'\xe2\x80\xaeenilpla' $'\xe2\x85\xbcab' $'\xc3\xa9t\xc3\xa9'
	"$(printf 'a%.0s' $(seq 64))" "$(printf 'b%.0s' $(seq 100))" "$(printf 'c%.0s' $(seq 1000))"
	'&lt;' ']]>' '<!--' 'a:b' '*')
i=0
for nm in "${names[@]}"; do
	i=$((i + 1))
	g "name-guest-$i" "name: $nm"
done
i=0
for nm in '-a' 'a-' 'a..b' 'a_b' 'a b' $'\xd0\xb0' "$(printf 'd%.0s' $(seq 64))" '.a' 'a;b' '<a>'; do
	i=$((i + 1))
	new "name-file-$i"
	guestf "$nm.conf" '-name'
done
i=0
for nm in 'a/b' '..' 'Bad' 'a b' 'a_b' '$(id)' '<x>' $'b\xd0\xb0d' "$(printf 'e%.0s' $(seq 64))" '-x' 'x-' ''; do
	i=$((i + 1))
	cfg "name-lab-$i" "lab: $nm"$'\n\ndir: local\n\tpath images\n\nbridge: vmbr0\n\tmode isolated\n'
done
i=0
for nm in 'vmbr0/x' '..' '.' 'averyveryverylong' 'a b' 'a;b' $'vmbr\xd0\xb0' '$(id)' 'a:b' 'a*'; do
	i=$((i + 1))
	new "name-bridge-$i"
	printf 'lab: bad\n\ndir: local\n\tpath images\n\nbridge: %s\n\tmode isolated\n' "$nm" >"$C/lab.cfg"
	guestf g.conf "net0: virtio,bridge=$nm"
done
i=0
for nm in '1local' 'lo cal' 'lo/cal' 'local;rm' '-local' 'lo:cal' $'l\xd0\xbecal' '$x' "$(printf 'f%.0s' $(seq 5000))"; do
	i=$((i + 1))
	new "name-storage-$i"
	printf 'lab: bad\n\ndir: %s\n\tpath images\n\nbridge: vmbr0\n\tmode isolated\n' "$nm" >"$C/lab.cfg"
	guestf g.conf "virtio0: $nm:1"
done
for v in 'local:iso/../x.iso' 'local:iso/a/b.iso' 'local:iso/' 'local:iso/.' 'local:iso/..' 'local:other/x.iso' \
	'local:import/../../etc/passwd' 'local:vm-100-disk-0' 'local-lvm:vm-100-disk-0' 'local:iso/x.iso'; do
	g "volume-$N" "ide2: $v,media=cdrom"
done
g volume-relative-path 'virtio0: images/disk.qcow2'
g volume-empty-disk 'virtio0: '
g volume-none-disk 'virtio0: none'
g volume-storage-only 'virtio0: local'
g volume-colon-only 'virtio0: :1'

# ---- numbers: memory, cores, sockets, vmid
for v in 0 -1 1.5 0x100 1e3 99999999999999999999999 18446744073709551616 18446744073709551615 \
	4294967296 4194305 15 2G 2048M '2048 MiB' '+512' '' 'current=0' 'current=' 'current=1.5' \
	'current=-1' 'balloon=0' 'current=512,current=512' $'\xef\xbc\x95\xef\xbc\x91\xef\xbc\x92' \
	$'\xd9\xa5\xd9\xa1\xd9\xa2' '5 12' '512k' 'max' 'NaN' 'inf' '-0' '0.0' '１'; do
	g "memory-$N" "memory: $v"
done
for v in 0 -2 1.5 129 4294967297 two '' '1 2' '+1' 0x2 1e1 99999999999999999999 -0 '2,3'; do
	g "cores-$N" "cores: $v"
done
for v in 0 17 -1 1.0 99999999999 ''; do g "sockets-$N" "sockets: $v"; done
g vcpus-over-limit 'cores: 128' 'sockets: 16'
g vcpus-just-over 'cores: 64' 'sockets: 9'
for f in 0 1000000000 9999999999 -1 00; do
	new "vmid-$N"
	guestf "$f.conf" '-name'
done

# ---- disk sizes
for v in 0 -1 -0 1e3 131073 999999999999999999999 18446744073709551616 32G 32GiB 32M '0.5T' \
	'.5.5' '5.' ',5' '1,5' '' '-0.5' 0x10 inf nan ' 1' '1 0' '1_000' '0.00000' 131072.1 \
	"$(printf '9%.0s' $(seq 300))" '１'; do
	g "size-$N" "virtio0: local:$v"
done

# ---- networks: MACs and bridges in lab.cfg
for m in '01:00:5e:00:00:01' 'ff:ff:ff:ff:ff:ff' '52:54:00:12:34' '52:54:00:12:34:56:78' '52-54-00-12-34-56' \
	'52:54:00:12:34:5g' '5254.0012.3456' '525400123456' '52:54:00:12:34:' ' 52:54:00:12:34:56' '52:54:0:12:34:56' \
	'52:54:00:12:34:567' $'52:54:00:12:34:5\xd0\xb0'; do
	g "mac-$N" "net0: virtio=$m,bridge=vmbr0"
done
for b in 'address 10.0.0.0/24' 'address 10.0.0.255/24' 'address 10.0.0.1/31' 'address 10.0.0.1/7' \
	'address 256.1.1.1/24' 'address 010.1.1.1/24' 'address 10.1.1.1' 'address 10.1.1.1/' 'address 10.1.1.1/33' \
	'address ::1/64' 'address 10.1.1.1/24/24' 'address 10.1.1.1 /24' 'address 10.1.1.1/-1' \
	$'address 10.1.1.1/24\n\tdhcp-range 10.1.1.100-10.1.1.50' $'address 10.1.1.1/24\n\tdhcp-range 10.1.2.10-10.1.2.20' \
	$'address 10.1.1.1/24\n\tdhcp-range 10.1.1.0-10.1.1.20' $'address 10.1.1.1/24\n\tdhcp-range 10.1.1.1-10.1.1.20' \
	$'address 10.1.1.1/24\n\tdhcp-range 10.1.1.10' $'address 10.1.1.1/24\n\tdhcp-range x-y' 'dhcp-range 10.1.1.10-10.1.1.20'; do
	new "bridge-cfg-$N"
	printf 'lab: bad\n\ndir: local\n\tpath images\n\nbridge: vmbr0\n\tmode isolated\n\t%s\n' "$b" >"$C/lab.cfg"
	guestf g.conf
done
cfg bridge-nat-no-address $'lab: bad\n\ndir: local\n\tpath images\n\nbridge: vmbr0\n\tmode nat\n'
cfg bridge-nat-default-range-has-address $'lab: bad\n\ndir: local\n\tpath images\n\nbridge: vmbr0\n\taddress 10.1.1.200/24\n'
cfg bridge-host-with-address $'lab: bad\n\ndir: local\n\tpath images\n\nbridge: vmbr0\n\tmode host\n\taddress 10.1.1.1/24\n'
cfg bridge-none-defined $'lab: bad\n\ndir: local\n\tpath images\n'
cfg storage-none-defined $'lab: bad\n\nbridge: vmbr0\n\tmode isolated\n'
cfg lab-stanza-missing $'dir: local\n\tpath images\n\nbridge: vmbr0\n\tmode isolated\n'
cfg lvmthin-no-vg $'lab: bad\n\nlvmthin: local\n\tthinpool data\n\nbridge: vmbr0\n\tmode isolated\n'
cfg lvmthin-bad-vg $'lab: bad\n\nlvmthin: local\n\tvgname -pve\n\tthinpool da/ta\n\nbridge: vmbr0\n\tmode isolated\n'
g storage-undefined 'virtio0: nowhere:1'
g storage-undefined-iso 'ide2: nowhere:iso/x.iso,media=cdrom'

# ---- host conflicts: the layout is valid, this host (test:///default) says no
g host-guest-named-test 'name: test'
new host-vmid-named-test
guestf 100.conf 'name: test'
new host-test-conf
guestf test.conf
cfg host-bridge-missing $'lab: bad\n\ndir: local\n\tpath images\n\nbridge: labvirtnone0\n\tmode host\n'
sed -i 's/bridge=vmbr0/bridge=labvirtnone0/' "$C/g.conf"
cfg host-bridge-missing-and-test $'lab: bad\n\ndir: local\n\tpath images\n\nbridge: labvirtnone1\n\tmode host\n'
guestf g.conf 'name: test' 'net0: virtio,bridge=labvirtnone1'
g host-foreign-volume
mkdir -p "$C/images" && printf 'not labvirt\n' >"$C/images/bad-g-virtio0.qcow2"
g host-volume-is-dir
mkdir -p "$C/images/bad-g-virtio0.qcow2" && touch "$C/images/bad-g-virtio0.qcow2/.keep"
# files the lab needs that are not there (exit 1, nothing made)
g missing-kernel 'kernel: vmlinuz-none' '-virtio0'
g missing-iso 'ide2: local:iso/none.iso,media=cdrom'
g missing-import 'virtio0: local:1,import-from=none.img'
g missing-plain-disk 'virtio0: /nonexistent/labvirt-disk.qcow2'

# ---- containers (lxc/VMID.conf): the base container with one thing wrong
CT_BASE=(
	'hostname: ct'
	'memory: 256'
	'net0: name=eth0,bridge=vmbr0,ip=dhcp'
	'rootfs: local:200/vm-200-disk-0.raw,size=1G'
)
# c SLUG LINE...: a case whose one container lxc/200.conf has those lines
c() {
	new "$1"
	shift
	mkdir -p "$C/lxc"
	from_base CT_BASE lxc/200.conf "$@"
}
for v in 'local:0' 'local:x' 'nowhere:1' '/srv' 'local:200/../x.raw' 'local:200/vm-200-disk-0.raw,mp=/x' \
	'local:1,size=1G,bogus=1' 'local:200/vm-200-disk-0.raw,acl=2' 'local:200/vm-200-disk-0.raw,mountoptions=rw,x' \
	'volume=' 'local:99999999999' ',' 'local:1' 'local-lvm:vm-200-disk-0'; do
	c "ct-rootfs-$N" "rootfs: $v"
done
for v in 'local:1,mp=/' 'local:1,mp=x' 'local:1,mp=/a/../b' '/srv/x,mp=/x,quota=1' 'local:1' \
	'/srv/../etc,mp=/x' 'local:1,mp=/x,backup=yes' 'local:1,mp=/x,idmap=u:0:0:1'; do
	c "ct-mp0-$N" "mp0: $v"
done
for v in 'bridge=vmbr0' 'name=eth0' 'name=eth0,bridge=vmbr9' 'name=eth0,bridge=vmbr0,ip=10.0.0.1' \
	'name=eth0,bridge=vmbr0,ip=dhcp,gw=10.0.0.1' 'name=eth0,bridge=vmbr0,ip6=fe80::1' \
	'name=eth0,bridge=vmbr0,hwaddr=01:02:03:04:05:06' 'name=eth0,bridge=vmbr0,type=macvlan' \
	'name=eth 0,bridge=vmbr0' 'name=eth0,bridge=vmbr0,mtu=0' 'name=eth0,bridge=vmbr0,tag=4095' \
	'name=eth0,bridge=vmbr0,rate=fast' 'virtio,bridge=vmbr0' 'name=eth0,bridge=vmbr0,model=virtio'; do
	c "ct-net0-$N" "net0: $v"
done
for l in 'arch: arm64' 'arch: x86_64' 'cores: 0' 'memory: 15' 'swap: -1' 'hostname: a_b' 'hostname: -x' \
	'features: nesting=yes' 'features: bogus=1' 'features: mount=nfs,cifs' 'cmode: serial' 'tty: 7' \
	'console: 2' 'unprivileged: yes' 'timezone: /etc/localtime' 'entrypoint: init' 'env: =x' \
	'ostemplate: local:iso/x.tar.zst' 'ostemplate: nowhere:vztmpl/x.tar.zst' 'ostemplate: noimage' \
	'password: abc' 'ssh-public-keys: nokeys.pub' 'lock: clone' 'cpulimit: 9000' 'cpuunits: 500001' \
	'dev0: /dev/ttyUSB0' 'dev0: ttyUSB0' 'lxc.apparmor.profile: unconfined' 'lxc: x' 'vga: std' \
	'scsi0: local:1' 'ostype: l26' 'startup: order=x' 'tags: a b!' 'unused0: nothing' \
	'hookscript: local:snippets/h.pl' '[pve:pending' '-rootfs'; do
	c "ct-key-$N" "$l"
done
c ct-new-rootfs-without-template 'rootfs: local:1'
c ct-template-on-existing-rootfs 'ostemplate: local:vztmpl/debian.tar.zst'
c ct-vmid-clash
guestf 200.conf
c ct-duplicate-hostname
guestf g.conf 'name: ct'

# ---- several problems in several files at once
new many-files
put lab.cfg $'lab: Bad\n\ndir: 1x\n\tpath images\n\tfoo bar\n\nbridge: vmbr0\n\tmode nat\n'
guestf a.conf 'memory: 0' 'cores: -1' 'net0: virtio=01:00:00:00:00:00,bridge=vmbr9'
guestf b.conf 'name: a' 'virtio0: local:0' 'hostpci0: 01:00.0'
junk 100 >"$C/c.conf"

# ---- btrfs: Proxmox's stanza and keys (BTRFSPlugin)
btrfs_cfg() { # NAME KEYLINE
	new "$1"
	put lab.cfg "lab: bad"$'\n\n'"btrfs: local"$'\n\tpath images\n\t'"$2"$'\n\nbridge: vmbr0\n\tmode isolated\n'
	guestf g.conf
}
btrfs_cfg btrfs-nocow-yes 'nocow yes'
btrfs_cfg btrfs-format-qcow2 'format qcow2'
btrfs_cfg btrfs-thinpool 'thinpool data'
btrfs_cfg btrfs-content-nonsense 'content images,nonsense'
new btrfs-no-path
put storage.cfg $'btrfs: local-btrfs\n\tcontent images,rootdir\n'
guestf g.conf
new btrfs-volume-no-vmid
put storage.cfg $'btrfs: fast\n\tpath /srv/fast\n'
guestf g.conf 'scsi1: fast:vm-disk-0.raw,size=1G'
new btrfs-subvol-for-vm
put storage.cfg $'btrfs: fast\n\tpath /srv/fast\n'
guestf g.conf 'scsi1: fast:100/subvol-100-disk-0.subvol,size=1G'
# ---- lvm (thick LVM, Proxmox's LVMPlugin); at the end, so that no case above is renumbered
LVM_CFG=$'\nlvm: vg\n\tvgname pve\n\tcontent images,rootdir\n'
cfg lvm-no-vg $'lab: bad\n\nlvm: local\n\tsaferemove 1\n\nbridge: vmbr0\n\tmode isolated\n'
cfg lvm-bad-vg $'lab: bad\n\nlvm: local\n\tvgname pve/data\n\nbridge: vmbr0\n\tmode isolated\n'
cfgadd lvm-thinpool-key $'\nlvm: vg\n\tvgname pve\n\tthinpool data\n'
cfgadd lvm-bad-flags $'\nlvm: vg\n\tvgname pve\n\tsaferemove on\n\ttagged_only yes\n\tshared 2\n\tsnapshot-as-volume-chain x\n'
cfgadd lvm-bad-base $'\nlvm: vg\n\tvgname pve\n\tbase iscsi\n'
cfgadd lvm-bad-stepsize $'\nlvm: vg\n\tvgname pve\n\tsaferemove-stepsize 3\n'
cfgadd dup-storage-id-lvm $'\nlvm: local\n\tvgname pve\n'
cfgadd lvm-iso-volume "$LVM_CFG"
guestf g.conf 'ide2: vg:iso/x.iso,media=cdrom'
cfgadd lvm-import-from-lvm "$LVM_CFG"
guestf g.conf 'virtio0: local:0,import-from=vg:import/x.qcow2'
cfgadd lvm-disabled "$LVM_CFG"$'\tdisable 1\n'
guestf g.conf 'virtio0: vg:4'
cfgadd lvm-qcow2-volume "$LVM_CFG"$'\tsnapshot-as-volume-chain 1\n'
guestf g.conf 'virtio0: vg:vm-100-disk-0.qcow2,size=1G'
cfgadd lvm-ct-folder "$LVM_CFG"
mkdir -p "$C/lxc"
from_base CT_BASE lxc/200.conf 'rootfs: vg:0' 'ostemplate: local:vztmpl/x.tar.zst'

# ---- zfspool (Proxmox's ZFSPoolPlugin); at the end, so that no case above is renumbered
zfs_cfg() { # NAME KEYLINES...: a zfspool stanza 'z' with these lines
	local l body=$'\nzfspool: z\n'
	new "$1"
	shift
	for l in "$@"; do body+=$'\t'"$l"$'\n'; done
	put storage.cfg "$body"
	guestf g.conf
}
zfs_cfg zfs-no-pool 'sparse 1'
zfs_cfg zfs-pool-absolute 'pool /rpool'
zfs_cfg zfs-pool-empty-component 'pool rpool//data'
zfs_cfg zfs-pool-trailing-slash 'pool rpool/data/'
zfs_cfg zfs-blocksize-not-power 'pool rpool' 'blocksize 3k'
zfs_cfg zfs-blocksize-too-big 'pool rpool' 'blocksize 32m'
zfs_cfg zfs-blocksize-leading-zero 'pool rpool' 'blocksize 08k'
zfs_cfg zfs-sparse-yes 'pool rpool' 'sparse yes'
zfs_cfg zfs-mountpoint-relative 'pool rpool' 'mountpoint rpool'
zfs_cfg zfs-path-key 'pool rpool' 'path /rpool'
new zfs-iso-volume
put storage.cfg $'zfspool: z\n\tpool rpool\n'
guestf g.conf 'ide2: z:iso/x.iso,media=cdrom'
new zfs-import-from-zfs
put storage.cfg $'zfspool: z\n\tpool rpool\n'
guestf g.conf 'virtio0: local:0,import-from=z:import/x.qcow2'
new zfs-disabled
put storage.cfg $'zfspool: z\n\tpool rpool\n\tdisable 1\n'
guestf g.conf 'virtio0: z:4'
# a valid layout on a host without ZFS (these test machines have none): plan and up
# refuse, nothing is made
new zfs-no-tools
put storage.cfg $'zfspool: z\n\tpool rpool\n'
guestf g.conf 'virtio0: z:4'

# Cases this script no longer writes go, with their expected files.
for d in "$OUT"/*/; do
	[ -d "$d/lab" ] || rm -rf "$d"
done
echo "make-corpus: $N cases in $OUT"
