/* up.c - `labvirt up` and `labvirt plan`: compare the lab with what exists,
 * then (up) apply the difference. A failed step undoes, in reverse order,
 * everything this run made. */
#include "apply.h"
#include "cmd.h"
#include "fetch.h"
#include "intent.h"

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
	for (size_t m = 0; m < c->lab->n_images; m++) /* `up` has fetched them by now */
		inv->image_missing[m] = !fetch_present(&c->lab->images[m]);
	struct plan *p = NULL;
	if (plan_build(c->lab, sel, inv, ctx_accel(c), &p, err) < 0)
		return -1;
	for (size_t i = 0; i < p->notes.n; i++)
		fprintf(c->errout, "note: %s\n", p->notes.lines[i]);
	if (p->conflicts.n) {
		for (size_t i = 0; i < p->conflicts.n; i++)
			fprintf(c->errout, "%s\n", p->conflicts.lines[i]);
		size_t n = p->conflicts.n;
		plan_free(p);
		return lv_fail(err, LV_EXIT_USAGE,
			       "the layout conflicts with this host (%zu problem%s)", n,
			       n == 1 ? "" : "s");
	}
	struct engine eng = ctx_engine(c);
	if (preflight_check(&eng, sel, p, err) < 0) {
		plan_free(p);
		return -1;
	}
	*ret = p;
	return 0;
}

static size_t running_count(struct ctx *c)
{
	_cleanup_free_ bool *running = xcalloc(c->lab->n_guests, sizeof(bool));
	size_t n = 0;
	if (virt_running(c->virt, c->lab, running, NULL) == 0)
		for (size_t i = 0; i < c->lab->n_guests; i++)
			n += running[i];
	return n;
}

/* up --wait [--timeout S]: each started guest has an address, or its agent answers. */
static int up_wait(struct ctx *c, const char *timeout_s, int argc, char **argv,
		   struct lv_error *err)
{
	char *end;
	long timeout = timeout_s ? strtol(timeout_s, &end, 10) : 300;
	if (timeout_s && (!*timeout_s || *end || timeout < 1 || timeout > 86400))
		return lv_fail(err, LV_EXIT_USAGE, "up: --timeout '%s' is not 1..86400 seconds",
			       timeout_s);
	_cleanup_free_ bool *sel = NULL;
	if (ctx_select(c, argc, argv, &sel, err) < 0)
		return -1;
	return ctx_wait_addresses(c, sel, (int)timeout, err);
}

int cmd_up(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	bool wait = false;
	const char *timeout = NULL;
	const struct verb_opt opts[] = {
	    {"--wait", &wait, NULL}, {"--timeout", NULL, &timeout}, {0}};
	int first = verb_options(argc, argv, opts, err);
	_cleanup_(host_unlockp) struct host_lock *lock = NULL;
	_cleanup_(plan_freep) struct plan *p = NULL;
	if (first >= 0 && timeout && !wait)
		return lv_fail(err, LV_EXIT_USAGE, "up: --timeout goes with --wait");
	c->events = wait;
	if (first < 0 || ctx_load(c, err) < 0 || ctx_lock(c, "up", &lock, err) < 0 ||
	    ctx_connect(c, err) < 0)
		return -1;
	struct env_hooks env;
	struct engine eng = ctx_engine(c);
	eng.hooks = env_hooks_read(&env);
	if (intent_recover(&eng, false, NULL, err) < 0 ||
	    fetch_selected(c, argc - first, argv + first, err) < 0 ||
	    make_plan(c, argc - first, argv + first, &p, err) < 0)
		return -1;
	if (plan_changes(p) == 0) {
		for (size_t i = 0; i < p->n_steps; i++) {
			_cleanup_free_ char *what = plan_step_describe(c->lab, &p->steps[i]);
			fprintf(c->out, "note: %s\n", what);
		}
		fprintf(c->out, "lab %s: nothing to do (%zu of %zu guests running)\n", c->lab->name,
			running_count(c), c->lab->n_guests);
		return wait ? up_wait(c, timeout, argc - first, argv + first, err) : 0;
	}
	if (apply_plan(&eng, p, err) < 0)
		return -1;
	fprintf(c->out, "lab %s is up: %zu of %zu guests running\n", c->lab->name, running_count(c),
		c->lab->n_guests);
	return wait ? up_wait(c, timeout, argc - first, argv + first, err) : 0;
}

int cmd_plan(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	int first = verb_options(argc, argv, NULL, err);
	_cleanup_(plan_freep) struct plan *p = NULL;
	if (first < 0 || make_plan(c, argc - first, argv + first, &p, err) < 0)
		return -1;
	int pid;
	size_t open;
	struct engine eng = ctx_engine(c);
	int pending = intent_pending(&eng, &pid, &open, err);
	if (pending < 0)
		return -1;
	if (pending)
		fprintf(c->out,
			"! run %d of lab %s was interrupted (%zu step%s not finished): up first "
			"removes what it left half-made\n",
			pid, c->lab->name, open, open == 1 ? "" : "s");
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
