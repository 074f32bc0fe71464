/* layout/text.c - text: UTF-8 and message quoting, reading files into lines, diagnostics,
 * simple values and property strings (name=value,name=value). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "layout-private.h"

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

bool is_text(const char *s, size_t n, bool tabs)
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
const char *quote(char *buf, const char *s)
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

bool is_space(char c)
{
	return c == ' ' || c == '\t';
}
bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

char *trim(char *s)
{
	while (is_space(*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

bool is_all(const char *s, const char *set)
{
	return *s && s[strspn(s, set)] == '\0';
}

void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

/* ---- messages ---- */

void __attribute__((format(printf, 3, 4))) diag(struct parser *p, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lv_diag_add(p->diags, p->file, line, "%s", msg);
}

int find_name(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (streq(names[i], s))
			return (int)i;
	return -1;
}

/* Index of v in names, or -1 after saying "LABEL 'v' is not one of a, b, c". */
int pick(struct parser *p, int line, const char *label, const char *v, const char *const *names,
	 size_t n)
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

int parse01(struct parser *p, int line, const char *label, const char *v, bool *ret)
{
	if (!streq(v, "0") && !streq(v, "1")) {
		diag(p, line, "%s %s is not 0 or 1", label, Q(v));
		return -1;
	}
	*ret = v[0] == '1';
	return 0;
}

/* A whole number in min..max (max well below UINT64_MAX / 10). */
int parse_uint(struct parser *p, int line, const char *label, const char *v, uint64_t min,
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

int keylines_find(const struct keylines *k, const char *key)
{
	for (size_t i = 0; i < k->n; i++)
		if (streq(k->v[i].key, key))
			return k->v[i].line;
	return 0;
}

void keylines_add(struct keylines *k, const char *key, int line)
{
	k->v = xrealloc(k->v, (k->n + 1) * sizeof(*k->v));
	k->v[k->n++] = (struct keyline){xstrdup(key), line};
}

void keylines_free(struct keylines *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i].key);
	free(k->v);
	*k = (struct keylines){0};
}

/* The text of p->file, or NULL (reported) when it cannot be read or is binary. */
char *read_layout_file(struct parser *p, size_t *ret_len)
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

/* Hands each line that is valid text to fn; reports the others. */
void for_each_line(struct parser *p, const char *buf, size_t len, line_fn *fn, void *ctx)
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

bool is_skipped(const char *line)
{
	while (is_space(*line))
		line++;
	return *line == '\0' || *line == '#';
}

char *lab_relative(const struct parser *p, const char *v)
{
	return v[0] == '/' ? xstrdup(v) : xasprintf("%s/%s", p->abs_dir, v);
}

/* ---- <guest>.conf: property strings ---- */

void props_free(struct props *pr)
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

int props_parse(struct parser *p, int line, const char *key, const char *v, struct props *pr)
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

void unsupported(struct parser *p, int line, const char *key, const char *prop)
{
	diag(p, line, "%s: property %s is not supported", key, Q(prop));
}

/* ---- property strings checked against a schema ---- */

const char *props_get(const struct props *pr, const char *name)
{
	for (size_t i = 0; i < pr->n; i++)
		if (pr->items[i].k && streq(pr->items[i].k, name))
			return pr->items[i].v;
	return NULL;
}

/* A number as Proxmox's schema takes it: digits, one optional fraction. */
bool is_number(const char *s)
{
	size_t n = strspn(s, DIGITS);
	if (n == 0)
		return false;
	if (s[n] == '\0')
		return true;
	return s[n] == '.' && is_all(s + n + 1, DIGITS);
}

static void check_prop(struct parser *p, int line, const char *key, const struct prop_spec *sp,
		       const char *v)
{
	char label[96];
	uint64_t n;
	bool b;
	snprintf(label, sizeof(label), "%s: %s", key, sp->name);
	switch (sp->type) {
	case PT_BOOL:
		parse01(p, line, label, v, &b);
		break;
	case PT_UINT:
		parse_uint(p, line, label, v, sp->min, sp->max, "", &n);
		break;
	case PT_NUM:
		if (!is_number(v))
			diag(p, line, "%s %s is not a number", label, Q(v));
		break;
	case PT_ENUM: {
		size_t count = 0;
		while (sp->names[count])
			count++;
		pick(p, line, label, v, sp->names, count);
		break;
	}
	case PT_SIZE:
		if (!is_proxmox_size(v))
			diag(p, line, "%s %s is not a size with a unit (e.g. 32G)", label, Q(v));
		break;
	case PT_STR:
		break;
	}
}

int props_check(struct parser *p, int line, const char *key, const struct props *pr, size_t from,
		const struct prop_spec *specs, size_t n)
{
	size_t start = p->diags->n;
	for (size_t i = from; i < pr->n; i++) {
		const struct prop *it = &pr->items[i];
		const struct prop_spec *sp = NULL;
		for (size_t k = 0; k < n && it->k && !sp; k++)
			if (streq(specs[k].name, it->k))
				sp = &specs[k];
		if (!it->k)
			diag(p, line, "%s: %s is not a name=value property", key, Q(it->v));
		else if (!sp)
			unsupported(p, line, key, it->k);
		else
			check_prop(p, line, key, sp, it->v);
	}
	return p->diags->n > start ? -1 : 0;
}

/* size= as Proxmox writes it: a number and an optional K, M, G or T. */
bool is_proxmox_size(const char *s)
{
	size_t n = strlen(s);
	if (n == 0)
		return false;
	_cleanup_free_ char *num = xstrndup(s, strchr("KMGT", s[n - 1]) ? n - 1 : n);
	return is_number(num);
}

/* A host-bound device labvirt cannot give: an error, unless the lab says to
 * start its guests without such devices (then it is left out). */
bool host_bound(struct parser *p, int line, const char *key, const char *why)
{
	if (p->lab->skip_host_devices)
		return false;
	diag(p, line,
	     "%s: %s; 'host-devices skip' in lab.cfg's lab stanza starts the guest without it", key,
	     why);
	return false;
}
