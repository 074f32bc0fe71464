/* host.c - state directory, the per-lab lock, programs run by argument
 * vector, and Linux bridges (through iproute2's `ip`, which works in whatever
 * network namespace labvirt runs in). */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "host.h"

extern char **environ;

int host_mkdir_p(const char *path, int mode, struct lv_error *err)
{
	_cleanup_free_ char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return lv_fail_errno(err, errno, "cannot create directory '%s'", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return lv_fail_errno(err, errno, "cannot create directory '%s'", p);
	return 0;
}

int host_state_dir(char **ret_dir, struct lv_error *err)
{
	_cleanup_free_ char *dir = NULL;
	const char *env = getenv("LABVIRT_STATE_DIR");
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	if (env && *env)
		dir = xstrdup(env);
	else if (geteuid() == 0)
		dir = xstrdup("/var/lib/labvirt");
	else if (xdg && *xdg)
		dir = xasprintf("%s/labvirt", xdg);
	else if (home && *home)
		dir = xasprintf("%s/.local/state/labvirt", home);
	else
		return lv_fail(err, LV_EXIT_FAIL, "no state directory: set LABVIRT_STATE_DIR");
	/* Traversable, not listable: the embedded driver's QEMU runs as its own
	 * user and must reach its files below. */
	if (host_mkdir_p(dir, 0711, err) < 0)
		return -1;
	*ret_dir = steal_pointer(&dir);
	return 0;
}

int host_state_write(const char *state_dir, const char *name, const char *data,
		     struct lv_error *err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", state_dir, name);
	if (lv_write_file_atomic(path, data, strlen(data), 0600, err) < 0)
		return -1;
	/* The rename itself must outlast a crash too. */
	_cleanup_close_ int dir = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0 || fsync(dir) < 0)
		return lv_fail_errno(err, errno, "cannot sync '%s'", state_dir);
	return 0;
}

int host_state_read(const char *state_dir, const char *name, char **ret, struct lv_error *err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", state_dir, name);
	char *text = lv_read_file(path, NULL);
	if (!text && errno != ENOENT)
		return lv_fail_errno(err, errno, "cannot read '%s'", path);
	*ret = text;
	return 0;
}

int host_state_remove(const char *state_dir, const char *name, struct lv_error *err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", state_dir, name);
	if (unlink(path) < 0 && errno != ENOENT)
		return lv_fail_errno(err, errno, "cannot remove '%s'", path);
	return 0;
}

struct host_lock {
	int fd;
};

int host_lock_lab(const char *state_dir, const char *lab, const char *what,
		  void (*waiting)(const char *holder, void *ctx), void *ctx,
		  struct host_lock **ret_lock, struct lv_error *err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s.lock", state_dir, lab);
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return lv_fail_errno(err, errno, "cannot open lock '%s'", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return lv_fail_errno(err, errno, "cannot lock '%s'", path);
		char holder[128] = "";
		ssize_t n = pread(fd, holder, sizeof(holder) - 1, 0);
		holder[n > 0 ? n : 0] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
		if (waiting)
			waiting(holder[0] ? holder : "another labvirt", ctx);
		while (flock(fd, LOCK_EX) < 0)
			if (errno != EINTR)
				return lv_fail_errno(err, errno, "cannot lock '%s'", path);
	}
	char line[128];
	int n = snprintf(line, sizeof(line), "labvirt %s (pid %d)\n", what, (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, line, (size_t)n, 0) != n)
		return lv_fail_errno(err, errno, "cannot write lock '%s'", path);
	struct host_lock *lock = xmalloc(sizeof(*lock));
	lock->fd = fd;
	fd = -1;
	*ret_lock = lock;
	return 0;
}

void host_unlock(struct host_lock *lock)
{
	if (!lock)
		return;
	if (ftruncate(lock->fd, 0) < 0) {
		/* the lock is released by close all the same */
	}
	close(lock->fd);
	free(lock);
}

static char *read_all(int fd)
{
	size_t cap = 1024, len = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (cap - len < 512)
			buf = xrealloc(buf, cap *= 2);
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	return buf;
}

static const char *last_line(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
	char *nl = strrchr(s, '\n');
	return nl ? nl + 1 : s;
}

int host_run(const char *const argv[], char **ret_out, struct lv_error *err)
{
	int out[2], errp[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		return lv_fail_errno(err, errno, "cannot run %s", argv[0]);
	if (pipe2(errp, O_CLOEXEC) < 0) {
		close(out[0]), close(out[1]);
		return lv_fail_errno(err, errno, "cannot run %s", argv[0]);
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]), close(errp[1]);
	if (rc != 0) {
		close(out[0]), close(errp[0]);
		return lv_fail_errno(err, rc, "cannot run %s", argv[0]);
	}
	/* Small outputs only: read stdout fully, then stderr. */
	_cleanup_free_ char *o = read_all(out[0]);
	_cleanup_free_ char *e = read_all(errp[0]);
	close(out[0]), close(errp[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return lv_fail(err, LV_EXIT_FAIL, "%s failed: %s", argv[0],
			       *e ? last_line(e) : "no message");
	if (ret_out)
		*ret_out = steal_pointer(&o);
	return 0;
}

int host_run_feed(const char *const argv[], const char *input, size_t len, struct lv_error *err)
{
	int in[2] = {-1, -1};
	if (input && pipe2(in, O_CLOEXEC) < 0)
		return lv_fail_errno(err, errno, "cannot run %s", argv[0]);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (input)
		posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (input)
		close(in[0]);
	if (rc != 0) {
		if (input)
			close(in[1]);
		return lv_fail_errno(err, rc, "cannot run %s", argv[0]);
	}
	/* A reader that goes early must not kill us with SIGPIPE. */
	void (*old)(int) = input ? signal(SIGPIPE, SIG_IGN) : SIG_DFL;
	for (size_t off = 0; input && off < len;) {
		ssize_t w = write(in[1], input + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (input) {
		close(in[1]);
		signal(SIGPIPE, old);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return lv_fail_errno(err, errno, "cannot wait for %s", argv[0]);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool host_find_program(const char *name)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = xstrdup(path && *path ? path : "/usr/bin:/bin");
	char *save = NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *full = xasprintf("%s/%s", *dir ? dir : ".", name);
		struct stat st;
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
			return true;
	}
	return false;
}

bool host_link_exists(const char *ifname)
{
	return if_nametoindex(ifname) != 0;
}

static char *link_details(const char *ifname)
{
	const char *argv[] = {"ip", "-d", "-o", "link", "show", "dev", ifname, NULL};
	char *out = NULL;
	if (host_run(argv, &out, NULL) < 0)
		return NULL;
	return out;
}

bool host_is_bridge(const char *ifname)
{
	_cleanup_free_ char *d = link_details(ifname);
	return d && strstr(d, " bridge ") != NULL;
}

int host_link_alias(const char *ifname, char *buf, size_t len)
{
	_cleanup_free_ char *d = link_details(ifname);
	buf[0] = '\0';
	if (!d)
		return -1;
	const char *a = strstr(d, " alias ");
	if (a) {
		a += 7;
		size_t n = strcspn(a, " \\\n");
		snprintf(buf, len, "%.*s", (int)n, a);
	}
	return 0;
}

int host_bridge_create(const char *name, const char *alias, const char *cidr, struct lv_error *err)
{
	const char *add[] = {"ip", "link", "add", "name", name, "type", "bridge", NULL};
	const char *set[] = {"ip", "link", "set", "dev", name, "alias", alias, "up", NULL};
	const char *addr[] = {"ip", "addr", "add", cidr, "dev", name, NULL};
	if (host_run(add, NULL, err) < 0)
		return lv_prefix(err, "create bridge %s", name);
	if (host_run(set, NULL, err) < 0 || (cidr && host_run(addr, NULL, err) < 0)) {
		host_bridge_delete(name, NULL);
		return lv_prefix(err, "set up bridge %s", name);
	}
	return 0;
}

int host_bridge_delete(const char *name, struct lv_error *err)
{
	const char *del[] = {"ip", "link", "del", "dev", name, NULL};
	if (host_run(del, NULL, err) < 0)
		return lv_prefix(err, "remove bridge %s", name);
	return 0;
}
