/* engine.h - the engine of `up` (and of `destroy`'s recovery): what it works
 * on, handed to it by the command that runs it. Like libcrun under crun's
 * verbs, it knows nothing of argv; it says what it does on out and errout. */
#ifndef ENGINE_H
#define ENGINE_H

#include <stdio.h>

#include "hooks.h"
#include "plan.h"
#include "virt.h"

struct engine {
	struct lab *lab;
	struct virt *virt;
	const char *state_dir; /* the intent journal's directory */
	FILE *out, *errout;
	const struct engine_hooks *hooks; /* test hooks, or NULL */
};

/* efidisk0's file is libvirt's <nvram>, made by libvirt from OVMF's template at the
 * first start. efidisk_exists: it is there; efidisk_claim: tags it as labvirt's
 * (after a start that made it); efidisk_keep: it is there and not labvirt's (a
 * restored volume), so libvirt must not remove it with the domain. */
bool efidisk_exists(const struct lab *lab, const struct lab_guest *g);
void efidisk_claim(const struct lab *lab, const struct lab_guest *g);
bool efidisk_keep(const struct lab *lab, const struct lab_guest *g);

/* Before anything is created (preflight.c): names each file the selected
 * guests need that labvirt does not make and is missing, then has each storage
 * check the volumes the plan makes on it (its warnings are printed). */
int preflight_check(const struct engine *c, const bool *selected, const struct plan *p,
		    struct lv_error *err);

/* Containers (ct.c). The template a container's ostemplate names (a file or a
 * catalogue image's path), or NULL. */
const char *ct_template(const struct lab *lab, const struct lab_guest *g);
/* For a container's new volume, sets v's fill: the rootfs from the template with
 * the container's identity written (hostname, hosts, resolv.conf, network config,
 * root's password and keys), as ext4 or a folder; an mpN empty. *holder is what
 * v->fill_opaque points to (caller frees). Does nothing for other volumes. */
struct storage_vol;
struct ct_fill;
void ct_volume_fill(struct storage_vol *v, struct ct_fill **holder, const struct lab *lab,
		    const struct lab_guest *g, const struct lab_disk *d);
/* The same for a container restored from a vzdump archive: the rootfs is the
 * archive's tree (ids shifted for an unprivileged container), without its
 * etc/vzdump/ files and with no identity written. */
void ct_volume_fill_restore(struct storage_vol *v, struct ct_fill **holder, const struct lab *lab,
			    const struct lab_guest *g, const struct lab_disk *d,
			    const char *archive);
/* An unprivileged container's ext4 volumes mounted on the host before its start
 * (libvirt's LXC driver cannot mount them in its user namespace), and unmounted
 * once it is off. */
int ct_mount_volumes(const struct lab *lab, const struct lab_guest *g, struct lv_error *err);
int ct_unmount_volumes(const struct lab *lab, const struct lab_guest *g, struct lv_error *err);

#endif
