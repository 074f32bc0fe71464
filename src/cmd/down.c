/* down.c - `labvirt down [--timeout S] [GUEST...]`: ACPI shutdown of every
 * running guest at once, then power off what is still running at the timeout. */
#include <errno.h>
#include <string.h>

#include "cmd.h"

static int parse_timeout(const char *s, int *ret, struct lv_error *err)
{
	char *end;
	errno = 0;
	long v = s ? strtol(s, &end, 10) : 60;
	if (s && (errno || end == s || *end || v < 0 || v > 86400))
		return lv_fail(err, LV_EXIT_USAGE, "down: --timeout '%s' is not 0..86400 seconds",
			       s);
	*ret = (int)v;
	return 0;
}

/* Names of the selected guests that run and are ours. */
static int running_guests(struct ctx *c, const bool *sel, char ***ret, size_t *ret_n,
			  struct lv_error *err)
{
	char **names = xcalloc(c->lab->n_guests, sizeof(char *));
	size_t n = 0;
	for (size_t i = 0; i < c->lab->n_guests; i++) {
		const struct lab_guest *g = &c->lab->guests[i];
		struct inv_domain d;
		if (!sel[i])
			continue;
		if (virt_domain_query(c->virt, c->lab->name, g->name, &d, err) < 0) {
			free(names);
			return -1;
		}
		if (d.foreign)
			fprintf(c->errout, "%s: not this lab's domain: left alone\n", g->name);
		else if (d.state == DOM_RUNNING || d.state == DOM_PAUSED)
			names[n++] = g->name;
		else
			fprintf(c->out, "%s: %s\n", g->name,
				d.state == DOM_ABSENT ? "not created" : "already shut off");
	}
	*ret = names;
	*ret_n = n;
	return 0;
}

int cmd_down(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	const char *timeout_s = NULL;
	const struct verb_opt opts[] = {{"--timeout", NULL, &timeout_s}, {0}};
	int first = verb_options(argc, argv, opts, err), timeout = 60;
	_cleanup_(host_unlockp) struct host_lock *lock = NULL;
	_cleanup_free_ bool *sel = NULL;
	_cleanup_free_ char **names = NULL;
	size_t n;
	c->events = true;
	if (first < 0 || parse_timeout(timeout_s, &timeout, err) < 0 || ctx_connect(c, err) < 0 ||
	    ctx_select(c, argc - first, argv + first, &sel, err) < 0 ||
	    ctx_lock(c, "down", &lock, err) < 0 || running_guests(c, sel, &names, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (virt_domain_shutdown(c->virt, names[i], err) < 0)
			fprintf(c->errout, "%s: %s (will power off)\n", names[i], err->msg);
	_cleanup_free_ bool *off = xcalloc(n, sizeof(bool));
	if (n && virt_domains_wait_off(c->virt, names, n, timeout * 1000, off, err) < 0)
		return -1;
	int failed = 0;
	for (size_t i = 0; i < n; i++) {
		if (off[i]) {
			fprintf(c->out, "%s: shut down\n", names[i]);
		} else if (virt_domain_poweroff(c->virt, names[i], err) < 0) {
			fprintf(c->errout, "%s: %s\n", names[i], err->msg);
			failed++;
		} else {
			fprintf(c->out, "%s: powered off after %d s\n", names[i], timeout);
		}
	}
	if (failed)
		return lv_fail(err, LV_EXIT_FAIL, "down: %d guest%s could not be stopped", failed,
			       failed == 1 ? "" : "s");
	return 0;
}
