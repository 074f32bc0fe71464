/* test_btrfs.c - the btrfs backend (storage_btrfs.c) on a real btrfs: tests/btrfs.sh
 * makes a loop-backed btrfs in a mount namespace of its own and runs this program on
 * it. Each volume is checked with what the kernel says (libbtrfsutil's subvolume
 * info, stat, the file's attributes and bytes), not with the backend's own view.
 *
 *   test_btrfs BTRFS_DIR OTHER_DIR   (OTHER_DIR: a folder on another file system)
 *
 * Prints "ok - ..." / "not ok - ..." lines and "N passed, N failed"; exit 0 when all
 * passed. */
#include <btrfsutil.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "host.h"
#include "storage.h"
#include "tap.h"

#define MIB (1024ULL * 1024)

static const char *top;
static struct lab_storage store = {.id = "fast", .type = STORAGE_BTRFS, .nocow = false};

static struct storage_vol vol(const char *rel, const char *owner, uint64_t size)
{
	return (struct storage_vol){
	    .storage = &store,
	    .path = xasprintf("%s/%s", top, rel),
	    .owner = xstrdup(owner),
	    .size = size,
	    .raw = true,
	};
}

static bool subvolume(const char *path)
{
	return btrfs_util_is_subvolume(path) == BTRFS_UTIL_OK;
}

static char *owner_of(const char *path)
{
	char buf[256];
	ssize_t n = getxattr(path, "user.labvirt.owner", buf, sizeof(buf) - 1);
	if (n < 0)
		return xstrdup("");
	buf[n] = '\0';
	return xstrdup(buf);
}

static off_t size_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* The first n bytes of path are all c. */
static bool bytes_are(const char *path, off_t off, size_t n, unsigned char c)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	unsigned char *buf = xmalloc(n);
	bool ok = pread(fd, buf, n, off) == (ssize_t)n;
	for (size_t i = 0; ok && i < n; i++)
		ok = buf[i] == c;
	free(buf);
	close(fd);
	return ok;
}

static int fs_flags(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), flags = -1;
	if (fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
		flags = -1;
	if (fd >= 0)
		close(fd);
	return flags;
}

/* The lab's base subvolumes in the storage's folder. */
static int count_bases(const char *lab, char *first, size_t len)
{
	_cleanup_free_ char *prefix = xasprintf("%s-base-", lab);
	DIR *d = opendir(top);
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		if (startswith(e->d_name, prefix) && n++ == 0 && first)
			snprintf(first, len, "%s/%s", top, e->d_name);
	if (d)
		closedir(d);
	return n;
}

static bool same_uuid(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, 16) == 0;
}

static void image_raw(const char *path, unsigned char c, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	unsigned char *buf = xmalloc(size);
	memset(buf, c, MIB);
	memset(buf + MIB, 0, size - MIB);
	if (fd < 0 || write(fd, buf, size) != (ssize_t)size) {
		perror(path);
		exit(1);
	}
	free(buf);
	close(fd);
}

static int fill_folder(const char *path, void *opaque, struct lv_error *err)
{
	(void)opaque;
	_cleanup_free_ char *f = xasprintf("%s/etc-hostname", path);
	return lv_write_file_atomic(f, "cache\n", 6, 0644, err);
}

static void test_plain(void)
{
	struct lv_error err = {0};
	struct storage_vol v =
	    vol("images/100/vm-100-disk-0/disk.raw", "lab/server/scsi0", 64 * MIB);
	_cleanup_free_ char *sub = xasprintf("%s/images/100/vm-100-disk-0", top);
	bool e = true, f = true;
	check(storage_query(&v, &e, &f, &err) == 0 && !e && !f, "query: a missing volume");
	check(storage_create(&v, &err) == 0, "create vm-100-disk-0.raw: %s", err.msg);
	check(subvolume(sub), "... it is a subvolume images/100/vm-100-disk-0");
	check(size_of(v.path) == (off_t)(64 * MIB), "... its disk.raw has the disk's size");
	_cleanup_free_ char *o = owner_of(v.path);
	check(streq(o, "lab/server/scsi0"), "... disk.raw carries the owner tag (%s)", o);
	struct stat st;
	check(stat(v.path, &st) == 0 && (st.st_mode & 07777) == 0600, "... disk.raw is 0600");
	check(!(fs_flags(v.path) & FS_NOCOW_FL), "... nocow 0: copy-on-write stays on");
	check(storage_query(&v, &e, &f, &err) == 0 && e && !f, "query: it exists and is ours");
	struct storage_vol other = v;
	other.owner = (char *)"lab/other/scsi0";
	check(storage_query(&other, &e, &f, &err) == 0 && e && f,
	      "query with another owner: foreign");
	check(storage_remove(&other, &err) < 0 && subvolume(sub),
	      "remove for another owner: refused, the subvolume stays");
	check(storage_remove(&v, &err) == 0 && !exists(sub), "remove: the subvolume is gone");
	check(storage_remove(&v, &err) == 0, "remove again: nothing to do, no error");
	storage_vol_clear(&v);

	/* nocow 1: No_COW set while the file is empty */
	store.nocow = true;
	v = vol("lab-nocow-scsi1/disk.raw", "lab/nocow/scsi1", 8 * MIB);
	check(storage_create(&v, &err) == 0, "create with nocow 1: %s", err.msg);
	check(fs_flags(v.path) >= 0 && (fs_flags(v.path) & FS_NOCOW_FL),
	      "... disk.raw has the No_COW attribute");
	check(storage_remove(&v, &err) == 0, "... removed");
	store.nocow = false;
	storage_vol_clear(&v);
}

static void test_foreign(void)
{
	struct lv_error err = {0};
	/* a plain folder where a volume's subvolume would be: not labvirt's */
	_cleanup_free_ char *dir = xasprintf("%s/images/300/vm-300-disk-0", top);
	_cleanup_free_ char *file = xasprintf("%s/disk.raw", dir);
	host_mkdir_p(dir, 0755, &err);
	lv_write_file_atomic(file, "precious", 8, 0600, &err);
	struct storage_vol v = vol("images/300/vm-300-disk-0/disk.raw", "lab/g/scsi0", MIB);
	bool e = false, f = false;
	check(storage_query(&v, &e, &f, &err) == 0 && e && f,
	      "a plain folder (no subvolume) at the volume's place: foreign");
	check(storage_create(&v, &err) < 0, "create there: refused (%s)", err.msg);
	check(storage_remove(&v, &err) < 0 && bytes_are(file, 0, 1, 'p'),
	      "remove: refused, the file stays");
	unlink(file);
	rmdir(dir);
	storage_vol_clear(&v);

	/* a subvolume of ours without its disk.raw: foreign, not "missing" */
	_cleanup_free_ char *sub = xasprintf("%s/images/301/vm-301-disk-0", top);
	host_mkdir_p(sub, 0755, &err);
	rmdir(sub);
	btrfs_util_create_subvolume(sub, 0, NULL, NULL);
	v = vol("images/301/vm-301-disk-0/disk.raw", "lab/g/scsi0", MIB);
	check(storage_query(&v, &e, &f, &err) == 0 && e && f,
	      "a subvolume without disk.raw: there, and not labvirt's");
	btrfs_util_delete_subvolume(sub, 0);
	storage_vol_clear(&v);
}

static void test_clones(const char *work)
{
	struct lv_error err = {0};
	_cleanup_free_ char *raw = xasprintf("%s/base.img", work);
	_cleanup_free_ char *qcow = xasprintf("%s/base.qcow2", work);
	image_raw(raw, 0x5a, 4 * MIB);
	const char *conv[] = {"qemu-img", "convert", "-q", "-f", "raw",
			      "-O",       "qcow2",   raw,  qcow, NULL};
	if (host_run(conv, NULL, &err) < 0) {
		check(false, "qemu-img convert: %s", err.msg);
		return;
	}
	struct storage_vol a = vol("lab-a-scsi0/disk.raw", "lab/a/scsi0", 16 * MIB);
	struct storage_vol b = vol("lab-b-scsi0/disk.raw", "lab/b/scsi0", 0);
	a.import_from = b.import_from = raw;
	check(storage_create(&a, &err) == 0, "linked clone a of a raw image: %s", err.msg);
	char base[512] = "";
	check(count_bases("lab", base, sizeof(base)) == 1, "... one base subvolume (%s)", base);
	struct btrfs_util_subvolume_info bi = {0}, ai = {0}, bbi = {0};
	bool ro = false;
	btrfs_util_subvolume_info(base, 0, &bi);
	btrfs_util_get_subvolume_read_only(base, &ro);
	check(ro, "... the base is read-only");
	_cleanup_free_ char *asub = xasprintf("%s/lab-a-scsi0", top);
	btrfs_util_subvolume_info(asub, 0, &ai);
	check(same_uuid(ai.parent_uuid, bi.uuid), "... a is a snapshot of the base");
	check(size_of(a.path) == (off_t)(16 * MIB), "... grown to the disk's 16 MiB");
	check(bytes_are(a.path, 0, MIB, 0x5a) && bytes_are(a.path, MIB, 3 * MIB, 0),
	      "... the image's bytes are in it");
	check(storage_create(&b, &err) == 0, "linked clone b of the same image: %s", err.msg);
	check(count_bases("lab", NULL, 0) == 1, "... the same base, no second one");
	_cleanup_free_ char *bsub = xasprintf("%s/lab-b-scsi0", top);
	btrfs_util_subvolume_info(bsub, 0, &bbi);
	check(same_uuid(bbi.parent_uuid, bi.uuid) && size_of(b.path) == (off_t)(4 * MIB),
	      "... b is a snapshot too, of the image's size");
	/* a write to a shows in a only */
	int fd = open(a.path, O_WRONLY | O_CLOEXEC);
	unsigned char one = 0x11;
	check(fd >= 0 && pwrite(fd, &one, 1, 0) == 1, "write to a");
	if (fd >= 0)
		close(fd);
	check(bytes_are(b.path, 0, 1, 0x5a), "... b still reads the image");
	check(storage_remove(&a, &err) == 0 && count_bases("lab", NULL, 0) == 1,
	      "remove a: the base stays for b");
	int rc = storage_remove(&b, &err);
	check(rc == 0 && count_bases("lab", NULL, 0) == 0,
	      "remove b, the last clone: the base goes too%s%s", rc ? ": " : "", rc ? err.msg : "");

	struct storage_vol c = vol("lab-c-scsi0/disk.raw", "lab/c/scsi0", 8 * MIB);
	c.import_from = qcow;
	c.full_clone = true;
	struct btrfs_util_subvolume_info ci = {0};
	static const uint8_t none[16];
	check(storage_create(&c, &err) == 0, "full copy c of a qcow2 image: %s", err.msg);
	_cleanup_free_ char *csub = xasprintf("%s/lab-c-scsi0", top);
	btrfs_util_subvolume_info(csub, 0, &ci);
	check(same_uuid(ci.parent_uuid, none) && count_bases("lab", NULL, 0) == 0,
	      "... a subvolume of its own, no base");
	check(size_of(c.path) == (off_t)(8 * MIB) && bytes_are(c.path, 0, MIB, 0x5a),
	      "... raw, 8 MiB, the image's bytes");
	check(storage_remove(&c, &err) == 0, "... removed");

	struct storage_vol small = vol("lab-d-scsi0/disk.raw", "lab/d/scsi0", MIB);
	small.import_from = raw;
	check(storage_create(&small, &err) < 0 && !exists(small.path) &&
		  count_bases("lab", NULL, 0) == 0,
	      "an image bigger than the disk: refused, nothing made (%s)", err.msg);
	storage_vol_clear(&a);
	storage_vol_clear(&b);
	storage_vol_clear(&c);
	storage_vol_clear(&small);
}

static void test_folder(void)
{
	struct lv_error err = {0};
	struct storage_vol v = vol("images/102/subvol-102-disk-0.subvol", "lab/cache/rootfs", 0);
	v.folder = true;
	v.fill = fill_folder;
	check(storage_create(&v, &err) == 0, "folder volume subvol-102-disk-0.subvol: %s", err.msg);
	_cleanup_free_ char *f = xasprintf("%s/etc-hostname", v.path);
	_cleanup_free_ char *o = owner_of(v.path);
	struct stat st;
	check(subvolume(v.path) && stat(v.path, &st) == 0 && (st.st_mode & 07777) == 0700,
	      "... a subvolume, 0700");
	_cleanup_free_ char *text = lv_read_file(f, NULL);
	check(text && streq(text, "cache\n"), "... filled before it took its name");
	check(streq(o, "lab/cache/rootfs"), "... tagged");
	check(storage_remove(&v, &err) == 0 && !exists(v.path), "... removed, with its files");
	storage_vol_clear(&v);
}

static void test_temps(void)
{
	struct lv_error err = {0};
	/* what a killed run leaves: the journal's temporary name, a subvolume */
	_cleanup_free_ char *path = xasprintf("%s/lab-k-scsi0/disk.raw", top);
	_cleanup_free_ char *tmp = storage_temp_path(&store, path, 4242);
	_cleanup_free_ char *want = xasprintf("%s/.lab-k-scsi0.part-4242", top);
	check(streq(tmp, want), "the temporary name of X/disk.raw is .X.part-PID (%s)", tmp);
	btrfs_util_create_subvolume(tmp, 0, NULL, NULL);
	_cleanup_free_ char *inner = xasprintf("%s/disk.raw", tmp);
	lv_write_file_atomic(inner, "x", 1, 0600, &err);
	check(storage_remove_temp(&store, tmp, &err) == 0 && !exists(tmp),
	      "storage_remove_temp removes a temporary subvolume: %s", err.msg);
	check(storage_remove_temp(&store, tmp, &err) == 0, "... absent: no error");

	/* a base half made by a killed run (its pid gone) goes with the next remove */
	_cleanup_free_ char *stale = xasprintf("%s/.lab-base-0123456789abcdef.part-999999", top);
	btrfs_util_create_subvolume(stale, 0, NULL, NULL);
	struct storage_vol v = vol("lab-e-scsi0/disk.raw", "lab/e/scsi0", MIB);
	storage_create(&v, &err);
	check(storage_remove(&v, &err) == 0 && !exists(stale),
	      "a stale temporary subvolume of a dead run is removed with the next remove");
	storage_vol_clear(&v);
}

/* The file system fills up while an image is written (a full copy of 320 MiB of random
 * bytes onto a 256 MiB btrfs; a linked clone's base likewise): the create fails, naming
 * the write, and leaves nothing: no volume, no temporary subvolume, no base. */
static void test_full(const char *work)
{
	struct lv_error err = {0};
	_cleanup_free_ char *big = xasprintf("%s/random.img", work);
	const char *dd[] = {"dd", "if=/dev/urandom", "bs=1M", "count=320", "status=none", NULL};
	_cleanup_free_ char *data = NULL;
	int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	bool made = fd >= 0 && host_run(dd, &data, &err) == 0 &&
		    write(fd, data, 320 * MIB) == (ssize_t)(320 * MIB);
	if (fd >= 0)
		close(fd);
	check(made, "a 320 MiB image of random bytes: %s", made ? "made" : err.msg);
	struct storage_vol v = vol("lab-f-scsi0/disk.raw", "lab/f/scsi0", 0);
	v.import_from = big;
	v.full_clone = true;
	int rc = storage_create(&v, &err);
	_cleanup_free_ char *sub = xasprintf("%s/lab-f-scsi0", top);
	check(rc < 0 && strstr(err.msg, "No space left"),
	      "a full copy that does not fit: the write fails (%s)", err.msg);
	check(!exists(sub) && count_bases("lab", NULL, 0) == 0,
	      "... nothing is left: no volume, no temporary subvolume");
	v.full_clone = false;
	rc = storage_create(&v, &err);
	check(rc < 0 && strstr(err.msg, "base volume") && !exists(sub) &&
		  count_bases("lab", NULL, 0) == 0,
	      "a linked clone whose base does not fit: no base, no clone (%s)", err.msg);
	unlink(big);
	storage_vol_clear(&v);
}

static void test_check(const char *other)
{
	struct lv_error err = {0};
	check(storage_check(&store, NULL, 0, NULL, &err) == 0, "check: a btrfs folder passes");
	struct storage_usage u = {0};
	int rc = storage_usage(&store, &u, &err);
	check(rc == 1 && u.data_size > 0 && streq(u.pool, top),
	      "usage: the file system's size (%llu bytes, %.1f%% used)",
	      (unsigned long long)u.data_size, u.data_pct);
	struct lab_storage not = store;
	not .path = (char *)other;
	_cleanup_free_ char *want =
	    xasprintf("storage 'fast': '%s' is not a btrfs file system", other);
	check(storage_check(&not, NULL, 0, NULL, &err) < 0 && streq(err.msg, want),
	      "check on another file system: %s", err.msg);
	_cleanup_free_ char *p = xasprintf("%s/lab-x-scsi0/disk.raw", other);
	struct storage_vol v = {
	    .storage = &not, .path = p, .owner = (char *)"lab/x/scsi0", .size = MIB};
	check(storage_create(&v, &err) < 0 && !exists(p), "create there: refused, nothing made");
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s BTRFS_DIR OTHER_DIR\n", argv[0]);
		return 2;
	}
	top = argv[1];
	store.path = (char *)top;
	_cleanup_free_ char *work = xasprintf("%s/work", argv[2]);
	mkdir(work, 0700);
	test_plain();
	test_foreign();
	test_clones(work);
	test_folder();
	test_temps();
	test_full(work);
	test_check(argv[2]);
	/* nothing of the tests' is left on the file system */
	DIR *d = opendir(top);
	int left = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		if (!streq(e->d_name, ".") && !streq(e->d_name, "..") &&
		    !streq(e->d_name, "images"))
			printf("# left: %s\n", e->d_name), left++;
	if (d)
		closedir(d);
	check(left == 0, "nothing left in the storage's folder but images/");
	return tap_summary();
}
