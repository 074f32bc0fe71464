/* isofs.c - the one file that includes libisofs: the cloud-init drive as an
 * ISO 9660 image (see isofs.h for what it holds and why it is deterministic).
 *
 * libisofs keeps process-wide state (its message queue, the charset, the time
 * it calls "now"): it is set up once, on first use, by pthread_once, and never
 * torn down, as iso_finish() would pull it from under a concurrent writer.
 * Its own printing is switched off; its error codes come back as lv_error. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* struct burn_source, without libburn.h */
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>

#include "isofs.h"

#define BLOCK 2048

static pthread_once_t isofs_once = PTHREAD_ONCE_INIT;
static int isofs_init_rc; /* written once, under isofs_once */

static void isofs_init(void)
{
	/* bit0: no locale from the environment; names are ASCII anyway. */
	isofs_init_rc = iso_init_with_flag(1);
	if (isofs_init_rc < 0)
		return;
	iso_set_msgs_severities("NEVER", "NEVER", "labvirt");
	iso_set_local_charset("UTF-8", 0);
	time_t now = ISOFS_EPOCH;
	iso_nowtime(&now, 1); /* nodes' times and the image's default times */
}

static int iso_fail(struct lv_error *err, int rc, const char *what)
{
	return lv_fail(err, LV_EXIT_FAIL, "%s: %s", what, iso_error_to_msg(rc));
}

static void image_unrefp(IsoImage **image)
{
	if (*image)
		iso_image_unref(*image);
}

static void opts_freep(IsoWriteOpts **opts)
{
	if (*opts)
		iso_write_opts_free(*opts);
}

/* The directory at the first len bytes of path, made when missing. */
static int dir_at(IsoImage *image, const char *path, size_t len, IsoDir **ret, struct lv_error *err)
{
	IsoDir *dir = iso_image_get_root(image);
	for (size_t off = 0; off < len;) {
		size_t n = strcspn(path + off, "/");
		if (n > len - off)
			n = len - off;
		_cleanup_free_ char *name = xstrndup(path + off, n);
		IsoNode *node = NULL;
		if (iso_dir_get_node(dir, name, &node) == 1) {
			if (iso_node_get_type(node) != LIBISO_DIR)
				return lv_fail(err, LV_EXIT_FAIL, "'%s' is a file and a folder",
					       name);
			dir = (IsoDir *)node;
		} else {
			int rc = iso_image_add_new_dir(image, dir, name, &dir);
			if (rc < 0)
				return iso_fail(err, rc, name);
		}
		off += n + 1;
	}
	*ret = dir;
	return 0;
}

static int add_file(IsoImage *image, const struct ci_file *f, struct lv_error *err)
{
	const char *slash = strrchr(f->path, '/');
	const char *base = slash ? slash + 1 : f->path;
	IsoDir *dir = NULL;
	if (dir_at(image, f->path, slash ? (size_t)(slash - f->path) : 0, &dir, err) < 0)
		return -1;
	unsigned char *copy = xmalloc(f->len + 1); /* the stream frees it */
	memcpy(copy, f->data, f->len);
	IsoStream *stream = NULL;
	int rc = iso_memory_stream_new(copy, f->len, &stream);
	if (rc < 0) {
		free(copy);
		return iso_fail(err, rc, f->path);
	}
	rc = iso_image_add_new_file(image, dir, base, stream, NULL);
	if (rc < 0) {
		iso_stream_unref(stream);
		return iso_fail(err, rc, f->path);
	}
	return 0;
}

/* genisoimage -iso-level 3 -J -R of files Proxmox wrote as root, plus the
 * fixed times. */
static int write_opts(IsoWriteOpts **ret, struct lv_error *err)
{
	IsoWriteOpts *o;
	int rc = iso_write_opts_new(&o, 0);
	if (rc < 0)
		return iso_fail(err, rc, "cannot set up the image");
	static char vol_time[] = "2000010100000000"; /* ISOFS_EPOCH, GMT */
	iso_write_opts_set_iso_level(o, 3);
	iso_write_opts_set_rockridge(o, 1);
	/* RRIP 1.10 (RRIP_1991A), as genisoimage; without its PX serial numbers,
	 * which libisofs numbers in an order that varies from run to run. */
	iso_write_opts_set_rrip_version_1_10(o, 1);
	iso_write_opts_set_rrip_1_10_px_ino(o, 0);
	iso_write_opts_set_joliet(o, 1);
	iso_write_opts_set_relaxed_vol_atts(o, 1); /* the label as given: `cidata`, not `CIDATA` */
	/* Joliet names as genisoimage writes them: `user-data`, not `user-data.;1`. */
	iso_write_opts_set_omit_version_numbers(o, 2);
	iso_write_opts_set_no_force_dots(o, 2);
	iso_write_opts_set_replace_mode(o, 2, 2, 2, 2);
	iso_write_opts_set_default_dir_mode(o, S_IFDIR | 0755);
	iso_write_opts_set_default_file_mode(o, S_IFREG | 0644);
	iso_write_opts_set_default_uid(o, 0);
	iso_write_opts_set_default_gid(o, 0);
	iso_write_opts_set_dir_rec_mtime(o, 7);
	iso_write_opts_set_replace_timestamps(o, 2);
	iso_write_opts_set_default_timestamp(o, ISOFS_EPOCH);
	iso_write_opts_set_always_gmt(o, 1);
	iso_write_opts_set_pvd_times(o, ISOFS_EPOCH, ISOFS_EPOCH, 0, 0, vol_time);
	*ret = o;
	return 0;
}

/* Reads the image from libisofs' writer thread, block by block. */
static int drain(IsoImage *image, IsoWriteOpts *opts, char **ret_buf, size_t *ret_len,
		 struct lv_error *err)
{
	struct burn_source *src = NULL;
	int rc = iso_image_create_burn_source(image, opts, &src);
	if (rc < 0)
		return iso_fail(err, rc, "cannot start the image");
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + BLOCK > cap) {
			cap = cap ? 2 * cap : 256 * BLOCK;
			buf = xrealloc(buf, cap);
		}
		rc = src->read_xt(src, (unsigned char *)buf + len, BLOCK);
		if (rc <= 0)
			break;
		len += (size_t)rc;
	}
	src->free_data(src);
	free(src);
	if (rc < 0)
		return lv_fail(err, LV_EXIT_FAIL, "libisofs could not write the image");
	*ret_buf = steal_pointer(&buf);
	*ret_len = len;
	return 0;
}

int isofs_make(const char *volume_id, const struct ci_file *files, size_t n, char **ret_buf,
	       size_t *ret_len, struct lv_error *err)
{
	pthread_once(&isofs_once, isofs_init);
	if (isofs_init_rc < 0)
		return iso_fail(err, isofs_init_rc, "cannot initialise libisofs");
	_cleanup_(image_unrefp) IsoImage *image = NULL;
	_cleanup_(opts_freep) IsoWriteOpts *opts = NULL;
	int rc = iso_image_new(volume_id, &image);
	if (rc < 0)
		return iso_fail(err, rc, "cannot make an image");
	/* As genisoimage on Linux: no volume set id, system id LINUX. */
	iso_image_set_volset_id(image, "");
	iso_image_set_system_id(image, "LINUX");
	for (size_t i = 0; i < n; i++)
		if (add_file(image, &files[i], err) < 0)
			return -1;
	if (write_opts(&opts, err) < 0)
		return -1;
	return drain(image, opts, ret_buf, ret_len, err);
}

int isofs_write_into(const struct ci_drive *d, const char *path, struct lv_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct stat sb;
	if (isofs_make(d->volume_id, d->files, d->n_files, &buf, &len, err) < 0)
		return -1;
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return lv_fail_errno(err, errno, "cannot open '%s'", path);
	int rc = 0;
	if (fstat(fd, &sb) < 0)
		rc = lv_fail_errno(err, errno, "cannot stat '%s'", path);
	else if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size < len)
		rc = lv_fail(err, LV_EXIT_FAIL, "'%s' is smaller than the drive (%zu bytes)", path,
			     len);
	for (size_t off = 0; rc == 0 && off < len;) {
		ssize_t w = pwrite(fd, buf + off, len - off, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			rc = lv_fail_errno(err, errno, "cannot write '%s'", path);
		else
			off += (size_t)w;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = lv_fail_errno(err, errno, "cannot write '%s'", path);
	close(fd);
	return rc;
}

int isofs_write_drive(const struct ci_drive *d, const char *path, struct lv_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (isofs_make(d->volume_id, d->files, d->n_files, &buf, &len, err) < 0)
		return lv_prefix(err, "cloud-init drive '%s'", path);
	if (lv_write_file_atomic(path, buf, len, 0600, err) < 0)
		return lv_prefix(err, "cloud-init drive");
	return 0;
}
