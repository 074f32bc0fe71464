/* hooks.h - the engine's test hooks: what a test injects (struct engine's
 * hooks) to make a step, named as `plan` prints it, fail, pause, trace or
 * die. The engine calls them through hook_*(); with none, it runs as if they
 * were not there. `up` reads them from the environment (src/cmd/hooks_env.c). */
#ifndef HOOKS_H
#define HOOKS_H

#include <stdio.h>

#include "lv.h"

/* Where in a step a kill happens. "during", with path1 (a dir volume's
 * temporary name): once the volume is complete under that name, just before
 * its rename; with only path2 (a volume's final name): as soon as it exists
 * while the step goes on; with no path it is "before". */
enum hook_when { HOOK_BEFORE, HOOK_DURING, HOOK_AFTER };

struct engine_hooks {
	/* Whether the step fails ("injected fault"). */
	bool (*fail)(void *ctx, const char *step);
	/* Before the step: may wait, saying so on errout (a test stops the daemon meanwhile). */
	void (*pause)(void *ctx, FILE *errout, const char *step);
	/* As each step begins: the order and spacing of the steps the workers ran. */
	void (*trace)(void *ctx, const char *step);
	/* At when in the step: may end the process. */
	void (*kill)(void *ctx, const char *step, enum hook_when when, const char *path1,
		     const char *path2);
	/* For a step that calls back in its middle (the preparation, once the first
	 * disk is written): a callback that may end the process, or NULL. */
	void (*(*kill_callback)(void *ctx, const char *step))(void);
	void *ctx;
};

static inline bool hook_fail(const struct engine_hooks *h, const char *step)
{
	return h && h->fail && h->fail(h->ctx, step);
}

static inline void hook_pause(const struct engine_hooks *h, FILE *errout, const char *step)
{
	if (h && h->pause)
		h->pause(h->ctx, errout, step);
}

static inline void hook_trace(const struct engine_hooks *h, const char *step)
{
	if (h && h->trace)
		h->trace(h->ctx, step);
}

static inline void hook_kill(const struct engine_hooks *h, const char *step, enum hook_when when,
			     const char *path1, const char *path2)
{
	if (h && h->kill)
		h->kill(h->ctx, step, when, path1, path2);
}

static inline void (*hook_kill_callback(const struct engine_hooks *h, const char *step))(void)
{
	return h && h->kill_callback ? h->kill_callback(h->ctx, step) : NULL;
}

#endif
