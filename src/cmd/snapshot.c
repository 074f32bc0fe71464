/* snapshot.c - qm's snapshot verbs: `labvirt snapshot GUEST NAME [--vmstate]
 * [--description TEXT]`, `rollback GUEST NAME [--start]`, `delsnapshot GUEST NAME`,
 * `listsnapshot GUEST [--json]`. The guest's config file keeps the snapshots as
 * Proxmox does ([NAME] sections, parent:; pvesnap.h). The state is libvirt's (an
 * internal snapshot of each qcow2 disk, and of the memory with --vmstate), or, for
 * volumes on lvmthin, zfspool and btrfs (raw), the storage's own snapshots (storage.h),
 * taken with the guest paused. The config is rewritten by rename, after that step; a
 * failed rewrite takes the step back where it can. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"
#include "pvesnap.h"
#include "storage.h"

/* A disk that a snapshot covers: the guest writes it (a container's bind mount of a
 * host path is not a volume: left out, as pct does). */
static bool snap_disk(const struct lab_disk *d)
{
	return d->media == MEDIA_DISK && !d->cloudinit && !d->readonly && !d->empty &&
	       !(d->bus == BUS_MP && !d->storage);
}

/* Whether the disk's volume takes its storage's own snapshots (lvmthin, zfspool, btrfs
 * raw volumes). */
static bool storage_snaps(const struct lab *lab, const struct lab_guest *g,
			  const struct lab_disk *d)
{
	if (!d->storage || !lab_find_storage(lab, d->storage))
		return false;
	struct storage_vol v;
	storage_vol_init(&v, lab, g, d);
	bool yes = v.path && storage_can_snapshot(&v);
	storage_vol_clear(&v);
	return yes;
}

/* The guest named, a VM whose writable disks are all qcow2 volumes (libvirt's internal
 * snapshots) or all volumes whose storage snapshots them (*ret_storage: the first such
 * disk's storage, else NULL). */
static int snap_guest(struct ctx *c, const char *verb, const char *name, bool disks,
		      const struct lab_guest **ret, const struct lab_storage **ret_storage,
		      struct lv_error *err)
{
	const struct lab_guest *g = lab_find_guest(c->lab, name);
	if (!g)
		return lv_fail(err, LV_EXIT_USAGE, "%s: lab %s has no guest %s", verb, c->lab->name,
			       name);
	if (g->template && disks && streq(verb, "snapshot"))
		return lv_fail(err, LV_EXIT_USAGE,
			       "snapshot %s: a template cannot take snapshots (as on Proxmox): "
			       "clone it (labvirt clone)",
			       name);
	size_t n_storage = 0, n_disks = 0;
	const struct lab_disk *first_storage = NULL;
	for (size_t i = 0; i < g->n_disks; i++) {
		const struct lab_disk *d = &g->disks[i];
		if (!snap_disk(d))
			continue;
		n_disks++;
		if (storage_snaps(c->lab, g, d) && n_storage++ == 0)
			first_storage = d;
	}
	*ret_storage = n_storage ? lab_find_storage(c->lab, first_storage->storage) : NULL;
	if (disks && n_storage && n_storage < n_disks)
		return lv_fail(
		    err, LV_EXIT_USAGE,
		    "%s %s: %s is on %s storage '%s' (its snapshots are the "
		    "storage's) and other disks are not: such a mix is not supported yet",
		    verb, name, first_storage->key, lab_storage_type_name(*ret_storage),
		    first_storage->storage);
	if (disks && !n_storage && g->kind == KIND_CT)
		return lv_fail(
		    err, LV_EXIT_USAGE,
		    "%s %s: a container's snapshots are its storage's (lvmthin, zfspool, "
		    "btrfs): its volumes are not on such a storage",
		    verb, name);
	for (size_t i = 0; disks && !n_storage && i < g->n_disks; i++) {
		const struct lab_disk *d = &g->disks[i];
		if (!snap_disk(d))
			continue;
		const struct lab_storage *s =
		    d->storage ? lab_find_storage(c->lab, d->storage) : NULL;
		_cleanup_free_ char *path = lab_disk_path(c->lab, g, d);
		size_t n = path ? strlen(path) : 0;
		if (s && !lab_storage_files(s))
			return lv_fail(
			    err, LV_EXIT_USAGE,
			    "%s %s: %s is on %s storage '%s', which cannot take snapshots "
			    "(as on Proxmox)",
			    verb, name, d->key, lab_storage_type_name(s), s->id);
		if (n < 6 || !streq(path + n - 6, ".qcow2"))
			return lv_fail(err, LV_EXIT_USAGE,
				       "%s %s: %s (%s) is not a qcow2 volume: it cannot take "
				       "snapshots (as on Proxmox)",
				       verb, name, d->key, path ? path : "?");
	}
	*ret = g;
	return 0;
}

/* Whether the guest runs. Its storage's snapshots need no domain: a guest without one
 * is stopped; libvirt's need the domain that holds them. */
static int dom_state(struct ctx *c, const char *verb, const struct lab_guest *g, bool storage,
		     bool *ret_running, struct lv_error *err)
{
	struct inv_domain d;
	if (virt_domain_query(c->virt, c->lab->name, g->name, &d, err) < 0)
		return -1;
	*ret_running = false;
	if (d.state == DOM_ABSENT && storage)
		return 0;
	if (d.state == DOM_ABSENT)
		return lv_fail(err, LV_EXIT_FAIL,
			       "%s %s: it has no domain yet: labvirt up %s first", verb, g->name,
			       g->name);
	if (d.foreign)
		return lv_fail(err, LV_EXIT_FAIL, "%s %s: domain %s is not this lab's", verb,
			       g->name, g->name);
	*ret_running = d.state == DOM_RUNNING || d.state == DOM_PAUSED;
	return 0;
}

/* Replaces the guest's config file by text, keeping its mode. */
static int rewrite(const char *path, const char *text, struct lv_error *err)
{
	struct stat st;
	mode_t mode = stat(path, &st) == 0 ? st.st_mode & 07777 : 0644;
	_cleanup_free_ char *temp = xasprintf("%s.tmp-%d", path, (int)getpid());
	int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	size_t len = strlen(text);
	int rc = 0;
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		rc = lv_fail_errno(err, errno, "cannot write '%s'", temp);
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = lv_fail_errno(err, errno, "cannot write '%s'", temp);
	if (rc == 0 && rename(temp, path) < 0)
		rc = lv_fail_errno(err, errno, "cannot replace '%s'", path);
	if (rc < 0)
		unlink(temp);
	return rc;
}

static int begin(struct ctx *c, const char *verb, int argc, int first, int operands,
		 struct host_lock **lock, struct lv_error *err)
{
	if (argc - first != operands)
		return lv_fail(err, LV_EXIT_USAGE,
			       "usage: labvirt %s GUEST%s (see labvirt %s --help)", verb,
			       operands == 2 ? " NAME" : "", verb);
	if (ctx_connect(c, err) < 0 || ctx_lock(c, verb, lock, err) < 0)
		return -1;
	return 0;
}

/* op on the volume of each disk a snapshot covers, the first `limit` of them; *done:
 * how many it did. */
static int each_volume(struct ctx *c, const struct lab_guest *g,
		       int (*op)(const struct storage_vol *, const char *, struct lv_error *),
		       const char *snap, size_t limit, size_t *done, struct lv_error *err)
{
	*done = 0;
	for (size_t i = 0; i < g->n_disks && *done < limit; i++) {
		const struct lab_disk *d = &g->disks[i];
		if (!snap_disk(d))
			continue;
		struct storage_vol v;
		storage_vol_init(&v, c->lab, g, d);
		int rc = op(&v, snap, err);
		storage_vol_clear(&v);
		if (rc < 0)
			return lv_prefix(err, "%s %s", g->name, d->key);
		(*done)++;
	}
	return 0;
}

/* A container's volumes that are mounted on the host (an unprivileged one's ext4):
 * their file systems flushed into the volumes, as pct syncs a container's before its
 * storage snapshot. */
static void sync_ct_mounts(struct ctx *c, const struct lab_guest *g)
{
	for (size_t i = 0; g->kind == KIND_CT && i < g->n_disks; i++) {
		_cleanup_free_ char *dir = lab_ct_mount_dir(c->lab, g, &g->disks[i]);
		_cleanup_close_ int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		if (fd >= 0)
			syncfs(fd);
	}
}

/* A snapshot taken by the storage of each volume: the guest paused meanwhile, so that
 * all disks are of one moment; the config rewritten last, the snapshots taken back when
 * that fails. */
static int storage_snapshot_all(struct ctx *c, const struct lab_guest *g, const char *name,
				bool running, const char *out, struct lv_error *err)
{
	if (running && virt_domain_suspend(c->virt, g->name, err) < 0)
		return -1;
	sync_ct_mounts(c, g);
	size_t done = 0;
	int rc = each_volume(c, g, storage_snapshot, name, SIZE_MAX, &done, err);
	struct lv_error e2 = {0};
	if (running && virt_domain_resume(c->virt, g->name, &e2) < 0)
		fprintf(c->errout, "labvirt: %s\n", e2.msg);
	if (rc == 0)
		rc = rewrite(g->file, out, err);
	if (rc < 0 && done) {
		size_t undone;
		if (each_volume(c, g, storage_delsnapshot, name, done, &undone, &e2) < 0)
			fprintf(c->errout, "labvirt: cannot take back snapshot %s: %s\n", name,
				e2.msg);
	}
	return rc;
}

/* The first qcow2 disk's volume: where QEMU keeps an internal snapshot's memory. */
static char *state_volume(const struct lab_guest *g)
{
	for (size_t i = 0; i < g->n_disks; i++) {
		const struct lab_disk *d = &g->disks[i];
		if (d->media == MEDIA_DISK && !d->cloudinit && d->storage && d->volume)
			return xasprintf("%s:%s", d->storage, d->volume);
		if (d->media == MEDIA_DISK && !d->cloudinit && d->path)
			return xstrdup(d->path);
	}
	return xstrdup("internal");
}

int cmd_snapshot(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	bool vmstate = false;
	const char *desc = NULL;
	const struct verb_opt opts[] = {
	    {"--vmstate", &vmstate, NULL}, {"--description", NULL, &desc}, {0}};
	int first = verb_options(argc, argv, opts, err);
	_cleanup_(host_unlockp) struct host_lock *lock = NULL;
	const struct lab_guest *g;
	bool running;
	const struct lab_storage *storage;
	if (first < 0 || begin(c, "snapshot", argc, first, 2, &lock, err) < 0 ||
	    snap_guest(c, "snapshot", argv[first], true, &g, &storage, err) < 0 ||
	    dom_state(c, "snapshot", g, storage, &running, err) < 0)
		return -1;
	const char *name = argv[first + 1];
	vmstate = vmstate && running; /* as Proxmox: a stopped guest has no state to keep */
	if (vmstate && storage)
		return lv_fail(err, LV_EXIT_USAGE,
			       "snapshot %s: --vmstate: the running state is kept beside qcow2 "
			       "volumes only; %s's disks take %s snapshots (not supported yet)",
			       g->name, g->name, lab_storage_type_name(storage));
	_cleanup_free_ char *text = lv_read_file(g->file, NULL);
	if (!text)
		return lv_fail_errno(err, errno, "snapshot: cannot read '%s'", g->file);
	_cleanup_free_ char *vol = vmstate ? state_volume(g) : NULL;
	_cleanup_free_ char *out =
	    pvesnap_take(text, g->file, name, desc, (long long)time(NULL), vol, err);
	if (!out)
		return -1;
	if (storage) {
		if (storage_snapshot_all(c, g, name, running, out, err) < 0)
			return -1;
		fprintf(c->out, "snapshot %s of %s taken (%s snapshots of its disks)\n", name,
			g->name, lab_storage_type_name(storage));
		return 0;
	}
	if (virt_snapshot_exists(c->virt, g->name, name))
		return lv_fail(err, LV_EXIT_FAIL,
			       "snapshot %s: domain %s has a snapshot %s the config does not name: "
			       "remove it first (virsh snapshot-delete)",
			       g->name, g->name, name);
	if (virt_snapshot_create(c->virt, g->name, name, desc, vmstate, err) < 0)
		return -1;
	if (rewrite(g->file, out, err) < 0) {
		struct lv_error e2 = {0};
		if (virt_snapshot_delete(c->virt, g->name, name, &e2) < 0)
			fprintf(c->errout, "labvirt: cannot take back snapshot %s: %s\n", name,
				e2.msg);
		return -1;
	}
	fprintf(c->out, "snapshot %s of %s taken%s\n", name, g->name,
		vmstate ? ", with its running state" : "");
	return 0;
}

int cmd_rollback(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	bool start = false;
	const struct verb_opt opts[] = {{"--start", &start, NULL}, {0}};
	int first = verb_options(argc, argv, opts, err);
	_cleanup_(host_unlockp) struct host_lock *lock = NULL;
	const struct lab_guest *g;
	bool running;
	const struct lab_storage *storage;
	if (first < 0 || begin(c, "rollback", argc, first, 2, &lock, err) < 0 ||
	    snap_guest(c, "rollback", argv[first], false, &g, &storage, err) < 0 ||
	    dom_state(c, "rollback", g, storage, &running, err) < 0)
		return -1;
	const char *name = argv[first + 1];
	_cleanup_free_ char *text = lv_read_file(g->file, NULL);
	if (!text)
		return lv_fail_errno(err, errno, "rollback: cannot read '%s'", g->file);
	struct pvesnap *s = NULL;
	size_t n = 0;
	_cleanup_free_ char *parent = NULL;
	if (pvesnap_list(text, g->file, &s, &n, &parent, err) < 0)
		return -1;
	bool vmstate = false, found = false;
	for (size_t i = 0; i < n; i++)
		if (streq(s[i].name, name))
			found = true, vmstate = s[i].vmstate;
	pvesnap_free(s, n);
	_cleanup_free_ char *out = found ? pvesnap_rollback(text, g->file, name, err) : NULL;
	if (!found)
		return lv_fail(err, LV_EXIT_FAIL, "rollback %s: %s: no snapshot '%s'", g->name,
			       g->file, name);
	if (!out)
		return -1;
	size_t done;
	if (storage) { /* as qm rollback: a running guest is stopped first */
		/* a container's volumes unmounted from the host before they change */
		if ((running && virt_domain_poweroff(c->virt, g->name, err) < 0) ||
		    ct_unmount_volumes(c->lab, g, err) < 0 ||
		    each_volume(c, g, storage_rollback, name, SIZE_MAX, &done, err) < 0 ||
		    rewrite(g->file, out, err) < 0 ||
		    (start && virt_domain_start(c->virt, g->name, err) < 0))
			return -1;
		fprintf(c->out, "%s rolled back to %s%s\n", g->name, name,
			start ? ", started" : ", off");
		return 0;
	}
	if (!virt_snapshot_exists(c->virt, g->name, name))
		return lv_fail(err, LV_EXIT_FAIL,
			       "rollback %s: domain %s has no snapshot %s (not taken by labvirt)",
			       g->name, g->name, name);
	if (virt_snapshot_revert(c->virt, g->name, name, vmstate, err) < 0 ||
	    rewrite(g->file, out, err) < 0)
		return -1;
	if (start && !vmstate && virt_domain_start(c->virt, g->name, err) < 0)
		return -1;
	fprintf(c->out, "%s rolled back to %s%s\n", g->name, name,
		vmstate ? ": running as it was"
		: start ? ", started"
			: ", off");
	return 0;
}

int cmd_delsnapshot(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	const struct verb_opt opts[] = {{0}};
	int first = verb_options(argc, argv, opts, err);
	_cleanup_(host_unlockp) struct host_lock *lock = NULL;
	const struct lab_guest *g;
	const struct lab_storage *storage;
	if (first < 0 || begin(c, "delsnapshot", argc, first, 2, &lock, err) < 0 ||
	    snap_guest(c, "delsnapshot", argv[first], false, &g, &storage, err) < 0)
		return -1;
	const char *name = argv[first + 1];
	_cleanup_free_ char *text = lv_read_file(g->file, NULL);
	if (!text)
		return lv_fail_errno(err, errno, "delsnapshot: cannot read '%s'", g->file);
	_cleanup_free_ char *out = pvesnap_delete(text, g->file, name, err);
	if (!out)
		return -1;
	size_t done;
	if (storage ? each_volume(c, g, storage_delsnapshot, name, SIZE_MAX, &done, err) < 0
		    : virt_snapshot_exists(c->virt, g->name, name) &&
			  virt_snapshot_delete(c->virt, g->name, name, err) < 0)
		return -1;
	if (rewrite(g->file, out, err) < 0)
		return -1;
	fprintf(c->out, "snapshot %s of %s deleted\n", name, g->name);
	return 0;
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* qm listsnapshot's tree: each snapshot under its parent, "current" last. */
static void tree(FILE *f, const struct pvesnap *s, size_t n, const char *parent,
		 const char *current_parent, int depth)
{
	for (size_t i = 0; i < n; i++) {
		if (!(parent ? s[i].parent && streq(s[i].parent, parent) : !s[i].parent))
			continue;
		char when[32] = "";
		time_t t = (time_t)s[i].snaptime;
		struct tm tm;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
		_cleanup_free_ char *first_line =
		    s[i].description ? xstrndup(s[i].description, strcspn(s[i].description, "\n"))
				     : xstrdup("no-description");
		fprintf(f, "%*s`-> %-*s %s     %s\n", depth * 2, "",
			24 - depth * 2 > 1 ? 24 - depth * 2 : 1, s[i].name, when, first_line);
		tree(f, s, n, s[i].name, current_parent, depth + 1);
	}
	if (parent ? current_parent && streq(current_parent, parent) : !current_parent)
		fprintf(f, "%*s`-> %-*s %-19s     You are here!\n", depth * 2, "",
			24 - depth * 2 > 1 ? 24 - depth * 2 : 1, "current", "");
}

int cmd_listsnapshot(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	bool json = false;
	const struct verb_opt opts[] = {{"--json", &json, NULL}, {0}};
	int first = verb_options(argc, argv, opts, err);
	const struct lab_guest *g;
	if (first < 0)
		return -1;
	if (argc - first != 1)
		return lv_fail(err, LV_EXIT_USAGE, "usage: labvirt listsnapshot GUEST [--json]");
	const struct lab_storage *storage;
	if (ctx_load(c, err) < 0 ||
	    snap_guest(c, "listsnapshot", argv[first], false, &g, &storage, err) < 0)
		return -1;
	_cleanup_free_ char *text = lv_read_file(g->file, NULL);
	if (!text)
		return lv_fail_errno(err, errno, "listsnapshot: cannot read '%s'", g->file);
	struct pvesnap *s = NULL;
	size_t n = 0;
	_cleanup_free_ char *parent = NULL;
	if (pvesnap_list(text, g->file, &s, &n, &parent, err) < 0)
		return -1;
	if (json) { /* as the API's GET .../snapshot */
		fputc('[', c->out);
		for (size_t i = 0; i < n; i++) {
			fprintf(c->out, "{\"name\":");
			json_string(c->out, s[i].name);
			if (s[i].parent) {
				fprintf(c->out, ",\"parent\":");
				json_string(c->out, s[i].parent);
			}
			fprintf(c->out,
				",\"snaptime\":%lld,\"vmstate\":%d,\"description\":", s[i].snaptime,
				s[i].vmstate);
			json_string(c->out, s[i].description ? s[i].description : "");
			fprintf(c->out, "},");
		}
		fprintf(c->out, "{\"name\":\"current\",");
		if (parent) {
			fprintf(c->out, "\"parent\":");
			json_string(c->out, parent);
			fputc(',', c->out);
		}
		fprintf(c->out, "\"description\":\"You are here!\"}]\n");
	} else {
		tree(c->out, s, n, NULL, parent, 0);
	}
	pvesnap_free(s, n);
	return 0;
}
