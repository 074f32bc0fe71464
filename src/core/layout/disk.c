/* layout/disk.c - disk: virtioN, scsiN, sataN, ideN: a guest's disks and CD-ROM drives, their
 * volume forms and properties. */
#include <inttypes.h>
#include <string.h>

#include "layout-private.h"

/* ---- <guest>.conf: disks ---- */

enum disk_form {
	FORM_BAD,
	FORM_SIZE,
	FORM_VOLUME,
	FORM_PATH,
	FORM_EMPTY,
	FORM_NAMED,
	FORM_CLOUDINIT
};

/* What a disk line said beyond struct lab_disk, for the checks at its end. */
struct disk_opts {
	enum disk_form form;
	bool clone;      /* clone= given */
	bool import;     /* import-from= given, even if empty */
	bool import_bad; /* given, but could not be resolved (said so already) */
};

/* "32" or "0.5" GiB in MiB, rounded up: 0 done, -1 not a number, -2 too big. */
int parse_gib(const char *s, uint64_t *ret_mib)
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
	else if (s && !lab_storage_files(s))
		diag(p, line, "%s: volume %s needs a dir or btrfs storage; %s is %s", key, Q(vol),
		     Q(s->id), lab_storage_type_name(s));
	else if (s && s->path)
		d->path = xasprintf("%s/%s/%s", s->path, sub, slash + 1);
}

/* Proxmox's volume names: vm-ID-disk-N, base-ID-disk-N, vm-ID-cloudinit, with
 * a format suffix on file storages; a container's folder volumes subvol-ID-disk-N
 * (and basevol- of a template). */
static bool is_volume_name(const char *s)
{
	return strlen(s) <= 128 &&
	       (startswith(s, "vm-") || startswith(s, "base-") || startswith(s, "subvol-") ||
		startswith(s, "basevol-")) &&
	       is_all(s, LOWER UPPER DIGITS "_.-");
}

/* A btrfs storage keeps a raw volume NAME.raw as images/VMID/NAME/disk.raw, NAME a
 * subvolume (BTRFSPlugin's filesystem_path); anything else as a dir storage does. */
static char *files_path(const struct lab_storage *s, const char *vmid, const char *name)
{
	if (s->type == STORAGE_BTRFS && endswith(name, ".raw"))
		return xasprintf("%s/images/%s/%.*s/disk.raw", s->path, vmid,
				 (int)(strlen(name) - 4), name);
	return xasprintf("%s/images/%s/%s", s->path, vmid, name);
}

/* Where STORAGE:VOLUME lives: a dir storage keeps images/VMID/NAME (VOLUME is
 * VMID/NAME), btrfs the same but NAME.raw in a subvolume; LVM keeps /dev/VG/NAME
 * (VOLUME is NAME, or BASE/NAME for a linked clone). NULL (reported) when VOLUME is not
 * a disk image's name. */
char *storage_volume_path(struct parser *p, int line, const char *key, const struct lab_storage *s,
			  const char *vol)
{
	const char *slash = strchr(vol, '/');
	const char *name = slash ? slash + 1 : vol;
	_cleanup_free_ char *vmid = slash ? xstrndup(vol, (size_t)(slash - vol)) : NULL;
	if (lab_storage_files(s) && !vmid && is_volume_name(name) && !strchr(name, '.')) {
		/* a zvol's or an LV's name, its storage now a folder: a raw file there (a
		 * ZFS subvolume's: a folder) */
		const char *id = name + strcspn(name, "-") + 1;
		_cleanup_free_ char *num = xstrndup(id, strspn(id, DIGITS));
		bool folder = startswith(name, "subvol-") || startswith(name, "basevol-");
		_cleanup_free_ char *file = xasprintf("%s%s", name, folder ? "" : ".raw");
		if (*num && s->path)
			return files_path(s, num, file);
	}
	if (lab_storage_files(s) && vmid && strchr(name, '/')) {
		/* a linked clone as Proxmox names it: BASEID/base-BASEID-disk-N.qcow2/VMID/NAME,
		 * kept as images/VMID/NAME (its backing file is the base) */
		char base[129], id[16], file[129];
		int end = 0;
		if (sscanf(name, "%128[^/]/%15[0-9]/%128[^/]%n", base, id, file, &end) == 3 &&
		    !name[end] && startswith(base, "base-") && is_volume_name(base) &&
		    is_all(vmid, DIGITS) && is_volume_name(file))
			return s->path ? files_path(s, id, file) : NULL;
	}
	if (lab_storage_files(s)) {
		if (!vmid || !is_all(vmid, DIGITS) || strchr(name, '/') || !is_volume_name(name)) {
			diag(p, line,
			     "%s: %s is not a size in GiB, iso/FILE, import/FILE or a volume "
			     "VMID/NAME (e.g. 100/vm-100-disk-0.qcow2)",
			     key, Q(vol));
			return NULL;
		}
		return s->path ? files_path(s, vmid, name) : NULL;
	}
	if ((vmid && !is_volume_name(vmid)) || strchr(name, '/') || !is_volume_name(name)) {
		diag(p, line, "%s: %s is not a size in GiB or a volume name (e.g. vm-100-disk-0)",
		     key, Q(vol));
		return NULL;
	}
	/* Proxmox's lvm with snapshot-as-volume-chain 1 keeps qcow2 inside an LV
	 * (vm-100-disk-0.qcow2); labvirt's LVs are raw, and would hand it to the
	 * guest as such */
	if (s->type == STORAGE_LVM && endswith(name, ".qcow2")) {
		diag(p, line,
		     "%s: %s is a qcow2 volume on an LV (snapshot-as-volume-chain), which labvirt "
		     "does not run: its lvm volumes are raw",
		     key, Q(vol));
		return NULL;
	}
	if (s->type == STORAGE_ZFSPOOL) /* a zvol, or a dataset (a container's subvol-) */
		return s->pool ? lab_zfs_path(s, name,
					      startswith(name, "subvol-") ||
						  startswith(name, "basevol-"))
			       : NULL;
	return s->vgname ? xasprintf("/dev/%s/%s", s->vgname, name) : NULL;
}

/* A storage a guest can use: one of a type labvirt runs, and not disabled. */
bool storage_usable(struct parser *p, int line, const char *key, const struct lab_storage *s)
{
	if (s->type == STORAGE_OTHER)
		diag(p, line,
		     "%s: storage %s is %s, which labvirt does not run; a 'dir: %s' stanza with "
		     "a path in lab.cfg keeps its volumes in a folder instead",
		     key, Q(s->id), s->other_type, s->id);
	else if (s->disabled)
		diag(p, line, "%s: storage %s is disabled (disable 1)", key, Q(s->id));
	return s->type != STORAGE_OTHER && !s->disabled;
}

/* STORAGE:cloudinit (made at creation) or Proxmox's name for that drive. */
static bool is_cloudinit_volume(const char *vol)
{
	const char *name = strrchr(vol, '/') ? strrchr(vol, '/') + 1 : vol;
	return streq(vol, "cloudinit") ||
	       (startswith(name, "vm-") && strstr(name, "-cloudinit") &&
		(endswith(name, "-cloudinit") || strstr(name, "-cloudinit.")));
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
	if (s && !storage_usable(p, line, key, s))
		return FORM_BAD;
	const char *vol = colon + 1;
	if (is_cloudinit_volume(vol)) { /* a small volume labvirt writes the drive into */
		d->cloudinit = d->named = d->allocate = true;
		d->media = MEDIA_CDROM;
		d->size = 4 * 1024 * 1024;
		d->volume = xstrdup(vol);
		if (s && !streq(vol, "cloudinit"))
			d->path = storage_volume_path(p, line, key, s, vol);
		return FORM_CLOUDINIT; /* STORAGE:cloudinit: named once the guest is (load.c) */
	}
	if (startswith(vol, "iso/") || startswith(vol, "import/") ||
	    (strchr(vol, '/') && !is_digit(vol[0]) && !startswith(vol, "base-"))) {
		disk_existing(p, line, key, d, s, vol);
		return FORM_VOLUME;
	}
	if (is_digit(vol[0]) && !strchr(vol, '/')) {
		disk_size(p, line, key, d, vol);
		return FORM_SIZE;
	}
	d->volume = xstrdup(vol);
	d->named = d->allocate = true;
	if (strstr(vol, "subvol-") || strstr(vol, "basevol-")) {
		diag(p, line, "%s: %s is a container's folder volume, not a disk", key, Q(vol));
		return FORM_BAD;
	}
	d->path = s ? storage_volume_path(p, line, key, s, vol) : NULL;
	return FORM_NAMED;
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
	else if (s && !lab_storage_files(s))
		diag(p, line, "import-from: storage %s is not a dir or btrfs storage", Q(sid));
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

/* "32G" in bytes (K, M, G, T; no unit: bytes), 0 when not a size. */
uint64_t size_bytes(const char *v)
{
	size_t n = strlen(v);
	const char *units = "KMGT";
	const char *u = n ? strchr(units, v[n - 1]) : NULL;
	double x = strtod(v, NULL);
	for (int i = 0; u && i <= u - units; i++)
		x *= 1024;
	return x > 0 && x < 1e18 ? (uint64_t)x : 0;
}

/* size= as Proxmox writes it: the size a named volume is made at when it is
 * missing; informational for the other forms. */
static void disk_size_note(struct parser *p, int line, const char *label, struct lab_disk *d,
			   const char *v, struct disk_opts *o)
{
	(void)o;
	if (!is_proxmox_size(v))
		diag(p, line, "%s %s is not a size with a unit (e.g. 32G)", label, Q(v));
	else if (d->named)
		d->size = size_bytes(v);
}

/* format= is informational: labvirt knows the format of what it makes. */
static void disk_format(struct parser *p, int line, const char *label, struct lab_disk *d,
			const char *v, struct disk_opts *o)
{
	static const char *const names[] = {"qcow2", "raw", "vmdk", "qed", "qcow", "cow", "cloop"};
	(void)o;
	if (PICK(p, line, label, v, names) >= 0)
		set_str(&d->format, v);
}

/* The boolean properties: iothread, ssd, backup, replicate, shared, snapshot, ... */
static void disk_flag(struct parser *p, int line, const char *label, struct lab_disk *d,
		      const char *v, struct disk_opts *o)
{
	bool b;
	const char *name = strrchr(label, ' ') + 1;
	(void)o;
	if (parse01(p, line, label, v, &b) < 0)
		return;
	if (streq(name, "iothread"))
		d->iothread = b;
	else if (streq(name, "ssd"))
		d->ssd = b;
	else if (streq(name, "backup"))
		d->no_backup = !b;
	else if (streq(name, "replicate"))
		d->no_replicate = !b;
	else if (streq(name, "shared"))
		d->shared = b;
	else if (streq(name, "snapshot"))
		d->snapshot = b;
	/* scsiblock: a host SCSI device passed through (host-bound, see the README) */
}

static void disk_choice(struct parser *p, int line, const char *label, struct lab_disk *d,
			const char *v, struct disk_opts *o)
{
	static const char *const aio[] = {"native", "threads", "io_uring"};
	static const char *const errors[] = {"ignore", "report", "stop", "enospc"};
	static const char *const trans[] = {"none", "lba", "auto"};
	const char *name = strrchr(label, ' ') + 1;
	(void)o;
	if (streq(name, "aio")) {
		if (PICK(p, line, label, v, aio) >= 0)
			set_str(&d->aio, v);
	} else if (streq(name, "trans")) {
		PICK(p, line, label, v, trans);
	} else if (PICK(p, line, label, v, errors) >= 0) { /* rerror, werror */
		set_str(streq(name, "rerror") ? &d->rerror : &d->werror, v);
	}
}

/* iops, iops_rd, iops_wr and their _max; mbps* (MB/s, fractions allowed) and
 * Proxmox's older bps* (bytes/s); *_max_length, a burst's seconds, is checked. */
static void disk_limit(struct parser *p, int line, const char *label, struct lab_disk *d,
		       const char *v, struct disk_opts *o)
{
	static const char *const iops[] = {"iops",     "iops_rd",     "iops_wr",
					   "iops_max", "iops_rd_max", "iops_wr_max"};
	static const char *const mbps[] = {"mbps",     "mbps_rd",     "mbps_wr",
					   "mbps_max", "mbps_rd_max", "mbps_wr_max"};
	static const char *const bps[] = {"bps", "bps_rd", "bps_wr"};
	const char *name = strrchr(label, ' ') + 1;
	(void)o;
	if (!is_number(v)) {
		diag(p, line, "%s %s is not a number", label, Q(v));
		return;
	}
	int i = find_name(iops, ARRAY_SIZE(iops), name);
	if (i >= 0)
		d->iops[i] = strtoull(v, NULL, 10);
	i = find_name(mbps, ARRAY_SIZE(mbps), name);
	if (i >= 0)
		d->mbps[i] = (uint64_t)(strtod(v, NULL) * 1024 * 1024);
	i = find_name(bps, ARRAY_SIZE(bps), name);
	if (i >= 0)
		d->mbps[i] = strtoull(v, NULL, 10);
}

static void disk_text(struct parser *p, int line, const char *label, struct lab_disk *d,
		      const char *v, struct disk_opts *o)
{
	const char *name = strrchr(label, ' ') + 1;
	(void)o;
	if (streq(name, "serial")) {
		if (strlen(v) > 20 || !is_all(v, LOWER UPPER DIGITS "_.-"))
			diag(p, line, "%s %s is not 1..20 of A-Z, a-z, 0-9, '_', '.', '-'", label,
			     Q(v));
		else
			set_str(&d->serial, v);
	} else if (streq(name, "wwn")) {
		if (strlen(v) != 18 || !startswith(v, "0x") || !is_all(v + 2, HEX))
			diag(p, line, "%s %s is not 0x and 16 hex digits", label, Q(v));
		else
			set_str(&d->wwn, v + 2);
	} else if (streq(name, "detect_zeroes")) {
		bool b;
		if (parse01(p, line, label, v, &b) == 0)
			set_str(&d->detect_zeroes, b ? "on" : "off");
	} else if (!*v || strlen(v) > 40 ||
		   !is_text(v, strlen(v), false)) { /* model, vendor, product */
		diag(p, line, "%s %s is not a short text", label, Q(v));
	}
}

static void disk_count(struct parser *p, int line, const char *label, struct lab_disk *d,
		       const char *v, struct disk_opts *o)
{
	uint64_t n;
	const char *name = strrchr(label, ' ') + 1;
	(void)o;
	if (parse_uint(p, line, label, v, streq(name, "queues") ? 2 : 1,
		       streq(name, "queues") ? 16 : 65535, "", &n) == 0 &&
	    streq(name, "queues"))
		d->queues = (int)n;
}

static const struct {
	const char *name;
	disk_prop_fn *set;
} DISK_PROPS[] = {
    {"iothread", disk_flag},
    {"ssd", disk_flag},
    {"backup", disk_flag},
    {"replicate", disk_flag},
    {"shared", disk_flag},
    {"snapshot", disk_flag},
    {"scsiblock", disk_flag},
    {"aio", disk_choice},
    {"rerror", disk_choice},
    {"werror", disk_choice},
    {"trans", disk_choice},
    {"iops", disk_limit},
    {"iops_rd", disk_limit},
    {"iops_wr", disk_limit},
    {"iops_max", disk_limit},
    {"iops_rd_max", disk_limit},
    {"iops_wr_max", disk_limit},
    {"iops_max_length", disk_limit},
    {"iops_rd_max_length", disk_limit},
    {"iops_wr_max_length", disk_limit},
    {"mbps", disk_limit},
    {"mbps_rd", disk_limit},
    {"mbps_wr", disk_limit},
    {"mbps_max", disk_limit},
    {"mbps_rd_max", disk_limit},
    {"mbps_wr_max", disk_limit},
    {"bps", disk_limit},
    {"bps_rd", disk_limit},
    {"bps_wr", disk_limit},
    {"bps_max_length", disk_limit},
    {"bps_rd_max_length", disk_limit},
    {"bps_wr_max_length", disk_limit},
    {"serial", disk_text},
    {"wwn", disk_text},
    {"detect_zeroes", disk_text},
    {"model", disk_text},
    {"vendor", disk_text},
    {"product", disk_text},
    {"queues", disk_count},
    {"cyls", disk_count},
    {"heads", disk_count},
    {"secs", disk_count},
    {"media", disk_media},
    {"import-from", disk_import},
    {"clone", disk_clone},
    {"cache", disk_cache},
    {"discard", disk_discard},
    {"ro", disk_ro},
    {"size", disk_size_note},
    {"format", disk_format},
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
	if (cdrom && (o->form == FORM_SIZE || o->form == FORM_NAMED))
		diag(p, line,
		     "%s: a cdrom cannot be a disk volume (use STORAGE:iso/FILE, STORAGE:cloudinit "
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
	if (o->form == FORM_CLOUDINIT && d->media != MEDIA_CDROM)
		diag(p, line, "%s: the cloud-init drive is a cdrom (media=cdrom)", key);
	if (o->form == FORM_SIZE && d->allocate && d->size == 0 && !o->import)
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
	if (pr.items[0].k && streq(pr.items[0].k, "file")) /* file=VOLUME: the same */
		pr.items[0].k = NULL;
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
