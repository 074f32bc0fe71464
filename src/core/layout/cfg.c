/* layout/cfg.c - cfg: lab.cfg, in the stanza syntax of Proxmox's storage.cfg: lab, storages,
 * bridges and the image catalogue, each stanza's keys in one table. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "layout-private.h"

/* ---- lab.cfg ---- */

enum stanza {
	ST_NONE,
	ST_SKIP,
	ST_LAB,
	ST_DIR,
	ST_LVMTHIN,
	ST_LVM,
	ST_BRIDGE,
	ST_IMAGE,
	ST_BTRFS,
	ST_ZFSPOOL,
	ST_OTHER
};

static const char *const STANZA_NAMES[] = {"",    "",       "lab",   "dir",   "lvmthin",
					   "lvm", "bridge", "image", "btrfs", "zfspool"};

/* Proxmox's storage types labvirt does not run (yet): read and kept, so that a
 * storage.cfg as Proxmox writes it loads; a guest that uses one is an error. */
static const char *const OTHER_TYPES[] = {"zfs",    "nfs",   "cifs",        "pbs",       "rbd",
					  "cephfs", "iscsi", "iscsidirect", "glusterfs", "esxi"};

struct cfg_state {
	enum stanza kind;
	int line;             /* of the stanza header */
	bool drop;            /* invalid or duplicate id: read the stanza, then drop it */
	struct keylines keys; /* of this stanza */
	int lab_line;         /* of the first lab: stanza */
	struct subnet addr;   /* bridge address=, when valid */
	bool addr_ok;
	uint32_t range[2]; /* bridge dhcp-range=, when valid */
	bool range_ok;
	char range_buf[LINE_MAX_BYTES + 1]; /* dhcp-range= as given, for messages */
};

static struct lab_storage *cur_storage(struct parser *p)
{
	return &p->lab->storages[p->lab->n_storages - 1];
}

static struct lab_bridge *cur_bridge(struct parser *p)
{
	return &p->lab->bridges[p->lab->n_bridges - 1];
}

static struct lab_image *cur_image(struct parser *p)
{
	return &p->lab->images[p->lab->n_images - 1];
}

static void cfg_uri(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	(void)st, (void)line;
	set_str(&p->lab->uri, v);
}

static void cfg_accel(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	static const char *const names[] = {"auto", "kvm", "tcg"};
	(void)st;
	int i = PICK(p, line, "accel:", v, names);
	if (i >= 0)
		p->lab->accel = (enum lab_accel)i;
}

static void cfg_host_devices(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	static const char *const names[] = {"require", "skip"};
	(void)st;
	p->lab->skip_host_devices = PICK(p, line, "host-devices:", v, names) == 1;
}

static void cfg_path(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	(void)st, (void)line;
	free(cur_storage(p)->path);
	cur_storage(p)->path = lab_relative(p, v);
}

static void cfg_content(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	static const char *const names[] = {"images", "iso",    "import",  "rootdir",
					    "vztmpl", "backup", "snippets"};
	(void)st;
	_cleanup_free_ char *copy = xstrdup(v);
	for (char *item = copy, *next; item; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		if (PICK(p, line, "content:", item, names) < 0)
			return;
	}
}

/* LVM's rule for volume group and logical volume names. */
static bool is_lvm_name(const char *s)
{
	return strlen(s) <= 127 && is_all(s, LOWER UPPER DIGITS "+_.-") && s[0] != '-' &&
	       !streq(s, ".") && !streq(s, "..");
}

static void cfg_lvm_name(struct parser *p, int line, const char *key, const char *v, char **dst)
{
	if (!is_lvm_name(v))
		diag(p, line, "%s: %s is not an LVM name (A-Z, a-z, 0-9, '+', '_', '.', '-')", key,
		     Q(v));
	set_str(dst, v);
}

static void cfg_vgname(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	(void)st;
	cfg_lvm_name(p, line, "vgname", v, &cur_storage(p)->vgname);
}

static void cfg_thinpool(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	(void)st;
	cfg_lvm_name(p, line, "thinpool", v, &cur_storage(p)->thinpool);
}

/* labvirt-only: how many times its size the pool's thin volumes may total. */
static void cfg_overcommit(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	(void)st;
	size_t whole = strspn(v, DIGITS),
	       frac = v[whole] == '.' ? strspn(v + whole + 1, DIGITS) : 0;
	bool ok = whole > 0 && whole <= 4 && frac <= 3 && !v[whole + (v[whole] == '.') + frac] &&
		  (v[whole] != '.' || frac > 0);
	double r = ok ? strtod(v, NULL) : 0;
	if (!ok || r < 1.0)
		diag(p, line, "overcommit: %s is not a ratio from 1 to 9999 (e.g. 2.0)", Q(v));
	else
		cur_storage(p)->overcommit = r;
}

static void cfg_mode(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	static const char *const names[] = {"nat", "isolated", "host"};
	(void)st;
	int i = PICK(p, line, "mode:", v, names);
	if (i >= 0)
		cur_bridge(p)->mode = (enum lab_bridge_mode)i;
}

static void cfg_address(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	set_str(&cur_bridge(p)->address, v);
	int r = parse_cidr(v, &st->addr);
	if (r == -1)
		diag(p, line, "address: %s is not an IPv4 address/prefix (e.g. 10.10.10.1/24)",
		     Q(v));
	else if (r == -2)
		diag(p, line, "address: prefix length of %s is out of range (8..30)", Q(v));
	else if (st->addr.host == st->addr.net)
		diag(p, line, "address: %s is the network address, not a host address", Q(v));
	else if (st->addr.host == st->addr.bcast)
		diag(p, line, "address: %s is the broadcast address, not a host address", Q(v));
	else
		st->addr_ok = true;
}

static void cfg_range(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	const char *dash = strchr(v, '-');
	snprintf(st->range_buf, sizeof(st->range_buf), "%s", v);
	st->range_ok = dash && parse_ipv4(v, (size_t)(dash - v), &st->range[0]) &&
		       parse_ipv4(dash + 1, strlen(dash + 1), &st->range[1]);
	if (!st->range_ok)
		diag(p, line, "dhcp-range: %s is not START-END (two IPv4 addresses)", Q(v));
}

/* ---- lab.cfg: image stanzas ---- */

static bool is_url(const char *s)
{
	return (startswith(s, "https://") || startswith(s, "http://") ||
		startswith(s, "file:///")) &&
	       !strpbrk(s, " \t\"'<>\\");
}

static void cfg_url(struct parser *p, int line, const char *key, const char *v, char **dst)
{
	if (!is_url(v))
		diag(p, line, "%s: %s is not an http://, https:// or file:/// URL", key, Q(v));
	set_str(dst, v);
}

static void cfg_image_url(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	(void)st;
	cfg_url(p, line, "url", v, &cur_image(p)->url);
}

static void cfg_image_sum(struct parser *p, int line, const char *key, enum lab_sum type, bool url,
			  const char *v)
{
	struct lab_image *im = cur_image(p);
	size_t want = type == SUM_SHA256 ? 64 : 128;
	if (im->sum || im->sum_url) {
		diag(p, line,
		     "%s: the image has a checksum already (give one of sha256, sha512, "
		     "sha256-url, sha512-url)",
		     key);
		return;
	}
	im->sum_type = type;
	if (url) {
		cfg_url(p, line, key, v, &im->sum_url);
		return;
	}
	if (strlen(v) != want || !is_all(v, HEX))
		diag(p, line, "%s: %s is not %zu hexadecimal digits", key, Q(v), want);
	im->sum = xstrdup(v);
	for (char *c = im->sum; *c; c++)
		*c = (char)(*c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' : *c);
}

static void cfg_sha256(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	(void)st;
	cfg_image_sum(p, line, "sha256", SUM_SHA256, false, v);
}

static void cfg_sha512(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	(void)st;
	cfg_image_sum(p, line, "sha512", SUM_SHA512, false, v);
}

static void cfg_sha256_url(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	(void)st;
	cfg_image_sum(p, line, "sha256-url", SUM_SHA256, true, v);
}

static void cfg_sha512_url(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	(void)st;
	cfg_image_sum(p, line, "sha512-url", SUM_SHA512, true, v);
}

static void cfg_format(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	static const char *const names[] = {"qcow2", "raw"};
	(void)st;
	if (PICK(p, line, "format:", v, names) >= 0)
		set_str(&cur_image(p)->format, v);
}

static void cfg_image_storage(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	(void)st, (void)line;
	set_str(&cur_image(p)->storage, v);
}

bool is_file_name(const char *s)
{
	return *s && !strchr(s, '/') && !streq(s, ".") && !streq(s, "..") &&
	       is_text(s, strlen(s), false) && !strpbrk(s, " ");
}

static void cfg_image_file(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	(void)st;
	if (!is_file_name(v))
		diag(p, line, "file: %s is not a file name (no '/', blank, '.' or '..')", Q(v));
	set_str(&cur_image(p)->file, v);
}

struct cfg_key {
	enum stanza kind;
	const char *key;
	void (*set)(struct parser *p, struct cfg_state *st, int line, const char *v);
};

/* Proxmox's storage keys with no effect on a lab: checked, kept in mind. */
static void cfg_note(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	(void)p, (void)st, (void)line, (void)v;
}

static void cfg_flag(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	bool b;
	char label[64]; /* the key being set: the last one cfg_property recorded */
	snprintf(label, sizeof(label), "%s:", st->keys.v[st->keys.n - 1].key);
	parse01(p, line, label, v, &b);
}

static void cfg_disable(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	bool b;
	(void)st;
	if (parse01(p, line, "disable:", v, &b) == 0)
		cur_storage(p)->disabled = b;
}

static void cfg_saferemove(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	bool b;
	(void)st;
	if (parse01(p, line, "saferemove:", v, &b) == 0)
		cur_storage(p)->saferemove = b;
}

/* lvm base: Proxmox's "STORAGE:VOLUME" of the LUN the volume group lies on (an
 * iSCSI storage, which Proxmox activates first). Kept; labvirt expects the
 * volume group to be there already. */
static void cfg_base(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	(void)st;
	const char *colon = strchr(v, ':');
	if (!colon || colon == v || !colon[1] || strpbrk(v, " \t"))
		diag(p, line, "base: %s is not a volume STORAGE:VOLUME", Q(v));
	set_str(&cur_storage(p)->base, v);
}

/* Proxmox's saferemove-stepsize: MiB per zeroing step, one of 1..32. */
static void cfg_stepsize(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	static const char *const names[] = {"1", "2", "4", "8", "16", "32"};
	(void)st;
	PICK(p, line, "saferemove-stepsize:", v, names);
}

static void cfg_storage_format(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	static const char *const names[] = {"raw", "qcow2", "vmdk", "subvol"};
	static const char *const btrfs[] = {"raw", "subvol"}; /* BTRFSPlugin's formats */
	if (st->kind == ST_BTRFS)
		PICK(p, line, "format:", v, btrfs);
	else
		PICK(p, line, "format:", v, names);
}

/* zfspool: pool is a ZFS dataset ("rpool/data"): components of A-Z, a-z, 0-9, '_', '-',
 * '.', ':', each starting with a letter or digit. */
static void cfg_pool(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	(void)st;
	bool ok = strlen(v) <= 255 && is_all(v, LOWER UPPER DIGITS "_-.:/");
	for (const char *c = v; ok && *c; c += strcspn(c, "/") + (c[strcspn(c, "/")] == '/'))
		ok = strchr(LOWER UPPER DIGITS, *c) != NULL;
	ok = ok && !endswith(v, "/");
	if (!ok)
		diag(p, line,
		     "pool: %s is not a ZFS dataset (POOL or POOL/DATASET of A-Z, a-z, 0-9, '_', "
		     "'-', '.', ':')",
		     Q(v));
	set_str(&cur_storage(p)->pool, v);
}

/* zfspool: blocksize as Proxmox takes it: a power of 2 from 512 to 16M, k or m suffix. */
static void cfg_blocksize(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	(void)st;
	size_t n = strspn(v, DIGITS);
	char unit = v[n] ? (char)(v[n] | 0x20) : 0;
	bool ok =
	    n > 0 && n < 9 && v[0] != '0' && (!v[n] || ((unit == 'k' || unit == 'm') && !v[n + 1]));
	uint64_t b = ok ? strtoull(v, NULL, 10) * (unit == 'k'   ? 1024
						   : unit == 'm' ? 1048576
								 : 1)
			: 0;
	if (!ok || b < 512 || b > 16 * 1048576 || (b & (b - 1)))
		diag(p, line,
		     "blocksize: %s is not a ZFS block size (a power of 2 from 512 to 16M, e.g. "
		     "8k, 16k, 64k)",
		     Q(v));
	set_str(&cur_storage(p)->blocksize, v);
}

static void cfg_sparse(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	bool b;
	(void)st;
	if (parse01(p, line, "sparse:", v, &b) == 0)
		cur_storage(p)->sparse = b;
}

static void cfg_mountpoint(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	(void)st;
	if (v[0] != '/' || strstr(v, "/../") || endswith(v, "/.."))
		diag(p, line, "mountpoint: %s is not an absolute path", Q(v));
	set_str(&cur_storage(p)->mountpoint, v);
}

/* btrfs: nocow 1 sets the No_COW attribute on its raw files (no checksums, direct I/O). */
static void cfg_nocow(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	bool b;
	(void)st;
	if (parse01(p, line, "nocow:", v, &b) == 0)
		cur_storage(p)->nocow = b;
}

static void cfg_preallocation(struct parser *p, struct cfg_state *st, int line, const char *v)
{
	static const char *const names[] = {"off", "metadata", "falloc", "full"};
	(void)st;
	PICK(p, line, "preallocation:", v, names);
}

static const struct cfg_key CFG_KEYS[] = {
    {ST_LAB, "uri", cfg_uri},
    {ST_LAB, "accel", cfg_accel},
    {ST_LAB, "host-devices", cfg_host_devices},
    {ST_DIR, "path", cfg_path},
    {ST_DIR, "content", cfg_content},
    {ST_DIR, "nodes", cfg_note},
    {ST_DIR, "shared", cfg_flag},
    {ST_DIR, "disable", cfg_disable},
    {ST_DIR, "prune-backups", cfg_note},
    {ST_DIR, "max-protected-backups", cfg_note},
    {ST_DIR, "mkdir", cfg_flag},
    {ST_DIR, "create-base-path", cfg_flag},
    {ST_DIR, "create-subdirs", cfg_flag},
    {ST_DIR, "is_mountpoint", cfg_note},
    {ST_DIR, "content-dirs", cfg_note},
    {ST_DIR, "preallocation", cfg_preallocation},
    {ST_DIR, "format", cfg_storage_format},
    {ST_DIR, "snapshot-as-volume-chain", cfg_flag},
    {ST_BTRFS, "path", cfg_path},
    {ST_BTRFS, "content", cfg_content},
    {ST_BTRFS, "nodes", cfg_note},
    {ST_BTRFS, "shared", cfg_flag},
    {ST_BTRFS, "disable", cfg_disable},
    {ST_BTRFS, "prune-backups", cfg_note},
    {ST_BTRFS, "max-protected-backups", cfg_note},
    {ST_BTRFS, "mkdir", cfg_flag},
    {ST_BTRFS, "create-base-path", cfg_flag},
    {ST_BTRFS, "create-subdirs", cfg_flag},
    {ST_BTRFS, "is_mountpoint", cfg_note},
    {ST_BTRFS, "preallocation", cfg_preallocation},
    {ST_BTRFS, "format", cfg_storage_format},
    {ST_BTRFS, "nocow", cfg_nocow},
    {ST_ZFSPOOL, "pool", cfg_pool},
    {ST_ZFSPOOL, "blocksize", cfg_blocksize},
    {ST_ZFSPOOL, "sparse", cfg_sparse},
    {ST_ZFSPOOL, "mountpoint", cfg_mountpoint},
    {ST_ZFSPOOL, "content", cfg_content},
    {ST_ZFSPOOL, "nodes", cfg_note},
    {ST_ZFSPOOL, "disable", cfg_disable},
    {ST_ZFSPOOL, "bwlimit", cfg_note},
    {ST_LVMTHIN, "nodes", cfg_note},
    {ST_LVMTHIN, "disable", cfg_disable},
    {ST_LVMTHIN, "vgname", cfg_vgname},
    {ST_LVMTHIN, "thinpool", cfg_thinpool},
    {ST_LVMTHIN, "content", cfg_content},
    {ST_LVMTHIN, "overcommit", cfg_overcommit},
    {ST_LVM, "vgname", cfg_vgname},
    {ST_LVM, "base", cfg_base},
    {ST_LVM, "saferemove", cfg_saferemove},
    {ST_LVM, "saferemove-stepsize", cfg_stepsize},
    {ST_LVM, "saferemove_throughput", cfg_note},
    {ST_LVM, "tagged_only", cfg_flag},
    {ST_LVM, "shared", cfg_flag},
    {ST_LVM, "content", cfg_content},
    {ST_LVM, "disable", cfg_disable},
    {ST_LVM, "nodes", cfg_note},
    {ST_LVM, "bwlimit", cfg_note},
    {ST_LVM, "snapshot-as-volume-chain", cfg_flag},
    {ST_BRIDGE, "mode", cfg_mode},
    {ST_BRIDGE, "address", cfg_address},
    {ST_BRIDGE, "dhcp-range", cfg_range},
    {ST_IMAGE, "url", cfg_image_url},
    {ST_IMAGE, "sha256", cfg_sha256},
    {ST_IMAGE, "sha512", cfg_sha512},
    {ST_IMAGE, "sha256-url", cfg_sha256_url},
    {ST_IMAGE, "sha512-url", cfg_sha512_url},
    {ST_IMAGE, "format", cfg_format},
    {ST_IMAGE, "storage", cfg_image_storage},
    {ST_IMAGE, "file", cfg_image_file},
};

static const struct cfg_key *cfg_key(enum stanza kind, const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(CFG_KEYS); i++)
		if (CFG_KEYS[i].kind == kind && streq(CFG_KEYS[i].key, key))
			return &CFG_KEYS[i];
	return NULL;
}

static void cfg_property(struct parser *p, struct cfg_state *st, int no, char *line)
{
	if (st->kind == ST_NONE) {
		diag(p, no, "indented line outside a stanza");
		return;
	}
	if (st->kind == ST_SKIP || st->kind == ST_OTHER)
		return; /* a type labvirt does not run: its keys are Proxmox's */
	char *key = trim(line);
	size_t klen = strcspn(key, " \t");
	char *value = trim(key + klen);
	key[klen] = '\0';
	const struct cfg_key *k = cfg_key(st->kind, key);
	int first = keylines_find(&st->keys, key);
	if (!k)
		diag(p, no, "unknown key %s for %s", Q(key), STANZA_NAMES[st->kind]);
	else if (first)
		diag(p, no, "duplicate key %s (first on line %d)", Q(key), first);
	else if (!*value)
		diag(p, no, "%s: missing value", key);
	if (!k || first)
		return;
	keylines_add(&st->keys, key, no);
	if (*value)
		k->set(p, st, no, value);
}

/* A Linux interface name: 1..15 of [A-Za-z0-9_.-], not "." or "..". */
static bool is_ifname(const char *s)
{
	return strlen(s) <= 15 && is_all(s, LOWER UPPER DIGITS "_.-") && !streq(s, ".") &&
	       !streq(s, "..");
}

/* Proxmox's rule for storage ids. */
static bool is_storage_id(const char *s)
{
	return is_all(s, LOWER UPPER DIGITS "_.-") && strchr(LOWER UPPER, s[0]);
}

static void cfg_begin_lab(struct parser *p, struct cfg_state *st, const char *id)
{
	if (st->lab_line) {
		diag(p, st->line, "duplicate lab stanza (first on line %d)", st->lab_line);
		st->kind = ST_SKIP;
		return;
	}
	st->lab_line = st->line;
	if (!lv_is_dns_label(id))
		diag(p, st->line, "lab name %s is not a DNS label " DNS_RULE, Q(id));
	set_str(&p->lab->name, id);
}

static void cfg_begin_storage(struct parser *p, struct cfg_state *st, const char *id)
{
	struct lab *lab = p->lab;
	struct lab_storage *old = lab_find_storage(lab, id);
	if (old && old->from_storage_cfg && !p->reading_storage_cfg) {
		/* lab.cfg's stanza takes the place of storage.cfg's */
		size_t i = (size_t)(old - lab->storages);
		storage_drop(old);
		memmove(old, old + 1, (lab->n_storages - i - 1) * sizeof(*old));
		lab->n_storages--;
		old = NULL;
	}
	if (!is_storage_id(id))
		diag(p, st->line,
		     "storage id %s is not valid (a letter, then letters, digits, '_', '.', '-')",
		     Q(id));
	else if (old)
		diag(p, st->line, "duplicate storage %s (first on line %d)", Q(id), old->line);
	st->drop = old || !is_storage_id(id);
	lab->storages = xrealloc(lab->storages, (lab->n_storages + 1) * sizeof(*lab->storages));
	lab->storages[lab->n_storages++] = (struct lab_storage){
	    .id = xstrdup(id),
	    .type = st->kind == ST_DIR       ? STORAGE_DIR
		    : st->kind == ST_LVMTHIN ? STORAGE_LVMTHIN
		    : st->kind == ST_BTRFS   ? STORAGE_BTRFS
		    : st->kind == ST_LVM     ? STORAGE_LVM
		    : st->kind == ST_ZFSPOOL ? STORAGE_ZFSPOOL
					     : STORAGE_OTHER,
	    .line = st->line,
	    .file = xstrdup(p->file),
	    .from_storage_cfg = p->reading_storage_cfg,
	};
}

static void cfg_begin_bridge(struct parser *p, struct cfg_state *st, const char *id)
{
	struct lab *lab = p->lab;
	const struct lab_bridge *old = lab_find_bridge(lab, id);
	if (!is_ifname(id))
		diag(p, st->line,
		     "bridge name %s is not an interface name (1..15 of A-Z, a-z, 0-9, '_', '.', "
		     "'-')",
		     Q(id));
	else if (old)
		diag(p, st->line, "duplicate bridge %s (first on line %d)", Q(id), old->line);
	st->drop = old || !is_ifname(id);
	lab->bridges = xrealloc(lab->bridges, (lab->n_bridges + 1) * sizeof(*lab->bridges));
	lab->bridges[lab->n_bridges++] = (struct lab_bridge){.name = xstrdup(id), .line = st->line};
}

/* Catalogue names: what import-from= names, so no '/' or ':'. */
static bool is_image_name(const char *s)
{
	return strlen(s) <= 64 && is_all(s, LOWER DIGITS "._-") && strchr(LOWER DIGITS, s[0]);
}

static void cfg_begin_image(struct parser *p, struct cfg_state *st, const char *id)
{
	struct lab *lab = p->lab;
	const struct lab_image *old = lab_find_image(lab, id);
	if (!is_image_name(id))
		diag(p, st->line,
		     "image name %s is not valid (1..64 of a-z, 0-9, '.', '_', '-', starting "
		     "with a letter or digit)",
		     Q(id));
	else if (old)
		diag(p, st->line, "duplicate image %s (first on line %d)", Q(id), old->line);
	st->drop = old || !is_image_name(id);
	lab->images = xrealloc(lab->images, (lab->n_images + 1) * sizeof(*lab->images));
	lab->images[lab->n_images++] = (struct lab_image){.name = xstrdup(id), .line = st->line};
}

static void cfg_header(struct parser *p, struct cfg_state *st, int no, char *line)
{
	char *colon = strchr(line, ':');
	st->kind = ST_SKIP;
	st->line = no;
	if (!colon) {
		diag(p, no, "%s is not a 'type: id' stanza header", Q(line));
		return;
	}
	*colon = '\0';
	const char *id = trim(colon + 1);
	int kind = find_name(STANZA_NAMES + ST_LAB, ARRAY_SIZE(STANZA_NAMES) - ST_LAB, line);
	if (kind < 0 && find_name(OTHER_TYPES, ARRAY_SIZE(OTHER_TYPES), line) >= 0 && *id) {
		st->kind = ST_OTHER;
		cfg_begin_storage(p, st, id);
		set_str(&cur_storage(p)->other_type, line);
		return;
	}
	if (kind < 0) {
		diag(p, no, "unknown stanza type %s", Q(line));
		return;
	}
	if (!*id) {
		diag(p, no, "%s: missing id", line);
		return;
	}
	st->kind = (enum stanza)(kind + ST_LAB);
	if (st->kind == ST_LAB)
		cfg_begin_lab(p, st, id);
	else if (st->kind == ST_BRIDGE)
		cfg_begin_bridge(p, st, id);
	else if (st->kind == ST_IMAGE)
		cfg_begin_image(p, st, id);
	else
		cfg_begin_storage(p, st, id);
}

static void cfg_require(struct parser *p, struct cfg_state *st, const char *key)
{
	if (!keylines_find(&st->keys, key))
		diag(p, st->line, "%s %s: missing %s", STANZA_NAMES[st->kind],
		     Q(cur_storage(p)->id), key);
}

/* Checks the range given, or fills in nat's default one. */
static void bridge_range(struct parser *p, struct cfg_state *st, struct lab_bridge *b)
{
	const struct subnet *s = &st->addr;
	int range_line = keylines_find(&st->keys, "dhcp-range");
	uint32_t lo = st->range[0], hi = st->range[1];
	char a[16], z[16];
	if (!range_line) {
		lo = s->net + (1u << (32 - s->prefix)) / 2, hi = s->bcast - 1;
		ipv4_str(lo, a), ipv4_str(hi, z);
		if (s->host >= lo && s->host <= hi)
			diag(p, keylines_find(&st->keys, "address"),
			     "address: %s is in the default DHCP range %s-%s; give a dhcp-range",
			     Q(b->address), a, z);
	} else if (!st->range_ok) {
		return;
	} else if (lo > hi) {
		diag(p, range_line, "dhcp-range: %s starts after it ends", Q(st->range_buf));
	} else if (lo < s->net || hi > s->bcast) {
		ipv4_str(s->net, a);
		diag(p, range_line, "dhcp-range: %s is not inside %s/%d", Q(st->range_buf), a,
		     s->prefix);
	} else if (lo == s->net || hi == s->bcast || (s->host >= lo && s->host <= hi)) {
		diag(p, range_line, "dhcp-range: %s contains the %s address", Q(st->range_buf),
		     lo == s->net     ? "network"
		     : hi == s->bcast ? "broadcast"
				      : "bridge's own");
	}
	ipv4_str(lo, a), ipv4_str(hi, z);
	b->dhcp_start = xstrdup(a);
	b->dhcp_end = xstrdup(z);
}

static void bridge_check(struct parser *p, struct cfg_state *st, struct lab_bridge *b)
{
	int addr_line = keylines_find(&st->keys, "address");
	int range_line = keylines_find(&st->keys, "dhcp-range");
	if (b->mode == BRIDGE_HOST) {
		if (addr_line)
			diag(p, addr_line, "address: not allowed with mode host");
		if (range_line)
			diag(p, range_line, "dhcp-range: not allowed with mode host");
	} else if (!addr_line) {
		if (b->mode == BRIDGE_NAT)
			diag(p, st->line, "bridge %s: mode nat needs an address", Q(b->name));
		if (range_line)
			diag(p, range_line, "dhcp-range: needs an address");
	} else if (st->addr_ok && (range_line || b->mode == BRIDGE_NAT)) {
		bridge_range(p, st, b);
	}
}

/* The last part of a URL's path, without query or fragment. */
static char *url_file(const char *url)
{
	const char *path = strstr(url, "://");
	path = path ? strchr(path + 3, '/') : NULL;
	if (!path)
		return xstrdup("");
	size_t n = strcspn(path, "?#");
	const char *end = path + n, *last = end;
	while (last > path && last[-1] != '/')
		last--;
	return xstrndup(last, (size_t)(end - last));
}

static void image_check(struct parser *p, struct cfg_state *st, struct lab_image *im)
{
	if (!keylines_find(&st->keys, "url"))
		diag(p, st->line, "image %s: missing url", Q(im->name));
	if (!im->sum && !im->sum_url)
		diag(p, st->line,
		     "image %s: missing checksum (one of sha256, sha512, sha256-url, sha512-url)",
		     Q(im->name));
	if (!im->format)
		im->format = xstrdup("qcow2");
	if (!im->file && im->url) {
		im->file = url_file(im->url);
		if (!is_file_name(im->file))
			diag(p, st->line, "image %s: the URL names no file; give file",
			     Q(im->name));
	}
}

void image_drop(struct lab_image *im)
{
	free(im->name);
	free(im->url);
	free(im->sum);
	free(im->sum_url);
	free(im->format);
	free(im->storage);
	free(im->file);
	free(im->path);
}

/* After all of lab.cfg: where each image lives. */
static void images_place(struct parser *p)
{
	const struct lab_storage *first_dir = NULL;
	for (size_t i = 0; i < p->lab->n_storages && !first_dir; i++)
		if (lab_storage_files(&p->lab->storages[i]))
			first_dir = &p->lab->storages[i];
	for (size_t i = 0; i < p->lab->n_images; i++) {
		struct lab_image *im = &p->lab->images[i];
		const struct lab_storage *s =
		    im->storage ? lab_find_storage(p->lab, im->storage) : first_dir;
		if (im->storage && !s)
			diag(p, im->line, "image %s: storage %s is not defined", Q(im->name),
			     Q(im->storage));
		else if (!s)
			diag(p, im->line, "image %s: needs a dir storage to keep it in",
			     Q(im->name));
		else if (!lab_storage_files(s))
			diag(p, im->line, "image %s: storage %s is not a dir or btrfs storage",
			     Q(im->name), Q(s->id));
		else if (s->path && im->file)
			im->path = xasprintf("%s/import/%s", s->path, im->file);
		if (s && !im->storage)
			im->storage = xstrdup(s->id);
	}
}

void storage_drop(struct lab_storage *s)
{
	free(s->id);
	free(s->path);
	free(s->vgname);
	free(s->thinpool);
	free(s->base);
	free(s->pool);
	free(s->blocksize);
	free(s->mountpoint);
	free(s->other_type);
	free(s->file);
}

void bridge_drop(struct lab_bridge *b)
{
	free(b->name);
	free(b->address);
	free(b->dhcp_start);
	free(b->dhcp_end);
}

/* The end of a stanza: what needs all of its keys. */
static void cfg_finish(struct parser *p, struct cfg_state *st)
{
	if (st->kind == ST_DIR || st->kind == ST_BTRFS)
		cfg_require(p, st, "path");
	if (st->kind == ST_LVMTHIN) {
		cfg_require(p, st, "vgname");
		cfg_require(p, st, "thinpool");
	}
	if (st->kind == ST_LVM)
		cfg_require(p, st, "vgname");
	if (st->kind == ST_ZFSPOOL)
		cfg_require(p, st, "pool");
	if (st->kind == ST_BRIDGE)
		bridge_check(p, st, cur_bridge(p));
	if (st->kind == ST_IMAGE)
		image_check(p, st, cur_image(p));
	if (st->drop && st->kind == ST_IMAGE)
		image_drop(&p->lab->images[--p->lab->n_images]);
	if (st->drop && (st->kind == ST_DIR || st->kind == ST_LVMTHIN || st->kind == ST_LVM ||
			 st->kind == ST_BTRFS || st->kind == ST_ZFSPOOL || st->kind == ST_OTHER))
		storage_drop(&p->lab->storages[--p->lab->n_storages]);
	if (st->drop && st->kind == ST_BRIDGE)
		bridge_drop(&p->lab->bridges[--p->lab->n_bridges]);
	keylines_free(&st->keys);
	int lab_line = st->lab_line;
	*st = (struct cfg_state){.lab_line = lab_line};
}

static void cfg_line(struct parser *p, void *ctx, int no, char *line)
{
	struct cfg_state *st = ctx;
	if (is_skipped(line))
		return;
	if (is_space(line[0])) {
		cfg_property(p, st, no, line);
		return;
	}
	cfg_finish(p, st);
	cfg_header(p, st, no, trim(line));
}

/* Reads the stanza file path; false when it cannot be read (reported). The
 * lab_line of its stanzas goes to *ret_lab_line. */
static bool read_stanzas(struct parser *p, const char *path, int *ret_lab_line)
{
	p->file = path;
	size_t len = 0;
	_cleanup_free_ char *buf = read_layout_file(p, &len);
	if (buf) {
		struct cfg_state st = {0};
		for_each_line(p, buf, len, cfg_line, &st);
		cfg_finish(p, &st);
		*ret_lab_line = st.lab_line;
	}
	p->file = NULL;
	return buf != NULL;
}

/* storage.cfg beside lab.cfg: Proxmox's own file, copied from /etc/pve; read
 * like lab.cfg, when it is there. */
static void read_storage_cfg(struct parser *p)
{
	_cleanup_free_ char *path = xasprintf("%s/storage.cfg", p->dir);
	struct stat sb;
	if (lstat(path, &sb) < 0 && errno == ENOENT)
		return;
	int lab_line = 0;
	p->reading_storage_cfg = true;
	read_stanzas(p, path, &lab_line);
	p->reading_storage_cfg = false;
}

void read_cfg(struct parser *p)
{
	read_storage_cfg(p);
	_cleanup_free_ char *path = xasprintf("%s/lab.cfg", p->dir);
	int lab_line = 0;
	if (!read_stanzas(p, path, &lab_line))
		return;
	p->file = path;
	if (!lab_line)
		diag(p, 0, "missing 'lab: NAME' stanza");
	images_place(p);
	p->file = NULL;
	p->have_cfg = true;
}
