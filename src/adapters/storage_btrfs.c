/* storage_btrfs.c - the `btrfs` backend, as Proxmox's BTRFSPlugin lays volumes out:
 * a raw volume NAME.raw is NAME/disk.raw inside a subvolume NAME, a container's
 * folder volume (subvol-ID-disk-N.subvol, or rootfs size 0) is a subvolume itself;
 * a qcow2 volume (older Proxmox) is a plain file, as on a dir storage. Subvolumes are
 * made, snapshotted and removed with libbtrfsutil (no `btrfs` subprocess).
 *
 * A volume is made as a subvolume under a temporary name ".NAME.part-PID" and takes
 * its name (rename, replacing nothing) only once complete. A linked clone of an import
 * image is a writable snapshot of the image's base subvolume "LAB-base-<hash>" (made
 * once, read-only, the image converted to raw in it), grown to the disk's size:
 * blocks are shared until written, as Proxmox's clones of a template. A base is
 * removed with the last clone of it. Ownership is the dir backend's: the extended
 * attribute user.labvirt.owner on disk.raw or on the folder volume.
 *
 * A raw volume's snapshots are Proxmox's: read-only snapshot subvolumes NAME@SNAP
 * beside it, known as its own by their parent UUID; a rollback clones the snapshot's
 * extents back into the volume's disk.raw (FICLONE), and the volume's removal takes
 * its snapshots with it. */
#include <btrfsutil.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

#include "host.h"
#include "lvm.h"
#include "storage.h"

#define OWNER_XATTR "user.labvirt.owner"
#define BASE_XATTR  "user.labvirt.base" /* on a base subvolume: "LAB" */
#define RAW_FILE    "disk.raw"

static int btrfs_fail(struct lv_error *err, enum btrfs_util_error e, const char *what,
		      const char *path)
{
	return lv_fail(err, LV_EXIT_FAIL, "cannot %s '%s': %s%s%s", what, path,
		       btrfs_util_strerror(e), errno ? ": " : "", errno ? strerror(errno) : "");
}

/* The subvolume a volume lives in, or NULL for a plain (qcow2) file. */
static char *subvol_of(const struct storage_vol *v)
{
	if (v->folder || endswith(v->path, "/" RAW_FILE))
		return storage_vol_entry(v->storage, v->path);
	return NULL;
}

static bool is_subvolume(const char *path)
{
	return btrfs_util_is_subvolume(path) == BTRFS_UTIL_OK;
}

/* Deletes subvolume path (and any subvolume nested in it); absent is no error. */
static int subvol_delete(const char *path, struct lv_error *err)
{
	errno = 0;
	enum btrfs_util_error e =
	    btrfs_util_delete_subvolume(path, BTRFS_UTIL_DELETE_SUBVOLUME_RECURSIVE);
	if (e == BTRFS_UTIL_OK || errno == ENOENT)
		return 0;
	return btrfs_fail(err, e, "delete subvolume", path);
}

/* The storage's path, or the folder it will be made in (as Proxmox's activate_storage
 * makes it), lies on a btrfs. */
static int require_btrfs(const struct lab_storage *s, struct lv_error *err)
{
	struct statfs fs;
	_cleanup_free_ char *at = xstrdup(s->path);
	while (statfs(at, &fs) < 0 && errno == ENOENT && strcmp(at, "/") != 0) {
		char *copy = xstrdup(at);
		free(at);
		at = xstrdup(dirname(copy));
		free(copy);
	}
	if (statfs(at, &fs) < 0)
		return lv_fail_errno(err, errno, "storage '%s': cannot use '%s'", s->id, s->path);
	if ((unsigned long)fs.f_type != BTRFS_SUPER_MAGIC)
		return lv_fail(err, LV_EXIT_FAIL, "storage '%s': '%s' is not a btrfs file system",
			       s->id, s->path);
	return 0;
}

static int btrfs_query(const struct storage_vol *v, bool *ret_exists, bool *ret_foreign,
		       struct lv_error *err)
{
	_cleanup_free_ char *sub = subvol_of(v);
	if (!sub)
		return storage_dir_backend.query(v, ret_exists, ret_foreign, err);
	struct stat st;
	if (lstat(sub, &st) < 0) {
		if (errno != ENOENT)
			return lv_fail_errno(err, errno, "cannot stat '%s'", sub);
		*ret_exists = *ret_foreign = false;
		return 0;
	}
	*ret_exists = true;
	/* the tag on disk.raw (or the folder), and a subvolume around it */
	if (!S_ISDIR(st.st_mode) || !is_subvolume(sub)) {
		*ret_foreign = true;
		return 0;
	}
	if (storage_dir_backend.query(v, ret_exists, ret_foreign, err) < 0)
		return -1;
	*ret_foreign = *ret_foreign || !*ret_exists; /* a subvolume without its disk.raw */
	*ret_exists = true;
	return 0;
}

/* nocow 1: the No_COW attribute, set while the file is still empty (it has no effect
 * on data already written). */
static int set_nocow(const char *file, struct lv_error *err)
{
	_cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
	int flags = 0;
	if (fd < 0 || ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
		return lv_fail_errno(err, errno, "cannot read the attributes of '%s'", file);
	flags |= FS_NOCOW_FL;
	if (ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)
		return lv_fail_errno(err, errno, "cannot set No_COW on '%s'", file);
	return 0;
}

/* An empty raw file of size bytes, 0600 from its first moment. */
static int raw_file(const struct storage_vol *v, const char *file, uint64_t size,
		    struct lv_error *err)
{
	_cleanup_close_ int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return lv_fail_errno(err, errno, "cannot create '%s'", file);
	if (v->storage->nocow && set_nocow(file, err) < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) < 0)
		return lv_fail_errno(err, errno, "cannot size '%s'", file);
	return 0;
}

/* The import image into raw file `file` (already sized, reading as zeroes). */
static int convert_into(const char *image, const char *format, const char *file,
			struct lv_error *err)
{
	const char *conv[] = {"qemu-img", "convert", "-q", "-n",  "--target-is-zero",
			      "-f",       format,    "-O", "raw", image,
			      file,       NULL};
	return host_run(conv, NULL, err);
}

struct image {
	char *abs;
	struct lvm_image info;
};

static int image_load(const struct storage_vol *v, struct image *img, struct lv_error *err)
{
	img->abs = realpath(v->import_from, NULL);
	if (!img->abs)
		return lv_fail_errno(err, errno, "cannot resolve '%s'", v->import_from);
	_cleanup_argv_ char **argv = lvm_cmd_image_info(img->abs, v->import_format);
	_cleanup_free_ char *out = NULL;
	if (host_run((const char **)argv, &out, err) < 0 ||
	    lvm_parse_image_info(out, &img->info, err) < 0)
		return lv_prefix(err, "import-from '%s'", v->import_from);
	if (!v->import_format && (img->info.backing || img->info.data_file))
		return lv_fail(err, LV_EXIT_FAIL,
			       "image '%s' has a backing or data file of its own: refused (it "
			       "could expose host files)",
			       v->import_from);
	if (v->size && v->size < img->info.virtual_size)
		return lv_fail(err, LV_EXIT_FAIL,
			       "import-from '%s' is %llu bytes, more than the disk's size",
			       v->import_from, (unsigned long long)img->info.virtual_size);
	return 0;
}

static char *lab_of(const struct storage_vol *v)
{
	return xstrndup(v->owner, strcspn(v->owner, "/"));
}

/* The base subvolume of the image: made once (under a temporary name, read-only once
 * complete). Its name changes when the image does. */
static int base_ensure(const struct storage_vol *v, const struct image *img, char **ret,
		       struct lv_error *err)
{
	struct stat st;
	if (stat(img->abs, &st) < 0)
		return lv_fail_errno(err, errno, "cannot stat '%s'", img->abs);
	_cleanup_free_ char *key = xasprintf("%s:%lld:%lld.%09ld", img->abs, (long long)st.st_size,
					     (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	_cleanup_free_ char *lab = lab_of(v), *name = lvm_base_name(lab, key);
	_cleanup_free_ char *base = xasprintf("%s/%s", v->storage->path, name);
	char tag[256];
	ssize_t n = getxattr(base, BASE_XATTR, tag, sizeof(tag) - 1);
	if (n >= 0) {
		tag[n] = '\0';
		if (!streq(tag, lab) || !is_subvolume(base))
			return lv_fail(err, LV_EXIT_FAIL, "'%s' is not labvirt's: left alone",
				       base);
		*ret = steal_pointer(&base);
		return 0;
	}
	if (errno != ENOENT && errno != ENODATA)
		return lv_fail_errno(err, errno, "cannot read '%s'", base);
	if (errno == ENODATA)
		return lv_fail(err, LV_EXIT_FAIL, "'%s' is not labvirt's: left alone", base);
	_cleanup_free_ char *tmp = storage_temp_path(v->storage, base, (int)getpid());
	_cleanup_free_ char *file = xasprintf("%s/" RAW_FILE, tmp);
	errno = 0;
	enum btrfs_util_error e = btrfs_util_create_subvolume(tmp, 0, NULL, NULL);
	if (e != BTRFS_UTIL_OK)
		return btrfs_fail(err, e, "create subvolume", tmp);
	int rc = raw_file(v, file, img->info.virtual_size, err) < 0 ||
			 convert_into(img->abs, img->info.format, file, err) < 0
		     ? -1
		     : 0;
	if (rc == 0 && setxattr(tmp, BASE_XATTR, lab, strlen(lab), 0) < 0)
		rc = lv_fail_errno(err, errno, "cannot tag '%s'", tmp);
	errno = 0;
	if (rc == 0 && (e = btrfs_util_set_subvolume_read_only(tmp, true)) != BTRFS_UTIL_OK)
		rc = btrfs_fail(err, e, "make read-only", tmp);
	if (rc == 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, base, RENAME_NOREPLACE) < 0)
		rc = lv_fail_errno(err, errno, "cannot create '%s'", base);
	if (rc < 0) {
		subvol_delete(tmp, NULL);
		return lv_prefix(err, "base volume '%s'", name);
	}
	*ret = steal_pointer(&base);
	return 0;
}

/* The new volume's subvolume at tmp: empty, a snapshot of a base, or a full copy. */
static int make_subvol(const struct storage_vol *v, const char *tmp, const char *file,
		       struct lv_error *err)
{
	enum btrfs_util_error e;
	if (v->import_from && !v->full_clone) {
		struct image img = {0};
		_cleanup_free_ char *base = NULL;
		int rc =
		    image_load(v, &img, err) < 0 || base_ensure(v, &img, &base, err) < 0 ? -1 : 0;
		uint64_t size = v->size > img.info.virtual_size ? v->size : img.info.virtual_size;
		free(img.abs);
		if (rc < 0)
			return -1;
		errno = 0;
		if ((e = btrfs_util_create_snapshot(base, tmp, 0, NULL, NULL)) != BTRFS_UTIL_OK)
			return btrfs_fail(err, e, "snapshot", base);
		/* the base is read-only, its snapshot writable; grown to the disk's size */
		if (truncate(file, (off_t)size) < 0)
			return lv_fail_errno(err, errno, "cannot size '%s'", file);
		return 0;
	}
	errno = 0;
	if ((e = btrfs_util_create_subvolume(tmp, 0, NULL, NULL)) != BTRFS_UTIL_OK)
		return btrfs_fail(err, e, "create subvolume", tmp);
	if (v->folder) {
		if (chmod(tmp, 0700) < 0)
			return lv_fail_errno(err, errno, "cannot chmod '%s'", tmp);
		return 0;
	}
	if (!v->import_from)
		return raw_file(v, file, v->size, err);
	struct image img = {0};
	int rc = image_load(v, &img, err) < 0 ||
			 raw_file(v, file,
				  v->size > img.info.virtual_size ? v->size : img.info.virtual_size,
				  err) < 0 ||
			 convert_into(img.abs, img.info.format, file, err) < 0
		     ? -1
		     : 0;
	free(img.abs);
	return rc;
}

static int btrfs_create(const struct storage_vol *v, struct lv_error *err)
{
	_cleanup_free_ char *sub = subvol_of(v);
	_cleanup_free_ char *copy = xstrdup(sub ? sub : v->path);
	/* its folders first (Proxmox's activate_storage makes the path), then the check */
	if (host_mkdir_p(dirname(copy), 0711, err) < 0 || require_btrfs(v->storage, err) < 0)
		return -1;
	if (!sub)
		return storage_dir_backend.create(v, err);
	_cleanup_free_ char *tmp = storage_temp_path(v->storage, v->path, (int)getpid());
	_cleanup_free_ char *file = v->folder ? xstrdup(tmp) : xasprintf("%s/" RAW_FILE, tmp);
	int rc = make_subvol(v, tmp, file, err);
	if (rc == 0 && v->fill)
		rc = v->fill(file, v->fill_opaque, err);
	if (rc == 0 && setxattr(file, OWNER_XATTR, v->owner, strlen(v->owner), 0) < 0)
		rc = lv_fail_errno(err, errno, "cannot tag '%s'", file);
	if (rc == 0 && storage_before_rename)
		storage_before_rename(tmp);
	if (rc == 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, sub, RENAME_NOREPLACE) < 0)
		rc = lv_fail_errno(err, errno, "cannot create '%s'", sub);
	if (rc < 0)
		subvol_delete(tmp, NULL);
	return rc;
}

/* The lab's base subvolume that sub was a snapshot of, when no other subvolume of the
 * file system is one any more: its path, else NULL. */
static char *base_unused(const struct storage_vol *v, const char *sub)
{
	struct btrfs_util_subvolume_info me, info;
	if (btrfs_util_subvolume_info(sub, 0, &me) != BTRFS_UTIL_OK)
		return NULL;
	static const uint8_t none[16];
	if (!memcmp(me.parent_uuid, none, sizeof(none)))
		return NULL;
	/* the bases of this lab lie in the storage's folder */
	_cleanup_free_ char *lab = lab_of(v);
	_cleanup_free_ char *prefix = xasprintf("%s-base-", lab);
	DIR *d = opendir(v->storage->path);
	char *base = NULL;
	for (struct dirent *e; d && !base && (e = readdir(d));) {
		if (!startswith(e->d_name, prefix))
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", v->storage->path, e->d_name);
		if (btrfs_util_subvolume_info(p, 0, &info) == BTRFS_UTIL_OK &&
		    !memcmp(info.uuid, me.parent_uuid, sizeof(info.uuid)))
			base = steal_pointer(&p);
	}
	if (d)
		closedir(d);
	if (!base)
		return NULL;
	struct btrfs_util_subvolume_iterator *it;
	char *path;
	bool used = false;
	/* every subvolume of the file system (5: its top level), wherever it lies */
	if (btrfs_util_create_subvolume_iterator(v->storage->path, 5, 0, &it) != BTRFS_UTIL_OK) {
		free(base);
		return NULL; /* cannot tell: kept */
	}
	while (!used &&
	       btrfs_util_subvolume_iterator_next_info(it, &path, &info) == BTRFS_UTIL_OK) {
		used = info.id != me.id &&
		       !memcmp(info.parent_uuid, me.parent_uuid, sizeof(info.parent_uuid));
		free(path);
	}
	btrfs_util_destroy_subvolume_iterator(it);
	if (used)
		free(steal_pointer(&base));
	return base;
}

/* Temporary subvolumes of this storage's folder that a killed run left: ".NAME.part-PID"
 * of a PID that is gone. */
static void remove_stale_parts(const char *dir)
{
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		const char *part = e->d_name[0] == '.' ? strstr(e->d_name, ".part-") : NULL;
		char *end;
		long pid = part ? strtol(part + 6, &end, 10) : 0;
		if (!part || *end || pid <= 0 || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, e->d_name);
		if (is_subvolume(p))
			subvol_delete(p, NULL);
	}
	if (d)
		closedir(d);
}

/* The snapshot subvolume SUB@SNAP of a volume's subvolume, as Proxmox names them. */
static char *snap_path(const char *sub, const char *snap)
{
	return xasprintf("%s@%s", sub, snap);
}

/* Whether subvolume p is a snapshot of subvolume sub (its parent UUID is sub's). */
static int snap_of(const char *sub, const char *p, bool *ret, struct lv_error *err)
{
	struct btrfs_util_subvolume_info me, info;
	enum btrfs_util_error e;
	errno = 0;
	if ((e = btrfs_util_subvolume_info(sub, 0, &me)) != BTRFS_UTIL_OK)
		return btrfs_fail(err, e, "read subvolume", sub);
	*ret = btrfs_util_subvolume_info(p, 0, &info) == BTRFS_UTIL_OK &&
	       !memcmp(info.parent_uuid, me.uuid, sizeof(me.uuid));
	return 0;
}

/* The volume's subvolume, which must be there (whoever made it: the user snapshots the
 * volumes of their guest), and its snapshot's path. */
static int snap_paths(const struct storage_vol *v, const char *snap, char **ret_sub,
		      char **ret_snap, struct lv_error *err)
{
	_cleanup_free_ char *sub = subvol_of(v);
	if (!sub || v->folder || !is_subvolume(sub))
		return lv_fail(err, LV_EXIT_FAIL,
			       "'%s' is not a raw volume in a btrfs subvolume: no snapshot there",
			       v->path);
	*ret_snap = snap_path(sub, snap);
	*ret_sub = steal_pointer(&sub);
	return 0;
}

static int btrfs_snapshot(const struct storage_vol *v, const char *snap, struct lv_error *err)
{
	_cleanup_free_ char *sub = NULL, *p = NULL;
	if (snap_paths(v, snap, &sub, &p, err) < 0)
		return -1;
	struct stat st;
	if (lstat(p, &st) == 0) {
		bool mine;
		if (snap_of(sub, p, &mine, err) < 0)
			return -1;
		if (!mine)
			return lv_fail(err, LV_EXIT_FAIL,
				       "'%s' exists and is not a snapshot of '%s': left alone", p,
				       sub);
		/* a killed run's: the config names no such snapshot (the caller checked) */
		if (subvol_delete(p, err) < 0)
			return -1;
	} else if (errno != ENOENT) {
		return lv_fail_errno(err, errno, "cannot stat '%s'", p);
	}
	errno = 0;
	enum btrfs_util_error e =
	    btrfs_util_create_snapshot(sub, p, BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY, NULL, NULL);
	if (e != BTRFS_UTIL_OK)
		return btrfs_fail(err, e, "snapshot", sub);
	return 0;
}

/* The snapshot's disk.raw cloned over the volume's (FICLONE: its extents shared, no
 * byte copied): the volume keeps its subvolume, so its own snapshots and its base stay
 * related to it. */
static int btrfs_rollback(const struct storage_vol *v, const char *snap, struct lv_error *err)
{
	_cleanup_free_ char *sub = NULL, *p = NULL;
	if (snap_paths(v, snap, &sub, &p, err) < 0)
		return -1;
	bool mine = false;
	if (is_subvolume(p) && snap_of(sub, p, &mine, err) < 0)
		return -1;
	if (!mine)
		return lv_fail(err, LV_EXIT_FAIL, "'%s' has no snapshot '%s' (%s)", sub, snap, p);
	_cleanup_free_ char *from = xasprintf("%s/" RAW_FILE, p);
	_cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int out = open(v->path, O_WRONLY | O_CLOEXEC);
	struct stat st;
	if (in < 0 || fstat(in, &st) < 0)
		return lv_fail_errno(err, errno, "cannot open '%s'", from);
	if (out < 0)
		return lv_fail_errno(err, errno, "cannot open '%s'", v->path);
	if (ioctl(out, FICLONE, in) < 0 || ftruncate(out, st.st_size) < 0 || fsync(out) < 0)
		return lv_fail_errno(err, errno, "cannot roll '%s' back to '%s'", v->path, from);
	return 0;
}

static int btrfs_delsnapshot(const struct storage_vol *v, const char *snap, struct lv_error *err)
{
	_cleanup_free_ char *sub = NULL, *p = NULL;
	if (snap_paths(v, snap, &sub, &p, err) < 0)
		return -1;
	struct stat st;
	if (lstat(p, &st) < 0)
		return errno == ENOENT ? 0 : lv_fail_errno(err, errno, "cannot stat '%s'", p);
	bool mine;
	if (snap_of(sub, p, &mine, err) < 0)
		return -1;
	if (!mine)
		return lv_fail(err, LV_EXIT_FAIL, "'%s' is not a snapshot of '%s': left alone", p,
			       sub);
	return subvol_delete(p, err);
}

/* Removes the snapshots of subvolume sub (its SUB@SNAP siblings taken of it). */
static int remove_snapshots(const char *sub, struct lv_error *err)
{
	_cleanup_free_ char *copy = xstrdup(sub), *copy2 = xstrdup(sub);
	const char *dir = dirname(copy);
	_cleanup_free_ char *prefix = xasprintf("%s@", basename(copy2));
	DIR *d = opendir(dir);
	int rc = 0;
	for (struct dirent *e; d && rc == 0 && (e = readdir(d));) {
		if (!startswith(e->d_name, prefix))
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, e->d_name);
		bool mine;
		rc = snap_of(sub, p, &mine, err);
		if (rc == 0 && mine)
			rc = subvol_delete(p, err);
	}
	if (d)
		closedir(d);
	return rc;
}

static int btrfs_remove(const struct storage_vol *v, struct lv_error *err)
{
	_cleanup_free_ char *sub = subvol_of(v);
	if (!sub)
		return storage_dir_backend.remove(v, err);
	bool exists, foreign;
	if (btrfs_query(v, &exists, &foreign, err) < 0)
		return -1;
	if (!exists)
		return 0;
	if (foreign)
		return lv_fail(err, LV_EXIT_FAIL, "'%s' was not made by labvirt for %s: left alone",
			       sub, v->owner);
	if (remove_snapshots(sub, err) < 0)
		return -1;
	_cleanup_free_ char *base = base_unused(v, sub);
	if (subvol_delete(sub, err) < 0)
		return -1;
	if (base && subvol_delete(base, err) < 0)
		return lv_prefix(err, "base volume");
	remove_stale_parts(v->storage->path);
	return 0;
}

static int btrfs_check(const struct lab_storage *s, const struct storage_vol *vols, size_t n,
		       char **ret_note, struct lv_error *err)
{
	(void)vols, (void)n, (void)ret_note;
	return require_btrfs(s, err);
}

static int btrfs_usage(const struct lab_storage *s, struct storage_usage *ret, struct lv_error *err)
{
	struct statvfs fs;
	if (statvfs(s->path, &fs) < 0)
		return lv_fail_errno(err, errno, "storage '%s': cannot use '%s'", s->id, s->path);
	*ret = (struct storage_usage){0};
	snprintf(ret->pool, sizeof(ret->pool), "%s", s->path);
	ret->data_size = (uint64_t)fs.f_blocks * fs.f_frsize;
	uint64_t avail = (uint64_t)fs.f_bavail * fs.f_frsize;
	ret->data_pct =
	    ret->data_size ? 100.0 * (double)(ret->data_size - avail) / (double)ret->data_size : 0;
	return 0;
}

int storage_btrfs_delete(const char *path, struct lv_error *err)
{
	if (!is_subvolume(path))
		return 0;
	return subvol_delete(path, err) < 0 ? -1 : 1;
}

const struct storage_backend storage_btrfs_backend = {
    .type = "btrfs",
    .query = btrfs_query,
    .create = btrfs_create,
    .remove = btrfs_remove,
    .check = btrfs_check,
    .usage = btrfs_usage,
    .snapshot = btrfs_snapshot,
    .rollback = btrfs_rollback,
    .delsnapshot = btrfs_delsnapshot,
};
