/* layout.c - reads a lab folder into struct lab: lab.cfg in the stanza syntax
 * of Proxmox's storage.cfg, and one <guest>.conf per guest in the syntax of
 * Proxmox's qemu-server files. Every problem is reported as "file:line:
 * message" and reading goes on, so that one run shows all of them; the lab is
 * handed back only when there was none. README.md, "Layout reference", is the reference. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "layout.h"

#define LINE_MAX_BYTES 4096
#define FILE_MAX_BYTES (1024 * 1024)
#define QUOTE_MAX      64 /* bytes of user text quoted in a message */
#define QUOTE_BUF      (QUOTE_MAX + 6)
#define MAX_PROPS      32
#define MAX_VCPUS      512
#define DNS_RULE       "(1..63 of a-z, 0-9 and '-', not starting or ending with '-')"

/* ---- text ---- */

/* Length of the valid UTF-8 sequence at s (n bytes available), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n, uint32_t *ret_cp)
{
	static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t len = s[0] < 0x80             ? 1
		     : (s[0] & 0xe0) == 0xc0 ? 2
		     : (s[0] & 0xf0) == 0xe0 ? 3
		     : (s[0] & 0xf8) == 0xf0 ? 4
					     : 0;
	if (len == 0 || len > n)
		return 0;
	uint32_t cp = len == 1 ? s[0] : s[0] & (0x7fu >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return len;
}

/* Length of the printable character at s, or 0 for a control or invalid byte. */
static size_t text_char(const char *s, size_t n)
{
	uint32_t cp = 0;
	size_t len = utf8_len((const unsigned char *)s, n, &cp);
	bool control = cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0);
	return len && !control ? len : 0;
}

static bool is_text(const char *s, size_t n, bool tabs)
{
	for (size_t i = 0; i < n;) {
		size_t len = tabs && s[i] == '\t' ? 1 : text_char(s + i, n - i);
		if (!len)
			return false;
		i += len;
	}
	return true;
}

/* Bidirectional formatting characters, which would reorder a message on a
 * terminal (U+061C, U+200E/F, U+202A..E, U+2066..9). */
static bool is_bidi(const char *s, size_t len)
{
	uint32_t cp = 0;
	utf8_len((const unsigned char *)s, len, &cp);
	return cp == 0x61c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* 's' for a message: at most QUOTE_MAX bytes of it, junk bytes and
 * bidirectional controls as '?'. */
static const char *quote(char *buf, const char *s)
{
	size_t n = strlen(s), o = 0;
	buf[o++] = '\'';
	for (size_t i = 0; i < n;) {
		size_t len = text_char(s + i, n - i), skip = len ? len : 1;
		if (len && is_bidi(s + i, len))
			len = 0;
		if (o - 1 + (len ? len : 1) > QUOTE_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (len)
			memcpy(buf + o, s + i, len);
		else
			buf[o] = '?';
		o += len ? len : 1;
		i += skip;
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return buf;
}
/* The buffer lives until the end of the enclosing block: long enough for a message. */
#define Q(s) quote((char[QUOTE_BUF]){0}, (s))

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}
static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char *trim(char *s)
{
	while (is_space(*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

static bool is_all(const char *s, const char *set)
{
	return *s && s[strspn(s, set)] == '\0';
}

#define LOWER  "abcdefghijklmnopqrstuvwxyz"
#define UPPER  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGITS "0123456789"
#define HEX    DIGITS "abcdefABCDEF"

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

/* ---- messages ---- */

struct guest_note {
	int name_line; /* line of name:, 0 when named after the file */
	int uuid_line; /* line of smbios1 with a uuid, or 0 */
};

struct parser {
	const char *dir;
	char *abs_dir; /* dir made absolute: libvirt takes only absolute paths */
	struct lab *lab;
	struct lv_diag *diags;
	const char *file;         /* the file being read, for messages */
	bool have_cfg;            /* lab.cfg was read: storage and bridge names can be checked */
	struct guest_note *notes; /* beside lab->guests while reading */
};

static void __attribute__((format(printf, 3, 4)))
diag(struct parser *p, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lv_diag_add(p->diags, p->file, line, "%s", msg);
}

static int find_name(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (streq(names[i], s))
			return (int)i;
	return -1;
}

/* Index of v in names, or -1 after saying "LABEL 'v' is not one of a, b, c". */
static int pick(struct parser *p, int line, const char *label, const char *v,
		const char *const *names, size_t n)
{
	int i = find_name(names, n, v);
	if (i >= 0)
		return i;
	char list[256] = "";
	for (size_t k = 0; k < n; k++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", k ? ", " : "",
			 names[k]);
	diag(p, line, "%s %s is not one of %s", label, Q(v), list);
	return -1;
}
#define PICK(p, line, label, v, names) pick(p, line, label, v, names, ARRAY_SIZE(names))

static int parse01(struct parser *p, int line, const char *label, const char *v, bool *ret)
{
	if (!streq(v, "0") && !streq(v, "1")) {
		diag(p, line, "%s %s is not 0 or 1", label, Q(v));
		return -1;
	}
	*ret = v[0] == '1';
	return 0;
}

/* A whole number in min..max (max well below UINT64_MAX / 10). */
static int parse_uint(struct parser *p, int line, const char *label, const char *v, uint64_t min,
		      uint64_t max, const char *unit, uint64_t *ret)
{
	if (!is_all(v, DIGITS)) {
		diag(p, line, "%s %s is not a whole number%s", label, Q(v), unit);
		return -1;
	}
	uint64_t n = 0;
	for (const char *c = v; *c && n <= max; c++)
		n = n * 10 + (uint64_t)(*c - '0');
	if (n < min || n > max) {
		diag(p, line, "%s %s is out of range (%" PRIu64 "..%" PRIu64 ")", label, Q(v), min,
		     max);
		return -1;
	}
	*ret = n;
	return 0;
}

/* ---- reading files ---- */

/* Key and line of each key seen in a stanza or a guest file. */
struct keyline {
	char *key;
	int line;
};
struct keylines {
	struct keyline *v;
	size_t n;
};

static int keylines_find(const struct keylines *k, const char *key)
{
	for (size_t i = 0; i < k->n; i++)
		if (streq(k->v[i].key, key))
			return k->v[i].line;
	return 0;
}

static void keylines_add(struct keylines *k, const char *key, int line)
{
	k->v = xrealloc(k->v, (k->n + 1) * sizeof(*k->v));
	k->v[k->n++] = (struct keyline){xstrdup(key), line};
}

static void keylines_free(struct keylines *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i].key);
	free(k->v);
	*k = (struct keylines){0};
}

/* The text of p->file, or NULL (reported) when it cannot be read or is binary. */
static char *read_layout_file(struct parser *p, size_t *ret_len)
{
	size_t len = 0;
	struct stat sb;
	/* Not a device or a FIFO (/dev/zero would never end), not endless. */
	if (stat(p->file, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		diag(p, 0, "cannot read: not a regular file");
		return NULL;
	}
	if (stat(p->file, &sb) == 0 && sb.st_size > FILE_MAX_BYTES) {
		diag(p, 0, "file is larger than %d bytes", FILE_MAX_BYTES);
		return NULL;
	}
	char *buf = lv_read_file(p->file, &len);
	if (!buf) {
		diag(p, 0, "cannot read: %s", strerror(errno));
		return NULL;
	}
	if (memchr(buf, '\0', len)) {
		diag(p, 0, "file contains a NUL byte (not a text file)");
		free(buf);
		return NULL;
	}
	*ret_len = len;
	return buf;
}

typedef void line_fn(struct parser *p, void *ctx, int no, char *line);

/* Hands each line that is valid text to fn; reports the others. */
static void for_each_line(struct parser *p, const char *buf, size_t len, line_fn *fn, void *ctx)
{
	int no = 0;
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - buf) - pos : len - pos;
		no++;
		if (n > LINE_MAX_BYTES) {
			diag(p, no, "line is longer than %d bytes", LINE_MAX_BYTES);
		} else if (!is_text(buf + pos, n, true)) {
			diag(p, no, "line is not valid text");
		} else {
			_cleanup_free_ char *line = xstrndup(buf + pos, n);
			fn(p, ctx, no, line);
		}
		pos += n + 1;
	}
}

static bool is_skipped(const char *line)
{
	while (is_space(*line))
		line++;
	return *line == '\0' || *line == '#';
}

static char *lab_relative(const struct parser *p, const char *v)
{
	return v[0] == '/' ? xstrdup(v) : xasprintf("%s/%s", p->abs_dir, v);
}

/* ---- addresses ---- */

/* Strict dotted quad: four numbers 0..255 without leading zeros. */
static bool parse_ipv4(const char *s, size_t n, uint32_t *ret)
{
	uint32_t a = 0;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part && (i >= n || s[i++] != '.'))
			return false;
		size_t start = i;
		unsigned v = 0;
		while (i < n && i - start < 4 && is_digit(s[i]))
			v = v * 10 + (unsigned)(s[i++] - '0');
		size_t len = i - start;
		if (len == 0 || len > 3 || v > 255 || (len > 1 && s[start] == '0'))
			return false;
		a = a << 8 | v;
	}
	*ret = a;
	return i == n;
}

static void ipv4_str(uint32_t a, char ret[16])
{
	snprintf(ret, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

struct subnet {
	uint32_t host, net, bcast;
	int prefix;
};

/* "A.B.C.D/P": 0 done, -1 not that form, -2 prefix out of 8..30. */
static int parse_cidr(const char *s, struct subnet *ret)
{
	const char *slash = strchr(s, '/');
	uint32_t a;
	if (!slash || !parse_ipv4(s, (size_t)(slash - s), &a))
		return -1;
	const char *pfx = slash + 1;
	size_t n = strlen(pfx);
	if (n == 0 || n > 2 || !is_all(pfx, DIGITS) || (n == 2 && pfx[0] == '0'))
		return -1;
	int prefix = atoi(pfx);
	if (prefix < 8 || prefix > 30)
		return -2;
	uint32_t mask = ~0u << (32 - prefix);
	*ret = (struct subnet){a, a & mask, (a & mask) | ~mask, prefix};
	return 0;
}

/* ---- lab.cfg ---- */

enum stanza { ST_NONE, ST_SKIP, ST_LAB, ST_DIR, ST_LVMTHIN, ST_BRIDGE, ST_IMAGE };

static const char *const STANZA_NAMES[] = {"", "", "lab", "dir", "lvmthin", "bridge", "image"};

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

static bool is_file_name(const char *s)
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

static const struct cfg_key CFG_KEYS[] = {
    {ST_LAB, "uri", cfg_uri},
    {ST_LAB, "accel", cfg_accel},
    {ST_DIR, "path", cfg_path},
    {ST_DIR, "content", cfg_content},
    {ST_LVMTHIN, "vgname", cfg_vgname},
    {ST_LVMTHIN, "thinpool", cfg_thinpool},
    {ST_LVMTHIN, "content", cfg_content},
    {ST_LVMTHIN, "overcommit", cfg_overcommit},
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
	if (st->kind == ST_SKIP)
		return;
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
	const struct lab_storage *old = lab_find_storage(lab, id);
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
	    .type = st->kind == ST_DIR ? STORAGE_DIR : STORAGE_LVMTHIN,
	    .line = st->line,
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

static void image_drop(struct lab_image *im)
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
		if (p->lab->storages[i].type == STORAGE_DIR)
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
		else if (s->type != STORAGE_DIR)
			diag(p, im->line, "image %s: storage %s is not a dir storage", Q(im->name),
			     Q(s->id));
		else if (s->path && im->file)
			im->path = xasprintf("%s/import/%s", s->path, im->file);
		if (s && !im->storage)
			im->storage = xstrdup(s->id);
	}
}

static void storage_drop(struct lab_storage *s)
{
	free(s->id);
	free(s->path);
	free(s->vgname);
	free(s->thinpool);
}

static void bridge_drop(struct lab_bridge *b)
{
	free(b->name);
	free(b->address);
	free(b->dhcp_start);
	free(b->dhcp_end);
}

/* The end of a stanza: what needs all of its keys. */
static void cfg_finish(struct parser *p, struct cfg_state *st)
{
	if (st->kind == ST_DIR)
		cfg_require(p, st, "path");
	if (st->kind == ST_LVMTHIN) {
		cfg_require(p, st, "vgname");
		cfg_require(p, st, "thinpool");
	}
	if (st->kind == ST_BRIDGE)
		bridge_check(p, st, cur_bridge(p));
	if (st->kind == ST_IMAGE)
		image_check(p, st, cur_image(p));
	if (st->drop && st->kind == ST_IMAGE)
		image_drop(&p->lab->images[--p->lab->n_images]);
	if (st->drop && (st->kind == ST_DIR || st->kind == ST_LVMTHIN))
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

static void read_cfg(struct parser *p)
{
	_cleanup_free_ char *path = xasprintf("%s/lab.cfg", p->dir);
	p->file = path;
	size_t len = 0;
	_cleanup_free_ char *buf = read_layout_file(p, &len);
	if (buf) {
		struct cfg_state st = {0};
		for_each_line(p, buf, len, cfg_line, &st);
		cfg_finish(p, &st);
		if (!st.lab_line)
			diag(p, 0, "missing 'lab: NAME' stanza");
		images_place(p);
		p->have_cfg = true;
	}
	p->file = NULL;
}

/* ---- <guest>.conf: property strings ---- */

/* "virtio=52:54:00:12:34:56,bridge=vmbr0" split; k is NULL for a bare first item. */
struct prop {
	const char *k, *v;
};
struct props {
	char *buf;
	struct prop items[MAX_PROPS];
	size_t n;
};

static void props_free(struct props *pr)
{
	free(pr->buf);
}

static int props_item(struct parser *p, int line, const char *key, struct props *pr, char *item)
{
	char *eq = strchr(item, '=');
	if (eq)
		*eq = '\0';
	if (!*item || (!eq && pr->n > 0)) {
		diag(p, line, "%s: %s is not a name=value property", key, Q(eq ? "" : item));
		return -1;
	}
	for (size_t i = 0; eq && i < pr->n; i++)
		if (streq(pr->items[i].k, item)) {
			diag(p, line, "%s: duplicate property %s", key, Q(item));
			return -1;
		}
	if (pr->n == MAX_PROPS) {
		diag(p, line, "%s: more than %d properties", key, MAX_PROPS);
		return -1;
	}
	pr->items[pr->n++] = (struct prop){eq ? item : NULL, eq ? eq + 1 : item};
	return 0;
}

static int props_parse(struct parser *p, int line, const char *key, const char *v, struct props *pr)
{
	pr->buf = xstrdup(v);
	for (char *item = pr->buf, *next; item; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		if (!*item) {
			diag(p, line, "%s: empty item in %s", key, Q(v));
			return -1;
		}
		if (props_item(p, line, key, pr, item) < 0)
			return -1;
	}
	return 0;
}

static void unsupported(struct parser *p, int line, const char *key, const char *prop)
{
	diag(p, line, "%s: property %s is not supported", key, Q(prop));
}

/* ---- <guest>.conf: keys ---- */

struct conf_state {
	struct lab_guest *g;
	struct guest_note *note;
	struct keylines keys; /* every known key of the file, for duplicates and boot */
	bool stopped;         /* after a [section]: the rest is not the guest's config */
};

typedef void conf_fn(struct parser *p, struct conf_state *st, const char *key, int line,
		     const char *v);

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

static bool disk_key(const char *key, enum lab_bus *ret_bus, int *ret_index)
{
	for (size_t b = 0; b < ARRAY_SIZE(DISK_BUSES); b++)
		if (indexed_key(key, DISK_BUSES[b].prefix, DISK_BUSES[b].max, ret_index)) {
			*ret_bus = (enum lab_bus)b;
			return true;
		}
	return false;
}

static bool net_key(const char *key, int *ret_index)
{
	return indexed_key(key, "net", LAB_MAX_NETS - 1, ret_index);
}

static void conf_name(struct parser *p, struct conf_state *st, const char *key, int line,
		      const char *v)
{
	(void)key;
	if (!lv_is_dns_label(v))
		diag(p, line, "name: %s is not a DNS label " DNS_RULE, Q(v));
	set_str(&st->g->name, v);
	st->note->name_line = line;
}

static void conf_description(struct parser *p, struct conf_state *st, const char *key, int line,
			     const char *v)
{
	(void)p, (void)key, (void)line;
	set_str(&st->g->description, v);
}

static void conf_ostype(struct parser *p, struct conf_state *st, const char *key, int line,
			const char *v)
{
	static const char *const names[] = {"other",  "wxp",  "w2k",    "w2k3",  "w2k8",
					    "wvista", "win7", "win8",   "win10", "win11",
					    "l24",    "l26",  "solaris"};
	(void)key;
	if (PICK(p, line, "ostype:", v, names) >= 0)
		set_str(&st->g->ostype, v);
}

static void conf_onboot(struct parser *p, struct conf_state *st, const char *key, int line,
			const char *v)
{
	(void)key;
	parse01(p, line, "onboot:", v, &st->g->onboot);
}

static void conf_agent(struct parser *p, struct conf_state *st, const char *key, int line,
		       const char *v)
{
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	for (size_t i = 0; i < pr.n; i++) {
		const struct prop *it = &pr.items[i];
		if (!it->k)
			parse01(p, line, "agent:", it->v, &st->g->agent);
		else if (streq(it->k, "enabled"))
			parse01(p, line, "agent: enabled", it->v, &st->g->agent);
		else
			unsupported(p, line, key, it->k);
	}
}

static void conf_machine(struct parser *p, struct conf_state *st, const char *key, int line,
			 const char *v)
{
	(void)key;
	if (!is_all(v, LOWER DIGITS "._-"))
		diag(p, line, "machine: %s is not a machine type (a-z, 0-9, '.', '_', '-')", Q(v));
	set_str(&st->g->machine, v);
}

static void conf_vga(struct parser *p, struct conf_state *st, const char *key, int line,
		     const char *v)
{
	static const char *const names[] = {"std",    "cirrus",  "vmware", "qxl",
					    "virtio", "serial0", "none"};
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	uint64_t mem;
	for (size_t i = 0; i < pr.n; i++) {
		const struct prop *it = &pr.items[i];
		if (!it->k || streq(it->k, "type")) {
			if (PICK(p, line, it->k ? "vga: type" : "vga:", it->v, names) >= 0)
				set_str(&st->g->vga, it->v);
		} else if (streq(it->k, "memory")) {
			parse_uint(p, line, "vga: memory", it->v, 4, 512, " of MiB", &mem);
		} else {
			unsupported(p, line, key, it->k);
		}
	}
}

/* labvirt-only: the graphical console's protocol, when vga: does not say it. */
static void conf_graphics(struct parser *p, struct conf_state *st, const char *key, int line,
			  const char *v)
{
	static const char *const names[] = {"vnc", "spice", "none"};
	(void)key;
	if (PICK(p, line, "graphics:", v, names) >= 0)
		set_str(&st->g->graphics, v);
}

static void conf_cores(struct parser *p, struct conf_state *st, const char *key, int line,
		       const char *v)
{
	uint64_t n;
	(void)key;
	if (parse_uint(p, line, "cores:", v, 1, 128, "", &n) == 0)
		st->g->cores = (int)n;
}

static void conf_sockets(struct parser *p, struct conf_state *st, const char *key, int line,
			 const char *v)
{
	uint64_t n;
	(void)key;
	if (parse_uint(p, line, "sockets:", v, 1, 16, "", &n) == 0)
		st->g->sockets = (int)n;
}

static void conf_memory(struct parser *p, struct conf_state *st, const char *key, int line,
			const char *v)
{
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	for (size_t i = 0; i < pr.n; i++) {
		const struct prop *it = &pr.items[i];
		if (it->k && !streq(it->k, "current"))
			unsupported(p, line, key, it->k);
		else
			parse_uint(p, line, it->k ? "memory: current" : "memory:", it->v, 16,
				   4194304, " of MiB", &st->g->memory_mib);
	}
}

static bool parse_uuid(const char *s, char ret[37])
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !strchr(HEX, s[i]))
			return false;
		ret[i] = s[i] >= 'A' && s[i] <= 'F' ? (char)(s[i] - 'A' + 'a') : s[i];
	}
	ret[36] = '\0';
	return true;
}

static void conf_smbios1(struct parser *p, struct conf_state *st, const char *key, int line,
			 const char *v)
{
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	for (size_t i = 0; i < pr.n; i++) {
		const struct prop *it = &pr.items[i];
		if (!it->k) {
			diag(p, line, "smbios1: %s is not a name=value property", Q(it->v));
		} else if (!streq(it->k, "uuid")) {
			unsupported(p, line, key, it->k);
		} else if (!parse_uuid(it->v, st->g->uuid)) {
			diag(p, line, "smbios1: uuid %s is not a UUID (8-4-4-4-12 hex digits)",
			     Q(it->v));
		} else {
			st->g->uuid_given = true;
			st->note->uuid_line = line;
		}
	}
}

static void boot_order(struct parser *p, int line, struct lab_guest *g, const char *v)
{
	_cleanup_free_ char *copy = xstrdup(v);
	if (!*v)
		diag(p, line, "boot: order= names no device");
	for (char *dev = copy, *next; *v && dev; dev = next) {
		next = strchr(dev, ';');
		if (next)
			*next++ = '\0';
		if (!*dev) {
			diag(p, line, "boot: empty device in order %s", Q(v));
			return;
		}
		if (find_name((const char *const *)g->boot_order, g->n_boot, dev) >= 0) {
			diag(p, line, "boot: device %s is listed twice", Q(dev));
			continue;
		}
		if (g->n_boot == ARRAY_SIZE(g->boot_order)) {
			diag(p, line, "boot: more than %zu devices", ARRAY_SIZE(g->boot_order));
			return;
		}
		g->boot_order[g->n_boot++] = xstrdup(dev);
	}
}

static void conf_boot(struct parser *p, struct conf_state *st, const char *key, int line,
		      const char *v)
{
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	for (size_t i = 0; i < pr.n; i++) {
		const struct prop *it = &pr.items[i];
		if (!it->k || streq(it->k, "legacy"))
			diag(p, line,
			     "boot: legacy boot order %s is not supported; use "
			     "order=DEVICE;DEVICE...",
			     Q(it->v));
		else if (streq(it->k, "order"))
			boot_order(p, line, st->g, it->v);
		else
			unsupported(p, line, key, it->k);
	}
}

static void conf_serial0(struct parser *p, struct conf_state *st, const char *key, int line,
			 const char *v)
{
	(void)st, (void)key;
	if (!streq(v, "socket"))
		diag(p, line,
		     "serial0: %s is not supported; only 'socket' (labvirt always gives a serial "
		     "console)",
		     Q(v));
}

static void conf_kernel(struct parser *p, struct conf_state *st, const char *key, int line,
			const char *v)
{
	(void)key, (void)line;
	free(st->g->kernel);
	st->g->kernel = lab_relative(p, v);
}

static void conf_initrd(struct parser *p, struct conf_state *st, const char *key, int line,
			const char *v)
{
	(void)key, (void)line;
	free(st->g->initrd);
	st->g->initrd = lab_relative(p, v);
}

static void conf_cmdline(struct parser *p, struct conf_state *st, const char *key, int line,
			 const char *v)
{
	(void)p, (void)key, (void)line;
	set_str(&st->g->cmdline, v);
}

/* ---- <guest>.conf: cloud-init ---- */

static void conf_ciuser(struct parser *p, struct conf_state *st, const char *key, int line,
			const char *v)
{
	(void)key;
	st->g->ci.set = true;
	if (strlen(v) > 32 || !is_all(v, LOWER DIGITS "_-") || !strchr(LOWER "_", v[0]))
		diag(p, line,
		     "ciuser: %s is not a user name (1..32 of a-z, 0-9, '_', '-', not "
		     "starting with a digit or '-')",
		     Q(v));
	set_str(&st->g->ci.user, v);
}

static void conf_cipassword(struct parser *p, struct conf_state *st, const char *key, int line,
			    const char *v)
{
	(void)p, (void)key, (void)line;
	st->g->ci.set = true;
	set_str(&st->g->ci.password, v);
}

static int hex_value(char c)
{
	return is_digit(c)                              ? c - '0'
	       : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
							: -1;
}

/* Proxmox writes sshkeys URL-encoded (a newline is %0A). */
static void conf_sshkeys(struct parser *p, struct conf_state *st, const char *key, int line,
			 const char *v)
{
	(void)key;
	st->g->ci.set = true;
	char *out = xmalloc(strlen(v) + 1), *o = out;
	for (const char *c = v; *c; c++) {
		int hi = *c == '%' ? hex_value(c[1]) : -1, lo = hi >= 0 ? hex_value(c[2]) : -1;
		if (*c == '%' && lo < 0) {
			diag(p, line,
			     "sshkeys: %s has a '%%' that is not followed by two hex digits", Q(v));
			free(out);
			return;
		}
		*o++ = *c == '%' ? (char)(hi << 4 | lo) : *c;
		c += *c == '%' ? 2 : 0;
	}
	*o = '\0';
	for (const char *l = out; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] == '\n'))
		if (!is_text(l, strcspn(l, "\n"), false) || memchr(l, '\0', strcspn(l, "\n"))) {
			diag(p, line, "sshkeys: the decoded keys are not text lines");
			free(out);
			return;
		}
	free(st->g->ci.sshkeys);
	st->g->ci.sshkeys = out;
}

static bool is_ipv6(const char *s)
{
	return strchr(s, ':') && strlen(s) <= 39 && is_all(s, HEX ":.");
}

static void conf_nameserver(struct parser *p, struct conf_state *st, const char *key, int line,
			    const char *v)
{
	(void)key;
	st->g->ci.set = true;
	_cleanup_free_ char *copy = xstrdup(v);
	char *save = NULL;
	uint32_t a;
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		if (!parse_ipv4(w, strlen(w), &a) && !is_ipv6(w))
			diag(p, line, "nameserver: %s is not an IP address", Q(w));
	set_str(&st->g->ci.nameserver, v);
}

static bool is_domain(const char *s)
{
	if (strlen(s) > 253 || s[0] == '.' || strstr(s, ".."))
		return false;
	_cleanup_free_ char *copy = xstrdup(s);
	char *save = NULL;
	for (char *l = strtok_r(copy, ".", &save); l; l = strtok_r(NULL, ".", &save))
		if (strlen(l) > 63 || !is_all(l, LOWER UPPER DIGITS "-") || l[0] == '-' ||
		    l[strlen(l) - 1] == '-')
			return false;
	return true;
}

static void conf_searchdomain(struct parser *p, struct conf_state *st, const char *key, int line,
			      const char *v)
{
	(void)key;
	st->g->ci.set = true;
	_cleanup_free_ char *copy = xstrdup(v);
	char *save = NULL;
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		if (!is_domain(w))
			diag(p, line, "searchdomain: %s is not a domain name", Q(w));
	set_str(&st->g->ci.searchdomain, v);
}

static void conf_citype(struct parser *p, struct conf_state *st, const char *key, int line,
			const char *v)
{
	(void)key;
	st->g->ci.set = true;
	if (!streq(v, "nocloud"))
		diag(p, line,
		     "citype: %s is not supported (labvirt writes a NoCloud seed or the OS's own "
		     "files: nocloud)",
		     Q(v));
}

/* cicustom's STORAGE:snippets/FILE: <dir storage path>/snippets/FILE, as on Proxmox. */
static char *snippet_path(struct parser *p, int line, const char *what, const char *v)
{
	const char *colon = strchr(v, ':');
	_cleanup_free_ char *sid = colon ? xstrndup(v, (size_t)(colon - v)) : NULL;
	const struct lab_storage *s = sid ? lab_find_storage(p->lab, sid) : NULL;
	const char *file = colon ? colon + 1 : "";
	if (!colon || !startswith(file, "snippets/") || !is_file_name(file + strlen("snippets/"))) {
		diag(p, line, "cicustom: %s %s is not STORAGE:snippets/FILE", what, Q(v));
		return NULL;
	}
	if (!s) {
		if (p->have_cfg)
			diag(p, line, "cicustom: storage %s is not defined in lab.cfg", Q(sid));
		return NULL;
	}
	if (s->type != STORAGE_DIR) {
		diag(p, line, "cicustom: storage %s is not a dir storage", Q(sid));
		return NULL;
	}
	return s->path ? xasprintf("%s/%s", s->path, file) : NULL;
}

static void conf_cicustom(struct parser *p, struct conf_state *st, const char *key, int line,
			  const char *v)
{
	struct lab_cloudinit *ci = &st->g->ci;
	ci->set = true;
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	for (size_t i = 0; i < pr.n; i++) {
		const char *k = pr.items[i].k;
		char **dst = !k                    ? NULL
			     : streq(k, "user")    ? &ci->custom_user
			     : streq(k, "network") ? &ci->custom_network
			     : streq(k, "meta")    ? &ci->custom_meta
			     : streq(k, "vendor")  ? &ci->custom_vendor
						   : NULL;
		if (!dst) {
			diag(p, line, "cicustom: %s is not user=, network=, meta= or vendor=",
			     Q(k ? k : pr.items[i].v));
			continue;
		}
		free(*dst);
		*dst = snippet_path(p, line, k, pr.items[i].v);
	}
}

static void conf_ipconfig(struct parser *p, struct conf_state *st, const char *key, int line,
			  const char *v)
{
	struct lab_cloudinit *ci = &st->g->ci;
	ci->set = true;
	struct lab_ipconfig *ic = &ci->ipconfig[ci->n_ipconfig++];
	*ic = (struct lab_ipconfig){.index = atoi(key + strlen("ipconfig")), .line = line};
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	struct subnet sn;
	uint32_t a;
	for (size_t i = 0; i < pr.n; i++) {
		const char *k = pr.items[i].k, *val = pr.items[i].v;
		if (k && streq(k, "ip")) {
			int r = streq(val, "dhcp") ? 0 : parse_cidr(val, &sn);
			if (r == -1)
				diag(p, line, "%s: ip %s is not dhcp or an IPv4 address/prefix",
				     key, Q(val));
			else if (r == -2)
				diag(p, line, "%s: prefix length of %s is out of range (8..30)",
				     key, Q(val));
			else if (!streq(val, "dhcp") && (sn.host == sn.net || sn.host == sn.bcast))
				diag(p, line, "%s: %s is not a host address", key, Q(val));
			set_str(&ic->ip, val);
		} else if (k && streq(k, "gw")) {
			if (!parse_ipv4(val, strlen(val), &a))
				diag(p, line, "%s: gw %s is not an IPv4 address", key, Q(val));
			set_str(&ic->gw, val);
		} else {
			unsupported(p, line, key, k ? k : val);
		}
	}
	if (!ic->ip)
		diag(p, line, "%s: missing ip= (dhcp or ADDRESS/PREFIX)", key);
	else if (ic->gw && streq(ic->ip, "dhcp"))
		diag(p, line, "%s: gw= needs a static ip=", key);
}

/* ---- <guest>.conf: netN ---- */

static const char *const NET_MODELS[] = {"virtio", "e1000", "rtl8139", "vmxnet3"};

static bool parse_mac(const char *s, char ret[18])
{
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2 ? s[i] != ':' : !strchr(HEX, s[i]))
			return false;
		ret[i] = s[i] >= 'A' && s[i] <= 'F' ? (char)(s[i] - 'A' + 'a') : s[i];
	}
	ret[17] = '\0';
	return true;
}

/* The first item: MODEL or MODEL=MAC. */
static void net_model(struct parser *p, int line, const char *key, struct lab_net *n,
		      const struct prop *it)
{
	const char *model = it->k ? it->k : it->v;
	char label[64];
	snprintf(label, sizeof(label), "%s: model", key);
	if (PICK(p, line, label, model, NET_MODELS) < 0)
		return;
	snprintf(n->model, sizeof(n->model), "%s", model);
	if (!it->k)
		return;
	if (!parse_mac(it->v, n->mac))
		diag(p, line, "%s: %s is not a MAC address (XX:XX:XX:XX:XX:XX)", key, Q(it->v));
	else if (strchr("13579bdf", n->mac[1]))
		diag(p, line, "%s: MAC address %s is multicast (the first octet must be even)", key,
		     Q(it->v));
	else
		n->mac_given = true;
	if (!n->mac_given)
		n->mac[0] = '\0';
}

static void net_property(struct parser *p, int line, const char *key, struct lab_net *n,
			 const struct prop *it)
{
	char label[64];
	bool firewall;
	snprintf(label, sizeof(label), "%s: %s", key, it->k);
	if (streq(it->k, "bridge")) {
		set_str(&n->bridge, it->v);
		if (p->have_cfg && !lab_find_bridge(p->lab, it->v))
			diag(p, line, "%s: bridge %s is not defined in lab.cfg", key, Q(it->v));
	} else if (streq(it->k, "firewall")) {
		parse01(p, line, label, it->v, &firewall);
	} else if (streq(it->k, "link_down")) {
		parse01(p, line, label, it->v, &n->link_down);
	} else {
		unsupported(p, line, key, it->k);
	}
}

static void conf_net(struct parser *p, struct conf_state *st, const char *key, int line,
		     const char *v)
{
	struct lab_guest *g = st->g;
	struct lab_net *n = &g->nets[g->n_nets++];
	*n = (struct lab_net){.line = line};
	net_key(key, &n->index);
	_cleanup_(props_free) struct props pr = {0};
	if (props_parse(p, line, key, v, &pr) < 0)
		return;
	const struct prop *first = &pr.items[0];
	struct prop bare = {NULL, first->v}; /* model= is Proxmox's name for the bare item */
	size_t i = 0;
	if (streq(first->k, "model"))
		first = &bare;
	if (first->k && find_name(NET_MODELS, ARRAY_SIZE(NET_MODELS), first->k) < 0)
		diag(p, line, "%s: missing model first (virtio, e1000, rtl8139 or vmxnet3)", key);
	else
		net_model(p, line, key, n, first), i++;
	for (; i < pr.n; i++)
		net_property(p, line, key, n, &pr.items[i]);
	if (!n->bridge)
		diag(p, line, "%s: missing bridge=", key);
}

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

static void conf_disk(struct parser *p, struct conf_state *st, const char *key, int line,
		      const char *v)
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

/* ---- <guest>.conf: lines ---- */

static const struct {
	const char *key;
	conf_fn *set;
} CONF_KEYS[] = {
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
    {"serial0", conf_serial0},
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
	if (indexed_key(key, "ipconfig", LAB_MAX_NETS - 1, &index))
		return conf_ipconfig;
	return NULL;
}

static void conf_line(struct parser *p, void *ctx, int no, char *line)
{
	struct conf_state *st = ctx;
	if (st->stopped || is_skipped(line))
		return;
	char *key = trim(line);
	if (key[0] == '[') {
		diag(p, no, "snapshot sections are not supported");
		st->stopped = true;
		return;
	}
	size_t klen = strspn(key, LOWER DIGITS "_-");
	if (klen == 0 || key[klen] != ':') {
		diag(p, no, "%s is not a 'key: value' line", Q(key));
		return;
	}
	key[klen] = '\0';
	const char *value = trim(key + klen + 1);
	conf_fn *set = conf_handler(key);
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

/* ---- <guest>.conf: the whole file ---- */

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
	bool imported = false;
	for (size_t i = 0; i < g->n_disks; i++)
		imported = imported || g->disks[i].import_from || g->disks[i].image;
	for (size_t i = 0; i < g->ci.n_ipconfig; i++) {
		const struct lab_ipconfig *ic = &g->ci.ipconfig[i];
		bool found = false;
		for (size_t k = 0; k < g->n_nets; k++)
			found = found || g->nets[k].index == ic->index;
		if (!found)
			diag(p, ic->line, "ipconfig%d: the guest has no net%d", ic->index,
			     ic->index);
	}
	if (g->ci.set && !imported && g->n_disks > 0)
		diag(p, 0,
		     "cloud-init keys need a disk made from an image (import-from=): labvirt "
		     "writes them into that disk before the first boot");
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
	if (g->n_disks == 0 && !g->kernel)
		diag(p, 0, "guest has no disk and no kernel to boot from");
	check_cloudinit(p, st);
	if (g->graphics && !streq(g->graphics, "none") && g->vga &&
	    (streq(g->vga, "none") || streq(g->vga, "serial0")))
		diag(p, keylines_find(&st->keys, "graphics"),
		     "graphics: '%s' needs a display, but vga is '%s'", g->graphics, g->vga);
}

/* "alpine.conf:3", or "alpine.conf" for a guest named after its file. */
static char *guest_where(const struct lab_guest *g, int line)
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
		if (!lv_is_dns_label(stem)) {
			diag(p, 0, "guest name %s (the file name) is not a DNS label " DNS_RULE,
			     Q(stem));
			return false;
		}
	}
	if (!lv_is_dns_label(g->name))
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
	for (size_t i = 0; i < ci->n_ipconfig; i++) {
		free(ci->ipconfig[i].ip);
		free(ci->ipconfig[i].gw);
	}
}

static void guest_free(struct lab_guest *g)
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
	for (size_t i = 0; i < g->n_nets; i++)
		free(g->nets[i].bridge);
	for (size_t i = 0; i < g->n_disks; i++) {
		struct lab_disk *d = &g->disks[i];
		free(d->storage);
		free(d->volume);
		free(d->path);
		free(d->import_from);
		free(d->image);
		free(d->cache);
	}
}

static struct lab_guest *guest_new(struct parser *p, const char *path)
{
	struct lab *lab = p->lab;
	lab->guests = xrealloc(lab->guests, (lab->n_guests + 1) * sizeof(*lab->guests));
	p->notes = xrealloc(p->notes, (lab->n_guests + 1) * sizeof(*p->notes));
	p->notes[lab->n_guests] = (struct guest_note){0};
	struct lab_guest *g = &lab->guests[lab->n_guests++];
	*g = (struct lab_guest){.file = xstrdup(path), .cores = 1, .sockets = 1, .memory_mib = 512};
	return g;
}

static void read_guest(struct parser *p, const char *fname)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", p->dir, fname);
	_cleanup_free_ char *stem = xstrndup(fname, strlen(fname) - strlen(".conf"));
	size_t len = 0;
	if (!is_text(fname, strlen(fname), false)) {
		/* Junk bytes must not reach messages as part of a path. */
		lv_diag_add(p->diags, p->dir, 0, "file name %s is not valid text", Q(fname));
		return;
	}
	p->file = path;
	_cleanup_free_ char *buf = read_layout_file(p, &len);
	if (buf) {
		struct lab_guest *g = guest_new(p, path);
		struct conf_state st = {.g = g, .note = &p->notes[p->lab->n_guests - 1]};
		guest_vmid(p, g, stem);
		for_each_line(p, buf, len, conf_line, &st);
		check_boot(p, &st);
		check_guest(p, &st);
		if (!check_name(p, &st, stem))
			guest_free(&p->lab->guests[--p->lab->n_guests]);
		keylines_free(&st.keys);
	}
	p->file = NULL;
}

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

/* The *.conf files of the folder, sorted; -1 (reported) when it cannot be read. */
static int list_conf_files(struct parser *p, struct names *ret)
{
	DIR *dir = opendir(p->dir);
	if (!dir) {
		lv_diag_add(p->diags, p->dir, 0, "cannot read: %s", strerror(errno));
		return -1;
	}
	for (struct dirent *e; (e = readdir(dir));) {
		if (!is_conf_file(p, e->d_name))
			continue;
		ret->v = xrealloc(ret->v, (ret->n + 1) * sizeof(*ret->v));
		ret->v[ret->n++] = xstrdup(e->d_name);
	}
	closedir(dir);
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

static void finish_lab(struct parser *p)
{
	struct lab *lab = p->lab;
	for (size_t i = 0; i < lab->n_guests; i++) {
		struct lab_guest *g = &lab->guests[i];
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

int lab_load(const char *dir, struct lab **ret_lab, struct lv_diag *diags)
{
	size_t start = diags->n;
	_cleanup_lab_ struct lab *lab = xcalloc(1, sizeof(*lab));
	_cleanup_(names_free) struct names files = {0};
	_cleanup_free_ char *abs_dir = absolute(dir);
	struct parser p = {.dir = dir, .abs_dir = abs_dir, .lab = lab, .diags = diags};
	lab->dir = xstrdup(dir);
	if (list_conf_files(&p, &files) == 0) {
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

/* ---- lookups and names ---- */

struct lab_guest *lab_find_guest(const struct lab *lab, const char *name)
{
	for (size_t i = 0; i < lab->n_guests; i++)
		if (streq(lab->guests[i].name, name))
			return &lab->guests[i];
	return NULL;
}

struct lab_storage *lab_find_storage(const struct lab *lab, const char *id)
{
	for (size_t i = 0; i < lab->n_storages; i++)
		if (streq(lab->storages[i].id, id))
			return &lab->storages[i];
	return NULL;
}

struct lab_image *lab_find_image(const struct lab *lab, const char *name)
{
	for (size_t i = 0; i < lab->n_images; i++)
		if (streq(lab->images[i].name, name))
			return &lab->images[i];
	return NULL;
}

struct lab_bridge *lab_find_bridge(const struct lab *lab, const char *name)
{
	for (size_t i = 0; i < lab->n_bridges; i++)
		if (streq(lab->bridges[i].name, name))
			return &lab->bridges[i];
	return NULL;
}

char *lab_volume_name(const struct lab *lab, const struct lab_guest *g, const struct lab_disk *d)
{
	const struct lab_storage *s = d->allocate ? lab_find_storage(lab, d->storage) : NULL;
	if (!s)
		return NULL;
	return xasprintf("%s-%s-%s%s", lab->name, g->name, d->key,
			 s->type == STORAGE_DIR ? ".qcow2" : "");
}

char *lab_network_name(const struct lab *lab, const struct lab_bridge *b)
{
	return xasprintf("labvirt-%s-%s", lab->name, b->name);
}

char *lab_disk_path(const struct lab *lab, const struct lab_guest *g, const struct lab_disk *d)
{
	if (d->empty)
		return NULL;
	if (!d->allocate)
		return xstrdup(d->path);
	const struct lab_storage *s = lab_find_storage(lab, d->storage);
	_cleanup_free_ char *name = lab_volume_name(lab, g, d);
	if (!s || !name)
		return NULL;
	if (s->type == STORAGE_DIR)
		return xasprintf("%s/%s", s->path, name);
	return xasprintf("/dev/%s/%s", s->vgname, name);
}

const char *lab_accel_name(enum lab_accel a)
{
	static const char *const names[] = {
	    [ACCEL_AUTO] = "auto", [ACCEL_KVM] = "kvm", [ACCEL_TCG] = "tcg"};
	return (size_t)a < ARRAY_SIZE(names) ? names[a] : "?";
}

const char *lab_bridge_mode_name(enum lab_bridge_mode m)
{
	static const char *const names[] = {
	    [BRIDGE_NAT] = "nat", [BRIDGE_ISOLATED] = "isolated", [BRIDGE_HOST] = "host"};
	return (size_t)m < ARRAY_SIZE(names) ? names[m] : "?";
}

const char *lab_guest_graphics(const struct lab_guest *g)
{
	if (g->graphics)
		return streq(g->graphics, "none") ? NULL : g->graphics;
	if (!g->vga || streq(g->vga, "none") || streq(g->vga, "serial0"))
		return NULL;
	return streq(g->vga, "qxl") ? "spice" : "vnc";
}
