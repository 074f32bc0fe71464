/* domain.c - one domain's life: define (with its graphics password),
 * undefine, start, shut down, power off, waiting until domains are off, and
 * its XML and graphics console. */
#include <errno.h>

#include "virt-private.h"

/* The passwd of the first graphics element of a domain's secure XML, or "". */
static void current_password(struct virt *v, const char *name, char *buf, size_t len)
{
	buf[0] = '\0';
	_cleanup_dom_ virDomainPtr dom = virt_lookup(v, name);
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

int virt_domain_define(struct virt *v, const char *xml, bool autostart, struct lv_error *err)
{
	__attribute__((cleanup(wipe_freep))) char *with_pw = NULL;
	if (add_passwords(v, xml, &with_pw, err) < 0)
		return -1;
	_cleanup_dom_ virDomainPtr dom = virDomainDefineXMLFlags(
	    virt_conn_for_xml(v, xml), with_pw ? with_pw : xml, VIR_DOMAIN_DEFINE_VALIDATE);
	if (!dom)
		return virt_fail(err, "define");
	if (autostart && virDomainSetAutostart(dom, 1) < 0)
		return virt_fail(err, "set autostart");
	return 0;
}

int virt_domain_xml(struct virt *v, const char *name, char **ret_xml, struct lv_error *err)
{
	_cleanup_dom_ virDomainPtr dom = virt_lookup(v, name);
	char *xml =
	    dom ? virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE) : NULL;
	if (!xml)
		return virt_fail(err, "cannot read domain '%s'", name);
	*ret_xml = xml;
	return 0;
}

#define WITH_DOMAIN(name, call, what)                                                              \
	_cleanup_dom_ virDomainPtr dom = virt_lookup(v, name);                                     \
	if (!dom || (call) < 0)                                                                    \
		return virt_fail(err, what);                                                       \
	return 0

int virt_domain_undefine(struct virt *v, const char *name, bool keep_nvram, struct lv_error *err)
{
	unsigned basic = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA;
	unsigned nvram = keep_nvram ? VIR_DOMAIN_UNDEFINE_KEEP_NVRAM : VIR_DOMAIN_UNDEFINE_NVRAM;
	unsigned all = basic | nvram | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA;
	_cleanup_dom_ virDomainPtr dom = virt_lookup(v, name);
	if (!dom)
		return virt_fail(err, "undefine");
	if (virDomainUndefineFlags(dom, all) == 0)
		return 0;
	/* Drivers without NVRAM or checkpoints (the test driver) refuse those flags. */
	virErrorPtr e = virGetLastError();
	if (!e || e->code != VIR_ERR_INVALID_ARG)
		return virt_fail(err, "undefine");
	/* The LXC driver has no managed save or snapshots: it takes no flag. */
	if (virDomainUndefineFlags(dom, basic) < 0 && virDomainUndefine(dom) < 0)
		return virt_fail(err, "undefine");
	return 0;
}

int virt_domain_start(struct virt *v, const char *name, struct lv_error *err)
{
	WITH_DOMAIN(name, virDomainCreate(dom), "start");
}

/* A container's init may have no initctl pipe (busybox, a shell script): libvirt's
 * LXC driver then sends it SIGTERM only when asked for the signal as well. */
int virt_domain_shutdown(struct virt *v, const char *name, struct lv_error *err)
{
	_cleanup_dom_ virDomainPtr dom = virt_lookup(v, name);
	bool ct = dom && v->lxc && v->lxc != v->conn && virDomainGetConnect(dom) == v->lxc;
	if (!dom)
		return virt_fail(err, "shut down");
	/* A container: its init's runlevel 0 through the initctl pipe (systemd,
	 * sysvinit) and SIGTERM (inits without the pipe); libvirt 9.0 reports success
	 * for initctl when there is no pipe, and does not fall back by itself. */
	if (ct) {
		int by_pipe = virDomainShutdownFlags(dom, VIR_DOMAIN_SHUTDOWN_INITCTL);
		if (virDomainShutdownFlags(dom, VIR_DOMAIN_SHUTDOWN_SIGNAL) == 0 || by_pipe == 0)
			return 0;
	}
	if (ct || virDomainShutdown(dom) < 0)
		return virt_fail(err, "shut down");
	return 0;
}

int virt_domain_poweroff(struct virt *v, const char *name, struct lv_error *err)
{
	_cleanup_dom_ virDomainPtr dom = virt_lookup(v, name);
	if (dom && virDomainDestroy(dom) == 0)
		return 0;
	/* In embedded mode the event thread may see QEMU go (and mark the domain
	 * shut off) before virDomainDestroy returns, which then says "not running". */
	int state, reason;
	if (dom && virDomainGetState(dom, &state, &reason, 0) == 0 && state == VIR_DOMAIN_SHUTOFF)
		return 0;
	return virt_fail(err, "power off");
}

int virt_domain_suspend(struct virt *v, const char *name, struct lv_error *err)
{
	_cleanup_dom_ virDomainPtr dom = virt_lookup(v, name);
	if (!dom || virDomainSuspend(dom) < 0)
		return virt_fail(err, "pause");
	return 0;
}

int virt_domain_resume(struct virt *v, const char *name, struct lv_error *err)
{
	_cleanup_dom_ virDomainPtr dom = virt_lookup(v, name);
	if (!dom || virDomainResume(dom) < 0)
		return virt_fail(err, "resume");
	return 0;
}

int virt_waiter_wake(virConnectPtr c, virDomainPtr d, int event, int detail, void *opaque)
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
		_cleanup_dom_ virDomainPtr dom = virt_lookup(v, names[i]);
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
					     VIR_DOMAIN_EVENT_CALLBACK(virt_waiter_wake), &w, NULL);
	if (id < 0)
		return virt_fail(err, "cannot watch domain events");
	int lxc_id = -1;
	if (v->lxc && v->lxc != v->conn &&
	    (lxc_id = virConnectDomainEventRegisterAny(v->lxc, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
						       VIR_DOMAIN_EVENT_CALLBACK(virt_waiter_wake),
						       &w, NULL)) < 0) {
		virConnectDomainEventDeregisterAny(v->conn, id);
		return virt_fail(err, "cannot watch container events");
	}
	struct timespec deadline = deadline_in(timeout_ms);
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
	if (lxc_id >= 0)
		virConnectDomainEventDeregisterAny(v->lxc, lxc_id);
	return 0;
}

int virt_domain_graphics(struct virt *v, const char *name, struct virt_graphics *ret,
			 struct lv_error *err)
{
	*ret = (struct virt_graphics){0};
	_cleanup_dom_ virDomainPtr dom = virt_lookup(v, name);
	__attribute__((cleanup(wipe_freep))) char *xml =
	    dom ? virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_SECURE) : NULL;
	if (!xml)
		return virt_fail(err, "cannot read domain '%s'", name);
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
