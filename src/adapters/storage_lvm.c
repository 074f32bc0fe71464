/* storage_lvm.c - the `lvm` backend, Proxmox's LVMPlugin: thick (linear) LVs
 * in a volume group, made and removed with lvm2's tools. A volume is
 * labvirt's when it carries the tag "labvirt:LAB/GUEST/DISK"; the tag is set
 * by the lvcreate that makes it, so a run killed at any point leaves either
 * nothing or a tagged LV that the intent journal removes. An import-from=
 * image is always a full copy into the disk's own LV (thick LVM has no cheap
 * snapshots: Proxmox makes no linked clones there either). With saferemove 1
 * an LV is zeroed before it is removed, as Proxmox does, so that the next LV
 * on its extents does not show its data. */
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lvm-host.h"
#include "storage.h"

/* Zeroing steps: Proxmox's default saferemove-stepsize (32 MiB). A killed
 * run leaves a tagged LV partly zeroed; the next remove zeroes it again. */
#define ZERO_STEP (32ULL * 1024 * 1024)

/* What lvm2 says about the storage's volume group. */
struct vg_state {
	struct lvm_vg vg;
	struct lvm_lv *lvs;
	size_t n;
};

static void vg_state_clear(struct vg_state *st)
{
	lvm_lvs_free(st->lvs, st->n);
	*st = (struct vg_state){0};
}

static int need_tools(const struct lab_storage *s, bool with_qemu_img, struct lv_error *err)
{
	static const char *const tools[] = {"vgs", "lvs", "lvcreate", "lvchange", "lvremove"};
	for (size_t i = 0; i < ARRAY_SIZE(tools); i++)
		if (!lvm_host_in_path(tools[i]))
			return lv_fail(err, LV_EXIT_FAIL,
				       "lvm storage '%s': lvm2 tools missing: no '%s' in PATH "
				       "(install the Debian package lvm2)",
				       s->id, tools[i]);
	if (with_qemu_img && !lvm_host_in_path("qemu-img"))
		return lv_fail(err, LV_EXIT_FAIL,
			       "lvm storage '%s': no 'qemu-img' in PATH (install qemu-utils)",
			       s->id);
	return 0;
}

static int vg_load(const struct lab_storage *s, struct vg_state *st, bool *ret_vg_missing,
		   struct lv_error *err)
{
	*st = (struct vg_state){0};
	if (need_tools(s, false, err) < 0 ||
	    lvm_host_load(s, &st->vg, &st->lvs, &st->n, ret_vg_missing, err) < 0) {
		vg_state_clear(st);
		return -1;
	}
	return 0;
}

static const char *lv_name_of(const struct storage_vol *v)
{
	return lvm_host_lv_name(v->path);
}

static char *owner_tag(const struct storage_vol *v)
{
	return xasprintf(LVM_TAG_OWNER "%s", v->owner);
}

static int lvm_query(const struct storage_vol *v, bool *ret_exists, bool *ret_foreign,
		     struct lv_error *err)
{
	struct vg_state st;
	if (vg_load(v->storage, &st, NULL, err) < 0)
		return -1;
	_cleanup_free_ char *tag = owner_tag(v);
	const struct lvm_lv *lv = lvm_find_lv(st.lvs, st.n, lv_name_of(v));
	*ret_exists = lv != NULL;
	/* a thin volume of that name is an lvmthin storage's, not this one's */
	*ret_foreign = lv && (!lvm_lv_has_tag(lv, tag) || lv->pool[0]);
	vg_state_clear(&st);
	return 0;
}

static int lv_remove(const char *vg, const char *name, struct lv_error *err)
{
	_cleanup_argv_ char **cmd = lvm_cmd_remove(vg, name);
	return lvm_host_run(cmd, NULL, err);
}

/* The new LV filled: the image written in (every byte: the extents may hold
 * an earlier LV's data), or the container's file system made. */
static int lv_fill(const struct storage_vol *v, const struct lvm_image *img, struct lv_error *err)
{
	if (v->import_from) {
		_cleanup_argv_ char **write =
		    lvm_cmd_image_write_all(v->import_from, img->format, v->path);
		if (lvm_host_run(write, NULL, err) < 0)
			return lv_prefix(err, "write '%s' into '%s'", v->import_from, v->path);
		return 0;
	}
	return v->fill ? v->fill(v->path, v->fill_opaque, err) : 0;
}

static int lvm_create(const struct storage_vol *v, struct lv_error *err)
{
	const struct lab_storage *s = v->storage;
	struct vg_state st;
	struct lvm_image img = {0};
	if (vg_load(s, &st, NULL, err) < 0)
		return -1;
	bool taken = lvm_find_lv(st.lvs, st.n, lv_name_of(v)) != NULL;
	vg_state_clear(&st);
	if (taken)
		return lv_fail(err, LV_EXIT_FAIL, "'%s' exists", v->path);
	if (v->import_from &&
	    (need_tools(s, true, err) < 0 ||
	     lvm_host_image_info(v->import_from, v->import_format, &img, err) < 0))
		return -1;
	uint64_t size = img.virtual_size > v->size ? img.virtual_size : v->size;
	_cleanup_free_ char *tag = owner_tag(v);
	_cleanup_argv_ char **make = lvm_cmd_create_thick(s->vgname, lv_name_of(v), size, tag);
	if (lvm_host_run(make, NULL, err) < 0)
		return lv_prefix(err, "lvm storage '%s': create '%s'", s->id, v->path);
	if (lv_fill(v, &img, err) < 0) {
		lv_remove(s->vgname, lv_name_of(v),
			  NULL); /* the journal undoes it if killed here */
		return -1;
	}
	return 0;
}

/* How many times the device-mapper device rdev is open (DM_DEV_STATUS, as
 * lvremove asks before it refuses an LV in use). */
static int dm_open_count(const char *dev, dev_t rdev, int *ret, struct lv_error *err)
{
	_cleanup_close_ int ctl = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	struct dm_ioctl dmi = {
	    .version = {DM_VERSION_MAJOR, 0, 0},
	    .data_size = sizeof(dmi),
	    .dev = rdev,
	};
	if (ctl < 0 || ioctl(ctl, DM_DEV_STATUS, &dmi) < 0)
		return lv_fail_errno(err, errno, "saferemove: cannot ask device-mapper about '%s'",
				     dev);
	*ret = dmi.open_count;
	return 0;
}

/* Zeroes the whole device, in steps, with the kernel's BLKZEROOUT (the
 * device's write-zeroes where it has one, else zero pages written). An LV in
 * use is refused, not wiped: O_EXCL fails on a mounted one, and one that
 * anything else holds open (a guest's QEMU opens it without O_EXCL) has more
 * openers than this one. */
static int zero_device(const char *dev, struct lv_error *err)
{
	_cleanup_close_ int fd = open(dev, O_WRONLY | O_EXCL | O_CLOEXEC);
	struct stat st;
	uint64_t size = 0;
	int openers = 0;
	if (fd < 0)
		return lv_fail_errno(err, errno, "saferemove: cannot open '%s'", dev);
	if (fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode))
		return lv_fail(err, LV_EXIT_FAIL, "saferemove: '%s' is not a block device", dev);
	if (dm_open_count(dev, st.st_rdev, &openers, err) < 0)
		return -1;
	if (openers > 1)
		return lv_fail(err, LV_EXIT_FAIL,
			       "saferemove: '%s' is in use (held open by %d other opener%s): not "
			       "zeroed, not removed",
			       dev, openers - 1, openers > 2 ? "s" : "");
	if (ioctl(fd, BLKGETSIZE64, &size) < 0)
		return lv_fail_errno(err, errno, "saferemove: cannot get the size of '%s'", dev);
	for (uint64_t at = 0; at < size; at += ZERO_STEP) {
		uint64_t range[2] = {at, size - at < ZERO_STEP ? size - at : ZERO_STEP};
		if (ioctl(fd, BLKZEROOUT, range) < 0)
			return lv_fail_errno(err, errno, "saferemove: cannot zero '%s' at %llu",
					     dev, (unsigned long long)at);
	}
	if (fsync(fd) < 0)
		return lv_fail_errno(err, errno, "saferemove: cannot flush '%s'", dev);
	return 0;
}

/* saferemove 1: the LV's data zeroed before lvremove; an inactive LV (no
 * /dev node) is activated first. */
static int safe_zero(const struct lab_storage *s, const char *name, struct lv_error *err)
{
	_cleanup_free_ char *dev = xasprintf("/dev/%s/%s", s->vgname, name);
	_cleanup_argv_ char **activate = lvm_cmd_activate(s->vgname, name);
	if (access(dev, F_OK) < 0 && lvm_host_run(activate, NULL, err) < 0)
		return lv_prefix(err, "saferemove: activate '%s'", dev);
	return zero_device(dev, err);
}

static int lvm_remove(const struct storage_vol *v, struct lv_error *err)
{
	const struct lab_storage *s = v->storage;
	struct vg_state st;
	bool vg_missing = false;
	if (vg_load(s, &st, &vg_missing, err) < 0)
		return vg_missing ? 0 : -1; /* no group, so no volume either */
	_cleanup_free_ char *tag = owner_tag(v);
	const struct lvm_lv *lv = lvm_find_lv(st.lvs, st.n, lv_name_of(v));
	int rc = 0;
	if (lv && (!lvm_lv_has_tag(lv, tag) || lv->pool[0]))
		rc = lv_fail(err, LV_EXIT_FAIL, "'%s' was not made by labvirt for %s: left alone",
			     v->path, v->owner);
	else if (lv && s->saferemove && safe_zero(s, lv->name, err) < 0)
		rc = -1;
	else if (lv)
		rc = lv_remove(s->vgname, lv->name, err);
	vg_state_clear(&st);
	return rc;
}

/* What one new volume takes from the group: its size or its image's virtual
 * size, whichever is bigger, rounded up to whole extents (thick: all of it is
 * allocated at once). */
static int vol_need(const struct storage_vol *v, uint64_t extent, uint64_t *ret,
		    struct lv_error *err)
{
	struct lvm_image img = {0};
	if (v->import_from &&
	    (need_tools(v->storage, true, err) < 0 ||
	     lvm_host_image_info(v->import_from, v->import_format, &img, err) < 0))
		return -1;
	uint64_t size = img.virtual_size > v->size ? img.virtual_size : v->size;
	*ret = extent ? (size + extent - 1) / extent * extent : size;
	return 0;
}

/* "8.0 MiB + 40.0 MiB": the sizes of the new volumes, for the message. */
static char *sizes_text(const uint64_t *sizes, size_t n)
{
	char *s = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		char one[32];
		lvm_size_text(sizes[i], one);
		char *next = xasprintf("%s%s%s", s, i ? " + " : "", one);
		free(s);
		s = next;
	}
	return s;
}

static int lvm_check(const struct lab_storage *s, const struct storage_vol *vols, size_t n,
		     char **ret_note, struct lv_error *err)
{
	(void)ret_note;
	struct vg_state st;
	if (vg_load(s, &st, NULL, err) < 0)
		return -1;
	_cleanup_free_ uint64_t *sizes = xcalloc(n ? n : 1, sizeof(*sizes));
	uint64_t total = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = vol_need(&vols[i], st.vg.extent, &sizes[i], err);
		total += sizes[i];
	}
	if (rc == 0 && total > st.vg.free) {
		char need[32], avail[32];
		lvm_size_text(total, need);
		lvm_size_text(st.vg.free, avail);
		_cleanup_free_ char *each = sizes_text(sizes, n);
		rc = lv_fail(err, LV_EXIT_FAIL,
			     "lvm storage '%s': the new volumes need %s (%s) but volume group '%s' "
			     "has %s free",
			     s->id, need, each, s->vgname, avail);
	}
	vg_state_clear(&st);
	return rc;
}

static int lvm_usage(const struct lab_storage *s, struct storage_usage *ret, struct lv_error *err)
{
	struct vg_state st;
	if (vg_load(s, &st, NULL, err) < 0)
		return -1;
	uint64_t used = st.vg.size - (st.vg.free < st.vg.size ? st.vg.free : st.vg.size);
	*ret = (struct storage_usage){
	    .data_size = st.vg.size,
	    .data_pct = st.vg.size ? 100.0 * (double)used / (double)st.vg.size : 0,
	    .meta_pct = -1,
	};
	snprintf(ret->pool, sizeof(ret->pool), "%s", s->vgname);
	vg_state_clear(&st);
	return 0;
}

const struct storage_backend storage_lvm_backend = {
    .type = "lvm",
    .query = lvm_query,
    .create = lvm_create,
    .remove = lvm_remove,
    .check = lvm_check,
    .usage = lvm_usage,
};
