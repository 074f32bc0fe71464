/* layout/net.c - net: netN, a guest's network devices. */
#include <inttypes.h>
#include <string.h>

#include "layout-private.h"

/* ---- <guest>.conf: netN ---- */

static const char *const NET_MODELS[] = {"virtio", "e1000", "rtl8139", "vmxnet3"};

static bool parse_mac(const char *s, char ret[18])
{
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2 ? s[i] != ':' : !strchr(HEX, s[i]))
			return false;
		ret[i] = s[i] >= 'A' && s[i] <= 'F' ? (char)(s[i] - 'A' + 'a') : s[i];
	}
	ret[17] = '\0';
	return true;
}

/* The first item: MODEL or MODEL=MAC. */
static void net_model(struct parser *p, int line, const char *key, struct lab_net *n,
		      const struct prop *it)
{
	const char *model = it->k ? it->k : it->v;
	char label[64];
	snprintf(label, sizeof(label), "%s: model", key);
	if (PICK(p, line, label, model, NET_MODELS) < 0)
		return;
	snprintf(n->model, sizeof(n->model), "%s", model);
	if (!it->k)
		return;
	if (!parse_mac(it->v, n->mac))
		diag(p, line, "%s: %s is not a MAC address (XX:XX:XX:XX:XX:XX)", key, Q(it->v));
	else if (strchr("13579bdf", n->mac[1]))
		diag(p, line, "%s: MAC address %s is multicast (the first octet must be even)", key,
		     Q(it->v));
	else
		n->mac_given = true;
	if (!n->mac_given)
		n->mac[0] = '\0';
}

static void net_property(struct parser *p, int line, const char *key, struct lab_net *n,
			 const struct prop *it)
{
	char label[64];
	bool firewall;
	snprintf(label, sizeof(label), "%s: %s", key, it->k);
	if (streq(it->k, "bridge")) {
		set_str(&n->bridge, it->v);
		if (p->have_cfg && !lab_find_bridge(p->lab, it->v))
			diag(p, line, "%s: bridge %s is not defined in lab.cfg", key, Q(it->v));
	} else if (streq(it->k, "firewall")) {
		parse01(p, line, label, it->v, &firewall);
	} else if (streq(it->k, "link_down")) {
		parse01(p, line, label, it->v, &n->link_down);
	} else {
		unsupported(p, line, key, it->k);
	}
}

void conf_net(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	struct lab_guest *g = st->g;
	struct lab_net *n = &g->nets[g->n_nets++];
	*n = (struct lab_net){.line = line};
	net_key(key, &n->index);
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	const struct prop *first = &pr.items[0];
	struct prop bare = {NULL, first->v}; /* model= is Proxmox's name for the bare item */
	size_t i = 0;
	if (streq(first->k, "model"))
		first = &bare;
	if (first->k && find_name(NET_MODELS, ARRAY_SIZE(NET_MODELS), first->k) < 0)
		diag(p, line, "%s: missing model first (virtio, e1000, rtl8139 or vmxnet3)", key);
	else
		net_model(p, line, key, n, first), i++;
	for (; i < pr.n; i++)
		net_property(p, line, key, n, &pr.items[i]);
	if (!n->bridge)
		diag(p, line, "%s: missing bridge=", key);
}
