#!/bin/bash
# ct-template.sh - a tiny busybox container template for labvirt's container tests,
# shaped like a Proxmox CT template (a tar of the root with ./-prefixed names, owned
# by 0:0 numerically, zstd-compressed), built once and cached; prints its path.
#
#   ct-template.sh            -> /var/cache/labvirt-tests/ct-template/KEY/busybox-ct.tar.zst
#
# KEY is a hash of this recipe (the whole of this file) and of the static busybox it
# packs, so that a change of either builds a new one. LABVIRT_CT_CACHE changes the
# cache folder. Exits 0 with the path on standard output, 77 when the host lacks what
# it needs (busybox-static, zstd, GNU tar), 1 on any other failure.
#
# What is inside: /bin/busybox (static) with a symlink per applet in /bin, and
# /sbin/init, a busybox shell script run as the container's init, which
#   - mounts a tmpfs on /run and /tmp,
#   - prints "LABVIRT-CT-UP <hostname>" and the output of `ip addr` to /dev/console,
#     and keeps the same line in /run/marker (a console client attached later pokes
#     `cat /run/marker`),
#   - touches /root/made-by-ct (its owner on the host tells the id shift),
#   - keeps a shell on /dev/console (prompt "<hostname># "), restarted when it exits,
#   - exits on SIGTERM/SIGINT/SIGPWR (libvirt's signal shutdown), which stops the
#     container; as pid 1 of its namespace it would otherwise ignore them.
set -uo pipefail

skip() {
	echo "ct-template.sh: $*: skipped" >&2
	exit 77
}
die() {
	echo "ct-template.sh: $*" >&2
	exit 1
}

busybox=$(command -v busybox) || skip "busybox is not installed (busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then
	skip "$busybox is not static (install busybox-static)"
fi
command -v zstd >/dev/null || skip "zstd is not installed"
tar --version 2>/dev/null | grep -q 'GNU tar' || skip "GNU tar is not installed"

# The container's init. Everything it needs is busybox.
ct_init() {
	cat <<'EOF'
#!/bin/sh
export PATH=/bin:/sbin
export HOME=/root
mount -t tmpfs -o mode=0755 tmpfs /run 2>/dev/null
mount -t tmpfs -o mode=1777 tmpfs /tmp 2>/dev/null
name=$(hostname)
echo "LABVIRT-CT-UP $name" >/run/marker
{
	cat /run/marker
	ip addr
} >/dev/console 2>&1
touch /root/made-by-ct
sync
trap 'echo "LABVIRT-CT-DOWN $name" >/dev/console; kill -TERM -1 2>/dev/null; sync; exit 0' TERM INT PWR
export PS1="$name# "
(
	while true; do
		setsid sh -c 'exec sh -i </dev/console >/dev/console 2>&1'
		sleep 1
	done
) &
# Wait for a signal: a trapped signal ends `wait`, the trap then runs.
while true; do
	sleep 2147483647 &
	wait $!
done
EOF
}

stamp_of() {
	{
		cat "$0"
		sha256sum <"$busybox"
	} | sha256sum | cut -c1-16
}

key=$(stamp_of)
cache=${LABVIRT_CT_CACHE:-/var/cache/labvirt-tests/ct-template}
dir=$cache/$key
out=$dir/busybox-ct.tar.zst
if [ -s "$out" ]; then
	printf '%s\n' "$out"
	exit 0
fi
mkdir -p "$dir" || die "cannot make $dir"
chmod 0755 "$cache" "$dir"
# One builder at a time; another one may have built it meanwhile.
exec {lock}>"$dir/.lock"
flock "$lock"
if [ -s "$out" ]; then
	printf '%s\n' "$out"
	exit 0
fi
echo "ct-template.sh: building $out" >&2
stage=$(mktemp -d "$dir/.stage.XXXXXX") || die "cannot make a stage folder in $dir"
trap 'rm -rf "$stage"' EXIT
(
	set -euo pipefail
	r=$stage/root
	mkdir -p "$r"/{bin,sbin,dev,proc,sys,run,tmp,etc,var/log,usr/bin,usr/sbin}
	mkdir -m 0700 "$r/root"
	chmod 1777 "$r/tmp"
	cp "$busybox" "$r/bin/busybox"
	chmod 0755 "$r/bin/busybox"
	for a in $("$busybox" --list); do
		[ "$a" = busybox ] || [ "$a" = init ] || ln -s busybox "$r/bin/$a"
	done
	ct_init >"$r/sbin/init"
	chmod 0755 "$r/sbin/init"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
	printf 'root:*:19000:0:99999:7:::\n' >"$r/etc/shadow"
	chmod 0640 "$r/etc/shadow"
	echo busybox-ct >"$r/etc/hostname"
	printf 'NAME="labvirt busybox CT"\nID=labvirt-busybox\n' >"$r/etc/os-release"
	# As Proxmox's templates are made: ./-prefixed names, numeric owner 0:0.
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
		-C "$r" -I 'zstd -q -19' -cf "$stage/busybox-ct.tar.zst" .
	chmod 0644 "$stage/busybox-ct.tar.zst"
) || die "building the template failed"
mv -f "$stage/busybox-ct.tar.zst" "$out" || die "cannot move the template to $out"
printf '%s\n' "$out"
