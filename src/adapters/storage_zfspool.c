/* storage_zfspool.c - the `zfspool` backend, as Proxmox's ZFSPoolPlugin: a disk is a
 * zvol POOL/NAME (its device /dev/zvol/POOL/NAME, made by udev), a container's folder
 * volume a dataset POOL/subvol-... mounted below the storage's mountpoint, its size the
 * dataset's refquota. Made and removed with zfs(8), run by argument vector, as Proxmox
 * does (libzfs has no stable interface).
 *
 * A volume is labvirt's when it carries the user property labvirt:owner =
 * "LAB/GUEST/DISK", set by the same `zfs create` that makes it. An import-from= image
 * goes, with clone=full, into the disk's own zvol; else once into a base zvol
 * "LAB-base-<hash>" with a snapshot @__base__ of which each disk is a `zfs clone`, as
 * Proxmox's linked clones of a template. A base is written under labvirt:part = LAB
 * and takes labvirt:base = LAB only once complete: one a killed run left half written
 * is never cloned, and the next create or remove of the lab destroys it. A base goes
 * with its last clone.
 *
 * Snapshots are ZFS's, as Proxmox takes them: POOL/NAME@SNAP, made with the user
 * property labvirt:snap = "LAB/GUEST/DISK" (only those are replaced or destroyed); a
 * rollback is `zfs rollback`, to the most recent snapshot only (as on Proxmox); the
 * volume's removal (destroy -r) takes its snapshots. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "host.h"
#include "lvm-host.h"
#include "storage.h"

#define ZFS_OWNER "labvirt:owner"
#define ZFS_BASE  "labvirt:base"
#define ZFS_PART  "labvirt:part"
#define ZFS_SNAP  "labvirt:snap"
#define BASE_SNAP "@__base__"
#define MIB       (1024ULL * 1024)

static int zfs_fail(const struct lab_storage *s, struct lv_error *err)
{
	return lv_prefix(err, "zfspool storage '%s'", s->id);
}

static int no_zfs(const struct lab_storage *s, struct lv_error *err)
{
	return lv_fail(err, LV_EXIT_FAIL,
		       "zfspool storage '%s': zfs is not installed (Debian packages "
		       "zfsutils-linux and zfs-dkms, in contrib)",
		       s->id);
}

static int zfs_run(const struct lab_storage *s, const char *const argv[], char **out,
		   struct lv_error *err)
{
	if (streq(argv[0], "zfs") && !lvm_host_in_path("zfs"))
		return no_zfs(s, err);
	return host_run(argv, out, err) < 0 ? zfs_fail(s, err) : 0;
}

/* POOL/NAME of a volume: its path's last component in the storage's pool. */
static char *dataset_of(const struct storage_vol *v)
{
	return xasprintf("%s/%s", v->storage->pool, strrchr(v->path, '/') + 1);
}

static char *lab_of(const struct storage_vol *v)
{
	return xstrndup(v->owner, strcspn(v->owner, "/"));
}

/* Properties of dataset ds, one value per line in the order asked; *ret_missing when
 * there is no such dataset (not an error). */
static int get_props(const struct lab_storage *s, const char *ds, const char *props, char **ret,
		     bool *ret_missing, struct lv_error *err)
{
	const char *argv[] = {"zfs", "get", "-H", "-p", "-o", "value", props, ds, NULL};
	struct lv_error e = {0};
	*ret = NULL;
	*ret_missing = false;
	if (!lvm_host_in_path("zfs"))
		return no_zfs(s, err);
	if (host_run(argv, ret, &e) == 0)
		return 0;
	if (strstr(e.msg, "does not exist")) {
		*ret_missing = true;
		return 0;
	}
	if (err)
		*err = e;
	return zfs_fail(s, err);
}

/* Line i (0-based) of text, "-" (ZFS's unset) as "". */
static char *line_of(const char *text, int i)
{
	for (; text && i > 0; i--)
		text = strchr(text, '\n') ? strchr(text, '\n') + 1 : NULL;
	if (!text)
		return xstrdup("");
	_cleanup_free_ char *l = xstrndup(text, strcspn(text, "\n"));
	return xstrdup(streq(l, "-") ? "" : l);
}

static int zfs_query(const struct storage_vol *v, bool *ret_exists, bool *ret_foreign,
		     struct lv_error *err)
{
	_cleanup_free_ char *ds = dataset_of(v), *out = NULL;
	bool missing;
	if (get_props(v->storage, ds, "type," ZFS_OWNER, &out, &missing, err) < 0)
		return -1;
	*ret_exists = !missing;
	_cleanup_free_ char *type = line_of(out, 0), *owner = line_of(out, 1);
	*ret_foreign = !missing && (!streq(type, v->folder ? "filesystem" : "volume") ||
				    !streq(owner, v->owner));
	return 0;
}

/* udev makes /dev/zvol/POOL/NAME a little after `zfs create`: wait for it, as
 * Proxmox's zfs_wait_for_zvol_link does (10 s). */
static int wait_link(const char *dev, struct lv_error *err)
{
	struct timespec tick = {0, 100 * 1000000L};
	struct stat st;
	for (int i = 0; i < 100; i++) {
		if (stat(dev, &st) == 0 && S_ISBLK(st.st_mode))
			return 0;
		nanosleep(&tick, NULL);
	}
	return lv_fail(err, LV_EXIT_FAIL, "timeout: no zvol device link '%s' after 10 s", dev);
}

/* zfs destroy -r, again while the dataset is busy (a device just closed), as Proxmox. */
static int destroy(const struct lab_storage *s, const char *ds, struct lv_error *err)
{
	const char *argv[] = {"zfs", "destroy", "-r", ds, NULL};
	struct lv_error e = {0};
	for (int i = 0; i < 6; i++) {
		e = (struct lv_error){0};
		if (host_run(argv, NULL, &e) == 0 || strstr(e.msg, "does not exist"))
			return 0;
		if (!strstr(e.msg, "busy"))
			break;
		sleep(1);
	}
	if (err)
		*err = e;
	return zfs_fail(s, err);
}

static uint64_t round_mib(uint64_t size)
{
	return (size + MIB - 1) / MIB * MIB;
}

/* zfs create -V: sparse and volblocksize as the storage says, size rounded up to 1 MiB
 * (Proxmox's workaround for zfs issue 8541). */
static int create_zvol(const struct lab_storage *s, const char *ds, uint64_t size, const char *prop,
		       struct lv_error *err)
{
	char sz[32];
	snprintf(sz, sizeof(sz), "%" PRIu64, round_mib(size));
	const char *argv[12] = {"zfs", "create"};
	size_t n = 2;
	if (s->sparse)
		argv[n++] = "-s";
	if (s->blocksize) {
		argv[n++] = "-b";
		argv[n++] = s->blocksize;
	}
	argv[n++] = "-o";
	argv[n++] = prop;
	argv[n++] = "-V";
	argv[n++] = sz;
	argv[n++] = ds;
	argv[n] = NULL;
	return zfs_run(s, argv, NULL, err);
}

static char *zvol_dev(const struct lab_storage *s, const char *name)
{
	return xasprintf("/dev/zvol/%s/%s", s->pool, name);
}

/* The image into a new zvol (it reads as zeroes: zeroes need no writing). */
static int write_image(const char *image, const struct lvm_image *img, const char *dev,
		       struct lv_error *err)
{
	/* -t none: O_DIRECT, as the LVM backends write. Through the page cache, a pool
	 * that fills up loses the writes silently (qemu-img exits 0; seen in the zfs
	 * test: 640 MiB written into 368 MB free), and a half-written zvol would pass. */
	_cleanup_argv_ char **argv = lvm_cmd_image_write(image, img->format, dev);
	return host_run((const char **)argv, NULL, err);
}

/* The lab's bases that a killed run left half written: destroyed. */
static int remove_parts(const struct lab_storage *s, const char *lab, struct lv_error *err)
{
	const char *argv[] = {"zfs", "list",   "-H",    "-o", "name," ZFS_PART, "-d", "1",
			      "-t",  "volume", s->pool, NULL};
	_cleanup_free_ char *out = NULL;
	if (zfs_run(s, argv, &out, err) < 0)
		return -1;
	for (char *l = out, *next; l && *l; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		char *tab = strchr(l, '\t');
		if (tab && streq(tab + 1, lab)) {
			*tab = '\0';
			if (destroy(s, l, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* The base zvol of the image with its @__base__ snapshot, made now when missing. */
static int base_ensure(const struct storage_vol *v, const struct lvm_image *img, char **ret,
		       struct lv_error *err)
{
	const struct lab_storage *s = v->storage;
	struct stat st;
	_cleanup_free_ char *abs = realpath(v->import_from, NULL);
	if (!abs || stat(abs, &st) < 0)
		return lv_fail_errno(err, errno, "cannot resolve '%s'", v->import_from);
	_cleanup_free_ char *key = xasprintf("%s:%lld:%lld.%09ld", abs, (long long)st.st_size,
					     (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	_cleanup_free_ char *lab = lab_of(v), *name = lvm_base_name(lab, key);
	_cleanup_free_ char *ds = xasprintf("%s/%s", s->pool, name), *out = NULL;
	bool missing;
	if (remove_parts(s, lab, err) < 0 ||
	    get_props(s, ds, "type," ZFS_BASE, &out, &missing, err) < 0)
		return -1;
	_cleanup_free_ char *type = line_of(out, 0), *mark = line_of(out, 1);
	if (!missing && (!streq(type, "volume") || !streq(mark, lab)))
		return lv_fail(err, LV_EXIT_FAIL, "'%s' exists and is not labvirt's: left alone",
			       ds);
	*ret = xasprintf("%s" BASE_SNAP, ds);
	if (!missing)
		return 0;
	_cleanup_free_ char *part = xasprintf(ZFS_PART "=%s", lab);
	_cleanup_free_ char *based = xasprintf(ZFS_BASE "=%s", lab);
	_cleanup_free_ char *dev = zvol_dev(s, name);
	const char *snap[] = {"zfs", "snapshot", *ret, NULL};
	const char *mark_base[] = {"zfs", "set", based, ds, NULL};
	const char *unpart[] = {"zfs", "inherit", ZFS_PART, ds, NULL};
	int rc = create_zvol(s, ds, img->virtual_size, part, err);
	if (rc == 0 && (wait_link(dev, err) < 0 || write_image(abs, img, dev, err) < 0 ||
			zfs_run(s, snap, NULL, err) < 0 || zfs_run(s, mark_base, NULL, err) < 0 ||
			zfs_run(s, unpart, NULL, err) < 0)) {
		destroy(s, ds, NULL);
		rc = -1;
	}
	if (rc < 0) {
		free(steal_pointer(ret));
		return lv_prefix(err, "base volume '%s'", name);
	}
	return 0;
}

static int create_folder(const struct storage_vol *v, const char *ds, const char *prop,
			 struct lv_error *err)
{
	char quota[40] = "refquota=none";
	if (v->size)
		snprintf(quota, sizeof(quota), "refquota=%" PRIu64, v->size);
	const char *argv[] = {"zfs", "create",   "-o", "acltype=posixacl",
			      "-o",  "xattr=sa", "-o", quota,
			      "-o",  prop,       ds,   NULL};
	if (zfs_run(v->storage, argv, NULL, err) < 0)
		return -1;
	struct stat st;
	if (stat(v->path, &st) < 0 || !S_ISDIR(st.st_mode))
		return lv_fail(err, LV_EXIT_FAIL,
			       "zfspool storage '%s': dataset '%s' is not mounted at '%s' (the "
			       "storage's mountpoint differs from the pool's?)",
			       v->storage->id, ds, v->path);
	return chmod(v->path, 0700) < 0 ? lv_fail_errno(err, errno, "cannot chmod '%s'", v->path)
					: 0;
}

static int create_zvol_volume(const struct storage_vol *v, const char *ds, const char *prop,
			      struct lv_error *err)
{
	const struct lab_storage *s = v->storage;
	if (!v->import_from)
		return create_zvol(s, ds, v->size, prop, err) < 0 ? -1 : wait_link(v->path, err);
	struct lvm_image img;
	if (lvm_host_image_info(v->import_from, v->import_format, &img, err) < 0)
		return -1;
	if (v->size && v->size < img.virtual_size)
		return lv_fail(err, LV_EXIT_FAIL,
			       "import-from '%s' is %" PRIu64 " bytes, more than the disk's size",
			       v->import_from, img.virtual_size);
	uint64_t size = v->size > img.virtual_size ? v->size : img.virtual_size;
	if (v->full_clone)
		return create_zvol(s, ds, size, prop, err) < 0 || wait_link(v->path, err) < 0
			   ? -1
			   : write_image(v->import_from, &img, v->path, err);
	_cleanup_free_ char *origin = NULL;
	if (base_ensure(v, &img, &origin, err) < 0)
		return -1;
	char sz[48];
	snprintf(sz, sizeof(sz), "volsize=%" PRIu64, round_mib(size));
	const char *clone[] = {"zfs", "clone", "-o", prop, origin, ds, NULL};
	const char *grow[] = {"zfs", "set", sz, ds, NULL};
	if (zfs_run(s, clone, NULL, err) < 0)
		return -1;
	if (round_mib(size) > round_mib(img.virtual_size) && zfs_run(s, grow, NULL, err) < 0)
		return -1;
	return wait_link(v->path, err);
}

static int zfs_remove(const struct storage_vol *v, struct lv_error *err);

static int zfs_create(const struct storage_vol *v, struct lv_error *err)
{
	bool exists, foreign;
	if (zfs_query(v, &exists, &foreign, err) < 0)
		return -1;
	_cleanup_free_ char *ds = dataset_of(v);
	if (exists)
		return lv_fail(err, LV_EXIT_FAIL, "zfspool storage '%s': '%s' exists",
			       v->storage->id, ds);
	_cleanup_free_ char *prop = xasprintf(ZFS_OWNER "=%s", v->owner);
	int rc = v->folder ? create_folder(v, ds, prop, err) : create_zvol_volume(v, ds, prop, err);
	if (rc == 0 && v->fill)
		rc = v->fill(v->path, v->fill_opaque, err);
	if (rc < 0) { /* what this create made goes (the journal covers a kill) */
		struct lv_error ignored;
		bool e2, f2;
		if (zfs_query(v, &e2, &f2, &ignored) == 0 && e2 && !f2)
			zfs_remove(v, &ignored);
	}
	return rc;
}

static int zfs_remove(const struct storage_vol *v, struct lv_error *err)
{
	const struct lab_storage *s = v->storage;
	bool exists, foreign;
	if (zfs_query(v, &exists, &foreign, err) < 0)
		return -1;
	_cleanup_free_ char *ds = dataset_of(v), *lab = lab_of(v), *out = NULL;
	if (foreign)
		return lv_fail(err, LV_EXIT_FAIL, "'%s' was not made by labvirt for %s: left alone",
			       ds, v->owner);
	bool missing = !exists;
	if (exists && get_props(s, ds, "origin", &out, &missing, err) < 0)
		return -1;
	_cleanup_free_ char *origin = line_of(out, 0);
	if (exists && destroy(s, ds, err) < 0)
		return -1;
	/* the base this was a clone of, once it has no clone left */
	if (*origin && endswith(origin, BASE_SNAP)) {
		_cleanup_free_ char *base = xstrndup(origin, strlen(origin) - strlen(BASE_SNAP));
		_cleanup_free_ char *bout = NULL, *cout = NULL;
		bool bm, cm;
		if (get_props(s, base, ZFS_BASE, &bout, &bm, err) < 0 ||
		    get_props(s, origin, "clones", &cout, &cm, err) < 0)
			return -1;
		_cleanup_free_ char *mark = line_of(bout, 0), *clones = line_of(cout, 0);
		if (!bm && !cm && streq(mark, lab) && !*clones && destroy(s, base, err) < 0)
			return lv_prefix(err, "base volume");
	}
	return remove_parts(s, lab, err);
}

static int need_tools(const struct lab_storage *s, struct lv_error *err)
{
	if (!lvm_host_in_path("zfs") || !lvm_host_in_path("zpool"))
		return no_zfs(s, err);
	if (geteuid() != 0)
		return lv_fail(err, LV_EXIT_FAIL,
			       "zfspool storage '%s': making ZFS volumes needs root", s->id);
	return 0;
}

static int zfs_check(const struct lab_storage *s, const struct storage_vol *vols, size_t n,
		     char **ret_note, struct lv_error *err)
{
	(void)ret_note;
	if (need_tools(s, err) < 0)
		return -1;
	_cleanup_free_ char *out = NULL;
	bool missing;
	if (get_props(s, s->pool, "type,available", &out, &missing, err) < 0)
		return -1;
	_cleanup_free_ char *type = line_of(out, 0), *avail = line_of(out, 1);
	if (missing || !streq(type, "filesystem"))
		return lv_fail(err, LV_EXIT_FAIL,
			       "zfspool storage '%s': pool or dataset '%s' not found (zpool "
			       "import it?)",
			       s->id, s->pool);
	/* Without sparse, a zvol reserves its whole size: they must fit, as on Proxmox. */
	uint64_t need = 0, have = strtoull(avail, NULL, 10);
	for (size_t i = 0; !s->sparse && i < n; i++)
		need += vols[i].folder ? 0 : round_mib(vols[i].size);
	if (need > have) {
		char a[32], b[32];
		lvm_size_text(need, a);
		lvm_size_text(have, b);
		return lv_fail(err, LV_EXIT_FAIL,
			       "zfspool storage '%s': the new zvols need %s (not sparse) but '%s' "
			       "has %s available",
			       s->id, a, s->pool, b);
	}
	return 0;
}

static int zfs_usage(const struct lab_storage *s, struct storage_usage *ret, struct lv_error *err)
{
	_cleanup_free_ char *out = NULL;
	bool missing;
	if (get_props(s, s->pool, "available,used", &out, &missing, err) < 0)
		return -1;
	if (missing)
		return lv_fail(err, LV_EXIT_FAIL, "zfspool storage '%s': '%s' not found", s->id,
			       s->pool);
	_cleanup_free_ char *avail = line_of(out, 0), *used = line_of(out, 1);
	uint64_t a = strtoull(avail, NULL, 10), u = strtoull(used, NULL, 10);
	*ret = (struct storage_usage){0};
	snprintf(ret->pool, sizeof(ret->pool), "%s", s->pool);
	ret->data_size = a + u;
	ret->data_pct = a + u ? 100.0 * (double)u / (double)(a + u) : 0;
	return 0;
}

/* The volume's snapshot snap: its dataset name POOL/NAME@SNAP, and whether it exists
 * (then it must be labvirt's snapshot of this volume). */
static int snap_load(const struct storage_vol *v, const char *snap, char **ret_ds, bool *ret_exists,
		     struct lv_error *err)
{
	_cleanup_free_ char *vol = dataset_of(v), *out = NULL, *sout = NULL;
	bool missing;
	if (get_props(v->storage, vol, "type", &out, &missing, err) < 0)
		return -1;
	if (missing)
		return lv_fail(err, LV_EXIT_FAIL, "'%s' does not exist: no snapshot of it", vol);
	_cleanup_free_ char *ds = xasprintf("%s@%s", vol, snap);
	if (get_props(v->storage, ds, ZFS_SNAP, &sout, &missing, err) < 0)
		return -1;
	_cleanup_free_ char *owner = line_of(sout, 0);
	if (!missing && !streq(owner, v->owner))
		return lv_fail(err, LV_EXIT_FAIL, "'%s' exists and is not labvirt's: left alone",
			       ds);
	*ret_exists = !missing;
	*ret_ds = steal_pointer(&ds);
	return 0;
}

static int zfs_snapshot(const struct storage_vol *v, const char *snap, struct lv_error *err)
{
	_cleanup_free_ char *ds = NULL;
	bool exists;
	if (snap_load(v, snap, &ds, &exists, err) < 0)
		return -1;
	/* one a killed run left: the config names no such snapshot (the caller checked) */
	if (exists && destroy(v->storage, ds, err) < 0)
		return -1;
	_cleanup_free_ char *prop = xasprintf(ZFS_SNAP "=%s", v->owner);
	const char *argv[] = {"zfs", "snapshot", "-o", prop, ds, NULL};
	return zfs_run(v->storage, argv, NULL, err);
}

static int zfs_rollback(const struct storage_vol *v, const char *snap, struct lv_error *err)
{
	_cleanup_free_ char *ds = NULL, *vol = dataset_of(v), *out = NULL;
	bool exists;
	if (snap_load(v, snap, &ds, &exists, err) < 0)
		return -1;
	if (!exists)
		return lv_fail(err, LV_EXIT_FAIL, "'%s' has no snapshot '%s'", vol, snap);
	/* as Proxmox's volume_rollback_is_possible: the most recent snapshot only */
	const char *list[] = {"zfs", "list",      "-H", "-o", "name", "-t", "snapshot",
			      "-s",  "createtxg", "-d", "1",  vol,    NULL};
	if (zfs_run(v->storage, list, &out, err) < 0)
		return -1;
	size_t n = out ? strlen(out) : 0;
	while (n && out[n - 1] == '\n')
		out[--n] = '\0';
	const char *last = out && strrchr(out, '\n') ? strrchr(out, '\n') + 1 : out;
	if (!last || !streq(last, ds))
		return lv_fail(err, LV_EXIT_FAIL,
			       "cannot roll '%s' back to '%s': it is not the most recent snapshot "
			       "(%s is; delete the newer ones first, as on Proxmox)",
			       vol, snap, last ? last : "none");
	const char *argv[] = {"zfs", "rollback", ds, NULL};
	if (zfs_run(v->storage, argv, NULL, err) < 0)
		return -1;
	/* the kernel's cache of the zvol's device may still hold blocks of before the
	 * rollback: dropped, so that no reader (QEMU with a cache) sees them */
	_cleanup_close_ int fd = v->folder ? -1 : open(v->path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && ioctl(fd, BLKFLSBUF, 0) < 0)
		return lv_fail_errno(err, errno, "cannot drop the cached blocks of '%s'", v->path);
	return 0;
}

static int zfs_delsnapshot(const struct storage_vol *v, const char *snap, struct lv_error *err)
{
	_cleanup_free_ char *ds = NULL;
	bool exists;
	if (snap_load(v, snap, &ds, &exists, err) < 0)
		return -1;
	return exists ? destroy(v->storage, ds, err) : 0;
}

const struct storage_backend storage_zfspool_backend = {
    .type = "zfspool",
    .query = zfs_query,
    .create = zfs_create,
    .remove = zfs_remove,
    .check = zfs_check,
    .usage = zfs_usage,
    .snapshot = zfs_snapshot,
    .rollback = zfs_rollback,
    .delsnapshot = zfs_delsnapshot,
};
