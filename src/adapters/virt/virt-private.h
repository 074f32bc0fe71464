/* virt-private.h - what the files of the libvirt adapter (src/adapters/virt/)
 * share: the connection, libvirt's message in struct lv_error, cleanup of
 * libvirt objects, reading libvirt's XML, and waiting on its events. Only
 * these files include it; the rest of labvirt sees include/virt.h. */
#ifndef VIRT_PRIVATE_H
#define VIRT_PRIVATE_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
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
	virConnectPtr lxc; /* containers' (virt_open_lxc): the LXC driver, or conn itself
			      (the test driver takes both kinds); NULL: none opened */
	bool events;       /* holds the event loop thread (event_loop_want) */
	char *uri;
	bool network_driver;
	bool local;
	bool cache_leases;
	struct lease_cache *leases;
};

/* The domain called name: the QEMU connection's, else the LXC one's (conn.c). */
virDomainPtr virt_lookup(struct virt *v, const char *name);
/* The connection a domain XML goes to: the LXC one for <domain type="lxc">. */
virConnectPtr virt_conn_for_xml(struct virt *v, const char *xml);

/* Frees the lease cache (addr.c). */
void virt_leases_free(struct virt *v);

/* Fails with the context fmt gives and libvirt's last message. */
static inline int virt_fail(struct lv_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline int virt_fail(struct lv_error *err, const char *fmt, ...)
{
	char ctx[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	const char *m = virGetLastErrorMessage();
	return lv_fail(err, LV_EXIT_FAIL, "%s: %s", ctx, m ? m : "unknown libvirt error");
}

static inline void domp(virDomainPtr *d)
{
	if (*d)
		virDomainFree(*d);
}
static inline void netp(virNetworkPtr *n)
{
	if (*n)
		virNetworkFree(*n);
}
#define _cleanup_dom_ _cleanup_(domp)
#define _cleanup_net_ _cleanup_(netp)

static inline void wipe_freep(char **p)
{
	if (*p) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
	}
}

/* ---- reading libvirt's XML ---- */

static inline void xml_docp(xmlDocPtr *doc)
{
	if (*doc)
		xmlFreeDoc(*doc);
}
#define _cleanup_doc_ _cleanup_(xml_docp)

static inline xmlDocPtr parse_xml(const char *xml)
{
	return xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/* The first child element of parent called name, or NULL. */
static inline xmlNodePtr child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name))
			return n;
	return NULL;
}

static inline xmlNodePtr next_named(xmlNodePtr n, const char *name)
{
	for (n = n ? n->next : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name))
			return n;
	return NULL;
}

/* Copies attribute name of node into buf ("" when absent). */
static inline void attr(xmlNodePtr node, const char *name, char *buf, size_t len)
{
	xmlChar *v = node ? xmlGetProp(node, BAD_CAST name) : NULL;
	snprintf(buf, len, "%s", v ? (const char *)v : "");
	if (v) {
		explicit_bzero(v, strlen((char *)v));
		xmlFree(v);
	}
}

/* What status shows of a domain, from its live XML (inventory.c). */
int virt_live_info(virDomainPtr dom, const char *name, struct virt_dom_info *ret,
		   struct lv_error *err);

/* ---- waiting on events ---- */

/* Lifecycle events wake the waiter, which then reads the states itself. */
struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned events;
};

/* A domain event callback that wakes the waiter opaque (domain.c). */
int virt_waiter_wake(virConnectPtr c, virDomainPtr d, int event, int detail, void *opaque);

/* The CLOCK_REALTIME time timeout_ms from now, for pthread_cond_timedwait. */
static inline struct timespec deadline_in(int timeout_ms)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L)
		deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
	return deadline;
}

#endif
