/* test_lifecycle.c - the commands' logic against libvirt's in-memory
 * test:///default driver: up, plan, status, down, destroy, conflicts and
 * undo. Volumes are real qcow2 files in a temporary folder. The driver's
 * state lives as long as one connection is open, so the test keeps one. */
#include <dirent.h>
#include <errno.h>
#include <libvirt/libvirt.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "cmd.h"
#include "journal.h"

#define URI "test:///default"

static int passed, failed;
static char *tmp;

static void check(bool ok, const char *what, const char *detail)
{
	if (ok) {
		passed++;
		printf("ok - %s\n", what);
	} else {
		failed++;
		printf("not ok - %s\n%s\n", what, detail ? detail : "");
	}
}

struct result {
	int code;
	char *out, *err;
};

/* Runs one command as main would, capturing what it prints. */
static struct result run(const char *lab_dir, int argc, char **argv)
{
	struct result r = {0};
	size_t n1, n2;
	FILE *out = open_memstream(&r.out, &n1), *errout = open_memstream(&r.err, &n2);
	struct ctx c = {.lab_dir = lab_dir,
			.uri = URI,
			.out = out,
			.errout = errout,
			.state_dir = xasprintf("%s/state", tmp)};
	struct lv_error err = {0};
	int (*fn)(struct ctx *, int, char **, struct lv_error *) =
	    streq(argv[0], "up")       ? cmd_up
	    : streq(argv[0], "plan")   ? cmd_plan
	    : streq(argv[0], "status") ? cmd_status
	    : streq(argv[0], "down")   ? cmd_down
				       : cmd_destroy;
	int rc = fn(&c, argc, argv, &err);
	if (rc < 0)
		fprintf(errout, "labvirt: %s\n", err.msg);
	r.code = rc < 0 ? err.code : 0;
	ctx_release(&c);
	fclose(out);
	fclose(errout);
	return r;
}

static void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

static bool file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static void copy_file(const char *from, const char *to)
{
	char *data = lv_read_file(from, NULL);
	if (!data || lv_write_file_atomic(to, data, strlen(data), 0644, NULL) < 0) {
		fprintf(stderr, "cannot copy %s\n", from);
		exit(1);
	}
	free(data);
}

/* Copies the test lab SRC/LAB into tmp/LAB, so its storage lands in tmp too. */
static char *make_lab(const char *src, const char *lab)
{
	char *dir = xasprintf("%s/%s", tmp, lab);
	_cleanup_free_ char *from = xasprintf("%s/%s", src, lab);
	mkdir(dir, 0755);
	DIR *d = opendir(from);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		_cleanup_free_ char *f = xasprintf("%s/%s", from, e->d_name);
		_cleanup_free_ char *t = xasprintf("%s/%s", dir, e->d_name);
		copy_file(f, t);
	}
	if (d)
		closedir(d);
	return dir;
}

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");
	fputs(text, f);
	fclose(f);
}

#define RUN(dir, ...)                                                                              \
	({                                                                                         \
		char *_argv[] = {__VA_ARGS__, NULL};                                               \
		run(dir, (int)ARRAY_SIZE(_argv) - 1, _argv);                                       \
	})

static void expect(struct result r, int code, const char *out, const char *err, const char *what)
{
	char detail[8192];
	snprintf(detail, sizeof(detail),
		 "  exit %d (want %d)\n  stdout:\n%s  want:\n%s  stderr:\n%s  want:\n%s", r.code,
		 code, r.out, out ? out : "(any)\n", r.err, err ? err : "(any)\n");
	check(r.code == code && (!out || streq(r.out, out)) && (!err || streq(r.err, err)), what,
	      detail);
	result_free(&r);
}

static void test_up_is_idempotent(const char *dir)
{
	_cleanup_free_ char *out =
	    xasprintf("create network labvirt-lc-lvtest0 (bridge lvtest0, nat)\n"
		      "create volume %s/pool/lc-a-virtio0.qcow2 for a/virtio0\n"
		      "define domain a\nstart domain a\n"
		      "create volume %s/pool/lc-b-virtio0.qcow2 for b/virtio0\n"
		      "define domain b\nstart domain b\n"
		      "lab lc is up: 2 of 2 guests running\n",
		      dir, dir);
	expect(RUN(dir, "plan"), 0, NULL, "", "plan before up lists changes");
	expect(RUN(dir, "up"), 0, out, "", "up creates network, volumes, domains");
	_cleanup_free_ char *vol = xasprintf("%s/pool/lc-a-virtio0.qcow2", dir);
	check(file_exists(vol), "up made the qcow2 volume", vol);
	expect(RUN(dir, "up"), 0, "lab lc: nothing to do (2 of 2 guests running)\n", "",
	       "second up changes nothing");
	expect(RUN(dir, "plan"), 0, "lab lc: nothing to do\n", "", "plan after up is empty");
}

static void test_status(const char *dir)
{
	struct result r = RUN(dir, "status", "--json");
	check(r.code == 0 &&
		  strstr(r.out, "{\"name\":\"a\",\"type\":\"vm\",\"state\":\"running\",\"vcpus\":1,"
				"\"memory_mib\":128,\"disks\":\"virtio0=64M\""),
	      "status --json shows a running guest", r.out);
	result_free(&r);
	r = RUN(dir, "status");
	check(r.code == 0 && strstr(r.out, "\nb                vm   running      1   128 MiB"),
	      "status table has a line per guest", r.out);
	result_free(&r);
}

static void test_changed_layout(const char *dir)
{
	_cleanup_free_ char *conf = xasprintf("%s/a.conf", dir);
	append(conf, "description: changed\n");
	expect(RUN(dir, "plan"), 0,
	       "! domain a runs with an older layout: restart it to apply (labvirt down a && "
	       "labvirt up a)\nlab lc: nothing to do\n",
	       "", "plan sees a changed layout of a running guest");
	expect(RUN(dir, "down", "a"), 0, "a: shut down\n", "", "down shuts the guest down");
	expect(RUN(dir, "plan"), 0,
	       "+ update domain a (layout changed)\n+ start domain a\nlab lc: 2 changes\n", "",
	       "plan updates a stopped guest");
	expect(RUN(dir, "up", "a"), 0,
	       "update domain a (layout changed)\nstart domain a\nlab lc is up: 2 of 2 guests "
	       "running\n",
	       "", "up applies the change and starts it");
}

static void test_fault_undoes(const char *dir)
{
	expect(RUN(dir, "destroy", "b"), 2, "",
	       "labvirt: destroy: stdin is not a terminal: add --yes to confirm\n",
	       "destroy without --yes refuses when not interactive");
	_cleanup_free_ char *rm = xasprintf(
	    "removed domain b\nremoved volume %s/pool/lc-b-virtio0.qcow2\nlab lc: destroyed\n",
	    dir);
	expect(RUN(dir, "destroy", "--yes", "b"), 0, rm, "", "destroy removes one guest");
	setenv("LABVIRT_FAIL_STEP", "start domain b", 1);
	_cleanup_free_ char *err = xasprintf(
	    "undone: define domain b\nundone: create volume %s/pool/lc-b-virtio0.qcow2 for "
	    "b/virtio0\nlabvirt: up: start domain b: injected fault\n",
	    dir);
	_cleanup_free_ char *out =
	    xasprintf("create volume %s/pool/lc-b-virtio0.qcow2 for b/virtio0\n"
		      "define domain b\n",
		      dir);
	expect(RUN(dir, "up"), 1, out, err, "a failed step undoes what the run made");
	unsetenv("LABVIRT_FAIL_STEP");
	_cleanup_free_ char *vol = xasprintf("%s/pool/lc-b-virtio0.qcow2", dir);
	check(!file_exists(vol), "the undone volume is gone", vol);
	_cleanup_free_ char *journal = xasprintf("%s/state/lc.journal", tmp);
	check(!file_exists(journal), "a run that undid everything leaves no journal", journal);
	expect(RUN(dir, "plan"), 0, NULL, "", "plan after the failed up");
}

static void test_foreign(const char *src, const char *dir)
{
	_cleanup_free_ char *from = xasprintf("%s/collide.conf", src);
	_cleanup_free_ char *to = xasprintf("%s/test.conf", dir);
	copy_file(from, to);
	_cleanup_free_ char *err =
	    xasprintf("%s/test.conf: domain 'test' exists and was not made by labvirt\n"
		      "labvirt: the layout conflicts with this host (1 problem)\n",
		      dir);
	expect(RUN(dir, "up"), 2, "", err, "a foreign domain of the same name is an error");
	expect(RUN(dir, "destroy", "--yes", "test"), 0, "lab lc: destroyed\n",
	       "test: not this lab's domain: left alone\n", "destroy leaves a foreign domain");
	unlink(to);
}

static void test_destroy_all(const char *dir)
{
	_cleanup_free_ char *out =
	    xasprintf("removed domain a\nremoved volume %s/pool/lc-a-virtio0.qcow2\n"
		      "removed network labvirt-lc-lvtest0\nlab lc: destroyed\n",
		      dir);
	expect(RUN(dir, "destroy", "--yes"), 0, out, "", "destroy removes the rest");
	struct result r = RUN(dir, "status", "--json");
	check(strstr(r.out, "\"state\":\"absent\"") && !strstr(r.out, "running"),
	      "nothing of the lab is left", r.out);
	result_free(&r);
}

/* The guests' steps run side by side: a failed start of a still lets b's
 * chain finish, and then everything of the run is undone in reverse plan
 * order, with the output in plan order whichever guest was quicker. */
static void test_parallel_undo(const char *dir)
{
	setenv("LABVIRT_FAIL_STEP", "start domain a", 1);
	_cleanup_free_ char *out =
	    xasprintf("create network labvirt-lc-lvtest0 (bridge lvtest0, nat)\n"
		      "create volume %s/pool/lc-a-virtio0.qcow2 for a/virtio0\n"
		      "define domain a\n"
		      "create volume %s/pool/lc-b-virtio0.qcow2 for b/virtio0\n"
		      "define domain b\nstart domain b\n",
		      dir, dir);
	_cleanup_free_ char *err =
	    xasprintf("undone: start domain b\nundone: define domain b\n"
		      "undone: create volume %s/pool/lc-b-virtio0.qcow2 for b/virtio0\n"
		      "undone: define domain a\n"
		      "undone: create volume %s/pool/lc-a-virtio0.qcow2 for a/virtio0\n"
		      "undone: create network labvirt-lc-lvtest0 (bridge lvtest0, nat)\n"
		      "labvirt: up: start domain a: injected fault\n",
		      dir, dir);
	expect(RUN(dir, "up"), 1, out, err, "a failed guest undoes the guests made beside it");
	unsetenv("LABVIRT_FAIL_STEP");
	struct result r = RUN(dir, "status", "--json");
	check(!strstr(r.out, "running") && !strstr(r.out, "shut-off"),
	      "nothing of the failed parallel up is left", r.out);
	result_free(&r);
}

static void test_host_bridge_missing(const char *dir)
{
	_cleanup_free_ char *err = xasprintf(
	    "%s/lab.cfg:7: bridge 'lvhost0' does not exist on this host (mode host attaches "
	    "to an existing bridge)\n"
	    "labvirt: the layout conflicts with this host (1 problem)\n",
	    dir);
	expect(RUN(dir, "up"), 2, "", err, "mode host needs an existing bridge");
	_cleanup_free_ char *pool = xasprintf("%s/pool", dir);
	check(!file_exists(pool), "nothing was created", pool);
}

static void test_missing_iso(const char *dir)
{
	_cleanup_free_ char *err = xasprintf(
	    "i: ide2: ISO '%s/pool/template/iso/installer.iso' is missing: download it and "
	    "put it there (README: \"Operating systems\")\n"
	    "labvirt: 1 file the lab needs is missing\n",
	    dir);
	expect(RUN(dir, "up"), 1, "", err, "a missing ISO says which file to put where");
	_cleanup_free_ char *vol = xasprintf("%s/pool/is-i-virtio0.qcow2", dir);
	check(!file_exists(vol), "nothing was created", vol);
}

static void test_foreign_volume(const char *dir)
{
	_cleanup_free_ char *pool = xasprintf("%s/pool", dir);
	_cleanup_free_ char *vol = xasprintf("%s/is-i-virtio0.qcow2", pool);
	mkdir(pool, 0755);
	if (lv_write_file_atomic(vol, "not ours", 8, 0644, NULL) < 0)
		return;
	_cleanup_free_ char *err =
	    xasprintf("%s/i.conf:3: virtio0: volume '%s' exists and was not made by lab 'is'\n"
		      "labvirt: the layout conflicts with this host (1 problem)\n",
		      dir, vol);
	expect(RUN(dir, "up"), 2, "", err, "a foreign file at a volume's path is an error");
	expect(RUN(dir, "destroy", "--yes"), 0, "lab is: destroyed\n", NULL,
	       "destroy leaves the foreign file");
	char *data = lv_read_file(vol, NULL);
	check(streq(data, "not ours"), "the foreign file is untouched", vol);
	free(data);
	unlink(vol);
}

/* The journal's text form: a round trip keeps every field, blanks and
 * escapes included; what is not a journal is refused with its line. */
static void test_journal_text(void)
{
	struct journal j = {.lab = xstrdup("lc"), .pid = 77};
	journal_add(&j, &(struct journal_entry){.kind = JOURNAL_VOLUME,
						.prepare = true,
						.step = "create volume /p/v for a/virtio0",
						.name = "/p/odd\tname\\with\nbreaks",
						.owner = "lc/a/virtio0",
						.storage = "local",
						.temp = "/p/.v.part-77"});
	journal_add(
	    &j, &(struct journal_entry){
		    .kind = JOURNAL_START, .done = true, .step = "start domain a", .name = "a"});
	journal_add(&j, &(struct journal_entry){.kind = JOURNAL_DIR,
						.step = "create directory /p/new",
						.name = "/p/new"});
	_cleanup_free_ char *text = journal_format(&j);
	check(streq(text, "labvirt journal 1\nlab\tlc\npid\t77\n"
			  "begun\tvolume\tprepare\tcreate volume /p/v for a/virtio0\t"
			  "/p/odd\\tname\\\\with\\nbreaks\tlc/a/virtio0\tlocal\t/p/.v.part-77\t\n"
			  "done\tstart\t-\tstart domain a\ta\t\t\t\t\n"
			  "begun\tdirectory\t-\tcreate directory /p/new\t/p/new\t\t\t\t\n"),
	      "the journal's text, escaped", text);
	struct journal back = {0};
	struct lv_error err = {0};
	int rc = journal_parse(text, "J", &back, &err);
	_cleanup_free_ char *again = rc == 0 ? journal_format(&back) : NULL;
	check(rc == 0 && streq(again, text) && back.n == 3 && back.entries[0].prepare &&
		  !back.entries[0].done && streq(back.entries[0].name, j.entries[0].name) &&
		  !back.entries[1].owner && back.entries[1].done &&
		  back.entries[2].kind == JOURNAL_DIR && streq(back.entries[2].name, "/p/new"),
	      "the journal reads back as written", err.msg);
	journal_clear(&back);
	journal_clear(&j);
	/* Written before directories were recorded: reads as it did. */
	rc = journal_parse("labvirt journal 1\nlab\tlc\npid\t5\n"
			   "done\tvolume\t-\ts\t/p/v\tlc/a/virtio0\tlocal\t\t\n",
			   "J", &back, &err);
	check(rc == 0 && back.n == 1 && back.entries[0].kind == JOURNAL_VOLUME,
	      "a journal without directories reads as before", err.msg);
	journal_clear(&back);
	const char *bad[][2] = {
	    {"", "J: not a complete labvirt journal"},
	    {"labvirt journal 2\n", "J:1: not a labvirt journal"},
	    {"labvirt journal 1\nlab\tlc\n", "J: not a complete labvirt journal"},
	    {"labvirt journal 1\nlab\tlc\npid\t-1\n", "J:3: not a journal line"},
	    {"labvirt journal 1\nlab\tlc\npid\t1\nbegun\tdisk\t-\ts\tn\t\t\t\t\n",
	     "J:4: not a journal entry"},
	    {"labvirt journal 1\nlab\tlc\npid\t1\nbegun\tstart\t-\ts\tn\t\t\t\n",
	     "J:4: not a journal entry"},
	    /* a directory by a relative name, or "prepared" */
	    {"labvirt journal 1\nlab\tlc\npid\t1\ndone\tdirectory\t-\ts\tpool\t\t\t\t\n",
	     "J:4: not a journal entry"},
	    {"labvirt journal 1\nlab\tlc\npid\t1\nbegun\tdirectory\tprepare\ts\t/p\t\t\t\t\n",
	     "J:4: not a journal entry"},
	    {"labvirt journal 1\nlab\tlc\npid\t1\nbegun\tdirectory\t-\ts\t\t\t\t\t\n",
	     "J:4: not a journal entry"},
	    {"labvirt journal 1\nlab\tlc\npid\t1\nbegun\tdirectory\t-\ts\t/p\t\t\t\n",
	     "J:4: not a journal entry"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err = (struct lv_error){0};
		rc = journal_parse(bad[i][0], "J", &back, &err);
		check(rc < 0 && streq(err.msg, bad[i][1]), bad[i][1], err.msg);
	}
}

static void write_journal(const char *text)
{
	_cleanup_free_ char *path = xasprintf("%s/state/lc.journal", tmp);
	lv_write_file_atomic(path, text, strlen(text), 0600, NULL);
}

static bool journal_left(void)
{
	_cleanup_free_ char *path = xasprintf("%s/state/lc.journal", tmp);
	return file_exists(path);
}

/* What a run killed while it made a's volume leaves (its temporary file, the
 * volume renamed but not recorded as done): the next up removes both and makes
 * the volume again; the journal goes. */
static void test_journal_up_recovers(const char *dir)
{
	_cleanup_free_ char *vol = xasprintf("%s/pool/lc-a-virtio0.qcow2", dir);
	_cleanup_free_ char *part = xasprintf("%s/pool/.lc-a-virtio0.qcow2.part-4242", dir);
	_cleanup_free_ char *pool = xasprintf("%s/pool", dir);
	mkdir(pool, 0711);
	lv_write_file_atomic(part, "half", 4, 0600, NULL);
	lv_write_file_atomic(vol, "half-made", 9, 0600, NULL);
	setxattr(vol, "user.labvirt.owner", "lc/a/virtio0", 12, 0);
	_cleanup_free_ char *j = xasprintf(
	    "labvirt journal 1\nlab\tlc\npid\t4242\n"
	    "done\tnetwork\t-\tcreate network labvirt-lc-lvtest0 (bridge lvtest0, "
	    "nat)\tlabvirt-lc-lvtest0\t\t\t\t\n"
	    "begun\tvolume\t-\tcreate volume %s for a/virtio0\t%s\tlc/a/virtio0\tlocal\t%s\t\n",
	    vol, vol, part);
	write_journal(j);
	struct result r = RUN(dir, "plan", "a");
	check(r.code == 0 && startswith(r.out, "! run 4242 of lab lc was interrupted (1 step not "
					       "finished): up first removes what it left "
					       "half-made\n"),
	      "plan says an interrupted run left a journal", r.out);
	result_free(&r);
	_cleanup_free_ char *out =
	    xasprintf("recover: run 4242 of lab lc was interrupted (1 step not finished)\n"
		      "recover: removed temporary file %s\n"
		      "recover: removed half-made volume %s\n"
		      "create network labvirt-lc-lvtest0 (bridge lvtest0, nat)\n"
		      "create volume %s for a/virtio0\ndefine domain a\nstart domain a\n"
		      "lab lc is up: 1 of 2 guests running\n",
		      part, vol, vol);
	expect(RUN(dir, "up", "a"), 0, out, "", "up removes what a killed run left half-made");
	check(!journal_left(), "the journal is gone after up", NULL);
	check(!file_exists(part), "no temporary file is left", part);
	char *data = lv_read_file(vol, NULL);
	check(data && memcmp(data, "QFI\xfb", 4) == 0, "the volume is made again (a qcow2)", vol);
	free(data);
}

/* The journal names a guest the layout no longer has (z, removed from the
 * layout after the killed run): destroy of the whole lab removes its domain
 * and volume too, as they are the lab's; a bad journal stops both commands. */
static void test_journal_destroy_named(const char *src, const char *dir)
{
	_cleanup_free_ char *from = xasprintf("%s/lab/b.conf", src);
	_cleanup_free_ char *zconf = xasprintf("%s/z.conf", dir);
	char *b = lv_read_file(from, NULL);
	char *z = xasprintf("name: z\n%s", strchr(b, '\n') + 1);
	lv_write_file_atomic(zconf, z, strlen(z), 0644, NULL);
	free(b), free(z);
	expect(RUN(dir, "up", "z"), 0, NULL, "", "up z");
	unlink(zconf);
	_cleanup_free_ char *vol = xasprintf("%s/pool/lc-z-virtio0.qcow2", dir);
	_cleanup_free_ char *j = xasprintf(
	    "labvirt journal 1\nlab\tlc\npid\t4243\n"
	    "done\tvolume\t-\tcreate volume %s for z/virtio0\t%s\tlc/z/virtio0\tlocal\t\t\n"
	    "done\tdomain\t-\tdefine domain z\tz\t\t\t\t\n"
	    "begun\tstart\t-\tstart domain z\tz\t\t\t\t\n",
	    vol, vol);
	write_journal("labvirt journal 1\nlab\tlc\nbogus\n");
	_cleanup_free_ char *bad = xasprintf(
	    "labvirt: recover: remove or repair it: %s/state/lc.journal:3: not a journal line\n",
	    tmp);
	expect(RUN(dir, "up"), 1, "", bad, "up stops at a journal it cannot read");
	expect(RUN(dir, "destroy", "--yes"), 1, "", bad, "so does destroy");
	write_journal(j);
	_cleanup_free_ char *out =
	    xasprintf("recover: run 4243 of lab lc was interrupted (1 step not finished)\n"
		      "recover: removed domain z\n"
		      "recover: removed left volume %s\n"
		      "removed domain a\nremoved volume %s/pool/lc-a-virtio0.qcow2\n"
		      "removed network labvirt-lc-lvtest0\nlab lc: destroyed\n",
		      vol, dir);
	expect(RUN(dir, "destroy", "--yes"), 0, out, "",
	       "destroy removes what the journal names, beyond the layout");
	check(!journal_left(), "the journal is gone after destroy", NULL);
	check(!file_exists(vol), "z's volume is gone", vol);
}

/* Storage directories a killed run recorded as made: the next up removes
 * the empty ones and keeps one with something in it, one of another user's
 * and one never made; destroy removes one only after the volumes in it. An
 * up that makes the storage directory records it, and its undo removes it. */
static void test_journal_dirs(const char *dir)
{
	_cleanup_free_ char *empty = xasprintf("%s/d-empty", tmp);
	_cleanup_free_ char *full = xasprintf("%s/d-full", tmp);
	_cleanup_free_ char *file = xasprintf("%s/d-full/x", tmp);
	_cleanup_free_ char *other = xasprintf("%s/d-other", tmp);
	_cleanup_free_ char *absent = xasprintf("%s/d-absent", tmp);
	_cleanup_free_ char *pool = xasprintf("%s/pool", dir);
	mkdir(empty, 0711), mkdir(full, 0711), mkdir(other, 0711);
	lv_write_file_atomic(file, "x", 1, 0600, NULL);
	if (chown(other, 65534, 65534) < 0)
		check(false, "chown of a directory to another user", strerror(errno));
	_cleanup_free_ char *j = xasprintf("labvirt journal 1\nlab\tlc\npid\t4244\n"
					   "done\tdirectory\t-\tcreate directory %s\t%s\t\t\t\t\n"
					   "done\tdirectory\t-\tcreate directory %s\t%s\t\t\t\t\n"
					   "begun\tdirectory\t-\tcreate directory %s\t%s\t\t\t\t\n"
					   "begun\tdirectory\t-\tcreate directory %s\t%s\t\t\t\t\n",
					   empty, empty, full, full, other, other, absent, absent);
	write_journal(j);
	struct result r = RUN(dir, "up", "a");
	_cleanup_free_ char *head =
	    xasprintf("recover: run 4244 of lab lc was interrupted (2 steps not finished)\n"
		      "recover: removed directory %s\ncreate network",
		      empty);
	check(r.code == 0 && startswith(r.out, head) && !strstr(r.err, "d-"),
	      "up removes an empty directory the killed run made, and says so", r.out);
	result_free(&r);
	check(!file_exists(empty), "the empty directory is gone", empty);
	check(file_exists(file), "a directory with a file in it stays", full);
	check(file_exists(other), "another user's directory stays", other);
	check(!journal_left(), "the journal is gone after up", NULL);
	unlink(file), rmdir(full), rmdir(other);

	/* The pool holds a's volume: destroy removes it, then the pool. */
	_cleanup_free_ char *jpool =
	    xasprintf("labvirt journal 1\nlab\tlc\npid\t4245\n"
		      "done\tdirectory\t-\tcreate directory %s\t%s\t\t\t\t\n",
		      pool, pool);
	write_journal(jpool);
	_cleanup_free_ char *out =
	    xasprintf("recover: run 4245 of lab lc was interrupted (0 steps not finished)\n"
		      "removed domain a\nremoved volume %s/lc-a-virtio0.qcow2\n"
		      "recover: removed directory %s\n"
		      "removed network labvirt-lc-lvtest0\nlab lc: destroyed\n",
		      pool, pool);
	expect(RUN(dir, "destroy", "--yes"), 0, out, "",
	       "destroy removes the directory the killed run made once its volumes are gone");
	check(!file_exists(pool), "the storage directory is gone", pool);
	check(!journal_left(), "the journal is gone after destroy", NULL);

	/* up makes the pool again; a failed up takes it back, with its journal. */
	setenv("LABVIRT_FAIL_STEP", "start domain a", 1);
	_cleanup_free_ char *err = xasprintf(
	    "undone: define domain a\nundone: create volume %s/lc-a-virtio0.qcow2 for a/virtio0\n"
	    "undone: create network labvirt-lc-lvtest0 (bridge lvtest0, nat)\n"
	    "undone: create directory %s\nlabvirt: up: start domain a: injected fault\n",
	    pool, pool);
	expect(RUN(dir, "up", "a"), 1, NULL, err, "a failed up removes the directory it made");
	unsetenv("LABVIRT_FAIL_STEP");
	check(!file_exists(pool), "no storage directory is left", pool);
	check(!journal_left(), "a run that undid its directory too leaves no journal", NULL);
	expect(RUN(dir, "up", "a"), 0, NULL, "", "up makes the storage directory");
	struct stat st;
	check(stat(pool, &st) == 0 && (st.st_mode & 07777) == 0711, "it is 0711", pool);
	check(!journal_left(), "the journal is gone after a successful up", NULL);
	expect(RUN(dir, "destroy", "--yes"), 0, NULL, "", "destroy");
	check(file_exists(pool), "with no journal, destroy leaves the storage directory", pool);
}

/* A child holds the lab's lock for a moment; `down` says who holds it and
 * waits for it rather than failing. */
static void test_lock_waits(const char *dir)
{
	int ready[2];
	if (pipe(ready) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		_cleanup_free_ char *state = xasprintf("%s/state", tmp);
		struct host_lock *lock = NULL;
		host_lock_lab(state, "lc", "up", NULL, NULL, &lock, NULL);
		close(ready[1]); /* tells the parent the lock is held */
		usleep(500 * 1000);
		host_unlock(lock);
		_exit(0);
	}
	close(ready[1]);
	char b;
	if (read(ready[0], &b, 1) < 0)
		return;
	close(ready[0]);
	_cleanup_free_ char *err = xasprintf(
	    "labvirt: waiting for the lock of lab 'lc', held by labvirt up (pid %d)\n", (int)pid);
	expect(RUN(dir, "down"), 0, "a: not created\nb: not created\n", err,
	       "a second labvirt says who holds the lock and waits");
	waitpid(pid, NULL, 0);
}

/* libvirt's log in the state directory: past 1 MiB it becomes libvirt.log.1
 * when a command connects; at 1 MiB it stays. */
static void test_log_kept_small(const char *dir)
{
	_cleanup_free_ char *log = xasprintf("%s/state/libvirt.log", tmp);
	_cleanup_free_ char *old = xasprintf("%s.1", log);
	for (int over = 1; over >= 0; over--) {
		unlink(old);
		FILE *f = fopen(log, "w");
		for (long i = 0; f && i < 1024L * 1024 + over; i++)
			fputc(i % 64 == 63 ? '\n' : 'x', f);
		if (f)
			fclose(f);
		struct result r = RUN(dir, "status");
		result_free(&r);
		struct stat st;
		bool moved = stat(old, &st) == 0 && st.st_size == 1024L * 1024 + over;
		bool kept = stat(log, &st) == 0 && st.st_size >= 1024L * 1024;
		if (over)
			check(moved && !kept, "a libvirt.log over 1 MiB becomes libvirt.log.1",
			      NULL);
		else
			check(!file_exists(old) && kept, "a libvirt.log of 1 MiB stays", NULL);
	}
	unlink(log);
	unlink(old);
}

/* Proxmox's startup order in reverse: c (no order) first, then a and d, b last;
 * the test driver shuts a guest down at once, so no timeout is waited for. */
static void test_down_in_order(const char *dir)
{
	expect(RUN(dir, "up"), 0, NULL, "", "up of the startup lab");
	expect(RUN(dir, "down"), 0, "c: shut down\na: shut down\nd: shut down\nb: shut down\n", "",
	       "down stops in reverse startup order");
	expect(RUN(dir, "destroy", "--yes"), 0, NULL, "", "destroy of the startup lab");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_lifecycle SRCDIR\n");
		return 2;
	}
	char tmpl[] = "/tmp/labvirt-lifecycle-XXXXXX";
	tmp = mkdtemp(tmpl);
	_cleanup_free_ char *state = xasprintf("%s/state", tmp);
	mkdir(state, 0700);
	virConnectPtr keep = virConnectOpen(URI); /* keeps the driver's state alive */
	_cleanup_free_ char *dir = make_lab(argv[1], "lab");
	_cleanup_free_ char *hostbr = make_lab(argv[1], "hostbr");
	_cleanup_free_ char *iso = make_lab(argv[1], "iso");
	_cleanup_free_ char *startup = make_lab(argv[1], "startup");
	test_up_is_idempotent(dir);
	test_status(dir);
	test_changed_layout(dir);
	test_foreign(argv[1], dir);
	test_fault_undoes(dir);
	test_destroy_all(dir);
	test_parallel_undo(dir);
	test_journal_text();
	test_journal_up_recovers(dir);
	test_journal_destroy_named(argv[1], dir);
	test_journal_dirs(dir);
	test_host_bridge_missing(hostbr);
	test_missing_iso(iso);
	test_foreign_volume(iso);
	test_lock_waits(dir);
	test_log_kept_small(dir);
	test_down_in_order(startup);
	virConnectClose(keep);
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
