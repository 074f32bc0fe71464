/* ip.c - `labvirt ip GUEST`: a guest's addresses, from its guest agent, the
 * DHCP leases of the lab's networks, or the host's neighbour table; and the
 * wait for them behind `up --wait`. */
#include <string.h>
#include <time.h>

#include "cmd.h"

int ctx_running_guest(struct ctx *c, const char *verb, const char *name,
		      const struct lab_guest **ret, struct lv_error *err)
{
	const struct lab_guest *g = lab_find_guest(c->lab, name);
	if (!g)
		return lv_fail(err, LV_EXIT_USAGE, "no guest '%s' in lab '%s'", name, c->lab->name);
	struct inv_domain d;
	if (virt_domain_query(c->virt, c->lab->name, g->name, &d, err) < 0)
		return -1;
	if (d.state == DOM_ABSENT || d.foreign)
		return lv_fail(err, LV_EXIT_FAIL,
			       "%s: guest '%s' is not created: run 'labvirt up %s'", verb, g->name,
			       g->name);
	if (d.state != DOM_RUNNING)
		return lv_fail(err, LV_EXIT_FAIL, "%s: guest '%s' is not running", verb, g->name);
	*ret = g;
	return 0;
}

int ctx_guest_addresses(struct ctx *c, const struct lab_guest *g, const struct virt_dom_info *known,
			struct virt_addr **ret, size_t *ret_n, bool *ret_agent,
			struct lv_error *err)
{
	char *networks[LAB_MAX_NETS] = {0};
	size_t n = 0;
	for (size_t i = 0; i < g->n_nets && virt_network_driver(c->virt); i++) {
		const struct lab_bridge *b = lab_find_bridge(c->lab, g->nets[i].bridge);
		if (b && b->mode != BRIDGE_HOST)
			networks[n++] = lab_network_name(c->lab, b);
	}
	int rc =
	    virt_domain_addresses(c->virt, g->name, known, networks, n, ret, ret_n, ret_agent, err);
	for (size_t i = 0; i < n; i++)
		free(networks[i]);
	return rc;
}

/* "net0", from the MAC; "-" for an interface the layout does not have. */
static const char *net_of(const struct lab_guest *g, const char *mac)
{
	static const char *const names[] = {
	    "net0",  "net1",  "net2",  "net3",  "net4",  "net5",  "net6",  "net7",
	    "net8",  "net9",  "net10", "net11", "net12", "net13", "net14", "net15",
	    "net16", "net17", "net18", "net19", "net20", "net21", "net22", "net23",
	    "net24", "net25", "net26", "net27", "net28", "net29", "net30", "net31"};
	for (size_t i = 0; i < g->n_nets; i++)
		if (streq(g->nets[i].mac, mac) && g->nets[i].index < (int)ARRAY_SIZE(names))
			return names[g->nets[i].index];
	return "-";
}

int cmd_ip(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	int first = verb_options(argc, argv, NULL, err);
	if (first < 0 || ctx_connect(c, err) < 0)
		return -1;
	if (argc - first != 1)
		return lv_fail(err, LV_EXIT_USAGE, "ip: name one guest");
	const struct lab_guest *g = NULL;
	_cleanup_free_ struct virt_addr *addrs = NULL;
	size_t n = 0;
	bool agent = false;
	if (ctx_running_guest(c, "ip", argv[first], &g, err) < 0 ||
	    ctx_guest_addresses(c, g, NULL, &addrs, &n, &agent, err) < 0)
		return -1;
	if (n == 0)
		return lv_fail(err, LV_EXIT_FAIL,
			       "ip: guest '%s' has no address yet (%s, no DHCP lease, no "
			       "neighbour entry)",
			       g->name, agent ? "its agent reports none" : "no agent answers");
	for (size_t i = 0; i < n; i++)
		fprintf(c->out, "%-6s %s %-20s %s\n", net_of(g, addrs[i].mac), addrs[i].mac,
			addrs[i].addr, addrs[i].source);
	return 0;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Whether guest g is done waiting: it is not running, it has no way to get
 * an address, it has one, or its agent answered. */
static int guest_ready(struct ctx *c, const struct lab_guest *g, bool *ret, struct lv_error *err)
{
	struct inv_domain d;
	if (virt_domain_query(c->virt, c->lab->name, g->name, &d, err) < 0)
		return -1;
	*ret = true;
	if (d.state != DOM_RUNNING || d.foreign || (g->n_nets == 0 && !g->agent))
		return 0;
	_cleanup_free_ struct virt_addr *addrs = NULL;
	size_t n = 0;
	bool agent = false;
	if (ctx_guest_addresses(c, g, NULL, &addrs, &n, &agent, err) < 0)
		return -1;
	*ret = n > 0 || agent;
	if (*ret)
		fprintf(c->out, "%s: %s\n", g->name,
			n ? addrs[0].addr : "its guest agent answers (no address)");
	return 0;
}

/* Agent events wake the wait at once; leases and neighbours have no event of
 * their own, so they are looked at again every second. */
int ctx_wait_addresses(struct ctx *c, const bool *selected, int timeout_s, struct lv_error *err)
{
	_cleanup_free_ bool *done = xcalloc(c->lab->n_guests, sizeof(bool));
	struct virt_watch *w = NULL;
	if (virt_watch_agents(c->virt, &w, err) < 0)
		return -1;
	double deadline = now_s() + timeout_s;
	int rc = 0;
	for (;;) {
		size_t left = 0;
		for (size_t i = 0; i < c->lab->n_guests && rc == 0; i++) {
			if (!selected[i] || done[i])
				continue;
			rc = guest_ready(c, &c->lab->guests[i], &done[i], err);
			left += !done[i];
		}
		double remaining = deadline - now_s();
		if (rc < 0 || left == 0 || remaining <= 0)
			break;
		virt_watch_wait(w, remaining < 1 ? (int)(remaining * 1000) + 1 : 1000);
	}
	virt_watch_free(w);
	if (rc < 0)
		return -1;
	_cleanup_free_ char *names = xstrdup("");
	size_t n = 0;
	for (size_t i = 0; i < c->lab->n_guests; i++) {
		if (!selected[i] || done[i])
			continue;
		char *more = xasprintf("%s%s'%s'", names, n++ ? ", " : "", c->lab->guests[i].name);
		free(names);
		names = more;
	}
	if (n)
		return lv_fail(err, LV_EXIT_FAIL,
			       "up: no address after %d seconds for guest%s %s (no agent answers, "
			       "no DHCP lease, no neighbour entry)",
			       timeout_s, n == 1 ? "" : "s", names);
	return 0;
}
