/* addr.c - a domain's addresses, from its guest agent, the DHCP leases of
 * the lab's networks and the neighbour table; and the watch on guest agent
 * events that waits for them. */
#include "virt-private.h"

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

void virt_leases_free(struct virt *v)
{
	for (struct lease_cache *l = v->leases, *next; l; l = next) {
		next = l->next;
		free(l->network);
		free(l->list);
		free(l);
	}
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
	if ((!known || known->agent_channel || !v->local) && !(dom = virt_lookup(v, name)))
		return virt_fail(err, "cannot look up domain '%s'", name);
	if (!known) {
		if (virt_live_info(dom, name, &read, err) < 0)
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

struct virt_watch {
	struct virt *v;
	int id;
	struct waiter w;
};

static void on_agent(virConnectPtr c, virDomainPtr d, int state, int reason, void *opaque)
{
	virt_waiter_wake(c, d, state, reason, opaque);
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
		return virt_fail(err, "cannot watch guest agent events");
	}
	*ret = w;
	return 0;
}

void virt_watch_wait(struct virt_watch *w, int timeout_ms)
{
	struct timespec deadline = deadline_in(timeout_ms);
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
