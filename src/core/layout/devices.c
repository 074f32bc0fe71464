/* layout/devices.c - devices beside disks and nets: rngN, watchdog, audioN,
 * serialN, parallelN, ivshmem, spice_enhancements; and the host-bound keys
 * (usbN, hostpciN, virtiofsN, args, hookscript, amd-sev), parsed and checked
 * here, honoured or refused against the host by `up`. */
#include <inttypes.h>
#include <string.h>

#include "layout-private.h"

/* The value of the bare first item or of its name=, or NULL; *ret_from is
 * where the name=value items start. */
static const char *first_item(const struct props *pr, const char *name, size_t *ret_from)
{
	*ret_from = pr->items[0].k ? 0 : 1;
	return *ret_from ? pr->items[0].v : props_get(pr, name);
}

void conf_rng(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const char *const sources[] = {"/dev/urandom", "/dev/random", "/dev/hwrng", NULL};
	static const struct prop_spec specs[] = {ENUM("source", sources),
						 UINT("max_bytes", 0, UINT32_MAX),
						 UINT("period", 0, UINT32_MAX)};
	struct lab_devices *dev = &st->g->dev;
	_cleanup_(props_free) struct props pr = {0};
	size_t from;
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	const char *source = first_item(&pr, "source", &from);
	if (from && pick(p, line, "rng0: source", source, sources, 3) < 0)
		return;
	if (CHECK_FROM(&pr, from, specs) < 0)
		return;
	if (!source) {
		diag(p, line, "%s: missing source=", key);
		return;
	}
	const char *max = props_get(&pr, "max_bytes"), *period = props_get(&pr, "period");
	dev->rng_set = true;
	set_str(&dev->rng_source, source);
	dev->rng_max_bytes = max ? strtoull(max, NULL, 10) : 1024;
	dev->rng_period = period ? strtoull(period, NULL, 10) : 1000;
}

void conf_watchdog(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v)
{
	static const char *const models[] = {"i6300esb", "ib700", NULL};
	static const char *const actions[] = {"reset", "shutdown", "poweroff", "pause",
					      "debug", "none",     NULL};
	static const struct prop_spec specs[] = {ENUM("model", models), ENUM("action", actions)};
	struct lab_devices *dev = &st->g->dev;
	_cleanup_(props_free) struct props pr = {0};
	size_t from;
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	const char *model = first_item(&pr, "model", &from);
	if (from && pick(p, line, "watchdog: model", model, models, 2) < 0)
		return;
	if (CHECK_FROM(&pr, from, specs) < 0)
		return;
	const char *action = props_get(&pr, "action");
	set_str(&dev->watchdog_model, model ? model : "i6300esb");
	if (action)
		set_str(&dev->watchdog_action, action);
}

void conf_audio(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const char *const devices[] = {"ich9-intel-hda", "intel-hda", "AC97", NULL};
	static const char *const drivers[] = {"spice", "none", NULL};
	static const struct prop_spec specs[] = {ENUM("device", devices), ENUM("driver", drivers)};
	struct lab_devices *dev = &st->g->dev;
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0 || CHECK_FROM(&pr, 0, specs) < 0)
		return;
	const char *device = props_get(&pr, "device"), *driver = props_get(&pr, "driver");
	if (!device) {
		diag(p, line, "%s: missing device=", key);
		return;
	}
	set_str(&dev->audio_device, device);
	set_str(&dev->audio_driver, driver ? driver : "spice");
}

static bool is_dev_path(const char *v)
{
	return startswith(v, "/dev/") && strlen(v) > 5 && is_all(v, LOWER UPPER DIGITS "/_.-") &&
	       !strstr(v, "..");
}

void conf_serial(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	int i = atoi(key + strlen("serial"));
	if (!streq(v, "socket") && !is_dev_path(v))
		diag(p, line, "%s: %s is not socket or a host device /dev/...", key, Q(v));
	else
		set_str(&st->g->dev.serial[i], v);
}

void conf_parallel(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v)
{
	int i = atoi(key + strlen("parallel"));
	if (!(startswith(v, "/dev/parport") && is_all(v + strlen("/dev/parport"), DIGITS)) &&
	    !(startswith(v, "/dev/usb/lp") && is_all(v + strlen("/dev/usb/lp"), DIGITS)))
		diag(p, line, "%s: %s is not /dev/parportN or /dev/usb/lpN", key, Q(v));
	else
		set_str(&st->g->dev.parallel[i], v);
}

/* usbN: host=VENDOR:PRODUCT, host=BUS-PORT[.PORT...], spice, or mapping=. */
static bool is_usb_host(const char *s)
{
	if (streq(s, "spice"))
		return true;
	const char *colon = strchr(s, ':');
	if (colon)
		return colon - s == 4 && strlen(colon + 1) == 4 && is_all(colon + 1, HEX) &&
		       strspn(s, HEX) == 4;
	const char *dash = strchr(s, '-');
	return dash && dash > s && strspn(s, DIGITS) == (size_t)(dash - s) &&
	       is_all(dash + 1, DIGITS ".") && dash[1] != '.';
}

void conf_usb(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const struct prop_spec specs[] = {STR("host"), STR("mapping"), BOOL("usb3")};
	_cleanup_(props_free) struct props pr = {0};
	size_t from;
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	const char *host = first_item(&pr, "host", &from);
	if (CHECK_FROM(&pr, from, specs) < 0)
		return;
	if (host && !is_usb_host(host))
		diag(p, line, "%s: host %s is not VENDOR:PRODUCT, BUS-PORT or spice", key, Q(host));
	else if (!host && !props_get(&pr, "mapping"))
		diag(p, line, "%s: missing host= or mapping=", key);
	else if (!host)
		host_bound(p, line, key, "a cluster's resource mapping is not there on this host");
	else if (!strchr(host, ':') && !streq(host, "spice"))
		host_bound(p, line, key,
			   "a USB port path (BUS-PORT) names a port of the Proxmox host");
	else
		set_str(&st->g->dev.usb[atoi(key + strlen("usb"))], host);
}

/* A PCI address as Proxmox writes it: [DOMAIN:]BUS:SLOT[.FUNCTION], ';'-separated. */
static bool is_pci_ids(const char *s)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *save = NULL;
	for (char *id = strtok_r(copy, ";", &save); id; id = strtok_r(NULL, ";", &save)) {
		size_t colons = 0;
		for (const char *c = id; *c; c++)
			colons += *c == ':';
		if (colons < 1 || colons > 2 || !is_all(id, HEX ":."))
			return false;
	}
	return *s != '\0';
}

void conf_hostpci(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const struct prop_spec specs[] = {
	    STR("host"),          STR("device-id"),     BOOL("legacy-igd"), STR("mapping"),
	    STR("mdev"),          BOOL("pcie"),         BOOL("rombar"),     STR("romfile"),
	    STR("sub-device-id"), STR("sub-vendor-id"), STR("vendor-id"),   BOOL("x-vga")};
	_cleanup_(props_free) struct props pr = {0};
	size_t from;
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	const char *host = first_item(&pr, "host", &from);
	if (CHECK_FROM(&pr, from, specs) < 0)
		return;
	if (host && !is_pci_ids(host))
		diag(p, line, "%s: host %s is not a PCI address (0000:01:00.0)", key, Q(host));
	else if (!host && !props_get(&pr, "mapping"))
		diag(p, line, "%s: missing host= or mapping=", key);
	else if (!host)
		host_bound(p, line, key, "a cluster's resource mapping is not there on this host");
	else if (strchr(host, ';') || props_get(&pr, "mdev"))
		host_bound(p, line, key,
			   "multi-function and mediated devices are not passed through by labvirt");
	else
		set_str(&st->g->dev.hostpci[atoi(key + strlen("hostpci"))], host);
}

void conf_virtiofs(struct parser *p, struct conf_state *st, const char *key, int line,
		   const char *v)
{
	static const char *const caches[] = {"auto", "always", "metadata", "never", NULL};
	(void)st;
	static const struct prop_spec specs[] = {STR("dirid"), ENUM("cache", caches),
						 BOOL("direct-io"), BOOL("expose-acl"),
						 BOOL("expose-xattr")};
	_cleanup_(props_free) struct props pr = {0};
	size_t from;
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	const char *dirid = first_item(&pr, "dirid", &from);
	if (CHECK_FROM(&pr, from, specs) < 0)
		return;
	if (!dirid)
		diag(p, line, "%s: missing dirid=", key);
	else
		host_bound(p, line, key,
			   "a directory mapping of the Proxmox cluster is not there on this host");
}

void conf_ivshmem(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const struct prop_spec specs[] = {UINT("size", 1, 65536), STR("name")};
	struct lab_devices *dev = &st->g->dev;
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0 || CHECK_FROM(&pr, 0, specs) < 0)
		return;
	const char *size = props_get(&pr, "size"), *name = props_get(&pr, "name");
	if (!size) {
		diag(p, line, "%s: missing size=", key);
		return;
	}
	if (name && !is_all(name, LOWER UPPER DIGITS "_.-"))
		diag(p, line, "%s: name %s is not a name (A-Z, a-z, 0-9, '_', '.', '-')", key,
		     Q(name));
	dev->ivshmem_mib = strtoull(size, NULL, 10);
	set_str(&dev->ivshmem_name, name ? name : "");
}

void conf_spice(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const char *const modes[] = {"off", "all", "filter", NULL};
	static const struct prop_spec specs[] = {BOOL("foldersharing"),
						 ENUM("videostreaming", modes)};
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0 || CHECK_FROM(&pr, 0, specs) < 0)
		return;
	const char *folders = props_get(&pr, "foldersharing"),
		   *stream = props_get(&pr, "videostreaming");
	st->g->spice_folders = folders && streq(folders, "1");
	if (stream)
		set_str(&st->g->spice_streaming, stream);
}

void conf_args(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	(void)key;
	if (strpbrk(v, "'\"\\"))
		diag(p, line,
		     "args: quotes and backslashes are not taken (arguments are split at blanks)");
	else
		set_str(&st->g->args, v);
}

void conf_hookscript(struct parser *p, struct conf_state *st, const char *key, int line,
		     const char *v)
{
	const char *colon = strchr(v, ':');
	(void)st;
	if (!colon || colon == v || !startswith(colon + 1, "snippets/") ||
	    !is_file_name(colon + 1 + strlen("snippets/")))
		diag(p, line, "hookscript: %s is not STORAGE:snippets/FILE", Q(v));
	else
		host_bound(p, line, key, "labvirt does not run Proxmox hook scripts");
}

void conf_amd_sev(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	static const char *const types[] = {"std", "es", "snp", NULL};
	static const struct prop_spec specs[] = {ENUM("type", types), BOOL("allow-smt"),
						 BOOL("kernel-hashes"), BOOL("no-debug"),
						 BOOL("no-key-sharing")};
	_cleanup_(props_free) struct props pr = {0};
	size_t from;
	(void)st;
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	const char *type = first_item(&pr, "type", &from);
	if (from && pick(p, line, "amd-sev: type", type, types, 3) < 0)
		return;
	if (CHECK_FROM(&pr, from, specs) < 0)
		return;
	host_bound(p, line, key, "labvirt does not give a guest AMD SEV");
}
