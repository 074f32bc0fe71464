# shellcheck shell=bash
# A real Debian 12 guest built from Debian's archive with mmdebstrap, for the
# cloud-init end-to-end test (cloudinit-boot.sh). Source this file from bash.
#
#   e2e_build_debian_image OUTDIR   OUTDIR/root.qcow2 (one ext4 file system, no
#                                   partition table), OUTDIR/vmlinuz, OUTDIR/initrd.img:
#                                   the image's own kernel and initramfs, booted
#                                   directly with root=/dev/vda (no bootloader to install)
#
# The result is cached, keyed by a hash of this file (package list, recipe, hooks) and
# the archive's suite; a lock keeps two builders apart. Build time: a few minutes.

E2E_DEBIAN_SUITE=bookworm
E2E_DEBIAN_MIRROR=${LABVIRT_E2E_MIRROR:-http://deb.debian.org/debian}
# cloud-init on Debian 12 renders network-config with the "eni" renderer first, which
# needs ifupdown (and isc-dhcp-client for dhcp), and resolvconf to turn its
# dns-nameservers/dns-search lines into /etc/resolv.conf; udev names the NIC, sudo
# takes the user's sudoers line, e2fsprogs' resize2fs and locales' locale-gen are run
# by cloud-init's resizefs and locale modules (without them: "status: error").
E2E_DEBIAN_PACKAGES=linux-image-amd64,systemd-sysv,udev,cloud-init,qemu-guest-agent,openssh-server,ifupdown,isc-dhcp-client,resolvconf,iproute2,netbase,sudo,ca-certificates,e2fsprogs,locales
E2E_DEBIAN_SIZE=2G

e2e_debian_image_key() {
	local self=${BASH_SOURCE[0]}
	printf '%s %s %s\n' "$E2E_DEBIAN_SUITE" "$E2E_DEBIAN_MIRROR" "$(sha256sum <"$self" | cut -c1-64)" |
		sha256sum | cut -c1-16
}

e2e_build_debian_image() {
	local out=$1 key stage lock rc
	key=$(e2e_debian_image_key)
	_e2e_debian_ok() {
		[ -f "$out/root.qcow2" ] && [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] &&
			[ "$(cat "$out/stamp" 2>/dev/null)" = "$key" ]
	}
	_e2e_debian_ok && return 0
	command -v mmdebstrap >/dev/null || { echo "# mmdebstrap not installed" >&2; return 1; }
	mkdir -p "$out" && chmod 0755 "$out" || return 1
	exec {lock}>"$out/.lock"
	flock "$lock"
	if _e2e_debian_ok; then
		exec {lock}>&-
		return 0
	fi
	echo "# building the Debian image in $out (key $key)" >&2
	stage=$(mktemp -d "$out/.stage.XXXXXX")
	(
		set -euo pipefail
		cd "$stage"
		mmdebstrap --variant=apt --include="$E2E_DEBIAN_PACKAGES" \
			--customize-hook='echo "/dev/vda / ext4 defaults,errors=remount-ro 0 1" >"$1/etc/fstab"' \
			--customize-hook='for u in apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer systemd-networkd-wait-online.service; do ln -sf /dev/null "$1/etc/systemd/system/$u"; done' \
			--customize-hook='echo LANG=C.UTF-8 >"$1/etc/default/locale"' \
			--customize-hook='rm -f "$1/etc/hostname" "$1/etc/ssh/ssh_host_"*; : >"$1/etc/machine-id"' \
			--customize-hook='cp -L "$1/vmlinuz" vmlinuz; cp -L "$1/initrd.img" initrd.img' \
			--customize-hook='rm -rf "$1/var/cache/apt/archives/"*.deb "$1/var/lib/apt/lists/"*_Packages' \
			"$E2E_DEBIAN_SUITE" root "$E2E_DEBIAN_MIRROR"
		truncate -s "$E2E_DEBIAN_SIZE" root.raw
		mkfs.ext4 -q -L debian -d root root.raw
		qemu-img convert -q -f raw -O qcow2 root.raw root.qcow2
		rm -rf root root.raw
		chmod 0644 vmlinuz initrd.img root.qcow2
	)
	rc=$?
	if [ "$rc" -ne 0 ]; then
		rm -rf "$stage"
		exec {lock}>&-
		return 1
	fi
	rm -f "$out/stamp"
	mv -f "$stage/vmlinuz" "$stage/initrd.img" "$stage/root.qcow2" "$out/"
	printf '%s\n' "$key" >"$out/stamp"
	rm -rf "$stage"
	exec {lock}>&-
}
