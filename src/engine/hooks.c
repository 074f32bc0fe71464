/* hooks.c - the test hooks of `up` (hooks.h). */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "hooks.h"
#include "storage.h"

static bool env_is(const char *var, const char *value)
{
	const char *v = getenv(var);
	return v && *v && streq(v, value);
}

bool hook_fail(const char *step)
{
	return env_is("LABVIRT_FAIL_STEP", step);
}

void hook_pause(FILE *errout, const char *step)
{
	const char *file = getenv("LABVIRT_PAUSE_FILE");
	if (!env_is("LABVIRT_PAUSE_STEP", step) || !file || !*file)
		return;
	fprintf(errout, "labvirt: paused before '%s' until %s exists (test hook)\n", step, file);
	fflush(errout);
	struct timespec tick = {0, 50 * 1000000L};
	while (access(file, F_OK) < 0)
		nanosleep(&tick, NULL);
}

void hook_trace(const char *step)
{
	const char *file = getenv("LABVIRT_TRACE_FILE");
	struct timespec now;
	char line[512];
	if (!file || !*file)
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
 * back just before the rename: no race with a volume written in microseconds). */
static char *kill_temp;

static void kill_if_temp(const char *tmp)
{
	if (kill_temp && streq(tmp, kill_temp))
		raise(SIGKILL);
}

static bool kill_armed(const char *step, enum hook_when when)
{
	static const char *const names[] = {
	    [HOOK_BEFORE] = "before", [HOOK_DURING] = "during", [HOOK_AFTER] = "after"};
	const char *at = getenv("LABVIRT_KILL_AT");
	return env_is("LABVIRT_KILL_STEP", step) && streq(at && *at ? at : "after", names[when]);
}

static void kill_now(void)
{
	raise(SIGKILL);
}

void (*hook_kill_callback(const char *step))(void)
{
	return kill_armed(step, HOOK_DURING) ? kill_now : NULL;
}

void hook_kill(const char *step, enum hook_when when, const char *path1, const char *path2)
{
	if (!kill_armed(step, when))
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
