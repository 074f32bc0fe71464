/* test_cloudinit.c - golden tests of the cloud-init drive's files. Each case
 * of cloudinit_cases.c has a folder DIR/CASE holding the files cloudinit_make()
 * must give, byte for byte, under their paths on the drive, plus `volume-id`
 * (the label), or `expected.err` (the exact error) for a case that must fail.
 * The folder from-lab/ checks cloudinit_input_from_guest(): the guests of the
 * lab from-lab/lab, with from-lab/resolv.conf as the host's, must give the files
 * under from-lab/expected/GUEST/.
 * With LABVIRT_REGENERATE=1 the expected files are rewritten instead; read the
 * diff with care. See tests/cloudinit/README.md. */
#include <errno.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>

#include "cloudinit_cases.h"
#include "layout.h"

struct run {
	bool regenerate;
	int passed, failed;
	const char *name;
	bool ok;
};

static void __attribute__((format(printf, 2, 3))) fail(struct run *r, const char *fmt, ...)
{
	va_list ap;
	printf("FAIL %s: ", r->name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	r->ok = false;
}

static int mkdir_parents(const char *path)
{
	_cleanup_free_ char *p = xstrdup(path);
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return 0;
}

/* The first line where want and got differ. */
static void show_diff(const char *want, size_t wlen, const char *got, size_t glen)
{
	size_t i = 0, line = 1, start = 0;
	for (; i < wlen && i < glen && want[i] == got[i]; i++)
		if (want[i] == '\n')
			line++, start = i + 1;
	printf("@@ line %zu @@\n-%.*s\n+%.*s\n", line, (int)strcspn(want + start, "\n"),
	       want + start, (int)strcspn(got + start, "\n"), got + start);
}

static void compare(struct run *r, const char *path, const char *got, size_t glen)
{
	size_t wlen = 0;
	_cleanup_free_ char *want = lv_read_file(path, &wlen);
	if (want && wlen == glen && memcmp(want, got, glen) == 0)
		return;
	if (r->regenerate) {
		struct lv_error err = {0};
		if (mkdir_parents(path) < 0 ||
		    lv_write_file_atomic(path, got, glen, 0644, &err) < 0)
			fail(r, "cannot write %s: %s", path,
			     err.msg[0] ? err.msg : strerror(errno));
		else
			printf("regenerated %s\n", path);
		return;
	}
	if (!want) {
		fail(r, "cannot read %s: %s", path, strerror(errno));
		return;
	}
	fail(r, "%s differs", path);
	show_diff(want, wlen, got, glen);
}

/* Counting the files under a case's folder (nftw has no user pointer). */
static _Thread_local size_t counted;

static int count_file(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)path, (void)sb, (void)ftw;
	counted += type == FTW_F;
	return 0;
}

static void run_case(struct run *r, const char *dir, const struct ci_case *c)
{
	struct lv_error err = {0};
	struct ci_drive d = {0};
	_cleanup_free_ char *cdir = xasprintf("%s/%s", dir, c->name);
	size_t expected_files;
	if (cloudinit_make(&c->in, &d, &err) < 0) {
		_cleanup_free_ char *text = xasprintf("%s\n", err.msg);
		_cleanup_free_ char *path = xasprintf("%s/expected.err", cdir);
		compare(r, path, text, strlen(text));
		expected_files = 1;
	} else {
		_cleanup_free_ char *label = xasprintf("%s\n", d.volume_id);
		_cleanup_free_ char *lpath = xasprintf("%s/volume-id", cdir);
		compare(r, lpath, label, strlen(label));
		for (size_t i = 0; i < d.n_files; i++) {
			_cleanup_free_ char *path = xasprintf("%s/%s", cdir, d.files[i].path);
			compare(r, path, d.files[i].data, d.files[i].len);
		}
		expected_files = d.n_files + 1;
		cloudinit_drive_free(&d);
	}
	counted = 0;
	nftw(cdir, count_file, 8, FTW_PHYS);
	if (counted != expected_files)
		fail(r, "%s holds %zu files, not %zu", cdir, counted, expected_files);
}

/* Only opennebula writes netN's mtu=, a citype the layout does not take: the
 * input is checked instead. */
static void check_mtus(struct run *r, const struct lab_guest *g, const struct ci_input *in)
{
	for (size_t i = 0; i < in->n_nets; i++)
		for (size_t k = 0; k < g->n_nets; k++) {
			const struct ci_net *c = &in->nets[i];
			const struct lab_net *n = &g->nets[k];
			if (n->index == c->index &&
			    (n->mtu ? !c->mtu || atoi(c->mtu) != n->mtu : !!c->mtu))
				fail(r, "%s: net%d's mtu is %s, not %d", g->name, c->index,
				     c->mtu ? c->mtu : "(null)", n->mtu);
		}
}

static void run_guest(struct run *r, const struct lab_guest *g, const char *resolv)
{
	struct lv_error err = {0};
	_cleanup_(cloudinit_guest_input_freep) struct ci_guest_input *gi = NULL;
	struct ci_drive d = {0};
	if (cloudinit_input_from_guest(g, resolv, &gi, &err) < 0 ||
	    cloudinit_make(&gi->in, &d, &err) < 0) {
		fail(r, "%s: %s", g->name, err.msg);
		return;
	}
	check_mtus(r, g, &gi->in);
	for (size_t i = 0; i < d.n_files; i++) {
		_cleanup_free_ char *path =
		    xasprintf("from-lab/expected/%s/%s", g->name, d.files[i].path);
		compare(r, path, d.files[i].data, d.files[i].len);
	}
	cloudinit_drive_free(&d);
}

/* Runs in DIR: the lab's storage path is relative to it. */
static void run_lab(struct run *r, const char *dir)
{
	r->name = "from-lab";
	r->ok = true;
	struct lv_diag diags = {0};
	_cleanup_lab_ struct lab *lab = NULL;
	_cleanup_free_ char *resolv = NULL;
	if (chdir(dir) < 0 || !(resolv = lv_read_file("from-lab/resolv.conf", NULL))) {
		fail(r, "cannot read %s/from-lab/resolv.conf: %s", dir, strerror(errno));
	} else if (lab_load("from-lab/lab", &lab, &diags) < 0) {
		for (size_t i = 0; i < diags.n; i++)
			fail(r, "%s", diags.lines[i]);
	} else {
		for (size_t i = 0; i < lab->n_guests; i++)
			run_guest(r, &lab->guests[i], resolv);
	}
	lv_diag_free(&diags);
	r->ok ? r->passed++ : r->failed++;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_cloudinit DIR\n");
		return 2;
	}
	const char *regen = getenv("LABVIRT_REGENERATE");
	struct run r = {.regenerate = regen && streq(regen, "1")};
	for (size_t i = 0; i < ci_n_cases; i++) {
		r.name = ci_cases[i].name;
		r.ok = true;
		run_case(&r, argv[1], &ci_cases[i]);
		r.ok ? r.passed++ : r.failed++;
	}
	run_lab(&r, argv[1]);
	printf("%d passed, %d failed\n", r.passed, r.failed);
	return r.failed ? 1 : 0;
}
