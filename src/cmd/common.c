/* common.c - loading the lab, connecting, selecting guests, the inventory. */
#include <string.h>

#include "cmd.h"
#include "storage.h"

int ctx_load(struct ctx *c, struct lv_error *err)
{
	if (c->lab)
		return 0;
	struct lv_diag diags = {0};
	if (lab_load(c->lab_dir, &c->lab, &diags) < 0) {
		for (size_t i = 0; i < diags.n; i++)
			fprintf(c->errout, "%s\n", diags.lines[i]);
		size_t n = diags.n;
		lv_diag_free(&diags);
		return lv_fail(err, LV_EXIT_USAGE, "layout '%s' has %zu error%s", c->lab_dir, n,
			       n == 1 ? "" : "s");
	}
	lv_diag_free(&diags);
	return 0;
}

/* A lab with containers also needs libvirt's LXC driver beside the QEMU one. */
int ctx_connect(struct ctx *c, struct lv_error *err)
{
	if (ctx_open(c, err) < 0)
		return -1;
	for (size_t i = 0; i < c->lab->n_guests; i++)
		if (c->lab->guests[i].kind == KIND_CT)
			return virt_open_lxc(c->virt, err);
	return 0;
}

int ctx_open(struct ctx *c, struct lv_error *err)
{
	if (ctx_load(c, err) < 0)
		return -1;
	if (c->virt)
		return 0;
	if (!c->state_dir && host_state_dir(&c->state_dir, err) < 0)
		return -1;
	const char *uri = c->uri ? c->uri : c->lab->uri;
	return virt_open(uri, c->state_dir, c->events, &c->virt, err);
}

void ctx_release(struct ctx *c)
{
	virt_close(c->virt);
	lab_free(c->lab);
	free(c->state_dir);
	c->virt = NULL, c->lab = NULL, c->state_dir = NULL;
}

enum lab_accel ctx_accel(struct ctx *c)
{
	return c->lab->accel != ACCEL_AUTO ? c->lab->accel : virt_best_accel(c->virt);
}

int ctx_select(struct ctx *c, int argc, char **argv, bool **ret_selected, struct lv_error *err)
{
	_cleanup_free_ bool *sel = xcalloc(c->lab->n_guests, sizeof(bool));
	for (size_t i = 0; i < c->lab->n_guests; i++)
		sel[i] = argc == 0;
	for (int a = 0; a < argc; a++) {
		struct lab_guest *g = lab_find_guest(c->lab, argv[a]);
		if (!g)
			return lv_fail(err, LV_EXIT_USAGE, "no guest '%s' in lab '%s'", argv[a],
				       c->lab->name);
		sel[g - c->lab->guests] = true;
	}
	*ret_selected = steal_pointer(&sel);
	return 0;
}

static void say_waiting(const char *holder, void *opaque)
{
	struct ctx *c = opaque;
	fprintf(c->errout, "labvirt: waiting for the lock of lab '%s', held by %s\n", c->lab->name,
		holder);
}

int ctx_lock(struct ctx *c, const char *what, struct host_lock **ret, struct lv_error *err)
{
	if (!c->state_dir && host_state_dir(&c->state_dir, err) < 0)
		return -1;
	return host_lock_lab(c->state_dir, c->lab->name, what, say_waiting, c, ret, err);
}

static int inventory_volumes(struct ctx *c, struct inventory *inv, struct lv_error *err)
{
	for (size_t i = 0; i < c->lab->n_guests; i++) {
		const struct lab_guest *g = &c->lab->guests[i];
		for (size_t d = 0; d < g->n_disks; d++) {
			if (!g->disks[d].allocate)
				continue;
			struct storage_vol v;
			storage_vol_init(&v, c->lab, g, &g->disks[d]);
			int rc = storage_query(&v, &inv->vols[i][d].exists,
					       &inv->vols[i][d].foreign, err);
			storage_vol_clear(&v);
			if (rc < 0)
				return -1;
		}
	}
	return 0;
}

/* A bridge is the lab's when its alias says so (labvirt made it), or when the
 * lab's libvirt network exists (libvirt made it for us). */
static void inventory_bridge(struct ctx *c, struct inventory *inv, size_t b)
{
	const struct lab_bridge *br = &c->lab->bridges[b];
	struct inv_bridge *ib = &inv->bridges[b];
	if (!virt_is_local(c->virt)) {
		ib->exists = ib->exists || br->mode == BRIDGE_HOST;
		return;
	}
	bool link = host_link_exists(br->name);
	if (br->mode == BRIDGE_HOST) {
		ib->exists = link && host_is_bridge(br->name);
		return;
	}
	if (inv->network_driver) {
		/* A bridge of that name that our network did not make is foreign. */
		ib->foreign = link && !(ib->exists && ib->active);
		return;
	}
	char alias[128];
	_cleanup_free_ char *mine = xasprintf("labvirt:%s", c->lab->name);
	ib->exists = link;
	ib->active = link;
	ib->foreign =
	    link && (host_link_alias(br->name, alias, sizeof(alias)) < 0 || !streq(alias, mine));
}

/* A guest names a versioned machine type (pc-q35-8.1): the host's list is
 * needed to run it on the newest of its family this QEMU has. */
static bool needs_machines(const struct lab *lab)
{
	for (size_t i = 0; i < lab->n_guests; i++) {
		const char *m = lab->guests[i].machine;
		if (m && (startswith(m, "pc-q35-") || startswith(m, "pc-i440fx-")))
			return true;
	}
	return false;
}

int ctx_inventory(struct ctx *c, struct inventory *inv, struct lv_error *err)
{
	if (virt_inventory(c->virt, c->lab, inv, err) < 0 || inventory_volumes(c, inv, err) < 0)
		return -1;
	if (needs_machines(c->lab) &&
	    virt_machine_types(c->virt, &inv->machines, &inv->n_machines, err) < 0)
		return -1;
	for (size_t b = 0; b < c->lab->n_bridges; b++)
		inventory_bridge(c, inv, b);
	return 0;
}

/* Takes the option at argv[i] (and its value); returns the index after it. */
static int take_option(int argc, char **argv, int i, const struct verb_opt *opts,
		       struct lv_error *err)
{
	const struct verb_opt *o = opts;
	size_t n = strcspn(argv[i], "=");
	while (o && o->name && !(strlen(o->name) == n && !strncmp(o->name, argv[i], n)))
		o++;
	if (!o || !o->name)
		return lv_fail(err, LV_EXIT_USAGE, "%s: unknown option '%s'", argv[0], argv[i]);
	if (o->flag) {
		if (argv[i][n])
			return lv_fail(err, LV_EXIT_USAGE, "%s: %s takes no value", argv[0],
				       o->name);
		*o->flag = true;
	} else if (argv[i][n]) {
		*o->value = argv[i] + n + 1;
	} else if (i + 1 < argc) {
		*o->value = argv[++i];
	} else {
		return lv_fail(err, LV_EXIT_USAGE, "%s: %s needs a value", argv[0], o->name);
	}
	return i + 1;
}

/* Options may come before, between or after the operands, as with GNU getopt:
 * the operands are moved, in their order, to the end of argv. "--" ends the
 * options; "-" is an operand. */
int verb_options(int argc, char **argv, const struct verb_opt *opts, struct lv_error *err)
{
	_cleanup_free_ char **operands = xcalloc(argc, sizeof(*operands));
	int n = 0, i = 1;
	while (i < argc && !streq(argv[i], "--")) {
		if (argv[i][0] != '-' || !argv[i][1])
			operands[n++] = argv[i++];
		else if ((i = take_option(argc, argv, i, opts, err)) < 0)
			return -1;
	}
	for (i += i < argc; i < argc; i++)
		operands[n++] = argv[i];
	memcpy(argv + argc - n, operands, n * sizeof(*operands));
	return argc - n;
}
