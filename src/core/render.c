/* render.c - libvirt domain and network XML, built as a libxml2 tree and dumped
 * the way libvirt dumps its own: two-space indent, no XML declaration. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "render.h"

/* sataN is named sd<31+N>: after Proxmox's scsi0..scsi30, which share the sd
 * names. The names are only labels: both buses get explicit drive addresses. */
#define SATA_NAME_OFFSET 31

/* A tree under construction. The first failed libxml2 allocation sets failed,
 * and every later call on a NULL node is a no-op, so that the builders below
 * read as the XML they make and the failure is reported once, at the end. */
struct xml_builder {
	bool failed;
};

static void xml_doc_freep(xmlDoc **doc)
{
	if (*doc)
		xmlFreeDoc(*doc);
}
#define _cleanup_xml_doc_ _cleanup_(xml_doc_freep)

static void xml_buffer_freep(xmlBuffer **buf)
{
	if (*buf)
		xmlBufferFree(*buf);
}
#define _cleanup_xml_buffer_ _cleanup_(xml_buffer_freep)

/* Adds <name>text</name> (text escaped; NULL for none) under parent. */
static xmlNode *add(struct xml_builder *xb, xmlNode *parent, const char *name, const char *text)
{
	xmlNode *node = parent ? xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST text) : NULL;
	if (!node)
		xb->failed = true;
	return node;
}

static xmlNode *__attribute__((format(printf, 4, 5)))
addf(struct xml_builder *xb, xmlNode *parent, const char *name, const char *fmt, ...)
{
	char text[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return add(xb, parent, name, text);
}

static void set(struct xml_builder *xb, xmlNode *node, const char *name, const char *value)
{
	if (!node || !xmlNewProp(node, BAD_CAST name, BAD_CAST value))
		xb->failed = true;
}

static void __attribute__((format(printf, 4, 5)))
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
static xmlNode *add_with(struct xml_builder *xb, xmlNode *parent, const char *name,
			 const char *attr, const char *value)
{
	xmlNode *node = add(xb, parent, name, NULL);
	set(xb, node, attr, value);
	return node;
}

static xmlNode *new_root(struct xml_builder *xb, xmlDoc *doc, const char *name)
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
static xmlNode *add_owner(struct xml_builder *xb, xmlNode *parent, const struct lab *lab)
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
static int finish(struct xml_builder *xb, xmlDoc *doc, xmlNode *owner, char **ret_xml,
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

static void add_general(struct xml_builder *xb, xmlNode *root, const struct lab_guest *g)
{
	add(xb, root, "name", g->name);
	add(xb, root, "uuid", g->uuid);
	if (g->description)
		add(xb, root, "description", g->description);
}

static void add_resources(struct xml_builder *xb, xmlNode *root, const struct lab_guest *g)
{
	set(xb, addf(xb, root, "memory", "%" PRIu64, g->memory_mib), "unit", "MiB");
	set(xb, addf(xb, root, "currentMemory", "%" PRIu64, g->memory_mib), "unit", "MiB");
	set(xb, addf(xb, root, "vcpu", "%d", g->cores * g->sockets), "placement", "static");
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

static void add_os(struct xml_builder *xb, xmlNode *root, const struct lab_guest *g)
{
	xmlNode *os = add(xb, root, "os", NULL);
	xmlNode *type = add(xb, os, "type", "hvm");
	set(xb, type, "arch", "x86_64");
	if (g->machine) {
		_cleanup_free_ char *machine = render_machine_type(g->machine);
		set(xb, type, "machine", machine);
	}
	if (!g->kernel)
		return;
	add(xb, os, "kernel", g->kernel);
	if (g->initrd)
		add(xb, os, "initrd", g->initrd);
	if (g->cmdline)
		add(xb, os, "cmdline", g->cmdline);
}

static void add_features(struct xml_builder *xb, xmlNode *root)
{
	xmlNode *features = add(xb, root, "features", NULL);
	add(xb, features, "acpi", NULL);
	add(xb, features, "apic", NULL);
}

/* KVM passes the host CPU through; TCG keeps QEMU's default model. */
static void add_cpu(struct xml_builder *xb, xmlNode *root, const struct lab_guest *g,
		    enum lab_accel accel)
{
	xmlNode *cpu = add(xb, root, "cpu", NULL);
	if (accel == ACCEL_KVM)
		set(xb, cpu, "mode", "host-passthrough");
	xmlNode *topology = add(xb, cpu, "topology", NULL);
	setf(xb, topology, "sockets", "%d", g->sockets);
	set(xb, topology, "dies", "1");
	setf(xb, topology, "cores", "%d", g->cores);
	set(xb, topology, "threads", "1");
}

/* Windows keeps its clock in local time, as Proxmox sets it for w* ostypes. */
static void add_clock_and_lifecycle(struct xml_builder *xb, xmlNode *root,
				    const struct lab_guest *g)
{
	bool windows = g->ostype && g->ostype[0] == 'w';
	add_with(xb, root, "clock", "offset", windows ? "localtime" : "utc");
	add(xb, root, "on_poweroff", "destroy");
	add(xb, root, "on_reboot", "restart");
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
	case BUS_SCSI:
		return (struct drive_slot){"scsi", true, 0, d->index, 0};
	case BUS_SATA:
		return (struct drive_slot){"sata", true, 0, 0, d->index};
	case BUS_IDE:
		if (guest_is_q35(g))
			return (struct drive_slot){"sata", true, 1, 0,
						   d->index / 2 + 2 * (d->index % 2)};
		break;
	case BUS_VIRTIO:
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
	if ((s && s->type == STORAGE_LVMTHIN) || (!s && startswith(path, "/dev/")))
		return (struct disk_source){"block", "dev", "raw"};
	size_t n = strlen(path);
	bool qcow2 = (s && d->allocate) || (n >= 6 && streq(path + n - 6, ".qcow2"));
	return (struct disk_source){"file", "file", qcow2 ? "qcow2" : "raw"};
}

static void add_disk_driver(struct xml_builder *xb, xmlNode *disk, const struct lab_disk *d,
			    const char *format)
{
	xmlNode *driver = add_with(xb, disk, "driver", "name", "qemu");
	set(xb, driver, "type", format);
	if (d->cache)
		set(xb, driver, "cache", d->cache);
	if (d->discard)
		set(xb, driver, "discard", "unmap");
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
	add_disk_driver(xb, disk, d, src.format);
	if (path)
		add_with(xb, disk, "source", src.attr, path);
	struct drive_slot slot = drive_slot(g, d);
	add_disk_target(xb, disk, d, &slot);
	if (cdrom || d->readonly)
		add(xb, disk, "readonly", NULL);
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

static int add_disks(struct xml_builder *xb, xmlNode *devices, const struct lab *lab,
		     const struct lab_guest *g, struct lv_error *err)
{
	for (size_t i = 0; i < g->n_disks; i++)
		if (add_disk(xb, devices, lab, g, &g->disks[i], err) < 0)
			return -1;
	if (has_bus(g, BUS_SCSI)) {
		xmlNode *scsi = add_with(xb, devices, "controller", "type", "scsi");
		set(xb, scsi, "index", "0");
		set(xb, scsi, "model", "virtio-scsi");
	}
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
	add_with(xb, iface, "model", "type", n->model);
	if (n->link_down)
		add_with(xb, iface, "link", "state", "down");
	add_boot(xb, iface, g, key);
}

static void add_serial_console(struct xml_builder *xb, xmlNode *devices)
{
	xmlNode *serial = add_with(xb, devices, "serial", "type", "pty");
	add_with(xb, serial, "target", "port", "0");
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
	    {"std", "vga"},       {"cirrus", "cirrus"}, {"vmware", "vmvga"}, {"qxl", "qxl"},
	    {"virtio", "virtio"}, {"serial0", "none"},  {"none", "none"},
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
	add_with(xb, add(xb, devices, "video", NULL), "model", "type", model);
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
	xmlNode *tablet = add_with(xb, devices, "input", "type", "tablet");
	set(xb, tablet, "bus", "usb");
	xmlNode *graphics = add_with(xb, devices, "graphics", "type", type);
	set(xb, graphics, "autoport", "yes");
	xmlNode *listen = add_with(xb, graphics, "listen", "type", "address");
	set(xb, listen, "address", "127.0.0.1");
}

static void add_balloon_and_rng(struct xml_builder *xb, xmlNode *devices)
{
	add_with(xb, devices, "memballoon", "model", "virtio");
	xmlNode *rng = add_with(xb, devices, "rng", "model", "virtio");
	set(xb, add(xb, rng, "backend", "/dev/urandom"), "model", "random");
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
	add_serial_console(xb, devices);
	if (g->agent)
		add_agent(xb, devices);
	add_graphics(xb, devices, g);
	if (add_video(xb, devices, g, err) < 0)
		return -1;
	add_balloon_and_rng(xb, devices);
	return 0;
}

static int build_domain(struct xml_builder *xb, xmlDoc *doc, const struct lab *lab,
			const struct lab_guest *g, enum lab_accel accel, xmlNode **ret_owner,
			struct lv_error *err)
{
	xmlNode *root = new_root(xb, doc, "domain");
	set(xb, root, "type", accel == ACCEL_KVM ? "kvm" : "qemu");
	add_general(xb, root, g);
	xmlNode *owner = add_owner(xb, root, lab);
	set(xb, owner, "guest", g->name);
	add_resources(xb, root, g);
	add_os(xb, root, g);
	add_features(xb, root);
	add_cpu(xb, root, g, accel);
	add_clock_and_lifecycle(xb, root, g);
	if (add_devices(xb, root, lab, g, err) < 0)
		return -1;
	*ret_owner = owner;
	return 0;
}

int render_domain(const struct lab *lab, const struct lab_guest *g, enum lab_accel accel,
		  char **ret_xml, struct lv_error *err)
{
	if (accel != ACCEL_KVM && accel != ACCEL_TCG)
		return lv_fail(err, LV_EXIT_FAIL, "render %s: accelerator must be kvm or tcg",
			       g->name);
	struct xml_builder xb = {0};
	_cleanup_xml_doc_ xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *owner = NULL;
	if (build_domain(&xb, doc, lab, g, accel, &owner, err) < 0 ||
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
