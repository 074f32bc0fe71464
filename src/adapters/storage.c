/* storage.c - picks the backend of a storage and forwards to it. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#include "journal.h"
#include "storage.h"

const struct storage_backend *storage_backend_for(const struct lab_storage *s, struct lv_error *err)
{
	if (s->type == STORAGE_DIR)
		return &storage_dir_backend;
	if (s->type == STORAGE_LVMTHIN)
		return &storage_lvmthin_backend;
	if (s->type == STORAGE_BTRFS)
		return &storage_btrfs_backend;
	if (s->type == STORAGE_ZFSPOOL)
		return &storage_zfspool_backend;
	if (s->type == STORAGE_LVM)
		return &storage_lvm_backend;
	lv_fail(err, LV_EXIT_FAIL, "storage '%s': unknown type", s->id);
	return NULL;
}

void storage_vol_init(struct storage_vol *v, const struct lab *lab, const struct lab_guest *g,
		      const struct lab_disk *d)
{
	*v = (struct storage_vol){
	    .storage = lab_find_storage(lab, d->storage),
	    .path = lab_disk_path(lab, g, d),
	    .owner = xasprintf("%s/%s/%s", lab->name, g->name, d->key),
	    .size = d->size,
	    .import_from = d->import_from,
	    .full_clone = d->full_clone,
	};
	size_t n = v->path ? strlen(v->path) : 0;
	v->raw = d->cloudinit || d->bus == BUS_MP ||
		 (d->named && n > 4 && streq(v->path + n - 4, ".raw"));
	v->folder = d->bus == BUS_MP && d->subvol;
}

void storage_vol_clear(struct storage_vol *v)
{
	free(v->path);
	free(v->owner);
	*v = (struct storage_vol){0};
}

#define FORWARD(op, ...)                                                                           \
	const struct storage_backend *b = storage_backend_for(v->storage, err);                    \
	if (!b)                                                                                    \
		return -1;                                                                         \
	return b->op(v, ##__VA_ARGS__, err)

int storage_query(const struct storage_vol *v, bool *ret_exists, bool *ret_foreign,
		  struct lv_error *err)
{
	FORWARD(query, ret_exists, ret_foreign);
}

/* up makes each guest's volumes in a thread of its own: linked clones of one image
 * share a base that the first of them makes, so they are made one at a time. */
static pthread_mutex_t linked_lock = PTHREAD_MUTEX_INITIALIZER;

int storage_create(const struct storage_vol *v, struct lv_error *err)
{
	const struct storage_backend *b = storage_backend_for(v->storage, err);
	if (!b)
		return -1;
	bool linked = v->import_from && !v->full_clone;
	if (linked)
		pthread_mutex_lock(&linked_lock);
	int rc = b->create(v, err);
	if (linked)
		pthread_mutex_unlock(&linked_lock);
	return rc;
}

int storage_remove(const struct storage_vol *v, struct lv_error *err)
{
	FORWARD(remove);
}

bool storage_can_snapshot(const struct storage_vol *v)
{
	const struct storage_backend *b = v->storage ? storage_backend_for(v->storage, NULL) : NULL;
	if (!b || !b->snapshot)
		return false;
	/* on btrfs, a raw volume (a qcow2 file there takes QEMU's internal snapshots; a
	 * container's folder subvolume, not yet); a zfspool dataset or zvol, a thin LV */
	return v->storage->type != STORAGE_BTRFS || (!v->folder && endswith(v->path, "/disk.raw"));
}

#define SNAP_FORWARD(op)                                                                           \
	const struct storage_backend *b = storage_backend_for(v->storage, err);                    \
	if (!b)                                                                                    \
		return -1;                                                                         \
	if (!b->op)                                                                                \
		return lv_fail(err, LV_EXIT_USAGE, "storage '%s' (%s) takes no snapshots here",    \
			       v->storage->id, b->type);                                           \
	return b->op(v, snap, err)

int storage_snapshot(const struct storage_vol *v, const char *snap, struct lv_error *err)
{
	SNAP_FORWARD(snapshot);
}

int storage_rollback(const struct storage_vol *v, const char *snap, struct lv_error *err)
{
	SNAP_FORWARD(rollback);
}

int storage_delsnapshot(const struct storage_vol *v, const char *snap, struct lv_error *err)
{
	SNAP_FORWARD(delsnapshot);
}

int storage_check(const struct lab_storage *s, const struct storage_vol *vols, size_t n,
		  char **ret_note, struct lv_error *err)
{
	const struct storage_backend *b = storage_backend_for(s, err);
	if (!b)
		return -1;
	return b->check ? b->check(s, vols, n, ret_note, err) : 0;
}

int storage_usage(const struct lab_storage *s, struct storage_usage *ret, struct lv_error *err)
{
	const struct storage_backend *b = storage_backend_for(s, err);
	if (!b)
		return -1;
	if (!b->usage)
		return 0;
	return b->usage(s, ret, err) < 0 ? -1 : 1;
}

char *storage_vol_entry(const struct lab_storage *s, const char *path)
{
	size_t n = strlen(path), k = strlen("/disk.raw");
	if (s && s->type == STORAGE_BTRFS && n > k && streq(path + n - k, "/disk.raw"))
		return xstrndup(path, n - k);
	return xstrdup(path);
}

char *storage_temp_path(const struct lab_storage *s, const char *path, int pid)
{
	_cleanup_free_ char *entry = storage_vol_entry(s, path);
	return journal_dir_temp(entry, pid);
}

int storage_remove_temp(const struct lab_storage *s, const char *temp, struct lv_error *err)
{
	struct stat st;
	if (lstat(temp, &st) < 0)
		return errno == ENOENT ? 0 : lv_fail_errno(err, errno, "cannot stat '%s'", temp);
	if (!S_ISDIR(st.st_mode))
		return unlink(temp) < 0 && errno != ENOENT
			   ? lv_fail_errno(err, errno, "cannot remove '%s'", temp)
			   : 0;
	int r = s && s->type == STORAGE_BTRFS ? storage_btrfs_delete(temp, err) : 0;
	if (r != 0)
		return r < 0 ? -1 : 0;
	return storage_dir_remove_tree(temp) < 0
		   ? lv_fail_errno(err, errno, "cannot remove '%s'", temp)
		   : 0;
}
