/* layout/assemble.c - assemble: a guest file as a whole: its checks across keys, its name and
 * vmid, and freeing a guest. */
#include <inttypes.h>
#include <string.h>

#include "layout-private.h"

/* ---- <guest>.conf: the whole file ---- */

static void boot_add(struct lab_guest *g, const char *key)
{
	if (g->n_boot < ARRAY_SIZE(g->boot_order) &&
	    find_name((const char *const *)g->boot_order, g->n_boot, key) < 0)
		g->boot_order[g->n_boot++] = xstrdup(key);
}

/* Proxmox's legacy boot letters (default cdn when only bootdisk is given) as
 * an order: c the bootdisk (else the first disk), d the CD-ROM drives, n the nets. */
static void legacy_boot(struct lab_guest *g)
{
	const char *letters = g->boot_legacy ? g->boot_legacy : "cdn";
	if (g->n_boot || (!g->boot_legacy && !g->bootdisk))
		return;
	for (const char *c = letters; *c; c++) {
		for (size_t i = 0; *c == 'c' && i < g->n_disks; i++) {
			const struct lab_disk *d = &g->disks[i];
			bool is_boot =
			    g->bootdisk ? streq(d->key, g->bootdisk) : d->media == MEDIA_DISK;
			if (is_boot) {
				boot_add(g, d->key);
				break;
			}
		}
		for (size_t i = 0; *c == 'd' && i < g->n_disks; i++)
			if (g->disks[i].media == MEDIA_CDROM)
				boot_add(g, g->disks[i].key);
		for (size_t i = 0; *c == 'n' && i < g->n_nets; i++) {
			char key[16];
			snprintf(key, sizeof(key), "net%d", g->nets[i].index);
			boot_add(g, key);
		}
	}
}

static void check_boot(struct parser *p, const struct conf_state *st)
{
	const struct lab_guest *g = st->g;
	enum lab_bus bus;
	int index;
	for (size_t i = 0; i < g->n_boot; i++) {
		const char *dev = g->boot_order[i];
		if (!(disk_key(dev, &bus, &index) || net_key(dev, &index)) ||
		    !keylines_find(&st->keys, dev))
			diag(p, keylines_find(&st->keys, "boot"),
			     "boot: %s is not a disk or net of this guest", Q(dev));
	}
}

/* Cloud-init keys are written into the disk made from an image; each
 * ipconfigN configures netN. */
static void check_cloudinit(struct parser *p, const struct conf_state *st)
{
	const struct lab_guest *g = st->g;
	bool imported = false, drive = false, ip6 = false;
	for (size_t i = 0; i < g->n_disks; i++) {
		imported = imported || g->disks[i].import_from || g->disks[i].image;
		drive = drive || g->disks[i].cloudinit;
	}
	for (size_t i = 0; i < g->ci.n_ipconfig; i++)
		ip6 = ip6 || g->ci.ipconfig[i].ip6;
	for (size_t i = 0; i < g->ci.n_ipconfig; i++) {
		const struct lab_ipconfig *ic = &g->ci.ipconfig[i];
		bool found = false;
		for (size_t k = 0; k < g->n_nets; k++)
			found = found || g->nets[k].index == ic->index;
		if (!found)
			diag(p, ic->line, "ipconfig%d: the guest has no net%d", ic->index,
			     ic->index);
	}
	if (g->ci.set && !imported && !drive && g->n_disks > 0)
		diag(p, 0,
		     "cloud-init keys need a cloud-init drive (ide2: STORAGE:cloudinit) or a disk "
		     "made from an image (import-from=), which labvirt prepares before the first "
		     "boot");
	else if (!drive && ip6)
		diag(p, 0,
		     "ip6= needs a cloud-init drive (ide2: STORAGE:cloudinit): labvirt's "
		     "preparation of an imported disk writes IPv4 only");
	else if (!drive && g->ci.type && !streq(g->ci.type, "nocloud"))
		diag(p, 0,
		     "citype %s needs a cloud-init drive (ide2: STORAGE:cloudinit): labvirt's "
		     "preparation of an imported disk writes NoCloud only",
		     g->ci.type);
}

static void check_guest(struct parser *p, const struct conf_state *st)
{
	const struct lab_guest *g = st->g;
	int vcpus = g->cores * g->sockets;
	int cores = keylines_find(&st->keys, "cores"),
	    sockets = keylines_find(&st->keys, "sockets");
	if (g->initrd && !g->kernel)
		diag(p, keylines_find(&st->keys, "initrd"), "initrd: given without kernel");
	if (g->cmdline && !g->kernel)
		diag(p, keylines_find(&st->keys, "cmdline"), "cmdline: given without kernel");
	if (vcpus > MAX_VCPUS)
		diag(p, cores > sockets ? cores : sockets,
		     "%d cores x %d sockets is %d vCPUs, more than %d", g->cores, g->sockets, vcpus,
		     MAX_VCPUS);
	check_cloudinit(p, st);
	if (g->graphics && !streq(g->graphics, "none") && g->vga &&
	    (streq(g->vga, "none") || streq(g->vga, "serial0")))
		diag(p, keylines_find(&st->keys, "graphics"),
		     "graphics: '%s' needs a display, but vga is '%s'", g->graphics, g->vga);
}

/* "alpine.conf:3", or "alpine.conf" for a guest named after its file. */
char *guest_where(const struct lab_guest *g, int line)
{
	const char *base = strrchr(g->file, '/');
	base = base ? base + 1 : g->file;
	return line ? xasprintf("%s:%d", base, line) : xstrdup(base);
}

/* False when the guest has no usable name and must be left out. */
static bool check_name(struct parser *p, struct conf_state *st, const char *stem)
{
	struct lab_guest *g = st->g;
	size_t self = (size_t)(g - p->lab->guests);
	if (!st->note->name_line) {
		g->name = xstrdup(stem);
		if (!lab_is_guest_name(stem)) {
			diag(p, 0, "guest name %s (the file name) is not a DNS name " NAME_RULE,
			     Q(stem));
			return false;
		}
	}
	if (!lab_is_guest_name(g->name))
		return false;
	for (size_t i = 0; i < self; i++) {
		if (!streq(p->lab->guests[i].name, g->name))
			continue;
		_cleanup_free_ char *where = guest_where(&p->lab->guests[i], p->notes[i].name_line);
		diag(p, st->note->name_line, "duplicate guest name %s (first in %s)", Q(g->name),
		     where);
		return false;
	}
	return true;
}

/* The file's stem is the vmid when it is all digits, Proxmox style. */
static void guest_vmid(struct parser *p, struct lab_guest *g, const char *stem)
{
	if (!is_all(stem, DIGITS))
		return;
	if (strlen(stem) > 9 || atoi(stem) == 0)
		diag(p, 0, "vmid %s (the file name) is out of range (1..999999999)", Q(stem));
	else
		g->vmid = atoi(stem);
}

static void cloudinit_free(struct lab_cloudinit *ci)
{
	free(ci->user);
	free(ci->password);
	free(ci->sshkeys);
	free(ci->nameserver);
	free(ci->searchdomain);
	free(ci->custom_user);
	free(ci->custom_network);
	free(ci->custom_meta);
	free(ci->custom_vendor);
	free(ci->type);
	for (size_t i = 0; i < ci->n_ipconfig; i++) {
		free(ci->ipconfig[i].ip);
		free(ci->ipconfig[i].gw);
		free(ci->ipconfig[i].ip6);
		free(ci->ipconfig[i].gw6);
	}
}

static void ct_free(struct lab_ct *ct)
{
	if (!ct)
		return;
	free(ct->mount_fs);
	free(ct->cmode);
	free(ct->timezone);
	free(ct->entrypoint);
	free(ct->env);
	free(ct->ostemplate);
	free(ct->template_path);
	free(ct->template_image);
	if (ct->password)
		explicit_bzero(ct->password, strlen(ct->password));
	free(ct->password);
	free(ct->ssh_keys);
	for (size_t i = 0; i < ARRAY_SIZE(ct->devs); i++)
		free(ct->devs[i]);
	free(ct->raw_lxc);
	free(ct);
}

static void devices_free(struct lab_devices *dev)
{
	free(dev->rng_source);
	free(dev->watchdog_model);
	free(dev->watchdog_action);
	free(dev->audio_device);
	free(dev->audio_driver);
	free(dev->ivshmem_name);
	for (size_t i = 0; i < ARRAY_SIZE(dev->serial); i++)
		free(dev->serial[i]);
	for (size_t i = 0; i < ARRAY_SIZE(dev->parallel); i++)
		free(dev->parallel[i]);
	for (size_t i = 0; i < ARRAY_SIZE(dev->usb); i++)
		free(dev->usb[i]);
	for (size_t i = 0; i < ARRAY_SIZE(dev->hostpci); i++)
		free(dev->hostpci[i]);
	for (size_t i = 0; i < ARRAY_SIZE(dev->virtiofs); i++)
		free(dev->virtiofs[i]);
}

void guest_free(struct lab_guest *g)
{
	free(g->name);
	free(g->file);
	free(g->ostype);
	free(g->description);
	free(g->machine);
	free(g->vga);
	free(g->graphics);
	free(g->kernel);
	free(g->initrd);
	free(g->cmdline);
	for (size_t i = 0; i < g->n_boot; i++)
		free(g->boot_order[i]);
	cloudinit_free(&g->ci);
	free(g->viommu);
	free(g->boot_legacy);
	free(g->bootdisk);
	free(g->cpu.model);
	free(g->cpu.flags);
	for (size_t i = 0; i < g->n_numa; i++) {
		free(g->numa_cells[i].cpus);
		free(g->numa_cells[i].hostnodes);
		free(g->numa_cells[i].policy);
	}
	free(g->bios);
	struct lab_state_disk *states[] = {&g->efidisk, &g->tpmstate};
	for (size_t i = 0; i < ARRAY_SIZE(states); i++) {
		free(states[i]->volume);
		free(states[i]->path);
		free(states[i]->version);
	}
	free(g->scsihw);
	free(g->affinity);
	free(g->hugepages);
	free(g->vmgenid);
	char **smbios[] = {&g->smbios.family, &g->smbios.manufacturer, &g->smbios.product,
			   &g->smbios.serial, &g->smbios.sku,          &g->smbios.version};
	for (size_t i = 0; i < ARRAY_SIZE(smbios); i++)
		free(*smbios[i]);
	free(g->keyboard);
	free(g->arch);
	free(g->args);
	free(g->hookscript);
	free(g->spice_streaming);
	free(g->tags);
	free(g->lock);
	devices_free(&g->dev);
	ct_free(g->ct);
	for (size_t i = 0; i < g->n_nets; i++) {
		struct lab_net *n = &g->nets[i];
		free(n->bridge), free(n->trunks), free(n->name);
		free(n->ip), free(n->gw), free(n->ip6), free(n->gw6);
	}
	for (size_t i = 0; i < g->n_disks; i++) {
		struct lab_disk *d = &g->disks[i];
		free(d->storage);
		free(d->volume);
		free(d->path);
		free(d->import_from);
		free(d->image);
		free(d->cache);
		free(d->format);
		free(d->aio);
		free(d->serial);
		free(d->wwn);
		free(d->detect_zeroes);
		free(d->rerror);
		free(d->werror);
		free(d->mp);
		free(d->mountoptions);
	}
}

void lab_guest_free(struct lab_guest *g)
{
	guest_free(g);
}

static struct lab_guest *guest_new(struct parser *p, const char *path, enum lab_kind kind)
{
	struct lab *lab = p->lab;
	lab->guests = xrealloc(lab->guests, (lab->n_guests + 1) * sizeof(*lab->guests));
	p->notes = xrealloc(p->notes, (lab->n_guests + 1) * sizeof(*p->notes));
	p->notes[lab->n_guests] = (struct guest_note){0};
	struct lab_guest *g = &lab->guests[lab->n_guests++];
	*g = (struct lab_guest){.file = xstrdup(path),
				.cores = 1,
				.sockets = 1,
				.memory_mib = 512,
				.tablet = -1,
				.localtime = -1,
				.startup_order = -1,
				.startup_up = -1,
				.startup_down = -1};
	g->kind = kind;
	if (kind == KIND_CT) { /* pve-container's defaults */
		g->ct = xcalloc(1, sizeof(*g->ct));
		*g->ct = (struct lab_ct){.swap_mib = 512, .console = true, .tty = 2};
	}
	return g;
}

void read_guest(struct parser *p, const char *fname)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", p->dir, fname);
	const char *base = strrchr(fname, '/') ? strrchr(fname, '/') + 1 : fname;
	_cleanup_free_ char *stem = xstrndup(base, strlen(base) - strlen(".conf"));
	size_t len = 0;
	if (!is_text(fname, strlen(fname), false)) {
		/* Junk bytes must not reach messages as part of a path. */
		lv_diag_add(p->diags, p->dir, 0, "file name %s is not valid text", Q(fname));
		return;
	}
	p->file = path;
	_cleanup_free_ char *buf = NULL;
	if (p->staged_name && streq(fname, p->staged_name)) {
		p->file = p->staged_where;
		len = strlen(p->staged_text);
		buf = xstrdup(p->staged_text);
	} else {
		buf = read_layout_file(p, &len);
	}
	if (buf) {
		enum lab_kind kind = startswith(fname, "lxc/") ? KIND_CT : KIND_VM;
		struct lab_guest *g = guest_new(p, path, kind);
		struct conf_state st = {
		    .kind = kind, .g = g, .note = &p->notes[p->lab->n_guests - 1]};
		guest_vmid(p, g, stem);
		for_each_line(p, buf, len, conf_line, &st);
		section_end(&st);
		if (kind == KIND_CT) {
			ct_check(p, &st);
		} else {
			legacy_boot(g);
			check_boot(p, &st);
			check_guest(p, &st);
		}
		if (!check_name(p, &st, stem))
			guest_free(&p->lab->guests[--p->lab->n_guests]);
		keylines_free(&st.keys);
	}
	p->file = NULL;
}
