/* aplinfo.c - Proxmox's index of CT templates, aplinfo.dat, read the way
 * PVE::APLInfo's read_aplinfo_from_fh reads it (see template.h). Where that
 * code only warns (a bad version, an unknown type, an incomplete record), this
 * parser reports `file:line: what is wrong`, as `pveam update` does. */
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "template.h"

/* The fields read, by their key (any case). */
static const struct {
	const char *key;
	size_t off;
} fields[] = {
    {"package", offsetof(struct aplinfo, package)},
    {"version", offsetof(struct aplinfo, version)},
    {"type", offsetof(struct aplinfo, type)},
    {"os", offsetof(struct aplinfo, os)},
    {"section", offsetof(struct aplinfo, section)},
    {"location", offsetof(struct aplinfo, location)},
    {"infopage", offsetof(struct aplinfo, infopage)},
    {"architecture", offsetof(struct aplinfo, architecture)},
    {"maintainer", offsetof(struct aplinfo, maintainer)},
    {"description", offsetof(struct aplinfo, headline)},
    {"md5sum", offsetof(struct aplinfo, md5sum)},
    {"sha512sum", offsetof(struct aplinfo, sha512sum)},
};

/* Without them Proxmox drops the record ("found incomplete appliance records"). */
static const char *const required[] = {"Package", "Version", "Type", "OS", "Infopage"};

struct parser {
	const char *file;
	struct lv_diag *diags;
	struct aplinfo *list;
	size_t n, cap;
	struct aplinfo rec;            /* the record being read */
	int lines[ARRAY_SIZE(fields)]; /* where each field of rec was given */
	char **cont;                   /* the field continuation lines go to */
	char *ignored;                 /* continuation of a field not read here */
	bool in_record, bad;
};

static char **field_at(struct aplinfo *a, size_t i)
{
	return (char **)((char *)a + fields[i].off);
}

/* A value for a message: at most 60 bytes, control bytes as '?'. */
static char *quote(const char *s)
{
	char *q = xstrndup(s, 60);
	for (char *c = q; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return q;
}

static void rec_free(struct aplinfo *a)
{
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		free(*field_at(a, i));
	free(a->description);
	free(a->template);
	*a = (struct aplinfo){0};
}

static char *trim(const char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char)*s))
		s++, len--;
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	return xstrndup(s, len);
}

static void append(char **to, const char *text)
{
	if (!*to || !**to) {
		free(*to);
		*to = xstrdup(text);
		return;
	}
	char *joined = xasprintf("%s %s", *to, text);
	free(*to);
	*to = joined;
}

static int field_line(const struct parser *p, const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (strcasecmp(fields[i].key, key) == 0)
			return p->lines[i];
	return 0;
}

static bool all_of(const char *s, const char *set)
{
	return s[strspn(s, set)] == '\0';
}

static bool is_version(const char *v)
{
	static const char rest[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789.+-:~";
	return isdigit((unsigned char)v[0]) && all_of(v + 1, rest);
}

static bool is_hex(const char *s, size_t len)
{
	return strlen(s) == len && all_of(s, "0123456789abcdefABCDEF");
}

/* Location's basename, when it names a template (PVE::Storage's
 * vztmpl_extension_re: .tar.gz, .tar.xz, .tar.zst, .tar.bz2). */
static char *template_of_location(const char *location)
{
	const char *slash = strrchr(location, '/');
	const char *base = slash ? slash + 1 : location;
	static const char *const exts[] = {".tar.gz", ".tar.xz", ".tar.zst", ".tar.bz2"};
	size_t len = strlen(base);
	for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
		size_t e = strlen(exts[i]);
		if (len > e && strcmp(base + len - e, exts[i]) == 0)
			return xstrdup(base);
	}
	return NULL;
}

/* Without Location, Proxmox names the file OS-PACKAGE_VERSION_ARCH.tar.gz
 * ("OS-" once, when the package's name starts with it) under SECTION/. */
static void template_from_fields(struct aplinfo *a)
{
	const char *arch = a->architecture ? a->architecture : "i386";
	_cleanup_free_ char *os_dash = xasprintf("%s-", a->os);
	const char *pkg = a->package;
	if (startswith(pkg, os_dash))
		pkg += strlen(os_dash);
	a->template = xasprintf("%s-%s_%s_%s.tar.gz", a->os, pkg, a->version, arch);
	a->location = xasprintf("%s/%s", a->section, a->template);
}

static void check_values(struct parser *p)
{
	struct aplinfo *a = &p->rec;
	if (a->version && !is_version(a->version)) {
		_cleanup_free_ char *q = quote(a->version);
		lv_diag_add(p->diags, p->file, field_line(p, "version"),
			    "version '%s' is not a version", q);
	}
	if (a->type && !streq(a->type, "lxc") && !streq(a->type, "openvz")) {
		_cleanup_free_ char *q = quote(a->type);
		lv_diag_add(p->diags, p->file, field_line(p, "type"),
			    "type '%s' is not lxc or openvz", q);
	}
	if (a->md5sum && !is_hex(a->md5sum, 32)) {
		_cleanup_free_ char *q = quote(a->md5sum);
		lv_diag_add(p->diags, p->file, field_line(p, "md5sum"),
			    "md5sum '%s' is not 32 hex digits", q);
	}
	if (a->sha512sum && !is_hex(a->sha512sum, 128)) {
		_cleanup_free_ char *q = quote(a->sha512sum);
		lv_diag_add(p->diags, p->file, field_line(p, "sha512sum"),
			    "sha512sum '%s' is not 128 hex digits", q);
	}
	if (a->location && !(a->template = template_of_location(a->location))) {
		_cleanup_free_ char *q = quote(a->location);
		lv_diag_add(p->diags, p->file, field_line(p, "location"),
			    "location '%s' names no template (.tar.gz, .tar.xz, .tar.zst or "
			    ".tar.bz2)",
			    q);
	}
}

static bool complete(struct parser *p)
{
	bool ok = true;
	for (size_t i = 0; i < ARRAY_SIZE(required); i++)
		if (!field_line(p, required[i])) {
			lv_diag_add(p->diags, p->file, p->rec.line, "record lacks %s", required[i]);
			ok = false;
		}
	return ok;
}

/* The template's name is a file name in the storage's template/cache/. */
static void check_file_name(struct parser *p)
{
	const char *t = p->rec.template;
	bool bad = strchr(t, '/') != NULL;
	for (const char *c = t; *c; c++)
		bad |= (unsigned char)*c < 0x20 || *c == 0x7f;
	if (!bad)
		return;
	_cleanup_free_ char *q = quote(t);
	lv_diag_add(p->diags, p->file, p->rec.line, "template name '%s' is not a file name", q);
}

static void check_duplicate(struct parser *p)
{
	const struct aplinfo *first = aplinfo_find(p->list, p->n, p->rec.template);
	if (first) {
		_cleanup_free_ char *q = quote(p->rec.template);
		lv_diag_add(p->diags, p->file, p->rec.line,
			    "template '%s' listed twice (first at line %d)", q, first->line);
	}
}

static void end_record(struct parser *p)
{
	if (!p->in_record)
		return;
	struct aplinfo *a = &p->rec;
	size_t before = p->diags->n;
	bool news = a->package && streq(a->package, "pve-web-news");
	if (!news && !p->bad && complete(p)) {
		if (!a->section)
			a->section = xstrdup("unknown");
		check_values(p);
		if (p->diags->n == before && !a->template)
			template_from_fields(a);
		if (p->diags->n == before)
			check_file_name(p);
		if (p->diags->n == before)
			check_duplicate(p);
	}
	if (!news && !p->bad && p->diags->n == before) {
		if (p->n == p->cap) {
			p->cap = p->cap ? 2 * p->cap : 16;
			p->list = xrealloc(p->list, p->cap * sizeof(*p->list));
		}
		p->list[p->n++] = *a;
		*a = (struct aplinfo){0};
	}
	rec_free(a);
	memset(p->lines, 0, sizeof(p->lines));
	free(p->ignored);
	p->ignored = NULL;
	p->cont = NULL;
	p->in_record = p->bad = false;
}

static void key_value(struct parser *p, const char *line, size_t len, int lineno)
{
	const char *colon = memchr(line, ':', len);
	_cleanup_free_ char *key = colon ? trim(line, (size_t)(colon - line)) : NULL;
	if (!key || !*key) {
		_cleanup_free_ char *raw = xstrndup(line, len);
		_cleanup_free_ char *q = quote(raw);
		lv_diag_add(p->diags, p->file, lineno, "expected 'Key: value', got '%s'", q);
		p->bad = true;
		p->cont = NULL;
		return;
	}
	_cleanup_free_ char *value = trim(colon + 1, len - (size_t)(colon + 1 - line));
	p->cont = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		if (strcasecmp(fields[i].key, key) != 0)
			continue;
		if (p->lines[i]) {
			lv_diag_add(p->diags, p->file, lineno, "%s given twice (first at line %d)",
				    key, p->lines[i]);
			p->bad = true;
			return;
		}
		bool description = streq(fields[i].key, "description");
		if (!*value && !description) {
			lv_diag_add(p->diags, p->file, lineno, "%s has no value", key);
			p->bad = true;
			return;
		}
		p->lines[i] = lineno;
		*field_at(&p->rec, i) = steal_pointer(&value);
		p->cont = description ? &p->rec.description : field_at(&p->rec, i);
		return;
	}
	p->cont = &p->ignored;
}

static void parse_line(struct parser *p, const char *line, size_t len, int lineno)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	_cleanup_free_ char *text = trim(line, len);
	if (!*text) {
		end_record(p);
		return;
	}
	if (!p->in_record) {
		p->in_record = true;
		p->rec.line = lineno;
	}
	if (line[0] == ' ' || line[0] == '\t') {
		if (p->cont)
			append(p->cont, text);
		else if (!p->bad) {
			lv_diag_add(p->diags, p->file, lineno, "continuation line before any key");
			p->bad = true;
		}
		return;
	}
	key_value(p, line, len, lineno);
}

int aplinfo_parse(const char *text, size_t len, const char *file, struct aplinfo **ret, size_t *n,
		  struct lv_diag *diags)
{
	struct parser p = {.file = file, .diags = diags};
	size_t before = diags->n;
	int lineno = 0;
	for (size_t off = 0; off < len;) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - (text + off)) : len - off;
		parse_line(&p, text + off, l, ++lineno);
		off += l + (nl ? 1 : 0);
	}
	end_record(&p);
	if (diags->n > before) {
		aplinfo_free(p.list, p.n);
		return -1;
	}
	*ret = p.list;
	*n = p.n;
	return 0;
}

const struct aplinfo *aplinfo_find(const struct aplinfo *list, size_t n, const char *template)
{
	for (size_t i = 0; i < n; i++)
		if (streq(list[i].template, template))
			return &list[i];
	return NULL;
}

void aplinfo_free(struct aplinfo *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rec_free(&list[i]);
	free(list);
}
