/* guest.c - labvirt's LVM-thin and LVM (thick) backends on real device-mapper,
 * run inside the test guest (tests/lvm/run.sh boots it). The guest's /init made
 * a loop-backed volume group "lvt" with a thin pool "pool" (48 MiB,
 * --errorwhenfull y) and a plain LV "plain"; this program drives
 * storage_lvmthin_backend, then storage_lvm_backend on the group's free
 * extents, through the storage interface and checks each result with lvs' own
 * text output (and the LVs' bytes). Prints
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

#include "../tap.h"
#include "host.h"
#include "lvm.h"
#include "storage.h"

#define MIB (1024ULL * 1024)

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

/* The backend under test: lvmthin's, then lvm's (thick) for the tests below
 * test_thick_allocate. */
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
	check(tap_make_image(big, 40, 0x3c) == 0 && B->create(&fill, &err) == 0 && run_cmd(dd) == 0,
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
	check(tap_make_image(big, 40, 0x3c) == 0, "a 40 MiB image made");
	pid_t pid = fork();
	if (pid == 0)
		_exit(B->create(&v, &err) == 0 ? 0 : 1);
	while (access(v.path, F_OK) < 0 && waitpid(pid, NULL, WNOHANG) == 0)
		nanosleep(&tick, NULL);
	bool killed = kill(pid, SIGKILL) == 0;
	int status = 0;
	waitpid(pid, &status, 0);
	check(killed && WIFSIGNALED(status), "the run is killed while the image is written");
	while (tap_qemu_img_running()) /* its writer, orphaned, finishes on its own */
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
	while (tap_qemu_img_running())
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
	check(tap_make_image(big, 40, 0x3c) == 0, "a 40 MiB image made for a linked clone");
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

/* ---- the lvm backend: thick (linear) LVs in the same group ---- */

/* Where LV name lies: lvs' "devices" field, e.g. "/dev/loop0(17)". */
static char *lv_devices(const char *name)
{
	_cleanup_free_ char *lv = xasprintf("lvt/%s", name);
	const char *argv[] = {"lvs", "--noheadings", "-o", "devices", lv, NULL};
	char *out = NULL;
	struct lv_error err = {0};
	if (host_run(argv, &out, &err) < 0) {
		printf("# lvs -o devices %s: %s\n", lv, err.msg);
		return xstrdup("?");
	}
	char *start = out + strspn(out, " ");
	start[strcspn(start, " \n")] = '\0';
	char *dev = xstrdup(start);
	free(out);
	return dev;
}

/* len bytes of dev from off are all byte b. */
static bool range_is(const char *dev, unsigned char b, uint64_t off, size_t len)
{
	_cleanup_close_ int fd = open(dev, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ unsigned char *buf = xmalloc(len);
	if (fd < 0 || pread(fd, buf, len, (off_t)off) != (ssize_t)len) {
		printf("# cannot read %s: %s\n", dev, strerror(errno));
		return false;
	}
	for (size_t i = 0; i < len; i++)
		if (buf[i] != b) {
			printf("# %s: byte %llu is 0x%02x, expected 0x%02x\n", dev,
			       (unsigned long long)(off + i), buf[i], b);
			return false;
		}
	return true;
}

static bool write_pattern(const char *dev, unsigned char b, size_t len)
{
	_cleanup_close_ int fd = open(dev, O_WRONLY | O_CLOEXEC);
	_cleanup_free_ unsigned char *buf = xmalloc(len);
	memset(buf, b, len);
	bool ok = fd >= 0 && pwrite(fd, buf, len, 0) == (ssize_t)len && fsync(fd) == 0;
	if (!ok)
		printf("# cannot write %s: %s\n", dev, strerror(errno));
	return ok;
}

/* "size|free" of vg lvt in bytes, from vgs' text output. */
static bool vg_figures(uint64_t *size, uint64_t *free_bytes)
{
	const char *argv[] = {
	    "vgs", "--noheadings", "--units",         "b",   "--nosuffix", "--separator",
	    "|",   "-o",           "vg_size,vg_free", "lvt", NULL};
	_cleanup_free_ char *out = NULL;
	struct lv_error err = {0};
	unsigned long long a = 0, b = 0;
	if (host_run(argv, &out, &err) < 0 || sscanf(out, " %llu|%llu", &a, &b) != 2)
		return false;
	*size = a, *free_bytes = b;
	return true;
}

static void test_thick_allocate(const struct lab_storage *s)
{
	struct storage_vol v = vol(s, "ta", 8 * MIB, NULL, false);
	struct lv_error err = {0};
	bool exists = true, foreign = true;
	int rc = B->query(&v, &exists, &foreign, &err);
	check(rc == 0 && !exists && !foreign, "lvm: query of an absent volume: not there (%s)",
	      err.msg);
	rc = B->create(&v, &err);
	check(rc == 0, "lvm: allocate an 8 MiB thick volume (%s)", err.msg);
	check(expect_line("t-ta-virtio0", "t-ta-virtio0|||labvirt:t/ta/virtio0|8388608"),
	      "lvm: lvs: t-ta-virtio0 is 8 MiB, in no pool, tagged labvirt:t/ta/virtio0");
	const char *seg[] = {"lvs", "--noheadings", "-o", "segtype", "lvt/t-ta-virtio0", NULL};
	_cleanup_free_ char *segtype = NULL;
	struct lv_error e2 = {0};
	check(host_run(seg, &segtype, &e2) == 0 && strstr(segtype, "linear"),
	      "lvm: the volume is linear (thick), not thin");
	check(access("/dev/lvt/t-ta-virtio0", R_OK | W_OK) == 0,
	      "lvm: /dev/lvt/t-ta-virtio0 is there");
	rc = B->query(&v, &exists, &foreign, &err);
	check(rc == 0 && exists && !foreign, "lvm: query: exists and is ours");
	rc = B->create(&v, &err);
	check(has_error(rc, &err, "'/dev/lvt/t-ta-virtio0' exists"),
	      "lvm: a second create of it fails and says it exists");
	struct storage_usage u = {0};
	uint64_t size = 0, free_bytes = 0;
	rc = B->usage(s, &u, &err);
	bool figures = vg_figures(&size, &free_bytes);
	double pct = size ? 100.0 * (double)(size - free_bytes) / (double)size : -2;
	check(rc == 0 && figures && streq(u.pool, "lvt") && u.data_size == size &&
		  u.data_pct > pct - 0.01 && u.data_pct < pct + 0.01 && u.meta_pct == -1,
	      "lvm: usage: group lvt of %llu bytes, %.2f%% allocated (vgs: %llu, %.2f%%)",
	      (unsigned long long)u.data_size, u.data_pct, (unsigned long long)size, pct);
	rc = B->remove(&v, &err);
	check(rc == 0 && !lv_line("t-ta-virtio0"), "lvm: remove: the volume is gone (%s)", err.msg);
	rc = B->remove(&v, &err);
	check(rc == 0, "lvm: remove of an absent volume is not an error");
	vol_clear(&v);
}

static void test_thick_foreign(const struct lab_storage *s)
{
	const char *mk[] = {"lvcreate", "-q", "-L", "4m", "-n", "t-tf-virtio0", "lvt", NULL};
	/* a thin volume with the very tag this lab would use: lvmthin's, not lvm's */
	const char *mk2[] = {"lvcreate", "-q", "-T",           "lvt/pool", "-V",
			     "4m",       "-n", "t-tg-virtio0", "--addtag", "labvirt:t/tg/virtio0",
			     NULL};
	check(run_cmd(mk) == 0 && run_cmd(mk2) == 0,
	      "lvm: made an untagged thick LV t-tf-virtio0 and a tagged thin one t-tg-virtio0");
	const char *guests[] = {"tf", "tg"};
	for (size_t i = 0; i < 2; i++) {
		struct storage_vol v = vol(s, guests[i], 4 * MIB, NULL, false);
		struct lv_error err = {0};
		bool exists = false, foreign = false;
		int rc = B->query(&v, &exists, &foreign, &err);
		check(rc == 0 && exists && foreign, "lvm: query: t-%s-virtio0 is foreign",
		      guests[i]);
		rc = B->remove(&v, &err);
		check(has_error(rc, &err, "left alone") && lv_line(v.path + strlen("/dev/lvt/")),
		      "lvm: remove refuses t-%s-virtio0 and leaves it", guests[i]);
		rc = B->create(&v, &err);
		check(has_error(rc, &err, "exists"), "lvm: create does not touch t-%s-virtio0",
		      guests[i]);
		vol_clear(&v);
	}
	const char *rm[] = {"lvremove", "-q", "-f", "lvt/t-tf-virtio0", "lvt/t-tg-virtio0", NULL};
	run_cmd(rm);
}

/* Makes an LV of size at the group's first free extents, fills it with 0xff
 * and removes it (no saferemove): the next LV lands there on old data. */
static char *dirty_extents(const struct lab_storage *s, uint64_t size)
{
	struct lab_storage plain = *s;
	plain.saferemove = false;
	struct storage_vol v = vol(&plain, "dirt", size, NULL, false);
	struct lv_error err = {0};
	char *where = NULL;
	if (B->create(&v, &err) == 0 && write_pattern(v.path, 0xff, size))
		where = lv_devices("t-dirt-virtio0");
	if (B->remove(&v, &err) < 0)
		printf("# remove t-dirt-virtio0: %s\n", err.msg);
	vol_clear(&v);
	return where ? where : xstrdup("(none)");
}

static void test_thick_import(const struct lab_storage *s, const char *images)
{
	_cleanup_free_ char *raw = xasprintf("%s/raw.img", images);
	_cleanup_free_ char *qcow = xasprintf("%s/disk.qcow2", images);
	struct storage_vol r = vol(s, "ti", 2 * MIB, raw, false);
	struct storage_vol q = vol(s, "tq", 0, qcow, false);
	struct lv_error err = {0};
	_cleanup_free_ char *dirt = dirty_extents(s, 4 * MIB);
	int rc = B->create(&r, &err);
	check(rc == 0, "lvm: import-from a raw image (clone linked asked: a full copy) (%s)",
	      err.msg);
	check(expect_line("t-ti-virtio0", "t-ti-virtio0|||labvirt:t/ti/virtio0|4194304"),
	      "lvm: lvs: sized to the image (4 MiB > 2 MiB asked), no origin, tagged");
	_cleanup_free_ char *at = lv_devices("t-ti-virtio0");
	check(streq(at, dirt),
	      "lvm: the volume lies where an old one was filled with 0xff (%s, %s)", at, dirt);
	check(range_is(r.path, 0x5a, 0, MIB) && range_is(r.path, 0, MIB, 3 * MIB),
	      "lvm: it holds the image: 0x5a, then its zeroes written over the old data");
	rc = B->remove(&r, &err);
	check(rc == 0 && !lv_line("t-ti-virtio0"), "lvm: remove the raw import (%s)", err.msg);
	_cleanup_free_ char *dirt2 = dirty_extents(s, 16 * MIB);
	rc = B->create(&q, &err);
	check(rc == 0, "lvm: import-from a qcow2 image, size 0 (%s)", err.msg);
	check(expect_line("t-tq-virtio0", "t-tq-virtio0|||labvirt:t/tq/virtio0|16777216"),
	      "lvm: lvs: the image's virtual size, 16 MiB");
	_cleanup_free_ char *at2 = lv_devices("t-tq-virtio0");
	check(streq(at2, dirt2) && range_is(q.path, 0xa5, 0, MIB) &&
		  range_is(q.path, 0, MIB, 15 * MIB),
	      "lvm: on old 0xff data (%s) it holds the image: 0xa5, then zeroes", at2);
	rc = B->remove(&q, &err);
	check(rc == 0 && !lv_line("t-tq-virtio0"), "lvm: remove the qcow2 import (%s)", err.msg);
	vol_clear(&r);
	vol_clear(&q);
}

/* An untagged LV on the extents an LV of size was just removed from: what is
 * left of its data there (lvcreate zeroes the first 4 KiB itself). */
static bool probe_after(const char *where, uint64_t size, unsigned char b)
{
	_cleanup_free_ char *bytes = xasprintf("%llub", (unsigned long long)size);
	const char *mk[] = {"lvcreate", "-q", "-L", bytes, "-n", "t-probe", "lvt", NULL};
	const char *rm[] = {"lvremove", "-q", "-f", "lvt/t-probe", NULL};
	if (run_cmd(mk) < 0)
		return false;
	_cleanup_free_ char *at = lv_devices("t-probe");
	bool ok = streq(at, where) && range_is("/dev/lvt/t-probe", b, 4096, size - 4096);
	if (!streq(at, where))
		printf("# t-probe is at %s, not %s\n", at, where);
	run_cmd(rm);
	return ok;
}

static void test_thick_saferemove(const struct lab_storage *good)
{
	struct lab_storage plain = *good, safe = *good;
	plain.saferemove = false;
	safe.saferemove = true;
	struct lv_error err = {0};
	struct storage_vol v = vol(&plain, "tz", 8 * MIB, NULL, false);
	check(B->create(&v, &err) == 0 && write_pattern(v.path, 0x77, 8 * MIB),
	      "lvm: an 8 MiB volume written with 0x77 (%s)", err.msg);
	_cleanup_free_ char *where = lv_devices("t-tz-virtio0");
	check(B->remove(&v, &err) == 0 && probe_after(where, 8 * MIB, 0x77),
	      "lvm: saferemove 0: the next LV on its extents (%s) still reads 0x77", where);
	vol_clear(&v);
	v = vol(&safe, "tz", 8 * MIB, NULL, false);
	check(B->create(&v, &err) == 0 && write_pattern(v.path, 0x77, 8 * MIB),
	      "lvm: again, on a storage with saferemove 1 (%s)", err.msg);
	_cleanup_free_ char *where2 = lv_devices("t-tz-virtio0");
	int rc = B->remove(&v, &err);
	check(rc == 0 && !lv_line("t-tz-virtio0"), "lvm: saferemove 1: removed (%s)", err.msg);
	check(streq(where, where2) && probe_after(where2, 8 * MIB, 0),
	      "lvm: saferemove 1: the next LV on its extents (%s) reads zeroes", where2);
	vol_clear(&v);
	/* an LV held open (a running guest's disk: QEMU opens it without O_EXCL) or
	 * opened exclusively (mounted) is not wiped under it */
	const int modes[] = {O_RDWR, O_RDONLY | O_EXCL};
	const char *how[] = {"open (as QEMU opens a disk)", "opened O_EXCL (as when mounted)"};
	const char *want[] = {
	    "saferemove: '/dev/lvt/t-tz-virtio0' is in use (held open by 1 other opener)",
	    "saferemove: cannot open '/dev/lvt/t-tz-virtio0'"};
	for (size_t i = 0; i < 2; i++) {
		v = vol(&safe, "tz", 4 * MIB, NULL, false);
		rc = B->create(&v, &err);
		bool written = rc == 0 && write_pattern(v.path, 0x77, 4 * MIB);
		int fd = written ? open(v.path, modes[i] | O_CLOEXEC) : -1;
		rc = B->remove(&v, &err);
		check(fd >= 0 && has_error(rc, &err, want[i]) && lv_line("t-tz-virtio0") &&
			  range_is(v.path, 0x77, 0, 4 * MIB),
		      "lvm: saferemove of a volume held %s is refused, the LV kept as it was",
		      how[i]);
		if (fd >= 0)
			close(fd);
		check(B->remove(&v, &err) == 0 && !lv_line("t-tz-virtio0"),
		      "lvm: ... and removed once it is free (%s)", err.msg);
		vol_clear(&v);
	}
}

static int fill_marker(const char *path, void *opaque, struct lv_error *err)
{
	(void)opaque;
	return write_pattern(path, 0x42, MIB) ? 0 : lv_fail(err, LV_EXIT_FAIL, "cannot fill");
}

static int fill_fails(const char *path, void *opaque, struct lv_error *err)
{
	(void)opaque;
	return lv_fail(err, LV_EXIT_FAIL, "mkfs of '%s' failed (test)", path);
}

/* A container's volume: made, then filled (ext4 from a template, here a marker). */
static void test_thick_fill(const struct lab_storage *s)
{
	struct storage_vol v = vol(s, "tc", 4 * MIB, NULL, false);
	struct lv_error err = {0};
	size_t before = lv_count();
	v.fill = fill_marker;
	int rc = B->create(&v, &err);
	check(rc == 0 && range_is(v.path, 0x42, 0, MIB),
	      "lvm: a container volume is filled once made (%s)", err.msg);
	check(B->remove(&v, &err) == 0, "lvm: remove it (%s)", err.msg);
	v.fill = fill_fails;
	rc = B->create(&v, &err);
	check(has_error(rc, &err, "failed (test)") && lv_count() == before,
	      "lvm: a fill that fails leaves no volume");
	vol_clear(&v);
}

static void test_thick_check(const struct lab_storage *good, const char *images)
{
	struct lab_storage novg = *good;
	novg.vgname = "novg";
	_cleanup_free_ char *qcow = xasprintf("%s/disk.qcow2", images);
	struct storage_vol v[3] = {vol(good, "c1", 8 * MIB, NULL, false),
				   vol(good, "c2", 0, qcow, false),
				   vol(good, "c3", 200 * MIB, NULL, false)};
	struct lv_error err = {0};
	char *note = NULL;
	size_t before = lv_count();
	uint64_t size = 0, free_bytes = 0;
	vg_figures(&size, &free_bytes);
	char avail[32];
	lvm_size_text(free_bytes, avail);
	int rc = B->check(good, v, 2, &note, &err);
	check(rc == 0 && !note, "lvm: check: 8 MiB and a 16 MiB image fit in %s free (%s)", avail,
	      err.msg);
	rc = B->check(good, v, 3, &note, &err);
	_cleanup_free_ char *want =
	    xasprintf("lvm storage 'thick': the new volumes need 224.0 MiB (8.0 MiB + 16.0 MiB + "
		      "200.0 MiB) but volume group 'lvt' has %s free",
		      avail);
	check(has_error(rc, &err, want) && err.code == LV_EXIT_FAIL && !note,
	      "lvm: check: more than the group has free is refused, with the sizes");
	struct storage_vol nv = vol(&novg, "c4", 8 * MIB, NULL, false);
	rc = B->check(&novg, &nv, 1, &note, &err);
	check(has_error(rc, &err, "lvm storage 'thick': no volume group 'novg'") &&
		  err.code == LV_EXIT_USAGE,
	      "lvm: check: no such volume group (exit code 2)");
	check(B->remove(&nv, &err) == 0,
	      "lvm: remove with no such volume group: nothing to remove");
	_cleanup_free_ char *path = xstrdup(getenv("PATH"));
	setenv("PATH", "/nonexistent", 1);
	rc = B->check(good, v, 1, &note, &err);
	setenv("PATH", path, 1);
	check(has_error(rc, &err,
			"lvm storage 'thick': lvm2 tools missing: no 'vgs' in PATH (install the "
			"Debian package lvm2)"),
	      "lvm: check: lvm2 tools missing");
	check(lv_count() == before, "lvm: the checks made nothing");
	vol_clear(&nv);
	for (size_t i = 0; i < 3; i++)
		vol_clear(&v[i]);
}

/* Prints the JSON reports the unit tests keep (tests/lvm/reports/). */
/* Snapshots as Proxmox's LvmThinPlugin takes them: a read-only thin snapshot
 * snap_VOLUME_NAME; a rollback makes the volume again as a snapshot of it. */
static void test_snapshots(const struct lab_storage *s, const char *images)
{
	struct storage_vol v = vol(s, "s", 8 * MIB, NULL, false);
	struct lv_error err = {0};
	err = (struct lv_error){0};
	check(B->create(&v, &err) == 0 && write_pattern(v.path, 0x11, MIB),
	      "a volume t-s-virtio0 written with 0x11 (%s)", err.msg);
	err = (struct lv_error){0};
	check(B->snapshot(&v, "s1", &err) == 0, "snapshot s1 (%s)", err.msg);
	check(expect_line("snap_t-s-virtio0_s1",
			  "snap_t-s-virtio0_s1|t-s-virtio0|pool|labvirt-snap:t/s/virtio0|8388608"),
	      "lvs: snap_t-s-virtio0_s1, a thin snapshot of the volume, tagged labvirt-snap:");
	check(write_pattern(v.path, 0x22, MIB), "the volume written again (0x22)");
	err = (struct lv_error){0};
	check(B->rollback(&v, "s1", &err) == 0, "rollback s1 (%s)", err.msg);
	check(expect_line("t-s-virtio0",
			  "t-s-virtio0|snap_t-s-virtio0_s1|pool|labvirt:t/s/virtio0|8388608"),
	      "lvs: the volume made again from the snapshot, with its own tag only");
	check(starts_with_pattern(v.path, 0x11, MIB), "... and it reads 0x11 again");
	check(write_pattern(v.path, 0x33, MIB), "... and takes writes");
	err = (struct lv_error){0};
	check(B->rollback(&v, "nope", &err) < 0 && lv_line("t-s-virtio0"),
	      "rollback to a snapshot that is not there: refused, the volume stays (%s)", err.msg);
	err = (struct lv_error){0};
	check(B->snapshot(&v, "s1", &err) == 0 && B->rollback(&v, "s1", &err) == 0 &&
		  starts_with_pattern(v.path, 0x33, MIB),
	      "a snapshot s1 again, over the old one (the config names none): it holds 0x33 (%s)",
	      err.msg);
	const char *mk[] = {"lvcreate",           "-q", "-T", "lvt/pool", "-V", "4m", "-n",
			    "snap_t-s-virtio0_x", NULL};
	check(run_cmd(mk) == 0, "an untagged thin LV snap_t-s-virtio0_x made by hand");
	err = (struct lv_error){0};
	int rc = B->snapshot(&v, "x", &err);
	check(has_error(rc, &err, "left alone"), "snapshot x over it: refused");
	rc = B->delsnapshot(&v, "x", &err);
	check(has_error(rc, &err, "left alone") && lv_line("snap_t-s-virtio0_x"),
	      "delsnapshot x: refused, it stays");
	const char *rm[] = {"lvremove", "-q", "-f", "lvt/snap_t-s-virtio0_x", NULL};
	run_cmd(rm);
	err = (struct lv_error){0};
	check(B->snapshot(&v, "s2", &err) == 0, "snapshot s2 (%s)", err.msg);
	err = (struct lv_error){0};
	check(B->delsnapshot(&v, "s2", &err) == 0 && !lv_line("snap_t-s-virtio0_s2"),
	      "delsnapshot s2: gone (%s)", err.msg);
	err = (struct lv_error){0};
	check(B->delsnapshot(&v, "s2", &err) == 0, "delsnapshot of an absent one: nothing to do");
	err = (struct lv_error){0};
	check(B->remove(&v, &err) == 0 && !lv_line("t-s-virtio0") &&
		  !lv_line("snap_t-s-virtio0_s1"),
	      "remove: the volume and its snapshot are gone (%s)", err.msg);
	vol_clear(&v);

	/* a linked clone rolled back comes from its snapshot, no longer from its base: the
	 * base still goes with it */
	_cleanup_free_ char *qcow = xasprintf("%s/disk.qcow2", images);
	struct storage_vol l = vol(s, "l", 0, qcow, false);
	err = (struct lv_error){0};
	check(B->create(&l, &err) == 0 && B->snapshot(&l, "s1", &err) == 0 &&
		  B->rollback(&l, "s1", &err) == 0 && starts_with_pattern(l.path, 0xa5, MIB),
	      "a linked clone, snapshotted and rolled back, reads the image's data (%s)", err.msg);
	_cleanup_free_ char *base = base_line();
	err = (struct lv_error){0};
	check(B->remove(&l, &err) == 0 && !lv_line("t-l-virtio0") && !base_line(),
	      "remove: the clone, its snapshot and the base (%s) are gone (%s)",
	      base ? base : "none", err.msg);
	vol_clear(&l);
}

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
	test_snapshots(&s, argv[1]);
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
	struct lab_storage thick = {.id = "thick", .type = STORAGE_LVM, .vgname = "lvt"};
	B = &storage_lvm_backend;
	test_thick_allocate(&thick);
	test_thick_foreign(&thick);
	test_thick_import(&thick, argv[1]);
	test_thick_saferemove(&thick);
	test_thick_fill(&thick);
	test_thick_check(&thick, argv[1]);
	test_killed_write(&thick);
	return tap_summary();
}
