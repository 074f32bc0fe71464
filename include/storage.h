/* storage.h - labvirt's own volume layer, independent of the libvirt
 * connection. A backend per storage type behind one small interface. */
#ifndef STORAGE_H
#define STORAGE_H

#include "layout.h"

/* One volume as the lab asks for it. */
struct storage_vol {
	const struct lab_storage *storage;
	char *path;    /* lab_disk_path() */
	char *owner;   /* "LAB/GUEST/DISK": the ownership tag */
	uint64_t size; /* bytes; 0 with import_from: the image's size */
	const char *import_from;
	/* import_from is a volume of the lab (labvirt clone) in this format: not probed
	 * (a guest wrote its contents), and its backing chain is its own */
	const char *import_format;
	bool full_clone;
	bool raw; /* dir: a raw file (a Proxmox volume named *.raw), else qcow2 */
	/* A container's volume: a folder (dir: subvol) rather than a file, and what
	 * fills it once made, before it takes its name (ext4 from a template). */
	bool folder;
	int (*fill)(const char *path, void *opaque, struct lv_error *err);
	void *fill_opaque;
};

/* A pool's use (lvmthin), or a volume group's (lvm: no metadata, meta_pct -1):
 * sizes in bytes, percentages 0..100. */
struct storage_usage {
	char pool[256]; /* "VG/POOL"; lvm: "VG" */
	uint64_t data_size, meta_size;
	double data_pct, meta_pct;
};

/* Test hook (tests/faults/kill.sh, LABVIRT_KILL_AT=during): when set, the dir
 * backend calls it with a new volume's temporary path once the volume is
 * complete there, just before it takes its own name. */
extern void (*storage_before_rename)(const char *tmp);

struct storage_backend {
	const char *type;
	/* exists: there is a volume at that path; foreign: it is not this tag's. */
	int (*query)(const struct storage_vol *v, bool *ret_exists, bool *ret_foreign,
		     struct lv_error *err);
	int (*create)(const struct storage_vol *v, struct lv_error *err);
	/* Removes the volume only if it carries this tag; absent is not an error. */
	int (*remove)(const struct storage_vol *v, struct lv_error *err);
	/* Optional. Before `up` creates anything: can s take these n new volumes?
	 * May hand back a warning for the user (*ret_note, caller frees). */
	int (*check)(const struct lab_storage *s, const struct storage_vol *vols, size_t n,
		     char **ret_note, struct lv_error *err);
	/* Optional. How full the storage is, for `status`. */
	int (*usage)(const struct lab_storage *s, struct storage_usage *ret, struct lv_error *err);
	/* Optional: the storage's own snapshots of a volume, as Proxmox takes them there
	 * (btrfs: a read-only snapshot subvolume NAME@SNAP beside it). snapshot refuses a
	 * name taken by anything but a leftover snapshot of this volume (which it replaces);
	 * rollback gives the volume the snapshot's contents (it keeps its identity);
	 * delsnapshot of an absent snapshot is no error. */
	int (*snapshot)(const struct storage_vol *v, const char *snap, struct lv_error *err);
	int (*rollback)(const struct storage_vol *v, const char *snap, struct lv_error *err);
	int (*delsnapshot)(const struct storage_vol *v, const char *snap, struct lv_error *err);
};

extern const struct storage_backend storage_dir_backend;
extern const struct storage_backend storage_lvmthin_backend;
extern const struct storage_backend storage_btrfs_backend;
extern const struct storage_backend storage_zfspool_backend;
extern const struct storage_backend storage_lvm_backend;

const struct storage_backend *storage_backend_for(const struct lab_storage *s,
						  struct lv_error *err);
/* Fills v for disk d of guest g (caller frees with storage_vol_clear). */
void storage_vol_init(struct storage_vol *v, const struct lab *lab, const struct lab_guest *g,
		      const struct lab_disk *d);
void storage_vol_clear(struct storage_vol *v);

int storage_query(const struct storage_vol *v, bool *ret_exists, bool *ret_foreign,
		  struct lv_error *err);
/* dir: gives the existing file v->path v's ownership tag (efidisk0's file, which
 * libvirt makes at the first start); no user xattrs on the file system is no error. */
int storage_dir_tag(const struct storage_vol *v, struct lv_error *err);
int storage_create(const struct storage_vol *v, struct lv_error *err);
/* The entry a volume is in its storage's folder: the subvolume X of a btrfs raw volume
 * X/disk.raw, else the path itself (caller frees). */
char *storage_vol_entry(const struct lab_storage *s, const char *path);
/* The temporary name a file storage (dir, btrfs) makes the volume at path under, as
 * the journal records it: ".ENTRY.part-PID" beside the entry. */
char *storage_temp_path(const struct lab_storage *s, const char *path, int pid);
/* Removes such a temporary volume a killed run left: a file, a folder, a subvolume. */
int storage_remove_temp(const struct lab_storage *s, const char *temp, struct lv_error *err);
/* dir: removes a folder and all in it (no symlink followed, no other file system). */
int storage_dir_remove_tree(const char *path);
/* btrfs: deletes path when it is a subvolume (1), else does nothing (0); -1 on error. */
int storage_btrfs_delete(const char *path, struct lv_error *err);
int storage_remove(const struct storage_vol *v, struct lv_error *err);
/* Whether v's storage takes snapshots of v itself (btrfs raw volumes), and those verbs. */
bool storage_can_snapshot(const struct storage_vol *v);
int storage_snapshot(const struct storage_vol *v, const char *snap, struct lv_error *err);
int storage_rollback(const struct storage_vol *v, const char *snap, struct lv_error *err);
int storage_delsnapshot(const struct storage_vol *v, const char *snap, struct lv_error *err);
/* vols all lie on s; no check for the type is a pass. */
int storage_check(const struct lab_storage *s, const struct storage_vol *vols, size_t n,
		  char **ret_note, struct lv_error *err);
/* Returns 1 with *ret filled, 0 when the type has no use to show. */
int storage_usage(const struct lab_storage *s, struct storage_usage *ret, struct lv_error *err);

#endif
