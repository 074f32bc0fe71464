/* console.c - a domain's serial console, driven by the event loop: stdin and
 * the console stream are both watched, and the calling thread waits until
 * one side ends. */
#include <errno.h>
#include <termios.h>

#include "virt-private.h"

/* The context is freed when the last of its two watches is released. */
struct console {
	virStreamPtr st;
	int in_fd, out_fd;
	bool raw, in_eof, done;
	int in_watch;
	bool torn_down;
	char buf[4096]; /* typed, not yet sent */
	size_t len;
	char why[256];
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

/* Runs on the event loop's thread, so no console callback is running while
 * the watches are removed; afterwards none can run again and the caller may
 * free the context. */
static void console_teardown(int timer, void *opaque)
{
	struct console *c = opaque;
	if (c->in_watch >= 0)
		virEventRemoveHandle(c->in_watch);
	c->in_watch = -1;
	virStreamEventRemoveCallback(c->st);
	virEventRemoveTimeout(timer);
	pthread_mutex_lock(&c->lock);
	c->torn_down = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void console_finish(struct console *c, const char *why)
{
	pthread_mutex_lock(&c->lock);
	if (!c->done && why)
		snprintf(c->why, sizeof(c->why), "%s", why);
	c->done = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void console_want(struct console *c)
{
	int ev = VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP;
	if (c->len)
		ev |= VIR_STREAM_EVENT_WRITABLE;
	virStreamEventUpdateCallback(c->st, ev);
	if (c->in_watch >= 0)
		virEventUpdateHandle(c->in_watch,
				     c->len < sizeof(c->buf) ? VIR_EVENT_HANDLE_READABLE : 0);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w, n -= (size_t)w;
	}
}

static void on_input(int watch, int fd, int events, void *opaque)
{
	(void)watch, (void)events;
	struct console *c = opaque;
	ssize_t n = read(fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		c->in_eof = true;
		virEventRemoveHandle(c->in_watch);
		c->in_watch = -1;
		if (!c->len)
			console_finish(c, NULL);
		return;
	}
	if (c->raw && memchr(c->buf + c->len, 0x1d, (size_t)n)) { /* Ctrl-] */
		console_finish(c, NULL);
		return;
	}
	c->len += (size_t)n;
	console_want(c);
}

static void on_stream(virStreamPtr st, int events, void *opaque)
{
	struct console *c = opaque;
	if (events & VIR_STREAM_EVENT_READABLE) {
		char out[4096];
		int n;
		while ((n = virStreamRecv(st, out, sizeof(out))) > 0)
			write_all(c->out_fd, out, (size_t)n);
		if (n == 0)
			return console_finish(c, NULL);
		if (n == -1)
			return console_finish(c, virGetLastErrorMessage());
	}
	if ((events & VIR_STREAM_EVENT_WRITABLE) && c->len) {
		int n = virStreamSend(st, c->buf, c->len);
		if (n == -1)
			return console_finish(c, virGetLastErrorMessage());
		if (n > 0) {
			memmove(c->buf, c->buf + n, c->len - (size_t)n);
			c->len -= (size_t)n;
		}
		if (!c->len && c->in_eof)
			return console_finish(c, NULL);
	}
	if (events & (VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP))
		return console_finish(c, NULL);
	console_want(c);
}

static int console_attach(struct virt *v, const char *name, struct console *c, struct lv_error *err)
{
	_cleanup_dom_ virDomainPtr dom = virt_lookup(v, name);
	if (!dom)
		return virt_fail(err, "cannot find domain '%s'", name);
	virConnectPtr conn = virDomainGetConnect(dom);
	/* libvirt 9.0's LXC driver takes no flag here (a second client is refused) */
	const char *type = virConnectGetType(conn);
	unsigned flags = type && streq(type, "LXC") ? 0 : VIR_DOMAIN_CONSOLE_FORCE;
	c->st = virStreamNew(conn, VIR_STREAM_NONBLOCK);
	if (!c->st || virDomainOpenConsole(dom, NULL, c->st, flags) < 0)
		return virt_fail(err, "cannot open the console of '%s'", name);
	return 0;
}

int virt_console(struct virt *v, const char *name, int in_fd, int out_fd, bool raw,
		 struct lv_error *err)
{
	struct console *c = xcalloc(1, sizeof(*c));
	*c = (struct console){.in_fd = in_fd, .out_fd = out_fd, .raw = raw, .in_watch = -1};
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	if (console_attach(v, name, c, err) < 0) {
		if (c->st)
			virStreamFree(c->st);
		free(c);
		return -1;
	}
	struct termios saved;
	bool restore = raw && tcgetattr(in_fd, &saved) == 0;
	if (restore) {
		struct termios t = saved;
		cfmakeraw(&t);
		tcsetattr(in_fd, TCSAFLUSH, &t);
	}
	c->in_watch = virEventAddHandle(in_fd, VIR_EVENT_HANDLE_READABLE, on_input, c, NULL);
	if (virStreamEventAddCallback(c->st, VIR_STREAM_EVENT_READABLE, on_stream, c, NULL) < 0)
		console_finish(c, virGetLastErrorMessage());
	pthread_mutex_lock(&c->lock);
	while (!c->done)
		pthread_cond_wait(&c->cond, &c->lock);
	char why[sizeof(c->why)];
	memcpy(why, c->why, sizeof(why));
	pthread_mutex_unlock(&c->lock);
	if (restore)
		tcsetattr(in_fd, TCSAFLUSH, &saved);
	if (virEventAddTimeout(0, console_teardown, c, NULL) >= 0) {
		pthread_mutex_lock(&c->lock);
		while (!c->torn_down)
			pthread_cond_wait(&c->cond, &c->lock);
		pthread_mutex_unlock(&c->lock);
		virStreamAbort(c->st);
		virStreamFree(c->st);
		free(c);
	}
	if (why[0])
		return lv_fail(err, LV_EXIT_FAIL, "console of '%s': %s", name, why);
	return 0;
}
