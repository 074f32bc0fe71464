/* virt.c - the libvirt adapter. libvirt's own error printing is silenced and
 * its messages travel back in struct lv_error. An event loop runs in a
 * background thread: the embedded QEMU driver needs one to talk to QEMU, and
 * lifecycle waits and the console are driven by events, not by sleeping. */
#include <errno.h>
#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>

#include "render.h"
#include "virt.h"

struct virt {
	virConnectPtr conn;
	char *uri;
	bool network_driver;
	bool local;
};

static void quiet(void *opaque, virErrorPtr e)
{
	(void)opaque, (void)e;
}

static void *event_loop(void *arg)
{
	(void)arg;
	for (;;)
		virEventRunDefaultImpl();
	return NULL;
}

/* libvirt's event implementation is process-wide: registered once. */
static void event_loop_start_once(void)
{
	virSetErrorFunc(NULL, quiet);
	virEventRegisterDefaultImpl();
	pthread_t t;
	if (pthread_create(&t, NULL, event_loop, NULL) == 0)
		pthread_detach(t);
}

static pthread_once_t event_once = PTHREAD_ONCE_INIT;

static int vfail(struct lv_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int vfail(struct lv_error *err, const char *fmt, ...)
{
	char ctx[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	const char *m = virGetLastErrorMessage();
	return lv_fail(err, LV_EXIT_FAIL, "%s: %s", ctx, m ? m : "unknown libvirt error");
}

static void domp(virDomainPtr *d)
{
	if (*d)
		virDomainFree(*d);
}
static void netp(virNetworkPtr *n)
{
	if (*n)
		virNetworkFree(*n);
}
#define _cleanup_dom_ _cleanup_(domp)
#define _cleanup_net_ _cleanup_(netp)

static bool uri_is_local(const char *uri)
{
	const char *s = strstr(uri, "://");
	return s && s[3] == '/';
}

/* The embedded driver runs libvirt's daemon code in this process: its log
 * goes to a file of ours rather than to the user's terminal. */
static void log_to_state_dir(const char *state_dir)
{
	if (getenv("LIBVIRT_LOG_OUTPUTS"))
		return;
	_cleanup_free_ char *outputs = xasprintf("3:file:%s/libvirt.log", state_dir);
	setenv("LIBVIRT_LOG_OUTPUTS", outputs, 0);
}

#define EMBED_PREFIX "qemu:///embed?root="

/* The embedded driver's own qemu.conf: QEMU's output goes to plain log files,
 * since no virtlogd may be running. Written once; the user may edit it. */
static int embed_prepare(const char *uri, struct lv_error *err)
{
	static const char conf[] = "# Written by labvirt for libvirt's embedded QEMU driver.\n"
				   "stdio_handler = \"file\"\n";
	const char *root = uri + strlen(EMBED_PREFIX);
	_cleanup_free_ char *etc = xasprintf("%s/etc", root);
	_cleanup_free_ char *path = xasprintf("%s/qemu.conf", etc);
	if ((mkdir(root, 0711) < 0 && errno != EEXIST) || (mkdir(etc, 0755) < 0 && errno != EEXIST))
		return lv_fail_errno(err, errno, "cannot create '%s'", etc);
	if (access(path, F_OK) == 0)
		return 0;
	return lv_write_file_atomic(path, conf, sizeof(conf) - 1, 0644, err);
}

static int open_uri(const char *uri, virConnectPtr *ret, struct lv_error *err)
{
	if (startswith(uri, EMBED_PREFIX) && embed_prepare(uri, err) < 0)
		return -1;
	*ret = virConnectOpen(uri);
	if (!*ret)
		return vfail(err, "cannot connect to '%s'", uri);
	return 0;
}

int virt_open(const char *uri, const char *state_dir, struct virt **ret_virt, struct lv_error *err)
{
	log_to_state_dir(state_dir);
	pthread_once(&event_once, event_loop_start_once);
	_cleanup_free_ char *chosen = xstrdup(uri ? uri : "qemu:///system");
	virConnectPtr conn = NULL;
	if (open_uri(chosen, &conn, err) < 0) {
		if (uri)
			return -1;
		free(chosen);
		chosen = xasprintf(EMBED_PREFIX "%s/embed", state_dir);
		if (open_uri(chosen, &conn, err) < 0)
			return -1;
	}
	struct virt *v = xcalloc(1, sizeof(*v));
	v->conn = conn;
	v->uri = steal_pointer(&chosen);
	v->local = uri_is_local(v->uri);
	v->network_driver = !startswith(v->uri, EMBED_PREFIX) && virConnectNumOfNetworks(conn) >= 0;
	*ret_virt = v;
	return 0;
}

void virt_close(struct virt *v)
{
	if (!v)
		return;
	virConnectClose(v->conn);
	free(v->uri);
	free(v);
}

const char *virt_uri(const struct virt *v)
{
	return v->uri;
}
bool virt_network_driver(const struct virt *v)
{
	return v->network_driver;
}
bool virt_is_local(const struct virt *v)
{
	return v->local;
}

enum lab_accel virt_best_accel(struct virt *v)
{
	char *caps = virConnectGetDomainCapabilities(v->conn, NULL, "x86_64", NULL, "kvm", 0);
	if (!caps)
		return ACCEL_TCG;
	free(caps);
	return ACCEL_KVM;
}

static enum dom_state map_state(int s)
{
	switch (s) {
	case VIR_DOMAIN_SHUTOFF:
	case VIR_DOMAIN_CRASHED:
		return DOM_SHUTOFF;
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:
		return DOM_RUNNING;
	case VIR_DOMAIN_PAUSED:
	case VIR_DOMAIN_PMSUSPENDED:
		return DOM_PAUSED;
	default:
		return DOM_OTHER;
	}
}

/* Reads <owner lab= guest= config=/> from the domain's metadata. */
static void read_owner(virDomainPtr dom, const char *lab, struct inv_domain *ret)
{
	unsigned flags = ret->persistent ? VIR_DOMAIN_AFFECT_CONFIG : VIR_DOMAIN_AFFECT_LIVE;
	_cleanup_free_ char *md =
	    virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, LV_XMLNS, flags);
	ret->foreign = true;
	if (!md)
		return;
	xmlDocPtr doc = xmlReadMemory(md, (int)strlen(md), "metadata.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlChar *owner = root ? xmlGetProp(root, BAD_CAST "lab") : NULL;
	xmlChar *config = root ? xmlGetProp(root, BAD_CAST "config") : NULL;
	if (owner) {
		snprintf(ret->owner, sizeof(ret->owner), "%s", (char *)owner);
		ret->foreign = !streq(ret->owner, lab);
	}
	if (config)
		snprintf(ret->config, sizeof(ret->config), "%s", (char *)config);
	xmlFree(owner);
	xmlFree(config);
	xmlFreeDoc(doc);
}

int virt_domain_query(struct virt *v, const char *lab, const char *name, struct inv_domain *ret,
		      struct lv_error *err)
{
	*ret = (struct inv_domain){.state = DOM_ABSENT};
	_cleanup_dom_ virDomainPtr dom = virDomainLookupByName(v->conn, name);
	if (!dom) {
		virErrorPtr e = virGetLastError();
		if (e && e->code == VIR_ERR_NO_DOMAIN)
			return 0;
		return vfail(err, "cannot look up domain '%s'", name);
	}
	int state, reason;
	if (virDomainGetState(dom, &state, &reason, 0) < 0)
		return vfail(err, "cannot read the state of domain '%s'", name);
	ret->state = map_state(state);
	ret->persistent = virDomainIsPersistent(dom) == 1;
	read_owner(dom, lab, ret);
	return 0;
}

static int network_query(struct virt *v, const char *name, struct inv_bridge *ret,
			 struct lv_error *err)
{
	*ret = (struct inv_bridge){0};
	_cleanup_net_ virNetworkPtr net = virNetworkLookupByName(v->conn, name);
	if (!net) {
		virErrorPtr e = virGetLastError();
		if (e && e->code == VIR_ERR_NO_NETWORK)
			return 0;
		return vfail(err, "cannot look up network '%s'", name);
	}
	ret->exists = true;
	ret->active = virNetworkIsActive(net) == 1;
	return 0;
}

int virt_inventory(struct virt *v, const struct lab *lab, struct inventory *inv,
		   struct lv_error *err)
{
	inv->network_driver = v->network_driver;
	for (size_t i = 0; i < lab->n_guests; i++)
		if (virt_domain_query(v, lab->name, lab->guests[i].name, &inv->doms[i], err) < 0)
			return -1;
	if (!v->network_driver)
		return 0;
	for (size_t b = 0; b < lab->n_bridges; b++) {
		if (lab->bridges[b].mode == BRIDGE_HOST)
			continue;
		_cleanup_free_ char *name = lab_network_name(lab, &lab->bridges[b]);
		if (network_query(v, name, &inv->bridges[b], err) < 0)
			return -1;
	}
	return 0;
}

/* The console pty path from the live XML, for status. */
static void console_path(virDomainPtr dom, char *buf, size_t len)
{
	buf[0] = '\0';
	_cleanup_free_ char *xml = virDomainGetXMLDesc(dom, 0);
	const char *c = xml ? strstr(xml, "<console type='pty' tty='") : NULL;
	if (c) {
		c += strlen("<console type='pty' tty='");
		snprintf(buf, len, "%.*s", (int)strcspn(c, "'"), c);
	}
}

int virt_domain_info(struct virt *v, const char *name, struct virt_dom_info *ret,
		     struct lv_error *err)
{
	_cleanup_dom_ virDomainPtr dom = virDomainLookupByName(v->conn, name);
	virDomainInfo info;
	if (!dom || virDomainGetInfo(dom, &info) < 0)
		return vfail(err, "cannot read domain '%s'", name);
	*ret = (struct virt_dom_info){.vcpus = info.nrVirtCpu, .mem_mib = info.maxMem / 1024};
	if (virDomainIsActive(dom) == 1)
		console_path(dom, ret->console, sizeof(ret->console));
	return 0;
}

int virt_domain_define(struct virt *v, const char *xml, bool autostart, struct lv_error *err)
{
	_cleanup_dom_ virDomainPtr dom =
	    virDomainDefineXMLFlags(v->conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
	if (!dom)
		return vfail(err, "define");
	if (autostart && virDomainSetAutostart(dom, 1) < 0)
		return vfail(err, "set autostart");
	return 0;
}

int virt_domain_xml(struct virt *v, const char *name, char **ret_xml, struct lv_error *err)
{
	_cleanup_dom_ virDomainPtr dom = virDomainLookupByName(v->conn, name);
	char *xml =
	    dom ? virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE) : NULL;
	if (!xml)
		return vfail(err, "cannot read domain '%s'", name);
	*ret_xml = xml;
	return 0;
}

#define WITH_DOMAIN(name, call, what)                                                              \
	_cleanup_dom_ virDomainPtr dom = virDomainLookupByName(v->conn, name);                     \
	if (!dom || (call) < 0)                                                                    \
		return vfail(err, what);                                                           \
	return 0

int virt_domain_undefine(struct virt *v, const char *name, struct lv_error *err)
{
	unsigned basic = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA;
	unsigned all = basic | VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA;
	_cleanup_dom_ virDomainPtr dom = virDomainLookupByName(v->conn, name);
	if (!dom)
		return vfail(err, "undefine");
	if (virDomainUndefineFlags(dom, all) == 0)
		return 0;
	/* Drivers without NVRAM or checkpoints (the test driver) refuse those flags. */
	virErrorPtr e = virGetLastError();
	if (!e || e->code != VIR_ERR_INVALID_ARG || virDomainUndefineFlags(dom, basic) < 0)
		return vfail(err, "undefine");
	return 0;
}

int virt_domain_start(struct virt *v, const char *name, struct lv_error *err)
{
	WITH_DOMAIN(name, virDomainCreate(dom), "start");
}

int virt_domain_shutdown(struct virt *v, const char *name, struct lv_error *err)
{
	WITH_DOMAIN(name, virDomainShutdown(dom), "shut down");
}

int virt_domain_poweroff(struct virt *v, const char *name, struct lv_error *err)
{
	_cleanup_dom_ virDomainPtr dom = virDomainLookupByName(v->conn, name);
	if (dom && virDomainDestroy(dom) == 0)
		return 0;
	/* In embedded mode the event thread may see QEMU go (and mark the domain
	 * shut off) before virDomainDestroy returns, which then says "not running". */
	int state, reason;
	if (dom && virDomainGetState(dom, &state, &reason, 0) == 0 && state == VIR_DOMAIN_SHUTOFF)
		return 0;
	return vfail(err, "power off");
}

/* Lifecycle events wake the waiter, which then reads the states itself. */
struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned events;
};

static int on_lifecycle(virConnectPtr c, virDomainPtr d, int event, int detail, void *opaque)
{
	(void)c, (void)d, (void)event, (void)detail;
	struct waiter *w = opaque;
	pthread_mutex_lock(&w->lock);
	w->events++;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

static bool all_off(struct virt *v, char **names, size_t n, bool *ret_off)
{
	bool all = true;
	for (size_t i = 0; i < n; i++) {
		_cleanup_dom_ virDomainPtr dom = virDomainLookupByName(v->conn, names[i]);
		int state = VIR_DOMAIN_SHUTOFF, reason;
		if (dom && virDomainGetState(dom, &state, &reason, 0) < 0)
			state = VIR_DOMAIN_NOSTATE;
		ret_off[i] = state == VIR_DOMAIN_SHUTOFF;
		all = all && ret_off[i];
	}
	return all;
}

int virt_domains_wait_off(struct virt *v, char **names, size_t n, int timeout_ms, bool *ret_off,
			  struct lv_error *err)
{
	struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	int id =
	    virConnectDomainEventRegisterAny(v->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
					     VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), &w, NULL);
	if (id < 0)
		return vfail(err, "cannot watch domain events");
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L)
		deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
	pthread_mutex_lock(&w.lock);
	for (;;) {
		unsigned seen = w.events;
		pthread_mutex_unlock(&w.lock);
		bool done = all_off(v, names, n, ret_off);
		pthread_mutex_lock(&w.lock);
		if (done)
			break;
		int rc = 0;
		while (w.events == seen && rc == 0)
			rc = pthread_cond_timedwait(&w.cond, &w.lock, &deadline);
		if (rc == ETIMEDOUT) {
			pthread_mutex_unlock(&w.lock);
			all_off(v, names, n, ret_off);
			pthread_mutex_lock(&w.lock);
			break;
		}
	}
	pthread_mutex_unlock(&w.lock);
	virConnectDomainEventDeregisterAny(v->conn, id);
	return 0;
}

int virt_network_create(struct virt *v, const char *xml, struct lv_error *err)
{
	_cleanup_net_ virNetworkPtr net = virNetworkDefineXML(v->conn, xml);
	if (!net)
		return vfail(err, "define network");
	if (virNetworkCreate(net) < 0 || virNetworkSetAutostart(net, 1) < 0) {
		struct lv_error keep;
		vfail(&keep, "start network");
		if (virNetworkIsActive(net) == 1)
			virNetworkDestroy(net);
		virNetworkUndefine(net);
		if (err)
			*err = keep;
		return -1;
	}
	return 0;
}

int virt_network_start(struct virt *v, const char *name, struct lv_error *err)
{
	_cleanup_net_ virNetworkPtr net = virNetworkLookupByName(v->conn, name);
	if (!net || virNetworkCreate(net) < 0)
		return vfail(err, "start network");
	return 0;
}

int virt_network_remove(struct virt *v, const char *name, struct lv_error *err)
{
	_cleanup_net_ virNetworkPtr net = virNetworkLookupByName(v->conn, name);
	if (!net)
		return vfail(err, "look up network");
	if (virNetworkIsActive(net) == 1 && virNetworkDestroy(net) < 0)
		return vfail(err, "stop network");
	if (virNetworkIsPersistent(net) == 1 && virNetworkUndefine(net) < 0)
		return vfail(err, "undefine network");
	return 0;
}

/* The console: stdin and the console stream are both watched by the event
 * loop; the calling thread waits until one side ends. The context is freed
 * when the last of its two watches is released. */
struct console {
	virStreamPtr st;
	int in_fd, out_fd;
	bool raw, in_eof, done;
	int in_watch, refs;
	char buf[4096]; /* typed, not yet sent */
	size_t len;
	char why[256];
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void console_unref(void *opaque)
{
	struct console *c = opaque;
	pthread_mutex_lock(&c->lock);
	bool last = --c->refs == 0;
	pthread_mutex_unlock(&c->lock);
	if (last) {
		virStreamFree(c->st);
		free(c);
	}
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
	_cleanup_dom_ virDomainPtr dom = virDomainLookupByName(v->conn, name);
	if (!dom)
		return vfail(err, "cannot find domain '%s'", name);
	c->st = virStreamNew(v->conn, VIR_STREAM_NONBLOCK);
	if (!c->st || virDomainOpenConsole(dom, NULL, c->st, VIR_DOMAIN_CONSOLE_FORCE) < 0)
		return vfail(err, "cannot open the console of '%s'", name);
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
	c->refs = 2;
	c->in_watch =
	    virEventAddHandle(in_fd, VIR_EVENT_HANDLE_READABLE, on_input, c, console_unref);
	if (c->in_watch < 0)
		c->refs--;
	if (virStreamEventAddCallback(c->st, VIR_STREAM_EVENT_READABLE, on_stream, c,
				      console_unref) < 0) {
		c->refs--;
		console_finish(c, virGetLastErrorMessage());
	}
	pthread_mutex_lock(&c->lock);
	while (!c->done)
		pthread_cond_wait(&c->cond, &c->lock);
	char why[sizeof(c->why)];
	memcpy(why, c->why, sizeof(why));
	int watch = c->in_watch;
	c->in_watch = -1;
	pthread_mutex_unlock(&c->lock);
	if (restore)
		tcsetattr(in_fd, TCSAFLUSH, &saved);
	virStreamPtr st = c->st;
	virStreamRef(st);
	if (watch >= 0)
		virEventRemoveHandle(watch);
	virStreamEventRemoveCallback(st);
	virStreamAbort(st);
	virStreamFree(st);
	if (why[0])
		return lv_fail(err, LV_EXIT_FAIL, "console of '%s': %s", name, why);
	return 0;
}
