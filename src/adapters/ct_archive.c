/* ct_archive.c - a container's tree as vzdump archives it (vzdump-lxc-ID-DATE.tar):
 * ./etc/vzdump/pct.conf first, then the tree from "." (one file system, the guest's
 * own etc/vzdump/ left out), owners as the container sees them (an unprivileged
 * container's shifted ids shifted back; ids outside its range as nobody, 65534, as
 * vzdump's tar in the container's user namespace sees them), in POSIX tar (pax headers
 * only where needed, for xattrs and long names) written with libarchive, compressed by
 * the zstream writer. A volume that is an ext4 image or LV is mounted read-only in a
 * mount namespace of a child process of its own: nothing shows on the host, and a
 * killed run leaves no mount. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "ct_archive.h"
#include "host.h"

#define NOBODY 65534

struct sink {
	int fd;
	struct zs_out *z;
	struct lv_error *err;
};

static la_ssize_t sink_write(struct archive *a, void *opaque, const void *buf, size_t len)
{
	(void)a;
	struct sink *s = opaque;
	int rc = s->z ? zs_out_write(s->z, buf, len, s->err) : 0;
	for (size_t done = 0; !s->z && rc == 0 && done < len;) {
		ssize_t n = write(s->fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = lv_fail_errno(s->err, errno, "cannot write the archive");
		else
			done += (size_t)n;
	}
	return rc < 0 ? -1 : (la_ssize_t)len;
}

static int64_t unshift(int64_t id, uint32_t shift)
{
	if (!shift)
		return id;
	return id >= shift && id < (int64_t)shift + 65536 ? id - shift : NOBODY;
}

static int la_fail(struct lv_error *err, struct archive *a, const char *what)
{
	if (err && err->msg[0])
		return -1; /* the sink's own error */
	return lv_fail(err, LV_EXIT_FAIL, "%s: %s", what,
		       archive_error_string(a) ? archive_error_string(a) : "failed");
}

/* The tree below the current folder, written into w. */
static int write_tree(struct archive *w, uint32_t shift, struct ct_archive_stats *st,
		      struct lv_error *err)
{
	struct archive *disk = archive_read_disk_new();
	archive_read_disk_set_standard_lookup(disk);
	archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS |
						 ARCHIVE_READDISK_NO_ACL |
						 ARCHIVE_READDISK_NO_FFLAGS);
	int rc = archive_read_disk_open(disk, ".") == ARCHIVE_OK ? 0 : la_fail(err, disk, ".");
	struct archive_entry *e = archive_entry_new();
	char *buf = xmalloc(1 << 16);
	while (rc == 0) {
		int r = archive_read_next_header2(disk, e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = la_fail(err, disk, "reading the container's tree");
			break;
		}
		const char *path = archive_entry_pathname(e);
		/* the guest's own etc/vzdump/ is vzdump's place: left out, as vzdump does */
		if (startswith(path, "./etc/vzdump/") || streq(path, "./etc/vzdump"))
			continue;
		archive_read_disk_descend(disk);
		archive_entry_set_uid(e, unshift(archive_entry_uid(e), shift));
		archive_entry_set_gid(e, unshift(archive_entry_gid(e), shift));
		archive_entry_set_uname(e, NULL);
		archive_entry_set_gname(e, NULL);
		if (archive_write_header(w, e) < ARCHIVE_WARN) {
			rc = la_fail(err, w, path);
			break;
		}
		st->entries++;
		if (archive_entry_filetype(e) != AE_IFREG || archive_entry_size(e) <= 0)
			continue;
		la_ssize_t n;
		while (rc == 0 && (n = archive_read_data(disk, buf, 1 << 16)) > 0) {
			if (archive_write_data(w, buf, (size_t)n) != n)
				rc = la_fail(err, w, path);
			st->bytes += (uint64_t)n;
		}
		if (rc == 0 && n < 0)
			rc = la_fail(err, disk, path);
	}
	free(buf);
	archive_entry_free(e);
	archive_read_free(disk);
	return rc;
}

/* The archive into fd, from the current folder (the container's root). */
static int write_archive(int fd, const char *conf, uint32_t shift, enum zs_compress comp,
			 struct ct_archive_stats *st, struct lv_error *err)
{
	struct sink s = {.fd = fd, .err = err};
	if (comp != ZS_NONE && zs_out_open(fd, comp, 2, &s.z, err) < 0)
		return -1;
	struct archive *w = archive_write_new();
	archive_write_set_format_pax_restricted(w);
	archive_write_set_bytes_in_last_block(w, 1);
	int rc = archive_write_open(w, &s, NULL, sink_write, NULL) == ARCHIVE_OK
		     ? 0
		     : la_fail(err, w, "archive");
	/* ./etc/vzdump/pct.conf first, as vzdump writes it */
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "./etc/vzdump/pct.conf");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)strlen(conf));
	archive_entry_set_mtime(e, time(NULL), 0);
	if (rc == 0 && (archive_write_header(w, e) < ARCHIVE_WARN ||
			archive_write_data(w, conf, strlen(conf)) != (la_ssize_t)strlen(conf)))
		rc = la_fail(err, w, "pct.conf");
	archive_entry_free(e);
	if (rc == 0)
		rc = write_tree(w, shift, st, err);
	if (rc == 0 && archive_write_close(w) != ARCHIVE_OK)
		rc = la_fail(err, w, "archive");
	archive_write_free(w);
	if (rc == 0 && s.z)
		rc = zs_out_finish(s.z, err);
	if (s.z)
		zs_out_free(s.z);
	if (rc == 0 && fsync(fd) < 0)
		rc = lv_fail_errno(err, errno, "cannot write the archive");
	return rc;
}

/* In the child: the volume's tree at hand (mounted read-only in a mount namespace of
 * the child's own when it is an image or LV), then the archive. */
static int child(const char *volume, const char *mnt, int fd, const char *conf, uint32_t shift,
		 enum zs_compress comp, struct ct_archive_stats *st, struct lv_error *err)
{
	struct stat sb;
	if (stat(volume, &sb) < 0)
		return lv_fail_errno(err, errno, "cannot read '%s'", volume);
	const char *root = volume;
	if (!S_ISDIR(sb.st_mode)) {
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			return lv_fail_errno(err, errno, "cannot make a mount namespace");
		if (host_mount_volume(volume, mnt, true, err) < 0)
			return -1;
		root = mnt;
	}
	if (chdir(root) < 0)
		return lv_fail_errno(err, errno, "cannot enter '%s'", root);
	return write_archive(fd, conf, shift, comp, st, err);
}

int ct_archive_write(const char *volume, const char *conf, uint32_t shift, int fd,
		     enum zs_compress comp, struct ct_archive_stats *ret, struct lv_error *err)
{
	char mnt[] = "/tmp/labvirt-ctbackup-XXXXXX";
	int pipefd[2];
	if (!mkdtemp(mnt))
		return lv_fail_errno(err, errno, "cannot make a folder in /tmp");
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		rmdir(mnt);
		return lv_fail_errno(err, errno, "pipe");
	}
	pid_t pid = fork();
	if (pid == 0) { /* the child: its result through the pipe, then gone */
		struct lv_error e = {0};
		struct ct_archive_stats st = {0};
		close(pipefd[0]);
		e.code = child(volume, mnt, fd, conf, shift, comp, &st, &e) < 0 ? e.code : 0;
		ssize_t n = write(pipefd[1], &st, sizeof(st));
		n += write(pipefd[1], &e, sizeof(e));
		_exit(n == (ssize_t)(sizeof(st) + sizeof(e)) ? 0 : 1);
	}
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		rmdir(mnt);
		return lv_fail_errno(err, errno, "fork");
	}
	struct ct_archive_stats st = {0};
	struct lv_error e = {0};
	bool got = read(pipefd[0], &st, sizeof(st)) == (ssize_t)sizeof(st) &&
		   read(pipefd[0], &e, sizeof(e)) == (ssize_t)sizeof(e);
	close(pipefd[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	rmdir(mnt); /* its mount went with the child's namespace */
	if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return lv_fail(err, LV_EXIT_FAIL, "the archive's writer ended abnormally");
	if (e.code) {
		if (err)
			*err = e;
		return -1;
	}
	if (ret)
		*ret = st;
	return 0;
}
