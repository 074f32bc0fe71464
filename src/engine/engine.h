/* engine.h - the engine of `up` (and of `destroy`'s recovery): what it works
 * on, handed to it by the command that runs it. Like libcrun under crun's
 * verbs, it knows nothing of argv; it says what it does on out and errout. */
#ifndef ENGINE_H
#define ENGINE_H

#include <stdio.h>

#include "hooks.h"
#include "plan.h"
#include "virt.h"

struct engine {
	struct lab *lab;
	struct virt *virt;
	const char *state_dir; /* the intent journal's directory */
	FILE *out, *errout;
	const struct engine_hooks *hooks; /* test hooks, or NULL */
};

/* efidisk0's file is libvirt's <nvram>, made by libvirt from OVMF's template at the
 * first start. efidisk_exists: it is there; efidisk_claim: tags it as labvirt's
 * (after a start that made it); efidisk_keep: it is there and not labvirt's (a
 * restored volume), so libvirt must not remove it with the domain. */
bool efidisk_exists(const struct lab *lab, const struct lab_guest *g);
void efidisk_claim(const struct lab *lab, const struct lab_guest *g);
bool efidisk_keep(const struct lab *lab, const struct lab_guest *g);

/* Before anything is created (preflight.c): names each file the selected
 * guests need that labvirt does not make and is missing, then has each storage
 * check the volumes the plan makes on it (its warnings are printed). */
int preflight_check(const struct engine *c, const bool *selected, const struct plan *p,
		    struct lv_error *err);

#endif
