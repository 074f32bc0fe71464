#!/bin/bash
# OpenZFS for the ZFS test guest (tests/zfs/run.sh). The host kernel may have no ZFS,
# and Debian ships ZFS only as source (zfs-dkms, in "contrib", which this machine's apt
# does not list), so this builds the modules for the guest's kernel from Debian's own
# source package, once, and caches them with Debian's userland:
#
#   /var/cache/labvirt-tests/zfs/KVER-ZFSVERSION/
#     modules/*.ko     spl.ko, zfs.ko and the rest of OpenZFS 2.1's modules, stripped
#     modules.order    their names, one a line, each after the modules it needs
#     root/            zpool, zfs, zvol_id and the ZFS libraries, at their own paths
#                      (other shared libraries come from the host, by ldd, at run time)
#     stamp            the inputs: recipe, kernel, ZFS version
#
#   modules.sh          prints that folder, building it first when missing
#
# The build never touches the system's apt sources and never installs zfs-dkms (its
# postinst would run DKMS for the running kernel, which is not Debian's): a private
# apt state (sources.list and lists in a temporary folder) downloads the .debs, which
# dpkg-deb unpacks. Only linux-headers-KVER is installed, from the system's own
# sources (scripts/deps has linux-headers-amd64). The build goes to a temporary folder
# renamed into place when complete, so a killed build leaves no half cache; the next
# run removes its remains. Progress goes to standard error; exits 1 with the reason
# when the modules cannot be had. LABVIRT_ZFS_VERSION picks another Debian version.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../e2e/lib.sh
. "$HERE/../e2e/lib.sh"

# Bump when the way the cache is made changes, so that old caches are not used.
RECIPE=1
# The version of bookworm's zfs-dkms this was written against. When the archive has
# moved on (a stable update replaces it), the newest one there is taken instead.
WANT=${LABVIRT_ZFS_VERSION:-2.1.11-1+deb12u1}
CACHE=${LABVIRT_ZFS_CACHE:-/var/cache/labvirt-tests/zfs}
DEBS=(zfs-dkms zfsutils-linux libzfs4linux libnvpair3linux libuutil3linux libzpool5linux)

log() { printf '# zfs modules: %s\n' "$*" >&2; }
die() {
	printf 'zfs modules: %s\n' "$*" >&2
	exit 1
}

KVER=$(e2e_guest_kernel_version) || die "no /boot/vmlinuz-* with its /lib/modules"

# valid DIR: DIR is a complete cache for KVER and version ${DIR##*-}.
valid() {
	local ver=${1##*/"$KVER"-}
	[ -f "$1/modules/spl.ko" ] && [ -f "$1/modules/zfs.ko" ] && [ -s "$1/modules.order" ] &&
		[ -x "$1/root/sbin/zpool" ] && [ -x "$1/root/sbin/zfs" ] && [ -x "$1/root/lib/udev/zvol_id" ] &&
		[ "$(cat "$1/stamp" 2>/dev/null)" = "recipe=$RECIPE kernel=$KVER zfs=$ver" ]
}

if valid "$CACHE/$KVER-$WANT"; then
	printf '%s\n' "$CACHE/$KVER-$WANT"
	exit 0
fi

[ "$(id -u)" = 0 ] || die "not root: cannot build the modules into $CACHE"
for p in apt-get apt-cache dpkg-deb make gcc strip modinfo flock; do
	command -v "$p" >/dev/null 2>&1 || die "$p is not installed (scripts/deps)"
done
mkdir -p "$CACHE"

# One builder at a time; one that held the lock before may have built it meanwhile,
# and whatever a killed one left (.build.*) can go, since no other builder runs.
exec {lock}>"$CACHE/.lock"
flock "$lock"
if valid "$CACHE/$KVER-$WANT"; then
	printf '%s\n' "$CACHE/$KVER-$WANT"
	exit 0
fi
rm -rf "$CACHE"/.build.*
B=$(mktemp -d "$CACHE/.build.XXXXXX")
trap 'rm -rf "$B"' EXIT
trap 'exit 130' INT TERM

# The kernel's headers: Debian splits them into the arch-specific build folder
# (linux-headers-KVER: .config, Module.symvers, generated headers) and the common
# source (linux-headers-VER-common), linked from /lib/modules/KVER as build and source.
if [ ! -f "/usr/src/linux-headers-$KVER/Module.symvers" ]; then
	log "installing linux-headers-$KVER"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"linux-headers-$KVER" >"$B/headers.log" 2>&1 || {
		cat "$B/headers.log" >&2
		die "cannot install linux-headers-$KVER (the guest's kernel's headers)"
	}
fi
OBJ=$(readlink -f "/lib/modules/$KVER/build")
SRC=$(readlink -f "/lib/modules/$KVER/source")
[ -f "$OBJ/Module.symvers" ] || die "no $OBJ/Module.symvers (linux-headers-$KVER)"
[ -f "$SRC/Makefile" ] || die "no kernel source headers at $SRC (linux-headers-*-common)"

# A private apt state with bookworm's main and contrib: the system's sources and lists
# are left alone. signed-by: the archive's key, as the system's own sources use it.
mkdir -p "$B/apt/lists/partial" "$B/apt/cache/archives/partial" "$B/debs"
key="signed-by=/usr/share/keyrings/debian-archive-keyring.gpg"
cat >"$B/apt/sources.list" <<-EOF
	deb [$key] http://deb.debian.org/debian bookworm main contrib
	deb [$key] http://deb.debian.org/debian bookworm-updates main contrib
	deb [$key] http://deb.debian.org/debian-security bookworm-security main contrib
EOF
apt_opts=(-o "Dir::Etc::sourcelist=$B/apt/sources.list" -o Dir::Etc::sourceparts=-
	-o "Dir::State::Lists=$B/apt/lists" -o "Dir::Cache=$B/apt/cache"
	-o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)
log "reading bookworm contrib's package lists"
apt-get "${apt_opts[@]}" -qq update >"$B/apt.log" 2>&1 || {
	cat "$B/apt.log" >&2
	die "apt-get update with bookworm contrib failed (is deb.debian.org reachable?)"
}
versions=$(apt-cache "${apt_opts[@]}" madison zfs-dkms | awk -F' [|] ' '{ print $2 }')
[ -n "$versions" ] || die "bookworm contrib has no zfs-dkms"
VER=$WANT
if ! grep -qxF "$WANT" <<<"$versions"; then
	VER=$(apt-cache "${apt_opts[@]}" policy zfs-dkms | awk '$1 == "Candidate:" { print $2 }')
	log "zfs-dkms $WANT is no longer in the archive ($(tr '\n' ' ' <<<"$versions")); using $VER"
	if valid "$CACHE/$KVER-$VER"; then
		printf '%s\n' "$CACHE/$KVER-$VER"
		exit 0
	fi
fi
OUT=$CACHE/$KVER-$VER

log "downloading ${DEBS[*]} $VER"
(cd "$B/debs" && apt-get "${apt_opts[@]}" -qq download "${DEBS[@]/%/=$VER}") >"$B/apt.log" 2>&1 || {
	cat "$B/apt.log" >&2
	die "cannot download ${DEBS[*]} $VER from bookworm contrib"
}
mkdir -p "$B/stage"
for d in "$B"/debs/*.deb; do
	dpkg-deb -x "$d" "$B/stage"
done
upstream=${VER%%-*}
zsrc=$B/stage/usr/src/zfs-$upstream
[ -x "$zsrc/configure" ] || die "zfs-dkms $VER has no usr/src/zfs-$upstream/configure"

# ZFS's own kernel-only build, as zfs-dkms's dkms.conf runs it.
start=$(e2e_now)
log "building OpenZFS $VER for $KVER (configure, then make -j2; takes a while under load)"
(cd "$zsrc" && ./configure --with-config=kernel --with-linux="$SRC" --with-linux-obj="$OBJ") \
	>"$B/configure.log" 2>&1 || {
	tail -n 40 "$B/configure.log" >&2
	die "OpenZFS's configure failed for $KVER (log above)"
}
log "configured in $(e2e_elapsed "$start") s"
make -C "$zsrc" -j2 >"$B/make.log" 2>&1 || {
	grep -E 'error|Error' "$B/make.log" | head -n 40 >&2
	die "building OpenZFS's modules failed for $KVER (errors above)"
}
log "built in $(e2e_elapsed "$start") s"

# The result: the modules without their debugging sections (as dkms strips them; the
# guest's initramfs stays small), in an order that loads each after those it needs.
o=$B/out
mkdir -p "$o/modules" "$o/root/sbin" "$o/root/lib/udev" "$o/root/lib/x86_64-linux-gnu"
while IFS= read -r -d '' ko; do
	strip --strip-debug -o "$o/modules/${ko##*/}" "$ko"
done < <(find "$zsrc/module" -name '*.ko' -print0)
for m in spl zfs; do
	[ -f "$o/modules/$m.ko" ] || die "the build made no $m.ko"
done
order=()
# add NAME: appends NAME.ko to order after the modules it depends on (modinfo).
add() {
	local d seen
	for seen in "${order[@]}"; do
		[ "$seen" = "$1.ko" ] && return 0
	done
	for d in $(modinfo -F depends "$o/modules/$1.ko" | tr ',' ' '); do
		# One of the kernel's own modules (Debian's 6.1 has all that 2.1 needs built
		# in): taken from /lib/modules, unless built in.
		if [ ! -f "$o/modules/$d.ko" ]; then
			kmod_copy "$d" || continue
		fi
		add "$d"
	done
	order+=("$1.ko")
}
# kmod_copy NAME: the kernel's module NAME, uncompressed, as modules/NAME.ko; fails if
# it is built in.
kmod_copy() {
	local path src
	path=$(_e2e_mod_path "$KVER" "$1")
	[ -n "$path" ] || return 1
	src=/lib/modules/$KVER/$path
	case $src in
	*.ko.xz) xz -dc "$src" ;;
	*.ko.zst) zstd -qdc "$src" ;;
	*.ko.gz) gzip -dc "$src" ;;
	*) cat "$src" ;;
	esac >"$o/modules/$1.ko"
}
for ko in "$o"/modules/*.ko; do
	m=${ko##*/}
	add "${m%.ko}"
done
printf '%s\n' "${order[@]}" >"$o/modules.order"

cp -a "$B/stage/sbin/zpool" "$B/stage/sbin/zfs" "$o/root/sbin/"
cp -a "$B/stage/lib/udev/zvol_id" "$o/root/lib/udev/"
cp -a "$B/stage/lib/x86_64-linux-gnu"/lib{zfs,zfs_core,nvpair,uutil,zpool}.so* "$o/root/lib/x86_64-linux-gnu/"
# Everything else they need must be on the host, for run.sh to copy.
if missing=$(LD_LIBRARY_PATH=$o/root/lib/x86_64-linux-gnu ldd "$o/root/sbin/zpool" "$o/root/sbin/zfs" |
	grep 'not found'); then
	die "the ZFS tools need libraries this host lacks: $missing"
fi
printf 'recipe=%s kernel=%s zfs=%s\n' "$RECIPE" "$KVER" "$VER" >"$o/stamp"

rm -rf "$OUT"
mv "$o" "$OUT"
log "cached in $OUT ($(du -sh "$OUT" | cut -f1)), $(e2e_elapsed "$start") s in all"
printf '%s\n' "$OUT"
