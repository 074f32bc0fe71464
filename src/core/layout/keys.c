/* layout/keys.c - keys: the one table of guest keys (each handler lives beside its concern:
 * guest.c, cloudinit.c, net.c, disk.c) and the reading of a guest file's lines. */
#include <inttypes.h>
#include <string.h>

#include "layout-private.h"

static bool indexed_key(const char *key, const char *prefix, int max, int *ret_index)
{
	size_t n = strlen(prefix);
	const char *num = key + n;
	if (strncmp(key, prefix, n) != 0 || !is_all(num, DIGITS) || (num[0] == '0' && num[1]) ||
	    strlen(num) > 2 || atoi(num) > max)
		return false;
	*ret_index = atoi(num);
	return true;
}

static const struct {
	const char *prefix;
	int max;
} DISK_BUSES[] = {[BUS_VIRTIO] = {"virtio", 15},
		  [BUS_SCSI] = {"scsi", 30},
		  [BUS_SATA] = {"sata", 5},
		  [BUS_IDE] = {"ide", 3}};

bool disk_key(const char *key, enum lab_bus *ret_bus, int *ret_index)
{
	for (size_t b = 0; b < ARRAY_SIZE(DISK_BUSES); b++)
		if (indexed_key(key, DISK_BUSES[b].prefix, DISK_BUSES[b].max, ret_index)) {
			*ret_bus = (enum lab_bus)b;
			return true;
		}
	return false;
}

bool net_key(const char *key, int *ret_index)
{
	return indexed_key(key, "net", LAB_MAX_NETS - 1, ret_index);
}
/* ---- <guest>.conf: lines ---- */

/* Every key of qemu-server's config schema ($confdesc), and labvirt's own
 * (graphics, kernel, initrd, cmdline). Indexed keys (virtioN, netN, ...) are
 * matched by conf_handler(); the README's key table says what each one does. */
static const struct {
	const char *key;
	conf_fn *set;
} CONF_KEYS[] = {
    /* honoured */
    {"name", conf_name},
    {"description", conf_description},
    {"ostype", conf_ostype},
    {"onboot", conf_onboot},
    {"agent", conf_agent},
    {"machine", conf_machine},
    {"vga", conf_vga},
    {"graphics", conf_graphics},
    {"cores", conf_cores},
    {"sockets", conf_sockets},
    {"memory", conf_memory},
    {"smbios1", conf_smbios1},
    {"boot", conf_boot},
    {"bootdisk", conf_bootdisk},
    {"kernel", conf_kernel},
    {"initrd", conf_initrd},
    {"cmdline", conf_cmdline},
    {"ciuser", conf_ciuser},
    {"cipassword", conf_cipassword},
    {"sshkeys", conf_sshkeys},
    {"nameserver", conf_nameserver},
    {"searchdomain", conf_searchdomain},
    {"cicustom", conf_cicustom},
    {"citype", conf_citype},
    {"ciupgrade", conf_flag},
    {"cpu", conf_cpu},
    {"numa", conf_flag},
    {"balloon", conf_balloon},
    {"shares", conf_shares},
    {"bios", conf_bios},
    {"efidisk0", conf_efidisk},
    {"tpmstate0", conf_tpmstate},
    {"scsihw", conf_scsihw},
    {"tablet", conf_flag},
    {"localtime", conf_flag},
    {"kvm", conf_flag},
    {"acpi", conf_flag},
    {"reboot", conf_flag},
    {"freeze", conf_flag},
    {"tdf", conf_flag},
    {"vcpus", conf_vcpus},
    {"cpulimit", conf_cpulimit},
    {"cpuunits", conf_cpuunits},
    {"affinity", conf_affinity},
    {"hugepages", conf_hugepages},
    {"keephugepages", conf_flag},
    {"vmgenid", conf_vmgenid},
    {"keyboard", conf_keyboard},
    {"arch", conf_arch},
    {"startup", conf_startup},
    {"watchdog", conf_watchdog},
    {"ivshmem", conf_ivshmem},
    {"spice_enhancements", conf_spice},
    {"smp", conf_smp},
    /* host-bound */
    {"args", conf_args},
    {"hookscript", conf_hookscript},
    {"amd-sev", conf_amd_sev},
    /* bookkeeping */
    {"autostart", conf_flag},
    {"protection", conf_flag},
    {"template", conf_flag},
    {"meta", conf_meta},
    {"digest", conf_digest},
    {"lock", conf_lock},
    {"tags", conf_tags},
    {"parent", conf_parent},
    {"hotplug", conf_hotplug},
    {"vmstatestorage", conf_storage_ref},
    {"migrate_downtime", conf_number},
    {"migrate_speed", conf_number},
    {"startdate", conf_startdate},
    /* what a snapshot section records about its taking */
    {"snaptime", conf_snaptime},
    {"vmstate", conf_snapshot_state},
    {"runningmachine", conf_snapshot_state},
    {"runningcpu", conf_snapshot_state},
    {"running-nets-host-mtu", conf_snapshot_state},
};

static const struct {
	const char *prefix;
	int max;
	conf_fn *set;
} INDEXED_KEYS[] = {
    {"ipconfig", LAB_MAX_NETS - 1, conf_ipconfig},
    {"numa", LAB_MAX_NUMA - 1, conf_numa_cell},
    {"serial", 3, conf_serial},
    {"parallel", 2, conf_parallel},
    {"rng", 0, conf_rng},
    {"audio", 0, conf_audio},
    {"usb", 13, conf_usb},
    {"hostpci", 15, conf_hostpci},
    {"virtiofs", 9, conf_virtiofs},
    {"unused", 255, conf_unused},
};

static conf_fn *conf_handler(const char *key)
{
	enum lab_bus bus;
	int index;
	for (size_t i = 0; i < ARRAY_SIZE(CONF_KEYS); i++)
		if (streq(CONF_KEYS[i].key, key))
			return CONF_KEYS[i].set;
	if (disk_key(key, &bus, &index))
		return conf_disk;
	if (net_key(key, &index))
		return conf_net;
	for (size_t i = 0; i < ARRAY_SIZE(INDEXED_KEYS); i++)
		if (indexed_key(key, INDEXED_KEYS[i].prefix, INDEXED_KEYS[i].max, &index))
			return INDEXED_KEYS[i].set;
	return NULL;
}

/* The end of a section: what its lines made is dropped. */
void section_end(struct conf_state *st)
{
	if (!st->section)
		return;
	guest_free(&st->scratch);
	keylines_free(&st->section_keys);
}

/* A section header: [SNAPSHOT], [PENDING] or [special:cloudinit]. Its lines
 * are read and checked, not applied: they are the guest's past, not its config. */
static void conf_section(struct parser *p, struct conf_state *st, int no, const char *line)
{
	size_t n = strlen(line);
	_cleanup_free_ char *name = n >= 2 ? xstrndup(line + 1, n - 2) : xstrdup("");
	section_end(st);
	st->section = true;
	st->scratch = (struct lab_guest){.kind = st->kind, .file = xstrdup(st->g->file)};
	if (st->kind == KIND_CT)
		st->scratch.ct = xcalloc(1, sizeof(*st->scratch.ct));
	if (n < 2 || line[n - 1] != ']')
		diag(p, no, "%s is not a section header [NAME]", Q(line));
	else if (st->kind == KIND_CT && !streq(name, "pve:pending") && !is_snapshot_name(name))
		diag(p, no, "section %s is not a snapshot name or pve:pending", Q(name));
	else if (st->kind == KIND_VM && !streq(name, "PENDING") &&
		 !streq(name, "special:cloudinit") && !is_snapshot_name(name))
		diag(p, no, "section %s is not a snapshot name, PENDING or special:cloudinit",
		     Q(name));
}

void conf_line(struct parser *p, void *ctx, int no, char *line)
{
	struct conf_state *st = ctx;
	if (is_skipped(line))
		return;
	char *key = trim(line);
	if (key[0] == '[') {
		conf_section(p, st, no, key);
		return;
	}
	/* a container's file also holds LXC's own keys (lxc.apparmor.profile) */
	bool raw = st->kind == KIND_CT && startswith(key, "lxc.");
	size_t klen = strspn(key, raw ? LOWER DIGITS "_-." : LOWER DIGITS "_-");
	if (klen == 0 || key[klen] != ':') {
		diag(p, no, "%s is not a 'key: value' line", Q(key));
		return;
	}
	key[klen] = '\0';
	const char *value = trim(key + klen + 1);
	_cleanup_free_ char *cdrom = NULL;
	if (st->kind == KIND_VM &&
	    streq(key, "cdrom")) { /* Proxmox's alias of ide2 with media=cdrom */
		cdrom =
		    strstr(value, "media=") ? xstrdup(value) : xasprintf("%s,media=cdrom", value);
		key = "ide2", value = cdrom;
	}
	conf_fn *set = st->kind == KIND_CT ? ct_handler(key) : conf_handler(key);
	if (st->section) { /* checked on a guest of its own, then dropped */
		struct guest_note note = {0};
		struct conf_state sec = {
		    .kind = st->kind, .g = &st->scratch, .note = &note, .keys = st->section_keys};
		int seen = keylines_find(&st->section_keys, key);
		if (!set)
			diag(p, no, "unknown key %s", Q(key));
		else if (seen)
			diag(p, no, "duplicate key %s (first on line %d)", Q(key), seen);
		else if (!*value)
			diag(p, no, "%s: missing value", key);
		if (set && !seen && *value && st->scratch.n_disks < LAB_MAX_DISKS &&
		    st->scratch.n_nets < LAB_MAX_NETS)
			set(p, &sec, key, no, value);
		if (set && !seen)
			keylines_add(&st->section_keys, key, no);
		return;
	}
	int first = keylines_find(&st->keys, key);
	if (!set)
		diag(p, no, "unknown key %s", Q(key));
	else if (first)
		diag(p, no, "duplicate key %s (first on line %d)", Q(key), first);
	else if (!*value)
		diag(p, no, "%s: missing value", key);
	if (!set || first)
		return;
	keylines_add(&st->keys, key, no);
	if (*value)
		set(p, st, key, no, value);
}
