/* hooks.h - test hooks of `up`, read from the environment, that make a step
 * (named as `plan` prints it) fail, pause or die. Unset, they do nothing. */
#ifndef HOOKS_H
#define HOOKS_H

#include <stdio.h>

#include "lv.h"

/* LABVIRT_FAIL_STEP=STEP: the step fails ("injected fault"). */
bool hook_fail(const char *step);

/* LABVIRT_PAUSE_STEP=STEP and LABVIRT_PAUSE_FILE=F: before the step, says so
 * on errout and waits until F exists (a test stops the daemon meanwhile). */
void hook_pause(FILE *errout, const char *step);
/* LABVIRT_TRACE_FILE: appends "SECONDS STEP" (CLOCK_MONOTONIC) as each step begins,
 * so that a test sees the order and spacing of the steps the workers ran. */
void hook_trace(const char *step);

/* LABVIRT_KILL_STEP=STEP and LABVIRT_KILL_AT=before|during|after (default
 * after): labvirt raises SIGKILL on itself there. "during", with path1 (a dir
 * volume's temporary name): once the volume is complete under that name, just
 * before its rename; with only path2 (a volume's final name): in a thread, as
 * soon as it exists while the step goes on; with no path it is "before". */
enum hook_when { HOOK_BEFORE, HOOK_DURING, HOOK_AFTER };
void hook_kill(const char *step, enum hook_when when, const char *path1, const char *path2);

/* For a step that calls back in its middle (the preparation, once the first
 * disk is written): with LABVIRT_KILL_AT=during, a callback that raises
 * SIGKILL; otherwise NULL. */
void (*hook_kill_callback(const char *step))(void);

#endif
