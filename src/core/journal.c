/* journal.c - the intent record's entries and its text form:
 *
 *   labvirt journal 1
 *   lab<TAB>flt
 *   pid<TAB>1234
 *   begun<TAB>volume<TAB>-<TAB>create volume flt-a/virtio0<TAB>PATH<TAB>OWNER<TAB>ID<TAB>TEMP<TAB>
 *
 * An entry is "begun" or "done", its kind, "prepare" or "-", then the step,
 * name, owner, storage, temp and uuid (empty when not set). The kind
 * "directory" (a storage directory the run made; its name an absolute path,
 * never "prepare") came later: a journal without it reads as before. */
#include <errno.h>
#include <libgen.h>
#include <string.h>

#include "journal.h"

#define JOURNAL_MAGIC "labvirt journal 1"
#define N_FIELDS      9

static const char *const kind_names[] = {
    [JOURNAL_NETWORK] = "network", [JOURNAL_BRIDGE] = "bridge", [JOURNAL_VOLUME] = "volume",
    [JOURNAL_DOMAIN] = "domain",   [JOURNAL_START] = "start",   [JOURNAL_DIR] = "directory",
    [JOURNAL_FILE] = "file",
};

const char *journal_kind_name(enum journal_kind k)
{
	return (size_t)k < ARRAY_SIZE(kind_names) ? kind_names[k] : "?";
}

static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

size_t journal_add(struct journal *j, const struct journal_entry *e)
{
	if (j->n == j->cap) {
		j->cap = j->cap ? 2 * j->cap : 16;
		j->entries = xrealloc(j->entries, j->cap * sizeof(*j->entries));
	}
	j->entries[j->n] = (struct journal_entry){
	    .kind = e->kind,
	    .done = e->done,
	    .prepare = e->prepare,
	    .step = xstrdup(e->step ? e->step : ""),
	    .name = xstrdup(e->name ? e->name : ""),
	    .owner = dup_or_null(e->owner),
	    .storage = dup_or_null(e->storage),
	    .temp = dup_or_null(e->temp),
	    .uuid = dup_or_null(e->uuid),
	};
	return j->n++;
}

static void entry_clear(struct journal_entry *e)
{
	free(e->step);
	free(e->name);
	free(e->owner);
	free(e->storage);
	free(e->temp);
	free(e->uuid);
}

void journal_drop(struct journal *j, size_t i)
{
	if (i >= j->n)
		return;
	entry_clear(&j->entries[i]);
	memmove(&j->entries[i], &j->entries[i + 1], (j->n - i - 1) * sizeof(*j->entries));
	j->n--;
}

void journal_clear(struct journal *j)
{
	for (size_t i = 0; i < j->n; i++)
		entry_clear(&j->entries[i]);
	free(j->entries);
	free(j->lab);
	*j = (struct journal){0};
}

struct buf {
	char *s;
	size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? 2 * b->cap : 256;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void put_field(struct buf *b, const char *s)
{
	put(b, "\t", 1);
	for (; s && *s; s++) {
		if (*s == '\t')
			put(b, "\\t", 2);
		else if (*s == '\n')
			put(b, "\\n", 2);
		else if (*s == '\\')
			put(b, "\\\\", 2);
		else
			put(b, s, 1);
	}
}

char *journal_format(const struct journal *j)
{
	struct buf b = {0};
	_cleanup_free_ char *head = xasprintf(JOURNAL_MAGIC "\nlab");
	put(&b, head, strlen(head));
	put_field(&b, j->lab);
	_cleanup_free_ char *pid = xasprintf("\npid\t%d\n", j->pid);
	put(&b, pid, strlen(pid));
	for (size_t i = 0; i < j->n; i++) {
		const struct journal_entry *e = &j->entries[i];
		put(&b, e->done ? "done" : "begun", e->done ? 4 : 5);
		put_field(&b, journal_kind_name(e->kind));
		put_field(&b, e->prepare ? "prepare" : "-");
		put_field(&b, e->step);
		put_field(&b, e->name);
		put_field(&b, e->owner);
		put_field(&b, e->storage);
		put_field(&b, e->temp);
		put_field(&b, e->uuid);
		put(&b, "\n", 1);
	}
	return b.s;
}

/* Splits line (changed in place) at tabs and unescapes each field. */
static size_t split(char *line, char **fields, size_t max)
{
	size_t n = 0;
	for (char *s = line; n < max;) {
		fields[n++] = s;
		char *w = s;
		for (; *s && *s != '\t'; s++) {
			if (*s == '\\' && s[1]) {
				s++;
				*w++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s;
			} else {
				*w++ = *s;
			}
		}
		bool more = *s == '\t';
		*w = '\0';
		if (!more)
			break;
		s++;
	}
	return n;
}

static int parse_entry(char **f, size_t n, struct journal *j, const char *where, int line,
		       struct lv_error *err)
{
	struct journal_entry e = {0};
	size_t k = 0;
	while (k < ARRAY_SIZE(kind_names) && !streq(f[1], kind_names[k]))
		k++;
	if (n != N_FIELDS || k == ARRAY_SIZE(kind_names) || !*f[4] ||
	    !(streq(f[2], "prepare") || streq(f[2], "-")) ||
	    ((k == JOURNAL_DIR || k == JOURNAL_FILE) &&
	     (f[4][0] != '/' || streq(f[2], "prepare"))) ||
	    (k == JOURNAL_FILE && f[7][0] != '/'))
		return lv_fail(err, LV_EXIT_FAIL, "%s:%d: not a journal entry", where, line);
	e.done = streq(f[0], "done");
	e.kind = (enum journal_kind)k;
	e.prepare = streq(f[2], "prepare");
	e.step = f[3], e.name = f[4], e.owner = f[5], e.storage = f[6], e.temp = f[7];
	e.uuid = f[8];
	journal_add(j, &e);
	return 0;
}

static int parse_line(char *s, struct journal *j, const char *where, int line, struct lv_error *err)
{
	char *f[N_FIELDS + 1];
	size_t n = split(s, f, N_FIELDS + 1);
	if (line == 1)
		return streq(s, JOURNAL_MAGIC)
			   ? 0
			   : lv_fail(err, LV_EXIT_FAIL, "%s:1: not a labvirt journal", where);
	if (n == 2 && streq(f[0], "lab") && !j->lab && *f[1]) {
		j->lab = xstrdup(f[1]);
		return 0;
	}
	char *end;
	if (n == 2 && streq(f[0], "pid")) {
		errno = 0;
		long pid = strtol(f[1], &end, 10);
		if (errno == 0 && *f[1] && !*end && pid > 0 && pid <= INT32_MAX) {
			j->pid = (int)pid;
			return 0;
		}
	}
	if (n >= 1 && (streq(f[0], "begun") || streq(f[0], "done")))
		return parse_entry(f, n, j, where, line, err);
	return lv_fail(err, LV_EXIT_FAIL, "%s:%d: not a journal line", where, line);
}

int journal_parse(const char *text, const char *where, struct journal *ret, struct lv_error *err)
{
	struct journal j = {0};
	_cleanup_free_ char *copy = xstrdup(text);
	int line = 0;
	char *save = NULL;
	/* An empty line cannot be skipped by strtok; journal_format writes none. */
	for (char *s = strtok_r(copy, "\n", &save); s; s = strtok_r(NULL, "\n", &save)) {
		if (parse_line(s, &j, where, ++line, err) < 0) {
			journal_clear(&j);
			return -1;
		}
	}
	if (line == 0 || !j.lab || !j.pid) {
		journal_clear(&j);
		return lv_fail(err, LV_EXIT_FAIL, "%s: not a complete labvirt journal", where);
	}
	*ret = j;
	return 0;
}

char *journal_dir_temp(const char *path, int pid)
{
	_cleanup_free_ char *copy = xstrdup(path);
	const char *base = strrchr(path, '/');
	return xasprintf("%s/.%s.part-%d", dirname(copy), base ? base + 1 : path, pid);
}
