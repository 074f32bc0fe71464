/* layout/disk.c - disk: virtioN, scsiN, sataN, ideN: a guest's disks and CD-ROM drives, their
 * volume forms and properties. */
#include <inttypes.h>
#include <string.h>

#include "layout-private.h"

/* ---- <guest>.conf: disks ---- */

enum disk_form { FORM_BAD, FORM_SIZE, FORM_VOLUME, FORM_PATH, FORM_EMPTY };

/* What a disk line said beyond struct lab_disk, for the checks at its end. */
struct disk_opts {
	enum disk_form form;
	bool clone;      /* clone= given */
	bool import;     /* import-from= given, even if empty */
	bool import_bad; /* given, but could not be resolved (said so already) */
};

/* "32" or "0.5" GiB in MiB, rounded up: 0 done, -1 not a number, -2 too big. */
static int parse_gib(const char *s, uint64_t *ret_mib)
{
	const uint64_t max_gib = 131072, frac_scale = 1000000000000ull;
	uint64_t whole = 0, frac = 0, scale = 1;
	bool more = false;
	const char *c = s;
	if (!is_digit(*c))
		return -1;
	for (; is_digit(*c); c++)
		whole = whole > max_gib ? whole : whole * 10 + (uint64_t)(*c - '0');
	if (*c == '.' && !is_digit(*++c))
		return -1;
	for (; is_digit(*c); c++) {
		if (scale < frac_scale)
			frac = frac * 10 + (uint64_t)(*c - '0'), scale *= 10;
		else
			more = more || *c != '0';
	}
	if (*c)
		return -1;
	uint64_t f = frac * 1024;
	uint64_t mib = whole * 1024 + f / scale + (f % scale || more);
	if (whole > max_gib || mib > max_gib * 1024)
		return -2;
	*ret_mib = mib;
	return 0;
}

static void disk_size(struct parser *p, int line, const char *key, struct lab_disk *d,
		      const char *v)
{
	uint64_t mib = 0;
	int r = parse_gib(v, &mib);
	if (r == -1)
		diag(p, line, "%s: size %s is not a number of GiB (STORAGE:SIZE makes a new disk)",
		     key, Q(v));
	else if (r == -2)
		diag(p, line, "%s: size %s is out of range (1 MiB..131072 GiB)", key, Q(v));
	d->allocate = r == 0;
	d->size = mib * 1024 * 1024;
}

static bool volume_parts_ok(const char *vol)
{
	_cleanup_free_ char *copy = xstrdup(vol);
	char *save = NULL;
	size_t n = 0;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save), n++)
		if (streq(c, ".") || streq(c, ".."))
			return false;
	return !strstr(vol, "//") && vol[0] != '/' && vol[strlen(vol) - 1] != '/' && n > 0;
}

/* STORAGE:VOLUME: an existing volume of a dir storage. */
static void disk_existing(struct parser *p, int line, const char *key, struct lab_disk *d,
			  const struct lab_storage *s, const char *vol)
{
	d->volume = xstrdup(vol);
	const char *slash = strchr(vol, '/');
	const char *sub = startswith(vol, "iso/")      ? "template/iso"
			  : startswith(vol, "import/") ? "import"
						       : NULL;
	if (!volume_parts_ok(vol))
		diag(p, line, "%s: volume %s has an empty, '.' or '..' component", key, Q(vol));
	else if (!sub || strchr(slash + 1, '/'))
		diag(p, line, "%s: volume %s is not iso/FILE or import/FILE", key, Q(vol));
	else if (s && s->type != STORAGE_DIR)
		diag(p, line, "%s: volume %s needs a dir storage; %s is lvmthin", key, Q(vol),
		     Q(s->id));
	else if (s && s->path)
		d->path = xasprintf("%s/%s/%s", s->path, sub, slash + 1);
}

static enum disk_form disk_volume(struct parser *p, int line, const char *key, struct lab_disk *d,
				  const char *v)
{
	const char *colon = strchr(v, ':');
	if (streq(v, "none")) {
		d->empty = true;
		return FORM_EMPTY;
	}
	if (v[0] == '/') {
		d->path = xstrdup(v);
		return FORM_PATH;
	}
	if (!colon || colon == v) {
		diag(p, line,
		     "%s: %s is not STORAGE:SIZE, STORAGE:VOLUME, an absolute path or none", key,
		     Q(v));
		return FORM_BAD;
	}
	d->storage = xstrndup(v, (size_t)(colon - v));
	const struct lab_storage *s = lab_find_storage(p->lab, d->storage);
	if (!s && p->have_cfg)
		diag(p, line, "%s: storage %s is not defined in lab.cfg", key, Q(d->storage));
	if (strchr(colon + 1, '/')) {
		disk_existing(p, line, key, d, s, colon + 1);
		return FORM_VOLUME;
	}
	disk_size(p, line, key, d, colon + 1);
	return FORM_SIZE;
}

/* size= as Proxmox writes it: a number and K, M, G or T. */
static bool is_proxmox_size(const char *s)
{
	size_t n = strlen(s);
	_cleanup_free_ char *num = xstrndup(s, n ? n - 1 : 0);
	char *dot = strchr(num, '.');
	if (dot)
		*dot = '\0';
	return n > 1 && strchr("KMGT", s[n - 1]) && is_all(num, DIGITS) &&
	       (!dot || is_all(dot + 1, DIGITS));
}

typedef void disk_prop_fn(struct parser *p, int line, const char *label, struct lab_disk *d,
			  const char *v, struct disk_opts *o);

static void disk_media(struct parser *p, int line, const char *label, struct lab_disk *d,
		       const char *v, struct disk_opts *o)
{
	static const char *const names[] = {"disk", "cdrom"};
	int i = PICK(p, line, label, v, names);
	(void)o;
	if (i >= 0)
		d->media = (enum lab_media)i;
}

/* import-from=STORAGE:import/FILE: an existing file of a dir storage. */
static void import_volume(struct parser *p, int line, struct lab_disk *d, const char *v)
{
	const char *colon = strchr(v, ':');
	_cleanup_free_ char *sid = xstrndup(v, (size_t)(colon - v));
	const struct lab_storage *s = lab_find_storage(p->lab, sid);
	const char *vol = colon + 1;
	if (!startswith(vol, "import/") || !is_file_name(vol + strlen("import/")))
		diag(p, line, "import-from: volume %s is not STORAGE:import/FILE", Q(v));
	else if (!s && p->have_cfg)
		diag(p, line, "import-from: storage %s is not defined in lab.cfg", Q(sid));
	else if (s && s->type != STORAGE_DIR)
		diag(p, line, "import-from: storage %s is not a dir storage", Q(sid));
	else if (s && s->path)
		d->import_from = xasprintf("%s/%s", s->path, vol);
}

/* import-from= names a catalogue image, a storage volume or a path. */
static void disk_import(struct parser *p, int line, const char *label, struct lab_disk *d,
			const char *v, struct disk_opts *o)
{
	const struct lab_image *im = lab_find_image(p->lab, v);
	const char *colon = strchr(v, ':');
	o->import = true;
	if (!*v) {
		diag(p, line, "%s: missing value", label);
	} else if (im) {
		d->image = xstrdup(im->name);
		d->import_from = im->path ? xstrdup(im->path) : NULL;
		o->import_bad = !im->path;
	} else if (v[0] != '/' && colon && !memchr(v, '/', (size_t)(colon - v))) {
		import_volume(p, line, d, v);
		o->import_bad = !d->import_from;
	} else {
		d->import_from = lab_relative(p, v);
	}
}

static void disk_clone(struct parser *p, int line, const char *label, struct lab_disk *d,
		       const char *v, struct disk_opts *o)
{
	static const char *const names[] = {"linked", "full"};
	int i = PICK(p, line, label, v, names);
	d->full_clone = i == 1;
	o->clone = true;
}

static void disk_cache(struct parser *p, int line, const char *label, struct lab_disk *d,
		       const char *v, struct disk_opts *o)
{
	static const char *const names[] = {"none", "writethrough", "writeback", "directsync",
					    "unsafe"};
	(void)o;
	if (PICK(p, line, label, v, names) >= 0)
		d->cache = xstrdup(v);
}

static void disk_discard(struct parser *p, int line, const char *label, struct lab_disk *d,
			 const char *v, struct disk_opts *o)
{
	static const char *const names[] = {"on", "ignore"};
	(void)o;
	d->discard = PICK(p, line, label, v, names) == 0;
}

static void disk_ro(struct parser *p, int line, const char *label, struct lab_disk *d,
		    const char *v, struct disk_opts *o)
{
	(void)o;
	parse01(p, line, label, v, &d->readonly);
}

/* size= as Proxmox writes it for existing volumes: informational. */
static void disk_size_note(struct parser *p, int line, const char *label, struct lab_disk *d,
			   const char *v, struct disk_opts *o)
{
	(void)d, (void)o;
	if (!is_proxmox_size(v))
		diag(p, line, "%s %s is not a size with a unit (e.g. 32G)", label, Q(v));
}

/* format= is informational: labvirt knows the format of what it makes. */
static void disk_format(struct parser *p, int line, const char *label, struct lab_disk *d,
			const char *v, struct disk_opts *o)
{
	static const char *const names[] = {"qcow2", "raw"};
	(void)d, (void)o;
	PICK(p, line, label, v, names);
}

static const struct {
	const char *name;
	disk_prop_fn *set;
} DISK_PROPS[] = {
    {"media", disk_media},    {"import-from", disk_import}, {"clone", disk_clone},
    {"cache", disk_cache},    {"discard", disk_discard},    {"ro", disk_ro},
    {"size", disk_size_note}, {"format", disk_format},
};

static void disk_property(struct parser *p, int line, const char *key, struct lab_disk *d,
			  const struct prop *it, struct disk_opts *o)
{
	char label[64];
	snprintf(label, sizeof(label), "%s: %s", key, it->k);
	for (size_t i = 0; i < ARRAY_SIZE(DISK_PROPS); i++)
		if (streq(DISK_PROPS[i].name, it->k)) {
			DISK_PROPS[i].set(p, line, label, d, it->v, o);
			return;
		}
	unsupported(p, line, key, it->k);
}

/* What needs the whole disk line. */
static void disk_check(struct parser *p, int line, const char *key, const struct lab_disk *d,
		       const struct disk_opts *o)
{
	bool cdrom = d->media == MEDIA_CDROM;
	if (cdrom && d->bus == BUS_VIRTIO)
		diag(p, line, "%s: a cdrom cannot be on virtio (use ide, sata or scsi)", key);
	if (cdrom && o->form == FORM_SIZE)
		diag(p, line,
		     "%s: a cdrom cannot be a new STORAGE:SIZE disk (use STORAGE:iso/FILE "
		     "or none)",
		     key);
	if (!cdrom && o->form == FORM_EMPTY)
		diag(p, line, "%s: 'none' is an empty cdrom drive and needs media=cdrom", key);
	if (d->import_from && cdrom)
		diag(p, line, "%s: import-from= is not possible with media=cdrom", key);
	else if (d->import_from && o->form != FORM_SIZE && o->form != FORM_BAD)
		diag(p, line, "%s: import-from= needs the STORAGE:SIZE form", key);
	if (o->clone && !d->import_from && !o->import_bad)
		diag(p, line, "%s: clone= needs import-from=", key);
	if (d->allocate && d->size == 0 && !o->import)
		diag(p, line, "%s: size 0 needs import-from= (it means the image's size)", key);
}

void conf_disk(struct parser *p, struct conf_state *st, const char *key, int line, const char *v)
{
	struct lab_guest *g = st->g;
	struct lab_disk *d = &g->disks[g->n_disks++];
	*d = (struct lab_disk){.line = line};
	snprintf(d->key, sizeof(d->key), "%s", key);
	disk_key(key, &d->bus, &d->index);
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	if (pr.items[0].k) {
		diag(p, line,
		     "%s: missing volume first (STORAGE:SIZE, STORAGE:VOLUME, a path or none)",
		     key);
		return;
	}
	struct disk_opts o = {.form = disk_volume(p, line, key, d, pr.items[0].v)};
	for (size_t i = 1; i < pr.n; i++)
		disk_property(p, line, key, d, &pr.items[i], &o);
	disk_check(p, line, key, d, &o);
}
