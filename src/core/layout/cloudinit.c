/* layout/cloudinit.c - cloudinit: Proxmox's cloud-init keys (ciuser, cipassword, sshkeys,
 * nameserver, searchdomain, citype, cicustom, ipconfigN). */
#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

#include "layout-private.h"

/* ---- <guest>.conf: cloud-init ---- */

void conf_ciuser(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	(void)key;
	st->g->ci.set = true;
	if (strlen(v) > 32 || !is_all(v, LOWER DIGITS "_-") || !strchr(LOWER "_", v[0]))
		diag(p, line,
		     "ciuser: %s is not a user name (1..32 of a-z, 0-9, '_', '-', not "
		     "starting with a digit or '-')",
		     Q(v));
	set_str(&st->g->ci.user, v);
}

void conf_cipassword(struct parser *p, struct conf_state *st, const char *key, int line,
		     const char *v)
{
	(void)p, (void)key, (void)line;
	st->g->ci.set = true;
	set_str(&st->g->ci.password, v);
}

static int hex_value(char c)
{
	return is_digit(c)                              ? c - '0'
	       : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
							: -1;
}

/* Proxmox writes sshkeys URL-encoded (a newline is %0A). */
void conf_sshkeys(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	(void)key;
	st->g->ci.set = true;
	char *out = xmalloc(strlen(v) + 1), *o = out;
	for (const char *c = v; *c; c++) {
		int hi = *c == '%' ? hex_value(c[1]) : -1, lo = hi >= 0 ? hex_value(c[2]) : -1;
		if (*c == '%' && lo < 0) {
			diag(p, line,
			     "sshkeys: %s has a '%%' that is not followed by two hex digits", Q(v));
			free(out);
			return;
		}
		*o++ = *c == '%' ? (char)(hi << 4 | lo) : *c;
		c += *c == '%' ? 2 : 0;
	}
	*o = '\0';
	for (const char *l = out; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] == '\n'))
		if (!is_text(l, strcspn(l, "\n"), false) || memchr(l, '\0', strcspn(l, "\n"))) {
			diag(p, line, "sshkeys: the decoded keys are not text lines");
			free(out);
			return;
		}
	free(st->g->ci.sshkeys);
	st->g->ci.sshkeys = out;
}

static bool is_ipv6(const char *s)
{
	return strchr(s, ':') && strlen(s) <= 39 && is_all(s, HEX ":.");
}

void conf_nameserver(struct parser *p, struct conf_state *st, const char *key, int line,
		     const char *v)
{
	(void)key;
	st->g->ci.set = true;
	_cleanup_free_ char *copy = xstrdup(v);
	char *save = NULL;
	uint32_t a;
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		if (!parse_ipv4(w, strlen(w), &a) && !is_ipv6(w))
			diag(p, line, "nameserver: %s is not an IP address", Q(w));
	set_str(&st->g->ci.nameserver, v);
}

static bool is_domain(const char *s)
{
	if (strlen(s) > 253 || s[0] == '.' || strstr(s, ".."))
		return false;
	_cleanup_free_ char *copy = xstrdup(s);
	char *save = NULL;
	for (char *l = strtok_r(copy, ".", &save); l; l = strtok_r(NULL, ".", &save))
		if (strlen(l) > 63 || !is_all(l, LOWER UPPER DIGITS "-") || l[0] == '-' ||
		    l[strlen(l) - 1] == '-')
			return false;
	return true;
}

void conf_searchdomain(struct parser *p, struct conf_state *st, const char *key, int line,
		       const char *v)
{
	(void)key;
	st->g->ci.set = true;
	_cleanup_free_ char *copy = xstrdup(v);
	char *save = NULL;
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		if (!is_domain(w))
			diag(p, line, "searchdomain: %s is not a domain name", Q(w));
	set_str(&st->g->ci.searchdomain, v);
}

void conf_citype(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const char *const names[] = {"nocloud", "configdrive2", "opennebula"};
	(void)key;
	st->g->ci.set = true;
	if (PICK(p, line, "citype:", v, names) >= 0)
		set_str(&st->g->ci.type, v);
}

/* cicustom's STORAGE:snippets/FILE: <dir storage path>/snippets/FILE, as on Proxmox. */
static char *snippet_path(struct parser *p, int line, const char *what, const char *v)
{
	const char *colon = strchr(v, ':');
	_cleanup_free_ char *sid = colon ? xstrndup(v, (size_t)(colon - v)) : NULL;
	const struct lab_storage *s = sid ? lab_find_storage(p->lab, sid) : NULL;
	const char *file = colon ? colon + 1 : "";
	if (!colon || !startswith(file, "snippets/") || !is_file_name(file + strlen("snippets/"))) {
		diag(p, line, "cicustom: %s %s is not STORAGE:snippets/FILE", what, Q(v));
		return NULL;
	}
	if (!s) {
		if (p->have_cfg)
			diag(p, line, "cicustom: storage %s is not defined in lab.cfg", Q(sid));
		return NULL;
	}
	if (!lab_storage_files(s)) {
		diag(p, line, "cicustom: storage %s is not a dir or btrfs storage", Q(sid));
		return NULL;
	}
	return s->path ? xasprintf("%s/%s", s->path, file) : NULL;
}

void conf_cicustom(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v)
{
	struct lab_cloudinit *ci = &st->g->ci;
	ci->set = true;
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	for (size_t i = 0; i < pr.n; i++) {
		const char *k = pr.items[i].k;
		char **dst = !k                    ? NULL
			     : streq(k, "user")    ? &ci->custom_user
			     : streq(k, "network") ? &ci->custom_network
			     : streq(k, "meta")    ? &ci->custom_meta
			     : streq(k, "vendor")  ? &ci->custom_vendor
						   : NULL;
		if (!dst) {
			diag(p, line, "cicustom: %s is not user=, network=, meta= or vendor=",
			     Q(k ? k : pr.items[i].v));
			continue;
		}
		free(*dst);
		*dst = snippet_path(p, line, k, pr.items[i].v);
	}
}

static bool is_ipv6_addr(const char *s)
{
	struct in6_addr a;
	return inet_pton(AF_INET6, s, &a) == 1;
}

/* "ADDR/P", P in 1..128. */
static bool is_cidr6(const char *s)
{
	const char *slash = strchr(s, '/');
	if (!slash || !is_all(slash + 1, DIGITS) || strlen(slash + 1) > 3 || atoi(slash + 1) < 1 ||
	    atoi(slash + 1) > 128)
		return false;
	_cleanup_free_ char *addr = xstrndup(s, (size_t)(slash - s));
	return is_ipv6_addr(addr);
}

/* ip=, gw=, ip6=, gw6= of ipconfigN and of a container's netN (which also takes
 * manual: an address its own config sets): false when k is none of them. */
bool ip_property(struct parser *p, int line, const char *key, const char *k, const char *val,
		 struct ip_conf *ic, bool manual)
{
	struct subnet sn;
	uint32_t a;
	bool is_manual = manual && streq(val, "manual");
	if (streq(k, "ip")) {
		int r = streq(val, "dhcp") || is_manual ? 0 : parse_cidr(val, &sn);
		if (r == -1)
			diag(p, line, "%s: ip %s is not dhcp%s or an IPv4 address/prefix", key,
			     Q(val), manual ? ", manual" : "");
		else if (r == -2)
			diag(p, line, "%s: prefix length of %s is out of range (8..30)", key,
			     Q(val));
		else if (!streq(val, "dhcp") && !is_manual &&
			 (sn.host == sn.net || sn.host == sn.bcast))
			diag(p, line, "%s: %s is not a host address", key, Q(val));
		set_str(ic->ip, val);
	} else if (streq(k, "gw")) {
		if (!parse_ipv4(val, strlen(val), &a))
			diag(p, line, "%s: gw %s is not an IPv4 address", key, Q(val));
		set_str(ic->gw, val);
	} else if (streq(k, "ip6")) {
		if (!streq(val, "dhcp") && !streq(val, "auto") && !is_manual && !is_cidr6(val))
			diag(p, line, "%s: ip6 %s is not dhcp, auto%s or an IPv6 address/prefix",
			     key, Q(val), manual ? ", manual" : "");
		set_str(ic->ip6, val);
	} else if (streq(k, "gw6")) {
		if (!is_ipv6_addr(val))
			diag(p, line, "%s: gw6 %s is not an IPv6 address", key, Q(val));
		set_str(ic->gw6, val);
	} else {
		return false;
	}
	return true;
}

/* A gateway needs a static address of its family. */
void ip_check(struct parser *p, int line, const char *key, const struct ip_conf *ic)
{
	if (*ic->gw && (!*ic->ip || !strchr(*ic->ip, '/')))
		diag(p, line, "%s: gw= needs a static ip=", key);
	else if (*ic->gw6 && (!*ic->ip6 || !strchr(*ic->ip6, '/')))
		diag(p, line, "%s: gw6= needs a static ip6=", key);
}

void conf_ipconfig(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v)
{
	struct lab_cloudinit *ci = &st->g->ci;
	ci->set = true;
	struct lab_ipconfig *ic = &ci->ipconfig[ci->n_ipconfig++];
	*ic = (struct lab_ipconfig){.index = atoi(key + strlen("ipconfig")), .line = line};
	struct ip_conf ips = {&ic->ip, &ic->gw, &ic->ip6, &ic->gw6};
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	for (size_t i = 0; i < pr.n; i++) {
		const char *k = pr.items[i].k, *val = pr.items[i].v;
		if (!k || !ip_property(p, line, key, k, val, &ips, false))
			unsupported(p, line, key, k ? k : val);
	}
	if (!ic->ip && !ic->ip6)
		diag(p, line, "%s: missing ip= or ip6= (dhcp or ADDRESS/PREFIX)", key);
	else
		ip_check(p, line, key, &ips);
}
