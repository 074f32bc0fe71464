/* up.c - `labvirt up` and `labvirt plan`: compare the lab with what exists,
 * then (up) apply the difference. A failed step undoes, in reverse order,
 * everything this run made. */
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "render.h"
#include "storage.h"

/* What one applied step left behind, and how to take it back. */
struct undo {
	struct plan_step step;
	char *old_xml; /* STEP_DOMAIN_REDEFINE: the definition it replaced */
};

struct run {
	struct ctx *c;
	struct plan *plan;
	struct undo *undo;
	size_t n_undo;
};

static int check_file(struct ctx *c, const struct lab_guest *g, const char *what, const char *path,
		      const char *hint)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		return 0;
	fprintf(c->errout, "%s: %s '%s' is missing: %s\n", g->name, what, path, hint);
	return 1;
}

/* Files a guest needs that labvirt does not make: each missing one is named,
 * with where to put it. Returns how many are missing. */
static int missing_files(struct ctx *c, const struct lab_guest *g)
{
	int n = 0;
	for (size_t d = 0; d < g->n_disks; d++) {
		const struct lab_disk *k = &g->disks[d];
		_cleanup_free_ char *path = lab_disk_path(c->lab, g, k);
		_cleanup_free_ char *what = xasprintf("%s: %s", k->key,
						      k->import_from ? "import-from image"
						      : k->media == MEDIA_CDROM ? "ISO"
										: "disk image");
		if (k->import_from)
			n += check_file(c, g, what, k->import_from,
					"put the image there or change import-from=");
		else if (!k->allocate && path)
			n += check_file(
			    c, g, what, path,
			    "download it and put it there (README: \"Operating systems\")");
	}
	if (g->kernel)
		n += check_file(c, g, "kernel", g->kernel, "put the kernel there");
	if (g->initrd)
		n += check_file(c, g, "initrd", g->initrd, "put the initrd there");
	return n;
}

static int apply_step(struct run *r, const struct plan_step *s, struct undo *u,
		      struct lv_error *err)
{
	struct ctx *c = r->c;
	const struct lab *lab = c->lab;
	const struct lab_guest *g = &lab->guests[s->guest];
	const struct lab_bridge *br = &lab->bridges[s->bridge];
	*u = (struct undo){.step = *s};

	const char *fault = getenv("LABVIRT_FAIL_STEP"); /* fault injection for tests */
	if (fault && *fault) {
		_cleanup_free_ char *what = plan_step_describe(lab, s);
		if (streq(fault, what))
			return lv_fail(err, LV_EXIT_FAIL, "injected fault");
	}
	switch (s->op) {
	case STEP_NETWORK_CREATE: {
		_cleanup_free_ char *xml = NULL;
		if (render_network(lab, br, &xml, err) < 0)
			return -1;
		return virt_network_create(c->virt, xml, err);
	}
	case STEP_NETWORK_START: {
		_cleanup_free_ char *name = lab_network_name(lab, br);
		return virt_network_start(c->virt, name, err);
	}
	case STEP_BRIDGE_CREATE: {
		_cleanup_free_ char *alias = xasprintf("labvirt:%s", lab->name);
		return host_bridge_create(br->name, alias, br->address, err);
	}
	case STEP_VOLUME_CREATE: {
		struct storage_vol v;
		storage_vol_init(&v, lab, g, &g->disks[s->disk]);
		int rc = storage_create(&v, err);
		storage_vol_clear(&v);
		return rc;
	}
	case STEP_DOMAIN_REDEFINE:
		if (virt_domain_xml(c->virt, g->name, &u->old_xml, err) < 0)
			return -1;
		/* fall through */
	case STEP_DOMAIN_DEFINE:
		return virt_domain_define(c->virt, r->plan->xml[s->guest], g->onboot, err);
	case STEP_DOMAIN_START:
		return virt_domain_start(c->virt, g->name, err);
	case STEP_RESTART_NEEDED:
		return 0;
	}
	return 0;
}

static void undo_step(struct run *r, struct undo *u)
{
	struct ctx *c = r->c;
	const struct lab *lab = c->lab;
	const struct plan_step *s = &u->step;
	const struct lab_guest *g = &lab->guests[s->guest];
	struct lv_error err = {0};
	int rc = 0;
	switch (s->op) {
	case STEP_NETWORK_CREATE: {
		_cleanup_free_ char *name = lab_network_name(lab, &lab->bridges[s->bridge]);
		rc = virt_network_remove(c->virt, name, &err);
		break;
	}
	case STEP_BRIDGE_CREATE:
		rc = host_bridge_delete(lab->bridges[s->bridge].name, &err);
		break;
	case STEP_VOLUME_CREATE: {
		struct storage_vol v;
		storage_vol_init(&v, lab, g, &g->disks[s->disk]);
		rc = storage_remove(&v, &err);
		storage_vol_clear(&v);
		break;
	}
	case STEP_DOMAIN_DEFINE:
		rc = virt_domain_undefine(c->virt, g->name, &err);
		break;
	case STEP_DOMAIN_REDEFINE:
		rc = virt_domain_define(c->virt, u->old_xml, false, &err);
		break;
	case STEP_DOMAIN_START:
		rc = virt_domain_poweroff(c->virt, g->name, &err);
		break;
	case STEP_NETWORK_START:
	case STEP_RESTART_NEEDED:
		break;
	}
	_cleanup_free_ char *what = plan_step_describe(lab, s);
	if (rc < 0)
		fprintf(c->errout, "labvirt: cannot undo '%s': %s\n", what, err.msg);
	else if (s->op != STEP_NETWORK_START && s->op != STEP_RESTART_NEEDED)
		fprintf(c->errout, "undone: %s\n", what);
}

static int apply(struct run *r, struct lv_error *err)
{
	r->undo = xcalloc(r->plan->n_steps, sizeof(*r->undo));
	for (size_t i = 0; i < r->plan->n_steps; i++) {
		const struct plan_step *s = &r->plan->steps[i];
		_cleanup_free_ char *what = plan_step_describe(r->c->lab, s);
		if (apply_step(r, s, &r->undo[r->n_undo], err) < 0) {
			free(r->undo[r->n_undo].old_xml);
			lv_prefix(err, "up: %s", what);
			while (r->n_undo > 0)
				undo_step(r, &r->undo[--r->n_undo]);
			return -1;
		}
		r->n_undo++;
		fprintf(r->c->out, "%s%s\n", s->op == STEP_RESTART_NEEDED ? "note: " : "", what);
	}
	return 0;
}

static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->n_undo; i++)
		free(r->undo[i].old_xml);
	free(r->undo);
	plan_free(r->plan);
}

/* Builds the plan for the selected guests; conflicts are printed and fail. */
static int make_plan(struct ctx *c, int argc, char **argv, struct plan **ret, struct lv_error *err)
{
	_cleanup_free_ bool *sel = NULL;
	_cleanup_(inventory_freep) struct inventory *inv = NULL;
	if (ctx_connect(c, err) < 0 || ctx_select(c, argc, argv, &sel, err) < 0)
		return -1;
	inv = inventory_new(c->lab);
	if (ctx_inventory(c, inv, err) < 0)
		return -1;
	struct plan *p = NULL;
	if (plan_build(c->lab, sel, inv, ctx_accel(c), &p, err) < 0)
		return -1;
	if (p->conflicts.n) {
		for (size_t i = 0; i < p->conflicts.n; i++)
			fprintf(c->errout, "%s\n", p->conflicts.lines[i]);
		size_t n = p->conflicts.n;
		plan_free(p);
		return lv_fail(err, LV_EXIT_USAGE,
			       "the layout conflicts with this host (%zu problem%s)", n,
			       n == 1 ? "" : "s");
	}
	int missing = 0;
	for (size_t i = 0; i < c->lab->n_guests; i++)
		missing += sel[i] ? missing_files(c, &c->lab->guests[i]) : 0;
	if (missing) {
		plan_free(p);
		return lv_fail(err, LV_EXIT_FAIL, "%d file%s the lab needs %s missing", missing,
			       missing == 1 ? "" : "s", missing == 1 ? "is" : "are");
	}
	*ret = p;
	return 0;
}

static size_t running_count(struct ctx *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->lab->n_guests; i++) {
		struct inv_domain d;
		if (virt_domain_query(c->virt, c->lab->name, c->lab->guests[i].name, &d, NULL) ==
			0 &&
		    d.state == DOM_RUNNING)
			n++;
	}
	return n;
}

int cmd_up(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	int first = verb_options(argc, argv, NULL, err);
	_cleanup_(host_unlockp) struct host_lock *lock = NULL;
	struct run r = {.c = c};
	if (first < 0 || ctx_load(c, err) < 0 || ctx_lock(c, "up", &lock, err) < 0 ||
	    make_plan(c, argc - first, argv + first, &r.plan, err) < 0)
		return -1;
	int rc = 0;
	if (plan_changes(r.plan) == 0) {
		for (size_t i = 0; i < r.plan->n_steps; i++) {
			_cleanup_free_ char *what = plan_step_describe(c->lab, &r.plan->steps[i]);
			fprintf(c->out, "note: %s\n", what);
		}
		fprintf(c->out, "lab %s: nothing to do (%zu of %zu guests running)\n", c->lab->name,
			running_count(c), c->lab->n_guests);
	} else if ((rc = apply(&r, err)) == 0) {
		fprintf(c->out, "lab %s is up: %zu of %zu guests running\n", c->lab->name,
			running_count(c), c->lab->n_guests);
	}
	run_free(&r);
	return rc;
}

int cmd_plan(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	int first = verb_options(argc, argv, NULL, err);
	_cleanup_(plan_freep) struct plan *p = NULL;
	if (first < 0 || make_plan(c, argc - first, argv + first, &p, err) < 0)
		return -1;
	for (size_t i = 0; i < p->n_steps; i++) {
		_cleanup_free_ char *what = plan_step_describe(c->lab, &p->steps[i]);
		fprintf(c->out, "%s %s\n", p->steps[i].op == STEP_RESTART_NEEDED ? "!" : "+", what);
	}
	size_t n = plan_changes(p);
	if (n == 0)
		fprintf(c->out, "lab %s: nothing to do\n", c->lab->name);
	else
		fprintf(c->out, "lab %s: %zu change%s\n", c->lab->name, n, n == 1 ? "" : "s");
	return 0;
}
