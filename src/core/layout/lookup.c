/* layout/lookup.c - lookup: finding a lab's guests, storages, bridges and images, and the names
 * labvirt gives what it creates. */
#include <inttypes.h>
#include <string.h>

#include "layout-private.h"

/* ---- lookups and names ---- */

struct lab_guest *lab_find_guest(const struct lab *lab, const char *name)
{
	for (size_t i = 0; i < lab->n_guests; i++)
		if (streq(lab->guests[i].name, name))
			return &lab->guests[i];
	return NULL;
}

struct lab_storage *lab_find_storage(const struct lab *lab, const char *id)
{
	for (size_t i = 0; i < lab->n_storages; i++)
		if (streq(lab->storages[i].id, id))
			return &lab->storages[i];
	return NULL;
}

struct lab_image *lab_find_image(const struct lab *lab, const char *name)
{
	for (size_t i = 0; i < lab->n_images; i++)
		if (streq(lab->images[i].name, name))
			return &lab->images[i];
	return NULL;
}

struct lab_bridge *lab_find_bridge(const struct lab *lab, const char *name)
{
	for (size_t i = 0; i < lab->n_bridges; i++)
		if (streq(lab->bridges[i].name, name))
			return &lab->bridges[i];
	return NULL;
}

char *lab_volume_name(const struct lab *lab, const struct lab_guest *g, const struct lab_disk *d)
{
	const struct lab_storage *s = d->allocate ? lab_find_storage(lab, d->storage) : NULL;
	if (!s)
		return NULL;
	if (d->named && d->path && s->type == STORAGE_BTRFS && endswith(d->path, "/disk.raw")) {
		/* images/100/vm-100-disk-0/disk.raw is vm-100-disk-0.raw */
		size_t n = strlen(d->path) - strlen("/disk.raw"), k = n;
		while (k > 0 && d->path[k - 1] != '/')
			k--;
		return xasprintf("%.*s.raw", (int)(n - k), d->path + k);
	}
	if (d->named) /* Proxmox's own name: vm-100-disk-0(.qcow2) */
		return d->path ? xstrdup(strrchr(d->path, '/') + 1) : NULL;
	const char *suffix = s->type != STORAGE_DIR ? "" /* an LV; btrfs: a subvolume */
			     : d->bus != BUS_MP     ? ".qcow2"
			     : d->subvol            ? "" /* a folder */
						    : ".raw";
	return xasprintf("%s-%s-%s%s", lab->name, g->name, d->key, suffix);
}

char *lab_zfs_path(const struct lab_storage *s, const char *name, bool folder)
{
	if (folder && s->mountpoint)
		return xasprintf("%s/%s", s->mountpoint, name);
	return xasprintf(folder ? "/%s/%s" : "/dev/zvol/%s/%s", s->pool, name);
}

char *lab_ct_mount_dir(const struct lab *lab, const struct lab_guest *g, const struct lab_disk *d)
{
	if (g->kind != KIND_CT || !g->ct->unprivileged || d->bus != BUS_MP || d->bind || d->subvol)
		return NULL;
	return xasprintf("/run/labvirt/ct/%s/%s/%s", lab->name, g->name, d->key);
}

char *lab_network_name(const struct lab *lab, const struct lab_bridge *b)
{
	return xasprintf("labvirt-%s-%s", lab->name, b->name);
}

char *lab_disk_path(const struct lab *lab, const struct lab_guest *g, const struct lab_disk *d)
{
	if (d->empty)
		return NULL;
	if (!d->allocate || d->named)
		return d->path ? xstrdup(d->path) : NULL;
	const struct lab_storage *s = lab_find_storage(lab, d->storage);
	_cleanup_free_ char *name = lab_volume_name(lab, g, d);
	if (!s || !name)
		return NULL;
	if (s->type == STORAGE_DIR)
		return xasprintf("%s/%s", s->path, name);
	if (s->type == STORAGE_BTRFS) /* a subvolume: a folder, or its disk.raw */
		return xasprintf("%s/%s%s", s->path, name, d->subvol ? "" : "/disk.raw");
	if (s->type == STORAGE_ZFSPOOL)
		return lab_zfs_path(s, name, d->subvol);
	return xasprintf("/dev/%s/%s", s->vgname, name);
}

const char *lab_accel_name(enum lab_accel a)
{
	static const char *const names[] = {
	    [ACCEL_AUTO] = "auto", [ACCEL_KVM] = "kvm", [ACCEL_TCG] = "tcg"};
	return (size_t)a < ARRAY_SIZE(names) ? names[a] : "?";
}

const char *lab_storage_type_name(const struct lab_storage *s)
{
	static const char *const names[] = {[STORAGE_DIR] = "dir",
					    [STORAGE_LVMTHIN] = "lvmthin",
					    [STORAGE_LVM] = "lvm",
					    [STORAGE_BTRFS] = "btrfs",
					    [STORAGE_ZFSPOOL] = "zfspool"};
	if (s->type == STORAGE_OTHER)
		return s->other_type ? s->other_type : "?";
	return (size_t)s->type < ARRAY_SIZE(names) ? names[s->type] : "?";
}

const char *lab_bridge_mode_name(enum lab_bridge_mode m)
{
	static const char *const names[] = {
	    [BRIDGE_NAT] = "nat", [BRIDGE_ISOLATED] = "isolated", [BRIDGE_HOST] = "host"};
	return (size_t)m < ARRAY_SIZE(names) ? names[m] : "?";
}

const char *lab_guest_graphics(const struct lab_guest *g)
{
	if (g->graphics)
		return streq(g->graphics, "none") ? NULL : g->graphics;
	if (!g->vga || streq(g->vga, "none") || startswith(g->vga, "serial"))
		return NULL;
	bool usb_spice = false;
	for (size_t i = 0; i < ARRAY_SIZE(g->dev.usb); i++)
		usb_spice = usb_spice || (g->dev.usb[i] && streq(g->dev.usb[i], "spice"));
	return startswith(g->vga, "qxl") || usb_spice ? "spice" : "vnc";
}
