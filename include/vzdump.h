/* vzdump.h - what Proxmox's vzdump and qmrestore do to a guest's config and an
 * archive's name, beside the archive format itself (vma.h): pure, text in, text
 * out. */
#ifndef VZDUMP_H
#define VZDUMP_H

#include <time.h>

#include "layout.h"

/* vzdump-qemu-100-2024_05_02-18_00_00.vma.zst: kind, VMID, time as written. */
struct vzdump_name {
	enum lab_kind kind;
	int vmid;
	char stamp[20]; /* "2024_05_02-18_00_00" */
};
/* 0 and *ret filled when path's last part is a vzdump archive's name, else -1. */
int vzdump_parse_name(const char *path, struct vzdump_name *ret);
/* "vzdump-qemu-100-2024_05_02-18_00_00" (no suffix), t in UTC as vzdump's local time. */
char *vzdump_base_name(enum lab_kind kind, int vmid, time_t t);

/* `#qmdump#map:virtio0:drive-virtio0:local-lvm:raw:` lines of an archive's
 * qemu-server.conf: which device of the archive is which drive, and where it was. */
struct vzdump_map {
	char virtdev[16];  /* "virtio0", "efidisk0" */
	char devname[64];  /* "drive-virtio0" */
	char storage[128]; /* "local-lvm", or "" */
	char format[16];   /* "raw", "qcow2", or "" */
};
/* All map lines; *ret_n 0 when none. Returns -1 (err: "WHERE:LINE: ...") on a map
 * line that does not parse. */
int vzdump_maps(const char *text, const char *where, struct vzdump_map **ret, size_t *ret_n,
		struct lv_error *err);

/* The config `restore` writes, as qmrestore's restore_update_config_line makes it:
 * map, #vzdump#, lock:, unused, parent: lines dropped; a drive with backup=0
 * commented out; a drive in the map gets volume volids[i] (map order) and loses
 * format= (and labvirt's import-from= and clone=, which only make a volume);
 * vmgenid (if not 0) becomes new_vmgenid; with unique, each net's MAC and smbios1's
 * uuid are new (from rnd). Snapshot sections ([name]) and what follows are
 * dropped. name, if not NULL, replaces name: (or is added). */
struct vzdump_restore {
	const struct vzdump_map *maps;
	size_t n_maps;
	char *const *volids;
	const char *name;
	const char *new_vmgenid;
	bool unique;
	/* qm clone: template: dropped too (the clone is a guest), backup=0 drives kept */
	bool clone;
	/* a container's pct.conf (pct restore): the drives are rootfs and mpN, the name is
	 * hostname:, the MACs hwaddr= */
	bool ct;
	const char *(*new_mac)(void *opaque); /* "BC:24:11:xx:xx:xx" */
	const char *(*new_uuid)(void *opaque);
	void *opaque;
};
char *vzdump_restore_config(const char *text, const struct vzdump_restore *r);

/* The config `backup` puts in the archive, as vzdump's QemuServer.pm writes it: the
 * guest's file up to its first snapshot or pending section, without lock:, parent:
 * and unusedN lines, then a map line for each drive backed up. */
struct vzdump_backup_disk {
	const char *key;     /* "virtio0" */
	const char *storage; /* "local" */
	const char *format;  /* "qcow2" */
};
char *vzdump_backup_config(const char *text, const struct vzdump_backup_disk *disks, size_t n);

#endif
