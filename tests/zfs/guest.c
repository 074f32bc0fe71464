/* guest.c - labvirt's zfspool backend on the real OpenZFS module, run inside the test
 * guest (tests/zfs/run.sh boots it). The guest's /init loaded the modules and made a
 * pool "lvz" on a file, mounted at /lvz; a stand-in for udev makes /dev/zvol/ links.
 * This program drives storage_zfspool_backend and checks each result with zfs(8)'s own
 * text output and the devices' bytes. Prints "ok - ..." / "not ok - ..." lines; exit
 * status 0 when all passed.
 *
 * Usage: zfs-guest IMAGES_DIR (raw.img: 4 MiB raw, 0x5a in its first MiB; disk.qcow2:
 * 16 MiB virtual, 0xa5 in its first MiB) */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "../tap.h"
#include "host.h"
#include "storage.h"

#define MIB (1024ULL * 1024)

/* storage.c is not linked in (it brings every backend): its one helper, here. */
static void vol_clear(struct storage_vol *v)
{
	free(v->path);
	free(v->owner);
	*v = (struct storage_vol){0};
}

static struct lab_storage store = {.id = "local-zfs", .type = STORAGE_ZFSPOOL, .pool = "lvz"};
static const struct storage_backend *b = &storage_zfspool_backend;

/* One property of a dataset as `zfs get` shows it, or "(none)". */
static char *prop(const char *ds, const char *name)
{
	const char *argv[] = {"zfs", "get", "-H", "-p", "-o", "value", name, ds, NULL};
	char *out = NULL;
	struct lv_error err = {0};
	if (host_run(argv, &out, &err) < 0)
		return xstrdup("(none)");
	out[strcspn(out, "\n")] = '\0';
	return out;
}

static bool exists(const char *ds)
{
	_cleanup_free_ char *t = prop(ds, "type");
	return !streq(t, "(none)");
}

static bool prop_is(const char *ds, const char *name, const char *want)
{
	_cleanup_free_ char *v = prop(ds, name);
	if (!streq(v, want))
		printf("# %s %s: '%s', expected '%s'\n", ds, name, v, want);
	return streq(v, want);
}

static struct storage_vol zvol(const char *name, const char *owner, uint64_t size)
{
	return (struct storage_vol){.storage = &store,
				    .path = xasprintf("/dev/zvol/lvz/%s", name),
				    .owner = xstrdup(owner),
				    .size = size,
				    .raw = true};
}

static bool bytes_are(const char *path, off_t off, size_t n, unsigned char c)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ unsigned char *buf = xmalloc(n);
	if (fd < 0 || pread(fd, buf, n, off) != (ssize_t)n) {
		printf("# cannot read %s: %s\n", path, strerror(errno));
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (buf[i] != c) {
			printf("# %s: byte %zu is 0x%02x, expected 0x%02x\n", path, (size_t)off + i,
			       buf[i], c);
			return false;
		}
	return true;
}

static bool is_block(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISBLK(st.st_mode);
}

static int count_bases(void)
{
	const char *argv[] = {"zfs",    "list", "-H", "-o",  "name", "-t",
			      "volume", "-d",   "1",  "lvz", NULL};
	_cleanup_free_ char *out = NULL;
	struct lv_error err = {0};
	int n = 0;
	if (host_run(argv, &out, &err) < 0)
		return -1;
	for (char *p = out; (p = strstr(p, "lvz/lab-base-")); p++)
		n++;
	return n;
}

static void test_zvol(void)
{
	struct lv_error err = {0};
	bool e = true, f = true;
	struct storage_vol v = zvol("vm-100-disk-0", "lab/desktop/scsi0", 64 * MIB + 1);
	check(b->query(&v, &e, &f, &err) == 0 && !e && !f, "query: a missing zvol");
	check(b->create(&v, &err) == 0, "create vm-100-disk-0: %s", err.msg);
	check(prop_is("lvz/vm-100-disk-0", "type", "volume") &&
		  prop_is("lvz/vm-100-disk-0", "volsize", "68157440"),
	      "... a zvol, its size rounded up to 1 MiB (65 MiB)");
	check(prop_is("lvz/vm-100-disk-0", "labvirt:owner", "lab/desktop/scsi0"),
	      "... its labvirt:owner property names the disk");
	_cleanup_free_ char *resv = prop("lvz/vm-100-disk-0", "refreservation");
	check(strtoull(resv, NULL, 10) >= 68157440, "... not sparse: it reserves its size (%s)",
	      resv);
	check(is_block(v.path), "... its device link %s is there", v.path);
	check(bytes_are(v.path, 0, MIB, 0), "... it reads as zeroes");
	check(b->query(&v, &e, &f, &err) == 0 && e && !f, "query: it exists and is ours");
	struct storage_vol other = v;
	other.owner = (char *)"lab/other/scsi0";
	check(b->query(&other, &e, &f, &err) == 0 && e && f, "query with another owner: foreign");
	check(b->remove(&other, &err) < 0 && exists("lvz/vm-100-disk-0"),
	      "remove for another owner: refused, the zvol stays (%s)", err.msg);
	check(b->create(&v, &err) < 0, "create again: refused, it exists (%s)", err.msg);
	check(b->remove(&v, &err) == 0 && !exists("lvz/vm-100-disk-0"), "remove: it is gone");
	check(b->remove(&v, &err) == 0, "remove again: nothing to do");
	vol_clear(&v);

	/* sparse and blocksize, as the stanza says */
	store.sparse = true;
	store.blocksize = "16k";
	v = zvol("vm-101-disk-0", "lab/srv/scsi0", 32 * MIB);
	check(b->create(&v, &err) == 0, "create with sparse 1, blocksize 16k: %s", err.msg);
	check(prop_is("lvz/vm-101-disk-0", "refreservation", "0") &&
		  prop_is("lvz/vm-101-disk-0", "volblocksize", "16384"),
	      "... no reservation, volblocksize 16384");
	check(b->remove(&v, &err) == 0, "... removed");
	store.sparse = false;
	store.blocksize = NULL;
	vol_clear(&v);

	/* a dataset of that name that labvirt did not make */
	const char *mk[] = {"zfs", "create", "-V", "8M", "lvz/vm-102-disk-0", NULL};
	host_run(mk, NULL, &err);
	v = zvol("vm-102-disk-0", "lab/x/scsi0", 8 * MIB);
	check(b->query(&v, &e, &f, &err) == 0 && e && f, "a zvol without labvirt:owner: foreign");
	check(b->create(&v, &err) < 0 && b->remove(&v, &err) < 0 && exists("lvz/vm-102-disk-0"),
	      "create and remove refuse it, it stays");
	const char *rm[] = {"zfs", "destroy", "lvz/vm-102-disk-0", NULL};
	host_run(rm, NULL, &err);
	vol_clear(&v);
}

static void test_clones(const char *images)
{
	struct lv_error err = {0};
	_cleanup_free_ char *raw = xasprintf("%s/raw.img", images);
	_cleanup_free_ char *qcow = xasprintf("%s/disk.qcow2", images);
	struct storage_vol a = zvol("lab-a-scsi0", "lab/a/scsi0", 16 * MIB);
	struct storage_vol c = zvol("lab-c-scsi0", "lab/c/scsi0", 0);
	a.import_from = c.import_from = raw;
	check(b->create(&a, &err) == 0, "linked clone a of a raw image: %s", err.msg);
	check(count_bases() == 1, "... one base zvol lab-base-*");
	_cleanup_free_ char *origin = prop("lvz/lab-a-scsi0", "origin");
	check(startswith(origin, "lvz/lab-base-") && endswith(origin, "@__base__"),
	      "... a is a clone of the base's @__base__ (%s)", origin);
	_cleanup_free_ char *base = xstrndup(origin, strcspn(origin, "@"));
	check(prop_is(base, "labvirt:base", "lab") && prop_is(base, "labvirt:part", "-"),
	      "... the base is marked labvirt:base=lab, no longer part");
	check(prop_is("lvz/lab-a-scsi0", "volsize", "16777216"), "... grown to 16 MiB");
	check(bytes_are(a.path, 0, MIB, 0x5a) && bytes_are(a.path, MIB, MIB, 0),
	      "... the image's bytes are in it");
	check(b->create(&c, &err) == 0 && count_bases() == 1,
	      "linked clone c of the same image: the same base (%s)", err.msg);
	check(prop_is("lvz/lab-c-scsi0", "volsize", "4194304"), "... c has the image's size");
	check(b->remove(&a, &err) == 0 && count_bases() == 1, "remove a: the base stays for c");
	check(b->remove(&c, &err) == 0 && count_bases() == 0,
	      "remove c, the last clone: the base goes too (%s)", err.msg);

	struct storage_vol d = zvol("lab-d-scsi0", "lab/d/scsi0", 32 * MIB);
	d.import_from = qcow;
	d.full_clone = true;
	check(b->create(&d, &err) == 0, "full copy d of a qcow2 image: %s", err.msg);
	check(prop_is("lvz/lab-d-scsi0", "origin", "-") && count_bases() == 0,
	      "... a zvol of its own, no base");
	check(bytes_are(d.path, 0, MIB, 0xa5) && bytes_are(d.path, MIB, MIB, 0),
	      "... the image's bytes, then zeroes");
	check(b->remove(&d, &err) == 0, "... removed");

	struct storage_vol small = zvol("lab-e-scsi0", "lab/e/scsi0", MIB);
	small.import_from = qcow;
	check(b->create(&small, &err) < 0 && !exists("lvz/lab-e-scsi0") && count_bases() == 0,
	      "an image bigger than the disk: refused, nothing made (%s)", err.msg);

	/* a base a killed run left half written goes with the next create */
	const char *half[] = {
	    "zfs", "create", "-V", "4M", "-o", "labvirt:part=lab", "lvz/lab-base-00000000deadbeef",
	    NULL};
	host_run(half, NULL, &err);
	struct storage_vol g = zvol("lab-g-scsi0", "lab/g/scsi0", 0);
	g.import_from = raw;
	check(b->create(&g, &err) == 0 && !exists("lvz/lab-base-00000000deadbeef"),
	      "a half-written base of a killed run is destroyed by the next create");
	check(b->remove(&g, &err) == 0 && count_bases() == 0, "... and all goes with remove");
	vol_clear(&a);
	vol_clear(&c);
	vol_clear(&d);
	vol_clear(&small);
	vol_clear(&g);
}

static bool write_byte(const char *path, size_t n, unsigned char c)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	_cleanup_free_ unsigned char *buf = xmalloc(n);
	memset(buf, c, n);
	return fd >= 0 && pwrite(fd, buf, n, 0) == (ssize_t)n && fsync(fd) == 0;
}

/* Snapshots as Proxmox takes them on ZFS: POOL/NAME@SNAP, rolled back with zfs
 * rollback (the most recent only), destroyed with the volume. */
static void test_snapshots(void)
{
	struct lv_error err = {0};
	struct storage_vol v = zvol("vm-120-disk-0", "lab/snap/scsi0", 8 * MIB);
	err = (struct lv_error){0};
	check(b->create(&v, &err) == 0 && write_byte(v.path, MIB, 0x11),
	      "create vm-120-disk-0 and write 0x11: %s", err.msg);
	err = (struct lv_error){0};
	check(b->snapshot(&v, "s1", &err) == 0, "snapshot s1: %s", err.msg);
	check(prop_is("lvz/vm-120-disk-0@s1", "type", "snapshot") &&
		  prop_is("lvz/vm-120-disk-0@s1", "labvirt:snap", "lab/snap/scsi0"),
	      "... lvz/vm-120-disk-0@s1, a snapshot marked labvirt:snap with the disk");
	check(write_byte(v.path, MIB, 0x22), "the volume written again (0x22)");
	err = (struct lv_error){0};
	check(b->rollback(&v, "s1", &err) == 0, "rollback s1: %s", err.msg);
	check(bytes_are(v.path, 0, MIB, 0x11), "... the volume reads 0x11 again");
	err = (struct lv_error){0};
	check(b->snapshot(&v, "s2", &err) == 0, "snapshot s2: %s", err.msg);
	err = (struct lv_error){0};
	int rc = b->rollback(&v, "s1", &err);
	check(rc < 0 && strstr(err.msg, "not the most recent snapshot"),
	      "rollback to s1 with s2 after it: refused, as on Proxmox (%s)", err.msg);
	err = (struct lv_error){0};
	check(b->rollback(&v, "nope", &err) < 0,
	      "rollback to a snapshot that is not there: refused (%s)", err.msg);
	err = (struct lv_error){0};
	check(b->delsnapshot(&v, "s2", &err) == 0 && !exists("lvz/vm-120-disk-0@s2"),
	      "delsnapshot s2: gone (%s)", err.msg);
	err = (struct lv_error){0};
	check(b->delsnapshot(&v, "s2", &err) == 0, "delsnapshot of an absent one: nothing to do");
	/* one a killed run left (labvirt's): replaced; another's: left alone */
	const char *left[] = {
	    "zfs", "snapshot", "-o", "labvirt:snap=lab/snap/scsi0", "lvz/vm-120-disk-0@s3", NULL};
	const char *theirs[] = {"zfs", "snapshot", "lvz/vm-120-disk-0@mine", NULL};
	check(host_run(left, NULL, &err) == 0 && host_run(theirs, NULL, &err) == 0,
	      "a leftover snapshot s3 and someone else's 'mine' made by hand: %s", err.msg);
	err = (struct lv_error){0};
	check(b->snapshot(&v, "s3", &err) == 0, "snapshot s3 over the leftover: %s", err.msg);
	err = (struct lv_error){0};
	check(b->snapshot(&v, "mine", &err) < 0 && exists("lvz/vm-120-disk-0@mine"),
	      "snapshot over someone else's: refused, it stays (%s)", err.msg);
	err = (struct lv_error){0};
	check(b->delsnapshot(&v, "mine", &err) < 0 && exists("lvz/vm-120-disk-0@mine"),
	      "delsnapshot of someone else's: refused, it stays (%s)", err.msg);
	err = (struct lv_error){0};
	check(b->remove(&v, &err) == 0 && !exists("lvz/vm-120-disk-0") &&
		  !exists("lvz/vm-120-disk-0@s1") && !exists("lvz/vm-120-disk-0@s3"),
	      "remove: the volume and its snapshots are gone (%s)", err.msg);
	vol_clear(&v);
}

static int fill_folder(const char *path, void *opaque, struct lv_error *err)
{
	(void)opaque;
	_cleanup_free_ char *f = xasprintf("%s/hostname", path);
	return lv_write_file_atomic(f, "dns\n", 4, 0644, err);
}

static int fill_fails(const char *path, void *opaque, struct lv_error *err)
{
	(void)path, (void)opaque;
	return lv_fail(err, LV_EXIT_FAIL, "template is broken");
}

static void test_folder(void)
{
	struct lv_error err = {0};
	struct storage_vol v = {.storage = &store,
				.path = xstrdup("/lvz/subvol-101-disk-0"),
				.owner = xstrdup("lab/dns/rootfs"),
				.size = 8 * MIB,
				.folder = true,
				.fill = fill_folder};
	check(b->create(&v, &err) == 0, "folder volume subvol-101-disk-0 (8 MiB): %s", err.msg);
	check(prop_is("lvz/subvol-101-disk-0", "type", "filesystem") &&
		  prop_is("lvz/subvol-101-disk-0", "refquota", "8388608") &&
		  prop_is("lvz/subvol-101-disk-0", "acltype", "posix") &&
		  prop_is("lvz/subvol-101-disk-0", "xattr", "sa"),
	      "... a dataset, refquota 8 MiB, POSIX ACLs and xattr=sa as pct makes it");
	check(prop_is("lvz/subvol-101-disk-0", "mountpoint", "/lvz/subvol-101-disk-0"),
	      "... mounted at /lvz/subvol-101-disk-0");
	_cleanup_free_ char *f = xasprintf("%s/hostname", v.path);
	_cleanup_free_ char *text = lv_read_file(f, NULL);
	check(text && streq(text, "dns\n"), "... filled");
	check(b->remove(&v, &err) == 0 && !exists("lvz/subvol-101-disk-0"), "... removed");
	vol_clear(&v);

	v = (struct storage_vol){.storage = &store,
				 .path = xstrdup("/lvz/subvol-103-disk-0"),
				 .owner = xstrdup("lab/bad/rootfs"),
				 .folder = true,
				 .fill = fill_fails};
	check(b->create(&v, &err) < 0 && !exists("lvz/subvol-103-disk-0"),
	      "a fill that fails: the dataset is destroyed again (%s)", err.msg);
	vol_clear(&v);

	v = (struct storage_vol){.storage = &store,
				 .path = xstrdup("/lvz/subvol-104-disk-0"),
				 .owner = xstrdup("lab/free/rootfs"),
				 .folder = true};
	check(b->create(&v, &err) == 0 && prop_is("lvz/subvol-104-disk-0", "refquota", "0"),
	      "size 0: no refquota");
	check(b->remove(&v, &err) == 0, "... removed");
	vol_clear(&v);
}

/* Starts creating v in a child and kills it (SIGKILL) as soon as a zvol device link
 * whose name starts with prefix shows; waits for its orphaned qemu-img to finish. */
static bool kill_create(const struct storage_vol *v, const char *prefix)
{
	struct timespec tick = {0, 1000000L};
	struct lv_error err = {0};
	pid_t pid = fork();
	if (pid == 0)
		_exit(b->create(v, &err) == 0 ? 0 : 1);
	for (bool found = false; !found && waitpid(pid, NULL, WNOHANG) == 0;) {
		DIR *d = opendir("/dev/zvol/lvz");
		for (struct dirent *e; d && !found && (e = readdir(d));)
			found = startswith(e->d_name, prefix);
		if (d)
			closedir(d);
		nanosleep(&tick, NULL);
	}
	bool killed = kill(pid, SIGKILL) == 0;
	int status = 0;
	waitpid(pid, &status, 0);
	while (tap_qemu_img_running())
		nanosleep(&tick, NULL);
	return killed && WIFSIGNALED(status);
}

/* labvirt killed while it writes an image into a new zvol: the zvol is there, carrying
 * labvirt:owner from its first moment, so the next run's recovery (its intent journal)
 * removes it; killed while it writes a base: the base keeps labvirt:part, is never
 * cloned, and the next create (or remove) destroys it. */
static void test_killed(void)
{
	const char *big = "/tmp/kill.raw";
	struct lv_error err = {0};
	check(tap_make_image(big, 40, 0x3c) == 0, "a 40 MiB image made");
	struct storage_vol v = zvol("lab-k-scsi0", "lab/k/scsi0", 0);
	v.import_from = big;
	v.full_clone = true;
	check(kill_create(&v, "lab-k-scsi0"), "the run is killed while the image is written");
	bool e = false, f = true;
	check(b->query(&v, &e, &f, &err) == 0 && e && !f,
	      "the half-written zvol is there and carries labvirt:owner");
	check(b->remove(&v, &err) == 0 && !exists("lvz/lab-k-scsi0"),
	      "removing it by its owner leaves nothing (%s)", err.msg);
	vol_clear(&v);

	v = zvol("lab-p-scsi0", "lab/p/scsi0", 0);
	v.import_from = big;
	check(kill_create(&v, "lab-base-"), "the run is killed while the base zvol is written");
	check(count_bases() == 1 && !exists("lvz/lab-p-scsi0"),
	      "the half-written base is there, no clone of it");
	_cleanup_free_ char *list = NULL;
	const char *argv[] = {"zfs", "list",   "-H", "-o", "name,labvirt:part,labvirt:base",
			      "-t",  "volume", "-d", "1",  "lvz",
			      NULL};
	host_run(argv, &list, &err);
	check(list && strstr(list, "\tlab\t-\n"), "... marked labvirt:part=lab, not labvirt:base");
	check(b->create(&v, &err) == 0 && count_bases() == 1 && bytes_are(v.path, 0, MIB, 0x3c),
	      "the next create replaces it with a complete base and clones it (%s)", err.msg);
	check(b->remove(&v, &err) == 0 && count_bases() == 0, "remove leaves nothing (%s)",
	      err.msg);
	check(kill_create(&v, "lab-base-"), "killed again while the base zvol is written");
	check(b->remove(&v, &err) == 0 && count_bases() == 0,
	      "remove of the zvol never made destroys the half-written base (%s)", err.msg);
	unlink(big);
	vol_clear(&v);
}

static void test_check(void)
{
	struct lv_error err = {0};
	check(b->check(&store, NULL, 0, NULL, &err) == 0, "check: pool lvz is there: %s", err.msg);
	struct storage_usage u = {0};
	int rc = b->usage(&store, &u, &err);
	check(rc == 0 && u.data_size > 0 && streq(u.pool, "lvz"), "usage: %llu bytes, %.1f%% used",
	      (unsigned long long)u.data_size, u.data_pct);
	struct lab_storage none = store;
	none.pool = "nosuchpool";
	check(b->check(&none, NULL, 0, NULL, &err) < 0 && strstr(err.msg, "'nosuchpool' not found"),
	      "check: a pool that is not there: %s", err.msg);
	struct storage_vol big = zvol("vm-105-disk-0", "lab/big/scsi0", 64ULL * 1024 * MIB);
	check(b->check(&store, &big, 1, NULL, &err) < 0 && strstr(err.msg, "need 64.0 GiB"),
	      "check: 64 GiB of zvols (not sparse) on a small pool: %s", err.msg);
	store.sparse = true;
	check(b->check(&store, &big, 1, NULL, &err) == 0, "... with sparse 1 they may");
	store.sparse = false;
	vol_clear(&big);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s IMAGES_DIR\n", argv[0]);
		return 2;
	}
	test_zvol();
	test_clones(argv[1]);
	test_snapshots();
	test_folder();
	test_killed();
	test_check();
	const char *argv2[] = {"zfs", "list", "-H", "-o", "name", "-t", "all", "-r", "lvz", NULL};
	_cleanup_free_ char *out = NULL;
	struct lv_error err = {0};
	host_run(argv2, &out, &err);
	check(out && streq(out, "lvz\n"), "nothing left in pool lvz (%s)", out ? out : err.msg);
	return tap_summary();
}
