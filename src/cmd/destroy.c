/* destroy.c - `labvirt destroy [--yes] [GUEST...]`: removes the lab's guests,
 * their volumes, and the bridges labvirt made that no remaining guest uses.
 * Only what carries the lab's name is touched. */
#include <string.h>

#include "cmd.h"
#include "intent.h"
#include "qcow2.h"
#include "storage.h"

static int confirm(struct ctx *c, const bool *sel, bool yes, struct lv_error *err)
{
	if (yes)
		return 0;
	if (!isatty(0))
		return lv_fail(err, LV_EXIT_USAGE,
			       "destroy: stdin is not a terminal: add --yes to confirm");
	size_t n = 0;
	for (size_t i = 0; i < c->lab->n_guests; i++)
		n += sel[i];
	fprintf(c->errout, "Remove %zu guest%s of lab %s with their disks? [y/N] ", n,
		n == 1 ? "" : "s", c->lab->name);
	char answer[16] = "";
	if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
		return lv_fail(err, LV_EXIT_FAIL, "destroy: not confirmed: nothing removed");
	return 0;
}

/* A file storage's images/VMID/ goes with its last volume, as Proxmox's free_image
 * does (rmdir only: a folder that still holds anything, a restored disk, stays). */
static void remove_empty_vmid_dir(struct ctx *c, const struct storage_vol *v)
{
	if (!lab_storage_files(v->storage))
		return;
	_cleanup_free_ char *dir = storage_vol_entry(v->storage, v->path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = '\0';
	const char *vmid = strrchr(dir, '/');
	if (!vmid || vmid - dir < 7 || strncmp(vmid - 7, "/images", 7) || !vmid[1] ||
	    vmid[1 + strspn(vmid + 1, "0123456789")] != '\0')
		return;
	if (rmdir(dir) == 0)
		fprintf(c->out, "removed directory %s\n", dir);
}

static int remove_guest(struct ctx *c, const struct lab_guest *g, struct lv_error *err)
{
	struct inv_domain d;
	if (virt_domain_query(c->virt, c->lab->name, g->name, &d, err) < 0)
		return -1;
	if (d.state != DOM_ABSENT && d.foreign) {
		fprintf(c->errout, "%s: not this lab's domain: left alone\n", g->name);
		return 0;
	}
	if ((d.state == DOM_RUNNING || d.state == DOM_PAUSED || d.state == DOM_OTHER) &&
	    virt_domain_poweroff(c->virt, g->name, err) < 0)
		return lv_prefix(err, "destroy %s", g->name);
	if (ct_unmount_volumes(c->lab, g, err) < 0) /* before its volumes go */
		return lv_prefix(err, "destroy %s", g->name);
	bool keep_efidisk = efidisk_keep(c->lab, g);
	if (d.state != DOM_ABSENT && d.persistent &&
	    virt_domain_undefine(c->virt, g->name, keep_efidisk, err) < 0)
		return lv_prefix(err, "destroy %s", g->name);
	if (d.state != DOM_ABSENT)
		fprintf(c->out, "removed domain %s\n", g->name);
	if (keep_efidisk)
		fprintf(c->errout, "%s: not made by labvirt: left alone\n", g->efidisk.path);
	for (size_t k = 0; k < g->n_disks; k++) {
		if (!g->disks[k].allocate)
			continue;
		struct storage_vol v;
		bool exists = false, foreign = false;
		storage_vol_init(&v, c->lab, g, &g->disks[k]);
		int rc = storage_query(&v, &exists, &foreign, err);
		if (rc == 0 && exists && foreign)
			fprintf(c->errout, "%s: not made by labvirt: left alone\n", v.path);
		else if (rc == 0 && exists && (rc = storage_remove(&v, err)) == 0) {
			fprintf(c->out, "removed volume %s\n", v.path);
			remove_empty_vmid_dir(c, &v);
		}
		storage_vol_clear(&v);
		if (rc < 0)
			return lv_prefix(err, "destroy %s/%s", g->name, g->disks[k].key);
	}
	return 0;
}

/* A bridge stays while any guest of the lab that still exists uses it. */
static bool bridge_in_use(struct ctx *c, const struct lab_bridge *br)
{
	for (size_t i = 0; i < c->lab->n_guests; i++) {
		const struct lab_guest *g = &c->lab->guests[i];
		struct inv_domain d;
		if (virt_domain_query(c->virt, c->lab->name, g->name, &d, NULL) < 0 ||
		    d.state == DOM_ABSENT || d.foreign)
			continue;
		for (size_t k = 0; k < g->n_nets; k++)
			if (streq(g->nets[k].bridge, br->name))
				return true;
	}
	return false;
}

static int remove_bridges(struct ctx *c, struct lv_error *err)
{
	_cleanup_(inventory_freep) struct inventory *inv = inventory_new(c->lab);
	if (ctx_inventory(c, inv, err) < 0)
		return -1;
	for (size_t b = 0; b < c->lab->n_bridges; b++) {
		const struct lab_bridge *br = &c->lab->bridges[b];
		if (br->mode == BRIDGE_HOST || !inv->bridges[b].exists || inv->bridges[b].foreign ||
		    bridge_in_use(c, br))
			continue;
		_cleanup_free_ char *net = lab_network_name(c->lab, br);
		int rc = inv->network_driver ? virt_network_remove(c->virt, net, err)
					     : host_bridge_delete(br->name, err);
		if (rc < 0)
			return lv_prefix(err, "destroy bridge %s", br->name);
		fprintf(c->out, "removed %s %s\n", inv->network_driver ? "network" : "bridge",
			inv->network_driver ? net : br->name);
	}
	return 0;
}

/* Proxmox's protection: 1 keeps a guest and its disks from being removed;
 * nothing is removed when one of the selected guests has it. */
static int refuse_protected(struct ctx *c, const bool *sel, struct lv_error *err)
{
	for (size_t i = 0; i < c->lab->n_guests; i++)
		if (sel[i] && c->lab->guests[i].protection)
			return lv_fail(err, LV_EXIT_FAIL,
				       "destroy: guest %s is protected (protection: 1 in %s): "
				       "nothing removed",
				       c->lab->guests[i].name, c->lab->guests[i].file);
	return 0;
}

/* As Proxmox: a template's disk that a guest left standing is a linked clone's base
 * (its qcow2 backing file, labvirt clone) is not removed, nor anything else. */
static int refuse_bases(struct ctx *c, const bool *sel, struct lv_error *err)
{
	const struct lab *lab = c->lab;
	for (size_t i = 0; i < lab->n_guests; i++) {
		const struct lab_guest *t = &lab->guests[i];
		for (size_t k = 0; sel[i] && t->template && k < t->n_disks; k++) {
			_cleanup_free_ char *base = lab_disk_path(lab, t, &t->disks[k]);
			for (size_t j = 0; base && j < lab->n_guests; j++) {
				const struct lab_guest *g = &lab->guests[j];
				for (size_t d = 0; !sel[j] && d < g->n_disks; d++) {
					_cleanup_free_ char *path =
					    lab_disk_path(lab, g, &g->disks[d]);
					char backing[QCOW2_MAX_BACKING + 1];
					if (path &&
					    qcow2_backing(path, backing, sizeof(backing)) == 1 &&
					    streq(backing, base))
						return lv_fail(
						    err, LV_EXIT_FAIL,
						    "destroy: %s's %s (%s) is the base of "
						    "%s's linked clone %s: nothing removed",
						    t->name, t->disks[k].key, base, g->name,
						    g->disks[d].key);
				}
			}
		}
	}
	return 0;
}

int cmd_destroy(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	bool yes = false;
	const struct verb_opt opts[] = {{"--yes", &yes, NULL}, {0}};
	int first = verb_options(argc, argv, opts, err);
	_cleanup_(host_unlockp) struct host_lock *lock = NULL;
	_cleanup_free_ bool *sel = NULL;
	_cleanup_(journal_clearp) struct journal left = {0}; /* an interrupted run's */
	if (first < 0 || ctx_connect(c, err) < 0)
		return -1;
	struct engine eng = ctx_engine(c);
	if (ctx_select(c, argc - first, argv + first, &sel, err) < 0 ||
	    refuse_protected(c, sel, err) < 0 || refuse_bases(c, sel, err) < 0 ||
	    confirm(c, sel, yes, err) < 0 || ctx_lock(c, "destroy", &lock, err) < 0 ||
	    intent_recover(&eng, argc - first == 0, &left, err) < 0)
		return -1;
	for (size_t i = 0; i < c->lab->n_guests; i++)
		if (sel[i] && remove_guest(c, &c->lab->guests[i], err) < 0)
			return -1;
	/* The storage directories the interrupted run made, now that their volumes are gone. */
	if (intent_recover_dirs(&eng, &left, err) < 0 || remove_bridges(c, err) < 0)
		return -1;
	fprintf(c->out, "lab %s: destroyed\n", c->lab->name);
	return 0;
}
