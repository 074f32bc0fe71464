/* restore.c - `labvirt restore ARCHIVE [VMID] [--as NAME] [--storage ID] [--unique]`:
 * a VM's vzdump archive (.vma, .vma.zst, .vma.gz, .vma.lzo), from a Proxmox host or
 * from `labvirt backup`, becomes a guest of the lab, as qmrestore makes it: its config
 * in qemu-server/VMID.conf with each backed-up drive on a new volume, and each volume
 * filled with the archive's bytes through QEMU's block layer (volio.h).
 *
 * Nothing is overwritten: the VMID, the name and every volume must be free. The
 * volumes are journalled as made and not done, and the config lands last, by
 * rename: a failure removes what the run made, a killed run is recovered by the
 * next `up`, `destroy` or `restore`, and a guest exists only once whole.
 *
 * `labvirt clone GUEST NEWNAME [VMID] [--full] [--storage ID]` is the same run with a
 * guest of the lab as its source, as qm clone makes it: the config with a new name,
 * MACs, UUID and vmgenid, each disk a new volume filled by the storage itself (a full
 * copy, or for a template, template: 1, a linked clone on its disk). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"
#include "intent.h"
#include "storage.h"
#include "template.h"
#include "vma.h"
#include "volio.h"
#include "vzdump.h"
#include "zstream.h"

struct rdisk {
	const struct vma_device *dev;
	const struct vzdump_map *map;
	char *volid;
	struct storage_vol v;
	struct volio *io;
	bool zeroed; /* a new volume reads as zeros: zero runs need no write */
	bool made;
	size_t entry;
	struct ct_fill *fill; /* a container's rootfs: filled from the archive */
	char *src;            /* clone: the source volume */
};

struct restore {
	struct ctx *c;
	const char *archive;
	bool ct;                     /* a container's archive (vzdump-lxc-*.tar*) */
	const struct lab_guest *src; /* clone: the source guest, archive its name */
	bool full;                   /* clone: copies, not linked clones */
	struct zs_in *in;
	struct vma_reader *r;
	struct rdisk *disks;
	size_t n;
	struct vzdump_map *maps_keep;
	char *dirs[16]; /* storage folders this run made, outermost first */
	size_t dir_ids[16], n_dirs;
	uint64_t total, done; /* data bytes, for progress */
	bool progress;
	time_t last;
	char mac[18], uuid[37];
};

static ssize_t archive_read(void *opaque, void *buf, size_t len, struct lv_error *err)
{
	return zs_in_read(opaque, buf, len, err);
}

static const char *new_mac(void *opaque)
{
	struct restore *r = opaque;
	unsigned char b[3];
	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		abort();
	/* Proxmox's default mac_prefix BC:24:11 */
	snprintf(r->mac, sizeof(r->mac), "BC:24:11:%02X:%02X:%02X", b[0], b[1], b[2]);
	return r->mac;
}

static const char *new_uuid(void *opaque)
{
	struct restore *r = opaque;
	unsigned char b[16];
	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		abort();
	b[6] = (b[6] & 0x0f) | 0x40, b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(r->uuid, sizeof(r->uuid),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return r->uuid;
}

static const struct vma_device *find_device(const struct vma_header *h, const char *name)
{
	for (size_t i = 0; i < h->n_devices; i++)
		if (streq(h->devices[i].name, name))
			return &h->devices[i];
	return NULL;
}

static bool vmid_taken(const struct lab *lab, int vmid)
{
	static const char *const where[] = {"qemu-server/", "lxc/", ""};
	struct stat st;
	for (size_t i = 0; i < lab->n_guests; i++)
		if (lab->guests[i].vmid == vmid)
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(where); i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s%d.conf", lab->dir, where[i], vmid);
		if (lstat(path, &st) == 0)
			return true;
	}
	return false;
}

/* Proxmox's volume name for drive n of vmid on s, in format fmt (file storages). */
static char *volid_for(const struct lab_storage *s, int vmid, int n, const char *fmt, bool ct)
{
	if (lab_storage_files(s))
		return xasprintf("%s:%d/vm-%d-disk-%d.%s", s->id, vmid, vmid, n, fmt);
	if (ct && s->type == STORAGE_ZFSPOOL) /* a container's dataset */
		return xasprintf("%s:subvol-%d-disk-%d", s->id, vmid, n);
	return xasprintf("%s:vm-%d-disk-%d", s->id, vmid, n);
}

/* The volume name each mapped drive gets: the first free disk number of vmid on its
 * storage (the lab's guests' volumes and what the storage already has). */
static int pick_volids(struct restore *rs, const char *storage_opt, int vmid, struct lv_error *err)
{
	struct lab *lab = rs->c->lab;
	int next = 0;
	for (size_t i = 0; i < rs->n; i++) {
		struct rdisk *d = &rs->disks[i];
		const char *id = storage_opt ? storage_opt : d->map->storage;
		const struct lab_storage *s = lab_find_storage(lab, id);
		if (!*id)
			return lv_fail(err, LV_EXIT_USAGE,
				       "%s: drive %s names no storage: give --storage ID",
				       rs->archive, d->map->virtdev);
		if (!s)
			return lv_fail(err, LV_EXIT_USAGE,
				       "%s: drive %s was on storage '%s', which the lab does not "
				       "have: give --storage ID",
				       rs->archive, d->map->virtdev, id);
		if (startswith(d->map->virtdev, "efidisk") || startswith(d->map->virtdev, "tpm"))
			return lv_fail(err, LV_EXIT_USAGE,
				       "%s: drive %s: restoring efidisk0 and tpmstate0 is not "
				       "supported yet",
				       rs->archive, d->map->virtdev);
		const char *fmt = streq(d->map->format, "qcow2") ? "qcow2" : "raw";
		for (;; next++) {
			_cleanup_free_ char *volid = volid_for(s, vmid, next, fmt, rs->ct);
			_cleanup_free_ char *path = NULL;
			struct stat st;
			/* the path the same naming gives on a file storage, or the LV/zvol */
			if (lab_storage_files(s))
				path = xasprintf("%s/images/%d/vm-%d-disk-%d.%s", s->path, vmid,
						 vmid, next, fmt);
			else if (s->type == STORAGE_ZFSPOOL && rs->ct)
				path = lab_zfs_path(s, strchr(volid, ':') + 1, true);
			else if (s->type == STORAGE_ZFSPOOL)
				path = xasprintf("/dev/zvol/%s/vm-%d-disk-%d", s->pool, vmid, next);
			else
				path = xasprintf("/dev/%s/vm-%d-disk-%d", s->vgname, vmid, next);
			if (lstat(path, &st) < 0 && errno == ENOENT) {
				d->volid = steal_pointer(&volid);
				next++;
				break;
			}
		}
	}
	return 0;
}

static int write_cb(void *opaque, const struct vma_device *dev, uint64_t offset, const void *buf,
		    size_t len, struct lv_error *err)
{
	struct restore *rs = opaque;
	struct rdisk *d = NULL;
	for (size_t i = 0; i < rs->n && !d; i++)
		if (rs->disks[i].dev == dev)
			d = &rs->disks[i];
	if (!d) /* a device no drive maps (vmstate): read past */
		return 0;
	int rc = 0;
	if (buf)
		rc = volio_pwrite(d->io, buf, len, offset, err);
	else if (!d->zeroed)
		rc = volio_zero(d->io, len, offset, err);
	if (rc < 0)
		return lv_prefix(err, "%s", d->v.path);
	rs->done += len;
	time_t now = time(NULL);
	if (rs->progress && now != rs->last) {
		rs->last = now;
		uint64_t t = zs_in_total(rs->in);
		fprintf(rs->c->errout, "\rrestore: %3d%% (%.1f of %.1f GiB)",
			t ? (int)(zs_in_consumed(rs->in) * 100 / t) : 0, rs->done / 1073741824.0,
			rs->total / 1073741824.0);
	}
	return 0;
}

static int write_file(const char *path, const char *text, struct lv_error *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	size_t len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		return lv_fail_errno(err, errno, "cannot write '%s'", path);
	return 0;
}

/* Everything the run made goes; the journal says so. */
static void undo(struct restore *rs, struct intent *in, const char *temp)
{
	for (size_t i = rs->n; i-- > 0;) {
		struct rdisk *d = &rs->disks[i];
		struct lv_error e = {0};
		volio_free(d->io);
		d->io = NULL;
		if (!d->made)
			continue;
		if (storage_remove(&d->v, &e) < 0)
			fprintf(rs->c->errout, "labvirt: cannot remove '%s': %s\n", d->v.path,
				e.msg);
		else {
			fprintf(rs->c->errout, "undone: volume %s\n", d->v.path);
			intent_undone(in, d->entry);
		}
	}
	if (temp)
		unlink(temp);
	for (size_t i = rs->n_dirs; i-- > 0;)
		if (rmdir(rs->dirs[i]) == 0) {
			fprintf(rs->c->errout, "undone: directory %s\n", rs->dirs[i]);
			intent_undone(in, rs->dir_ids[i]);
		}
}

static int land(struct restore *rs, struct intent *in, const char *final, const char *text,
		struct lv_error *err)
{
	_cleanup_free_ char *temp = xasprintf("%s.restore-%d", final, (int)getpid());
	size_t id;
	struct journal_entry e = {
	    .kind = JOURNAL_FILE, .step = "restore config", .name = (char *) final, .temp = temp};
	if (intent_begin(in, &e, &id, err) < 0)
		return -1;
	if (write_file(temp, text, err) < 0 || rename(temp, final) < 0) {
		int e2 = errno;
		unlink(temp);
		intent_undone(in, id);
		return err->msg[0] ? -1 : lv_fail_errno(err, e2, "cannot rename to '%s'", final);
	}
	/* landed: the run is complete */
	for (size_t i = 0; i < rs->n; i++)
		intent_done(in, rs->disks[i].entry, NULL);
	intent_done(in, id, NULL);
	return 0;
}

/* The folders a file storage's volume at path needs (the storage's own when missing, images/,
 * images/VMID/), made as the dir backend would and journalled, so that an undo or a
 * later recovery removes them again when empty. */
static int make_dirs(struct restore *rs, struct intent *in, const struct lab_storage *s,
		     const char *path, struct lv_error *err)
{
	if (!lab_storage_files(s))
		return 0;
	_cleanup_free_ char *entry = storage_vol_entry(s, path);
	/* the storage's path too, as Proxmox's activate_storage makes it */
	for (char *p = entry + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		struct stat st;
		if (stat(entry, &st) < 0 && errno == ENOENT) {
			if (rs->n_dirs == ARRAY_SIZE(rs->dirs))
				return lv_fail(err, LV_EXIT_FAIL, "too many folders to make");
			_cleanup_free_ char *step = xasprintf("create directory %s", entry);
			struct journal_entry e = {.kind = JOURNAL_DIR, .step = step, .name = entry};
			size_t id;
			if (intent_begin(in, &e, &id, err) < 0)
				return -1;
			if (mkdir(entry, 0711) < 0) {
				intent_undone(in, id);
				return lv_fail_errno(err, errno,
						     "cannot create storage directory '%s'", entry);
			}
			intent_done(in, id, NULL);
			rs->dir_ids[rs->n_dirs] = id;
			rs->dirs[rs->n_dirs++] = xstrdup(entry);
		}
		*p = '/';
	}
	return 0;
}

static int make_volumes(struct restore *rs, struct intent *in, struct lv_error *err)
{
	for (size_t i = 0; i < rs->n; i++) {
		struct rdisk *d = &rs->disks[i];
		if (make_dirs(rs, in, d->v.storage, d->v.path, err) < 0)
			return -1;
		_cleanup_free_ char *step = xasprintf("restore volume %s", d->map->virtdev);
		struct journal_entry e = {.kind = JOURNAL_VOLUME,
					  .step = step,
					  .name = d->v.path,
					  .owner = d->v.owner,
					  .storage = d->v.storage->id};
		if (intent_begin(in, &e, &d->entry, err) < 0)
			return -1;
		if (storage_create(&d->v, err) < 0) {
			intent_undone(in, d->entry);
			return lv_prefix(err, "%s", d->map->virtdev);
		}
		d->made = true;
		if (!d->dev) { /* a container's rootfs, filled as it was made */
			rs->total += d->v.size;
			continue;
		}
		size_t n = strlen(d->v.path);
		const char *fmt = n > 6 && streq(d->v.path + n - 6, ".qcow2") ? "qcow2" : "raw";
		if (volio_open(d->v.path, fmt, true, &d->io, err) < 0)
			return -1;
		d->zeroed = d->v.storage->type != STORAGE_LVM;
		rs->total += d->dev->size;
	}
	return 0;
}

/* The lab with text staged as the new guest's config (qemu-server/ or lxc/VMID.conf),
 * and each drive's new volume found in it. */
static int load_new(struct restore *rs, const char *text, const char *where, int vmid,
		    enum lab_kind kind, const char *hint, struct lab **ret_lab,
		    struct lv_error *err)
{
	_cleanup_free_ char *fname =
	    xasprintf("%s/%d.conf", kind == KIND_CT ? "lxc" : "qemu-server", vmid);
	struct lv_diag diags = {0};
	_cleanup_lab_ struct lab *lab = NULL;
	if (lab_load_with(rs->c->lab_dir, fname, text, where, &lab, &diags) < 0) {
		for (size_t i = 0; i < diags.n; i++)
			fprintf(rs->c->errout, "%s\n", diags.lines[i]);
		lv_diag_free(&diags);
		return lv_fail(
		    err, LV_EXIT_USAGE, "%s: the %s config does not fit the lab (above)%s",
		    rs->src ? "clone" : "restore", rs->src ? "new guest's" : "archive's", hint);
	}
	lv_diag_free(&diags);
	const struct lab_guest *g = NULL;
	for (size_t i = 0; i < lab->n_guests; i++)
		if (lab->guests[i].vmid == vmid && lab->guests[i].kind == kind)
			g = &lab->guests[i];
	for (size_t i = 0; g && i < rs->n; i++) {
		struct rdisk *d = &rs->disks[i];
		const struct lab_disk *k = NULL;
		for (size_t j = 0; j < g->n_disks; j++)
			if (streq(g->disks[j].key, d->map->virtdev))
				k = &g->disks[j];
		if (!k)
			return lv_fail(err, LV_EXIT_FAIL, "%s: drive %s is not in the config",
				       where, d->map->virtdev);
		storage_vol_init(&d->v, lab, g, k);
		if (d->dev || d->src) /* the archive's size; a clone's: its source's */
			d->v.size = d->dev ? d->dev->size : 0;
		d->v.import_from = d->src; /* clone: the storage fills it */
		d->v.import_format = d->src ? (endswith(d->src, ".qcow2") ? "qcow2" : "raw") : NULL;
		d->v.full_clone = rs->full;
		if (kind == KIND_CT && !rs->src)
			ct_volume_fill_restore(&d->v, &d->fill, lab, g, k, rs->archive);
	}
	if (!g)
		return lv_fail(err, LV_EXIT_FAIL, "%s: no guest %d in the config", where, vmid);
	*ret_lab = steal_pointer(&lab);
	return 0;
}

static int prepare(struct restore *rs, const char *storage_opt, const char *as, bool unique,
		   int vmid, struct lab **ret_lab, char **ret_text, struct lv_error *err)
{
	const struct vma_header *h = vma_reader_header(rs->r);
	const struct vma_config *conf = vma_reader_config(rs->r, "qemu-server.conf");
	if (!conf)
		return lv_fail(err, LV_EXIT_USAGE, "%s: no qemu-server.conf in the archive",
			       rs->archive);
	if (memchr(conf->data, '\0', conf->len))
		return lv_fail(err, LV_EXIT_USAGE,
			       "%s: qemu-server.conf contains a NUL byte (not a text file)",
			       rs->archive);
	_cleanup_free_ char *text = xstrndup((const char *)conf->data, conf->len);
	_cleanup_free_ char *where = xasprintf("%s/qemu-server.conf", rs->archive);
	_cleanup_free_ struct vzdump_map *maps = NULL;
	size_t n_maps = 0;
	if (vzdump_maps(text, where, &maps, &n_maps, err) < 0)
		return -1;
	rs->disks = xcalloc(n_maps ? n_maps : 1, sizeof(*rs->disks));
	for (size_t i = 0; i < n_maps; i++) {
		const struct vma_device *dev = find_device(h, maps[i].devname);
		if (!dev)
			return lv_fail(err, LV_EXIT_USAGE,
				       "%s: drive %s: the archive has no device %s", where,
				       maps[i].virtdev, maps[i].devname);
		rs->disks[rs->n++] = (struct rdisk){.dev = dev, .map = &maps[i]};
	}
	if (pick_volids(rs, storage_opt, vmid, err) < 0)
		return -1;
	_cleanup_free_ char **volids = xcalloc(rs->n + 1, sizeof(*volids));
	for (size_t i = 0; i < rs->n; i++)
		volids[i] = rs->disks[i].volid;
	char genid[37];
	snprintf(genid, sizeof(genid), "%s", new_uuid(rs));
	struct vzdump_restore spec = {.maps = maps,
				      .n_maps = n_maps,
				      .volids = volids,
				      .name = as,
				      .new_vmgenid = genid,
				      .unique = unique,
				      .new_mac = new_mac,
				      .new_uuid = new_uuid,
				      .opaque = rs};
	_cleanup_free_ char *out = vzdump_restore_config(text, &spec);
	rs->maps_keep = steal_pointer(&maps);
	if (load_new(rs, out, where, vmid, KIND_VM,
		     unique ? "" : "; --unique gives it new MAC addresses and UUID", ret_lab,
		     err) < 0)
		return -1;
	*ret_text = steal_pointer(&out);
	return 0;
}

/* A container's archive: its etc/vzdump/pct.conf becomes lxc/VMID.conf with the rootfs
 * on a new volume, as pct restore makes it; the volume is filled from the archive. */
static int prepare_ct(struct restore *rs, const char *storage_opt, const char *as, bool unique,
		      int vmid, struct lab **ret_lab, char **ret_text, struct lv_error *err)
{
	_cleanup_free_ char *text = NULL;
	if (tmpl_read_member(rs->archive, "etc/vzdump/pct.conf", 1024 * 1024, &text, err) < 0)
		return -1;
	_cleanup_free_ char *where = xasprintf("%s/etc/vzdump/pct.conf", rs->archive);
	struct vzdump_map *m = xcalloc(1, sizeof(*m));
	rs->maps_keep = m;
	snprintf(m->virtdev, sizeof(m->virtdev), "rootfs");
	snprintf(m->devname, sizeof(m->devname), "rootfs");
	int no = 0;
	bool rootfs = false;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		_cleanup_free_ char *line = xstrndup(p, len);
		p += len + (nl != NULL);
		no++;
		if (line[0] == '[')
			break;
		const char *v = strchr(line, ':');
		if (!v)
			continue;
		for (v++; *v == ' '; v++)
			;
		if (startswith(line, "rootfs:")) {
			rootfs = true;
			size_t n = strcspn(v, ":,");
			if (v[n] == ':')
				snprintf(m->storage, sizeof(m->storage), "%.*s", (int)n, v);
		} else if (startswith(line, "mp") && line[2] >= '0' && line[2] <= '9' &&
			   v[0] != '/') {
			return lv_fail(err, LV_EXIT_USAGE,
				       "%s:%d: restoring a container's mount point volumes is not "
				       "supported yet",
				       where, no);
		}
	}
	if (!rootfs)
		return lv_fail(err, LV_EXIT_USAGE, "%s: no rootfs", where);
	rs->disks = xcalloc(1, sizeof(*rs->disks));
	rs->disks[rs->n++] = (struct rdisk){.map = m};
	if (pick_volids(rs, storage_opt, vmid, err) < 0)
		return -1;
	char *volids[] = {rs->disks[0].volid, NULL};
	struct vzdump_restore spec = {.maps = m,
				      .n_maps = 1,
				      .volids = volids,
				      .name = as,
				      .unique = unique,
				      .ct = true,
				      .new_mac = new_mac,
				      .new_uuid = new_uuid,
				      .opaque = rs};
	_cleanup_free_ char *out = vzdump_restore_config(text, &spec);
	if (load_new(rs, out, where, vmid, KIND_CT,
		     unique ? "" : "; --unique gives it new MAC addresses", ret_lab, err) < 0)
		return -1;
	*ret_text = steal_pointer(&out);
	return 0;
}

/* A guest of the lab as the source (labvirt clone): its config file with the drives on
 * new volumes (volids in map order), a cloud-init drive renamed for the new VMID. */
static int prepare_clone(struct restore *rs, const char *storage_opt, const char *as, int vmid,
			 struct lab **ret_lab, char **ret_text, struct lv_error *err)
{
	const struct lab *lab = rs->c->lab;
	const struct lab_guest *src = rs->src;
	size_t len = 0;
	_cleanup_free_ char *text = lv_read_file(src->file, &len);
	if (!text)
		return lv_fail_errno(err, errno, "cannot read '%s'", src->file);
	struct vzdump_map *maps = xcalloc(src->n_disks + 1, sizeof(*maps));
	rs->maps_keep = maps;
	rs->disks = xcalloc(src->n_disks + 1, sizeof(*rs->disks));
	const struct lab_storage *to = storage_opt ? lab_find_storage(lab, storage_opt) : NULL;
	if (storage_opt && !to)
		return lv_fail(err, LV_EXIT_USAGE, "clone: lab %s has no storage '%s'", lab->name,
			       storage_opt);
	for (size_t i = 0; i < src->n_disks; i++) {
		const struct lab_disk *k = &src->disks[i];
		if (k->empty || k->cloudinit || k->media == MEDIA_CDROM)
			continue;
		if (rs->ct && !k->storage) /* a bind mount of a host path: kept as it is */
			continue;
		if (rs->ct && (!streq(k->key, "rootfs") || k->subvol))
			return lv_fail(err, LV_EXIT_USAGE,
				       "%s:%d: %s: cloning a container's %s is not supported yet",
				       src->file, k->line, k->key,
				       k->subvol ? "folder volume" : "mount point volumes");
		if (!k->allocate)
			return lv_fail(err, LV_EXIT_USAGE,
				       "%s:%d: %s is %s, not a volume of a storage: clone copies "
				       "volumes only",
				       src->file, k->line, k->key, k->path ? k->path : "no volume");
		if (startswith(k->key, "tpmstate"))
			return lv_fail(err, LV_EXIT_USAGE,
				       "%s:%d: cloning tpmstate0 is not supported yet", src->file,
				       k->line);
		const struct lab_storage *s = to ? to : lab_find_storage(lab, k->storage);
		if (!rs->full && rs->ct && s->type == STORAGE_DIR)
			return lv_fail(err, LV_EXIT_USAGE,
				       "clone %s: its %s is on dir storage %s, where a container "
				       "cannot be cloned linked (as on Proxmox): give --full",
				       src->name, k->key, s->id);
		if (!rs->full && s->type == STORAGE_LVM)
			return lv_fail(
			    err, LV_EXIT_USAGE,
			    "clone %s: %s is on lvm storage %s, which cannot make linked "
			    "clones: give --full",
			    src->name, k->key, s->id);
		char *path = lab_disk_path(lab, src, k);
		struct stat st;
		if (!path || stat(path, &st) < 0) {
			lv_fail(err, LV_EXIT_FAIL,
				"clone %s: its %s volume %s does not exist: labvirt up %s first",
				src->name, k->key, path ? path : "?", src->name);
			free(path);
			return -1;
		}
		struct vzdump_map *m = &maps[rs->n];
		snprintf(m->virtdev, sizeof(m->virtdev), "%s", k->key);
		snprintf(m->storage, sizeof(m->storage), "%s", s->id);
		/* what the storage makes: a dir storage's clones are qcow2 */
		snprintf(m->format, sizeof(m->format), "%s",
			 s->type == STORAGE_DIR && !rs->ct ? "qcow2" : "raw");
		rs->disks[rs->n++] = (struct rdisk){.map = m, .src = path};
	}
	if (pick_volids(rs, NULL, vmid, err) < 0)
		return -1;
	_cleanup_free_ char **volids = xcalloc(src->n_disks + 1, sizeof(*volids));
	size_t n_maps = rs->n;
	for (size_t i = 0; i < rs->n; i++)
		volids[i] = xstrdup(rs->disks[i].volid);
	for (size_t i = 0; i < src->n_disks; i++) {
		const struct lab_disk *k = &src->disks[i];
		const struct lab_storage *s =
		    k->cloudinit ? lab_find_storage(lab, k->storage) : NULL;
		if (!s)
			continue;
		snprintf(maps[n_maps].virtdev, sizeof(maps[n_maps].virtdev), "%s", k->key);
		volids[n_maps++] = lab_storage_files(s)
				       ? xasprintf("%s:%d/vm-%d-cloudinit.qcow2", s->id, vmid, vmid)
				       : xasprintf("%s:vm-%d-cloudinit", s->id, vmid);
	}
	char genid[37];
	snprintf(genid, sizeof(genid), "%s", new_uuid(rs));
	struct vzdump_restore spec = {.maps = maps,
				      .n_maps = n_maps,
				      .volids = volids,
				      .name = as,
				      .new_vmgenid = genid,
				      .unique = true,
				      .clone = true,
				      .ct = rs->ct,
				      .new_mac = new_mac,
				      .new_uuid = new_uuid,
				      .opaque = rs};
	_cleanup_free_ char *out = vzdump_restore_config(text, &spec);
	for (size_t i = 0; i < n_maps; i++)
		free(volids[i]);
	if (load_new(rs, out, src->file, vmid, src->kind, "", ret_lab, err) < 0)
		return -1;
	*ret_text = steal_pointer(&out);
	return 0;
}

/* Each volume is free, and each storage can take its new ones. */
static int check_volumes(struct restore *rs, struct lv_error *err)
{
	for (size_t i = 0; i < rs->n; i++) {
		bool exists = false, foreign = false;
		if (storage_query(&rs->disks[i].v, &exists, &foreign, err) < 0)
			return -1;
		if (exists)
			return lv_fail(err, LV_EXIT_FAIL,
				       "restore: volume '%s' exists: nothing is overwritten",
				       rs->disks[i].v.path);
	}
	for (size_t i = 0; i < rs->n; i++) {
		const struct lab_storage *s = rs->disks[i].v.storage;
		bool first = true;
		for (size_t j = 0; j < i; j++)
			first &= rs->disks[j].v.storage != s;
		if (!first)
			continue;
		struct storage_vol *vols = xcalloc(rs->n, sizeof(*vols));
		size_t n = 0;
		for (size_t j = i; j < rs->n; j++)
			if (rs->disks[j].v.storage == s)
				vols[n++] = rs->disks[j].v;
		_cleanup_free_ char *note = NULL;
		int rc = storage_check(s, vols, n, &note, err);
		free(vols);
		if (note)
			fprintf(rs->c->errout, "labvirt: %s\n", note);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static void restore_free(struct restore *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		volio_free(rs->disks[i].io);
		free(rs->disks[i].volid);
		free(rs->disks[i].fill);
		free(rs->disks[i].src);
		storage_vol_clear(&rs->disks[i].v);
	}
	free(rs->disks);
	free(rs->maps_keep);
	for (size_t i = 0; i < rs->n_dirs; i++)
		free(rs->dirs[i]);
	vma_reader_free(rs->r);
	if (rs->in)
		zs_in_close(rs->in);
}

static int parse_vmid(const char *s, int *ret)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || !*s || *end || v < 100 || v > 999999999)
		return -1;
	*ret = (int)v;
	return 0;
}

static int run(struct restore *rs, const char *storage_opt, const char *as, bool unique, int vmid,
	       struct lv_error *err)
{
	struct ctx *c = rs->c;
	_cleanup_lab_ struct lab *lab = NULL;
	_cleanup_free_ char *text = NULL;
	if (rs->src  ? prepare_clone(rs, storage_opt, as, vmid, &lab, &text, err) < 0
	    : rs->ct ? prepare_ct(rs, storage_opt, as, unique, vmid, &lab, &text, err) < 0
		     : (zs_in_open(rs->archive, &rs->in, err) < 0 ||
			vma_reader_open(archive_read, rs->in, rs->archive, &rs->r, err) < 0 ||
			prepare(rs, storage_opt, as, unique, vmid, &lab, &text, err) < 0))
		return -1;
	if (check_volumes(rs, err) < 0)
		return -1;
	_cleanup_free_ char *dir = xasprintf("%s/%s", c->lab_dir, rs->ct ? "lxc" : "qemu-server");
	_cleanup_free_ char *final = xasprintf("%s/%d.conf", dir, vmid);
	struct engine eng = ctx_engine(c);
	eng.lab = lab;
	struct intent in;
	intent_init(&in, &eng);
	rs->progress = isatty(fileno(c->errout));
	int rc = make_volumes(rs, &in, err);
	if (rc == 0 && rs->r)
		rc = vma_reader_extract(rs->r, write_cb, rs, err);
	if (rs->progress && rs->r)
		fprintf(c->errout, "\n");
	for (size_t i = 0; rc == 0 && i < rs->n && rs->r; i++) {
		rc = volio_close(rs->disks[i].io, err);
		rs->disks[i].io = NULL;
	}
	if (rc == 0 && mkdir(dir, 0755) < 0 && errno != EEXIST)
		rc = lv_fail_errno(err, errno, "cannot make '%s'", dir);
	if (rc == 0)
		rc = land(rs, &in, final, text, err);
	if (rc < 0)
		undo(rs, &in, NULL);
	struct lv_error ferr = {0};
	if (intent_finish(&in, rc < 0, &ferr) < 0 && rc == 0)
		rc = -1, *err = ferr;
	intent_clear(&in);
	if (rc < 0)
		return -1;
	const struct lab_guest *g = NULL;
	for (size_t i = 0; i < lab->n_guests; i++)
		if (lab->guests[i].vmid == vmid)
			g = &lab->guests[i];
	if (rs->src)
		fprintf(c->out, "cloned %s (%d) from %s: %zu disk%s, %s\n", g ? g->name : "?", vmid,
			rs->src->name, rs->n, rs->n == 1 ? "" : "s",
			rs->full ? "full copies" : "linked clones");
	else
		fprintf(c->out, "restored %s (%d) from %s: %zu disk%s, %.1f GiB\n",
			g ? g->name : "?", vmid, rs->archive, rs->n, rs->n == 1 ? "" : "s",
			rs->total / 1073741824.0);
	for (size_t i = 0; i < rs->n; i++)
		fprintf(c->out, "  %s: %s\n", rs->disks[i].map->virtdev, rs->disks[i].volid);
	return 0;
}

/* The lab loaded and locked, and a killed run's leftovers gone first, as `up` does. */
static int begin(struct ctx *c, const char *verb, struct host_lock **lock, struct lv_error *err)
{
	int pid = 0;
	size_t open_steps = 0;
	if (ctx_load(c, err) < 0 || ctx_lock(c, verb, lock, err) < 0)
		return -1;
	struct engine eng = ctx_engine(c);
	int pending = intent_pending(&eng, &pid, &open_steps, err);
	if (pending <= 0)
		return pending;
	if (ctx_connect(c, err) < 0)
		return -1;
	eng = ctx_engine(c);
	return intent_recover(&eng, false, NULL, err);
}

int cmd_restore(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	const char *as = NULL, *storage = NULL;
	bool unique = false;
	const struct verb_opt opts[] = {
	    {"--as", NULL, &as}, {"--storage", NULL, &storage}, {"--unique", &unique, NULL}, {0}};
	int first = verb_options(argc, argv, opts, err);
	if (first < 0)
		return -1;
	if (argc - first < 1 || argc - first > 2)
		return lv_fail(err, LV_EXIT_USAGE,
			       "usage: labvirt restore ARCHIVE [VMID] [--as NAME] "
			       "[--storage ID] [--unique]");
	struct restore rs = {.c = c, .archive = argv[first]};
	struct vzdump_name vn = {0};
	int vmid = 0;
	bool named = vzdump_parse_name(rs.archive, &vn) == 0;
	if (argc - first == 2 && parse_vmid(argv[first + 1], &vmid) < 0)
		return lv_fail(err, LV_EXIT_USAGE, "restore: '%s' is not a VMID (100 or more)",
			       argv[first + 1]);
	if (!vmid && !named)
		return lv_fail(err, LV_EXIT_USAGE,
			       "restore: %s is not named as vzdump names archives: give the VMID",
			       rs.archive);
	rs.ct = named ? vn.kind == KIND_CT : strstr(rs.archive, ".tar") != NULL;
	if (!vmid)
		vmid = vn.vmid;
	if (as && !lab_is_guest_name(as))
		return lv_fail(err, LV_EXIT_USAGE, "restore: '%s' is not a valid guest name", as);
	_cleanup_(host_unlockp) struct host_lock *lock = NULL;
	if (begin(c, "restore", &lock, err) < 0)
		return -1;
	if (vmid_taken(c->lab, vmid))
		return lv_fail(err, LV_EXIT_FAIL,
			       "restore: VMID %d is taken in lab %s: give another VMID", vmid,
			       c->lab->name);
	if (as && lab_find_guest(c->lab, as))
		return lv_fail(err, LV_EXIT_FAIL, "restore: lab %s has a guest %s: give --as NAME",
			       c->lab->name, as);
	int rc = run(&rs, storage, as, unique, vmid, err);
	restore_free(&rs);
	return rc;
}

int cmd_clone(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	const char *storage = NULL;
	bool full = false;
	const struct verb_opt opts[] = {
	    {"--full", &full, NULL}, {"--storage", NULL, &storage}, {0}};
	int first = verb_options(argc, argv, opts, err);
	if (first < 0)
		return -1;
	int vmid = 0;
	if (argc - first < 2 || argc - first > 3)
		return lv_fail(err, LV_EXIT_USAGE,
			       "usage: labvirt clone GUEST NEWNAME [VMID] [--full] [--storage ID]");
	const char *name = argv[first + 1];
	if (argc - first == 3 && parse_vmid(argv[first + 2], &vmid) < 0)
		return lv_fail(err, LV_EXIT_USAGE, "clone: '%s' is not a VMID (100 or more)",
			       argv[first + 2]);
	if (!lab_is_guest_name(name))
		return lv_fail(err, LV_EXIT_USAGE, "clone: '%s' is not a valid guest name", name);
	_cleanup_(host_unlockp) struct host_lock *lock = NULL;
	if (begin(c, "clone", &lock, err) < 0)
		return -1;
	const struct lab_guest *src = lab_find_guest(c->lab, argv[first]);
	if (!src)
		return lv_fail(err, LV_EXIT_USAGE, "clone: lab %s has no guest %s", c->lab->name,
			       argv[first]);
	/* as qm clone: a guest is copied whole, a template linked unless --full */
	full = full || !src->template;
	if (!full && storage)
		return lv_fail(err, LV_EXIT_USAGE,
			       "clone %s: --storage needs --full: a linked clone stays on its "
			       "template's storage",
			       src->name);
	if (lab_find_guest(c->lab, name))
		return lv_fail(err, LV_EXIT_FAIL, "clone: lab %s has a guest %s", c->lab->name,
			       name);
	if (vmid && vmid_taken(c->lab, vmid))
		return lv_fail(err, LV_EXIT_FAIL, "clone: VMID %d is taken in lab %s", vmid,
			       c->lab->name);
	for (vmid = vmid ? vmid : 100; vmid_taken(c->lab, vmid); vmid++) /* as nextid */
		;
	if (!src->template) { /* a running guest's disks change under the copy */
		struct inv_domain d;
		if (ctx_connect(c, err) < 0 ||
		    virt_domain_query(c->virt, c->lab->name, src->name, &d, err) < 0)
			return -1;
		if (d.state == DOM_RUNNING || d.state == DOM_PAUSED)
			return lv_fail(err, LV_EXIT_FAIL,
				       "clone %s: it is running and its disks would change under "
				       "the copy: stop it first (labvirt down %s)",
				       src->name, src->name);
	}
	struct restore rs = {
	    .c = c, .archive = src->name, .src = src, .full = full, .ct = src->kind == KIND_CT};
	int rc = run(&rs, storage, name, true, vmid, err);
	restore_free(&rs);
	return rc;
}
