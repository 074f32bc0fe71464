/* inventory.c - what exists of a lab: its domains (state, owner, config
 * stamp, sizes, and what status shows of a running one) and its networks, in
 * few calls whatever the number of guests. */
#include "virt-private.h"

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
	_cleanup_dom_ virDomainPtr dom = virt_lookup(v, name);
	if (!dom) {
		virErrorPtr e = virGetLastError();
		if (e && e->code == VIR_ERR_NO_DOMAIN)
			return 0;
		return virt_fail(err, "cannot look up domain '%s'", name);
	}
	int state, reason;
	if (virDomainGetState(dom, &state, &reason, 0) < 0)
		return virt_fail(err, "cannot read the state of domain '%s'", name);
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
		return virt_fail(err, "cannot look up network '%s'", name);
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

int virt_live_info(virDomainPtr dom, const char *name, struct virt_dom_info *ret,
		   struct lv_error *err)
{
	_cleanup_free_ char *xml = dom ? virDomainGetXMLDesc(dom, 0) : NULL;
	_cleanup_doc_ xmlDocPtr doc = xml ? parse_xml(xml) : NULL;
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root)
		return virt_fail(err, "cannot read domain '%s'", name);
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

/* The lab's domains of one kind on their connection, with few calls, whatever the
 * number of guests: one list of all domains, one of the transient ones, the states
 * of the lab's in one stats call; then only the metadata of each, one call per
 * existing guest. A domain of a guest's name on the other driver (a VM's name
 * taken by a container, or the reverse) makes the guest's name foreign there. */
static int domains_query_kind(struct virt *v, const struct lab *lab, enum lab_kind kind,
			      struct inv_domain *doms, struct virt_dom_info *live,
			      struct lv_error *err)
{
	virConnectPtr conn = kind == KIND_CT && v->lxc ? v->lxc : v->conn;
	virConnectPtr other = kind == KIND_CT ? v->conn : v->lxc;
	_cleanup_dom_list_ virDomainPtr *all = NULL, *transient = NULL, *others = NULL;
	if (virConnectListAllDomains(conn, &all, 0) < 0 ||
	    virConnectListAllDomains(conn, &transient, VIR_CONNECT_LIST_DOMAINS_TRANSIENT) < 0 ||
	    (other && other != conn && virConnectListAllDomains(other, &others, 0) < 0))
		return virt_fail(err, "cannot list the domains");
	_cleanup_free_ virDomainPtr *mine = xcalloc(lab->n_guests + 1, sizeof(virDomainPtr));
	size_t n = 0;
	for (size_t i = 0; i < lab->n_guests; i++) {
		if (lab->guests[i].kind != kind)
			continue;
		doms[i] = (struct inv_domain){.state = DOM_ABSENT};
		virDomainPtr d = find_domain(all, lab->guests[i].name);
		if (d)
			mine[n++] = d;
		else if (find_domain(others, lab->guests[i].name))
			doms[i] = (struct inv_domain){.state = DOM_OTHER, .foreign = true};
	}
	if (n == 0)
		return 0;
	virDomainStatsRecordPtr *stats = NULL;
	int n_stats = virDomainListGetStats(mine, VIR_DOMAIN_STATS_STATE, &stats, 0);
	for (size_t i = 0; i < lab->n_guests; i++) {
		virDomainPtr d =
		    lab->guests[i].kind == kind ? find_domain(mine, lab->guests[i].name) : NULL;
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
			return virt_fail(err, "cannot read the state of domain '%s'",
					 lab->guests[i].name);
		}
		doms[i].state = map_state(state);
		doms[i].persistent = !find_domain(transient, lab->guests[i].name);
		read_definition(d, lab->name, &doms[i], live ? &live[i] : NULL);
	}
	virDomainStatsRecordListFree(stats);
	return 0;
}

static int domains_query(struct virt *v, const struct lab *lab, struct inv_domain *doms,
			 struct virt_dom_info *live, struct lv_error *err)
{
	bool cts = false;
	for (size_t i = 0; i < lab->n_guests; i++)
		cts = cts || lab->guests[i].kind == KIND_CT;
	if (domains_query_kind(v, lab, KIND_VM, doms, live, err) < 0)
		return -1;
	return cts ? domains_query_kind(v, lab, KIND_CT, doms, live, err) : 0;
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
	_cleanup_dom_list_ virDomainPtr *active = NULL, *cts = NULL;
	if (virConnectListAllDomains(v->conn, &active, VIR_CONNECT_LIST_DOMAINS_ACTIVE) < 0 ||
	    (v->lxc && v->lxc != v->conn &&
	     virConnectListAllDomains(v->lxc, &cts, VIR_CONNECT_LIST_DOMAINS_ACTIVE) < 0))
		return virt_fail(err, "cannot list the running domains");
	for (size_t i = 0; i < lab->n_guests; i++)
		ret_running[i] = find_domain(lab->guests[i].kind == KIND_CT && cts ? cts : active,
					     lab->guests[i].name) != NULL;
	return 0;
}
