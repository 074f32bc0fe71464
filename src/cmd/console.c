/* console.c - `labvirt console GUEST`: the serial console, through libvirt. */
#include "cmd.h"

int cmd_console(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	int first = verb_options(argc, argv, NULL, err);
	c->events = true;
	if (first < 0 || ctx_connect(c, err) < 0)
		return -1;
	if (argc - first != 1)
		return lv_fail(err, LV_EXIT_USAGE, "console: name one guest");
	const struct lab_guest *g = lab_find_guest(c->lab, argv[first]);
	if (!g)
		return lv_fail(err, LV_EXIT_USAGE, "no guest '%s' in lab '%s'", argv[first],
			       c->lab->name);
	struct inv_domain d;
	if (virt_domain_query(c->virt, c->lab->name, g->name, &d, err) < 0)
		return -1;
	if (d.state == DOM_ABSENT || d.foreign)
		return lv_fail(err, LV_EXIT_FAIL,
			       "console: guest '%s' is not created: run 'labvirt up %s'", g->name,
			       g->name);
	if (d.state != DOM_RUNNING && d.state != DOM_PAUSED)
		return lv_fail(err, LV_EXIT_FAIL, "console: guest '%s' is not running", g->name);
	bool tty = isatty(0);
	if (tty)
		fprintf(c->errout, "Connected to %s (Ctrl-] leaves)\r\n", g->name);
	fflush(c->out);
	int rc = virt_console(c->virt, g->name, 0, 1, tty, err);
	if (tty)
		fprintf(c->errout, "\r\n");
	return rc;
}
