/* fetch.c - `labvirt fetch`: downloads and checks the catalogue images the
 * lab's guests use, ahead of `up` (which fetches what is missing itself). */
#include <string.h>

#include "cmd.h"
#include "fetch.h"

struct show {
	FILE *out;
	bool tty;
	int last_pct; /* of the bar on screen, -1 none */
};

static void show_step(void *opaque, const struct lab_image *im, const char *what)
{
	struct show *s = opaque;
	if (s->last_pct >= 0)
		fputc('\n', s->out);
	s->last_pct = -1;
	fprintf(s->out, "image %s: %s\n", im->name, what);
	fflush(s->out);
}

/* A bar on a terminal; nothing per byte otherwise (the steps say enough). */
static void show_bytes(void *opaque, const struct lab_image *im, uint64_t now, uint64_t total)
{
	struct show *s = opaque;
	if (!s->tty || !total)
		return;
	int pct = (int)(now * 100 / total);
	if (pct == s->last_pct)
		return;
	s->last_pct = pct;
	char bar[31];
	memset(bar, '#', (size_t)(pct * 30 / 100));
	memset(bar + pct * 30 / 100, '.', (size_t)(30 - pct * 30 / 100));
	bar[30] = '\0';
	fprintf(s->out, "\r%-16.16s [%s] %3d%% %6llu/%llu MiB", im->name, bar, pct,
		(unsigned long long)(now >> 20), (unsigned long long)(total >> 20));
	fflush(s->out);
}

static bool image_used(const struct lab *lab, const bool *sel, const struct lab_image *im)
{
	for (size_t i = 0; i < lab->n_guests; i++)
		for (size_t k = 0; sel[i] && k < lab->guests[i].n_disks; k++)
			if (lab->guests[i].disks[k].image &&
			    streq(lab->guests[i].disks[k].image, im->name))
				return true;
	return false;
}

int fetch_images(struct ctx *c, const bool *sel, bool all, struct lv_error *err)
{
	struct show s = {.out = c->out, .tty = isatty(fileno(c->out)), .last_pct = -1};
	struct fetch_progress pr = {.step = show_step, .bytes = show_bytes, .ctx = &s};
	for (size_t i = 0; i < c->lab->n_images; i++) {
		const struct lab_image *im = &c->lab->images[i];
		if (!all && !image_used(c->lab, sel, im))
			continue;
		int rc = fetch_image(im, &pr, err);
		if (s.last_pct >= 0)
			fputc('\n', c->out);
		s.last_pct = -1;
		if (rc < 0)
			return -1;
	}
	return 0;
}

int fetch_selected(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	_cleanup_free_ bool *sel = NULL;
	if (ctx_select(c, argc, argv, &sel, err) < 0)
		return -1;
	return fetch_images(c, sel, false, err);
}

int cmd_fetch(struct ctx *c, int argc, char **argv, struct lv_error *err)
{
	bool all = false;
	const struct verb_opt opts[] = {{"--all", &all, NULL}, {NULL, NULL, NULL}};
	int first = verb_options(argc, argv, opts, err);
	_cleanup_free_ bool *sel = NULL;
	if (first < 0 || ctx_load(c, err) < 0 ||
	    ctx_select(c, argc - first, argv + first, &sel, err) < 0)
		return -1;
	if (fetch_images(c, sel, all, err) < 0)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < c->lab->n_images; i++)
		n += all || image_used(c->lab, sel, &c->lab->images[i]);
	fprintf(c->out, "lab %s: %zu image%s ready\n", c->lab->name, n, n == 1 ? "" : "s");
	return 0;
}
