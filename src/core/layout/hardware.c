/* layout/hardware.c - Proxmox's hardware keys beside cpu and memory: cpu, numa,
 * balloon, bios with efidisk0, tpmstate0, scsihw, the machine's flags (tablet,
 * localtime, kvm, acpi, ...), vcpus and CPU limits, smbios1's fields, vmgenid,
 * startup. Each key's values follow qemu-server's schema ($confdesc). */
#include <inttypes.h>
#include <string.h>

#include "layout-private.h"

static bool flag(struct parser *p, int line, const char *key, const char *v, bool *ret)
{
	char label[64];
	snprintf(label, sizeof(label), "%s:", key);
	return parse01(p, line, label, v, ret) == 0;
}

/* The boolean keys: each sets a field, some inverted (kvm: 0 sets no_kvm). */
void conf_flag(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	struct lab_guest *g = st->g;
	bool b;
	if (!flag(p, line, key, v, &b))
		return;
	if (streq(key, "numa"))
		g->numa = b;
	else if (streq(key, "tablet"))
		g->tablet = b;
	else if (streq(key, "localtime"))
		g->localtime = b;
	else if (streq(key, "kvm"))
		g->no_kvm = !b;
	else if (streq(key, "acpi"))
		g->no_acpi = !b;
	else if (streq(key, "reboot"))
		g->no_reboot = !b;
	else if (streq(key, "freeze"))
		g->freeze = b;
	else if (streq(key, "tdf"))
		g->tdf = b;
	else if (streq(key, "protection"))
		g->protection = b;
	else if (streq(key, "template"))
		g->template = b;
	else if (streq(key, "ciupgrade"))
		g->ci.no_upgrade = !b, g->ci.set = true;
	/* autostart, keephugepages, ciupgrade: checked, nothing to keep */
}

static bool is_cpu_model(const char *s)
{
	return strlen(s) <= 64 && is_all(s, LOWER UPPER DIGITS "_.-");
}

/* flags=+aes;-pcid: each a sign and a CPU flag name. */
static bool is_cpu_flags(const char *s)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *save = NULL;
	for (char *f = strtok_r(copy, ";", &save); f; f = strtok_r(NULL, ";", &save))
		if ((f[0] != '+' && f[0] != '-') || !is_all(f + 1, LOWER DIGITS "_.-"))
			return false;
	return *s && s[strlen(s) - 1] != ';' && !strstr(s, ";;");
}

void conf_cpu(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const struct prop_spec specs[] = {
	    STR("cputype"),      STR("flags"),     BOOL("hidden"),
	    STR("hv-vendor-id"), STR("phys-bits"), STR("reported-model"),
	};
	struct lab_cpu *cpu = &st->g->cpu;
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	size_t from = pr.items[0].k ? 0 : 1;
	const char *model = from ? pr.items[0].v : props_get(&pr, "cputype");
	if (CHECK_FROM(&pr, from, specs) < 0)
		return;
	if (model && !is_cpu_model(model))
		diag(p, line, "cpu: %s is not a CPU model name", Q(model));
	else if (model)
		set_str(&cpu->model, model);
	const char *flags = props_get(&pr, "flags"), *bits = props_get(&pr, "phys-bits");
	const char *hidden = props_get(&pr, "hidden");
	uint64_t n;
	if (flags && !is_cpu_flags(flags))
		diag(p, line, "cpu: flags %s is not +FLAG;-FLAG...", Q(flags));
	else if (flags)
		set_str(&cpu->flags, flags);
	if (bits && streq(bits, "host"))
		cpu->phys_bits = -1;
	else if (bits && parse_uint(p, line, "cpu: phys-bits", bits, 8, 64, "", &n) == 0)
		cpu->phys_bits = (int)n;
	cpu->hidden = hidden && streq(hidden, "1");
}

/* A list of ids and ranges: "0-3;8" (numaN) or "0-3,8" (affinity). */
static bool is_id_list(const char *s, const char *sep)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *save = NULL;
	if (!*s || strchr(sep, s[strlen(s) - 1]))
		return false;
	for (char *r = strtok_r(copy, sep, &save); r; r = strtok_r(NULL, sep, &save)) {
		char *dash = strchr(r, '-');
		if (dash)
			*dash = '\0';
		if (!is_all(r, DIGITS) ||
		    (dash && (!is_all(dash + 1, DIGITS) || atoi(dash + 1) < atoi(r))))
			return false;
	}
	return true;
}

void conf_numa_cell(struct parser *p, struct conf_state *st, const char *key, int line,
		    const char *v)
{
	static const char *const policies[] = {"preferred", "bind", "interleave", NULL};
	static const struct prop_spec specs[] = {
	    STR("cpus"), STR("hostnodes"), UINT("memory", 16, 4194304), ENUM("policy", policies)};
	struct lab_guest *g = st->g;
	struct lab_numa_cell *c = &g->numa_cells[g->n_numa++];
	*c = (struct lab_numa_cell){.index = atoi(key + strlen("numa"))};
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0 || CHECK(&pr, specs) < 0)
		return;
	const char *cpus = props_get(&pr, "cpus"), *nodes = props_get(&pr, "hostnodes");
	const char *mem = props_get(&pr, "memory"), *policy = props_get(&pr, "policy");
	if (!cpus)
		diag(p, line, "%s: missing cpus=", key);
	else if (!is_id_list(cpus, ";"))
		diag(p, line, "%s: cpus %s is not a list of CPU ids (0-1;4)", key, Q(cpus));
	else
		set_str(&c->cpus, cpus);
	if (nodes && !is_id_list(nodes, ";"))
		diag(p, line, "%s: hostnodes %s is not a list of node ids (0-1;4)", key, Q(nodes));
	else if (nodes)
		set_str(&c->hostnodes, nodes);
	if (policy)
		set_str(&c->policy, policy);
	c->memory_mib = mem ? strtoull(mem, NULL, 10) : 0;
}

void conf_balloon(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	(void)key;
	if (parse_uint(p, line, "balloon:", v, 0, 4194304, " of MiB", &st->g->balloon_mib) == 0)
		st->g->balloon_set = true;
}

void conf_shares(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	(void)key;
	parse_uint(p, line, "shares:", v, 0, 50000, "", &st->g->shares);
}

void conf_bios(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const char *const names[] = {"seabios", "ovmf"};
	(void)key;
	if (PICK(p, line, "bios:", v, names) >= 0)
		set_str(&st->g->bios, v);
}

/* efidisk0 / tpmstate0's volume: STORAGE:VOLUME or STORAGE:SIZE (made by Proxmox
 * at creation; labvirt keeps the firmware's state in libvirt then). */
static void state_volume(struct parser *p, int line, const char *key, struct lab_state_disk *sd,
			 const char *vol)
{
	const char *colon = strchr(vol, ':');
	sd->set = true;
	sd->line = line;
	set_str(&sd->volume, vol);
	if (!colon || colon == vol) {
		diag(p, line, "%s: %s is not STORAGE:VOLUME", key, Q(vol));
		return;
	}
	_cleanup_free_ char *sid = xstrndup(vol, (size_t)(colon - vol));
	const struct lab_storage *s = lab_find_storage(p->lab, sid);
	if (!s && p->have_cfg)
		diag(p, line, "%s: storage %s is not defined in lab.cfg", key, Q(sid));
	else if (s && storage_usable(p, line, key, s) && s->type == STORAGE_DIR)
		sd->path = storage_volume_path(p, line, key, s, colon + 1);
}

/* [file=]VOLUME,PROPS of efidisk0 / tpmstate0 into sd and pr; false (reported)
 * when the line is not that. */
static bool state_disk(struct parser *p, int line, const char *key, const char *v,
		       const struct prop_spec *specs, size_t n, struct lab_state_disk *sd,
		       struct props *pr)
{
	if (props_parse(p, line, key, v, pr) < 0)
		return false;
	size_t from = pr->items[0].k ? 0 : 1;
	const char *vol = from ? pr->items[0].v : props_get(pr, "file");
	if (props_check(p, line, key, pr, from, specs, n) < 0)
		return false;
	if (!vol) {
		diag(p, line, "%s: missing volume (STORAGE:VOLUME)", key);
		return false;
	}
	state_volume(p, line, key, sd, vol);
	return true;
}

void conf_efidisk(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const char *const types[] = {"2m", "4m", NULL};
	static const char *const certs[] = {"2011", "2023", NULL};
	static const char *const formats[] = {"raw", "qcow2", "vmdk", NULL};
	static const struct prop_spec specs[] = {
	    STR("file"),        ENUM("efitype", types), ENUM("format", formats),
	    STR("import-from"), ENUM("ms-cert", certs), BOOL("pre-enrolled-keys"),
	    SIZE("size")};
	struct lab_state_disk *sd = &st->g->efidisk;
	_cleanup_(props_free) struct props pr = {0};
	if (!state_disk(p, line, key, v, specs, ARRAY_SIZE(specs), sd, &pr))
		return;
	const char *keys = props_get(&pr, "pre-enrolled-keys"), *type = props_get(&pr, "efitype");
	sd->pre_enrolled = keys && streq(keys, "1");
	sd->small = !type || streq(type, "2m");
}

void conf_tpmstate(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v)
{
	static const char *const versions[] = {"v1.2", "v2.0", NULL};
	static const struct prop_spec specs[] = {STR("file"), STR("import-from"), SIZE("size"),
						 ENUM("version", versions)};
	struct lab_state_disk *sd = &st->g->tpmstate;
	_cleanup_(props_free) struct props pr = {0};
	if (!state_disk(p, line, key, v, specs, ARRAY_SIZE(specs), sd, &pr))
		return;
	const char *version = props_get(&pr, "version");
	set_str(&sd->version, version ? version : "v1.2");
}

void conf_scsihw(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const char *const names[] = {
	    "lsi", "lsi53c810", "virtio-scsi-pci", "virtio-scsi-single", "megasas", "pvscsi"};
	(void)key;
	if (PICK(p, line, "scsihw:", v, names) >= 0)
		set_str(&st->g->scsihw, v);
}

void conf_vcpus(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	uint64_t n;
	(void)key;
	if (parse_uint(p, line, "vcpus:", v, 1, MAX_VCPUS, "", &n) == 0)
		st->g->vcpus = (int)n;
}

void conf_cpulimit(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v)
{
	(void)key;
	double n = is_number(v) ? strtod(v, NULL) : -1;
	if (n < 0 || n > 128)
		diag(p, line, "cpulimit: %s is not a number of host CPUs (0..128)", Q(v));
	else
		st->g->cpulimit = n;
}

void conf_cpuunits(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v)
{
	(void)key;
	parse_uint(p, line, "cpuunits:", v, 1, 262144, "", &st->g->cpuunits);
}

void conf_affinity(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v)
{
	(void)key;
	if (!is_id_list(v, ","))
		diag(p, line, "affinity: %s is not a list of host CPUs (0-3,8)", Q(v));
	else
		set_str(&st->g->affinity, v);
}

void conf_hugepages(struct parser *p, struct conf_state *st, const char *key, int line,
		    const char *v)
{
	static const char *const names[] = {"any", "2", "1024"};
	(void)key;
	if (PICK(p, line, "hugepages:", v, names) >= 0)
		set_str(&st->g->hugepages, v);
}

void conf_vmgenid(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	char uuid[37];
	(void)key;
	if (streq(v, "0"))
		return;
	if (!streq(v, "1") && !parse_uuid(v, uuid))
		diag(p, line, "vmgenid: %s is not a UUID, 1 (generate) or 0 (none)", Q(v));
	else
		set_str(&st->g->vmgenid, streq(v, "1") ? "1" : uuid);
}

void conf_keyboard(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v)
{
	static const char *const names[] = {"de",    "de-ch", "da",    "en-gb", "en-us", "es", "fi",
					    "fr",    "fr-be", "fr-ca", "fr-ch", "hu",    "is", "it",
					    "ja",    "lt",    "mk",    "nl",    "no",    "pl", "pt",
					    "pt-br", "sv",    "sl",    "tr"};
	(void)key;
	if (PICK(p, line, "keyboard:", v, names) >= 0)
		set_str(&st->g->keyboard, v);
}

void conf_arch(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const char *const names[] = {"x86_64", "aarch64"};
	(void)key;
	if (PICK(p, line, "arch:", v, names) >= 0)
		set_str(&st->g->arch, v);
}

void conf_startup(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const struct prop_spec specs[] = {UINT("order", 0, 999999), UINT("up", 0, 999999),
						 UINT("down", 0, 999999)};
	struct lab_guest *g = st->g;
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	size_t from = pr.items[0].k ? 0 : 1;
	uint64_t n;
	if (from && parse_uint(p, line, "startup: order", pr.items[0].v, 0, 999999, "", &n) == 0)
		g->startup_order = (int)n;
	if (CHECK_FROM(&pr, from, specs) < 0)
		return;
	const char *order = props_get(&pr, "order"), *up = props_get(&pr, "up"),
		   *down = props_get(&pr, "down");
	if (order)
		g->startup_order = atoi(order);
	if (up)
		g->startup_up = atoi(up);
	if (down)
		g->startup_down = atoi(down);
}

/* smbios1's text fields are plain, or base64 with base64=1 (as Proxmox's GUI
 * writes them). */
static char *base64_decode(const char *s, size_t *ret_len)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s);
	if (n % 4)
		return NULL;
	char *out = xmalloc(n / 4 * 3 + 1), *o = out;
	for (size_t i = 0; i < n; i += 4) {
		uint32_t acc = 0;
		int pad = 0;
		for (int k = 0; k < 4; k++) {
			const char *c = s[i + k] == '=' ? NULL : strchr(alphabet, s[i + k]);
			if (s[i + k] == '=' && i + 4 == n && k >= 2)
				pad++;
			else if (!c || !s[i + k] || pad)
				return free(out), NULL;
			acc = acc << 6 | (uint32_t)(c ? c - alphabet : 0);
		}
		*o++ = (char)(acc >> 16);
		if (pad < 2)
			*o++ = (char)(acc >> 8);
		if (pad < 1)
			*o++ = (char)acc;
	}
	*o = '\0';
	*ret_len = (size_t)(o - out);
	return out;
}

void conf_smbios1(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const struct prop_spec specs[] = {BOOL("base64"), STR("family"), STR("manufacturer"),
						 STR("product"), STR("serial"), STR("sku"),
						 STR("uuid"),    STR("version")};
	static const char *const fields[] = {"family", "manufacturer", "product",
					     "serial", "sku",          "version"};
	struct lab_smbios *sm = &st->g->smbios;
	char **dst[] = {&sm->family, &sm->manufacturer, &sm->product,
			&sm->serial, &sm->sku,          &sm->version};
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0 || CHECK(&pr, specs) < 0)
		return;
	const char *uuid = props_get(&pr, "uuid"), *b64 = props_get(&pr, "base64");
	if (uuid && !parse_uuid(uuid, st->g->uuid)) {
		diag(p, line, "smbios1: uuid %s is not a UUID (8-4-4-4-12 hex digits)", Q(uuid));
	} else if (uuid) {
		st->g->uuid_given = true;
		st->note->uuid_line = line;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const char *val = props_get(&pr, fields[i]);
		size_t len = 0;
		char *text = val && b64 && streq(b64, "1") ? base64_decode(val, &len) : NULL;
		if (val && b64 && streq(b64, "1") && (!text || !is_text(text, len, false))) {
			diag(p, line, "smbios1: %s %s is not base64 of a text", fields[i], Q(val));
			free(text);
			continue;
		}
		if (val)
			set_str(dst[i], text ? text : val);
		free(text);
	}
}
