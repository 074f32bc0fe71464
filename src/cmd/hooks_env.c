/* hooks_env.c - the test hooks of `up` (src/engine/hooks.h), read once from
 * the environment. Unset, there are none.
 *
 * LABVIRT_FAIL_STEP=STEP: the step fails ("injected fault").
 * LABVIRT_PAUSE_STEP=STEP and LABVIRT_PAUSE_FILE=F: before the step, says so
 * on errout and waits until F exists (a test stops the daemon meanwhile).
 * LABVIRT_TRACE_FILE: appends "SECONDS STEP" (CLOCK_MONOTONIC) as each step
 * begins, so that a test sees the order and spacing of the steps the workers ran.
 * LABVIRT_KILL_STEP=STEP and LABVIRT_KILL_AT=before|during|after (default
 * after): labvirt raises SIGKILL on itself there (enum hook_when). */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "cmd.h"
#include "storage.h"

static bool is(const char *value, const char *step)
{
	return value && streq(value, step);
}

static bool env_fail(void *ctx, const char *step)
{
	const struct env_hooks *env = ctx;
	return is(env->fail_step, step);
}

static void env_pause(void *ctx, FILE *errout, const char *step)
{
	const struct env_hooks *env = ctx;
	const char *file = env->pause_file;
	if (!is(env->pause_step, step) || !file)
		return;
	fprintf(errout, "labvirt: paused before '%s' until %s exists (test hook)\n", step, file);
	fflush(errout);
	struct timespec tick = {0, 50 * 1000000L};
	while (access(file, F_OK) < 0)
		nanosleep(&tick, NULL);
}

static void env_trace(void *ctx, const char *step)
{
	const struct env_hooks *env = ctx;
	const char *file = env->trace_file;
	struct timespec now;
	char line[512];
	if (!file)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int n = snprintf(line, sizeof(line), "%lld.%03ld %s\n", (long long)now.tv_sec,
			 now.tv_nsec / 1000000, step);
	/* One write to an O_APPEND file: lines of several threads do not mix. */
	int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)n) < 0) {
		/* a test hook: the test sees the line missing */
	}
	close(fd);
}

static void *kill_when_there(void *arg)
{
	char **paths = arg; /* read until the process dies: never freed */
	struct timespec tick = {0, 1000000L};
	for (;;) {
		for (size_t i = 0; i < 2; i++)
			if (paths[i] && access(paths[i], F_OK) == 0)
				raise(SIGKILL);
		nanosleep(&tick, NULL);
	}
	return NULL;
}

/* The temporary path of the volume to be killed under (the dir backend calls
 * back just before the rename: no race with a volume written in
 * microseconds). Global: storage_before_rename takes no context. */
static char *kill_temp;

static void kill_if_temp(const char *tmp)
{
	if (kill_temp && streq(tmp, kill_temp))
		raise(SIGKILL);
}

static bool kill_armed(const struct env_hooks *env, const char *step, enum hook_when when)
{
	static const char *const names[] = {
	    [HOOK_BEFORE] = "before", [HOOK_DURING] = "during", [HOOK_AFTER] = "after"};
	const char *at = env->kill_at;
	return is(env->kill_step, step) && streq(at ? at : "after", names[when]);
}

static void kill_now(void)
{
	raise(SIGKILL);
}

static void (*env_kill_callback(void *ctx, const char *step))(void)
{
	return kill_armed(ctx, step, HOOK_DURING) ? kill_now : NULL;
}

static void env_kill(void *ctx, const char *step, enum hook_when when, const char *path1,
		     const char *path2)
{
	if (!kill_armed(ctx, step, when))
		return;
	if (when != HOOK_DURING || (!path1 && !path2))
		raise(SIGKILL);
	if (path1) {
		kill_temp = xstrdup(path1); /* kept until the process dies */
		storage_before_rename = kill_if_temp;
		return;
	}
	char **paths = xcalloc(2, sizeof(char *));
	paths[0] = path1 ? xstrdup(path1) : NULL;
	paths[1] = path2 ? xstrdup(path2) : NULL;
	pthread_t t;
	if (pthread_create(&t, NULL, kill_when_there, paths) != 0)
		raise(SIGKILL);
	pthread_detach(t);
}

/* A variable's value, or NULL when it is unset or empty. */
static const char *env_get(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

const struct engine_hooks *env_hooks_read(struct env_hooks *ret)
{
	*ret = (struct env_hooks){
	    .fail_step = env_get("LABVIRT_FAIL_STEP"),
	    .pause_step = env_get("LABVIRT_PAUSE_STEP"),
	    .pause_file = env_get("LABVIRT_PAUSE_FILE"),
	    .trace_file = env_get("LABVIRT_TRACE_FILE"),
	    .kill_step = env_get("LABVIRT_KILL_STEP"),
	    .kill_at = env_get("LABVIRT_KILL_AT"),
	};
	if (!ret->fail_step && !ret->pause_step && !ret->trace_file && !ret->kill_step)
		return NULL;
	ret->hooks = (struct engine_hooks){
	    .fail = env_fail,
	    .pause = env_pause,
	    .trace = env_trace,
	    .kill = env_kill,
	    .kill_callback = env_kill_callback,
	    .ctx = ret,
	};
	return &ret->hooks;
}
