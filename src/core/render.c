/* render.c - libvirt domain and network XML, built as a libxml2 tree and dumped
 * the way libvirt dumps its own: two-space indent, no XML declaration. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "render-private.h"

/* sataN is named sd<31+N>: after Proxmox's scsi0..scsi30, which share the sd
 * names. The names are only labels: both buses get explicit drive addresses. */
#define SATA_NAME_OFFSET 31

static void xml_buffer_freep(xmlBuffer **buf)
{
	if (*buf)
		xmlBufferFree(*buf);
}
#define _cleanup_xml_buffer_ _cleanup_(xml_buffer_freep)

/* Adds <name>text</name> (text escaped; NULL for none) under parent. */
xmlNode *add(struct xml_builder *xb, xmlNode *parent, const char *name, const char *text)
{
	xmlNode *node = parent ? xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST text) : NULL;
	if (!node)
		xb->failed = true;
	return node;
}

xmlNode *__attribute__((format(printf, 4, 5)))
addf(struct xml_builder *xb, xmlNode *parent, const char *name, const char *fmt, ...)
{
	char text[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return add(xb, parent, name, text);
}

void set(struct xml_builder *xb, xmlNode *node, const char *name, const char *value)
{
	if (!node || !xmlNewProp(node, BAD_CAST name, BAD_CAST value))
		xb->failed = true;
}

void __attribute__((format(printf, 4, 5)))
setf(struct xml_builder *xb, xmlNode *node, const char *name, const char *fmt, ...)
{
	char value[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	set(xb, node, name, value);
}

/* Adds <name attr='value'/>, the most common shape in libvirt XML. */
xmlNode *add_with(struct xml_builder *xb, xmlNode *parent, const char *name, const char *attr,
		  const char *value)
{
	xmlNode *node = add(xb, parent, name, NULL);
	set(xb, node, attr, value);
	return node;
}

xmlNode *new_root(struct xml_builder *xb, xmlDoc *doc, const char *name)
{
	xmlNode *root = doc ? xmlNewDocNode(doc, NULL, BAD_CAST name, NULL) : NULL;
	if (!root) {
		xb->failed = true;
		return NULL;
	}
	xmlDocSetRootElement(doc, root);
	return root;
}

/* <metadata><labvirt:owner xmlns:labvirt=LV_XMLNS lab=LAB/></metadata>; returns owner. */
xmlNode *add_owner(struct xml_builder *xb, xmlNode *parent, const struct lab *lab)
{
	xmlNode *owner = add(xb, add(xb, parent, "metadata", NULL), "owner", NULL);
	xmlNs *ns = owner ? xmlNewNs(owner, BAD_CAST LV_XMLNS, BAD_CAST "labvirt") : NULL;
	if (!ns) {
		xb->failed = true;
		return NULL;
	}
	xmlSetNs(owner, ns);
	set(xb, owner, "lab", lab->name);
	return owner;
}

/* The root element as text, with a final newline; NULL when out of memory.
 * xmlSave rather than xmlNodeDump, which loses (and in libxml2 2.9 frees) the
 * output on a failed allocation while still reporting success. */
static char *dump_root(xmlDoc *doc)
{
	_cleanup_xml_buffer_ xmlBuffer *buf = xmlBufferCreate();
	xmlSaveCtxt *save = buf ? xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_FORMAT) : NULL;
	if (!save)
		return NULL;
	xmlSaveTree(save, xmlDocGetRootElement(doc));
	if (xmlSaveClose(save) < 0)
		return NULL;
	return xasprintf("%s\n", (const char *)xmlBufferContent(buf));
}

/* Stamps owner with config=hash of the XML so far, and dumps the result. */
int finish(struct xml_builder *xb, xmlDoc *doc, xmlNode *owner, char **ret_xml,
	   struct lv_error *err)
{
	_cleanup_free_ char *unstamped = xb->failed ? NULL : dump_root(doc);
	if (!unstamped)
		return lv_fail(err, LV_EXIT_FAIL, "out of memory");
	char hex[17];
	render_hash(unstamped, strlen(unstamped), hex);
	set(xb, owner, "config", hex);
	char *xml = xb->failed ? NULL : dump_root(doc);
	if (!xml)
		return lv_fail(err, LV_EXIT_FAIL, "out of memory");
	*ret_xml = xml;
	return 0;
}

static uint64_t fnv1a(const char *data, size_t len)
{
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)data[i];
		h *= 1099511628211ULL;
	}
	return h;
}

void render_hash(const char *data, size_t len, char ret_hex[17])
{
	snprintf(ret_hex, 17, "%016" PRIx64, fnv1a(data, len));
}

/* ---- domain ---------------------------------------------------------------- */

/* 1-based position of key in the guest's boot order, 0 when absent. */
static int boot_position(const struct lab_guest *g, const char *key)
{
	for (size_t i = 0; i < g->n_boot; i++)
		if (streq(g->boot_order[i], key))
			return (int)i + 1;
	return 0;
}

static void add_boot(struct xml_builder *xb, xmlNode *dev, const struct lab_guest *g,
		     const char *key)
{
	int order = boot_position(g, key);
	if (order > 0)
		setf(xb, add(xb, dev, "boot", NULL), "order", "%d", order);
}

void add_general(struct xml_builder *xb, xmlNode *root, const struct lab_guest *g)
{
	add(xb, root, "name", g->name);
	add(xb, root, "uuid", g->uuid);
	if (g->vmgenid)
		add(xb, root, "genid", streq(g->vmgenid, "1") ? NULL : g->vmgenid);
	if (g->description)
		add(xb, root, "description", g->description);
}

static int count_iothreads(const struct lab_guest *g)
{
	int n = 0;
	for (size_t i = 0; i < g->n_disks; i++)
		n += g->disks[i].iothread;
	return n;
}

/* cpuunits as cgroup shares, cpulimit as a quota of 100 ms periods (Proxmox's). */
static void add_cputune(struct xml_builder *xb, xmlNode *root, const struct lab_guest *g)
{
	if (!g->cpuunits && !g->cpulimit)
		return;
	xmlNode *tune = add(xb, root, "cputune", NULL);
	if (g->cpuunits)
		addf(xb, tune, "shares", "%" PRIu64, g->cpuunits);
	if (g->cpulimit) {
		add(xb, tune, "global_period", "100000");
		addf(xb, tune, "global_quota", "%lld", (long long)(g->cpulimit * 100000));
	}
}

static void add_resources(struct xml_builder *xb, xmlNode *root, const struct lab_guest *g)
{
	set(xb, addf(xb, root, "memory", "%" PRIu64, g->memory_mib), "unit", "MiB");
	set(xb, addf(xb, root, "currentMemory", "%" PRIu64, g->memory_mib), "unit", "MiB");
	if (g->hugepages) {
		xmlNode *pages = add(xb, add(xb, root, "memoryBacking", NULL), "hugepages", NULL);
		if (!streq(g->hugepages, "any"))
			set(xb, add_with(xb, pages, "page", "size", g->hugepages), "unit", "MiB");
	}
	xmlNode *vcpu = addf(xb, root, "vcpu", "%d", g->cores * g->sockets);
	set(xb, vcpu, "placement", "static");
	if (g->affinity)
		set(xb, vcpu, "cpuset", g->affinity);
	if (g->vcpus)
		setf(xb, vcpu, "current", "%d", g->vcpus);
	if (count_iothreads(g))
		addf(xb, root, "iothreads", "%d", count_iothreads(g));
	add_cputune(xb, root, g);
}

/* smbios1's fields, which the guest reads as its system's DMI data. */
static void add_sysinfo(struct xml_builder *xb, xmlNode *root, const struct lab_guest *g)
{
	const struct lab_smbios *sm = &g->smbios;
	const char *names[] = {"manufacturer", "product", "version", "serial", "sku", "family"};
	const char *values[] = {sm->manufacturer, sm->product, sm->version,
				sm->serial,       sm->sku,     sm->family};
	xmlNode *system = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!values[i])
			continue;
		if (!system) {
			xmlNode *sysinfo = add_with(xb, root, "sysinfo", "type", "smbios");
			system = add(xb, sysinfo, "system", NULL);
		}
		set(xb, add(xb, system, "entry", values[i]), "name", names[i]);
	}
}

static bool has_sysinfo(const struct lab_guest *g)
{
	const struct lab_smbios *sm = &g->smbios;
	return sm->manufacturer || sm->product || sm->version || sm->serial || sm->sku ||
	       sm->family;
}

char *render_machine_type(const char *machine)
{
	size_t n = strlen(machine);
	if (n > 4 && streq(machine + n - 4, ".pxe"))
		n -= 4;
	size_t digits = n;
	while (digits > 0 && machine[digits - 1] >= '0' && machine[digits - 1] <= '9')
		digits--;
	if (digits < n && digits > 4 && !strncmp(machine + digits - 4, "+pve", 4))
		n = digits - 4;
	return xstrndup(machine, n);
}

/* "pc-q35-7.2" -> family "pc-q35-", version 7*1000+2; -1 when not versioned. */
static long machine_version(const char *m, size_t *ret_family)
{
	const char *dash = strrchr(m, '-');
	char *end;
	if (!dash || dash[1] < '0' || dash[1] > '9')
		return -1;
	long major = strtol(dash + 1, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return -1;
	long minor = strtol(end + 1, &end, 10);
	if (*end)
		return -1;
	*ret_family = (size_t)(dash + 1 - m);
	return major * 1000 + minor;
}

char *render_machine_for_host(const char *machine, char *const *machines, size_t n)
{
	_cleanup_free_ char *want = render_machine_type(machine);
	size_t family = 0, fam2 = 0;
	long version = machine_version(want, &family), best = -1;
	const char *pick = NULL;
	if (version < 0)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (streq(machines[i], want))
			return xstrdup(want);
		long v = machine_version(machines[i], &fam2);
		if (v >= 0 && fam2 == family && !strncmp(machines[i], want, family) &&
		    v <= version && v > best)
			best = v, pick = machines[i];
	}
	return pick ? xstrdup(pick) : NULL;
}

static void add_os(struct xml_builder *xb, xmlNode *root, const struct lab_guest *g,
		   const char *machine_as)
{
	bool ovmf = g->bios && streq(g->bios, "ovmf");
	xmlNode *os = add(xb, root, "os", NULL);
	if (ovmf)
		set(xb, os, "firmware", "efi");
	xmlNode *type = add(xb, os, "type", "hvm");
	set(xb, type, "arch", g->arch ? g->arch : "x86_64");
	if (g->machine) {
		_cleanup_free_ char *machine = render_machine_type(g->machine);
		set(xb, type, "machine", machine_as ? machine_as : machine);
	}
	if (ovmf && g->efidisk.pre_enrolled) { /* Proxmox's pre-enrolled-keys=1 */
		xmlNode *fw = add(xb, os, "firmware", NULL);
		set(xb, add_with(xb, fw, "feature", "enabled", "yes"), "name", "enrolled-keys");
		set(xb, add_with(xb, fw, "feature", "enabled", "yes"), "name", "secure-boot");
	} else if (ovmf) {
		/* Without it Proxmox starts from OVMF's variables without keys; libvirt, left
		 * to choose, takes the first firmware that fits, on q35 the one with
		 * Microsoft's keys enrolled and Secure Boot on. */
		xmlNode *fw = add(xb, os, "firmware", NULL);
		set(xb, add_with(xb, fw, "feature", "enabled", "no"), "name", "enrolled-keys");
	}
	if (ovmf && g->efidisk.path)
		add(xb, os, "nvram", g->efidisk.path);
	if (has_sysinfo(g))
		add_with(xb, os, "smbios", "mode", "sysinfo");
	if (!g->kernel)
		return;
	add(xb, os, "kernel", g->kernel);
	if (g->initrd)
		add(xb, os, "initrd", g->initrd);
	if (g->cmdline)
		add(xb, os, "cmdline", g->cmdline);
}

static void add_features(struct xml_builder *xb, xmlNode *root, const struct lab_guest *g)
{
	xmlNode *features = add(xb, root, "features", NULL);
	if (!g->no_acpi)
		add(xb, features, "acpi", NULL);
	add(xb, features, "apic", NULL);
	if (g->cpu.hidden)
		add_with(xb, add(xb, features, "kvm", NULL), "hidden", "state", "on");
}

/* Proxmox's x86-64-vN levels as the libvirt 9 model closest to each (libvirt
 * 9.0 has no x86-64-v* models); other names are QEMU's own and pass through. */
static const char *cpu_model(const char *model)
{
	static const char *const map[][2] = {
	    {"x86-64-v2", "Nehalem"},
	    {"x86-64-v2-AES", "Westmere"},
	    {"x86-64-v3", "Haswell-noTSX"},
	    {"x86-64-v4", "Skylake-Server-noTSX-IBRS"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (streq(model, map[i][0]))
			return map[i][1];
	return model;
}

/* cpu flags=+aes;-pcid as features the model must or must not have. */
static void add_cpu_flags(struct xml_builder *xb, xmlNode *cpu, const char *flags)
{
	_cleanup_free_ char *copy = xstrdup(flags);
	char *save = NULL;
	for (char *f = strtok_r(copy, ";", &save); f; f = strtok_r(NULL, ";", &save)) {
		xmlNode *feature =
		    add_with(xb, cpu, "feature", "policy", f[0] == '+' ? "require" : "disable");
		set(xb, feature, "name", f + 1);
	}
}

/* numa: 1 with no numaN is one cell per socket, memory split evenly (Proxmox's). */
static void add_numa(struct xml_builder *xb, xmlNode *cpu, const struct lab_guest *g)
{
	xmlNode *numa = add(xb, cpu, "numa", NULL);
	for (size_t i = 0; i < g->n_numa; i++) {
		const struct lab_numa_cell *c = &g->numa_cells[i];
		_cleanup_free_ char *cpus = xstrdup(c->cpus ? c->cpus : "0");
		for (char *k = cpus; *k; k++)
			*k = *k == ';' ? ',' : *k;
		xmlNode *cell = add(xb, numa, "cell", NULL);
		setf(xb, cell, "id", "%d", c->index);
		set(xb, cell, "cpus", cpus);
		setf(xb, cell, "memory", "%" PRIu64,
		     c->memory_mib ? c->memory_mib : g->memory_mib / g->n_numa);
		set(xb, cell, "unit", "MiB");
	}
	for (int s = 0; g->n_numa == 0 && s < g->sockets; s++) {
		xmlNode *cell = add(xb, numa, "cell", NULL);
		setf(xb, cell, "id", "%d", s);
		if (g->cores > 1)
			setf(xb, cell, "cpus", "%d-%d", s * g->cores, s * g->cores + g->cores - 1);
		else
			setf(xb, cell, "cpus", "%d", s);
		setf(xb, cell, "memory", "%" PRIu64, g->memory_mib / (uint64_t)g->sockets);
		set(xb, cell, "unit", "MiB");
	}
}

/* KVM passes the host CPU through; TCG keeps QEMU's default model. */
static void add_cpu(struct xml_builder *xb, xmlNode *root, const struct lab_guest *g,
		    enum lab_accel accel)
{
	xmlNode *cpu = add(xb, root, "cpu", NULL);
	const char *model = g->cpu.model;
	bool host = !model || streq(model, "host") || streq(model, "max");
	if (accel == ACCEL_KVM && host)
		set(xb, cpu, "mode", "host-passthrough");
	else if (model && host) /* TCG cannot pass a host CPU through: QEMU's most it can */
		set(xb, cpu, "mode", "maximum");
	if (model && !host) {
		set(xb, cpu, "mode", "custom");
		set(xb, cpu, "match", "exact");
		set(xb, cpu, "check", "none");
		set(xb, add(xb, cpu, "model", cpu_model(model)), "fallback", "allow");
	}
	xmlNode *topology = add(xb, cpu, "topology", NULL);
	setf(xb, topology, "sockets", "%d", g->sockets);
	set(xb, topology, "dies", "1");
	setf(xb, topology, "cores", "%d", g->cores);
	set(xb, topology, "threads", "1");
	if (g->cpu.flags)
		add_cpu_flags(xb, cpu, g->cpu.flags);
	if (g->numa)
		add_numa(xb, cpu, g);
}

/* Windows keeps its clock in local time, as Proxmox sets it for w* ostypes. */
static void add_clock_and_lifecycle(struct xml_builder *xb, xmlNode *root,
				    const struct lab_guest *g)
{
	bool windows = g->ostype && g->ostype[0] == 'w';
	bool local = g->localtime >= 0 ? g->localtime == 1 : windows;
	xmlNode *clock = add_with(xb, root, "clock", "offset", local ? "localtime" : "utc");
	if (g->tdf) /* Proxmox's time drift fix: -rtc driftfix=slew */
		set(xb, add_with(xb, clock, "timer", "name", "rtc"), "tickpolicy", "catchup");
	add(xb, root, "on_poweroff", "destroy");
	add(xb, root, "on_reboot", g->no_reboot ? "destroy" : "restart");
	add(xb, root, "on_crash", "destroy");
}

/* libvirt's disk names: 0 → a, 25 → z, 26 → aa, 27 → ab, ... */
static void disk_name(const char *prefix, int index, char *buf, size_t size)
{
	char letters[8];
	size_t i = sizeof(letters) - 1;
	letters[i] = '\0';
	for (int n = index; n >= 0 && i > 0; n = n / 26 - 1)
		letters[--i] = (char)('a' + n % 26);
	snprintf(buf, size, "%s%s", prefix, letters + i);
}

static const struct {
	const char *prefix, *bus;
	int offset;
} disk_buses[] = {
    [BUS_VIRTIO] = {"vd", "virtio", 0},
    [BUS_SCSI] = {"sd", "scsi", 0},
    [BUS_SATA] = {"sd", "sata", SATA_NAME_OFFSET},
    [BUS_IDE] = {"hd", "ide", 0},
};

/* As Proxmox's machine_type_is_q35: any machine type that names q35. */
static bool guest_is_q35(const struct lab_guest *g)
{
	return g->machine && strstr(g->machine, "q35");
}

/* Where a disk sits: the libvirt bus, and its <address type='drive'> if any. */
struct drive_slot {
	const char *bus;
	bool address;
	int controller, target, unit;
};

/* scsiN is SCSI id N on the one virtio-scsi controller and sataN is AHCI port N,
 * as on Proxmox; left to libvirt, both would follow from the sd name. q35 has no
 * IDE controller: Proxmox puts ideN on the q35's own AHCI, port N/2 + 2*(N%2)
 * (its ide.C,unit=0; ide0 0, ide1 2, ide2 1, ide3 3). labvirt keeps those ports
 * on a second SATA controller, index 1, because sataN already fills controller
 * 0 and an AHCI controller has six ports only. */
static struct drive_slot drive_slot(const struct lab_guest *g, const struct lab_disk *d)
{
	switch (d->bus) {
	case BUS_SCSI: /* virtio-scsi-single: controller N, target 0 */
		if (g->scsihw && streq(g->scsihw, "virtio-scsi-single"))
			return (struct drive_slot){"scsi", true, d->index, 0, 0};
		return (struct drive_slot){"scsi", true, 0, d->index, 0};
	case BUS_SATA:
		return (struct drive_slot){"sata", true, 0, 0, d->index};
	case BUS_IDE:
		if (guest_is_q35(g))
			return (struct drive_slot){"sata", true, 1, 0,
						   d->index / 2 + 2 * (d->index % 2)};
		break;
	case BUS_VIRTIO:
	case BUS_MP: /* a container's: not a drive */
		break;
	}
	return (struct drive_slot){disk_buses[d->bus].bus, false, 0, 0, 0};
}

static void add_disk_target(struct xml_builder *xb, xmlNode *disk, const struct lab_disk *d,
			    const struct drive_slot *slot)
{
	char dev[16];
	disk_name(disk_buses[d->bus].prefix, d->index + disk_buses[d->bus].offset, dev,
		  sizeof(dev));
	xmlNode *target = add_with(xb, disk, "target", "dev", dev);
	set(xb, target, "bus", slot->bus);
	if (d->ssd && d->bus != BUS_VIRTIO) /* Proxmox's ssd=1: a non-rotational disk */
		set(xb, target, "rotation_rate", "1");
}

static void add_drive_address(struct xml_builder *xb, xmlNode *disk, const struct drive_slot *slot)
{
	if (!slot->address)
		return;
	xmlNode *address = add_with(xb, disk, "address", "type", "drive");
	setf(xb, address, "controller", "%d", slot->controller);
	set(xb, address, "bus", "0");
	setf(xb, address, "target", "%d", slot->target);
	setf(xb, address, "unit", "%d", slot->unit);
}

/* How a disk's backing is attached: libvirt's disk type, source attribute and format. */
struct disk_source {
	const char *type, *attr, *format;
};

static struct disk_source disk_source(const struct lab *lab, const struct lab_disk *d,
				      const char *path)
{
	const struct lab_storage *s = d->storage ? lab_find_storage(lab, d->storage) : NULL;
	if (!path)
		return (struct disk_source){"file", NULL, "raw"};
	if (lab_storage_block(s) || (!s && startswith(path, "/dev/")))
		return (struct disk_source){"block", "dev", "raw"};
	/* What labvirt makes is qcow2, but a volume by Proxmox's name is what its name says
	 * (images/101/vm-101-disk-0.raw), as the storage makes it when it is missing. */
	size_t n = strlen(path);
	bool qcow2 = !d->cloudinit && ((s && s->type == STORAGE_DIR && d->allocate && !d->named) ||
				       (n >= 6 && streq(path + n - 6, ".qcow2")));
	return (struct disk_source){"file", "file", qcow2 ? "qcow2" : "raw"};
}

static void add_disk_driver(struct xml_builder *xb, xmlNode *disk, const struct lab_disk *d,
			    const char *format, int iothread)
{
	xmlNode *driver = add_with(xb, disk, "driver", "name", "qemu");
	set(xb, driver, "type", format);
	if (d->cache)
		set(xb, driver, "cache", d->cache);
	if (d->werror)
		set(xb, driver, "error_policy", d->werror);
	if (d->rerror)
		set(xb, driver, "rerror_policy", d->rerror);
	if (d->aio)
		set(xb, driver, "io", d->aio);
	if (d->iothread && (d->bus == BUS_VIRTIO))
		setf(xb, driver, "iothread", "%d", iothread);
	if (d->queues && d->bus == BUS_VIRTIO)
		setf(xb, driver, "queues", "%d", d->queues);
	if (d->discard)
		set(xb, driver, "discard", "unmap");
	if (d->detect_zeroes)
		set(xb, driver, "detect_zeroes", d->detect_zeroes);
}

/* iops*, mbps* and bps* as QEMU's throttling. */
static void add_iotune(struct xml_builder *xb, xmlNode *disk, const struct lab_disk *d)
{
	static const char *const iops[] = {"total_iops_sec",    "read_iops_sec",
					   "write_iops_sec",    "total_iops_sec_max",
					   "read_iops_sec_max", "write_iops_sec_max"};
	static const char *const bytes[] = {"total_bytes_sec",    "read_bytes_sec",
					    "write_bytes_sec",    "total_bytes_sec_max",
					    "read_bytes_sec_max", "write_bytes_sec_max"};
	xmlNode *tune = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(iops); i++) {
		if (d->mbps[i]) {
			tune = tune ? tune : add(xb, disk, "iotune", NULL);
			addf(xb, tune, bytes[i], "%" PRIu64, d->mbps[i]);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(iops); i++) {
		if (d->iops[i]) {
			tune = tune ? tune : add(xb, disk, "iotune", NULL);
			addf(xb, tune, iops[i], "%" PRIu64, d->iops[i]);
		}
	}
}

/* The iothread (1-based) of disk d: the disks with iothread=1 get one each. */
static int iothread_of(const struct lab_guest *g, const struct lab_disk *d)
{
	int n = 0;
	for (size_t i = 0; i < g->n_disks && &g->disks[i] <= d; i++)
		n += g->disks[i].iothread;
	return d->iothread ? n : 0;
}

static int add_disk(struct xml_builder *xb, xmlNode *devices, const struct lab *lab,
		    const struct lab_guest *g, const struct lab_disk *d, struct lv_error *err)
{
	_cleanup_free_ char *path = d->empty ? NULL : lab_disk_path(lab, g, d);
	if (!d->empty && !path)
		return lv_fail(err, LV_EXIT_FAIL, "%s: no path for the disk", d->key);
	struct disk_source src = disk_source(lab, d, path);
	bool cdrom = d->media == MEDIA_CDROM;
	xmlNode *disk = add_with(xb, devices, "disk", "type", src.type);
	set(xb, disk, "device", cdrom ? "cdrom" : "disk");
	add_disk_driver(xb, disk, d, src.format, iothread_of(g, d));
	if (path)
		add_with(xb, disk, "source", src.attr, path);
	struct drive_slot slot = drive_slot(g, d);
	add_disk_target(xb, disk, d, &slot);
	add_iotune(xb, disk, d);
	if (cdrom || d->readonly)
		add(xb, disk, "readonly", NULL);
	if (d->serial)
		add(xb, disk, "serial", d->serial);
	if (d->wwn && (streq(slot.bus, "scsi") || streq(slot.bus, "ide")))
		add(xb, disk, "wwn", d->wwn);
	add_boot(xb, disk, g, d->key);
	add_drive_address(xb, disk, &slot);
	return 0;
}

static bool has_bus(const struct lab_guest *g, enum lab_bus bus)
{
	for (size_t i = 0; i < g->n_disks; i++)
		if (g->disks[i].bus == bus)
			return true;
	return false;
}

/* scsihw: Proxmox's controller models as libvirt's; no scsihw keeps labvirt's
 * virtio-scsi (Proxmox's own default, lsi, needs a driver few cloud images
 * load: see the README). virtio-scsi-single gives each disk a controller. */
static const char *scsi_model(const char *scsihw)
{
	static const char *const map[][2] = {
	    {"lsi", "lsilogic"},
	    {"lsi53c810", "lsilogic"},
	    {"virtio-scsi-pci", "virtio-scsi"},
	    {"virtio-scsi-single", "virtio-scsi"},
	    {"megasas", "lsisas1078"},
	    {"pvscsi", "vmpvscsi"},
	};
	for (size_t i = 0; scsihw && i < ARRAY_SIZE(map); i++)
		if (streq(scsihw, map[i][0]))
			return map[i][1];
	return "virtio-scsi";
}

static bool scsi_single(const struct lab_guest *g)
{
	return g->scsihw && streq(g->scsihw, "virtio-scsi-single");
}

static void add_scsi_controllers(struct xml_builder *xb, xmlNode *devices,
				 const struct lab_guest *g)
{
	for (size_t i = 0; i < g->n_disks; i++) {
		const struct lab_disk *d = &g->disks[i];
		if (d->bus != BUS_SCSI ||
		    (!scsi_single(g) && i > 0 && g->disks[i - 1].bus == BUS_SCSI))
			continue;
		xmlNode *scsi = add_with(xb, devices, "controller", "type", "scsi");
		setf(xb, scsi, "index", "%d", scsi_single(g) ? d->index : 0);
		set(xb, scsi, "model", scsi_model(g->scsihw));
		if (scsi_single(g) && d->iothread)
			setf(xb, add(xb, scsi, "driver", NULL), "iothread", "%d",
			     iothread_of(g, d));
	}
}

static int add_disks(struct xml_builder *xb, xmlNode *devices, const struct lab *lab,
		     const struct lab_guest *g, struct lv_error *err)
{
	for (size_t i = 0; i < g->n_disks; i++)
		if (add_disk(xb, devices, lab, g, &g->disks[i], err) < 0)
			return -1;
	if (has_bus(g, BUS_SCSI))
		add_scsi_controllers(xb, devices, g);
	return 0;
}

/* Always type='bridge': a nat or isolated network's bridge carries the
 * bridge's own name, so the one form serves every bridge mode. */
static void add_net(struct xml_builder *xb, xmlNode *devices, const struct lab_guest *g,
		    const struct lab_net *n)
{
	char key[16];
	snprintf(key, sizeof(key), "net%d", n->index);
	xmlNode *iface = add_with(xb, devices, "interface", "type", "bridge");
	add_with(xb, iface, "mac", "address", n->mac);
	add_with(xb, iface, "source", "bridge", n->bridge);
	/* QEMU's e1000 is the 82540EM */
	add_with(xb, iface, "model", "type", streq(n->model, "e1000-82540em") ? "e1000" : n->model);
	if (n->queues > 1 && streq(n->model, "virtio"))
		setf(xb, add(xb, iface, "driver", NULL), "queues", "%d", n->queues);
	if (n->rate > 0) { /* MB/s each way, as libvirt's KiB/s */
		xmlNode *bw = add(xb, iface, "bandwidth", NULL);
		unsigned long long kib = (unsigned long long)(n->rate * 1024);
		setf(xb, add(xb, bw, "inbound", NULL), "average", "%llu", kib ? kib : 1);
		setf(xb, add(xb, bw, "outbound", NULL), "average", "%llu", kib ? kib : 1);
	}
	if (n->mtu > 1) /* mtu=1 is the bridge's own: libvirt's default */
		setf(xb, add(xb, iface, "mtu", NULL), "size", "%d", n->mtu);
	if (n->link_down)
		add_with(xb, iface, "link", "state", "down");
	add_boot(xb, iface, g, key);
}

static void add_serial_console(struct xml_builder *xb, xmlNode *devices, const struct lab_guest *g)
{
	for (int i = 0; i < 4; i++) { /* serialN: socket, or a host device */
		const char *dev = g->dev.serial[i] ? g->dev.serial[i] : i == 0 ? "socket" : NULL;
		if (!dev)
			continue;
		xmlNode *port =
		    add_with(xb, devices, "serial", "type", streq(dev, "socket") ? "pty" : "dev");
		if (!streq(dev, "socket"))
			add_with(xb, port, "source", "path", dev);
		setf(xb, add(xb, port, "target", NULL), "port", "%d", i);
	}
	for (int i = 0; i < 3; i++) {
		if (!g->dev.parallel[i])
			continue;
		xmlNode *port = add_with(xb, devices, "parallel", "type", "dev");
		add_with(xb, port, "source", "path", g->dev.parallel[i]);
		setf(xb, add(xb, port, "target", NULL), "port", "%d", i);
	}
	if (g->dev.serial[0] && !streq(g->dev.serial[0], "socket"))
		return; /* serial0 is the host's device: no console of labvirt's */
	xmlNode *console = add_with(xb, devices, "console", "type", "pty");
	set(xb, add_with(xb, console, "target", "type", "serial"), "port", "0");
}

static void add_agent(struct xml_builder *xb, xmlNode *devices)
{
	xmlNode *channel = add_with(xb, devices, "channel", "type", "unix");
	xmlNode *target = add_with(xb, channel, "target", "type", "virtio");
	set(xb, target, "name", "org.qemu.guest_agent.0");
}

/* Proxmox's vga= to libvirt's video model; NULL when labvirt has no match. */
static const char *video_model(const char *vga)
{
	static const char *const map[][2] = {
	    {"std", "vga"},      {"cirrus", "cirrus"},    {"vmware", "vmvga"},
	    {"qxl", "qxl"},      {"virtio", "virtio"},    {"serial0", "none"},
	    {"none", "none"},    {"qxl2", "qxl"},         {"qxl3", "qxl"},
	    {"qxl4", "qxl"},     {"virtio-gl", "virtio"}, {"serial1", "none"},
	    {"serial2", "none"}, {"serial3", "none"},
	};
	if (!vga)
		return "vga";
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (streq(vga, map[i][0]))
			return map[i][1];
	return NULL;
}

static int add_video(struct xml_builder *xb, xmlNode *devices, const struct lab_guest *g,
		     struct lv_error *err)
{
	const char *model = video_model(g->vga);
	if (!model)
		return lv_fail(err, LV_EXIT_USAGE, "vga '%s' is not supported", g->vga);
	xmlNode *video = add_with(xb, add(xb, devices, "video", NULL), "model", "type", model);
	if (g->vga && startswith(g->vga, "qxl") && g->vga[3]) /* qxlN: N heads */
		set(xb, video, "heads", g->vga + 3);
	if (g->vga_memory_mib && (streq(model, "vga") || streq(model, "qxl")))
		setf(xb, video, streq(model, "qxl") ? "vgamem" : "vram", "%" PRIu64,
		     g->vga_memory_mib * 1024);
	return 0;
}

/* A graphical console listens on loopback only, on a port libvirt picks, and
 * with a tablet for the pointer. Its password is not rendered: the libvirt
 * adapter adds it when it defines the domain, so that neither this XML nor the
 * config stamp carries it (see virt_domain_define). */
static void add_graphics(struct xml_builder *xb, xmlNode *devices, const struct lab_guest *g)
{
	const char *type = lab_guest_graphics(g);
	if (!type)
		return;
	if (g->tablet != 0) {
		xmlNode *tablet = add_with(xb, devices, "input", "type", "tablet");
		set(xb, tablet, "bus", "usb");
	}
	xmlNode *graphics = add_with(xb, devices, "graphics", "type", type);
	set(xb, graphics, "autoport", "yes");
	if (g->keyboard)
		set(xb, graphics, "keymap", g->keyboard);
	xmlNode *listen = add_with(xb, graphics, "listen", "type", "address");
	set(xb, listen, "address", "127.0.0.1");
	if (streq(type, "spice") && g->spice_streaming)
		add_with(xb, graphics, "streaming", "mode", g->spice_streaming);
}

/* hostpciN host=01:00.0 and usbN host=VENDOR:PRODUCT or spice: the host's
 * devices, given to the guest (libvirt says at start when one is missing). */
static void add_host_devices(struct xml_builder *xb, xmlNode *devices, const struct lab_guest *g)
{
	const struct lab_devices *dev = &g->dev;
	for (size_t i = 0; i < ARRAY_SIZE(dev->hostpci); i++) {
		const char *id = dev->hostpci[i];
		if (!id)
			continue;
		unsigned dom = 0, bus = 0, slot = 0, fn = 0;
		if (sscanf(id, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4) {
			dom = 0;
			if (sscanf(id, "%x:%x.%x", &bus, &slot, &fn) != 3)
				sscanf(id, "%x:%x", &bus, &slot), fn = 0;
		}
		xmlNode *hd = add_with(xb, devices, "hostdev", "mode", "subsystem");
		set(xb, hd, "type", "pci");
		set(xb, hd, "managed", "yes");
		xmlNode *addr = add(xb, add(xb, hd, "source", NULL), "address", NULL);
		setf(xb, addr, "domain", "0x%04x", dom);
		setf(xb, addr, "bus", "0x%02x", bus);
		setf(xb, addr, "slot", "0x%02x", slot);
		setf(xb, addr, "function", "0x%x", fn);
	}
	for (size_t i = 0; i < ARRAY_SIZE(dev->usb); i++) {
		const char *id = dev->usb[i];
		if (!id || streq(id, "spice"))
			continue;
		xmlNode *hd = add_with(xb, devices, "hostdev", "mode", "subsystem");
		set(xb, hd, "type", "usb");
		xmlNode *src = add(xb, hd, "source", NULL);
		setf(xb, add(xb, src, "vendor", NULL), "id", "0x%.4s", id);
		setf(xb, add(xb, src, "product", NULL), "id", "0x%.4s", id + 5);
	}
	for (size_t i = 0; i < ARRAY_SIZE(dev->usb); i++)
		if (dev->usb[i] && streq(dev->usb[i], "spice"))
			set(xb, add_with(xb, devices, "redirdev", "bus", "usb"), "type",
			    "spicevmc");
}

/* args: QEMU arguments of the guest's own, split at blanks. */
static void add_qemu_args(struct xml_builder *xb, xmlNode *root, const struct lab_guest *g)
{
	if (!g->args)
		return;
	xmlNs *ns = root ? xmlNewNs(root, BAD_CAST "http://libvirt.org/schemas/domain/qemu/1.0",
				    BAD_CAST "qemu")
			 : NULL;
	xmlNode *cmdline = ns ? xmlNewChild(root, ns, BAD_CAST "commandline", NULL) : NULL;
	if (!cmdline) {
		xb->failed = true;
		return;
	}
	_cleanup_free_ char *copy = xstrdup(g->args);
	char *save = NULL;
	for (char *a = strtok_r(copy, " \t", &save); a; a = strtok_r(NULL, " \t", &save)) {
		xmlNode *arg = xmlNewChild(cmdline, ns, BAD_CAST "arg", NULL);
		set(xb, arg, "value", a);
		xb->failed = xb->failed || !arg;
	}
}

/* watchdog, audio0, tpmstate0, ivshmem: in libvirt's order of devices. */
static void add_other_devices(struct xml_builder *xb, xmlNode *devices, const struct lab_guest *g)
{
	const struct lab_devices *dev = &g->dev;
	if (dev->audio_device) {
		const char *model = streq(dev->audio_device, "ich9-intel-hda") ? "ich9"
				    : streq(dev->audio_device, "intel-hda")    ? "ich6"
									       : "ac97";
		add_with(xb, add_with(xb, devices, "sound", "model", model), "audio", "id", "1");
	}
	if (dev->audio_device)
		set(xb, add_with(xb, devices, "audio", "id", "1"), "type", dev->audio_driver);
	if (dev->watchdog_model) {
		xmlNode *wd = add_with(xb, devices, "watchdog", "model", dev->watchdog_model);
		if (dev->watchdog_action)
			set(xb, wd, "action",
			    streq(dev->watchdog_action, "debug") ? "dump" : dev->watchdog_action);
	}
}

static void add_balloon_and_rng(struct xml_builder *xb, xmlNode *devices, const struct lab_guest *g)
{
	const struct lab_devices *dev = &g->dev;
	bool balloon = !g->balloon_set || g->balloon_mib > 0;
	add_with(xb, devices, "memballoon", "model", balloon ? "virtio" : "none");
	xmlNode *rng = add_with(xb, devices, "rng", "model", "virtio");
	if (dev->rng_set && dev->rng_max_bytes) {
		xmlNode *rate = add(xb, rng, "rate", NULL);
		setf(xb, rate, "bytes", "%" PRIu64, dev->rng_max_bytes);
		setf(xb, rate, "period", "%" PRIu64, dev->rng_period);
	}
	set(xb, add(xb, rng, "backend", dev->rng_set ? dev->rng_source : "/dev/urandom"), "model",
	    "random");
	if (g->tpmstate.set) {
		xmlNode *tpm = add_with(xb, devices, "tpm", "model", "tpm-tis");
		xmlNode *backend = add_with(xb, tpm, "backend", "type", "emulator");
		set(xb, backend, "version", streq(g->tpmstate.version, "v2.0") ? "2.0" : "1.2");
	}
	if (dev->ivshmem_mib) {
		_cleanup_free_ char *name =
		    xasprintf("%s%s", dev->ivshmem_name[0] ? "" : "pve-shm-",
			      dev->ivshmem_name[0] ? dev->ivshmem_name : g->name);
		xmlNode *shm = add_with(xb, devices, "shmem", "name", name);
		add_with(xb, shm, "model", "type", "ivshmem-plain");
		set(xb, addf(xb, shm, "size", "%" PRIu64, dev->ivshmem_mib), "unit", "M");
	}
}

/* Devices in the order libvirt itself lists them. */
static int add_devices(struct xml_builder *xb, xmlNode *root, const struct lab *lab,
		       const struct lab_guest *g, struct lv_error *err)
{
	xmlNode *devices = add(xb, root, "devices", NULL);
	if (add_disks(xb, devices, lab, g, err) < 0)
		return -1;
	for (size_t i = 0; i < g->n_nets; i++)
		add_net(xb, devices, g, &g->nets[i]);
	add_serial_console(xb, devices, g);
	if (g->agent)
		add_agent(xb, devices);
	add_graphics(xb, devices, g);
	if (add_video(xb, devices, g, err) < 0)
		return -1;
	add_host_devices(xb, devices, g);
	add_other_devices(xb, devices, g);
	if (g->viommu) /* machine: viommu=intel|virtio */
		add_with(xb, devices, "iommu", "model", g->viommu);
	add_balloon_and_rng(xb, devices, g);
	return 0;
}

static int build_domain(struct xml_builder *xb, xmlDoc *doc, const struct lab *lab,
			const struct lab_guest *g, enum lab_accel accel, const char *machine_as,
			xmlNode **ret_owner, struct lv_error *err)
{
	xmlNode *root = new_root(xb, doc, "domain");
	if (g->no_kvm) /* kvm: 0 */
		accel = ACCEL_TCG;
	set(xb, root, "type", accel == ACCEL_KVM ? "kvm" : "qemu");
	add_general(xb, root, g);
	xmlNode *owner = add_owner(xb, root, lab);
	set(xb, owner, "guest", g->name);
	add_resources(xb, root, g);
	add_sysinfo(xb, root, g);
	add_os(xb, root, g, machine_as);
	add_features(xb, root, g);
	add_cpu(xb, root, g, accel);
	add_clock_and_lifecycle(xb, root, g);
	if (add_devices(xb, root, lab, g, err) < 0)
		return -1;
	add_qemu_args(xb, root, g);
	*ret_owner = owner;
	return 0;
}

int render_domain(const struct lab *lab, const struct lab_guest *g, enum lab_accel accel,
		  char **ret_xml, struct lv_error *err)
{
	return render_domain_as(lab, g, accel, NULL, ret_xml, err);
}

int render_domain_as(const struct lab *lab, const struct lab_guest *g, enum lab_accel accel,
		     const char *machine_as, char **ret_xml, struct lv_error *err)
{
	if (accel != ACCEL_KVM && accel != ACCEL_TCG)
		return lv_fail(err, LV_EXIT_FAIL, "render %s: accelerator must be kvm or tcg",
			       g->name);
	struct xml_builder xb = {0};
	_cleanup_xml_doc_ xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *owner = NULL;
	if (g->kind == KIND_CT) {
		if (build_ct(&xb, doc, lab, g, &owner, err) < 0 ||
		    finish(&xb, doc, owner, ret_xml, err) < 0)
			return lv_prefix(err, "render %s", g->name);
		return 0;
	}
	if (build_domain(&xb, doc, lab, g, accel, machine_as, &owner, err) < 0 ||
	    finish(&xb, doc, owner, ret_xml, err) < 0)
		return lv_prefix(err, "render %s", g->name);
	return 0;
}

/* ---- network --------------------------------------------------------------- */

/* Splits "10.10.10.1/24" into the host address and a dotted netmask. */
static int parse_cidr(const char *cidr, char host[INET_ADDRSTRLEN], char mask[INET_ADDRSTRLEN])
{
	const char *slash = strchr(cidr, '/');
	if (!slash || (size_t)(slash - cidr) >= INET_ADDRSTRLEN)
		return -1;
	memcpy(host, cidr, slash - cidr);
	host[slash - cidr] = '\0';
	char *end;
	long prefix = strtol(slash + 1, &end, 10);
	struct in_addr addr;
	if (end == slash + 1 || *end || prefix < 0 || prefix > 32 ||
	    inet_pton(AF_INET, host, &addr) != 1)
		return -1;
	addr.s_addr = htonl(prefix ? UINT32_MAX << (32 - prefix) : 0);
	return inet_ntop(AF_INET, &addr, mask, INET_ADDRSTRLEN) ? 0 : -1;
}

/* A stable MAC for the bridge itself, so that it does not change on each define;
 * derived as the parser derives a guest's. */
static void bridge_mac(const struct lab *lab, const struct lab_bridge *b, char ret_mac[18])
{
	_cleanup_free_ char *seed = xasprintf("%s/bridge/%s", lab->name, b->name);
	uint64_t h = fnv1a(seed, strlen(seed));
	snprintf(ret_mac, 18, "52:54:00:%02x:%02x:%02x", (unsigned)(h >> 16) & 0xff,
		 (unsigned)(h >> 8) & 0xff, (unsigned)h & 0xff);
}

static int add_ip(struct xml_builder *xb, xmlNode *root, const struct lab_bridge *b,
		  struct lv_error *err)
{
	char host[INET_ADDRSTRLEN], mask[INET_ADDRSTRLEN];
	if (!b->address)
		return 0;
	if (parse_cidr(b->address, host, mask) < 0)
		return lv_fail(err, LV_EXIT_USAGE, "address '%s' is not an IPv4 address/prefix",
			       b->address);
	xmlNode *ip = add_with(xb, root, "ip", "address", host);
	set(xb, ip, "netmask", mask);
	if (!b->dhcp_start || !b->dhcp_end)
		return 0;
	xmlNode *range = add_with(xb, add(xb, ip, "dhcp", NULL), "range", "start", b->dhcp_start);
	set(xb, range, "end", b->dhcp_end);
	return 0;
}

static int build_network(struct xml_builder *xb, xmlDoc *doc, const struct lab *lab,
			 const struct lab_bridge *b, xmlNode **ret_owner, struct lv_error *err)
{
	_cleanup_free_ char *name = lab_network_name(lab, b);
	char mac[18];
	bridge_mac(lab, b, mac);
	xmlNode *root = new_root(xb, doc, "network");
	add(xb, root, "name", name);
	xmlNode *owner = add_owner(xb, root, lab);
	set(xb, owner, "bridge", b->name);
	if (b->mode == BRIDGE_NAT)
		add_with(xb, root, "forward", "mode", "nat");
	xmlNode *bridge = add_with(xb, root, "bridge", "name", b->name);
	set(xb, bridge, "stp", "off");
	set(xb, bridge, "delay", "0");
	add_with(xb, root, "mac", "address", mac);
	if (add_ip(xb, root, b, err) < 0)
		return -1;
	*ret_owner = owner;
	return 0;
}

int render_network(const struct lab *lab, const struct lab_bridge *b, char **ret_xml,
		   struct lv_error *err)
{
	if (b->mode == BRIDGE_HOST)
		return lv_fail(err, LV_EXIT_FAIL,
			       "render bridge %s: a host bridge has no libvirt network", b->name);
	struct xml_builder xb = {0};
	_cleanup_xml_doc_ xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *owner = NULL;
	if (build_network(&xb, doc, lab, b, &owner, err) < 0 ||
	    finish(&xb, doc, owner, ret_xml, err) < 0)
		return lv_prefix(err, "render bridge %s", b->name);
	return 0;
}
