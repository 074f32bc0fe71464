/* guest.c - labvirt's LVM-thin backend on real device-mapper, run inside the
 * test guest (tests/lvm/run.sh boots it). The guest's /init made a loop-backed
 * volume group "lvt" with a thin pool "pool" (48 MiB, --errorwhenfull y) and a
 * plain LV "plain"; this program drives storage_lvmthin_backend through the
 * storage interface and checks each result with lvs' own text output. Prints
 * "ok - ..." / "not ok - ..." lines; exit status 0 when all passed.
 *
 * Usage: lvmthin-guest IMAGES_DIR (raw.img: 4 MiB raw, pattern 0x5a in its
 * first MiB; disk.qcow2: 16 MiB virtual, pattern 0xa5 in its first MiB) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "host.h"
#include "lvm.h"
#include "storage.h"

#define MIB (1024ULL * 1024)

static int passed, failed;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%s - ", ok ? "ok" : "not ok");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	ok ? passed++ : failed++;
}

/* `lvs` in its text format: one "name|origin|pool|tags|size" line per LV of
 * vg "lvt", hidden ones excluded. A separate path from the JSON the backend reads. */
static char *lvs_text(void)
{
	const char *argv[] = {"lvs",
			      "--noheadings",
			      "--separator",
			      "|",
			      "--units",
			      "b",
			      "--nosuffix",
			      "-o",
			      "lv_name,origin,pool_lv,lv_tags,lv_size",
			      "lvt",
			      NULL};
	char *out = NULL;
	struct lv_error err = {0};
	if (host_run(argv, &out, &err) < 0) {
		printf("# lvs: %s\n", err.msg);
		return xstrdup("");
	}
	return out;
}

/* The lvs line of LV name with its blanks removed, or NULL. */
static char *lv_line(const char *name)
{
	_cleanup_free_ char *all = lvs_text();
	char *save = NULL;
	for (char *l = strtok_r(all, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		while (*l == ' ')
			l++;
		size_t n = strcspn(l, "|");
		if (n == strlen(name) && strncmp(l, name, n) == 0)
			return xstrdup(l);
	}
	return NULL;
}

static size_t lv_count(void)
{
	_cleanup_free_ char *all = lvs_text();
	size_t n = 0;
	for (char *c = all; *c; c++)
		n += *c == '\n';
	return n;
}

static bool expect_line(const char *name, const char *want)
{
	_cleanup_free_ char *l = lv_line(name);
	if (!l || !streq(l, want)) {
		printf("# lvs of %s: '%s', expected '%s'\n", name, l ? l : "(none)", want);
		return false;
	}
	return true;
}

/* First len bytes of dev are byte b. */
static bool starts_with_pattern(const char *dev, unsigned char b, size_t len)
{
	_cleanup_close_ int fd = open(dev, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ unsigned char *buf = xmalloc(len);
	if (fd < 0 || pread(fd, buf, len, 0) != (ssize_t)len) {
		printf("# cannot read %s: %s\n", dev, strerror(errno));
		return false;
	}
	for (size_t i = 0; i < len; i++)
		if (buf[i] != b) {
			printf("# %s: byte %zu is 0x%02x, expected 0x%02x\n", dev, i, buf[i], b);
			return false;
		}
	return true;
}

static bool has_error(int rc, const struct lv_error *err, const char *want)
{
	if (rc == 0 || !strstr(err->msg, want)) {
		printf("# rc %d, error '%s', expected one with '%s'\n", rc, err->msg, want);
		return false;
	}
	printf("# error: %s\n", err->msg);
	return true;
}

static struct storage_vol vol(const struct lab_storage *s, const char *guest, uint64_t size,
			      const char *import, bool full)
{
	return (struct storage_vol){
	    .storage = s,
	    .path = xasprintf("/dev/%s/t-%s-virtio0", s->vgname, guest),
	    .owner = xasprintf("t/%s/virtio0", guest),
	    .size = size,
	    .import_from = import,
	    .full_clone = full,
	};
}

static void vol_clear(struct storage_vol *v)
{
	free(v->path);
	free(v->owner);
	*v = (struct storage_vol){0};
}

static const struct storage_backend *B = &storage_lvmthin_backend;

static void test_allocate(const struct lab_storage *s)
{
	struct storage_vol v = vol(s, "a", 32 * MIB, NULL, false);
	struct lv_error err = {0};
	bool exists = true, foreign = true;
	int rc = B->query(&v, &exists, &foreign, &err);
	check(rc == 0 && !exists && !foreign, "query of an absent volume: not there (%s)", err.msg);
	rc = B->create(&v, &err);
	check(rc == 0, "allocate a 32 MiB thin volume (%s)", err.msg);
	check(expect_line("t-a-virtio0", "t-a-virtio0||pool|labvirt:t/a/virtio0|33554432"),
	      "lvs: t-a-virtio0 is a 32 MiB thin volume of pool, tagged labvirt:t/a/virtio0");
	check(access("/dev/lvt/t-a-virtio0", R_OK | W_OK) == 0, "/dev/lvt/t-a-virtio0 is there");
	rc = B->query(&v, &exists, &foreign, &err);
	check(rc == 0 && exists && !foreign, "query: exists and is ours");
	rc = B->create(&v, &err);
	check(has_error(rc, &err, "'/dev/lvt/t-a-virtio0' exists"),
	      "a second create of it fails and says it exists");
	struct storage_usage u = {0};
	rc = B->usage(s, &u, &err);
	check(rc == 0 && u.data_size == 48 * MIB && streq(u.pool, "lvt/pool") && u.data_pct >= 0 &&
		  u.meta_pct > 0 && u.meta_size > 0,
	      "usage: pool lvt/pool of 48 MiB, data %.2f%%, metadata %.2f%% of %llu", u.data_pct,
	      u.meta_pct, (unsigned long long)u.meta_size);
	rc = B->remove(&v, &err);
	check(rc == 0 && !lv_line("t-a-virtio0"), "remove: the volume is gone (%s)", err.msg);
	rc = B->remove(&v, &err);
	check(rc == 0, "remove of an absent volume is not an error");
	vol_clear(&v);
}

static void test_import_full(const struct lab_storage *s, const char *images)
{
	_cleanup_free_ char *raw = xasprintf("%s/raw.img", images);
	struct storage_vol v = vol(s, "f", 2 * MIB, raw, true);
	struct lv_error err = {0};
	int rc = B->create(&v, &err);
	check(rc == 0, "import-from a raw image, clone=full (%s)", err.msg);
	check(expect_line("t-f-virtio0", "t-f-virtio0||pool|labvirt:t/f/virtio0|4194304"),
	      "lvs: sized to the image (4 MiB > 2 MiB asked), no origin");
	check(starts_with_pattern(v.path, 0x5a, MIB), "the volume holds the image's data");
	rc = B->remove(&v, &err);
	check(rc == 0 && !lv_line("t-f-virtio0"), "remove the full clone (%s)", err.msg);
	vol_clear(&v);
}

/* The base volume: the only LV whose name has "-base-". */
static char *base_line(void)
{
	_cleanup_free_ char *all = lvs_text();
	char *save = NULL, *found = NULL;
	size_t n = 0;
	for (char *l = strtok_r(all, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		while (*l == ' ')
			l++;
		if (startswith(l, "t-base-")) {
			free(found);
			found = xstrdup(l);
			n++;
		}
	}
	if (n > 1) {
		free(found);
		return xstrdup("(more than one)");
	}
	return found;
}

static void test_linked(const struct lab_storage *s, const char *images)
{
	_cleanup_free_ char *qcow = xasprintf("%s/disk.qcow2", images);
	struct storage_vol b = vol(s, "b", 0, qcow, false);
	struct storage_vol c = vol(s, "c", 24 * MIB, qcow, false);
	struct lv_error err = {0};
	int rc = B->create(&b, &err);
	check(rc == 0, "import-from a qcow2 image, linked clone (%s)", err.msg);
	_cleanup_free_ char *base = base_line();
	check(base && strstr(base, "||pool|labvirt-base:t|16777216"),
	      "lvs: a base volume t-base-<hash> of 16 MiB, tagged labvirt-base:t ('%s')",
	      base ? base : "none");
	_cleanup_free_ char *base_name = base ? xstrndup(base, strcspn(base, "|")) : xstrdup("?");
	_cleanup_free_ char *want_b =
	    xasprintf("t-b-virtio0|%s|pool|labvirt:t/b/virtio0|16777216", base_name);
	check(expect_line("t-b-virtio0", want_b),
	      "lvs: t-b-virtio0 is a thin snapshot of the base");
	check(starts_with_pattern(b.path, 0xa5, MIB), "the clone reads the image's data");
	rc = B->create(&c, &err);
	check(rc == 0, "a second linked clone, 24 MiB (%s)", err.msg);
	_cleanup_free_ char *want_c =
	    xasprintf("t-c-virtio0|%s|pool|labvirt:t/c/virtio0|25165824", base_name);
	check(expect_line("t-c-virtio0", want_c),
	      "lvs: t-c-virtio0 is a snapshot of the same base, grown to 24 MiB");
	_cleanup_free_ char *base2 = base_line();
	check(base2 && streq(base, base2), "still one base volume");
	check(starts_with_pattern(c.path, 0xa5, MIB), "the second clone reads the image's data");
	rc = B->remove(&b, &err);
	_cleanup_free_ char *base3 = base_line();
	check(rc == 0 && !lv_line("t-b-virtio0") && base3,
	      "remove the first clone: the base stays for the second (%s)", err.msg);
	rc = B->remove(&c, &err);
	_cleanup_free_ char *base4 = base_line();
	check(rc == 0 && !lv_line("t-c-virtio0") && !base4,
	      "remove the last clone: the base goes with it (%s)", err.msg);
	vol_clear(&b);
	vol_clear(&c);
}

static int run_cmd(const char *const argv[])
{
	struct lv_error err = {0};
	int rc = host_run(argv, NULL, &err);
	if (rc < 0)
		printf("# %s\n", err.msg);
	return rc;
}

static void test_foreign(const struct lab_storage *s)
{
	const char *mk[] = {"lvcreate", "-q", "-T",          "lvt/pool", "-V",
			    "8m",       "-n", "t-d-virtio0", NULL};
	const char *tag[] = {"lvchange",        "-q", "--addtag", "labvirt:other/d/virtio0",
			     "lvt/t-e-virtio0", NULL};
	const char *mk2[] = {"lvcreate", "-q", "-T",          "lvt/pool", "-V",
			     "8m",       "-n", "t-e-virtio0", NULL};
	check(run_cmd(mk) == 0 && run_cmd(mk2) == 0 && run_cmd(tag) == 0,
	      "made two foreign LVs: untagged t-d-virtio0, t-e-virtio0 tagged for another lab");
	const char *guests[] = {"d", "e"};
	for (size_t i = 0; i < 2; i++) {
		struct storage_vol v = vol(s, guests[i], 8 * MIB, NULL, false);
		struct lv_error err = {0};
		bool exists = false, foreign = false;
		int rc = B->query(&v, &exists, &foreign, &err);
		check(rc == 0 && exists && foreign, "query: t-%s-virtio0 is foreign", guests[i]);
		rc = B->remove(&v, &err);
		check(has_error(rc, &err, "left alone") && lv_line(v.path + strlen("/dev/lvt/")),
		      "remove refuses t-%s-virtio0 and leaves it", guests[i]);
		rc = B->create(&v, &err);
		check(has_error(rc, &err, "exists"), "create does not touch t-%s-virtio0",
		      guests[i]);
		vol_clear(&v);
	}
	const char *rm[] = {"lvremove", "-q", "-f", "lvt/t-d-virtio0", "lvt/t-e-virtio0", NULL};
	run_cmd(rm);
}

static void test_missing(const struct lab_storage *good)
{
	struct lab_storage novg = *good, nopool = *good, plain = *good;
	novg.vgname = "novg";
	nopool.thinpool = "nopool";
	plain.thinpool = "plain";
	size_t before = lv_count();
	struct lv_error err = {0};
	char *note = NULL;
	struct storage_vol v = vol(&novg, "g", 8 * MIB, NULL, false);
	check(has_error(B->check(&novg, &v, 1, &note, &err), &err,
			"lvmthin storage 'thin': no volume group 'novg'") &&
		  err.code == LV_EXIT_USAGE,
	      "check: no such volume group (exit code 2)");
	check(has_error(B->create(&v, &err), &err, "no volume group 'novg'"),
	      "create: no such volume group");
	check(B->remove(&v, &err) == 0, "remove with no such volume group: nothing to remove");
	vol_clear(&v);
	v = vol(&nopool, "g", 8 * MIB, NULL, false);
	check(has_error(B->check(&nopool, &v, 1, &note, &err), &err,
			"lvmthin storage 'thin': no thin pool 'nopool' in volume group 'lvt'"),
	      "check: no such thin pool");
	check(has_error(B->create(&v, &err), &err, "no thin pool 'nopool'"),
	      "create: no such thin pool");
	vol_clear(&v);
	v = vol(&plain, "g", 8 * MIB, NULL, false);
	check(has_error(B->check(&plain, &v, 1, &note, &err), &err,
			"'lvt/plain' is not a thin pool (it is linear)"),
	      "check: a plain LV is not a thin pool");
	vol_clear(&v);
	check(lv_count() == before && !note, "nothing was created");
}

static void test_overcommit(const struct lab_storage *good)
{
	struct lab_storage s = *good;
	struct storage_vol v[2] = {vol(&s, "h", 40 * MIB, NULL, false),
				   vol(&s, "i", 32 * MIB, NULL, false)};
	struct lv_error err = {0};
	char *note = NULL;
	int rc = B->check(&s, v, 1, &note, &err);
	check(rc == 0 && !note, "check: 40 MiB in a 48 MiB pool, no warning");
	rc = B->check(&s, v, 2, &note, &err);
	check(rc == 0 && note &&
		  strstr(note, "thin volumes would total 72.0 MiB in thin pool "
			       "'lvt/pool' of 48.0 MiB (1.50x over-commit)"),
	      "check: 72 MiB in 48 MiB warns with the figures ('%s')", note ? note : "");
	free(note), note = NULL;
	s.overcommit = 1.25;
	rc = B->check(&s, v, 2, &note, &err);
	check(has_error(rc, &err, "(1.50x), past the limit of 1.25x (overcommit in lab.cfg)") &&
		  err.code == LV_EXIT_USAGE && !note,
	      "check: past overcommit 1.25 is an error");
	s.overcommit = 2.0;
	rc = B->check(&s, v, 2, &note, &err);
	check(rc == 0 && note, "check: within overcommit 2.0 only warns");
	free(note);
	vol_clear(&v[0]);
	vol_clear(&v[1]);
}

static void test_tools_and_root(const struct lab_storage *s)
{
	struct storage_vol v = vol(s, "j", 8 * MIB, NULL, false);
	struct lv_error err = {0};
	char *note = NULL;
	_cleanup_free_ char *path = xstrdup(getenv("PATH"));
	setenv("PATH", "/nonexistent", 1);
	int rc = B->check(s, &v, 1, &note, &err);
	setenv("PATH", path, 1);
	check(has_error(rc, &err,
			"lvmthin storage 'thin': lvm2 tools missing: no 'vgs' in PATH (install "
			"lvm2 and thin-provisioning-tools)"),
	      "check: lvm2 tools missing");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(3);
		rc = B->check(s, &v, 1, &note, &err);
		printf("# as nobody: %s\n", err.msg);
		fflush(stdout);
		_exit(rc < 0 && strstr(err.msg, "lvmthin storage 'thin': permission denied: lvm2 "
						"needs root (vgs)")
			  ? 0
			  : 1);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "check as a non-root user: permission "
							     "denied");
	vol_clear(&v);
}

/* A raw image of 40 MiB of non-zero data: more than the 48 MiB pool has free
 * once 16 MiB are taken. */
static int make_big_image(const char *path)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	_cleanup_free_ char *buf = xmalloc(MIB);
	memset(buf, 0x3c, MIB);
	for (int i = 0; fd >= 0 && i < 40; i++)
		if (write(fd, buf, MIB) != (ssize_t)MIB)
			return -1;
	return fd >= 0 ? 0 : -1;
}

static void test_pool_full(const struct lab_storage *s)
{
	const char *big = "/tmp/big.raw";
	struct storage_vol fill = vol(s, "k", 16 * MIB, NULL, false);
	struct storage_vol v = vol(s, "l", 0, big, true);
	struct lv_error err = {0};
	char *note = NULL;
	const char *dd[] = {"dd",    "if=/dev/urandom", "of=/dev/lvt/t-k-virtio0",
			    "bs=1M", "count=16",        "conv=fsync",
			    NULL};
	check(make_big_image(big) == 0 && B->create(&fill, &err) == 0 && run_cmd(dd) == 0,
	      "16 MiB of the pool written, a 40 MiB image made");
	size_t before = lv_count();
	int rc = B->check(s, &v, 1, &note, &err);
	check(has_error(rc, &err, "thin pool 'lvt/pool' has ") &&
		  strstr(err.msg, "free; the images to import need up to 40.0 MiB"),
	      "check: an import the pool cannot hold is refused before anything is made");
	rc = B->create(&v, &err);
	check(has_error(rc, &err, "write '/tmp/big.raw' into '/dev/lvt/t-l-virtio0'"),
	      "create without the check: the pool fills up and the write fails");
	check(lv_count() == before && !lv_line("t-l-virtio0"),
	      "the half-written volume was removed");
	struct storage_vol linked = vol(s, "n", 0, big, false);
	rc = B->create(&linked, &err);
	check(has_error(rc, &err, "base volume '") && lv_count() == before,
	      "a linked clone whose base volume does not fit: no base, no clone left");
	vol_clear(&linked);
	rc = B->remove(&fill, &err);
	check(rc == 0 && !lv_line("t-k-virtio0"), "remove works on the full pool (%s)", err.msg);
	free(note);
	unlink(big);
	vol_clear(&fill);
	vol_clear(&v);
}

static bool qemu_img_running(void)
{
	DIR *d = opendir("/proc");
	bool found = false;
	for (struct dirent *e; d && !found && (e = readdir(d));) {
		_cleanup_free_ char *comm = xasprintf("/proc/%s/comm", e->d_name);
		char *name =
		    e->d_name[0] >= '0' && e->d_name[0] <= '9' ? lv_read_file(comm, NULL) : NULL;
		found = name && startswith(name, "qemu-img");
		free(name);
	}
	if (d)
		closedir(d);
	return found;
}

/* What labvirt killed (SIGKILL) in the middle of writing an image into a new
 * volume leaves: the volume, made and tagged, half-written. The tag makes it
 * labvirt's, so the next run (from its intent journal) removes it. */
static void test_killed_write(const struct lab_storage *s)
{
	const char *big = "/tmp/kill.raw";
	struct storage_vol v = vol(s, "m", 0, big, true);
	struct lv_error err = {0};
	size_t before = lv_count();
	struct timespec tick = {0, 1000000L};
	check(make_big_image(big) == 0, "a 40 MiB image made");
	pid_t pid = fork();
	if (pid == 0)
		_exit(B->create(&v, &err) == 0 ? 0 : 1);
	while (access(v.path, F_OK) < 0 && waitpid(pid, NULL, WNOHANG) == 0)
		nanosleep(&tick, NULL);
	bool killed = kill(pid, SIGKILL) == 0;
	int status = 0;
	waitpid(pid, &status, 0);
	check(killed && WIFSIGNALED(status), "the run is killed while the image is written");
	while (qemu_img_running()) /* its writer, orphaned, finishes on its own */
		nanosleep(&tick, NULL);
	bool exists = false, foreign = true;
	int rc = B->query(&v, &exists, &foreign, &err);
	check(rc == 0 && exists && !foreign, "the half-written volume is there and tagged as ours");
	rc = B->remove(&v, &err);
	check(rc == 0 && lv_count() == before, "removing it by its tag leaves nothing (%s)",
	      err.msg);
	unlink(big);
	vol_clear(&v);
}

/* Waits until /dev/lvt has an entry starting with prefix, or pid has ended. */
static void wait_for_lv(const char *prefix, pid_t pid)
{
	struct timespec tick = {0, 1000000L};
	for (;;) {
		DIR *d = opendir("/dev/lvt");
		bool found = false;
		for (struct dirent *e; d && !found && (e = readdir(d));)
			found = startswith(e->d_name, prefix);
		if (d)
			closedir(d);
		if (found || waitpid(pid, NULL, WNOHANG) != 0)
			return;
		nanosleep(&tick, NULL);
	}
}

/* Starts creating v in a child and kills it (SIGKILL) as soon as an LV whose
 * name starts with prefix shows; waits for its orphaned writer to finish. */
static bool kill_create(const struct storage_vol *v, const char *prefix)
{
	struct timespec tick = {0, 1000000L};
	struct lv_error err = {0};
	pid_t pid = fork();
	if (pid == 0)
		_exit(B->create(v, &err) == 0 ? 0 : 1);
	wait_for_lv(prefix, pid);
	bool killed = kill(pid, SIGKILL) == 0;
	int status = 0;
	waitpid(pid, &status, 0);
	while (qemu_img_running())
		nanosleep(&tick, NULL);
	return killed && WIFSIGNALED(status);
}

/* Killed while the base volume of a linked clone is written: the base keeps
 * its "labvirt-part:" tag, so it is never cloned; the next create replaces
 * it, and a remove of the lab's volume (even one never made) removes it. */
static void test_killed_base(const struct lab_storage *s)
{
	const char *big = "/tmp/base.raw";
	struct storage_vol v = vol(s, "p", 0, big, false);
	struct lv_error err = {0};
	size_t before = lv_count();
	check(make_big_image(big) == 0, "a 40 MiB image made for a linked clone");
	check(kill_create(&v, "t-base-"), "the run is killed while the base volume is written");
	_cleanup_free_ char *lvs = lvs_text();
	check(strstr(lvs, "labvirt-part:t") && !strstr(lvs, "labvirt-base:t") &&
		  !lv_line("t-p-virtio0"),
	      "the half-written base carries the part tag, no base tag, and has no clone");
	int rc = B->create(&v, &err);
	_cleanup_free_ char *base = base_line();
	check(rc == 0 && base && strstr(base, "labvirt-base:t") && lv_count() == before + 2,
	      "the next create replaces it with a complete base and clones it (%s)", err.msg);
	check(starts_with_pattern(v.path, 0x3c, MIB), "the clone reads the image's data");
	rc = B->remove(&v, &err);
	check(rc == 0 && lv_count() == before, "remove leaves nothing (%s)", err.msg);
	check(kill_create(&v, "t-base-"), "killed again while the base volume is written");
	rc = B->remove(&v, &err);
	check(rc == 0 && lv_count() == before,
	      "remove of the volume never made removes the half-written base (%s)", err.msg);
	unlink(big);
	vol_clear(&v);
}

/* Prints the JSON reports the unit tests keep (tests/lvm/reports/). */
static void dump_reports(void)
{
	_cleanup_argv_ char **vgs = lvm_cmd_vgs();
	_cleanup_argv_ char **lvs = lvm_cmd_lvs("lvt");
	char **cmds[] = {vgs, lvs};
	for (size_t i = 0; i < 2; i++) {
		char *out = NULL;
		struct lv_error err = {0};
		if (host_run((const char *const *)cmds[i], &out, &err) < 0)
			continue;
		printf("-----BEGIN %s-----\n%s-----END-----\n", cmds[i][0], out);
		free(out);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s IMAGES_DIR [--dump]\n", argv[0]);
		return 2;
	}
	struct lab_storage s = {
	    .id = "thin", .type = STORAGE_LVMTHIN, .vgname = "lvt", .thinpool = "pool"};
	test_allocate(&s);
	test_import_full(&s, argv[1]);
	test_linked(&s, argv[1]);
	test_foreign(&s);
	test_missing(&s);
	test_overcommit(&s);
	test_tools_and_root(&s);
	test_killed_write(&s);
	test_killed_base(&s);
	if (argc > 2 && streq(argv[2], "--dump")) {
		struct storage_vol a = vol(&s, "dump", 0, NULL, false);
		_cleanup_free_ char *qcow = xasprintf("%s/disk.qcow2", argv[1]);
		struct storage_vol b = vol(&s, "x", 20 * MIB, qcow, false);
		struct lv_error err = {0};
		a.size = 8 * MIB;
		B->create(&a, &err);
		B->create(&b, &err);
		dump_reports();
		B->remove(&a, &err);
		B->remove(&b, &err);
		vol_clear(&a);
		vol_clear(&b);
	}
	test_pool_full(&s);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
