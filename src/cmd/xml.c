/* xml.c - `labvirt xml GUEST` and `labvirt validate`: the layout alone. */
#include "cmd.h"
#include "render.h"

int cmd_xml(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	int first = verb_options(argc, argv, NULL, err);
	if (first < 0 || ctx_load(c, err) < 0)
		return -1;
	if (argc - first != 1)
		return lv_fail(err, LV_EXIT_USAGE, "xml: name one guest");
	const struct lab_guest *g = lab_find_guest(c->lab, argv[first]);
	if (!g)
		return lv_fail(err, LV_EXIT_USAGE, "no guest '%s' in lab '%s'", argv[first],
			       c->lab->name);
	/* Only a VM of an `accel auto` lab needs the hypervisor to say what it offers. */
	if (g->kind == KIND_VM && c->lab->accel == ACCEL_AUTO && ctx_open(c, err) < 0)
		return -1;
	_cleanup_free_ char *xml = NULL;
	enum lab_accel accel = g->kind == KIND_CT ? ACCEL_TCG : ctx_accel(c); /* CT: unused */
	if (render_domain(c->lab, g, accel, &xml, err) < 0)
		return -1;
	fputs(xml, c->out);
	return 0;
}

int cmd_validate(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	int first = verb_options(argc, argv, NULL, err);
	if (first < 0 || ctx_load(c, err) < 0)
		return -1;
	if (argc - first != 0)
		return lv_fail(err, LV_EXIT_USAGE, "validate takes no arguments");
	fprintf(c->out, "lab %s: %zu guest%s, %zu storage%s, %zu bridge%s: valid\n", c->lab->name,
		c->lab->n_guests, c->lab->n_guests == 1 ? "" : "s", c->lab->n_storages,
		c->lab->n_storages == 1 ? "" : "s", c->lab->n_bridges,
		c->lab->n_bridges == 1 ? "" : "s");
	return 0;
}
