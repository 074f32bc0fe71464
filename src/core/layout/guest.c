/* layout/guest.c - guest: the scalar keys of a guest file (name, cpu, memory, machine, vga,
 * boot, smbios1, direct kernel boot, ...). */
#include <inttypes.h>
#include <string.h>

#include "layout-private.h"

/* Proxmox's rule for name: a DNS name, labels of letters (any case), digits
 * and inner '-', joined by '.'. */
bool lab_is_guest_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.' || strstr(s, ".."))
		return false;
	for (const char *l = s; *l;) {
		size_t len = strcspn(l, ".");
		if (len > 63 || l[0] == '-' || l[len - 1] == '-' ||
		    strspn(l, LOWER UPPER DIGITS "-") < len)
			return false;
		l += len + (l[len] == '.');
	}
	return true;
}

void conf_name(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	(void)key;
	if (!lab_is_guest_name(v))
		diag(p, line, "name: %s is not a DNS name " NAME_RULE, Q(v));
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
		else if (streq(it->k, "type") && !streq(it->v, "virtio") && !streq(it->v, "isa"))
			diag(p, line, "agent: type %s is not virtio or isa", Q(it->v));
		else if (streq(it->k, "type"))
			st->g->agent_isa = streq(it->v, "isa");
		else if (streq(it->k, "fstrim_cloned_disks") ||
			 streq(it->k, "freeze-fs-on-backup") || streq(it->k, "freeze-fs"))
			parse01(p, line, "agent: fstrim_cloned_disks", it->v, &(bool){0});
		else
			unsupported(p, line, key, it->k);
	}
}

/* machine: [type=]TYPE,viommu=intel|virtio,enable-s3=,enable-s4= */
void conf_machine(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const char *const viommus[] = {"intel", "virtio", NULL};
	static const struct prop_spec specs[] = {{"type", PT_STR, 0, 0, NULL},
						 {"viommu", PT_ENUM, 0, 0, viommus},
						 {"enable-s3", PT_BOOL, 0, 0, NULL},
						 {"enable-s4", PT_BOOL, 0, 0, NULL}};
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	size_t from = pr.items[0].k ? 0 : 1;
	const char *type = from ? pr.items[0].v : props_get(&pr, "type");
	if (props_check(p, line, key, &pr, from, specs, ARRAY_SIZE(specs)) < 0)
		return;
	if (type && !is_all(type, LOWER DIGITS "._+-"))
		diag(p, line, "machine: %s is not a machine type (a-z, 0-9, '.', '_', '+', '-')",
		     Q(type));
	else if (type)
		set_str(&st->g->machine, type);
	const char *viommu = props_get(&pr, "viommu");
	if (viommu)
		set_str(&st->g->viommu, viommu);
}

void conf_vga(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const char *const names[] = {"std",     "cirrus",  "vmware",  "qxl",       "qxl2",
					    "qxl3",    "qxl4",    "virtio",  "virtio-gl", "serial0",
					    "serial1", "serial2", "serial3", "none"};
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
			if (parse_uint(p, line, "vga: memory", it->v, 4, 512, " of MiB", &mem) == 0)
				st->g->vga_memory_mib = mem;
		} else if (streq(it->k, "clipboard")) {
			if (!streq(it->v, "vnc"))
				diag(p, line, "vga: clipboard %s is not vnc", Q(it->v));
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

bool parse_uuid(const char *s, char ret[37])
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

/* boot: order=DEV;DEV..., or Proxmox's legacy letters (c disk, d cdrom, n net;
 * a floppy is not there to boot), resolved with bootdisk once the file is read. */
void conf_boot(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	for (size_t i = 0; i < pr.n; i++) {
		const struct prop *it = &pr.items[i];
		if (!it->k || streq(it->k, "legacy")) {
			if (strlen(it->v) > 4 || !is_all(it->v, "acdn"))
				diag(p, line, "boot: legacy order %s is not 1..4 of a, c, d, n",
				     Q(it->v));
			else
				set_str(&st->g->boot_legacy, it->v);
		} else if (streq(it->k, "order")) {
			boot_order(p, line, st->g, it->v);
		} else {
			unsupported(p, line, key, it->k);
		}
	}
}

void conf_bootdisk(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v)
{
	enum lab_bus bus;
	int index;
	(void)key;
	if (!disk_key(v, &bus, &index))
		diag(p, line, "bootdisk: %s is not a disk key (virtio0, scsi0, ...)", Q(v));
	else
		set_str(&st->g->bootdisk, v);
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

/* ---- bookkeeping: kept, no effect on the host ---- */

/* meta: creation-qemu=9.0.2,ctime=1715000000 */
void conf_meta(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const struct prop_spec specs[] = {{"creation-qemu", PT_STR, 0, 0, NULL},
						 {"ctime", PT_UINT, 0, UINT32_MAX * 16ull, NULL}};
	_cleanup_(props_free) struct props pr = {0};
	(void)st;
	if (props_parse(p, line, key, v, &pr) == 0)
		props_check(p, line, key, &pr, 0, specs, ARRAY_SIZE(specs));
}

void conf_digest(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	(void)st, (void)key;
	if (strlen(v) > 64 || !is_all(v, HEX))
		diag(p, line, "digest: %s is not a hex digest", Q(v));
}

void conf_lock(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const char *const names[] = {"backup",          "clone",      "create",
					    "migrate",         "rollback",   "snapshot",
					    "snapshot-delete", "suspending", "suspended"};
	(void)key;
	if (PICK(p, line, "lock:", v, names) >= 0)
		set_str(&st->g->lock, v);
}

/* tags: separated by ';', ',' or blanks, each [a-z0-9_][a-z0-9_+.-]* (any case). */
void conf_tags(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	_cleanup_free_ char *copy = xstrdup(v);
	char *save = NULL;
	(void)key;
	for (char *t = strtok_r(copy, "; ,\t", &save); t; t = strtok_r(NULL, "; ,\t", &save))
		if (!strchr(LOWER UPPER DIGITS "_", t[0]) || !is_all(t, LOWER UPPER DIGITS "_+.-"))
			diag(p, line, "tags: %s is not a tag ([a-z0-9_][a-z0-9_+.-]*)", Q(t));
	set_str(&st->g->tags, v);
}

/* unusedN: [file=]STORAGE:VOLUME, a volume detached from the guest. */
void conf_unused(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	const char *vol = startswith(v, "file=") ? v + strlen("file=") : v;
	const char *colon = strchr(vol, ':');
	(void)st;
	if (!colon || colon == vol || !colon[1] || strchr(vol, ','))
		diag(p, line, "%s: %s is not STORAGE:VOLUME", key, Q(v));
}

/* A snapshot's name, Proxmox's rule. */
bool is_snapshot_name(const char *s)
{
	return strlen(s) >= 2 && strlen(s) <= 40 && strchr(LOWER UPPER, s[0]) &&
	       is_all(s, LOWER UPPER DIGITS "_-");
}

void conf_parent(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	(void)st, (void)key;
	if (!is_snapshot_name(v))
		diag(p, line, "parent: %s is not a snapshot name", Q(v));
}

void conf_storage_ref(struct parser *p, struct conf_state *st, const char *key, int line,
		      const char *v)
{
	(void)st;
	if (!is_all(v, LOWER UPPER DIGITS "_.-") || !strchr(LOWER UPPER, v[0]))
		diag(p, line, "%s: %s is not a storage id", key, Q(v));
}

void conf_number(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	(void)st;
	if (!is_number(v))
		diag(p, line, "%s: %s is not a number", key, Q(v));
}

/* startdate: now, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS. */
void conf_startdate(struct parser *p, struct conf_state *st, const char *key, int line,
		    const char *v)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t n = strlen(v);
	bool ok = streq(v, "now") || n == 10 || n == 19;
	for (size_t i = 0; ok && !streq(v, "now") && i < n; i++)
		ok = shape[i] == 'd' ? is_digit(v[i]) : v[i] == shape[i];
	(void)st, (void)key;
	if (!ok)
		diag(p, line, "startdate: %s is not now, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS", Q(v));
}

/* hotplug: 1, 0, or a list of network, disk, cpu, memory, usb, cloudinit. */
void conf_hotplug(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const char *const names[] = {"network", "disk", "cpu", "memory", "usb", "cloudinit"};
	_cleanup_free_ char *copy = xstrdup(v);
	char *save = NULL;
	(void)st, (void)key;
	if (streq(v, "0") || streq(v, "1"))
		return;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		PICK(p, line, "hotplug:", t, names);
}

/* smp: the old name of sockets. */
void conf_smp(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	uint64_t n;
	(void)key;
	if (parse_uint(p, line, "smp:", v, 1, 16, "", &n) == 0 &&
	    !keylines_find(&st->keys, "sockets"))
		st->g->sockets = (int)n;
}

void conf_snaptime(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v)
{
	uint64_t n;
	(void)st, (void)key;
	parse_uint(p, line, "snaptime:", v, 0, UINT32_MAX * 16ull, "", &n);
}

/* Keys a snapshot section carries that say how it was taken. */
void conf_snapshot_state(struct parser *p, struct conf_state *st, const char *key, int line,
			 const char *v)
{
	(void)p, (void)st, (void)key, (void)line, (void)v;
}
