/* conn.c - the connection: opening it (the system daemon, else the embedded
 * driver), the event loop thread that waits and the console need, libvirt's
 * error printing silenced, and closing it after the embedded driver's
 * reconnections. */
#include <dirent.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/xmlschemastypes.h>
#include <signal.h>
#include <sys/stat.h>

#include "virt-private.h"

static void quiet(void *opaque, virErrorPtr e)
{
	(void)opaque, (void)e;
}

/* The event loop thread runs while a connection that wants events is open;
 * the last one's close stops and joins it before closing the connection, as
 * libvirt's own embedded-driver tool does: the embedded driver's shutdown
 * frees what a loop still running on another thread could be dispatching
 * (labvirt status crashed at exit once in two embedded runs). */
static pthread_mutex_t event_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t event_thread;
static size_t event_users;
static volatile sig_atomic_t event_quit;

static void *event_loop(void *arg)
{
	(void)arg;
	while (!event_quit)
		virEventRunDefaultImpl();
	return NULL;
}

static void event_wake(int timer, void *opaque)
{
	(void)opaque;
	virEventRemoveTimeout(timer);
}

/* Once per process, before any connection: libxml2 2.9 initialises its
 * globals lazily and racily, so do it here, on one thread, before the
 * per-guest workers use it; and libvirt's errors go to labvirt's messages,
 * not to stderr. */
static void process_init(void)
{
	xmlInitParser();
	virSetErrorFunc(NULL, quiet);
}

/* libvirt's event implementation is process-wide: registered once, and only
 * by a command that waits on events (or uses the embedded driver, which needs
 * it): without it, the remote driver does its calls without waking a loop
 * thread each time. */
static void event_register(void)
{
	virEventRegisterDefaultImpl();
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_once_t event_once = PTHREAD_ONCE_INIT;

static void event_loop_want(void)
{
	pthread_once(&event_once, event_register);
	pthread_mutex_lock(&event_lock);
	if (event_users++ == 0) {
		event_quit = 0;
		if (pthread_create(&event_thread, NULL, event_loop, NULL) != 0)
			event_users = 0; /* no loop: what waits on events says so */
	}
	pthread_mutex_unlock(&event_lock);
}

static void event_loop_release(void)
{
	pthread_mutex_lock(&event_lock);
	if (event_users > 0 && --event_users == 0) {
		event_quit = 1;
		virEventAddTimeout(0, event_wake, NULL, NULL); /* wakes its poll */
		pthread_join(event_thread, NULL);
	}
	pthread_mutex_unlock(&event_lock);
}

static bool uri_is_local(const char *uri)
{
	const char *s = strstr(uri, "://");
	return s && s[3] == '/';
}

#define LOG_MAX (1024 * 1024)

/* libvirt's warnings and errors (and, with the embedded driver, its daemon
 * code's) go to a file of ours rather than to the user's terminal. It is kept
 * small: each command through the daemon without an event loop adds three
 * lines (libvirt's header and its harmless "Unable to register async IO
 * callback"), so past 1 MiB it becomes libvirt.log.1, replacing the one before. */
static void log_to_state_dir(const char *state_dir)
{
	_cleanup_free_ char *path = xasprintf("%s/libvirt.log", state_dir);
	struct stat sb;
	if (stat(path, &sb) == 0 && sb.st_size > LOG_MAX) {
		_cleanup_free_ char *old = xasprintf("%s.1", path);
		(void)rename(path, old);
	}
	if (getenv("LIBVIRT_LOG_OUTPUTS"))
		return;
	_cleanup_free_ char *outputs = xasprintf("3:file:%s", path);
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

/* Opens uri; *ret_events: the connection holds the event loop thread. */
/* With the embedded and the test drivers, libvirt validates domain XML
 * against its RelaxNG schema in this process, and libxml2 2.9 sets up the
 * schema types lazily and racily: two guests defined at once could both do
 * it (LeakSanitizer saw the losing copy leak in the lifecycle test, once in a
 * few runs). Done here, on one thread, before the per-guest workers. */
static void relaxng_init(void)
{
	xmlRelaxNGInitTypes();
	/* ... and the XSD types RelaxNG's datatype library looks up: libxml2 2.9 fills
	 * that bank on first use, also racily ("Error type 'unsignedInt' is not exported
	 * by type library", seen once in kill-embed when two defines parsed the schema
	 * at once) */
	xmlSchemaInitTypes();
}
static pthread_once_t relaxng_once = PTHREAD_ONCE_INIT;

static int open_uri(const char *uri, bool events, virConnectPtr *ret, bool *ret_events,
		    struct lv_error *err)
{
	if (startswith(uri, EMBED_PREFIX) || startswith(uri, "test:"))
		pthread_once(&relaxng_once, relaxng_init);
	if (startswith(uri, EMBED_PREFIX)) {
		if (embed_prepare(uri, err) < 0)
			return -1;
		events = true;
	}
	if (events)
		event_loop_want();
	*ret = virConnectOpen(uri);
	if (!*ret) {
		virt_fail(err, "cannot connect to '%s'", uri);
		if (events)
			event_loop_release();
		return -1;
	}
	*ret_events = events;
	return 0;
}

int virt_open(const char *uri, const char *state_dir, bool events, struct virt **ret_virt,
	      struct lv_error *err)
{
	log_to_state_dir(state_dir);
	pthread_once(&init_once, process_init);
	_cleanup_free_ char *chosen = xstrdup(uri ? uri : "qemu:///system");
	virConnectPtr conn = NULL;
	bool holds_events = false;
	if (open_uri(chosen, events, &conn, &holds_events, err) < 0) {
		if (uri)
			return -1;
		free(chosen);
		chosen = xasprintf(EMBED_PREFIX "%s/embed", state_dir);
		if (open_uri(chosen, events, &conn, &holds_events, err) < 0)
			return -1;
	}
	struct virt *v = xcalloc(1, sizeof(*v));
	v->conn = conn;
	v->events = holds_events;
	v->uri = steal_pointer(&chosen);
	v->local = uri_is_local(v->uri);
	v->network_driver = !startswith(v->uri, EMBED_PREFIX) && virConnectNumOfNetworks(conn) >= 0;
	*ret_virt = v;
	return 0;
}

/* Whether a thread of this process runs the embedded driver's reconnection
 * to a guest's QEMU (libvirt names them "init-" and the guest's name). */
static bool reconnecting(void)
{
	DIR *d = opendir("/proc/self/task");
	bool found = false;
	for (struct dirent *e; d && !found && (e = readdir(d));) {
		char path[64], comm[32] = "";
		snprintf(path, sizeof(path), "/proc/self/task/%.20s/comm", e->d_name);
		FILE *f = e->d_name[0] == '.' ? NULL : fopen(path, "re");
		if (f) {
			found = fgets(comm, sizeof(comm), f) && startswith(comm, "init-");
			fclose(f);
		}
	}
	if (d)
		closedir(d);
	return found;
}

/* When it opens, the embedded driver reconnects to each running guest's
 * QEMU in a thread of its own, under a job on that domain. Closing the
 * connection or exiting while one runs crashes the process (libvirt 9.0: the
 * driver's state and libraries' globals go from under it; labvirt status
 * exited with SIGSEGV after its output, 10 times in 150). So wait
 * for them, while the event loop still runs (they talk to QEMU through it): a
 * call that takes a domain job and changes nothing (virDomainGetPerfEvents)
 * waits for each reconnection's job; then for the threads' last steps,
 * a second at most. */
static void embed_wait_reconnect(struct virt *v)
{
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(v->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	for (int i = 0; i < n; i++) {
		virTypedParameterPtr params = NULL;
		int n_params = 0;
		if (virDomainGetPerfEvents(doms[i], &params, &n_params, 0) == 0)
			virTypedParamsFree(params, n_params);
		virDomainFree(doms[i]);
	}
	free(doms);
	for (int ms = 0; ms < 1000 && reconnecting(); ms++)
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
}

/* The LXC driver's URI beside a QEMU one: lxc:///system for qemu:///system,
 * lxc+ssh://host/system for qemu+ssh://host/system; NULL when there is none. */
static char *lxc_uri(const char *uri)
{
	const char *rest = startswith(uri, "qemu") ? uri + strlen("qemu") : NULL;
	if (!rest || (rest[0] != ':' && rest[0] != '+') || !strstr(rest, "/system"))
		return NULL;
	return xasprintf("lxc%s", rest);
}

int virt_open_lxc(struct virt *v, struct lv_error *err)
{
	if (v->lxc)
		return 0;
	if (startswith(v->uri, "test:")) { /* the test driver takes <domain type='lxc'> */
		v->lxc = v->conn;
		return 0;
	}
	_cleanup_free_ char *uri = lxc_uri(v->uri);
	if (!uri)
		return lv_fail(err, LV_EXIT_FAIL,
			       "the lab has containers, which need libvirt's LXC driver in the "
			       "libvirt daemon (lxc:///system, package libvirt-daemon-driver-lxc); "
			       "labvirt is connected to '%s', which has none",
			       v->uri);
	v->lxc = virConnectOpen(uri);
	if (!v->lxc)
		return virt_fail(err,
				 "the lab has containers: cannot connect to libvirt's LXC driver "
				 "'%s' (package libvirt-daemon-driver-lxc)",
				 uri);
	return 0;
}

virDomainPtr virt_lookup(struct virt *v, const char *name)
{
	virDomainPtr dom = virDomainLookupByName(v->conn, name);
	if (!dom && v->lxc && v->lxc != v->conn) {
		virErrorPtr e = virGetLastError();
		if (e && e->code == VIR_ERR_NO_DOMAIN)
			dom = virDomainLookupByName(v->lxc, name);
	}
	return dom;
}

virConnectPtr virt_conn_for_xml(struct virt *v, const char *xml)
{
	bool lxc = startswith(xml, "<domain type=\"lxc\"") || startswith(xml, "<domain type='lxc'");
	return lxc && v->lxc ? v->lxc : v->conn;
}

void virt_close(struct virt *v)
{
	if (!v)
		return;
	if (startswith(v->uri, EMBED_PREFIX))
		embed_wait_reconnect(v);
	if (v->events)
		event_loop_release();
	virt_leases_free(v);
	if (v->lxc && v->lxc != v->conn)
		virConnectClose(v->lxc);
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

int virt_machine_types(struct virt *v, char ***ret, size_t *ret_n, struct lv_error *err)
{
	_cleanup_free_ char *caps = virConnectGetCapabilities(v->conn);
	if (!caps)
		return virt_fail(err, "cannot read the host's capabilities");
	_cleanup_doc_ xmlDocPtr doc = parse_xml(caps);
	char **list = NULL;
	size_t n = 0;
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	for (xmlNodePtr g = child(root, "guest"); g; g = next_named(g, "guest")) {
		xmlNodePtr arch = child(g, "arch");
		char name[32];
		attr(arch, "name", name, sizeof(name));
		if (!streq(name, "x86_64"))
			continue;
		for (xmlNodePtr m = child(arch, "machine"); m; m = next_named(m, "machine")) {
			xmlChar *text = xmlNodeGetContent(m);
			if (!text)
				continue;
			list = xrealloc(list, (n + 1) * sizeof(*list));
			list[n++] = xstrdup((const char *)text);
			xmlFree(text);
		}
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

/* Whether the daemon is still there (issue 5: faults). */
bool virt_alive(const struct virt *v)
{
	return v && v->conn && virConnectIsAlive(v->conn) == 1;
}
