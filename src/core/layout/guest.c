/* layout/guest.c - guest: the scalar keys of a guest file (name, cpu, memory, machine, vga,
 * boot, smbios1, direct kernel boot, ...). */
#include <inttypes.h>
#include <string.h>

#include "layout-private.h"

void conf_name(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	(void)key;
	if (!lv_is_dns_label(v))
		diag(p, line, "name: %s is not a DNS label " DNS_RULE, Q(v));
	set_str(&st->g->name, v);
	st->note->name_line = line;
}

void conf_description(struct parser *p, struct conf_state *st, const char *key, int line,
		      const char *v)
{
	(void)p, (void)key, (void)line;
	set_str(&st->g->description, v);
}

void conf_ostype(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const char *const names[] = {"other",  "wxp",  "w2k",    "w2k3",  "w2k8",
					    "wvista", "win7", "win8",   "win10", "win11",
					    "l24",    "l26",  "solaris"};
	(void)key;
	if (PICK(p, line, "ostype:", v, names) >= 0)
		set_str(&st->g->ostype, v);
}

void conf_onboot(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	(void)key;
	parse01(p, line, "onboot:", v, &st->g->onboot);
}

void conf_agent(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	for (size_t i = 0; i < pr.n; i++) {
		const struct prop *it = &pr.items[i];
		if (!it->k)
			parse01(p, line, "agent:", it->v, &st->g->agent);
		else if (streq(it->k, "enabled"))
			parse01(p, line, "agent: enabled", it->v, &st->g->agent);
		else
			unsupported(p, line, key, it->k);
	}
}

void conf_machine(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	(void)key;
	if (!is_all(v, LOWER DIGITS "._-"))
		diag(p, line, "machine: %s is not a machine type (a-z, 0-9, '.', '_', '-')", Q(v));
	set_str(&st->g->machine, v);
}

void conf_vga(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const char *const names[] = {"std",    "cirrus",  "vmware", "qxl",
					    "virtio", "serial0", "none"};
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	uint64_t mem;
	for (size_t i = 0; i < pr.n; i++) {
		const struct prop *it = &pr.items[i];
		if (!it->k || streq(it->k, "type")) {
			if (PICK(p, line, it->k ? "vga: type" : "vga:", it->v, names) >= 0)
				set_str(&st->g->vga, it->v);
		} else if (streq(it->k, "memory")) {
			parse_uint(p, line, "vga: memory", it->v, 4, 512, " of MiB", &mem);
		} else {
			unsupported(p, line, key, it->k);
		}
	}
}

/* labvirt-only: the graphical console's protocol, when vga: does not say it. */
void conf_graphics(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v)
{
	static const char *const names[] = {"vnc", "spice", "none"};
	(void)key;
	if (PICK(p, line, "graphics:", v, names) >= 0)
		set_str(&st->g->graphics, v);
}

void conf_cores(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	uint64_t n;
	(void)key;
	if (parse_uint(p, line, "cores:", v, 1, 128, "", &n) == 0)
		st->g->cores = (int)n;
}

void conf_sockets(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	uint64_t n;
	(void)key;
	if (parse_uint(p, line, "sockets:", v, 1, 16, "", &n) == 0)
		st->g->sockets = (int)n;
}

void conf_memory(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	for (size_t i = 0; i < pr.n; i++) {
		const struct prop *it = &pr.items[i];
		if (it->k && !streq(it->k, "current"))
			unsupported(p, line, key, it->k);
		else
			parse_uint(p, line, it->k ? "memory: current" : "memory:", it->v, 16,
				   4194304, " of MiB", &st->g->memory_mib);
	}
}

static bool parse_uuid(const char *s, char ret[37])
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !strchr(HEX, s[i]))
			return false;
		ret[i] = s[i] >= 'A' && s[i] <= 'F' ? (char)(s[i] - 'A' + 'a') : s[i];
	}
	ret[36] = '\0';
	return true;
}

void conf_smbios1(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	for (size_t i = 0; i < pr.n; i++) {
		const struct prop *it = &pr.items[i];
		if (!it->k) {
			diag(p, line, "smbios1: %s is not a name=value property", Q(it->v));
		} else if (!streq(it->k, "uuid")) {
			unsupported(p, line, key, it->k);
		} else if (!parse_uuid(it->v, st->g->uuid)) {
			diag(p, line, "smbios1: uuid %s is not a UUID (8-4-4-4-12 hex digits)",
			     Q(it->v));
		} else {
			st->g->uuid_given = true;
			st->note->uuid_line = line;
		}
	}
}

static void boot_order(struct parser *p, int line, struct lab_guest *g, const char *v)
{
	_cleanup_free_ char *copy = xstrdup(v);
	if (!*v)
		diag(p, line, "boot: order= names no device");
	for (char *dev = copy, *next; *v && dev; dev = next) {
		next = strchr(dev, ';');
		if (next)
			*next++ = '\0';
		if (!*dev) {
			diag(p, line, "boot: empty device in order %s", Q(v));
			return;
		}
		if (find_name((const char *const *)g->boot_order, g->n_boot, dev) >= 0) {
			diag(p, line, "boot: device %s is listed twice", Q(dev));
			continue;
		}
		if (g->n_boot == ARRAY_SIZE(g->boot_order)) {
			diag(p, line, "boot: more than %zu devices", ARRAY_SIZE(g->boot_order));
			return;
		}
		g->boot_order[g->n_boot++] = xstrdup(dev);
	}
}

void conf_boot(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	for (size_t i = 0; i < pr.n; i++) {
		const struct prop *it = &pr.items[i];
		if (!it->k || streq(it->k, "legacy"))
			diag(p, line,
			     "boot: legacy boot order %s is not supported; use "
			     "order=DEVICE;DEVICE...",
			     Q(it->v));
		else if (streq(it->k, "order"))
			boot_order(p, line, st->g, it->v);
		else
			unsupported(p, line, key, it->k);
	}
}

void conf_serial0(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	(void)st, (void)key;
	if (!streq(v, "socket"))
		diag(p, line,
		     "serial0: %s is not supported; only 'socket' (labvirt always gives a serial "
		     "console)",
		     Q(v));
}

void conf_kernel(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	(void)key, (void)line;
	free(st->g->kernel);
	st->g->kernel = lab_relative(p, v);
}

void conf_initrd(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	(void)key, (void)line;
	free(st->g->initrd);
	st->g->initrd = lab_relative(p, v);
}

void conf_cmdline(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	(void)p, (void)key, (void)line;
	set_str(&st->g->cmdline, v);
}
