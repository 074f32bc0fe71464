#!/bin/sh
# The ZFS test guest's smoke test (busybox sh, run by tests/zfs/run.sh in the guest):
# that the pool and the commands labvirt's zfspool backend uses work there as on a
# Proxmox host: a zvol and its /dev/zvol link, a user property, a subvolume with a
# refquota, snapshot and clone. It prints the real "zfs list" and "zpool list" output
# ("# " lines) in the form the backend parses.
#
#   smoke.sh   (pool: $ZFSTEST_POOL, lvz by default)
pool=${ZFSTEST_POOL:-lvz}
failed=0

ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	failed=1
}
# check DESCRIPTION CMD...: ok if CMD succeeds; its output is shown as "# " lines.
check() {
	d=$1
	shift
	if out=$("$@" 2>&1); then
		ok "$d"
	else
		not_ok "$d"
	fi
	[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/#   /'
}
# wait_for SECONDS TEST...: until TEST succeeds, at most SECONDS.
wait_for() {
	n=$(($1 * 10))
	shift
	while ! "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}

vol=$pool/vm-900-disk-0
if check "zfs create -V 8M $vol" zfs create -V 8M "$vol"; then
	if wait_for 5 test -b "/dev/zvol/$vol"; then
		ok "/dev/zvol/$vol appeared ($(readlink "/dev/zvol/$vol"))"
	else
		not_ok "/dev/zvol/$vol appeared within 5 s"
		find /dev -name "zd*" -o -path "/dev/zvol*" 2>&1 | sed 's/^/#   /'
	fi
	size=$(blockdev --getsize64 "/dev/zvol/$vol" 2>/dev/null)
	if [ "$size" = 8388608 ]; then
		ok "the zvol is 8 MiB"
	else
		not_ok "the zvol is 8 MiB (got '$size')"
	fi
fi

check "zfs set labvirt:owner=a/b/c $vol" zfs set labvirt:owner=a/b/c "$vol"
owner=$(zfs get -H -o value labvirt:owner "$vol" 2>&1)
if [ "$owner" = a/b/c ]; then
	ok "zfs get labvirt:owner gives a/b/c"
else
	not_ok "zfs get labvirt:owner gives a/b/c (got '$owner')"
fi

sub=$pool/subvol-901-disk-0
check "zfs create -o refquota=16M $sub" zfs create -o refquota=16M "$sub"
if grep -q "^$sub /$sub zfs " /proc/mounts; then
	ok "$sub is mounted at /$sub"
else
	not_ok "$sub is mounted at /$sub"
	grep zfs /proc/mounts | sed 's/^/#   /'
fi
# The refquota holds: 32 MiB do not fit (ZFS may overshoot a quota by a little).
if dd if=/dev/urandom of="/$sub/big" bs=1M count=32 2>/dev/null && sync; then
	not_ok "writing 32 MiB into $sub (refquota 16M) fails"
else
	ok "writing 32 MiB into $sub (refquota 16M) fails"
fi
rm -f "/$sub/big"
echo hello >"/$sub/file"

check "zfs snapshot $vol@__base__" zfs snapshot "$vol@__base__"
check "zfs clone $vol@__base__ $pool/vm-902-disk-0" zfs clone "$vol@__base__" "$pool/vm-902-disk-0"
if wait_for 5 test -b "/dev/zvol/$pool/vm-902-disk-0"; then
	ok "/dev/zvol/$pool/vm-902-disk-0 appeared"
else
	not_ok "/dev/zvol/$pool/vm-902-disk-0 appeared within 5 s"
fi
check "zfs snapshot $sub@snap1" zfs snapshot "$sub@snap1"
check "zfs clone $sub@snap1 $pool/subvol-903-disk-0" zfs clone "$sub@snap1" "$pool/subvol-903-disk-0"
if [ "$(cat "/$pool/subvol-903-disk-0/file" 2>&1)" = hello ]; then
	ok "the clone of $sub has its file"
else
	not_ok "the clone of $sub has its file"
fi

check "zfs rename $pool/vm-902-disk-0 $pool/vm-904-disk-0" zfs rename "$pool/vm-902-disk-0" "$pool/vm-904-disk-0"
if wait_for 5 test -b "/dev/zvol/$pool/vm-904-disk-0" && wait_for 5 test ! -e "/dev/zvol/$pool/vm-902-disk-0"; then
	ok "the renamed zvol's link moved to /dev/zvol/$pool/vm-904-disk-0"
else
	not_ok "the renamed zvol's link moved to /dev/zvol/$pool/vm-904-disk-0 within 5 s"
	find /dev/zvol -type l 2>&1 | sed 's/^/#   /'
fi

echo "# zfs list -H -p -o name,used,avail,refquota,volsize,origin,labvirt:owner -t all"
zfs list -H -p -o name,used,avail,refquota,volsize,origin,labvirt:owner -t all 2>&1 | sed 's/^/# /'
echo "# zpool list -H -p -o name,size,alloc,free $pool"
zpool list -H -p -o name,size,alloc,free "$pool" 2>&1 | sed 's/^/# /'

# Clones first, then what they came from; -r takes the snapshots.
for ds in "$pool/vm-904-disk-0" "$pool/subvol-903-disk-0" "$vol" "$sub"; do
	check "zfs destroy -r $ds" zfs destroy -r "$ds"
done
if wait_for 5 test ! -e "/dev/zvol/$vol"; then
	ok "/dev/zvol/$vol is gone"
else
	not_ok "/dev/zvol/$vol is gone within 5 s"
fi
left=$(zfs list -H -o name -t all -r "$pool" 2>&1)
if [ "$left" = "$pool" ]; then
	ok "the pool has only its root dataset left"
else
	not_ok "the pool has only its root dataset left"
	printf '%s\n' "$left" | sed 's/^/#   /'
fi
exit "$failed"
