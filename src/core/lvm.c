/* lvm.c - lvm2's commands and the parsing of their JSON reports (see lvm.h).
 * A small JSON reader of our own: the reports are small and their shape is
 * fixed, and the core links no JSON library. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "lvm.h"

/* ---- a small JSON reader ---- */

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ };

struct json {
	enum json_type type;
	char *text;          /* JSON_STR: the string; JSON_NUM, JSON_BOOL: as written */
	char **keys;         /* JSON_OBJ */
	struct json **items; /* JSON_ARR, JSON_OBJ */
	size_t n;
};

struct json_reader {
	const char *p;
	const char *err; /* first problem, or NULL */
};

#define JSON_MAX_DEPTH 16

static void json_free(struct json *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++) {
		if (j->keys)
			free(j->keys[i]);
		json_free(j->items[i]);
	}
	free(j->keys);
	free(j->items);
	free(j->text);
	free(j);
}

static void json_freep(struct json **j)
{
	json_free(*j);
}

static void json_skip_space(struct json_reader *r)
{
	while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')
		r->p++;
}

static struct json *json_fail(struct json_reader *r, const char *why)
{
	if (!r->err)
		r->err = why;
	return NULL;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads a string after its opening quote. \uXXXX below 0x80 is kept; others
 * become '?' (lvm2 names and tags are ASCII). */
static char *json_string(struct json_reader *r)
{
	size_t cap = 32, len = 0;
	_cleanup_free_ char *s = xmalloc(cap);
	for (;;) {
		char c = *r->p++;
		if (c == '"')
			break;
		if (c == '\0' || (unsigned char)c < 0x20) {
			r->err = r->err ? r->err : "unterminated string";
			return NULL;
		}
		if (c == '\\') {
			char e = *r->p++;
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			const char *at = e ? strchr(from, e) : NULL;
			if (at) {
				c = to[at - from];
			} else if (e == 'u') {
				int v = 0;
				for (int i = 0; i < 4; i++) {
					int d = hex_digit(r->p[i]);
					if (d < 0) {
						r->err = r->err ? r->err : "bad \\u escape";
						return NULL;
					}
					v = v * 16 + d;
				}
				r->p += 4;
				c = v > 0 && v < 0x80 ? (char)v : '?';
			} else {
				r->err = r->err ? r->err : "bad escape in string";
				return NULL;
			}
		}
		if (len + 2 > cap)
			s = xrealloc(s, cap *= 2);
		s[len++] = c;
	}
	s[len] = '\0';
	return steal_pointer(&s);
}

static struct json *json_value(struct json_reader *r, int depth);

static struct json *json_new(enum json_type type)
{
	struct json *j = xcalloc(1, sizeof(*j));
	j->type = type;
	return j;
}

static void json_push(struct json *j, char *key, struct json *item)
{
	j->items = xrealloc(j->items, (j->n + 1) * sizeof(*j->items));
	if (j->type == JSON_OBJ)
		j->keys = xrealloc(j->keys, (j->n + 1) * sizeof(*j->keys));
	if (j->keys)
		j->keys[j->n] = key;
	j->items[j->n++] = item;
}

/* An array or object after its opening bracket. */
static struct json *json_container(struct json_reader *r, enum json_type type, int depth)
{
	char close = type == JSON_ARR ? ']' : '}';
	_cleanup_(json_freep) struct json *j = json_new(type);
	json_skip_space(r);
	if (*r->p == close) {
		r->p++;
		return steal_pointer(&j);
	}
	for (;;) {
		_cleanup_free_ char *key = NULL;
		json_skip_space(r);
		if (type == JSON_OBJ) {
			if (*r->p++ != '"' || !(key = json_string(r)))
				return json_fail(r, "expected a key");
			json_skip_space(r);
			if (*r->p++ != ':')
				return json_fail(r, "expected ':'");
		}
		struct json *item = json_value(r, depth + 1);
		if (!item)
			return NULL;
		json_push(j, steal_pointer(&key), item);
		json_skip_space(r);
		char c = *r->p++;
		if (c == close)
			return steal_pointer(&j);
		if (c != ',')
			return json_fail(r, type == JSON_ARR ? "expected ',' or ']'"
							     : "expected ',' or '}'");
	}
}

static struct json *json_scalar(struct json_reader *r)
{
	static const char *const words[] = {"true", "false", "null"};
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		size_t n = strlen(words[i]);
		if (strncmp(r->p, words[i], n) == 0) {
			struct json *j = json_new(i < 2 ? JSON_BOOL : JSON_NULL);
			j->text = xstrndup(r->p, n);
			r->p += n;
			return j;
		}
	}
	size_t n = strspn(r->p, "-+0123456789.eE");
	if (n == 0)
		return json_fail(r, "unexpected character");
	struct json *j = json_new(JSON_NUM);
	j->text = xstrndup(r->p, n);
	r->p += n;
	return j;
}

static struct json *json_value(struct json_reader *r, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return json_fail(r, "nested too deeply");
	json_skip_space(r);
	char c = *r->p;
	if (c == '{' || c == '[') {
		r->p++;
		return json_container(r, c == '{' ? JSON_OBJ : JSON_ARR, depth);
	}
	if (c == '"') {
		r->p++;
		char *s = json_string(r);
		if (!s)
			return NULL;
		struct json *j = json_new(JSON_STR);
		j->text = s;
		return j;
	}
	return json_scalar(r);
}

static int json_parse(const char *text, const char *what, struct json **ret, struct lv_error *err)
{
	struct json_reader r = {.p = text ? text : ""};
	_cleanup_(json_freep) struct json *j = json_value(&r, 0);
	if (j) {
		json_skip_space(&r);
		if (*r.p)
			r.err = "trailing text after the report";
	}
	if (!j || r.err)
		return lv_fail(err, LV_EXIT_FAIL, "cannot parse %s: %s at offset %zu", what,
			       r.err ? r.err : "empty", (size_t)(r.p - (text ? text : "")));
	*ret = steal_pointer(&j);
	return 0;
}

static const struct json *json_get(const struct json *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJ)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (streq(obj->keys[i], key))
			return obj->items[i];
	return NULL;
}

/* ---- lvm2 reports ---- */

/* Collects the rows of `section` ("lv", "vg") of every report in the output. */
static int report_rows(const struct json *root, const char *section, const char *what,
		       const struct json ***ret_rows, size_t *ret_n, struct lv_error *err)
{
	const struct json *reports = json_get(root, "report");
	if (!reports || reports->type != JSON_ARR)
		return lv_fail(err, LV_EXIT_FAIL, "cannot parse %s: no \"report\" list", what);
	const struct json **rows = NULL;
	size_t n = 0;
	for (size_t i = 0; i < reports->n; i++) {
		const struct json *sec = json_get(reports->items[i], section);
		if (!sec || sec->type != JSON_ARR) {
			free(rows);
			return lv_fail(err, LV_EXIT_FAIL, "cannot parse %s: no \"%s\" list", what,
				       section);
		}
		for (size_t k = 0; k < sec->n; k++) {
			rows = xrealloc(rows, (n + 1) * sizeof(*rows));
			rows[n++] = sec->items[k];
		}
	}
	*ret_rows = rows;
	*ret_n = n;
	return 0;
}

/* A field of a row: present, and a string (lvm2 reports every field as one). */
static const char *field(const struct json *row, const char *key, const char *what,
			 struct lv_error *err)
{
	const struct json *v = json_get(row, key);
	if (!v || v->type != JSON_STR) {
		lv_fail(err, LV_EXIT_FAIL, "cannot parse %s: row without field '%s'", what, key);
		return NULL;
	}
	return v->text;
}

static int field_name(const struct json *row, const char *key, char *dst, size_t len,
		      const char *what, struct lv_error *err)
{
	const char *s = field(row, key, what, err);
	if (!s)
		return -1;
	if (strlen(s) >= len)
		return lv_fail(err, LV_EXIT_FAIL, "cannot parse %s: %s '%.40s...' is too long",
			       what, key, s);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* Bytes (--units b --nosuffix): digits only; "" is 0. */
static int field_bytes(const struct json *row, const char *key, uint64_t *dst, const char *what,
		       struct lv_error *err)
{
	const char *s = field(row, key, what, err);
	if (!s)
		return -1;
	uint64_t v = 0;
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9' || v > (UINT64_MAX - 9) / 10)
			return lv_fail(err, LV_EXIT_FAIL,
				       "cannot parse %s: %s '%.40s' is not a number of bytes", what,
				       key, s);
		v = v * 10 + (uint64_t)(*c - '0');
	}
	*dst = v;
	return 0;
}

/* A percentage "12.34"; "" (not a pool or not active) is -1. */
static int field_percent(const struct json *row, const char *key, double *dst, const char *what,
			 struct lv_error *err)
{
	const char *s = field(row, key, what, err);
	if (!s)
		return -1;
	if (!*s) {
		*dst = -1;
		return 0;
	}
	uint64_t whole = 0, frac = 0, scale = 1;
	const char *c = s;
	for (; *c >= '0' && *c <= '9' && whole < 1000; c++)
		whole = whole * 10 + (uint64_t)(*c - '0');
	if (*c == '.')
		for (c++; *c >= '0' && *c <= '9' && scale < 1000000; c++)
			frac = frac * 10 + (uint64_t)(*c - '0'), scale *= 10;
	if (*c || c == s || whole > 100)
		return lv_fail(err, LV_EXIT_FAIL, "cannot parse %s: %s '%.40s' is not a percentage",
			       what, key, s);
	*dst = (double)whole + (double)frac / (double)scale;
	return 0;
}

static int lv_from_row(const struct json *row, struct lvm_lv *lv, struct lv_error *err)
{
	const char *w = "lvs report";
	if (field_name(row, "lv_name", lv->name, sizeof(lv->name), w, err) < 0 ||
	    field_name(row, "vg_name", lv->vg, sizeof(lv->vg), w, err) < 0 ||
	    field_bytes(row, "lv_size", &lv->size, w, err) < 0 ||
	    field_name(row, "segtype", lv->segtype, sizeof(lv->segtype), w, err) < 0 ||
	    field_name(row, "pool_lv", lv->pool, sizeof(lv->pool), w, err) < 0 ||
	    field_name(row, "origin", lv->origin, sizeof(lv->origin), w, err) < 0 ||
	    field_percent(row, "data_percent", &lv->data_pct, w, err) < 0 ||
	    field_percent(row, "metadata_percent", &lv->meta_pct, w, err) < 0 ||
	    field_bytes(row, "lv_metadata_size", &lv->meta_size, w, err) < 0)
		return -1;
	const char *tags = field(row, "lv_tags", w, err);
	if (!tags)
		return -1;
	lv->tags = xstrdup(tags);
	return 0;
}

int lvm_parse_lvs(const char *json, struct lvm_lv **ret_lvs, size_t *ret_n, struct lv_error *err)
{
	_cleanup_(json_freep) struct json *root = NULL;
	_cleanup_free_ const struct json **rows = NULL;
	size_t n = 0;
	if (json_parse(json, "lvs report", &root, err) < 0 ||
	    report_rows(root, "lv", "lvs report", &rows, &n, err) < 0)
		return -1;
	struct lvm_lv *lvs = xcalloc(n, sizeof(*lvs));
	for (size_t i = 0; i < n; i++) {
		if (lv_from_row(rows[i], &lvs[i], err) < 0) {
			lvm_lvs_free(lvs, n);
			return -1;
		}
	}
	*ret_lvs = lvs;
	*ret_n = n;
	return 0;
}

int lvm_parse_vgs(const char *json, struct lvm_vg **ret_vgs, size_t *ret_n, struct lv_error *err)
{
	_cleanup_(json_freep) struct json *root = NULL;
	_cleanup_free_ const struct json **rows = NULL;
	size_t n = 0;
	const char *w = "vgs report";
	if (json_parse(json, w, &root, err) < 0 || report_rows(root, "vg", w, &rows, &n, err) < 0)
		return -1;
	_cleanup_free_ struct lvm_vg *vgs = xcalloc(n, sizeof(*vgs));
	for (size_t i = 0; i < n; i++) {
		struct lvm_vg *vg = &vgs[i];
		if (field_name(rows[i], "vg_name", vg->name, sizeof(vg->name), w, err) < 0 ||
		    field_bytes(rows[i], "vg_size", &vg->size, w, err) < 0 ||
		    field_bytes(rows[i], "vg_free", &vg->free, w, err) < 0 ||
		    field_bytes(rows[i], "vg_extent_size", &vg->extent, w, err) < 0)
			return -1;
	}
	*ret_vgs = steal_pointer(&vgs);
	*ret_n = n;
	return 0;
}

void lvm_lvs_free(struct lvm_lv *lvs, size_t n)
{
	for (size_t i = 0; lvs && i < n; i++)
		free(lvs[i].tags);
	free(lvs);
}

const struct lvm_lv *lvm_find_lv(const struct lvm_lv *lvs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (streq(lvs[i].name, name))
			return &lvs[i];
	return NULL;
}

bool lvm_lv_has_tag(const struct lvm_lv *lv, const char *tag)
{
	size_t len = strlen(tag);
	for (const char *t = lv->tags; t && *t;) {
		size_t n = strcspn(t, ",");
		if (n == len && strncmp(t, tag, n) == 0)
			return true;
		t += n + (t[n] == ',');
	}
	return false;
}

/* ---- qemu-img info ---- */

int lvm_parse_image_info(const char *json, struct lvm_image *ret, struct lv_error *err)
{
	_cleanup_(json_freep) struct json *root = NULL;
	const char *w = "qemu-img info";
	if (json_parse(json, w, &root, err) < 0)
		return -1;
	const struct json *fmt = json_get(root, "format");
	const struct json *size = json_get(root, "virtual-size");
	if (!fmt || fmt->type != JSON_STR || !*fmt->text || strlen(fmt->text) >= 16)
		return lv_fail(err, LV_EXIT_FAIL, "cannot parse %s: no \"format\"", w);
	if (!size || size->type != JSON_NUM || size->text[strspn(size->text, "0123456789")])
		return lv_fail(err, LV_EXIT_FAIL, "cannot parse %s: no \"virtual-size\"", w);
	errno = 0;
	uint64_t vs = strtoull(size->text, NULL, 10);
	if (errno)
		return lv_fail(err, LV_EXIT_FAIL, "cannot parse %s: virtual-size out of range", w);
	const struct json *spec = json_get(json_get(root, "format-specific"), "data");
	struct lvm_image img = {
	    .virtual_size = vs,
	    .backing = json_get(root, "backing-filename") != NULL,
	    .data_file = json_get(spec, "data-file") != NULL,
	};
	snprintf(img.format, sizeof(img.format), "%s", fmt->text);
	*ret = img;
	return 0;
}

/* ---- commands ---- */

static char **argv_new(const char *const *args)
{
	size_t n = 0;
	while (args[n])
		n++;
	char **v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = xstrdup(args[i]);
	return v;
}

void lvm_argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

#define REPORT "--reportformat", "json", "--units", "b", "--nosuffix"

char **lvm_cmd_vgs(void)
{
	return argv_new((const char *[]){"vgs", REPORT, "-o", LVM_VG_FIELDS, NULL});
}

char **lvm_cmd_lvs(const char *vg)
{
	return argv_new((const char *[]){"lvs", REPORT, "-o", LVM_LV_FIELDS, vg, NULL});
}

char **lvm_cmd_create_thin(const char *vg, const char *pool, const char *name, uint64_t size,
			   const char *tag)
{
	char bytes[32];
	snprintf(bytes, sizeof(bytes), "%" PRIu64 "b", size);
	_cleanup_free_ char *thin = xasprintf("%s/%s", vg, pool);
	return argv_new((const char *[]){"lvcreate", "-q", "-T", thin, "-V", bytes, "-n", name,
					 "--addtag", tag, NULL});
}

char **lvm_cmd_create_thick(const char *vg, const char *name, uint64_t size, const char *tag)
{
	char bytes[32];
	snprintf(bytes, sizeof(bytes), "%" PRIu64 "b", size);
	return argv_new((const char *[]){"lvcreate", "-q", "-aly", "-Wy", "--yes", "-L", bytes,
					 "-n", name, "--addtag", tag, vg, NULL});
}

char **lvm_cmd_activate(const char *vg, const char *name)
{
	_cleanup_free_ char *lv = xasprintf("%s/%s", vg, name);
	return argv_new((const char *[]){"lvchange", "-q", "-aly", lv, NULL});
}

char **lvm_cmd_snapshot(const char *vg, const char *origin, const char *name, const char *tag)
{
	_cleanup_free_ char *o = xasprintf("%s/%s", vg, origin);
	return argv_new(
	    (const char *[]){"lvcreate", "-q", "-s", "-kn", "-n", name, "--addtag", tag, o, NULL});
}

char **lvm_cmd_extend(const char *vg, const char *name, uint64_t size)
{
	char bytes[32];
	snprintf(bytes, sizeof(bytes), "%" PRIu64 "b", size);
	_cleanup_free_ char *lv = xasprintf("%s/%s", vg, name);
	return argv_new((const char *[]){"lvextend", "-q", "-L", bytes, lv, NULL});
}

char **lvm_cmd_remove(const char *vg, const char *name)
{
	_cleanup_free_ char *lv = xasprintf("%s/%s", vg, name);
	return argv_new((const char *[]){"lvremove", "-q", "-f", lv, NULL});
}

char **lvm_cmd_image_info(const char *image, const char *format)
{
	if (format)
		return argv_new((const char *[]){"qemu-img", "info", "-f", format, "--output=json",
						 image, NULL});
	return argv_new((const char *[]){"qemu-img", "info", "--output=json", image, NULL});
}

char **lvm_cmd_image_write(const char *image, const char *format, const char *dev)
{
	/* -t none: O_DIRECT, so that a full pool's write errors reach qemu-img
	 * instead of being lost in the page cache. */
	return argv_new((const char *[]){"qemu-img", "convert", "-q", "-t", "none", "-n",
					 "--target-is-zero", "-f", format, "-O", "raw", image, dev,
					 NULL});
}

char **lvm_cmd_image_write_all(const char *image, const char *format, const char *dev)
{
	/* No --target-is-zero: qemu-img then writes the image's zero areas too. */
	return argv_new((const char *[]){"qemu-img", "convert", "-q", "-t", "none", "-n", "-f",
					 format, "-O", "raw", image, dev, NULL});
}

/* ---- names and figures ---- */

char *lvm_base_name(const char *lab, const char *image_key)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 */
	for (const unsigned char *c = (const unsigned char *)image_key; *c; c++)
		h = (h ^ *c) * 0x100000001b3ULL;
	return xasprintf("%s-base-%016" PRIx64, lab, h);
}

void lvm_size_text(uint64_t bytes, char buf[32])
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
	if (bytes < 1024) {
		snprintf(buf, 32, "%" PRIu64 " B", bytes);
		return;
	}
	double v = (double)bytes / 1024;
	size_t u = 0;
	while (v >= 1024 && u + 1 < ARRAY_SIZE(units))
		v /= 1024, u++;
	snprintf(buf, 32, "%.1f %s", v, units[u]);
}
