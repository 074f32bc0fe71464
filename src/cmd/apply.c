/* apply.c - carries out a plan: each step in order; when one fails, it undoes
 * in reverse order everything this run made, and names the step that failed. */
#include <string.h>

#include "apply.h"
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
}

int apply_plan(struct ctx *c, struct plan *p, struct lv_error *err)
{
	struct run r = {.c = c, .plan = p};
	int rc = apply(&r, err);
	run_free(&r);
	return rc;
}
