/* layout/net.c - net: netN, a guest's network devices. */
#include <inttypes.h>
#include <string.h>

#include "layout-private.h"

/* ---- <guest>.conf: netN ---- */

static const char *const NET_MODELS[] = {
    "virtio", "e1000",  "rtl8139", "vmxnet3",  "e1000-82540em", "e1000-82544gc", "e1000-82545em",
    "e1000e", "i82551", "i82557b", "i82559er", "ne2k_isa",      "ne2k_pci",      "pcnet"};

bool parse_mac(const char *s, char ret[18])
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

/* trunks=10;20-30: VLAN ids 1..4094 and ranges. */
static bool is_vlan_list(const char *s)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *save = NULL;
	if (!*s || s[strlen(s) - 1] == ';')
		return false;
	for (char *r = strtok_r(copy, ";", &save); r; r = strtok_r(NULL, ";", &save)) {
		char *dash = strchr(r, '-');
		if (dash)
			*dash = '\0';
		int lo = is_all(r, DIGITS) ? atoi(r) : 0;
		int hi = !dash ? lo : is_all(dash + 1, DIGITS) ? atoi(dash + 1) : 0;
		if (lo < 1 || hi > 4094 || hi < lo)
			return false;
	}
	return true;
}

static void net_property(struct parser *p, int line, const char *key, struct lab_net *n,
			 const struct prop *it)
{
	char label[64];
	uint64_t n64;
	snprintf(label, sizeof(label), "%s: %s", key, it->k);
	if (streq(it->k, "bridge")) {
		set_str(&n->bridge, it->v);
		if (p->have_cfg && !lab_find_bridge(p->lab, it->v))
			diag(p, line, "%s: bridge %s is not defined in lab.cfg", key, Q(it->v));
	} else if (streq(it->k, "firewall")) {
		parse01(p, line, label, it->v, &n->firewall);
	} else if (streq(it->k, "queues")) {
		if (parse_uint(p, line, label, it->v, 0, 64, "", &n64) == 0)
			n->queues = (int)n64;
	} else if (streq(it->k, "mtu")) {
		if (parse_uint(p, line, label, it->v, 1, 65520, "", &n64) == 0)
			n->mtu = (int)n64;
	} else if (streq(it->k, "tag")) {
		if (parse_uint(p, line, label, it->v, 1, 4094, "", &n64) == 0)
			n->tag = (int)n64;
	} else if (streq(it->k, "rate")) {
		if (!is_number(it->v))
			diag(p, line, "%s %s is not a number of MB/s", label, Q(it->v));
		else
			n->rate = strtod(it->v, NULL);
	} else if (streq(it->k, "trunks")) {
		if (!is_vlan_list(it->v))
			diag(p, line, "%s %s is not a list of VLAN ids (10;20-30)", label,
			     Q(it->v));
		else
			set_str(&n->trunks, it->v);
	} else if (streq(it->k, "macaddr")) {
		if (!parse_mac(it->v, n->mac))
			diag(p, line, "%s: %s is not a MAC address (XX:XX:XX:XX:XX:XX)", key,
			     Q(it->v));
		else
			n->mac_given = true;
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
		diag(p, line,
		     "%s: missing model first (virtio, e1000, e1000e, rtl8139, vmxnet3, ...)", key);
	else
		net_model(p, line, key, n, first), i++;
	for (; i < pr.n; i++)
		net_property(p, line, key, n, &pr.items[i]);
	if (!n->bridge)
		diag(p, line, "%s: missing bridge=", key);
}
