/* test_golden.c - golden tests of the pure core. Each case folder C in DIR holds
 * a lab folder C/lab and what reading it must give: C/expected.err (the exact
 * diagnostics), C/expected.parse (a dump of the parsed lab), C/expected/ (the
 * rendered XML). With LABVIRT_REGENERATE=1 the expected files are rewritten
 * instead; read the diff with care. See tests/golden/README.md. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "layout.h"
#include "render.h"

struct run {
	bool regenerate;
	int passed, failed;
	const char *name; /* the case being run */
	bool ok;          /* no failure in it so far */
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

static bool exists(const char *path, bool dir)
{
	struct stat sb;
	return stat(path, &sb) == 0 && (dir ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode));
}

/* ---- comparing ---- */

static size_t line_len(const char *s)
{
	return strcspn(s, "\n");
}

/* Shows the first line where want and got differ. */
static void show_diff(const char *path, const char *want, const char *got)
{
	int no = 1;
	while (*want && *got && line_len(want) == line_len(got) &&
	       strncmp(want, got, line_len(want)) == 0 &&
	       want[line_len(want)] == got[line_len(got)]) {
		want += line_len(want) + (want[line_len(want)] == '\n');
		got += line_len(got) + (got[line_len(got)] == '\n');
		no++;
	}
	printf("--- %s\n+++ actual\n@@ line %d @@\n", path, no);
	printf("-%.*s%s\n", (int)line_len(want), want, *want ? "" : "(end of file)");
	printf("+%.*s%s\n", (int)line_len(got), got, *got ? "" : "(end of file)");
}

/* Checks got against the file at path, or rewrites the file when regenerating. */
static void compare(struct run *r, const char *path, const char *got)
{
	_cleanup_free_ char *want = lv_read_file(path, NULL);
	if (want && streq(want, got))
		return;
	if (r->regenerate) {
		struct lv_error err = {0};
		if (lv_write_file_atomic(path, got, strlen(got), 0644, &err) < 0)
			fail(r, "%s", err.msg);
		else
			printf("regenerated %s\n", path);
		return;
	}
	if (!want) {
		fail(r, "cannot read %s: %s", path, strerror(errno));
		return;
	}
	fail(r, "%s differs", path);
	show_diff(path, want, got);
}

static char *join_diags(const struct lv_diag *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	for (size_t i = 0; i < d->n; i++)
		fprintf(f, "%s\n", d->lines[i]);
	fclose(f);
	return buf;
}

/* ---- the dump of a parsed lab (expected.parse) ---- */

/* Paths in the dump are shown relative to the cases folder (the working
 * directory), so that the expected files do not depend on the checkout. */
static const char *str(const char *s)
{
	static char cwd[4096];
	if (!cwd[0] && !getcwd(cwd, sizeof(cwd) - 1))
		cwd[0] = '\0';
	size_t n = strlen(cwd);
	if (s && n && strncmp(s, cwd, n) == 0 && s[n] == '/')
		return s + n + 1;
	return s ? s : "(null)";
}

static void dump_storages(FILE *f, const struct lab *lab)
{
	for (size_t i = 0; i < lab->n_storages; i++) {
		const struct lab_storage *s = &lab->storages[i];
		fprintf(f, "storage.%s.type=%s\n", s->id, lab_storage_type_name(s));
		fprintf(f, "storage.%s.path=%s\n", s->id, str(s->path));
		fprintf(f, "storage.%s.vgname=%s\n", s->id, str(s->vgname));
		fprintf(f, "storage.%s.thinpool=%s\n", s->id, str(s->thinpool));
		if (s->type == STORAGE_LVM) {
			fprintf(f, "storage.%s.saferemove=%d\n", s->id, s->saferemove);
			fprintf(f, "storage.%s.base=%s\n", s->id, str(s->base));
		}
		if (s->type == STORAGE_BTRFS)
			fprintf(f, "storage.%s.nocow=%d\n", s->id, s->nocow);
		fprintf(f, "storage.%s.line=%d\n", s->id, s->line);
	}
}

static void dump_bridges(FILE *f, const struct lab *lab)
{
	for (size_t i = 0; i < lab->n_bridges; i++) {
		const struct lab_bridge *b = &lab->bridges[i];
		_cleanup_free_ char *network = lab_network_name(lab, b);
		fprintf(f, "bridge.%s.mode=%s\n", b->name, lab_bridge_mode_name(b->mode));
		fprintf(f, "bridge.%s.address=%s\n", b->name, str(b->address));
		fprintf(f, "bridge.%s.dhcp_start=%s\n", b->name, str(b->dhcp_start));
		fprintf(f, "bridge.%s.dhcp_end=%s\n", b->name, str(b->dhcp_end));
		fprintf(f, "bridge.%s.network_name=%s\n", b->name, network);
		fprintf(f, "bridge.%s.line=%d\n", b->name, b->line);
	}
}

/* The image catalogue and cloud-init keys are shown only where a lab has them. */
static void dump_images(FILE *f, const struct lab *lab)
{
	for (size_t i = 0; i < lab->n_images; i++) {
		const struct lab_image *im = &lab->images[i];
		const char *n = im->name;
		fprintf(f, "image.%s.url=%s\n", n, str(im->url));
		fprintf(f, "image.%s.sum_type=%s\n", n,
			im->sum_type == SUM_SHA256 ? "sha256" : "sha512");
		fprintf(f, "image.%s.sum=%s\n", n, str(im->sum));
		fprintf(f, "image.%s.sum_url=%s\n", n, str(im->sum_url));
		fprintf(f, "image.%s.format=%s\n", n, str(im->format));
		fprintf(f, "image.%s.storage=%s\n", n, str(im->storage));
		fprintf(f, "image.%s.file=%s\n", n, str(im->file));
		fprintf(f, "image.%s.path=%s\n", n, str(im->path));
		fprintf(f, "image.%s.line=%d\n", n, im->line);
	}
}

static void dump_cloudinit(FILE *f, const struct lab_guest *g)
{
	const struct lab_cloudinit *ci = &g->ci;
	const char *p = g->name;
	if (!ci->set)
		return;
	fprintf(f, "guest.%s.ci.user=%s\n", p, str(ci->user));
	fprintf(f, "guest.%s.ci.password=%s\n", p, str(ci->password));
	fprintf(f, "guest.%s.ci.sshkeys=", p);
	for (const char *c = ci->sshkeys ? ci->sshkeys : "(null)"; *c; c++)
		fputs(*c == '\n' ? "\\n" : (char[]){*c, 0}, f);
	fprintf(f, "\nguest.%s.ci.nameserver=%s\n", p, str(ci->nameserver));
	fprintf(f, "guest.%s.ci.searchdomain=%s\n", p, str(ci->searchdomain));
	fprintf(f, "guest.%s.ci.custom_user=%s\n", p, str(ci->custom_user));
	fprintf(f, "guest.%s.ci.custom_network=%s\n", p, str(ci->custom_network));
	fprintf(f, "guest.%s.ci.custom_meta=%s\n", p, str(ci->custom_meta));
	fprintf(f, "guest.%s.ci.custom_vendor=%s\n", p, str(ci->custom_vendor));
	for (size_t i = 0; i < ci->n_ipconfig; i++) {
		const struct lab_ipconfig *ic = &ci->ipconfig[i];
		fprintf(f, "guest.%s.ipconfig%d=ip=%s gw=%s line=%d\n", p, ic->index, str(ic->ip),
			str(ic->gw), ic->line);
	}
}

static void dump_net(FILE *f, const struct lab_guest *g, const struct lab_net *n)
{
	const char *p = g->name;
	fprintf(f, "guest.%s.net%d.model=%s\n", p, n->index, n->model);
	fprintf(f, "guest.%s.net%d.mac=%s\n", p, n->index, n->mac);
	fprintf(f, "guest.%s.net%d.mac_given=%d\n", p, n->index, n->mac_given);
	fprintf(f, "guest.%s.net%d.bridge=%s\n", p, n->index, str(n->bridge));
	fprintf(f, "guest.%s.net%d.link_down=%d\n", p, n->index, n->link_down);
	fprintf(f, "guest.%s.net%d.line=%d\n", p, n->index, n->line);
}

static void dump_disk(FILE *f, const struct lab *lab, const struct lab_guest *g,
		      const struct lab_disk *d)
{
	static const char *const buses[] = {"virtio", "scsi", "sata", "ide", "mp"};
	_cleanup_free_ char *volume_name = lab_volume_name(lab, g, d);
	_cleanup_free_ char *disk_path = lab_disk_path(lab, g, d);
	const char *p = g->name, *k = d->key;
	fprintf(f, "guest.%s.%s.bus=%s\n", p, k, buses[d->bus]);
	fprintf(f, "guest.%s.%s.index=%d\n", p, k, d->index);
	fprintf(f, "guest.%s.%s.media=%s\n", p, k, d->media == MEDIA_CDROM ? "cdrom" : "disk");
	fprintf(f, "guest.%s.%s.storage=%s\n", p, k, str(d->storage));
	fprintf(f, "guest.%s.%s.allocate=%d\n", p, k, d->allocate);
	fprintf(f, "guest.%s.%s.size=%llu\n", p, k, (unsigned long long)d->size);
	fprintf(f, "guest.%s.%s.volume=%s\n", p, k, str(d->volume));
	fprintf(f, "guest.%s.%s.path=%s\n", p, k, str(d->path));
	fprintf(f, "guest.%s.%s.import_from=%s\n", p, k, str(d->import_from));
	if (d->image)
		fprintf(f, "guest.%s.%s.image=%s\n", p, k, d->image);
	fprintf(f, "guest.%s.%s.full_clone=%d\n", p, k, d->full_clone);
	fprintf(f, "guest.%s.%s.cache=%s\n", p, k, str(d->cache));
	fprintf(f, "guest.%s.%s.discard=%d\n", p, k, d->discard);
	fprintf(f, "guest.%s.%s.readonly=%d\n", p, k, d->readonly);
	fprintf(f, "guest.%s.%s.empty=%d\n", p, k, d->empty);
	fprintf(f, "guest.%s.%s.line=%d\n", p, k, d->line);
	fprintf(f, "guest.%s.%s.volume_name=%s\n", p, k, str(volume_name));
	fprintf(f, "guest.%s.%s.disk_path=%s\n", p, k, str(disk_path));
	if (d->bus != BUS_MP)
		return;
	fprintf(f, "guest.%s.%s.mp=%s\n", p, k, str(d->mp));
	fprintf(f, "guest.%s.%s.bind=%d subvol=%d named=%d\n", p, k, d->bind, d->subvol, d->named);
	fprintf(f, "guest.%s.%s.acl=%s quota=%d backup=%d replicate=%d shared=%d\n", p, k,
		d->acl_set ? (d->acl ? "1" : "0") : "-", d->quota, !d->no_backup, !d->no_replicate,
		d->shared);
	fprintf(f, "guest.%s.%s.mountoptions=%s\n", p, k, str(d->mountoptions));
}

/* A container's own fields (VMs have none: their dumps stay as they were). */
static void dump_ct(FILE *f, const struct lab_guest *g)
{
	const struct lab_ct *ct = g->ct;
	const char *p = g->name;
	if (g->kind != KIND_CT)
		return;
	fprintf(f, "guest.%s.kind=ct arch=%s swap_mib=%llu unprivileged=%d\n", p, str(g->arch),
		(unsigned long long)ct->swap_mib, ct->unprivileged);
	fprintf(
	    f, "guest.%s.features=nesting:%d keyctl:%d fuse:%d mknod:%d force_rw_sys:%d mount:%s\n",
	    p, ct->nesting, ct->keyctl, ct->fuse, ct->mknod, ct->force_rw_sys, str(ct->mount_fs));
	fprintf(f, "guest.%s.console=%d tty=%d cmode=%s timezone=%s\n", p, ct->console, ct->tty,
		str(ct->cmode), str(ct->timezone));
	fprintf(f, "guest.%s.entrypoint=%s env=%s\n", p, str(ct->entrypoint), str(ct->env));
	fprintf(f, "guest.%s.ostemplate=%s template_path=%s template_image=%s\n", p,
		str(ct->ostemplate), str(ct->template_path), str(ct->template_image));
	fprintf(f, "guest.%s.password=%s ssh_keys=%.*s\n", p, ct->password ? "(set)" : "(null)",
		(int)strcspn(str(ct->ssh_keys), "\n"), str(ct->ssh_keys));
	fprintf(f, "guest.%s.nameserver=%s searchdomain=%s\n", p, str(g->ci.nameserver),
		str(g->ci.searchdomain));
	fprintf(f, "guest.%s.startup=%d,%d,%d onboot=%d protection=%d tags=%s lock=%s\n", p,
		g->startup_order, g->startup_up, g->startup_down, g->onboot, g->protection,
		str(g->tags), str(g->lock));
	for (size_t k = 0; k < g->n_nets; k++) {
		const struct lab_net *n = &g->nets[k];
		fprintf(
		    f,
		    "guest.%s.net%d.ct=name:%s ip:%s gw:%s ip6:%s gw6:%s mtu:%d tag:%d rate:%g\n",
		    p, n->index, str(n->name), str(n->ip), str(n->gw), str(n->ip6), str(n->gw6),
		    n->mtu, n->tag, n->rate);
	}
}

static void dump_guest_head(FILE *f, const struct lab_guest *g)
{
	const char *p = g->name;
	fprintf(f, "guest.%s.file=%s\n", p, g->file);
	fprintf(f, "guest.%s.vmid=%d\n", p, g->vmid);
	fprintf(f, "guest.%s.cores=%d\n", p, g->cores);
	fprintf(f, "guest.%s.sockets=%d\n", p, g->sockets);
	fprintf(f, "guest.%s.memory_mib=%llu\n", p, (unsigned long long)g->memory_mib);
	fprintf(f, "guest.%s.ostype=%s\n", p, str(g->ostype));
	fprintf(f, "guest.%s.description=%s\n", p, str(g->description));
	fprintf(f, "guest.%s.uuid=%s\n", p, g->uuid);
	fprintf(f, "guest.%s.uuid_given=%d\n", p, g->uuid_given);
	fprintf(f, "guest.%s.machine=%s\n", p, str(g->machine));
	fprintf(f, "guest.%s.vga=%s\n", p, str(g->vga));
	fprintf(f, "guest.%s.agent=%d\n", p, g->agent);
	fprintf(f, "guest.%s.onboot=%d\n", p, g->onboot);
	fprintf(f, "guest.%s.boot=", p);
	for (size_t i = 0; i < g->n_boot; i++)
		fprintf(f, "%s%s", i ? ";" : "", g->boot_order[i]);
	fprintf(f, "\nguest.%s.kernel=%s\n", p, str(g->kernel));
	fprintf(f, "guest.%s.initrd=%s\n", p, str(g->initrd));
	fprintf(f, "guest.%s.cmdline=%s\n", p, str(g->cmdline));
}

static char *dump_lab(const struct lab *lab)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fprintf(f, "lab.dir=%s\nlab.name=%s\nlab.uri=%s\nlab.accel=%s\n", lab->dir, lab->name,
		str(lab->uri), lab_accel_name(lab->accel));
	dump_storages(f, lab);
	dump_bridges(f, lab);
	dump_images(f, lab);
	for (size_t i = 0; i < lab->n_guests; i++) {
		const struct lab_guest *g = &lab->guests[i];
		dump_guest_head(f, g);
		dump_ct(f, g);
		if (g->kind == KIND_VM)
			dump_cloudinit(f, g);
		for (size_t k = 0; k < g->n_nets; k++)
			dump_net(f, g, &g->nets[k]);
		for (size_t k = 0; k < g->n_disks; k++)
			dump_disk(f, lab, g, &g->disks[k]);
	}
	fclose(f);
	return buf;
}

/* The lookups must find what the lab holds. */
static void check_lookups(struct run *r, const struct lab *lab)
{
	for (size_t i = 0; i < lab->n_guests; i++)
		if (lab_find_guest(lab, lab->guests[i].name) != &lab->guests[i])
			fail(r, "lab_find_guest(%s) misses", lab->guests[i].name);
	for (size_t i = 0; i < lab->n_storages; i++)
		if (lab_find_storage(lab, lab->storages[i].id) != &lab->storages[i])
			fail(r, "lab_find_storage(%s) misses", lab->storages[i].id);
	for (size_t i = 0; i < lab->n_bridges; i++)
		if (lab_find_bridge(lab, lab->bridges[i].name) != &lab->bridges[i])
			fail(r, "lab_find_bridge(%s) misses", lab->bridges[i].name);
	if (lab_find_guest(lab, "no-such-guest") || lab_find_storage(lab, "no-such-storage") ||
	    lab_find_bridge(lab, "no-such-bridge"))
		fail(r, "a lookup finds what is not there");
	for (size_t i = 1; i < lab->n_guests; i++)
		if (strcmp(lab->guests[i - 1].name, lab->guests[i].name) >= 0)
			fail(r, "guests are not sorted by name");
}

/* ---- rendered XML (expected/) ---- */

struct outputs {
	char *names[LAB_MAX_NETS * 4];
	size_t n;
};

static void outputs_free(struct outputs *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->names[i]);
}

static void check_xml(struct run *r, struct outputs *o, char *file, int rc, char *xml,
		      const struct lv_error *err)
{
	_cleanup_free_ char *path = xasprintf("%s/expected/%s", r->name, file);
	_cleanup_free_ char *got = xml;
	if (o->n < ARRAY_SIZE(o->names))
		o->names[o->n++] = file;
	else
		free(file);
	if (rc < 0)
		fail(r, "rendering %s: %s", path, err->msg);
	else
		compare(r, path, got);
}

static void check_extra_files(struct run *r, const struct outputs *o)
{
	_cleanup_free_ char *dirpath = xasprintf("%s/expected", r->name);
	DIR *dir = opendir(dirpath);
	for (struct dirent *e; dir && (e = readdir(dir));) {
		bool known = e->d_name[0] == '.';
		for (size_t i = 0; i < o->n && !known; i++)
			known = streq(o->names[i], e->d_name);
		_cleanup_free_ char *path = xasprintf("%s/%s", dirpath, e->d_name);
		size_t n = strlen(e->d_name);
		if (known)
			continue;
		if (r->regenerate && n > 4 && streq(e->d_name + n - 4, ".xml") && unlink(path) == 0)
			printf("removed %s\n", path);
		else
			fail(r, "%s is not rendered by any guest or network", path);
	}
	if (dir)
		closedir(dir);
}

static void check_render(struct run *r, const struct lab *lab)
{
	_cleanup_(outputs_free) struct outputs o = {0};
	for (size_t i = 0; i < lab->n_guests; i++) {
		struct lv_error err = {0};
		char *xml = NULL;
		int rc = render_domain(lab, &lab->guests[i], ACCEL_TCG, &xml, &err);
		check_xml(r, &o, xasprintf("%s.xml", lab->guests[i].name), rc, xml, &err);
	}
	for (size_t i = 0; i < lab->n_bridges; i++) {
		struct lv_error err = {0};
		char *xml = NULL;
		if (lab->bridges[i].mode == BRIDGE_HOST)
			continue;
		int rc = render_network(lab, &lab->bridges[i], &xml, &err);
		check_xml(r, &o, xasprintf("network-%s.xml", lab->bridges[i].name), rc, xml, &err);
	}
	check_extra_files(r, &o);
}

/* ---- one case ---- */

static char *case_path(const struct run *r, const char *file)
{
	return xasprintf("%s/%s", r->name, file);
}

static void check_loaded(struct run *r, const struct lab *lab)
{
	_cleanup_free_ char *parse_path = case_path(r, "expected.parse");
	_cleanup_free_ char *xml_path = case_path(r, "expected");
	bool parse = exists(parse_path, false), xml = exists(xml_path, true);
	check_lookups(r, lab);
	if (parse || (!xml && r->regenerate)) {
		_cleanup_free_ char *dump = dump_lab(lab);
		compare(r, parse_path, dump);
	}
	if (xml)
		check_render(r, lab);
	if (!parse && !xml && !r->regenerate)
		fail(r, "no expected.err, expected.parse or expected/ to check against");
}

static void check_failed(struct run *r, const struct lv_diag *diags, bool want_err)
{
	_cleanup_free_ char *got = join_diags(diags);
	_cleanup_free_ char *path = case_path(r, "expected.err");
	_cleanup_free_ char *parse_path = case_path(r, "expected.parse");
	_cleanup_free_ char *xml_path = case_path(r, "expected");
	bool fresh = !exists(parse_path, false) && !exists(xml_path, true);
	if (want_err || (r->regenerate && fresh)) {
		compare(r, path, got);
		return;
	}
	fail(r, "the lab does not load:");
	fputs(got, stdout);
}

static void run_case(struct run *r, const char *name)
{
	_cleanup_lab_ struct lab *lab = NULL;
	struct lv_diag diags = {0};
	r->name = name;
	r->ok = true;
	_cleanup_free_ char *dir = case_path(r, "lab");
	_cleanup_free_ char *err_path = case_path(r, "expected.err");
	bool want_err = exists(err_path, false);
	int rc = lab_load(dir, &lab, &diags);
	if (rc == 0 && want_err)
		fail(r, "the lab loads, but expected.err says it must not");
	else if (rc == 0)
		check_loaded(r, lab);
	else
		check_failed(r, &diags, want_err);
	lv_diag_free(&diags);
	if (r->ok)
		printf("ok   %s\n", name);
	r->passed += r->ok;
	r->failed += !r->ok;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The case folders of the current directory, sorted. */
static size_t list_cases(char ***ret)
{
	char **v = NULL;
	size_t n = 0;
	DIR *dir = opendir(".");
	for (struct dirent *e; dir && (e = readdir(dir));) {
		if (e->d_name[0] == '.' || !exists(e->d_name, true))
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = xstrdup(e->d_name);
	}
	if (dir)
		closedir(dir);
	qsort(v, n, sizeof(*v), cmp_str);
	*ret = v;
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_golden DIR\n");
		return 2;
	}
	if (chdir(argv[1]) < 0) {
		fprintf(stderr, "test_golden: cannot enter %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	const char *env = getenv("LABVIRT_REGENERATE");
	struct run r = {.regenerate = env && streq(env, "1")};
	char **cases = NULL;
	size_t n = list_cases(&cases);
	for (size_t i = 0; i < n; i++) {
		run_case(&r, cases[i]);
		free(cases[i]);
	}
	free(cases);
	if (n == 0)
		printf("FAIL no case folders in %s\n", argv[1]), r.failed++;
	printf("%d passed, %d failed\n", r.passed, r.failed);
	return r.failed ? 1 : 0;
}
