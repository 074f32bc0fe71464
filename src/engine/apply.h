/* apply.h - carrying out a plan of `up`. */
#ifndef APPLY_H
#define APPLY_H

#include "engine.h"

/* Applies every step of p in order, printing each on c->out. When a step
 * fails, undoes what this run did in reverse order (printing "undone: ..." on
 * c->errout) and fails with "up: STEP: why". p stays the caller's. */
int apply_plan(struct engine *c, struct plan *p, struct lv_error *err);

#endif
