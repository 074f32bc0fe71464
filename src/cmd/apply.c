/* apply.c - carries out a plan: bridges and networks first, then each guest's
 * steps in order, the guests side by side; when one fails, it undoes in reverse
 * plan order everything this run made, and names the step that failed. */
#include <pthread.h>
#include <string.h>

#include <time.h>

#include "apply.h"
#include "prepare.h"
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
	case STEP_IMAGE_FETCH:    /* done before the plan (fetch.c) */
	case STEP_VOLUME_PREPARE: /* done by prepare_phase */
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
	case STEP_IMAGE_FETCH:
	case STEP_VOLUME_PREPARE: /* undone with its volume */
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

static int run_step(struct run *r, size_t i, struct lv_error *err)
{
	const struct plan_step *s = &r->plan->steps[i];
	_cleanup_free_ char *what = plan_step_describe(r->c->lab, s);
	if (apply_step(r, s, &r->undo[r->n_undo], err) < 0) {
		free(r->undo[r->n_undo].old_xml);
		return lv_prefix(err, "up: %s", what);
	}
	r->n_undo++;
	fprintf(r->c->out, "%s%s\n", s->op == STEP_RESTART_NEEDED ? "note: " : "", what);
	return 0;
}

/* The disk labvirt prepares for first boot: a new volume made from an image
 * (the guest's first such disk) of a guest with cloud-init keys. */
static bool to_prepare(const struct lab *lab, const struct plan_step *s)
{
	return s->op == STEP_VOLUME_CREATE && plan_prepares(&lab->guests[s->guest], s->disk);
}

/* Creates the volumes to prepare ahead of the other steps and prepares them
 * all in one libguestfs appliance launch, before any guest starts. A failure
 * is undone like any step: the new volumes are removed. */
static int prepare_phase(struct run *r, bool *done, struct lv_error *err)
{
	const struct lab *lab = r->c->lab;
	_cleanup_free_ struct prepare_disk *disks = xcalloc(r->plan->n_steps, sizeof(*disks));
	_cleanup_free_ char **paths = xcalloc(r->plan->n_steps, sizeof(*paths));
	_cleanup_free_ const char **keys = xcalloc(r->plan->n_steps, sizeof(*keys));
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; i < r->plan->n_steps && rc == 0; i++) {
		const struct plan_step *s = &r->plan->steps[i];
		done[i] = s->op == STEP_IMAGE_FETCH || s->op == STEP_VOLUME_PREPARE;
		if (!to_prepare(lab, s))
			continue;
		rc = run_step(r, i, err);
		done[i] = true;
		paths[n] = lab_disk_path(lab, &lab->guests[s->guest],
					 &lab->guests[s->guest].disks[s->disk]);
		keys[n] = lab->guests[s->guest].disks[s->disk].key;
		disks[n] = (struct prepare_disk){
		    .lab = lab, .g = &lab->guests[s->guest], .path = paths[n]};
		n++;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (rc == 0 && n)
		rc = prepare_disks(disks, n, ctx_accel(r->c) == ACCEL_TCG, err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	size_t prepared = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		prepared += !disks[i].skipped;
		fprintf(r->c->out, "prepare volume %s for %s/%s (%s)\n", disks[i].path,
			disks[i].g->name, keys[i],
			disks[i].skipped ? "prepared before" : disks[i].os);
	}
	if (rc == 0 && prepared)
		fprintf(r->c->out, "prepared %zu disk%s in one libguestfs launch (%.1f s)\n",
			prepared, prepared == 1 ? "" : "s",
			(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	if (rc < 0 && n && !strstr(err->msg, "up: "))
		lv_prefix(err, "up: prepare");
	return rc;
}

/* Bridges and networks come first: every guest needs them. */
static bool is_shared(const struct plan_step *s)
{
	return s->op == STEP_NETWORK_CREATE || s->op == STEP_NETWORK_START ||
	       s->op == STEP_BRIDGE_CREATE;
}

/* The other steps run as one chain per guest (its volumes, define, start),
 * the chains side by side: most of `up` is waiting for QEMU to start, and
 * libvirt's connection serves several threads at once. A chain stops at its
 * first failure; the others finish theirs, so that what was done, printed and
 * recorded for undo in plan order, does not depend on which guest was quicker. */
#define APPLY_WORKERS 8

struct chain {
	size_t *steps; /* plan indices, in plan order */
	size_t n, n_done;
	struct undo *undo; /* [n] */
	struct lv_error err;
	bool failed;
};

struct pool {
	struct run *r;
	struct chain *chains;
	size_t n, next;
	pthread_mutex_t lock;
};

static void chain_run(struct pool *p, struct chain *ch)
{
	for (; ch->n_done < ch->n; ch->n_done++) {
		const struct plan_step *s = &p->r->plan->steps[ch->steps[ch->n_done]];
		if (apply_step(p->r, s, &ch->undo[ch->n_done], &ch->err) == 0)
			continue;
		free(ch->undo[ch->n_done].old_xml);
		_cleanup_free_ char *what = plan_step_describe(p->r->c->lab, s);
		lv_prefix(&ch->err, "up: %s", what);
		ch->failed = true;
		return;
	}
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		size_t i = p->next < p->n ? p->next++ : p->n;
		pthread_mutex_unlock(&p->lock);
		if (i == p->n)
			return NULL;
		chain_run(p, &p->chains[i]);
	}
}

/* Splits the steps not done yet into chains, one per guest. */
static size_t make_chains(struct run *r, const bool *done, struct chain *chains)
{
	size_t n = 0, last = (size_t)-1;
	for (size_t i = 0; i < r->plan->n_steps; i++) {
		if (done[i] || is_shared(&r->plan->steps[i]))
			continue;
		if (n == 0 || r->plan->steps[i].guest != last) {
			chains[n].steps = xcalloc(r->plan->n_steps, sizeof(size_t));
			chains[n].undo = xcalloc(r->plan->n_steps, sizeof(struct undo));
			last = r->plan->steps[i].guest;
			n++;
		}
		chains[n - 1].steps[chains[n - 1].n++] = i;
	}
	return n;
}

static int apply_guests(struct run *r, const bool *done, struct lv_error *err)
{
	_cleanup_free_ struct chain *chains = xcalloc(r->plan->n_steps, sizeof(*chains));
	struct pool p = {.r = r, .chains = chains, .lock = PTHREAD_MUTEX_INITIALIZER};
	p.n = make_chains(r, done, chains);
	pthread_t t[APPLY_WORKERS];
	size_t n_threads = 0;
	while (p.n > 1 && n_threads < APPLY_WORKERS && n_threads < p.n &&
	       pthread_create(&t[n_threads], NULL, worker, &p) == 0)
		n_threads++;
	worker(&p); /* this thread works too (alone for a single guest) */
	for (size_t k = 0; k < n_threads; k++)
		pthread_join(t[k], NULL);
	int rc = 0;
	for (size_t k = 0; k < p.n; k++) {
		for (size_t j = 0; j < chains[k].n_done; j++) {
			const struct plan_step *s = &r->plan->steps[chains[k].steps[j]];
			_cleanup_free_ char *what = plan_step_describe(r->c->lab, s);
			r->undo[r->n_undo++] = chains[k].undo[j];
			fprintf(r->c->out, "%s%s\n", s->op == STEP_RESTART_NEEDED ? "note: " : "",
				what);
		}
		if (chains[k].failed && rc == 0) {
			if (err)
				*err = chains[k].err;
			rc = -1;
		}
		free(chains[k].steps);
		free(chains[k].undo);
	}
	return rc;
}

static int apply(struct run *r, struct lv_error *err)
{
	r->undo = xcalloc(r->plan->n_steps, sizeof(*r->undo));
	_cleanup_free_ bool *done = xcalloc(r->plan->n_steps, sizeof(bool));
	int rc = prepare_phase(r, done, err);
	for (size_t i = 0; i < r->plan->n_steps && rc == 0; i++)
		rc = done[i] || !is_shared(&r->plan->steps[i]) ? 0 : run_step(r, i, err);
	if (rc == 0)
		rc = apply_guests(r, done, err);
	if (rc < 0)
		while (r->n_undo > 0)
			undo_step(r, &r->undo[--r->n_undo]);
	return rc;
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
