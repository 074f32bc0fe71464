/* pvesnap.c - snapshot sections of a Proxmox guest config (pvesnap.h). */
#include <ctype.h>
#include <string.h>

#include "pvesnap.h"

struct kv {
	char *key, *value; /* value NULL: a line kept as it is (key) */
};

struct section {
	char *name;  /* NULL: the current config; "PENDING", "special:...", or a snapshot */
	char **desc; /* comment lines, without '#' */
	size_t n_desc;
	struct kv *kv;
	size_t n_kv;
};

struct conf {
	struct section *s;
	size_t n;
};

static void section_free(struct section *s)
{
	free(s->name);
	for (size_t j = 0; j < s->n_desc; j++)
		free(s->desc[j]);
	free(s->desc);
	for (size_t j = 0; j < s->n_kv; j++)
		free(s->kv[j].key), free(s->kv[j].value);
	free(s->kv);
}

static void conf_free(struct conf *c)
{
	for (size_t i = 0; i < c->n; i++)
		section_free(&c->s[i]);
	free(c->s);
	*c = (struct conf){0};
}

static struct section *add_section(struct conf *c, const char *name)
{
	c->s = xrealloc(c->s, (c->n + 1) * sizeof(*c->s));
	c->s[c->n] = (struct section){.name = name ? xstrdup(name) : NULL};
	return &c->s[c->n++];
}

static void add_kv(struct section *s, const char *key, const char *value)
{
	s->kv = xrealloc(s->kv, (s->n_kv + 1) * sizeof(*s->kv));
	s->kv[s->n_kv++] = (struct kv){xstrdup(key), value ? xstrdup(value) : NULL};
}

static void add_desc(struct section *s, const char *line)
{
	s->desc = xrealloc(s->desc, (s->n_desc + 1) * sizeof(*s->desc));
	s->desc[s->n_desc++] = xstrdup(line);
}

static void parse(const char *text, struct conf *c)
{
	struct section *cur = add_section(c, NULL);
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		_cleanup_free_ char *line = xstrndup(p, len);
		p += len + (nl != NULL);
		size_t n = strlen(line);
		while (n && isspace((unsigned char)line[n - 1]))
			line[--n] = '\0';
		if (!n)
			continue;
		if (line[0] == '[' && line[n - 1] == ']') {
			line[n - 1] = '\0';
			cur = add_section(c, line + 1);
		} else if (line[0] == '#') {
			add_desc(cur, line + 1);
		} else {
			char *colon = strchr(line, ':');
			if (!colon || colon == line ||
			    strcspn(line, " \t") < (size_t)(colon - line)) {
				add_kv(cur, line, NULL); /* not "key: value": kept as it is */
				continue;
			}
			*colon = '\0';
			const char *v = colon + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			add_kv(cur, line, v);
		}
	}
}

static struct section *find(struct conf *c, const char *name)
{
	for (size_t i = 1; i < c->n; i++)
		if (streq(c->s[i].name, name))
			return &c->s[i];
	return NULL;
}

static bool is_snapshot(const struct section *s)
{
	return s->name && !streq(s->name, "PENDING") && !startswith(s->name, "special:");
}

static const char *get(const struct section *s, const char *key)
{
	for (size_t i = 0; i < s->n_kv; i++)
		if (s->kv[i].value && streq(s->kv[i].key, key))
			return s->kv[i].value;
	return NULL;
}

static void del(struct section *s, const char *key)
{
	for (size_t i = 0; i < s->n_kv; i++)
		if (s->kv[i].value && streq(s->kv[i].key, key)) {
			free(s->kv[i].key), free(s->kv[i].value);
			memmove(&s->kv[i], &s->kv[i + 1], (s->n_kv - i - 1) * sizeof(*s->kv));
			s->n_kv--;
			return;
		}
}

static void set(struct section *s, const char *key, const char *value)
{
	for (size_t i = 0; i < s->n_kv; i++)
		if (s->kv[i].value && streq(s->kv[i].key, key)) {
			free(s->kv[i].value);
			s->kv[i].value = xstrdup(value);
			return;
		}
	add_kv(s, key, value);
}

/* "unused3" and the like */
static bool is_unused(const char *key)
{
	return startswith(key, "unused") && key[6] &&
	       strspn(key + 6, "0123456789") == strlen(key + 6);
}

/* The keys a snapshot does not copy from the config (__snapshot_copy_config). */
static bool not_copied(const char *key)
{
	return streq(key, "snapstate") || streq(key, "snaptime") || streq(key, "vmstate") ||
	       streq(key, "lock") || streq(key, "digest") || streq(key, "description") ||
	       is_unused(key);
}

static void copy_keys(struct section *to, const struct section *from)
{
	for (size_t i = 0; i < from->n_kv; i++)
		if (!from->kv[i].value || !not_copied(from->kv[i].key))
			add_kv(to, from->kv[i].key, from->kv[i].value);
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

static int cmp_section(const void *a, const void *b)
{
	const struct section *x = a, *y = b;
	/* the current config, then PENDING, special sections, snapshots, each sorted */
	int rx = !x->name                          ? 0
		 : streq(x->name, "PENDING")       ? 1
		 : startswith(x->name, "special:") ? 2
						   : 3;
	int ry = !y->name                          ? 0
		 : streq(y->name, "PENDING")       ? 1
		 : startswith(y->name, "special:") ? 2
						   : 3;
	return rx != ry ? rx - ry : rx ? strcmp(x->name, y->name) : 0;
}

/* As write_vm_config writes: per section, description lines, then keys sorted. */
static char *write_conf(struct conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	qsort(c->s, c->n, sizeof(*c->s), cmp_section);
	for (size_t i = 0; i < c->n; i++) {
		struct section *s = &c->s[i];
		if (s->name)
			fprintf(f, "\n[%s]\n", s->name);
		for (size_t j = 0; j < s->n_desc; j++)
			fprintf(f, "#%s\n", s->desc[j]);
		qsort(s->kv, s->n_kv, sizeof(*s->kv), cmp_kv);
		for (size_t j = 0; j < s->n_kv; j++)
			if (s->kv[j].value)
				fprintf(f, "%s: %s\n", s->kv[j].key, s->kv[j].value);
			else
				fprintf(f, "%s\n", s->kv[j].key);
	}
	fclose(f);
	return buf;
}

bool pvesnap_valid_name(const char *name)
{
	size_t n = strlen(name);
	if (n < 2 || n > 40 || !isalpha((unsigned char)name[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-')
			return false;
	return strcasecmp(name, "current") && strcasecmp(name, "pending") &&
	       strcasecmp(name, "vzdump");
}

/* Proxmox's encode_text for a description line: '%' and ':' and what is not printable
 * as %XX. */
static char *encode(const char *s, size_t n)
{
	char *out = xmalloc(n * 3 + 1), *w = out;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '%' || ch == ':' || ch < 0x20 || ch == 0x7f)
			w += sprintf(w, "%%%02X", ch);
		else
			*w++ = (char)ch;
	}
	*w = '\0';
	return out;
}

static char *decode(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *w = out;
	for (; *s; s++) {
		if (s[0] == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
			char hex[3] = {s[1], s[2], 0};
			*w++ = (char)strtol(hex, NULL, 16);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return out;
}

int pvesnap_list(const char *text, const char *where, struct pvesnap **ret, size_t *ret_n,
		 char **ret_parent, struct lv_error *err)
{
	(void)where;
	(void)err;
	struct conf c = {0};
	parse(text, &c);
	struct pvesnap *v = xcalloc(c.n, sizeof(*v));
	size_t n = 0;
	for (size_t i = 1; i < c.n; i++) {
		struct section *s = &c.s[i];
		if (!is_snapshot(s))
			continue;
		struct pvesnap *p = &v[n++];
		p->name = xstrdup(s->name);
		p->parent = get(s, "parent") ? xstrdup(get(s, "parent")) : NULL;
		p->snaptime = get(s, "snaptime") ? strtoll(get(s, "snaptime"), NULL, 10) : 0;
		p->vmstate = get(s, "vmstate") != NULL;
		if (s->n_desc) {
			char *buf = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&buf, &len);
			for (size_t j = 0; j < s->n_desc; j++) {
				_cleanup_free_ char *d = decode(s->desc[j]);
				fprintf(f, "%s%s", j ? "\n" : "", d);
			}
			fclose(f);
			p->description = buf;
		}
	}
	*ret_parent = get(&c.s[0], "parent") ? xstrdup(get(&c.s[0], "parent")) : NULL;
	*ret = v;
	*ret_n = n;
	conf_free(&c);
	return 0;
}

void pvesnap_free(struct pvesnap *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].name), free(s[i].parent), free(s[i].description);
	free(s);
}

char *pvesnap_take(const char *text, const char *where, const char *name, const char *description,
		   long long t, const char *vmstate, struct lv_error *err)
{
	struct conf c = {0};
	if (!pvesnap_valid_name(name)) {
		lv_fail(err, LV_EXIT_USAGE,
			"snapshot name '%s': a letter, then letters, digits, '-' and '_' (2 to 40; "
			"not current, pending or vzdump)",
			name);
		return NULL;
	}
	parse(text, &c);
	if (find(&c, name)) {
		lv_fail(err, LV_EXIT_FAIL, "%s: snapshot name '%s' already used", where, name);
		conf_free(&c);
		return NULL;
	}
	if (get(&c.s[0], "lock")) {
		lv_fail(err, LV_EXIT_FAIL, "%s: the guest is locked (%s)", where,
			get(&c.s[0], "lock"));
		conf_free(&c);
		return NULL;
	}
	struct section *s = add_section(&c, name);
	copy_keys(s, &c.s[0]);
	char stamp[32];
	snprintf(stamp, sizeof(stamp), "%lld", t);
	set(s, "snaptime", stamp);
	if (vmstate)
		set(s, "vmstate", vmstate);
	for (const char *p = description; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		_cleanup_free_ char *line = encode(p, len);
		add_desc(s, line);
		p += len + (nl != NULL);
	}
	set(&c.s[0], "parent", name);
	char *out = write_conf(&c);
	conf_free(&c);
	return out;
}

char *pvesnap_rollback(const char *text, const char *where, const char *name, struct lv_error *err)
{
	struct conf c = {0};
	parse(text, &c);
	struct section *s = find(&c, name);
	if (!s || !is_snapshot(s)) {
		lv_fail(err, LV_EXIT_FAIL, "%s: no snapshot '%s'", where, name);
		conf_free(&c);
		return NULL;
	}
	struct section *cur = &c.s[0];
	struct kv *old = cur->kv;
	size_t n_old = cur->n_kv;
	cur->kv = NULL, cur->n_kv = 0;
	copy_keys(cur, s);
	for (size_t j = 0; j < n_old; j++) { /* unused disks stay, as Proxmox keeps them */
		if (old[j].value && is_unused(old[j].key))
			add_kv(cur, old[j].key, old[j].value);
		free(old[j].key), free(old[j].value);
	}
	free(old);
	set(cur, "parent", name);
	char *out = write_conf(&c);
	conf_free(&c);
	return out;
}

char *pvesnap_delete(const char *text, const char *where, const char *name, struct lv_error *err)
{
	struct conf c = {0};
	parse(text, &c);
	struct section *s = find(&c, name);
	if (!s || !is_snapshot(s)) {
		lv_fail(err, LV_EXIT_FAIL, "%s: no snapshot '%s'", where, name);
		conf_free(&c);
		return NULL;
	}
	_cleanup_free_ char *up = get(s, "parent") ? xstrdup(get(s, "parent")) : NULL;
	size_t k = (size_t)(s - c.s);
	section_free(s);
	memmove(&c.s[k], &c.s[k + 1], (c.n - k - 1) * sizeof(*c.s));
	c.n--;
	for (size_t i = 0; i < c.n; i++) {
		const char *p = get(&c.s[i], "parent");
		if (!p || !streq(p, name))
			continue;
		if (up)
			set(&c.s[i], "parent", up);
		else
			del(&c.s[i], "parent");
	}
	char *out = write_conf(&c);
	conf_free(&c);
	return out;
}
