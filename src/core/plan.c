/* plan.c - compares the lab with the inventory and lists the steps of `up`.
 * It reads nothing but its arguments, so every decision is testable. */
#include <string.h>

#include "plan.h"
#include "render.h"

struct inventory *inventory_new(const struct lab *lab)
{
	struct inventory *inv = xcalloc(1, sizeof(*inv));
	inv->doms = xcalloc(lab->n_guests, sizeof(*inv->doms));
	inv->vols = xcalloc(lab->n_guests, sizeof(*inv->vols));
	inv->bridges = xcalloc(lab->n_bridges, sizeof(*inv->bridges));
	inv->image_missing = xcalloc(lab->n_images, sizeof(*inv->image_missing));
	return inv;
}

void inventory_free(struct inventory *inv)
{
	if (!inv)
		return;
	free(inv->doms);
	free(inv->vols);
	free(inv->bridges);
	free(inv->image_missing);
	for (size_t i = 0; i < inv->n_machines; i++)
		free(inv->machines[i]);
	free(inv->machines);
	free(inv);
}

void plan_free(struct plan *p)
{
	if (!p)
		return;
	free(p->steps);
	lv_diag_free(&p->conflicts);
	lv_diag_free(&p->notes);
	for (size_t i = 0; i < p->n_xml; i++)
		free(p->xml[i]);
	free(p->xml);
	free(p);
}

static void add_step(struct plan *p, enum step_op op, size_t guest, size_t disk, size_t bridge)
{
	p->steps = xrealloc(p->steps, (p->n_steps + 1) * sizeof(*p->steps));
	p->steps[p->n_steps++] = (struct plan_step){op, guest, disk, bridge, 0};
}

static bool image_used(const struct lab *lab, const bool *selected, const char *name)
{
	for (size_t i = 0; i < lab->n_guests; i++) {
		const struct lab_ct *ct = lab->guests[i].ct;
		if ((!selected || selected[i]) && ct && ct->template_image &&
		    streq(ct->template_image, name))
			return true; /* a container's ostemplate */
	}
	for (size_t i = 0; i < lab->n_guests; i++)
		for (size_t d = 0; (!selected || selected[i]) && d < lab->guests[i].n_disks; d++)
			if (lab->guests[i].disks[d].image &&
			    streq(lab->guests[i].disks[d].image, name))
				return true;
	return false;
}

/* The catalogue images the selected guests use that are not there yet. */
static void plan_images(const struct lab *lab, const bool *selected, const struct inventory *inv,
			struct plan *p)
{
	for (size_t m = 0; m < lab->n_images; m++) {
		if (!inv->image_missing[m] || !image_used(lab, selected, lab->images[m].name))
			continue;
		add_step(p, STEP_IMAGE_FETCH, 0, 0, 0);
		p->steps[p->n_steps - 1].image = m;
	}
}

bool plan_prepares(const struct lab_guest *g, size_t d)
{
	if (!g->ci.set || d >= g->n_disks || !g->disks[d].import_from)
		return false;
	for (size_t k = 0; k < g->n_disks; k++)
		if (g->disks[k].cloudinit) /* the drive carries the keys */
			return false;
	for (size_t k = 0; k < d; k++)
		if (g->disks[k].import_from)
			return false;
	return true;
}

static bool bridge_used(const struct lab *lab, const bool *selected, size_t b)
{
	for (size_t i = 0; i < lab->n_guests; i++) {
		if (selected && !selected[i])
			continue;
		const struct lab_guest *g = &lab->guests[i];
		for (size_t k = 0; k < g->n_nets; k++)
			if (streq(g->nets[k].bridge, lab->bridges[b].name))
				return true;
	}
	return false;
}

static void plan_bridge(const struct lab *lab, const struct inventory *inv, size_t b,
			struct plan *p)
{
	const struct lab_bridge *br = &lab->bridges[b];
	const struct inv_bridge *ib = &inv->bridges[b];
	_cleanup_free_ char *file = xasprintf("%s/lab.cfg", lab->dir);

	if (ib->foreign) {
		lv_diag_add(&p->conflicts, file, br->line,
			    "bridge '%s' exists and was not made by lab '%s'", br->name, lab->name);
		return;
	}
	if (br->mode == BRIDGE_HOST) {
		if (!ib->exists)
			lv_diag_add(&p->conflicts, file, br->line,
				    "bridge '%s' does not exist on this host (mode host "
				    "attaches to an existing bridge)",
				    br->name);
		return;
	}
	if (!inv->network_driver) {
		if (!ib->exists)
			add_step(p, STEP_BRIDGE_CREATE, 0, 0, b);
		return;
	}
	if (!ib->exists)
		add_step(p, STEP_NETWORK_CREATE, 0, 0, b);
	else if (!ib->active)
		add_step(p, STEP_NETWORK_START, 0, 0, b);
}

/* STORAGE:vm-ID-disk-N: a volume that is there is used as it is, whoever made it
 * (Proxmox did, or a restore); a missing one is made empty at its size=. */
static void plan_named_volume(const struct lab *lab, const struct inventory *inv, size_t gi,
			      size_t d, struct plan *p)
{
	const struct lab_guest *g = &lab->guests[gi];
	const struct lab_disk *k = &g->disks[d];
	const char *fmt = k->path ? strrchr(k->path, '.') : NULL;
	const struct lab_storage *s = lab_find_storage(lab, k->storage);
	bool file = lab_storage_files(s);
	if (inv->vols[gi][d].exists)
		return;
	_cleanup_free_ char *path = lab_disk_path(lab, g, k);
	if (k->size == 0)
		lv_diag_add(&p->conflicts, g->file, k->line,
			    "%s: volume '%s' does not exist, and the line has no size= to make it",
			    k->key, path ? path : k->volume);
	else if (file && (!fmt || (!streq(fmt, ".qcow2") && !streq(fmt, ".raw"))))
		lv_diag_add(&p->conflicts, g->file, k->line,
			    "%s: volume '%s' does not exist, and labvirt makes only .qcow2 and "
			    ".raw files",
			    k->key, path ? path : k->volume);
	else
		add_step(p, STEP_VOLUME_CREATE, gi, d, 0);
}

static void plan_volumes(const struct lab *lab, const struct inventory *inv, size_t gi,
			 struct plan *p)
{
	const struct lab_guest *g = &lab->guests[gi];
	for (size_t d = 0; d < g->n_disks; d++) {
		if (!g->disks[d].allocate)
			continue;
		const struct inv_volume *v = &inv->vols[gi][d];
		const struct lab_disk *k = &g->disks[d];
		if (k->named) {
			plan_named_volume(lab, inv, gi, d, p);
			continue;
		}
		if (v->foreign) {
			_cleanup_free_ char *path = lab_disk_path(lab, g, &g->disks[d]);
			lv_diag_add(&p->conflicts, g->file, g->disks[d].line,
				    "%s: volume '%s' exists and was not made by lab '%s'",
				    g->disks[d].key, path, lab->name);
		} else if (!v->exists) {
			add_step(p, STEP_VOLUME_CREATE, gi, d, 0);
			if (plan_prepares(g, d))
				add_step(p, STEP_VOLUME_PREPARE, gi, d, 0);
		}
	}
}

static void plan_domain(const struct lab *lab, const struct inventory *inv, size_t gi,
			const char *stamp, struct plan *p)
{
	const struct lab_guest *g = &lab->guests[gi];
	const struct inv_domain *dom = &inv->doms[gi];

	if (dom->foreign) {
		if (dom->owner[0])
			lv_diag_add(&p->conflicts, g->file, 0,
				    "domain '%s' exists and belongs to lab '%s'", g->name,
				    dom->owner);
		else
			lv_diag_add(&p->conflicts, g->file, 0,
				    "domain '%s' exists and was not made by labvirt", g->name);
		return;
	}
	bool same = dom->state != DOM_ABSENT && dom->persistent && streq(dom->config, stamp);
	if (dom->state == DOM_ABSENT)
		add_step(p, STEP_DOMAIN_DEFINE, gi, 0, 0);
	else if (!same && dom->state == DOM_SHUTOFF)
		add_step(p, STEP_DOMAIN_REDEFINE, gi, 0, 0);
	else if (!same)
		add_step(p, STEP_RESTART_NEEDED, gi, 0, 0);

	/* a template (template: 1) is defined, never started: its disks are its clones'
	 * bases (labvirt clone), as on Proxmox */
	if ((dom->state == DOM_ABSENT || dom->state == DOM_SHUTOFF) && !g->template)
		add_step(p, STEP_DOMAIN_START, gi, 0, 0);
}

/* The config stamp is the value of the config="..." attribute. */
static void stamp_of(const char *xml, char ret[17])
{
	const char *s = strstr(xml, " config=\"");
	ret[0] = '\0';
	if (s && strlen(s) >= 9 + 16) {
		memcpy(ret, s + 9, 16);
		ret[16] = '\0';
	}
}

int plan_build(const struct lab *lab, const bool *selected, const struct inventory *inv,
	       enum lab_accel accel, struct plan **ret_plan, struct lv_error *err)
{
	struct plan *p = xcalloc(1, sizeof(*p));
	p->n_xml = lab->n_guests;
	p->xml = xcalloc(lab->n_guests, sizeof(*p->xml));

	plan_images(lab, selected, inv, p);
	for (size_t b = 0; b < lab->n_bridges; b++)
		if (bridge_used(lab, selected, b))
			plan_bridge(lab, inv, b, p);
	for (size_t i = 0; i < lab->n_guests; i++) {
		if (selected && !selected[i])
			continue;
		const struct lab_guest *g = &lab->guests[i];
		_cleanup_free_ char *as =
		    g->machine && inv->machines
			? render_machine_for_host(g->machine, inv->machines, inv->n_machines)
			: NULL;
		_cleanup_free_ char *want = g->machine ? render_machine_type(g->machine) : NULL;
		if (as && !streq(as, want))
			lv_diag_add(&p->notes, g->file, 0,
				    "machine '%s' is newer than this host's QEMU: %s runs as '%s'",
				    want, g->name, as);
		if (render_domain_as(lab, g, accel, as, &p->xml[i], err) < 0) {
			plan_free(p);
			return lv_prefix(err, "render '%s'", lab->guests[i].name);
		}
		char stamp[17];
		stamp_of(p->xml[i], stamp);
		plan_volumes(lab, inv, i, p);
		plan_domain(lab, inv, i, stamp, p);
	}
	*ret_plan = p;
	return 0;
}

size_t plan_changes(const struct plan *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_steps; i++)
		n += p->steps[i].op != STEP_RESTART_NEEDED;
	return n;
}

char *plan_step_describe(const struct lab *lab, const struct plan_step *s)
{
	const struct lab_guest *g = s->guest < lab->n_guests ? &lab->guests[s->guest] : NULL;
	const char *br = s->bridge < lab->n_bridges ? lab->bridges[s->bridge].name : "?";
	switch (s->op) {
	case STEP_IMAGE_FETCH: {
		const struct lab_image *im = &lab->images[s->image];
		return xasprintf("fetch image %s into %s", im->name, im->path ? im->path : "?");
	}
	case STEP_NETWORK_CREATE: {
		_cleanup_free_ char *net = lab_network_name(lab, &lab->bridges[s->bridge]);
		return xasprintf("create network %s (bridge %s, %s)", net, br,
				 lab_bridge_mode_name(lab->bridges[s->bridge].mode));
	}
	case STEP_NETWORK_START:
		return xasprintf("start network for bridge %s", br);
	case STEP_BRIDGE_CREATE:
		return xasprintf("create bridge %s", br);
	case STEP_VOLUME_CREATE: {
		_cleanup_free_ char *path = lab_disk_path(lab, g, &g->disks[s->disk]);
		return xasprintf("create volume %s for %s/%s", path, g->name,
				 g->disks[s->disk].key);
	}
	case STEP_VOLUME_PREPARE: {
		_cleanup_free_ char *path = lab_disk_path(lab, g, &g->disks[s->disk]);
		return xasprintf("prepare volume %s for %s/%s", path, g->name,
				 g->disks[s->disk].key);
	}
	case STEP_DOMAIN_DEFINE:
		return xasprintf("define domain %s", g->name);
	case STEP_DOMAIN_REDEFINE:
		return xasprintf("update domain %s (layout changed)", g->name);
	case STEP_DOMAIN_START:
		return xasprintf("start domain %s", g->name);
	case STEP_RESTART_NEEDED:
		return xasprintf("domain %s runs with an older layout: restart it to apply "
				 "(labvirt down %s && labvirt up %s)",
				 g->name, g->name, g->name);
	}
	return xstrdup("?");
}
