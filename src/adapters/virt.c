/* virt.c - the libvirt adapter. libvirt's own error printing is silenced and
 * its messages travel back in struct lv_error. An event loop runs in a
 * background thread: the embedded QEMU driver needs one to talk to QEMU, and
 * lifecycle waits and the console are driven by events, not by sleeping. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>

#include "render.h"
#include "virt.h"

/* One network's DHCP leases, read once (virt_cache_leases). */
struct lease_cache {
	struct lease_cache *next;
	char *network;
	struct virt_addr *list;
	size_t n;
};

struct virt {
	virConnectPtr conn;
	bool events; /* holds the event loop thread (event_loop_want) */
	char *uri;
	bool network_driver;
	bool local;
	bool cache_leases;
	struct lease_cache *leases;
};

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
		vfail(err, "cannot connect to '%s'", uri);
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

void virt_close(struct virt *v)
{
	if (!v)
		return;
	if (startswith(v->uri, EMBED_PREFIX))
		embed_wait_reconnect(v);
	if (v->events)
		event_loop_release();
	for (struct lease_cache *l = v->leases, *next; l; l = next) {
		next = l->next;
		free(l->network);
		free(l->list);
		free(l);
	}
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

/* ---- reading libvirt's XML ---- */

static void xml_docp(xmlDocPtr *doc)
{
	if (*doc)
		xmlFreeDoc(*doc);
}
#define _cleanup_doc_ _cleanup_(xml_docp)

static xmlDocPtr parse_xml(const char *xml)
{
	return xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/* The first child element of parent called name, or NULL. */
static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name))
			return n;
	return NULL;
}

static xmlNodePtr next_named(xmlNodePtr n, const char *name)
{
	for (n = n ? n->next : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name))
			return n;
	return NULL;
}

/* Copies attribute name of node into buf ("" when absent). */
static void attr(xmlNodePtr node, const char *name, char *buf, size_t len)
{
	xmlChar *v = node ? xmlGetProp(node, BAD_CAST name) : NULL;
	snprintf(buf, len, "%s", v ? (const char *)v : "");
	if (v) {
		explicit_bzero(v, strlen((char *)v));
		xmlFree(v);
	}
}

int virt_machine_types(struct virt *v, char ***ret, size_t *ret_n, struct lv_error *err)
{
	_cleanup_free_ char *caps = virConnectGetCapabilities(v->conn);
	if (!caps)
		return vfail(err, "cannot read the host's capabilities");
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

/* vCPUs (the current count) and memory of a <domain>. */
static void dom_sizes(xmlNodePtr root, int *ret_vcpus, unsigned long long *ret_mem_mib)
{
	xmlNodePtr vcpu = child(root, "vcpu"), mem = child(root, "memory");
	char buf[32];
	attr(vcpu, "current", buf, sizeof(buf));
	xmlChar *text = buf[0] ? NULL : (vcpu ? xmlNodeGetContent(vcpu) : NULL);
	*ret_vcpus = atoi(buf[0] ? buf : text ? (const char *)text : "0");
	xmlFree(text);
	text = mem ? xmlNodeGetContent(mem) : NULL; /* KiB: libvirt's own unit */
	*ret_mem_mib = text ? strtoull((const char *)text, NULL, 10) / 1024 : 0;
	xmlFree(text);
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

/* Its interfaces' MACs (to keep only the leases that are its) and whether it
 * has a guest agent channel at all (else the agent is not asked). */
static void domain_macs(xmlNodePtr root, struct virt_dom_info *ret)
{
	xmlNodePtr devices = child(root, "devices");
	ret->n_macs = 0;
	for (xmlNodePtr i = child(devices, "interface"); i && ret->n_macs < ARRAY_SIZE(ret->macs);
	     i = next_named(i, "interface"))
		attr(child(i, "mac"), "address", ret->macs[ret->n_macs++], sizeof(ret->macs[0]));
	ret->agent_channel = false;
	for (xmlNodePtr c = child(devices, "channel"); c && !ret->agent_channel;
	     c = next_named(c, "channel")) {
		char target[64];
		attr(child(c, "target"), "name", target, sizeof(target));
		ret->agent_channel = streq(target, "org.qemu.guest_agent.0");
	}
}

/* What status shows of a domain, from its live XML. */
static void live_from(xmlNodePtr root, struct virt_dom_info *ret)
{
	*ret = (struct virt_dom_info){0};
	dom_sizes(root, &ret->vcpus, &ret->mem_mib);
	domain_macs(root, ret);
	char buf[32];
	attr(root, "id", buf, sizeof(buf)); /* only a running domain has an id */
	for (xmlNodePtr c = child(child(root, "devices"), "console"); buf[0] && c;
	     c = next_named(c, "console")) {
		char type[16];
		attr(c, "type", type, sizeof(type));
		if (streq(type, "pty")) {
			attr(c, "tty", ret->console, sizeof(ret->console));
			break;
		}
	}
}

static int live_info(virDomainPtr dom, const char *name, struct virt_dom_info *ret,
		     struct lv_error *err)
{
	_cleanup_free_ char *xml = dom ? virDomainGetXMLDesc(dom, 0) : NULL;
	_cleanup_doc_ xmlDocPtr doc = xml ? parse_xml(xml) : NULL;
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root)
		return vfail(err, "cannot read domain '%s'", name);
	live_from(root, ret);
	return 0;
}

/* Owner, config stamp, vCPUs and memory from the domain's definition (the
 * persistent one if it has one): one call. With live, the live XML of a domain
 * that is not shut off is read instead, and what status shows of it too. */
static void read_definition(virDomainPtr dom, const char *lab, struct inv_domain *ret,
			    struct virt_dom_info *live)
{
	ret->foreign = true;
	live = ret->state != DOM_SHUTOFF ? live : NULL;
	_cleanup_free_ char *xml =
	    virDomainGetXMLDesc(dom, ret->persistent && !live ? VIR_DOMAIN_XML_INACTIVE : 0);
	_cleanup_doc_ xmlDocPtr doc = xml ? parse_xml(xml) : NULL;
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root)
		return;
	if (live)
		live_from(root, live);
	dom_sizes(root, &ret->vcpus, &ret->mem_mib);
	xmlNodePtr md = child(root, "metadata"), owner = md ? md->children : NULL;
	for (; owner; owner = owner->next)
		if (owner->type == XML_ELEMENT_NODE && owner->ns &&
		    xmlStrEqual(owner->ns->href, BAD_CAST LV_XMLNS) &&
		    xmlStrEqual(owner->name, BAD_CAST "owner"))
			break;
	attr(owner, "lab", ret->owner, sizeof(ret->owner));
	attr(owner, "config", ret->config, sizeof(ret->config));
	ret->foreign = !owner || !streq(ret->owner, lab);
}

static void dom_listp(virDomainPtr **list)
{
	for (size_t i = 0; *list && (*list)[i]; i++)
		virDomainFree((*list)[i]);
	free(*list);
}
#define _cleanup_dom_list_ _cleanup_(dom_listp)

static virDomainPtr find_domain(virDomainPtr *list, const char *name)
{
	for (size_t i = 0; list && list[i]; i++)
		if (streq(virDomainGetName(list[i]), name))
			return list[i];
	return NULL;
}

/* The lab's domains with few calls, whatever the number of guests: one list
 * of all domains, one of the transient ones, the states of the lab's in one
 * stats call; then only the metadata of each, one call per existing guest. */
static int domains_query(struct virt *v, const struct lab *lab, struct inv_domain *doms,
			 struct virt_dom_info *live, struct lv_error *err)
{
	_cleanup_dom_list_ virDomainPtr *all = NULL, *transient = NULL;
	if (virConnectListAllDomains(v->conn, &all, 0) < 0 ||
	    virConnectListAllDomains(v->conn, &transient, VIR_CONNECT_LIST_DOMAINS_TRANSIENT) < 0)
		return vfail(err, "cannot list the domains");
	_cleanup_free_ virDomainPtr *mine = xcalloc(lab->n_guests + 1, sizeof(virDomainPtr));
	size_t n = 0;
	for (size_t i = 0; i < lab->n_guests; i++) {
		doms[i] = (struct inv_domain){.state = DOM_ABSENT};
		virDomainPtr d = find_domain(all, lab->guests[i].name);
		if (d)
			mine[n++] = d;
	}
	if (n == 0)
		return 0;
	virDomainStatsRecordPtr *stats = NULL;
	int n_stats = virDomainListGetStats(mine, VIR_DOMAIN_STATS_STATE, &stats, 0);
	for (size_t i = 0; i < lab->n_guests; i++) {
		virDomainPtr d = find_domain(mine, lab->guests[i].name);
		if (!d)
			continue;
		int state = -1, reason;
		for (int k = 0; k < n_stats; k++)
			if (streq(virDomainGetName(stats[k]->dom), lab->guests[i].name))
				virTypedParamsGetInt(stats[k]->params, stats[k]->nparams,
						     "state.state", &state);
		/* A driver without the stats call: one state call per domain. */
		if (state < 0 && virDomainGetState(d, &state, &reason, 0) < 0) {
			virDomainStatsRecordListFree(stats);
			return vfail(err, "cannot read the state of domain '%s'",
				     lab->guests[i].name);
		}
		doms[i].state = map_state(state);
		doms[i].persistent = !find_domain(transient, lab->guests[i].name);
		read_definition(d, lab->name, &doms[i], live ? &live[i] : NULL);
	}
	virDomainStatsRecordListFree(stats);
	return 0;
}

int virt_inventory_live(struct virt *v, const struct lab *lab, struct inventory *inv,
			struct virt_dom_info *live, struct lv_error *err)
{
	inv->network_driver = v->network_driver;
	if (live)
		memset(live, 0, lab->n_guests * sizeof(*live));
	if (domains_query(v, lab, inv->doms, live, err) < 0)
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

int virt_inventory(struct virt *v, const struct lab *lab, struct inventory *inv,
		   struct lv_error *err)
{
	return virt_inventory_live(v, lab, inv, NULL, err);
}

int virt_running(struct virt *v, const struct lab *lab, bool *ret_running, struct lv_error *err)
{
	_cleanup_dom_list_ virDomainPtr *active = NULL;
	if (virConnectListAllDomains(v->conn, &active, VIR_CONNECT_LIST_DOMAINS_ACTIVE) < 0)
		return vfail(err, "cannot list the running domains");
	for (size_t i = 0; i < lab->n_guests; i++)
		ret_running[i] = find_domain(active, lab->guests[i].name) != NULL;
	return 0;
}

/* ---- graphics passwords ---- */

/* The passwd of the first graphics element of a domain's secure XML, or "". */
static void current_password(struct virt *v, const char *name, char *buf, size_t len)
{
	buf[0] = '\0';
	_cleanup_dom_ virDomainPtr dom = virDomainLookupByName(v->conn, name);
	char *xml =
	    dom ? virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE) : NULL;
	if (!xml)
		return;
	_cleanup_doc_ xmlDocPtr doc = parse_xml(xml);
	explicit_bzero(xml, strlen(xml));
	free(xml);
	xmlNodePtr devices = doc ? child(xmlDocGetRootElement(doc), "devices") : NULL;
	for (xmlNodePtr g = child(devices, "graphics"); g && !buf[0]; g = next_named(g, "graphics"))
		attr(g, "passwd", buf, len);
}

/* 20 letters and digits from the kernel's random source. */
static int new_password(char *buf, size_t len, struct lv_error *err)
{
	static const char set[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	unsigned char raw[20];
	if (len < sizeof(raw) + 1)
		return lv_fail(err, LV_EXIT_FAIL, "password buffer too small");
	if (getentropy(raw, sizeof(raw)) < 0)
		return lv_fail_errno(err, errno, "cannot make a password");
	for (size_t i = 0; i < sizeof(raw); i++)
		buf[i] = set[raw[i] % (sizeof(set) - 1)];
	buf[sizeof(raw)] = '\0';
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

/* xml with a passwd on each graphics element that has none (VNC takes 8
 * characters at most); NULL in *ret when nothing needed one. */
static int add_passwords(struct virt *v, const char *xml, char **ret, struct lv_error *err)
{
	*ret = NULL;
	if (!strstr(xml, "<graphics"))
		return 0;
	_cleanup_doc_ xmlDocPtr doc = parse_xml(xml);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root)
		return lv_fail(err, LV_EXIT_FAIL, "define: the domain XML does not parse");
	char name[256], pw[64];
	xmlChar *n = xmlNodeGetContent(child(root, "name"));
	snprintf(name, sizeof(name), "%s", n ? (const char *)n : "");
	xmlFree(n);
	current_password(v, name, pw, sizeof(pw));
	if (!pw[0] && new_password(pw, sizeof(pw), err) < 0)
		return -1;
	for (xmlNodePtr g = child(child(root, "devices"), "graphics"); g;
	     g = next_named(g, "graphics")) {
		char type[16], has[8];
		attr(g, "type", type, sizeof(type));
		attr(g, "passwd", has, sizeof(has));
		char one[64];
		snprintf(one, streq(type, "vnc") ? 9 : sizeof(one), "%s", pw);
		if (!has[0])
			xmlSetProp(g, BAD_CAST "passwd", BAD_CAST one);
		explicit_bzero(one, sizeof(one));
	}
	explicit_bzero(pw, sizeof(pw));
	xmlChar *out = NULL;
	int len = 0;
	xmlDocDumpMemory(doc, &out, &len);
	if (!out)
		return lv_fail(err, LV_EXIT_FAIL, "out of memory");
	*ret = xstrndup((const char *)out, (size_t)len);
	explicit_bzero(out, (size_t)len);
	xmlFree(out);
	return 0;
}

static void wipe_freep(char **p)
{
	if (*p) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
	}
}

int virt_domain_define(struct virt *v, const char *xml, bool autostart, struct lv_error *err)
{
	__attribute__((cleanup(wipe_freep))) char *with_pw = NULL;
	if (add_passwords(v, xml, &with_pw, err) < 0)
		return -1;
	_cleanup_dom_ virDomainPtr dom =
	    virDomainDefineXMLFlags(v->conn, with_pw ? with_pw : xml, VIR_DOMAIN_DEFINE_VALIDATE);
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

int virt_domain_undefine(struct virt *v, const char *name, bool keep_nvram, struct lv_error *err)
{
	unsigned basic = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA;
	unsigned nvram = keep_nvram ? VIR_DOMAIN_UNDEFINE_KEEP_NVRAM : VIR_DOMAIN_UNDEFINE_NVRAM;
	unsigned all = basic | nvram | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA;
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

/* ---- graphics and addresses ---- */

int virt_domain_graphics(struct virt *v, const char *name, struct virt_graphics *ret,
			 struct lv_error *err)
{
	*ret = (struct virt_graphics){0};
	_cleanup_dom_ virDomainPtr dom = virDomainLookupByName(v->conn, name);
	__attribute__((cleanup(wipe_freep))) char *xml =
	    dom ? virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_SECURE) : NULL;
	if (!xml)
		return vfail(err, "cannot read domain '%s'", name);
	_cleanup_doc_ xmlDocPtr doc = parse_xml(xml);
	xmlNodePtr devices = doc ? child(xmlDocGetRootElement(doc), "devices") : NULL;
	xmlNodePtr g = child(devices, "graphics");
	if (!g)
		return lv_fail(err, LV_EXIT_FAIL, "guest '%s' has no graphical console", name);
	char port[16];
	attr(g, "type", ret->type, sizeof(ret->type));
	attr(g, "port", port, sizeof(port));
	attr(g, "passwd", ret->passwd, sizeof(ret->passwd));
	attr(child(g, "listen"), "address", ret->host, sizeof(ret->host));
	if (!ret->host[0])
		attr(g, "listen", ret->host, sizeof(ret->host));
	ret->port = atoi(port);
	if (ret->port <= 0)
		return lv_fail(err, LV_EXIT_FAIL, "guest '%s': its %s console has no port", name,
			       ret->type);
	return 0;
}

/* Adds mac/addr unless it is there already (from an earlier source, with or
 * without its prefix length), or loopback or link-local. */
static void addr_add(struct virt_addr **list, size_t *n, const char *mac, const char *addr,
		     unsigned prefix, const char *source)
{
	if (!mac || !addr || startswith(addr, "127.") || streq(addr, "::1") ||
	    startswith(addr, "fe80:") || startswith(addr, "169.254."))
		return;
	char text[64];
	snprintf(text, sizeof(text), prefix ? "%s/%u" : "%s", addr, prefix);
	size_t len = strcspn(text, "/");
	for (size_t i = 0; i < *n; i++)
		if (!strcasecmp((*list)[i].mac, mac) && strcspn((*list)[i].addr, "/") == len &&
		    !strncmp((*list)[i].addr, text, len))
			return;
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	struct virt_addr *a = &(*list)[(*n)++];
	*a = (struct virt_addr){.source = source};
	snprintf(a->mac, sizeof(a->mac), "%s", mac);
	for (char *c = a->mac; *c; c++)
		*c = (char)(*c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' : *c);
	snprintf(a->addr, sizeof(a->addr), "%s", text);
}

/* Addresses from one of libvirt's sources; false when the source failed. */
static bool addrs_from(virDomainPtr dom, unsigned source, const char *label,
		       struct virt_addr **list, size_t *n)
{
	virDomainInterfacePtr *ifaces = NULL;
	int count = virDomainInterfaceAddresses(dom, &ifaces, source, 0);
	if (count < 0)
		return false;
	for (int i = 0; i < count; i++) {
		for (unsigned k = 0; k < ifaces[i]->naddrs; k++)
			addr_add(list, n, ifaces[i]->hwaddr, ifaces[i]->addrs[k].addr,
				 ifaces[i]->addrs[k].prefix, label);
		virDomainInterfaceFree(ifaces[i]);
	}
	free(ifaces);
	return true;
}

/* labvirt's interfaces are type='bridge', for which libvirt's own LEASE source
 * finds nothing: read the leases of the lab's networks instead. */
static void addrs_from_leases(struct virt *v, const char *network, struct virt_addr **list,
			      size_t *n)
{
	for (struct lease_cache *l = v->leases; l; l = l->next)
		if (streq(l->network, network)) {
			for (size_t i = 0; i < l->n; i++)
				addr_add(list, n, l->list[i].mac, l->list[i].addr, 0, "lease");
			return;
		}
	struct virt_addr *mine = NULL;
	size_t n_mine = 0;
	_cleanup_net_ virNetworkPtr net = virNetworkLookupByName(v->conn, network);
	virNetworkDHCPLeasePtr *leases = NULL;
	int count = net ? virNetworkGetDHCPLeases(net, NULL, &leases, 0) : -1;
	for (int i = 0; i < count; i++) {
		addr_add(&mine, &n_mine, leases[i]->mac, leases[i]->ipaddr, leases[i]->prefix,
			 "lease");
		virNetworkDHCPLeaseFree(leases[i]);
	}
	free(leases);
	for (size_t i = 0; i < n_mine; i++)
		addr_add(list, n, mine[i].mac, mine[i].addr, 0, "lease");
	if (!v->cache_leases) {
		free(mine);
		return;
	}
	struct lease_cache *l = xcalloc(1, sizeof(*l));
	*l = (struct lease_cache){v->leases, xstrdup(network), mine, n_mine};
	v->leases = l;
}

void virt_cache_leases(struct virt *v)
{
	v->cache_leases = true;
}

static bool mac_in(const char *mac, char macs[][18], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(mac, macs[i]))
			return true;
	return false;
}

/* libvirt 9.0's ARP source fails on newer kernels ("wrong nlmsg len"); on a
 * local connection the neighbour table is ours to read: complete entries of
 * /proc/net/arp whose MAC is the domain's. */
static void addrs_from_proc_arp(char macs[][18], size_t n_macs, struct virt_addr **list, size_t *n)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/net/arp", "re");
	char line[256], ip[64], mac[32];
	unsigned flags;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %*s %x %31s", ip, &flags, mac) == 3 && (flags & 0x2) &&
		    mac_in(mac, macs, n_macs))
			addr_add(list, n, mac, ip, 0, "arp");
}

int virt_domain_addresses(struct virt *v, const char *name, const struct virt_dom_info *known,
			  char *const *networks, size_t n_networks, struct virt_addr **ret,
			  size_t *ret_n, bool *ret_agent, struct lv_error *err)
{
	/* The domain itself is needed only to ask its agent or libvirt's ARP
	 * source, or to read what the caller does not know yet. */
	_cleanup_dom_ virDomainPtr dom = NULL;
	struct virt_dom_info read;
	if ((!known || known->agent_channel || !v->local) &&
	    !(dom = virDomainLookupByName(v->conn, name)))
		return vfail(err, "cannot look up domain '%s'", name);
	if (!known) {
		if (live_info(dom, name, &read, err) < 0)
			return -1;
		known = &read;
	}
	char(*macs)[18] = (char(*)[18])known->macs;
	size_t n_macs = known->n_macs;
	struct virt_addr *list = NULL;
	size_t n = 0;
	*ret_agent = known->agent_channel &&
		     addrs_from(dom, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT, "agent", &list, &n);
	struct virt_addr *leases = NULL;
	size_t n_leases = 0;
	for (size_t i = 0; i < n_networks; i++)
		addrs_from_leases(v, networks[i], &leases, &n_leases);
	for (size_t i = 0; i < n_leases; i++)
		if (mac_in(leases[i].mac, macs, n_macs))
			addr_add(&list, &n, leases[i].mac, leases[i].addr, 0, "lease");
	free(leases);
	/* On a local connection the neighbour table is the one libvirt would read. */
	if (v->local)
		addrs_from_proc_arp(macs, n_macs, &list, &n);
	else
		addrs_from(dom, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP, "arp", &list, &n);
	*ret = list;
	*ret_n = n;
	return 0;
}

/* ---- agent events ---- */

struct virt_watch {
	struct virt *v;
	int id;
	struct waiter w;
};

static void on_agent(virConnectPtr c, virDomainPtr d, int state, int reason, void *opaque)
{
	on_lifecycle(c, d, state, reason, opaque);
}

int virt_watch_agents(struct virt *v, struct virt_watch **ret, struct lv_error *err)
{
	struct virt_watch *w = xcalloc(1, sizeof(*w));
	*w = (struct virt_watch){.v = v,
				 .w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0}};
	w->id = virConnectDomainEventRegisterAny(v->conn, NULL, VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE,
						 VIR_DOMAIN_EVENT_CALLBACK(on_agent), &w->w, NULL);
	if (w->id < 0) {
		free(w);
		return vfail(err, "cannot watch guest agent events");
	}
	*ret = w;
	return 0;
}

void virt_watch_wait(struct virt_watch *w, int timeout_ms)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L)
		deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
	pthread_mutex_lock(&w->w.lock);
	unsigned seen = w->w.events;
	int rc = 0;
	while (w->w.events == seen && rc == 0)
		rc = pthread_cond_timedwait(&w->w.cond, &w->w.lock, &deadline);
	pthread_mutex_unlock(&w->w.lock);
}

void virt_watch_free(struct virt_watch *w)
{
	if (!w)
		return;
	virConnectDomainEventDeregisterAny(w->v->conn, w->id);
	free(w);
}

/* ---- added for issue 5 (faults): is the daemon still there? ---- */

bool virt_alive(const struct virt *v)
{
	return v && v->conn && virConnectIsAlive(v->conn) == 1;
}
