/* storage_dir.c - the `dir` backend: qcow2 files in a directory. A new or
 * linked-clone volume is written directly (qcow2.c, byte for byte what
 * qemu-img create writes); a full copy is qemu-img convert (run by argument
 * vector) into such a volume. A volume is labvirt's when it carries the
 * extended attribute user.labvirt.owner = "LAB/GUEST/DISK". A volume appears
 * under its final name only when complete (made under a temporary name, then
 * renamed without replacing anything). */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "host.h"
#include "qcow2.h"
#include "storage.h"

#define OWNER_XATTR "user.labvirt.owner"

void (*storage_before_rename)(const char *tmp);

static int dir_query(const struct storage_vol *v, bool *ret_exists, bool *ret_foreign,
		     struct lv_error *err)
{
	struct stat st;
	bool want_dir = v->folder;
	if (lstat(v->path, &st) < 0) {
		if (errno != ENOENT)
			return lv_fail_errno(err, errno, "cannot stat '%s'", v->path);
		*ret_exists = *ret_foreign = false;
		return 0;
	}
	*ret_exists = true;
	char tag[256];
	ssize_t n = getxattr(v->path, OWNER_XATTR, tag, sizeof(tag) - 1);
	if (n < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP)) {
		/* No user xattrs on this file system: the name carries the owner. */
		*ret_foreign = want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode);
		return 0;
	}
	if (n < 0 && errno != ENODATA)
		return lv_fail_errno(err, errno, "cannot read owner of '%s'", v->path);
	tag[n > 0 ? n : 0] = '\0';
	*ret_foreign =
	    (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) || !streq(tag, v->owner);
	return 0;
}

/* What an import image is: its format and virtual size, read from its header
 * rather than probed by a tool. */
struct image_info {
	const char *format;
	uint64_t size;
};

/* format NULL: probed (an image from elsewhere), else as given (a volume of the lab,
 * whose contents a guest wrote: a raw one is raw whatever it holds, and a qcow2 one's
 * backing chain is the lab's own). */
static int image_inspect(const char *path, const char *format, struct image_info *ret,
			 struct lv_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lv_fail_errno(err, errno, "cannot open image '%s'", path);
	unsigned char h[80];
	ssize_t n = pread(fd, h, sizeof(h), 0);
	struct stat st;
	uint64_t bytes = 0;
	if (n < 0 || fstat(fd, &st) < 0 ||
	    (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &bytes) < 0))
		return lv_fail_errno(err, errno, "cannot read image '%s'", path);
	if (!S_ISBLK(st.st_mode))
		bytes = (uint64_t)st.st_size;
	bool qcow2 = n >= 72 && memcmp(h, "QFI\xfb", 4) == 0;
	if (format && streq(format, "qcow2") != qcow2)
		return lv_fail(err, LV_EXIT_FAIL, "volume '%s' is not %s", path, format);
	if (!qcow2) {
		*ret = (struct image_info){"raw", bytes};
		return 0;
	}
	uint64_t backing, size, features = 0;
	memcpy(&backing, h + 8, 8);
	memcpy(&size, h + 24, 8);
	uint32_t version;
	memcpy(&version, h + 4, 4);
	if (be32toh(version) >= 3 && n >= 80)
		memcpy(&features, h + 72, 8); /* incompatible_features (v3) */
	if (be64toh(backing) != 0 && !format)
		return lv_fail(err, LV_EXIT_FAIL,
			       "image '%s' has a backing file of its own: refused (it could "
			       "expose host files)",
			       path);
	if ((be64toh(features) & (1u << 2)) && !format)
		return lv_fail(err, LV_EXIT_FAIL,
			       "image '%s' has an external data file: refused (it could expose "
			       "host files)",
			       path);
	*ret = (struct image_info){"qcow2", be64toh(size)};
	return 0;
}

static int raw_create(const char *path, uint64_t size, struct lv_error *err);

/* The import image into the new volume at tmp: a qcow2 over it (linked), or a full copy
 * in the volume's own format (a .raw volume is always a full copy). */
static int image_clone(const struct storage_vol *v, const char *tmp, struct lv_error *err)
{
	struct image_info img = {0};
	if (image_inspect(v->import_from, v->import_format, &img, err) < 0)
		return -1;
	if (v->size && v->size < img.size)
		return lv_fail(err, LV_EXIT_FAIL,
			       "import-from '%s' is %llu bytes, more than the disk's size",
			       v->import_from, (unsigned long long)img.size);
	uint64_t size = v->size ? v->size : img.size;
	_cleanup_free_ char *abs = realpath(v->import_from, NULL);
	if (!abs)
		return lv_fail_errno(err, errno, "cannot resolve '%s'", v->import_from);
	if (!v->full_clone && !v->raw)
		return qcow2_create(tmp, size, abs, img.format, err);
	/* A full copy goes into a volume made first, so that the file is 0600
	 * from its first moment; it reads as zeros, so zeros need no writing. */
	const char *conv[] = {"qemu-img",
			      "convert",
			      "-q",
			      "-n",
			      "--target-is-zero",
			      "-f",
			      img.format,
			      "-O",
			      v->raw ? "raw" : "qcow2",
			      abs,
			      tmp,
			      NULL};
	if ((v->raw ? raw_create(tmp, size, err) : qcow2_create(tmp, size, NULL, NULL, err)) < 0)
		return -1;
	return host_run(conv, NULL, err);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)ftw;
	return (type == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

/* A folder volume and everything in it, never following a symlink out of it. */
int storage_dir_remove_tree(const char *path)
{
	int rc = nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	return rc < 0 && errno == ENOENT ? 0 : rc;
}

static int ensure_dir(const char *path, struct lv_error *err)
{
	_cleanup_free_ char *copy = xstrdup(path);
	const char *dir = dirname(copy);
	struct stat st;
	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode)
			   ? 0
			   : lv_fail(err, LV_EXIT_FAIL, "'%s' is not a directory", dir);
	/* Traversable by the hypervisor's user, not listable by others. */
	if (mkdir(dir, 0711) < 0 && errno != EEXIST)
		return lv_fail_errno(err, errno, "cannot create storage directory '%s'", dir);
	return 0;
}

/* A sparse raw file of size bytes, 0600 from its first moment. */
static int raw_create(const char *path, uint64_t size, struct lv_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return lv_fail_errno(err, errno, "cannot create '%s'", path);
	int rc = ftruncate(fd, (off_t)size) < 0
		     ? lv_fail_errno(err, errno, "cannot size '%s'", path)
		     : 0;
	if (close(fd) < 0 && rc == 0)
		rc = lv_fail_errno(err, errno, "cannot write '%s'", path);
	return rc;
}

static int dir_create(const struct storage_vol *v, struct lv_error *err)
{
	if (ensure_dir(v->path, err) < 0)
		return -1;
	_cleanup_free_ char *copy = xstrdup(v->path);
	_cleanup_free_ char *tmp =
	    xasprintf("%s/.%s.part-%d", dirname(copy), strrchr(v->path, '/') + 1, (int)getpid());
	int rc =
	    v->folder
		? (mkdir(tmp, 0700) < 0 ? lv_fail_errno(err, errno, "cannot create '%s'", tmp) : 0)
	    : v->import_from ? image_clone(v, tmp, err)
	    : v->raw         ? raw_create(tmp, v->size, err)
			     : qcow2_create(tmp, v->size, NULL, NULL, err);
	if (rc == 0 && v->fill)
		rc = v->fill(tmp, v->fill_opaque, err);
	if (rc == 0 && setxattr(tmp, OWNER_XATTR, v->owner, strlen(v->owner), 0) < 0 &&
	    errno != ENOTSUP && errno != EOPNOTSUPP)
		rc = lv_fail_errno(err, errno, "cannot tag '%s'", tmp);
	if (rc == 0 && storage_before_rename)
		storage_before_rename(tmp);
	if (rc == 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, v->path, RENAME_NOREPLACE) < 0)
		rc = lv_fail_errno(err, errno, "cannot create '%s'", v->path);
	if (rc < 0)
		v->folder ? storage_dir_remove_tree(tmp) : unlink(tmp);
	return rc;
}

static int dir_remove(const struct storage_vol *v, struct lv_error *err)
{
	bool exists, foreign;
	if (dir_query(v, &exists, &foreign, err) < 0)
		return -1;
	if (!exists)
		return 0;
	if (foreign)
		return lv_fail(err, LV_EXIT_FAIL, "'%s' was not made by labvirt for %s: left alone",
			       v->path, v->owner);
	if (v->folder ? storage_dir_remove_tree(v->path) < 0
		      : unlink(v->path) < 0 && errno != ENOENT)
		return lv_fail_errno(err, errno, "cannot remove '%s'", v->path);
	return 0;
}

int storage_dir_tag(const struct storage_vol *v, struct lv_error *err)
{
	if (setxattr(v->path, OWNER_XATTR, v->owner, strlen(v->owner), 0) == 0 ||
	    errno == ENOTSUP || errno == EOPNOTSUPP)
		return 0;
	return lv_fail_errno(err, errno, "cannot tag '%s'", v->path);
}

const struct storage_backend storage_dir_backend = {
    .type = "dir",
    .query = dir_query,
    .create = dir_create,
    .remove = dir_remove,
};
