/* layout/load.c - load: the lab folder: its files in order, what derives from names (MACs,
 * UUIDs), lab-wide uniqueness, lab_load() and lab_free(). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "layout-private.h"

/* ---- the folder ---- */

struct names {
	char **v;
	size_t n;
};

static void names_free(struct names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_conf_file(struct parser *p, const char *name)
{
	size_t n = strlen(name);
	struct stat sb;
	if (n < strlen(".conf") || !streq(name + n - strlen(".conf"), ".conf"))
		return false;
	_cleanup_free_ char *path = xasprintf("%s/%s", p->dir, name);
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The *.conf files of folder sub ("" or "qemu-server/") of the lab, added to ret. */
static int add_conf_files(struct parser *p, const char *sub, struct names *ret)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", p->dir, sub);
	DIR *dir = opendir(path);
	if (!dir) {
		lv_diag_add(p->diags, p->dir, 0, "cannot read%s%s: %s", *sub ? " " : "", sub,
			    strerror(errno));
		return -1;
	}
	for (struct dirent *e; (e = readdir(dir));) {
		_cleanup_free_ char *name = xasprintf("%s%s", sub, e->d_name);
		if (!is_conf_file(p, name))
			continue;
		ret->v = xrealloc(ret->v, (ret->n + 1) * sizeof(*ret->v));
		ret->v[ret->n++] = steal_pointer(&name);
	}
	closedir(dir);
	return 0;
}

/* The guest files, sorted: *.conf of the folder and of its qemu-server/ (VMs),
 * and of its lxc/ (containers), as in /etc/pve; -1 (reported) when the folder
 * cannot be read. */
static int list_conf_files(struct parser *p, struct names *ret)
{
	static const char *const subs[] = {"qemu-server/", "lxc/"};
	struct stat sb;
	if (add_conf_files(p, "", ret) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		_cleanup_free_ char *sub = xasprintf("%s/%s", p->dir, subs[i]);
		if (stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode) &&
		    add_conf_files(p, subs[i], ret) < 0)
			return -1;
	}
	qsort(ret->v, ret->n, sizeof(*ret->v), cmp_str);
	return 0;
}

/* ---- after all files: what derives from names, and lab-wide uniqueness ---- */

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static uint64_t name_hash(const struct lab *lab, const struct lab_guest *g, const char *what)
{
	_cleanup_free_ char *key = xasprintf("%s/%s/%s", lab->name ? lab->name : "", g->name, what);
	return fnv1a(key);
}

static void derive_mac(const struct lab *lab, const struct lab_guest *g, struct lab_net *n)
{
	char what[16];
	snprintf(what, sizeof(what), "net%d", n->index);
	uint64_t h = name_hash(lab, g, what);
	snprintf(n->mac, sizeof(n->mac), "52:54:00:%02x:%02x:%02x", (unsigned)(h >> 16) & 0xff,
		 (unsigned)(h >> 8) & 0xff, (unsigned)h & 0xff);
}

/* RFC 9562 version 8 (custom): 16 bytes from two hashes of the names. */
static void derive_uuid(const struct lab *lab, struct lab_guest *g)
{
	uint64_t h[2] = {name_hash(lab, g, "uuid"), name_hash(lab, g, "uuid2")};
	unsigned char b[16];
	for (int i = 0; i < 16; i++)
		b[i] = (unsigned char)(h[i / 8] >> (56 - 8 * (i % 8)));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x80);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	char *o = g->uuid;
	for (int i = 0; i < 16; i++)
		o += sprintf(o, "%s%02x", i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "", b[i]);
}

/* The first net before guest gi's net ni with the same MAC, or NULL. */
static const struct lab_net *earlier_mac(const struct lab *lab, size_t gi, size_t ni,
					 size_t *ret_gj)
{
	const char *mac = lab->guests[gi].nets[ni].mac;
	for (size_t j = 0; j <= gi; j++) {
		const struct lab_guest *g = &lab->guests[j];
		for (size_t k = 0; k < (j == gi ? ni : g->n_nets); k++)
			if (streq(g->nets[k].mac, mac)) {
				*ret_gj = j;
				return &g->nets[k];
			}
	}
	return NULL;
}

static void check_macs(struct parser *p, size_t gi)
{
	const struct lab_guest *g = &p->lab->guests[gi];
	size_t gj = 0;
	for (size_t k = 0; k < g->n_nets; k++) {
		const struct lab_net *old = earlier_mac(p->lab, gi, k, &gj);
		if (!old || !g->nets[k].mac[0])
			continue;
		_cleanup_free_ char *where = guest_where(&p->lab->guests[gj], old->line);
		diag(p, g->nets[k].line, "net%d: duplicate MAC address %s (first in %s)",
		     g->nets[k].index, Q(g->nets[k].mac), where);
	}
}

static void check_uuid(struct parser *p, size_t gi)
{
	const struct lab_guest *g = &p->lab->guests[gi];
	for (size_t j = 0; j < gi; j++) {
		if (!streq(p->lab->guests[j].uuid, g->uuid))
			continue;
		_cleanup_free_ char *where = guest_where(&p->lab->guests[j], p->notes[j].uuid_line);
		diag(p, p->notes[gi].uuid_line, "%sduplicate uuid %s (first in %s)",
		     p->notes[gi].uuid_line ? "smbios1: " : "", Q(g->uuid), where);
		return;
	}
}

/* One vmid is one guest, a VM's or a container's (qemu-server/100.conf and
 * lxc/100.conf cannot both be). */
static void check_vmid(struct parser *p, size_t gi)
{
	const struct lab_guest *g = &p->lab->guests[gi];
	for (size_t j = 0; g->vmid && j < gi; j++)
		if (p->lab->guests[j].vmid == g->vmid) {
			const char *other = p->lab->guests[j].file;
			size_t n = strlen(p->dir);
			if (strncmp(other, p->dir, n) == 0 && other[n] == '/')
				other += n + 1;
			diag(p, 0, "vmid %d is also %s's", g->vmid, other);
			return;
		}
}

/* STORAGE:cloudinit: Proxmox's name for the drive (vm-VMID-cloudinit), or the
 * lab's (LAB-GUEST-cloudinit) for a guest without a vmid; raw on a dir storage. */
static void name_cloudinit_drive(const struct lab *lab, const struct lab_guest *g,
				 struct lab_disk *d)
{
	const struct lab_storage *s = lab_find_storage(lab, d->storage);
	if (!d->cloudinit || d->path || !s || !lab->name)
		return;
	_cleanup_free_ char *name = g->vmid ? xasprintf("vm-%d-cloudinit", g->vmid)
					    : xasprintf("%s-%s-cloudinit", lab->name, g->name);
	/* btrfs keeps a raw volume as disk.raw in a subvolume of the volume's name */
	const char *raw = s->type == STORAGE_BTRFS ? "/disk.raw" : ".raw";
	if (lab_storage_files(s) && s->path && g->vmid)
		d->path = xasprintf("%s/images/%d/%s%s", s->path, g->vmid, name, raw);
	else if (lab_storage_files(s) && s->path)
		d->path = xasprintf("%s/%s%s", s->path, name, raw);
	else if (s->type == STORAGE_ZFSPOOL && s->pool)
		d->path = lab_zfs_path(s, name, false);
	else if (lab_storage_is_lvm(s) && s->vgname)
		d->path = xasprintf("/dev/%s/%s", s->vgname, name);
}

static void finish_lab(struct parser *p)
{
	struct lab *lab = p->lab;
	for (size_t i = 0; i < lab->n_guests; i++) {
		struct lab_guest *g = &lab->guests[i];
		for (size_t k = 0; k < g->n_disks; k++)
			name_cloudinit_drive(lab, g, &g->disks[k]);
		for (size_t k = 0; k < g->n_nets; k++)
			if (!g->nets[k].mac_given)
				derive_mac(lab, g, &g->nets[k]);
		if (!g->uuid_given)
			derive_uuid(lab, g);
	}
	for (size_t i = 0; i < lab->n_guests; i++) {
		p->file = lab->guests[i].file;
		check_macs(p, i);
		check_uuid(p, i);
		check_vmid(p, i);
	}
	p->file = NULL;
}

static int cmp_guest(const void *a, const void *b)
{
	return strcmp(((const struct lab_guest *)a)->name, ((const struct lab_guest *)b)->name);
}

static int cmp_net(const void *a, const void *b)
{
	return ((const struct lab_net *)a)->index - ((const struct lab_net *)b)->index;
}

static int cmp_ipconfig(const void *a, const void *b)
{
	return ((const struct lab_ipconfig *)a)->index - ((const struct lab_ipconfig *)b)->index;
}

static int cmp_disk(const void *a, const void *b)
{
	const struct lab_disk *x = a, *y = b;
	return x->bus != y->bus ? (int)x->bus - (int)y->bus : x->index - y->index;
}

/* The order of the lines in a file does not matter: guests by name, their nets
 * by index, their disks by bus (virtio, scsi, sata, ide) and index. */
static void sort_lab(struct lab *lab)
{
	qsort(lab->guests, lab->n_guests, sizeof(*lab->guests), cmp_guest);
	for (size_t i = 0; i < lab->n_guests; i++) {
		struct lab_guest *g = &lab->guests[i];
		qsort(g->nets, g->n_nets, sizeof(*g->nets), cmp_net);
		qsort(g->disks, g->n_disks, sizeof(*g->disks), cmp_disk);
		qsort(g->ci.ipconfig, g->ci.n_ipconfig, sizeof(*g->ci.ipconfig), cmp_ipconfig);
	}
}

/* dir joined to the working directory when relative (not resolved further:
 * the path stays the one the user wrote). */
static char *absolute(const char *dir)
{
	_cleanup_free_ char *cwd = dir[0] == '/' ? NULL : getcwd(NULL, 0);
	if (!cwd)
		return xstrdup(dir);
	return streq(dir, ".") ? steal_pointer(&cwd) : xasprintf("%s/%s", cwd, dir);
}

static int load(const char *dir, const char *staged_name, const char *staged_text,
		const char *staged_where, struct lab **ret_lab, struct lv_diag *diags)
{
	size_t start = diags->n;
	_cleanup_lab_ struct lab *lab = xcalloc(1, sizeof(*lab));
	_cleanup_(names_free) struct names files = {0};
	_cleanup_free_ char *abs_dir = absolute(dir);
	struct parser p = {.dir = dir,
			   .abs_dir = abs_dir,
			   .lab = lab,
			   .diags = diags,
			   .staged_name = staged_name,
			   .staged_text = staged_text,
			   .staged_where = staged_where};
	lab->dir = xstrdup(dir);
	if (list_conf_files(&p, &files) == 0) {
		if (staged_name) {
			files.v = xrealloc(files.v, (files.n + 1) * sizeof(*files.v));
			files.v[files.n++] = xstrdup(staged_name);
		}
		read_cfg(&p);
		for (size_t i = 0; i < files.n; i++)
			read_guest(&p, files.v[i]);
		finish_lab(&p);
	}
	free(p.notes);
	if (diags->n > start)
		return -1;
	sort_lab(lab);
	*ret_lab = steal_pointer(&lab);
	return 0;
}

int lab_load(const char *dir, struct lab **ret_lab, struct lv_diag *diags)
{
	return load(dir, NULL, NULL, NULL, ret_lab, diags);
}

int lab_load_with(const char *dir, const char *fname, const char *text, const char *where,
		  struct lab **ret_lab, struct lv_diag *diags)
{
	return load(dir, fname, text, where, ret_lab, diags);
}

void lab_free(struct lab *lab)
{
	if (!lab)
		return;
	for (size_t i = 0; i < lab->n_storages; i++)
		storage_drop(&lab->storages[i]);
	for (size_t i = 0; i < lab->n_bridges; i++)
		bridge_drop(&lab->bridges[i]);
	for (size_t i = 0; i < lab->n_images; i++)
		image_drop(&lab->images[i]);
	free(lab->images);
	for (size_t i = 0; i < lab->n_guests; i++)
		guest_free(&lab->guests[i]);
	free(lab->storages);
	free(lab->bridges);
	free(lab->guests);
	free(lab->dir);
	free(lab->name);
	free(lab->uri);
	free(lab);
}
