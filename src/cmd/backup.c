/* backup.c - `labvirt backup GUEST... [--dir DIR] [--compress zstd|gzip|lzo|0]`:
 * each VM as vzdump writes it: DIR/vzdump-qemu-VMID-DATE.vma[.zst|.gz|.lzo] (the
 * guest's config with its #qmdump#map lines, each disk a device of the VMA, zero
 * clusters not stored), with DATE.log and DATE.notes beside it. The disks are read
 * through QEMU's block layer (volio.h), so a linked clone's backing image counts. A
 * running guest is read in snapshot mode: libvirt's push-mode backup job copies its
 * disks as they were when it began into qcow2 files while the guest runs on, and those
 * are read (stop mode refuses a running guest; suspend mode, kept for Proxmox's
 * compatibility, pauses the guest while the job copies its disks). The archive is
 * written under a temporary name and takes its own only when whole. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"
#include "ct_archive.h"
#include "storage.h"
#include "vma.h"
#include "volio.h"
#include "vzdump.h"
#include "zstream.h"

#define CHUNK (64 * VMA_CLUSTER_SIZE) /* read 4 MiB at a time */

struct bdisk {
	const struct lab_disk *d;
	char *path;
	struct volio *io;
	unsigned id;
	uint64_t size;
};

struct writer {
	struct zs_out *z;
	int fd;
};

static int out_cb(void *opaque, const void *buf, size_t len, struct lv_error *err)
{
	struct writer *w = opaque;
	if (w->z)
		return zs_out_write(w->z, buf, len, err);
	for (const char *p = buf; len;) {
		ssize_t n = write(w->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return lv_fail_errno(err, errno, "write");
		p += n, len -= (size_t)n;
	}
	return 0;
}

/* The drives vzdump backs up: disks with a volume (not CD-ROMs, not the cloud-init
 * drive, not backup=0). */
static bool backed_up(const struct lab_disk *d)
{
	return d->media == MEDIA_DISK && !d->cloudinit && !d->empty && !d->no_backup &&
	       d->bus != BUS_MP;
}

static const char *format_of(const char *path)
{
	size_t n = strlen(path);
	return n > 6 && streq(path + n - 6, ".qcow2") ? "qcow2" : "raw";
}

/* Every cluster of disk b, zero runs found by block status and not read. */
static int copy_disk(struct vma_writer *w, struct bdisk *b, unsigned char *buf, uint64_t *ret_data,
		     struct lv_error *err)
{
	for (uint64_t off = 0; off < b->size;) {
		uint64_t len = b->size - off, zlen;
		if (len > CHUNK)
			len = CHUNK;
		int zero = volio_zero_extent(b->io, off, len, &zlen, err);
		if (zero < 0)
			return -1;
		/* whole clusters only: a zero run that starts or ends inside one is read */
		if (zero && zlen >= VMA_CLUSTER_SIZE) {
			uint64_t n = zlen / VMA_CLUSTER_SIZE * VMA_CLUSTER_SIZE;
			if (off + zlen >= b->size)
				n = b->size - off;
			for (uint64_t c = 0; c < n; c += VMA_CLUSTER_SIZE)
				if (vma_writer_cluster(w, b->id, (off + c) / VMA_CLUSTER_SIZE, NULL,
						       0, err) < 0)
					return -1;
			off += n;
			continue;
		}
		if (volio_pread(b->io, buf, len, off, err) < 0)
			return lv_prefix(err, "%s", b->path);
		for (uint64_t c = 0; c < len; c += VMA_CLUSTER_SIZE) {
			size_t n = len - c < VMA_CLUSTER_SIZE ? len - c : VMA_CLUSTER_SIZE;
			if (vma_writer_cluster(w, b->id, (off + c) / VMA_CLUSTER_SIZE, buf + c, n,
					       err) < 0)
				return -1;
		}
		*ret_data += len;
		off += len;
	}
	return 0;
}

static int write_text(const char *path, const char *text, struct lv_error *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		return lv_fail_errno(err, errno, "cannot write '%s'", path);
	return 0;
}

/* A running guest's disks: libvirt's backup job, its socket and scratch files in a
 * folder of their own. */
struct live {
	char *tmp;
	char **sources, **copies;
};

static void live_end(struct ctx *c, const struct lab_guest *g, struct live *l)
{
	(void)c, (void)g;
	for (size_t i = 0; l->copies && l->copies[i]; i++)
		free(l->copies[i]), free(l->sources[i]);
	free(l->copies), free(l->sources);
	if (l->tmp) {
		DIR *d = opendir(l->tmp);
		for (struct dirent *de; d && (de = readdir(d));)
			if (de->d_name[0] != '.')
				unlinkat(dirfd(d), de->d_name, 0);
		if (d)
			closedir(d);
		rmdir(l->tmp);
	}
	free(l->tmp);
}

static int live_open(struct live *l, const char *path, struct volio **ret, struct lv_error *err)
{
	for (size_t i = 0; l->copies && l->copies[i]; i++)
		if (streq(l->sources[i], path))
			return volio_open(l->copies[i], "qcow2", false, ret, err);
	return lv_fail(err, LV_EXIT_FAIL, "backup: %s is not among the running guest's disks",
		       path);
}

/* A stopped container as vzdump archives it: vzdump-lxc-VMID-DATE.tar[.zst|...], its
 * rootfs's tree (ct_archive.h); mount point volumes are left out (vzdump's default for
 * them is backup=0; backup=1 ones are not supported yet), bind mounts too. */
static int backup_ct(struct ctx *c, const struct lab_guest *g, const char *dir,
		     enum zs_compress comp, bool running, struct lv_error *err)
{
	if (running)
		return lv_fail(err, LV_EXIT_FAIL,
			       "backup %s: it is running: a container is backed up stopped for now "
			       "(labvirt down %s)",
			       g->name, g->name);
	const struct lab_disk *rootfs = NULL;
	_cleanup_free_ char *excluded = xstrdup("");
	for (size_t i = 0; i < g->n_disks; i++) {
		const struct lab_disk *d = &g->disks[i];
		if (streq(d->key, "rootfs"))
			rootfs = d;
		else if (d->storage) {
			char *more =
			    xasprintf("%sINFO: excluding volume mount point %s from backup "
				      "(not supported yet)\n",
				      excluded, d->key);
			free(excluded);
			excluded = more;
		}
	}
	_cleanup_free_ char *volume = rootfs ? lab_disk_path(c->lab, g, rootfs) : NULL;
	if (!volume)
		return lv_fail(err, LV_EXIT_USAGE, "backup %s: it has no rootfs volume", g->name);
	/* a mount on the host that a killed `down` left: undone before the volume is read */
	if (ct_unmount_volumes(c->lab, g, err) < 0)
		return lv_prefix(err, "backup %s", g->name);
	time_t now = time(NULL);
	_cleanup_free_ char *base = vzdump_base_name(KIND_CT, g->vmid, now);
	_cleanup_free_ char *final = xasprintf("%s/%s.tar%s", dir, base, zs_suffix(comp));
	_cleanup_free_ char *temp = xasprintf("%s/%s.tar.tmp-%d", dir, base, (int)getpid());
	_cleanup_free_ char *text = lv_read_file(g->file, NULL);
	if (!text)
		return lv_fail_errno(err, errno, "backup %s: cannot read '%s'", g->name, g->file);
	_cleanup_free_ char *conf = vzdump_backup_config(text, NULL, 0);
	int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return lv_fail_errno(err, errno, "backup %s: cannot write '%s'", g->name, temp);
	struct ct_archive_stats st = {0};
	int rc = ct_archive_write(volume, conf, g->ct && g->ct->unprivileged ? 100000 : 0, fd, comp,
				  &st, err);
	if (close(fd) < 0 && rc == 0)
		rc = lv_fail_errno(err, errno, "cannot write '%s'", temp);
	struct stat sb;
	if (rc == 0 && stat(temp, &sb) == 0 && rename(temp, final) < 0)
		rc = lv_fail_errno(err, errno, "cannot rename to '%s'", final);
	if (rc < 0) {
		unlink(temp);
		return lv_prefix(err, "backup %s", g->name);
	}
	_cleanup_free_ char *log = xasprintf("%s/%s.log", dir, base);
	_cleanup_free_ char *notes = xasprintf("%s/%s.tar%s.notes", dir, base, zs_suffix(comp));
	_cleanup_free_ char *log_text =
	    xasprintf("INFO: backup of CT %d (%s), mode stop\n%s"
		      "INFO: %llu entries, %.1f MiB of file data, archive %.1f MiB (%s)\n"
		      "INFO: creating vzdump archive '%s'\nINFO: Finished Backup of CT %d\n",
		      g->vmid, g->name, excluded, (unsigned long long)st.entries,
		      st.bytes / 1048576.0, sb.st_size / 1048576.0, zs_name(comp), final, g->vmid);
	_cleanup_free_ char *notes_text = xasprintf("%s\n", g->name);
	if (write_text(log, log_text, err) < 0 || write_text(notes, notes_text, err) < 0)
		return lv_prefix(err, "backup %s", g->name);
	fprintf(c->out, "backed up %s (%d): %s (%.1f MiB)\n", g->name, g->vmid, final,
		sb.st_size / 1048576.0);
	return 0;
}

static int backup_guest(struct ctx *c, const struct lab_guest *g, const char *dir,
			enum zs_compress comp, const char *mode, struct lv_error *err)
{
	if (!g->vmid)
		return lv_fail(err, LV_EXIT_USAGE,
			       "backup %s: its file is not named VMID.conf, and an archive's name "
			       "needs the VMID",
			       g->name);
	struct inv_domain dom;
	if (virt_domain_query(c->virt, c->lab->name, g->name, &dom, err) < 0)
		return -1;
	bool running = dom.state != DOM_ABSENT && dom.state != DOM_SHUTOFF;
	if (g->kind == KIND_CT)
		return backup_ct(c, g, dir, comp, running, err);
	if (running && streq(mode, "stop"))
		return lv_fail(err, LV_EXIT_FAIL,
			       "backup %s: it is running: stop it first (labvirt down %s), or "
			       "--mode snapshot",
			       g->name, g->name);
	struct live live = {0};
	if (running) {
		live.tmp = xstrdup("/var/tmp/labvirt-backup-XXXXXX");
		/* QEMU (its own user) writes the copies here: it may write and enter, not
		 * list */
		if (!mkdtemp(live.tmp) || chmod(live.tmp, 0733) < 0) {
			int e = errno;
			free(live.tmp);
			live.tmp = NULL;
			return lv_fail_errno(err, e, "backup %s: cannot make a folder", g->name);
		}
		/* suspend: paused from before the job to its end (Proxmox resumes as soon as
		 * its job has begun; libvirt's call returns at the end) */
		bool pause = streq(mode, "suspend") && dom.state == DOM_RUNNING;
		if (pause && virt_domain_suspend(c->virt, g->name, err) < 0) {
			live_end(c, g, &live);
			return -1;
		}
		int rc =
		    virt_backup_push(c->virt, g->name, live.tmp, &live.sources, &live.copies, err);
		struct lv_error e2 = {0};
		if (pause && virt_domain_resume(c->virt, g->name, &e2) < 0)
			fprintf(c->errout, "labvirt: backup %s: %s\n", g->name, e2.msg);
		if (rc < 0) {
			live_end(c, g, &live);
			return -1;
		}
	}
	time_t now = time(NULL);
	_cleanup_free_ char *base = vzdump_base_name(KIND_VM, g->vmid, now);
	_cleanup_free_ char *final = xasprintf("%s/%s.vma%s", dir, base, zs_suffix(comp));
	_cleanup_free_ char *temp = xasprintf("%s/%s.vma.tmp-%d", dir, base, (int)getpid());
	_cleanup_free_ char *text = lv_read_file(g->file, NULL);
	if (!text)
		return lv_fail_errno(err, errno, "backup %s: cannot read '%s'", g->name, g->file);

	struct bdisk disks[LAB_MAX_DISKS];
	struct vzdump_backup_disk maps[LAB_MAX_DISKS];
	size_t n = 0;
	int rc = 0;
	unsigned char uuid[16];
	if (getrandom(uuid, sizeof(uuid), 0) != sizeof(uuid))
		return lv_fail_errno(err, errno, "getrandom");
	struct vma_writer *w = vma_writer_new(uuid, now);
	for (size_t i = 0; rc == 0 && i < g->n_disks; i++) {
		const struct lab_disk *d = &g->disks[i];
		char *path = backed_up(d) ? lab_disk_path(c->lab, g, d) : NULL;
		if (!path)
			continue;
		struct bdisk *b = &disks[n];
		*b = (struct bdisk){.d = d, .path = path};
		maps[n] = (struct vzdump_backup_disk){
		    .key = d->key, .storage = d->storage, .format = format_of(d->path)};
		n++;
		_cleanup_free_ char *dev = xasprintf("drive-%s", d->key);
		rc = running ? live_open(&live, b->path, &b->io, err)
			     : volio_open(b->path, format_of(b->path), false, &b->io, err);
		if (rc == 0) {
			b->size = volio_size(b->io);
			rc = vma_writer_add_device(w, dev, b->size, &b->id, err);
		}
	}
	_cleanup_free_ char *conf = vzdump_backup_config(text, maps, n);
	if (rc == 0)
		rc = vma_writer_add_config(w, "qemu-server.conf", conf, strlen(conf), err);
	struct writer out = {.fd = -1};
	if (rc == 0) {
		out.fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (out.fd < 0)
			rc = lv_fail_errno(err, errno, "cannot write '%s'", temp);
	}
	if (rc == 0 && comp != ZS_NONE)
		rc = zs_out_open(out.fd, comp, 2, &out.z, err);
	uint64_t data = 0, total = 0;
	unsigned char *buf = xmalloc(CHUNK);
	if (rc == 0)
		rc = vma_writer_begin(w, out_cb, &out, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		total += disks[i].size;
		rc = copy_disk(w, &disks[i], buf, &data, err);
	}
	free(buf);
	if (rc == 0)
		rc = vma_writer_finish(w, err);
	if (rc == 0 && out.z)
		rc = zs_out_finish(out.z, err);
	if (rc == 0 && fsync(out.fd) < 0)
		rc = lv_fail_errno(err, errno, "cannot write '%s'", temp);
	if (out.fd >= 0 && close(out.fd) < 0 && rc == 0)
		rc = lv_fail_errno(err, errno, "cannot write '%s'", temp);
	if (out.z)
		zs_out_free(out.z);
	vma_writer_free(w);
	for (size_t i = 0; i < n; i++) {
		struct lv_error e2 = {0};
		if (disks[i].io && volio_close(disks[i].io, &e2) < 0 && rc == 0)
			rc = lv_fail(err, LV_EXIT_FAIL, "%s: %s", disks[i].path, e2.msg);
		free(disks[i].path);
	}
	if (running)
		live_end(c, g, &live);
	struct stat st;
	if (rc == 0 && stat(temp, &st) == 0 && rename(temp, final) < 0)
		rc = lv_fail_errno(err, errno, "cannot rename to '%s'", final);
	if (rc < 0) {
		unlink(temp);
		return lv_prefix(err, "backup %s", g->name);
	}
	_cleanup_free_ char *log = xasprintf("%s/%s.log", dir, base);
	_cleanup_free_ char *notes = xasprintf("%s/%s.vma%s.notes", dir, base, zs_suffix(comp));
	_cleanup_free_ char *log_text = xasprintf(
	    "INFO: backup of VM %d (%s), mode %s, %zu disk%s\n"
	    "INFO: %.1f GiB of disks, %.1f GiB read, archive %.1f MiB (%s)\n"
	    "INFO: creating vzdump archive '%s'\nINFO: Finished Backup of VM %d\n",
	    g->vmid, g->name, running ? mode : "stop", n, n == 1 ? "" : "s", total / 1073741824.0,
	    data / 1073741824.0, st.st_size / 1048576.0, zs_name(comp), final, g->vmid);
	_cleanup_free_ char *notes_text = xasprintf("%s\n", g->name); /* {{guestname}} */
	if (write_text(log, log_text, err) < 0 || write_text(notes, notes_text, err) < 0)
		return lv_prefix(err, "backup %s", g->name);
	fprintf(c->out, "backed up %s (%d): %s (%.1f MiB)\n", g->name, g->vmid, final,
		st.st_size / 1048576.0);
	return 0;
}

/* Proxmox's default: the dump/ folder of the first file storage with content backup,
 * else of the first dir storage. */
static char *default_dir(const struct lab *lab)
{
	for (size_t i = 0; i < lab->n_storages; i++)
		if (lab->storages[i].type == STORAGE_DIR && !lab->storages[i].disabled)
			return xasprintf("%s/dump", lab->storages[i].path);
	return NULL;
}

int cmd_backup(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	const char *dir = NULL, *compress = "zstd", *mode = "snapshot";
	const struct verb_opt opts[] = {{"--dir", NULL, &dir},
					{"--dumpdir", NULL, &dir},
					{"--compress", NULL, &compress},
					{"--mode", NULL, &mode},
					{0}};
	int first = verb_options(argc, argv, opts, err);
	enum zs_compress comp;
	if (first < 0)
		return -1;
	if (argc - first < 1)
		return lv_fail(err, LV_EXIT_USAGE,
			       "usage: labvirt backup GUEST... [--dir DIR] "
			       "[--compress zstd|gzip|lzo|0]");
	if (zs_parse(compress, &comp) < 0)
		return lv_fail(err, LV_EXIT_USAGE,
			       "backup: --compress '%s': one of zstd, gzip, lzo, 0", compress);
	if (!streq(mode, "stop") && !streq(mode, "snapshot") && !streq(mode, "suspend"))
		return lv_fail(err, LV_EXIT_USAGE, "backup: --mode %s: snapshot, suspend or stop",
			       mode);
	_cleanup_free_ bool *sel = NULL;
	_cleanup_(host_unlockp) struct host_lock *lock = NULL;
	if (ctx_connect(c, err) < 0 || ctx_select(c, argc - first, argv + first, &sel, err) < 0 ||
	    ctx_lock(c, "backup", &lock, err) < 0)
		return -1;
	_cleanup_free_ char *own = dir ? NULL : default_dir(c->lab);
	if (!dir && !own)
		return lv_fail(err, LV_EXIT_USAGE,
			       "backup: the lab has no dir storage: give --dir");
	if (!dir && mkdir(own, 0755) < 0 && errno != EEXIST)
		return lv_fail_errno(err, errno, "backup: cannot make '%s'", own);
	for (size_t i = 0; i < c->lab->n_guests; i++)
		if (sel[i] &&
		    backup_guest(c, &c->lab->guests[i], dir ? dir : own, comp, mode, err) < 0)
			return -1;
	return 0;
}
