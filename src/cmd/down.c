/* down.c - `labvirt down [--timeout S] [GUEST...]`: ACPI shutdown of the running
 * guests, in Proxmox's reverse startup order (all at once when no guest has an
 * order), then power off what is still running at the timeout. */
#include <errno.h>
#include <limits.h>
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

static long down_rank(const struct lab_guest *g)
{
	return g->startup_order >= 0 ? g->startup_order : LONG_MAX;
}

/* Shuts down names[0..n), then powers off what still runs at the timeout;
 * returns how many could not be stopped. */
static int stop_group(struct ctx *c, char **names, size_t n, int timeout, struct lv_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (virt_domain_shutdown(c->virt, names[i], err) < 0)
			fprintf(c->errout, "%s: %s (will power off)\n", names[i], err->msg);
	_cleanup_free_ bool *off = xcalloc(n + 1, sizeof(bool));
	if (n && virt_domains_wait_off(c->virt, names, n, timeout * 1000, off, err) < 0)
		return -1;
	int failed = 0;
	for (size_t i = 0; i < n; i++) {
		if (off[i]) {
			fprintf(c->out, "%s: shut down\n", names[i]);
		} else if (virt_domain_poweroff(c->virt, names[i], err) < 0) {
			fprintf(c->errout, "%s: %s\n", names[i], err->msg);
			failed++;
			continue;
		} else {
			fprintf(c->out, "%s: powered off after %d s\n", names[i], timeout);
		}
		/* a container's volumes mounted for it on the host */
		if (ct_unmount_volumes(c->lab, lab_find_guest(c->lab, names[i]), err) < 0) {
			fprintf(c->errout, "%s: %s\n", names[i], err->msg);
			failed++;
		}
	}
	return failed;
}

/* Proxmox's startup in reverse: guests without an order first, then the highest
 * order down to the lowest, each group shut down together and given the longest
 * down= of its guests (else --timeout) before it is powered off. */
static int stop_in_order(struct ctx *c, char **names, size_t n, int timeout, struct lv_error *err)
{
	_cleanup_free_ char **group = xcalloc(n + 1, sizeof(char *));
	_cleanup_free_ bool *done = xcalloc(n + 1, sizeof(bool));
	int failed = 0;
	for (size_t left = n; left > 0;) {
		long top = -1;
		for (size_t i = 0; i < n; i++) {
			long r = down_rank(lab_find_guest(c->lab, names[i]));
			if (!done[i] && r > top)
				top = r;
		}
		size_t k = 0;
		int wait = 0;
		for (size_t i = 0; i < n; i++) {
			const struct lab_guest *g = lab_find_guest(c->lab, names[i]);
			if (done[i] || down_rank(g) != top)
				continue;
			int t = g->startup_down >= 0 ? g->startup_down : timeout;
			wait = t > wait ? t : wait;
			group[k++] = names[i];
			done[i] = true;
		}
		int rc = stop_group(c, group, k, wait, err);
		if (rc < 0)
			return -1;
		failed += rc;
		left -= k;
	}
	return failed;
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
	int failed = stop_in_order(c, names, n, timeout, err);
	if (failed < 0)
		return -1;
	/* containers that were already off: their volumes' host mounts go too */
	for (size_t i = 0; i < c->lab->n_guests; i++) {
		const struct lab_guest *g = &c->lab->guests[i];
		bool stopped_here = false;
		for (size_t k = 0; k < n; k++)
			stopped_here = stopped_here || streq(names[k], g->name);
		if (sel[i] && !stopped_here && ct_unmount_volumes(c->lab, g, err) < 0) {
			fprintf(c->errout, "%s: %s\n", g->name, err->msg);
			failed++;
		}
	}
	if (failed)
		return lv_fail(err, LV_EXIT_FAIL, "down: %d guest%s could not be stopped", failed,
			       failed == 1 ? "" : "s");
	return 0;
}
