/* storage_lvmthin.c - the `lvmthin` backend: thin volumes in an LVM thin pool,
 * made and removed with lvm2's tools (run by argument vector; their output
 * read from lvm2's JSON report). A volume is labvirt's when it carries the tag
 * "labvirt:LAB/GUEST/DISK". An import-from= image is written into a thin
 * volume: with clone=full into the disk's own volume, else once into a base
 * volume "LAB-base-<hash>" (tag "labvirt-base:LAB") of which each disk is a
 * thin snapshot, as Proxmox does for templates. What a failed create made is
 * removed again. A base volume is written under the tag "labvirt-part:LAB" and
 * takes its base tag only once complete: one that a killed run left half
 * written is never cloned, and the next create or remove of the lab removes it.
 *
 * Snapshots are Proxmox's: a read-only thin snapshot "snap_VOLUME_NAME" (tag
 * "labvirt-snap:LAB/GUEST/DISK"); a rollback removes the volume and makes it again as a
 * thin snapshot of that snapshot; the volume's removal takes its snapshots, and a base
 * no volume comes from any more goes too. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "lvm-host.h"
#include "storage.h"

#define LVM_TAG_PART "labvirt-part:" /* + "LAB": a base volume still being written */
#define LVM_TAG_SNAP "labvirt-snap:" /* + "LAB/GUEST/DISK": a snapshot of that volume */

/* What lvm2 says about the storage's volume group and pool. */
struct pool_state {
	const struct lab_storage *s;
	struct lvm_vg vg;
	struct lvm_lv *lvs;
	size_t n;
	const struct lvm_lv *pool;
};

static void pool_state_clear(struct pool_state *st)
{
	lvm_lvs_free(st->lvs, st->n);
	*st = (struct pool_state){0};
}

static int run(char **argv, char **ret_out, struct lv_error *err)
{
	return lvm_host_run(argv, ret_out, err);
}

static int need_tools(const struct lab_storage *s, bool with_qemu_img, struct lv_error *err)
{
	static const char *const tools[] = {"vgs", "lvs", "lvcreate", "lvextend", "lvremove"};
	for (size_t i = 0; i < ARRAY_SIZE(tools); i++)
		if (!lvm_host_in_path(tools[i]))
			return lv_fail(err, LV_EXIT_FAIL,
				       "lvmthin storage '%s': lvm2 tools missing: no '%s' in PATH "
				       "(install lvm2 and thin-provisioning-tools)",
				       s->id, tools[i]);
	if (with_qemu_img && !lvm_host_in_path("qemu-img"))
		return lv_fail(err, LV_EXIT_FAIL,
			       "lvmthin storage '%s': no 'qemu-img' in PATH (install qemu-utils)",
			       s->id);
	return 0;
}

/* Reads the volume group (must exist) and its LVs; with need_pool, the thin
 * pool must exist too. *ret_vg_missing (may be NULL) tells a missing group
 * apart from other failures. */
static int pool_load(const struct lab_storage *s, bool need_pool, struct pool_state *st,
		     bool *ret_vg_missing, struct lv_error *err)
{
	*st = (struct pool_state){.s = s};
	if (need_tools(s, false, err) < 0 ||
	    lvm_host_load(s, &st->vg, &st->lvs, &st->n, ret_vg_missing, err) < 0)
		return -1;
	st->pool = lvm_find_lv(st->lvs, st->n, s->thinpool);
	if (!need_pool)
		return 0;
	if (!st->pool)
		return lv_fail(err, LV_EXIT_USAGE,
			       "lvmthin storage '%s': no thin pool '%s' in volume group '%s'",
			       s->id, s->thinpool, s->vgname);
	if (!streq(st->pool->segtype, "thin-pool"))
		return lv_fail(err, LV_EXIT_USAGE,
			       "lvmthin storage '%s': '%s/%s' is not a thin pool (it is %s)", s->id,
			       s->vgname, s->thinpool, st->pool->segtype);
	return 0;
}

static const char *lv_name_of(const struct storage_vol *v)
{
	return lvm_host_lv_name(v->path);
}

static char *lab_of(const struct storage_vol *v)
{
	return xstrndup(v->owner, strcspn(v->owner, "/"));
}

static int lvmthin_query(const struct storage_vol *v, bool *ret_exists, bool *ret_foreign,
			 struct lv_error *err)
{
	struct pool_state st;
	if (pool_load(v->storage, true, &st, NULL, err) < 0) {
		pool_state_clear(&st);
		return -1;
	}
	_cleanup_free_ char *tag = xasprintf(LVM_TAG_OWNER "%s", v->owner);
	const struct lvm_lv *lv = lvm_find_lv(st.lvs, st.n, lv_name_of(v));
	*ret_exists = lv != NULL;
	*ret_foreign = lv && (!lvm_lv_has_tag(lv, tag) || !streq(lv->pool, v->storage->thinpool));
	pool_state_clear(&st);
	return 0;
}

static int lv_remove(const char *vg, const char *name, struct lv_error *err)
{
	_cleanup_argv_ char **cmd = lvm_cmd_remove(vg, name);
	return run(cmd, NULL, err);
}

static int lv_create(const struct lab_storage *s, const char *name, uint64_t size, const char *tag,
		     struct lv_error *err)
{
	_cleanup_argv_ char **cmd = lvm_cmd_create_thin(s->vgname, s->thinpool, name, size, tag);
	return run(cmd, NULL, err);
}

static int image_info(const struct storage_vol *v, struct lvm_image *ret, struct lv_error *err)
{
	return lvm_host_image_info(v->import_from, v->import_format, ret, err);
}

/* Writes the image into a new thin volume; removes the volume on failure. */
static int lv_create_from(const struct lab_storage *s, const char *name, uint64_t size,
			  const char *tag, const char *image, const struct lvm_image *img,
			  struct lv_error *err)
{
	_cleanup_free_ char *dev = xasprintf("/dev/%s/%s", s->vgname, name);
	_cleanup_argv_ char **write = lvm_cmd_image_write(image, img->format, dev);
	if (lv_create(s, name, size, tag, err) < 0)
		return -1;
	if (run(write, NULL, err) == 0)
		return 0;
	lv_prefix(err, "write '%s' into '%s'", image, dev);
	lv_remove(s->vgname, name, NULL);
	return -1;
}

/* Once the image is in: the part tag becomes the base tag (one lvm2 commit). */
static int base_complete(const struct lab_storage *s, const char *name, const char *part_tag,
			 const char *base_tag, struct lv_error *err)
{
	_cleanup_free_ char *full = xasprintf("%s/%s", s->vgname, name);
	char *argv[] = {"lvchange", "--deltag", (char *)part_tag, "--addtag", (char *)base_tag,
			full,       NULL};
	if (run(argv, NULL, err) == 0)
		return 0;
	lv_remove(s->vgname, name, NULL);
	return lv_prefix(err, "tag '%s'", full);
}

/* Removes the lab's base volumes that a killed run left half written. */
static int remove_parts(const struct pool_state *st, const char *lab, struct lv_error *err)
{
	_cleanup_free_ char *part_tag = xasprintf(LVM_TAG_PART "%s", lab);
	for (size_t i = 0; i < st->n; i++)
		if (lvm_lv_has_tag(&st->lvs[i], part_tag) &&
		    lv_remove(st->s->vgname, st->lvs[i].name, err) < 0)
			return -1;
	return 0;
}

/* The base volume's name for an image: it changes when the image does. */
static int base_name(const struct storage_vol *v, char **ret, struct lv_error *err)
{
	struct stat st;
	_cleanup_free_ char *abs = realpath(v->import_from, NULL);
	if (!abs || stat(abs, &st) < 0)
		return lv_fail_errno(err, errno, "cannot resolve '%s'", v->import_from);
	_cleanup_free_ char *key = xasprintf("%s:%lld:%lld.%09ld", abs, (long long)st.st_size,
					     (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	_cleanup_free_ char *lab = lab_of(v);
	*ret = lvm_base_name(lab, key);
	return 0;
}

static uint64_t round_up(uint64_t size, uint64_t unit)
{
	return unit ? (size + unit - 1) / unit * unit : size;
}

/* A thin snapshot of the image's base volume (made now if missing), grown
 * to the disk's size. */
static int create_linked(const struct pool_state *st, const struct storage_vol *v,
			 const struct lvm_image *img, uint64_t size, const char *tag,
			 struct lv_error *err)
{
	const struct lab_storage *s = v->storage;
	_cleanup_free_ char *base = NULL, *lab = lab_of(v);
	if (base_name(v, &base, err) < 0)
		return -1;
	_cleanup_free_ char *base_tag = xasprintf(LVM_TAG_BASE "%s", lab);
	_cleanup_free_ char *part_tag = xasprintf(LVM_TAG_PART "%s", lab);
	if (remove_parts(st, lab, err) < 0)
		return lv_prefix(err, "remove a half-written base volume");
	const struct lvm_lv *old = lvm_find_lv(st->lvs, st->n, base);
	if (old && lvm_lv_has_tag(old, part_tag))
		old = NULL; /* removed just now */
	if (old && !lvm_lv_has_tag(old, base_tag))
		return lv_fail(err, LV_EXIT_USAGE,
			       "'%s/%s' exists and is not labvirt's: left alone", s->vgname, base);
	uint64_t base_size = old ? old->size : round_up(img->virtual_size, st->vg.extent);
	if (!old &&
	    (lv_create_from(s, base, img->virtual_size, part_tag, v->import_from, img, err) < 0 ||
	     base_complete(s, base, part_tag, base_tag, err) < 0))
		return lv_prefix(err, "base volume '%s'", base);
	_cleanup_argv_ char **snap = lvm_cmd_snapshot(s->vgname, base, lv_name_of(v), tag);
	_cleanup_argv_ char **grow = lvm_cmd_extend(s->vgname, lv_name_of(v), size);
	int rc = run(snap, NULL, err);
	if (rc == 0 && size > base_size && run(grow, NULL, err) < 0) {
		lv_remove(s->vgname, lv_name_of(v), NULL);
		rc = -1;
	}
	if (rc < 0 && !old)
		lv_remove(s->vgname, base, NULL);
	return rc;
}

static int lvmthin_remove(const struct storage_vol *v, struct lv_error *err);

static int lvmthin_create(const struct storage_vol *v, struct lv_error *err)
{
	const struct lab_storage *s = v->storage;
	struct pool_state st;
	_cleanup_free_ char *tag = xasprintf(LVM_TAG_OWNER "%s", v->owner);
	int rc = pool_load(s, true, &st, NULL, err);
	if (rc == 0 && lvm_find_lv(st.lvs, st.n, lv_name_of(v)))
		rc = lv_fail(err, LV_EXIT_FAIL, "'%s' exists", v->path);
	if (rc == 0 && !v->import_from) {
		rc = lv_create(s, lv_name_of(v), v->size, tag, err);
		struct lv_error ignored;
		if (rc == 0 && v->fill && v->fill(v->path, v->fill_opaque, err) < 0) {
			lvmthin_remove(v, &ignored); /* the journal undoes it if killed here */
			rc = -1;
		}
	} else if (rc == 0) {
		struct lvm_image img;
		rc = need_tools(s, true, err) < 0 || image_info(v, &img, err) < 0 ? -1 : 0;
		uint64_t size = rc == 0 && img.virtual_size > v->size ? img.virtual_size : v->size;
		if (rc == 0 && v->full_clone)
			rc = lv_create_from(s, lv_name_of(v), size, tag, v->import_from, &img, err);
		else if (rc == 0)
			rc = create_linked(&st, v, &img, size, tag, err);
	}
	pool_state_clear(&st);
	return rc;
}

/* Whether LV name is the origin of an LV other than those removed (n_removed names). */
static bool is_origin(const struct pool_state *st, const char *name, const char **removed,
		      size_t n_removed)
{
	for (size_t i = 0; i < st->n; i++) {
		bool gone = false;
		for (size_t j = 0; j < n_removed; j++)
			gone = gone || streq(st->lvs[i].name, removed[j]);
		if (!gone && streq(st->lvs[i].origin, name))
			return true;
	}
	return false;
}

/* The name of volume v's snapshot snap, as Proxmox's LvmThinPlugin names it. */
static char *snap_name(const struct storage_vol *v, const char *snap)
{
	return xasprintf("snap_%s_%s", lv_name_of(v), snap);
}

static int lvmthin_remove(const struct storage_vol *v, struct lv_error *err)
{
	const struct lab_storage *s = v->storage;
	struct pool_state st;
	bool vg_missing = false;
	int rc = pool_load(s, false, &st, &vg_missing, err);
	if (rc < 0) {
		pool_state_clear(&st);
		return vg_missing ? 0 : -1; /* no group, so no volume either */
	}
	_cleanup_free_ char *tag = xasprintf(LVM_TAG_OWNER "%s", v->owner);
	_cleanup_free_ char *lab = lab_of(v);
	_cleanup_free_ char *base_tag = xasprintf(LVM_TAG_BASE "%s", lab);
	_cleanup_free_ char *snap_tag = xasprintf(LVM_TAG_SNAP "%s", v->owner);
	_cleanup_free_ char *snap_prefix = snap_name(v, "");
	const struct lvm_lv *lv = lvm_find_lv(st.lvs, st.n, lv_name_of(v));
	const char **removed = xcalloc(st.n + 1, sizeof(*removed));
	size_t n_removed = 0;
	if (lv && !lvm_lv_has_tag(lv, tag))
		rc = lv_fail(err, LV_EXIT_FAIL, "'%s' was not made by labvirt for %s: left alone",
			     v->path, v->owner);
	/* its snapshots first, then the volume */
	for (size_t i = 0; rc == 0 && lv && i < st.n; i++)
		if (startswith(st.lvs[i].name, snap_prefix) &&
		    lvm_lv_has_tag(&st.lvs[i], snap_tag) &&
		    (rc = lv_remove(s->vgname, st.lvs[i].name, err)) == 0)
			removed[n_removed++] = st.lvs[i].name;
	if (rc == 0 && lv && (rc = lv_remove(s->vgname, lv->name, err)) == 0)
		removed[n_removed++] = lv->name;
	/* the lab's bases no volume comes from any more (a rolled-back volume comes from
	 * its snapshot, no longer from the base it was cloned of) */
	for (size_t i = 0; rc == 0 && n_removed && i < st.n; i++)
		if (lvm_lv_has_tag(&st.lvs[i], base_tag) &&
		    !is_origin(&st, st.lvs[i].name, removed, n_removed) &&
		    (rc = lv_remove(s->vgname, st.lvs[i].name, err)) < 0)
			lv_prefix(err, "base volume");
	free(removed);
	if (rc == 0)
		rc = remove_parts(&st, lab, err);
	pool_state_clear(&st);
	return rc;
}

/* What the new volumes add to the pool: virtual sizes (over-commit) and the
 * data written now (imports: at most the image file's allocated bytes). */
struct demand {
	uint64_t virtual_size, data;
	char **bases; /* new base volumes, counted once */
	size_t n_bases;
};

static void demand_clear(struct demand *d)
{
	for (size_t i = 0; i < d->n_bases; i++)
		free(d->bases[i]);
	free(d->bases);
}

static int demand_add(struct demand *d, const struct pool_state *st, const struct storage_vol *v,
		      struct lv_error *err)
{
	if (!v->import_from) {
		d->virtual_size += v->size;
		return 0;
	}
	struct lvm_image img;
	struct stat fs;
	if (need_tools(v->storage, true, err) < 0 || image_info(v, &img, err) < 0)
		return -1;
	if (stat(v->import_from, &fs) < 0)
		return lv_fail_errno(err, errno, "cannot stat '%s'", v->import_from);
	uint64_t data = (uint64_t)fs.st_blocks * 512;
	d->virtual_size += img.virtual_size > v->size ? img.virtual_size : v->size;
	if (v->full_clone) {
		d->data += data;
		return 0;
	}
	_cleanup_free_ char *base = NULL;
	if (base_name(v, &base, err) < 0)
		return -1;
	if (lvm_find_lv(st->lvs, st->n, base))
		return 0;
	for (size_t i = 0; i < d->n_bases; i++)
		if (streq(d->bases[i], base))
			return 0;
	d->bases = xrealloc(d->bases, (d->n_bases + 1) * sizeof(*d->bases));
	d->bases[d->n_bases++] = steal_pointer(&base);
	d->virtual_size += img.virtual_size;
	d->data += data;
	return 0;
}

static int judge(const struct pool_state *st, const struct demand *d, char **ret_note,
		 struct lv_error *err)
{
	const struct lab_storage *s = st->s;
	const struct lvm_lv *pool = st->pool;
	uint64_t used = 0;
	for (size_t i = 0; i < st->n; i++)
		if (streq(st->lvs[i].pool, s->thinpool))
			used += st->lvs[i].size;
	double pct = pool->data_pct < 0 ? 0 : pool->data_pct;
	uint64_t free_bytes = (uint64_t)((double)pool->size * (100.0 - pct) / 100.0);
	char total[32], size[32], need[32], avail[32];
	lvm_size_text(used + d->virtual_size, total);
	lvm_size_text(pool->size, size);
	lvm_size_text(d->data, need);
	lvm_size_text(free_bytes, avail);
	if (d->data > free_bytes)
		return lv_fail(err, LV_EXIT_FAIL,
			       "lvmthin storage '%s': thin pool '%s/%s' has %s free; the images to "
			       "import need up to %s",
			       s->id, s->vgname, s->thinpool, avail, need);
	double ratio = pool->size ? (double)(used + d->virtual_size) / (double)pool->size : 0;
	if (s->overcommit > 0 && ratio > s->overcommit)
		return lv_fail(err, LV_EXIT_USAGE,
			       "lvmthin storage '%s': thin volumes would total %s in thin pool "
			       "'%s/%s' of %s (%.2fx), past the limit of %.2fx (overcommit in "
			       "lab.cfg)",
			       s->id, total, s->vgname, s->thinpool, size, ratio, s->overcommit);
	if (ratio > 1.0)
		*ret_note = xasprintf("lvmthin storage '%s': thin volumes would total %s in thin "
				      "pool '%s/%s' of %s (%.2fx over-commit)",
				      s->id, total, s->vgname, s->thinpool, size, ratio);
	return 0;
}

static int lvmthin_check(const struct lab_storage *s, const struct storage_vol *vols, size_t n,
			 char **ret_note, struct lv_error *err)
{
	struct pool_state st;
	struct demand d = {0};
	int rc = pool_load(s, true, &st, NULL, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = demand_add(&d, &st, &vols[i], err);
	if (rc == 0)
		rc = judge(&st, &d, ret_note, err);
	demand_clear(&d);
	pool_state_clear(&st);
	return rc;
}

static int lvmthin_usage(const struct lab_storage *s, struct storage_usage *ret,
			 struct lv_error *err)
{
	struct pool_state st;
	int rc = pool_load(s, true, &st, NULL, err);
	if (rc == 0) {
		*ret = (struct storage_usage){
		    .data_size = st.pool->size,
		    .meta_size = st.pool->meta_size,
		    .data_pct = st.pool->data_pct,
		    .meta_pct = st.pool->meta_pct,
		};
		snprintf(ret->pool, sizeof(ret->pool), "%s/%s", s->vgname, s->thinpool);
	}
	pool_state_clear(&st);
	return rc;
}

/* The volume (ours or not: the user snapshots their guest's volumes) must be there; its
 * snapshot snap's LV name, and whether it exists (then it must be labvirt's). */
static int snap_load(const struct storage_vol *v, const char *snap, bool *ret_exists,
		     char **ret_name, struct lv_error *err)
{
	struct pool_state st;
	_cleanup_free_ char *name = snap_name(v, snap);
	_cleanup_free_ char *snap_tag = xasprintf(LVM_TAG_SNAP "%s", v->owner);
	int rc = pool_load(v->storage, true, &st, NULL, err);
	const struct lvm_lv *old = rc == 0 ? lvm_find_lv(st.lvs, st.n, name) : NULL;
	if (rc == 0 && !lvm_find_lv(st.lvs, st.n, lv_name_of(v)))
		rc = lv_fail(err, LV_EXIT_FAIL, "'%s' does not exist: no snapshot of it", v->path);
	else if (rc == 0 && old && !lvm_lv_has_tag(old, snap_tag))
		rc = lv_fail(err, LV_EXIT_FAIL,
			     "'%s/%s' exists and is not labvirt's snapshot of %s: left alone",
			     v->storage->vgname, name, v->path);
	*ret_exists = old != NULL;
	pool_state_clear(&st);
	if (rc == 0)
		*ret_name = steal_pointer(&name);
	return rc;
}

static int lvmthin_snapshot(const struct storage_vol *v, const char *snap, struct lv_error *err)
{
	bool exists;
	_cleanup_free_ char *name = NULL;
	if (snap_load(v, snap, &exists, &name, err) < 0)
		return -1;
	/* one a killed run left: the config names no such snapshot (the caller checked) */
	if (exists && lv_remove(v->storage->vgname, name, err) < 0)
		return -1;
	_cleanup_free_ char *tag = xasprintf(LVM_TAG_SNAP "%s", v->owner);
	_cleanup_free_ char *from = xasprintf("%s/%s", v->storage->vgname, lv_name_of(v));
	char *argv[] = {"lvcreate", "-q", "-s", "-pr", "-n", name, "--addtag", tag, from, NULL};
	return run(argv, NULL, err);
}

static int lvmthin_rollback(const struct storage_vol *v, const char *snap, struct lv_error *err)
{
	bool exists;
	_cleanup_free_ char *name = NULL;
	if (snap_load(v, snap, &exists, &name, err) < 0)
		return -1;
	if (!exists)
		return lv_fail(err, LV_EXIT_FAIL, "'%s' has no snapshot '%s' (%s/%s)", v->path,
			       snap, v->storage->vgname, name);
	/* as Proxmox: the volume removed, made again as a thin snapshot of the snapshot */
	_cleanup_free_ char *tag = xasprintf(LVM_TAG_OWNER "%s", v->owner);
	_cleanup_free_ char *from = xasprintf("%s/%s", v->storage->vgname, name);
	char *argv[] = {"lvcreate", "-q", "-s", "-kn", "-prw", "-n", (char *)lv_name_of(v),
			"--addtag", tag,  from, NULL};
	if (lv_remove(v->storage->vgname, lv_name_of(v), err) < 0 || run(argv, NULL, err) < 0)
		return -1;
	return 0;
}

static int lvmthin_delsnapshot(const struct storage_vol *v, const char *snap, struct lv_error *err)
{
	bool exists;
	_cleanup_free_ char *name = NULL;
	if (snap_load(v, snap, &exists, &name, err) < 0)
		return -1;
	return exists ? lv_remove(v->storage->vgname, name, err) : 0;
}

const struct storage_backend storage_lvmthin_backend = {
    .type = "lvmthin",
    .query = lvmthin_query,
    .create = lvmthin_create,
    .remove = lvmthin_remove,
    .check = lvmthin_check,
    .usage = lvmthin_usage,
    .snapshot = lvmthin_snapshot,
    .rollback = lvmthin_rollback,
    .delsnapshot = lvmthin_delsnapshot,
};
