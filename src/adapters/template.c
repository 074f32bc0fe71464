/* template.c - the one file that includes libarchive: CT templates extracted
 * in-process (template.h says what is refused and why), and an ext4 volume
 * made from the extracted tree with mke2fs -d.
 *
 * libarchive's own lookups are never set up: owners stay numbers, as with
 * tar --numeric-owner. Only in-process decompressors are enabled, so no
 * filter program is ever run. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "host.h"
#include "template.h"

#define READ_BLOCK (128 * 1024)
#define EXT4_BLOCK 4096

static const int extract_flags = ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM |
				 ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_ACL |
				 ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SPARSE |
				 ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT;

/* The decompressors tried on every archive, in-process only. */
static int (*const filters[])(struct archive *) = {
    archive_read_support_filter_gzip,
    archive_read_support_filter_bzip2,
    archive_read_support_filter_xz,
    archive_read_support_filter_zstd,
};

static void archive_readp(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

static void archive_writep(struct archive **a)
{
	if (*a)
		archive_write_free(*a);
}

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* What extraction carries from entry to entry. */
struct extract {
	const char *archive; /* for messages */
	const char *root;    /* realpath of dest_dir */
	const struct tmpl_opts *opts;
	struct tmpl_stats *stats;
	struct archive *in, *out;
};

/* An entry's name fit for a message: control bytes become '?'. */
static char *printable(const char *name)
{
	char *s = xstrdup(name ? name : "");
	for (char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return s;
}

static int entry_fail(const struct extract *x, const char *name, struct lv_error *err,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int entry_fail(const struct extract *x, const char *name, struct lv_error *err,
		      const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	_cleanup_free_ char *p = printable(name);
	return lv_fail(err, LV_EXIT_FAIL, "template %s: entry '%s': %s", x->archive, p, why);
}

/* name as a path below the root, with "." and empty components dropped ("" is
 * the root itself); NULL with *why set for an absolute name or a "..". */
static char *clean_name(const char *name, const char **why)
{
	if (name[0] == '/') {
		*why = "absolute path";
		return NULL;
	}
	char *out = xmalloc(strlen(name) + 1);
	size_t o = 0;
	for (const char *p = name; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			free(out);
			*why = "path contains '..'";
			return NULL;
		}
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		if (*p)
			p++;
	}
	out[o] = '\0';
	return out;
}

/* Proxmox's anchored exclude of what is below ./dev/ (see template.h). */
static bool under_dev(const char *rel)
{
	return startswith(rel, "dev/");
}

static char *full_path(const struct extract *x, const char *rel)
{
	if (!*rel)
		return xstrdup(x->root);
	return xasprintf("%s/%s", x->root, rel);
}

static int shift_id(const struct extract *x, const char *name, const char *what, int64_t id,
		    int64_t shift, int64_t *ret, struct lv_error *err)
{
	if (id < 0 || id >= (int64_t)x->opts->id_count)
		return entry_fail(x, name, err, "%s %lld is outside the container's %u ids", what,
				  (long long)id, x->opts->id_count);
	*ret = id + shift;
	return 0;
}

/* The named users and groups of POSIX ACLs, shifted like the owners. */
static int shift_acl(const struct extract *x, struct archive_entry *e, const char *name,
		     struct lv_error *err)
{
	const int want = ARCHIVE_ENTRY_ACL_TYPE_POSIX1E;
	int n = archive_entry_acl_reset(e, want);
	if (n <= 0)
		return 0;
	struct acl_item {
		int type, perm, tag, id;
	};
	_cleanup_free_ struct acl_item *items = xcalloc((size_t)n, sizeof(*items));
	int k = 0;
	int type, perm, tag, id;
	const char *qname;
	while (k < n &&
	       archive_entry_acl_next(e, want, &type, &perm, &tag, &id, &qname) == ARCHIVE_OK) {
		int64_t shifted = id;
		if (tag == ARCHIVE_ENTRY_ACL_USER &&
		    shift_id(x, name, "ACL uid", id, x->opts->uid_shift, &shifted, err) < 0)
			return -1;
		if (tag == ARCHIVE_ENTRY_ACL_GROUP &&
		    shift_id(x, name, "ACL gid", id, x->opts->gid_shift, &shifted, err) < 0)
			return -1;
		items[k++] = (struct acl_item){type, perm, tag, (int)shifted};
	}
	archive_entry_acl_clear(e);
	for (int i = 0; i < k; i++)
		archive_entry_acl_add_entry(e, items[i].type, items[i].perm, items[i].tag,
					    items[i].id, NULL);
	return 0;
}

static int shift_owner(const struct extract *x, struct archive_entry *e, const char *name,
		       struct lv_error *err)
{
	int64_t uid = 0, gid = 0;
	if (shift_id(x, name, "uid", archive_entry_uid(e), x->opts->uid_shift, &uid, err) < 0 ||
	    shift_id(x, name, "gid", archive_entry_gid(e), x->opts->gid_shift, &gid, err) < 0)
		return -1;
	archive_entry_set_uid(e, uid);
	archive_entry_set_gid(e, gid);
	return shift_acl(x, e, name, err);
}

/* Proxmox's --xattrs-include=user.* --xattrs-include=security.capability. */
static void keep_proxmox_xattrs(struct archive_entry *e)
{
	int n = archive_entry_xattr_reset(e);
	if (n <= 0)
		return;
	struct xattr {
		char *name;
		void *value;
		size_t size;
	} *kept = xcalloc((size_t)n, sizeof(*kept));
	int k = 0;
	const char *name;
	const void *value;
	size_t size;
	while (k < n && archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (!startswith(name, "user.") && !streq(name, "security.capability"))
			continue;
		kept[k].name = xstrdup(name);
		kept[k].value = xmalloc(size ? size : 1);
		memcpy(kept[k].value, value, size);
		kept[k++].size = size;
	}
	if (k < n) {
		archive_entry_xattr_clear(e);
		for (int i = 0; i < k; i++)
			archive_entry_xattr_add_entry(e, kept[i].name, kept[i].value, kept[i].size);
	}
	for (int i = 0; i < k; i++)
		free(kept[i].name), free(kept[i].value);
	free(kept);
}

static int copy_data(const struct extract *x, const char *name, struct lv_error *err)
{
	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t off;
		int r = archive_read_data_block(x->in, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return entry_fail(x, name, err, "%s", archive_error_string(x->in));
		if (archive_write_data_block(x->out, buf, size, off) < ARCHIVE_WARN)
			return entry_fail(x, name, err, "%s", archive_error_string(x->out));
		x->stats->bytes += size;
	}
}

/* Whether the entry is left out, as Proxmox leaves it out. */
static bool skipped(const struct extract *x, struct archive_entry *e, const char *rel,
		    const char *link_rel)
{
	mode_t type = archive_entry_filetype(e);
	bool device = type == AE_IFCHR || type == AE_IFBLK;
	if (device && (x->opts->unprivileged || under_dev(rel))) {
		x->stats->skipped_devices++;
		return true;
	}
	if (under_dev(rel) || (link_rel && under_dev(link_rel))) {
		x->stats->skipped_dev++;
		return true;
	}
	return false;
}

/* Names made absolute under the root: the entry's, and its hardlink's target. */
static int place(const struct extract *x, struct archive_entry *e, const char *name,
		 const char *rel, const char *link_rel, struct lv_error *err)
{
	_cleanup_free_ char *path = full_path(x, rel);
	archive_entry_copy_pathname(e, path);
	if (link_rel) {
		if (!*link_rel)
			return entry_fail(x, name, err, "hardlink to the root folder");
		_cleanup_free_ char *target = full_path(x, link_rel);
		archive_entry_copy_hardlink(e, target);
	}
	return 0;
}

static int extract_entry(const struct extract *x, struct archive_entry *e, struct lv_error *err)
{
	const char *name = archive_entry_pathname(e);
	if (!name)
		return lv_fail(err, LV_EXIT_FAIL, "template %s: an entry without a name",
			       x->archive);
	_cleanup_free_ char *name_copy = xstrdup(name);
	const char *why = NULL;
	_cleanup_free_ char *rel = clean_name(name_copy, &why);
	if (!rel)
		return entry_fail(x, name_copy, err, "%s", why);
	const char *link = archive_entry_hardlink(e);
	_cleanup_free_ char *link_rel = NULL;
	if (link && !(link_rel = clean_name(link, &why)))
		return entry_fail(x, name_copy, err, "hardlink target '%s': %s", link, why);
	if (skipped(x, e, rel, link_rel))
		return 0;
	if (!*rel && archive_entry_filetype(e) != AE_IFDIR)
		return entry_fail(x, name_copy, err, "names the root folder but is not a folder");
	if (x->opts->unprivileged && shift_owner(x, e, name_copy, err) < 0)
		return -1;
	archive_entry_set_uname(e, NULL);
	archive_entry_set_gname(e, NULL);
	keep_proxmox_xattrs(e);
	if (place(x, e, name_copy, rel, link_rel, err) < 0)
		return -1;
	if (archive_write_header(x->out, e) < ARCHIVE_WARN)
		return entry_fail(x, name_copy, err, "%s", archive_error_string(x->out));
	if (archive_entry_size(e) > 0 && copy_data(x, name_copy, err) < 0)
		return -1;
	if (archive_write_finish_entry(x->out) < ARCHIVE_WARN)
		return entry_fail(x, name_copy, err, "%s", archive_error_string(x->out));
	x->stats->entries++;
	return 0;
}

static int dir_is_empty(const char *path, struct lv_error *err)
{
	_cleanup_(closedirp) DIR *d = opendir(path);
	if (!d)
		return lv_fail_errno(err, errno, "%s", path);
	struct dirent *de;
	while ((de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
			return lv_fail(err, LV_EXIT_FAIL, "%s is not empty", path);
	return 0;
}

static int open_archive(const char *archive, struct archive **ret, struct lv_error *err)
{
	_cleanup_(archive_readp) struct archive *a = archive_read_new();
	if (!a)
		return lv_fail(err, LV_EXIT_FAIL, "out of memory");
	for (size_t i = 0; i < ARRAY_SIZE(filters); i++)
		if (filters[i](a) != ARCHIVE_OK)
			return lv_fail(err, LV_EXIT_FAIL, "libarchive: %s",
				       archive_error_string(a));
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, archive, READ_BLOCK) != ARCHIVE_OK)
		return lv_fail(err, LV_EXIT_FAIL, "%s", archive_error_string(a));
	*ret = steal_pointer(&a);
	return 0;
}

int tmpl_read_member(const char *archive, const char *member, size_t max, char **ret,
		     struct lv_error *err)
{
	_cleanup_(archive_readp) struct archive *a = NULL;
	if (open_archive(archive, &a, err) < 0)
		return lv_prefix(err, "%s", archive);
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			return lv_fail(err, LV_EXIT_USAGE, "%s: no %s in the archive", archive,
				       member);
		if (r < ARCHIVE_WARN)
			return lv_fail(err, LV_EXIT_FAIL, "%s: %s", archive,
				       archive_error_string(a));
		const char *name = archive_entry_pathname(e);
		if (!name || !streq(name + (startswith(name, "./") ? 2 : 0), member))
			continue;
		int64_t size = archive_entry_size(e);
		if (size < 0 || (uint64_t)size > max)
			return lv_fail(err, LV_EXIT_FAIL, "%s: %s is larger than %zu bytes",
				       archive, member, max);
		char *buf = xmalloc((size_t)size + 1);
		la_ssize_t n = archive_read_data(a, buf, (size_t)size);
		if (n != (la_ssize_t)size) {
			free(buf);
			return lv_fail(err, LV_EXIT_FAIL, "%s: %s: %s", archive, member,
				       n < 0 ? archive_error_string(a) : "short read");
		}
		buf[size] = '\0';
		*ret = buf;
		return 0;
	}
}

static int extract_all(struct extract *x, struct lv_error *err)
{
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(x->in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return lv_fail(err, LV_EXIT_FAIL, "template %s: %s", x->archive,
				       archive_error_string(x->in));
		if (extract_entry(x, e, err) < 0)
			return -1;
	}
	/* Folders' modes and times, deferred until their contents are in. */
	if (archive_write_close(x->out) < ARCHIVE_WARN)
		return lv_fail(err, LV_EXIT_FAIL, "template %s: %s", x->archive,
			       archive_error_string(x->out));
	return 0;
}

int tmpl_extract(const char *archive, const char *dest_dir, const struct tmpl_opts *opts,
		 struct tmpl_stats *stats, struct lv_error *err)
{
	struct tmpl_stats ignored;
	if (!stats)
		stats = &ignored;
	*stats = (struct tmpl_stats){0};
	if (opts->unprivileged && opts->id_count == 0)
		return lv_fail(err, LV_EXIT_FAIL, "template %s: no ids to map", archive);
	_cleanup_free_ char *root = realpath(dest_dir, NULL);
	if (!root)
		return lv_fail_errno(err, errno, "template %s: %s", archive, dest_dir);
	if (dir_is_empty(root, err) < 0)
		return lv_prefix(err, "template %s", archive);
	_cleanup_(archive_readp) struct archive *in = NULL;
	if (open_archive(archive, &in, err) < 0)
		return lv_prefix(err, "template %s", archive);
	_cleanup_(archive_writep) struct archive *out = archive_write_disk_new();
	if (!out)
		return lv_fail(err, LV_EXIT_FAIL, "template %s: out of memory", archive);
	archive_write_disk_set_options(out, extract_flags);
	struct extract x = {archive, root, opts, stats, in, out};
	if (extract_all(&x, err) < 0) {
		/* libarchive's messages quote names from the archive as they are */
		for (char *c = err ? err->msg : ""; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		return -1;
	}
	return 0;
}

/* target made a regular file of size bytes; *created says whether it is new. */
static int make_file(const char *target, uint64_t size, bool *created, struct lv_error *err)
{
	if (size < 16 * 1024 * 1024 || size % EXT4_BLOCK != 0)
		return lv_fail(err, LV_EXIT_FAIL,
			       "size %llu is not a multiple of %d of at least 16 MiB",
			       (unsigned long long)size, EXT4_BLOCK);
	_cleanup_close_ int fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	*created = fd >= 0;
	if (fd < 0 && errno == EEXIST)
		fd = open(target, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return lv_fail_errno(err, errno, "%s", target);
	if (ftruncate(fd, (off_t)size) < 0) {
		int e = errno;
		if (*created)
			unlink(target);
		return lv_fail_errno(err, e, "%s", target);
	}
	return 0;
}

int rootfs_make_ext4(const char *tree, const char *target, uint64_t size_bytes, uid_t root_uid,
		     gid_t root_gid, struct lv_error *err)
{
	struct stat st;
	bool device = stat(target, &st) == 0 && S_ISBLK(st.st_mode);
	bool created = false;
	if (!device && make_file(target, size_bytes, &created, err) < 0)
		return lv_prefix(err, "ext4 %s", target);
	char owner[64], blocks[32] = "";
	snprintf(owner, sizeof(owner), "root_owner=%u:%u", (unsigned)root_uid, (unsigned)root_gid);
	if (size_bytes)
		snprintf(blocks, sizeof(blocks), "%llu",
			 (unsigned long long)(size_bytes / EXT4_BLOCK));
	const char *mke2fs = host_find_program("mke2fs") ? "mke2fs" : "/usr/sbin/mke2fs";
	/* Proxmox's mkfs.ext4 -O mmp -E root_owner=...; the block size is fixed so
	 * that the same tree and size give the same layout on any host. */
	const char *argv[] = {mke2fs, "-F", "-q",  "-t", "ext4", "-b",   "4096", "-O",
			      "mmp",  "-E", owner, "-d", tree,   target, blocks, NULL};
	if (!*blocks)
		argv[14] = NULL;
	if (host_run(argv, NULL, err) < 0) {
		if (created)
			unlink(target);
		return lv_prefix(err, "ext4 %s", target);
	}
	return 0;
}
