/* test_template.c - CT templates (template.c, aplinfo.c), for real: archives
 * built here with libarchive's writer (zstd, xz, gzip, none), extracted for a
 * privileged and an unprivileged CT and checked with lstat; hostile archives
 * that must not write outside the destination; the ext4 volume made from a
 * tree, read back with debugfs (nothing mounted); aplinfo.dat, good and bad.
 *
 *   test_template        (as root, with mke2fs and debugfs; else exit 77) */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "template.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
		}                                                                                  \
	} while (0)

/* One archive entry. type 0 is a hardlink to link. */
struct ent {
	const char *name;
	mode_t type, perm;
	int64_t uid, gid;
	const char *data;
	const char *link;
	dev_t rdev;
	const char *xattr; /* name=value */
};

static char work[64];
static char sentinel[128], victim[128];

/* The archive of ents[0..n-1] at path, compressed with filter ("none", ...). */
static void make_archive(const char *path, const char *filter, const struct ent *ents, size_t n)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (!streq(filter, "none") && archive_write_add_filter_by_name(a, filter) != ARCHIVE_OK) {
		fprintf(stderr, "filter %s: %s\n", filter, archive_error_string(a));
		exit(1);
	}
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		fprintf(stderr, "%s: %s\n", path, archive_error_string(a));
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		const struct ent *t = &ents[i];
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, t->name);
		if (t->type == 0) {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, t->link);
		} else {
			archive_entry_set_filetype(e, t->type);
			if (t->type == AE_IFLNK)
				archive_entry_set_symlink(e, t->link);
		}
		archive_entry_set_perm(e, t->perm);
		archive_entry_set_uid(e, t->uid);
		archive_entry_set_gid(e, t->gid);
		archive_entry_set_mtime(e, 1700000000, 0);
		if (t->rdev)
			archive_entry_set_rdev(e, t->rdev);
		if (t->xattr) {
			const char *eq = strchr(t->xattr, '=');
			_cleanup_free_ char *name = xstrndup(t->xattr, (size_t)(eq - t->xattr));
			/* a capability is binary: VFS_CAP_REVISION_2, 20 bytes */
			size_t vlen = streq(name, "security.capability") ? 20 : strlen(eq + 1);
			archive_entry_xattr_add_entry(e, name, eq + 1, vlen);
		}
		size_t len = t->data ? strlen(t->data) : 0;
		archive_entry_set_size(e, (la_int64_t)len);
		if (archive_write_header(a, e) != ARCHIVE_OK) {
			fprintf(stderr, "%s: %s\n", t->name, archive_error_string(a));
			exit(1);
		}
		if (len)
			archive_write_data(a, t->data, len);
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
}

/* The rootfs of a small CT: folders, files, links, setuid and setgid, a user's
 * home, device nodes in and outside /dev, extended attributes. */
static const struct ent tree[] = {
    {"./", AE_IFDIR, 0755, 0, 0},
    {"./etc/", AE_IFDIR, 0755, 0, 0},
    {"./etc/hostname", AE_IFREG, 0644, 0, 0, "ct1\n"},
    {"./etc/localtime", AE_IFLNK, 0777, 0, 0, NULL, "/usr/share/zoneinfo/Etc/UTC"},
    {"./usr/", AE_IFDIR, 0755, 0, 0},
    {"./usr/bin/", AE_IFDIR, 0755, 0, 0},
    {"./usr/bin/su", AE_IFREG, 04755, 0, 0, "\177ELF su"},
    {"./usr/bin/newgrp", 0, 04755, 0, 0, NULL, "./usr/bin/su"},
    {"./usr/bin/wall", AE_IFREG, 02755, 0, 5, "\177ELF wall"},
    {"./usr/bin/ping", AE_IFREG, 0755, 0, 0, "\177ELF ping", NULL, 0,
     "security.capability=\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
     "\x00\x00\x00"},
    {"./bin", AE_IFLNK, 0777, 0, 0, NULL, "usr/bin"},
    {"./home/", AE_IFDIR, 0755, 0, 0},
    {"./home/user/", AE_IFDIR, 0700, 1000, 1000},
    {"./home/user/notes", AE_IFREG, 0600, 1000, 1000, "hello", NULL, 0, "user.labvirt=yes"},
    {"./home/user/secret", AE_IFREG, 0600, 1000, 1000, "x", NULL, 0, "trusted.labvirt=no"},
    {"./var/", AE_IFDIR, 0755, 0, 0},
    {"./var/tmp/", AE_IFDIR, 01777, 0, 0},
    {"./dev/", AE_IFDIR, 0755, 0, 0},
    {"./dev/null", AE_IFCHR, 0666, 0, 0, NULL, NULL, 0x103},
    {"./dev/pts/", AE_IFDIR, 0755, 0, 0},
    {"./srv/", AE_IFDIR, 0755, 0, 0},
    {"./srv/null", AE_IFCHR, 0666, 0, 0, NULL, NULL, 0x103},
};

static char *at(const char *dir, const char *rel)
{
	return xasprintf("%s/%s", dir, rel);
}

static bool exists(const char *dir, const char *rel)
{
	_cleanup_free_ char *p = at(dir, rel);
	struct stat st;
	return lstat(p, &st) == 0;
}

static int dir_entries(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += !streq(de->d_name, ".") && !streq(de->d_name, "..");
	closedir(d);
	return n;
}

static void rm_rf(const char *path)
{
	const char *argv[] = {"rm", "-rf", path, NULL};
	pid_t pid = fork();
	if (pid == 0) {
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	int status;
	waitpid(pid, &status, 0);
}

static char *fresh_dir(const char *name)
{
	char *p = at(work, name);
	rm_rf(p);
	if (mkdir(p, 0755) < 0) {
		perror(p);
		exit(1);
	}
	return p;
}

/* Owner, mode and type of dest/rel as the tree says, shifted by shift. */
static void check_node(const char *dest, const char *rel, mode_t type, mode_t perm, int64_t uid,
		       int64_t gid, int64_t shift, const char *what)
{
	_cleanup_free_ char *p = at(dest, rel);
	struct stat st;
	if (lstat(p, &st) < 0) {
		CHECK(0, "%s: %s missing", what, rel);
		return;
	}
	CHECK((st.st_mode & S_IFMT) == type, "%s: %s type %o", what, rel, st.st_mode & S_IFMT);
	if (type != S_IFLNK)
		CHECK((st.st_mode & 07777) == perm, "%s: %s mode %o, want %o", what, rel,
		      st.st_mode & 07777, perm);
	CHECK(st.st_uid == uid + shift && st.st_gid == gid + shift, "%s: %s owner %u:%u", what, rel,
	      st.st_uid, st.st_gid);
}

static void check_tree(const char *dest, bool unpriv, const struct tmpl_stats *s, const char *what)
{
	int64_t shift = unpriv ? TMPL_SHIFT : 0;
	check_node(dest, ".", S_IFDIR, 0755, 0, 0, shift, what);
	check_node(dest, "etc/hostname", S_IFREG, 0644, 0, 0, shift, what);
	check_node(dest, "usr/bin/su", S_IFREG, 04755, 0, 0, shift, what);
	check_node(dest, "usr/bin/wall", S_IFREG, 02755, 0, 5, shift, what);
	check_node(dest, "home/user", S_IFDIR, 0700, 1000, 1000, shift, what);
	check_node(dest, "home/user/notes", S_IFREG, 0600, 1000, 1000, shift, what);
	check_node(dest, "var/tmp", S_IFDIR, 01777, 0, 0, shift, what);
	check_node(dest, "etc/localtime", S_IFLNK, 0, 0, 0, shift, what);
	check_node(dest, "dev", S_IFDIR, 0755, 0, 0, shift, what);
	char buf[256];
	_cleanup_free_ char *lt = at(dest, "etc/localtime");
	ssize_t n = readlink(lt, buf, sizeof(buf) - 1);
	buf[n < 0 ? 0 : n] = '\0';
	CHECK(streq(buf, "/usr/share/zoneinfo/Etc/UTC"), "%s: localtime -> %s", what, buf);
	_cleanup_free_ char *bin = at(dest, "bin");
	n = readlink(bin, buf, sizeof(buf) - 1);
	buf[n < 0 ? 0 : n] = '\0';
	CHECK(streq(buf, "usr/bin"), "%s: bin -> %s", what, buf);
	struct stat su, newgrp;
	_cleanup_free_ char *psu = at(dest, "usr/bin/su");
	_cleanup_free_ char *png = at(dest, "usr/bin/newgrp");
	CHECK(lstat(psu, &su) == 0 && lstat(png, &newgrp) == 0 && su.st_ino == newgrp.st_ino &&
		  su.st_nlink == 2,
	      "%s: newgrp is not a hardlink of su", what);
	size_t len;
	_cleanup_free_ char *notes = at(dest, "home/user/notes");
	_cleanup_free_ char *text = lv_read_file(notes, &len);
	CHECK(text && streq(text, "hello"), "%s: notes hold '%s'", what, text ? text : "(none)");
	/* Proxmox's dev exclusion, for both; the node outside /dev only privileged. */
	CHECK(!exists(dest, "dev/null") && !exists(dest, "dev/pts"), "%s: dev/ not empty", what);
	_cleanup_free_ char *pnull = at(dest, "srv/null");
	struct stat st;
	if (unpriv) {
		CHECK(lstat(pnull, &st) < 0, "%s: srv/null made", what);
	} else {
		CHECK(lstat(pnull, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
		      "%s: srv/null is not char 1,3", what);
	}
	char xv[64] = "";
	ssize_t xl = lgetxattr(notes, "user.labvirt", xv, sizeof(xv) - 1);
	CHECK(xl == 3 && memcmp(xv, "yes", 3) == 0, "%s: user.labvirt lost", what);
	_cleanup_free_ char *secret = at(dest, "home/user/secret");
	CHECK(lgetxattr(secret, "trusted.labvirt", xv, sizeof(xv)) < 0, "%s: trusted.labvirt kept",
	      what);
	_cleanup_free_ char *ping = at(dest, "usr/bin/ping");
	CHECK(lgetxattr(ping, "security.capability", xv, sizeof(xv)) > 0,
	      "%s: ping lost its capability", what);
	uint64_t want_entries = ARRAY_SIZE(tree) - 2 - (unpriv ? 1 : 0);
	CHECK(s->entries == want_entries, "%s: %llu entries, want %llu", what,
	      (unsigned long long)s->entries, (unsigned long long)want_entries);
	CHECK(s->bytes == 4 + 7 + 9 + 9 + 5 + 1, "%s: %llu bytes", what,
	      (unsigned long long)s->bytes);
	CHECK(s->skipped_devices == (unpriv ? 2u : 1u) && s->skipped_dev == 1,
	      "%s: skipped %llu devices, %llu under dev/", what,
	      (unsigned long long)s->skipped_devices, (unsigned long long)s->skipped_dev);
}

static const struct tmpl_opts privileged = {false, 0, 0, 0};
static const struct tmpl_opts unprivileged = {true, TMPL_SHIFT, TMPL_SHIFT, TMPL_ID_COUNT};

static void test_extract(void)
{
	/* Named .tar.gz whatever they hold: the content decides. */
	static const char *const filters[] = {"zstd", "xz", "gzip", "none"};
	for (size_t f = 0; f < ARRAY_SIZE(filters); f++) {
		_cleanup_free_ char *path = xasprintf("%s/ct-%s.tar.gz", work, filters[f]);
		make_archive(path, filters[f], tree, ARRAY_SIZE(tree));
		for (int u = 0; u < 2; u++) {
			_cleanup_free_ char *dest = fresh_dir(u ? "unpriv" : "priv");
			struct tmpl_stats s;
			struct lv_error err = {0};
			_cleanup_free_ char *what =
			    xasprintf("%s %s", filters[f], u ? "unpriv" : "priv");
			int rc =
			    tmpl_extract(path, dest, u ? &unprivileged : &privileged, &s, &err);
			CHECK(rc == 0, "%s: %s", what, err.msg);
			if (rc == 0)
				check_tree(dest, u, &s, what);
		}
	}
}

static void expect_error(const char *name, const struct ent *ents, size_t n,
			 const struct tmpl_opts *opts, const char *want)
{
	_cleanup_free_ char *path = xasprintf("%s/%s.tar", work, name);
	make_archive(path, "none", ents, n);
	_cleanup_free_ char *dest = fresh_dir("hostile");
	struct lv_error err = {0};
	int rc = tmpl_extract(path, dest, opts, NULL, &err);
	_cleanup_free_ char *full = xasprintf("template %s: %s", path, want);
	CHECK(rc < 0, "%s: accepted", name);
	size_t wl = strlen(full);
	bool prefix = wl > 0 && full[wl - 1] == '*';
	CHECK(prefix ? strncmp(err.msg, full, wl - 1) == 0 : streq(err.msg, full),
	      "%s: got '%s', want '%s'", name, err.msg, full);
	CHECK(dir_entries(sentinel) == 0, "%s: wrote into %s", name, sentinel);
}

static void test_hostile(void)
{
	struct stat pw0;
	stat("/etc/passwd", &pw0);
	_cleanup_free_ char *abs = xasprintf("%s/abs", sentinel);
	const struct ent absolute[] = {{abs, AE_IFREG, 0644, 0, 0, "x"}};
	_cleanup_free_ char *want_abs = xasprintf("entry '%s': absolute path", abs);
	expect_error("absolute", absolute, 1, &unprivileged, want_abs);
	const struct ent dotdot[] = {{"../outside/x", AE_IFREG, 0644, 0, 0, "x"}};
	expect_error("dotdot", dotdot, 1, &unprivileged,
		     "entry '../outside/x': path contains '..'");
	const struct ent dotdot2[] = {{"./a/", AE_IFDIR, 0755, 0, 0},
				      {"./a/../../outside/y", AE_IFREG, 0644, 0, 0, "y"}};
	expect_error("dotdot2", dotdot2, 2, &privileged,
		     "entry './a/../../outside/y': path contains '..'");
	const struct ent through[] = {{"evil", AE_IFLNK, 0777, 0, 0, NULL, sentinel},
				      {"evil/file", AE_IFREG, 0644, 0, 0, "pwned"}};
	expect_error("through-symlink", through, 2, &privileged,
		     "entry 'evil/file': Cannot extract through symlink *");
	const struct ent through_rel[] = {{"up", AE_IFLNK, 0777, 0, 0, NULL, "../outside"},
					  {"up/file", AE_IFREG, 0644, 0, 0, "pwned"}};
	expect_error("through-relative-symlink", through_rel, 2, &unprivileged,
		     "entry 'up/file': Cannot extract through symlink *");
	const struct ent hard_abs[] = {{"pw", 0, 0644, 0, 0, NULL, "/etc/passwd"}};
	expect_error("hardlink-absolute", hard_abs, 1, &privileged,
		     "entry 'pw': hardlink target '/etc/passwd': absolute path");
	const struct ent hard_up[] = {{"pw", 0, 0644, 0, 0, NULL, "../../../../../etc/passwd"}};
	expect_error("hardlink-dotdot", hard_up, 1, &privileged,
		     "entry 'pw': hardlink target '../../../../../etc/passwd': path contains "
		     "'..'");
	const struct ent hard_through[] = {{"etc", AE_IFLNK, 0777, 0, 0, NULL, "/etc"},
					   {"pw", 0, 0644, 0, 0, NULL, "etc/passwd"}};
	expect_error("hardlink-through-symlink", hard_through, 2, &privileged,
		     "entry 'pw': Cannot extract through symlink *");
	const struct ent big_uid[] = {{"big", AE_IFREG, 0644, 70000, 0, "x"}};
	expect_error("uid-70000", big_uid, 1, &unprivileged,
		     "entry 'big': uid 70000 is outside the container's 65536 ids");
	const struct ent big_gid[] = {{"big", AE_IFREG, 0644, 0, 65536, "x"}};
	expect_error("gid-65536", big_gid, 1, &unprivileged,
		     "entry 'big': gid 65536 is outside the container's 65536 ids");
	const struct ent root_file[] = {{".", AE_IFREG, 0644, 0, 0, "x"}};
	expect_error("root-file", root_file, 1, &privileged,
		     "entry '.': names the root folder but is not a folder");
	struct stat pw1;
	stat("/etc/passwd", &pw1);
	CHECK(pw0.st_ino == pw1.st_ino && pw0.st_nlink == pw1.st_nlink &&
		  pw0.st_size == pw1.st_size && pw0.st_mtime == pw1.st_mtime,
	      "/etc/passwd changed");

	/* Contained, not refused: a symlink replaced by a file or a folder of the
	 * same name, and a hardlink (with data) to a symlink. */
	const struct ent replaced[] = {
	    {"s", AE_IFLNK, 0777, 0, 0, NULL, victim},   {"s", AE_IFREG, 0644, 0, 0, "mine"},
	    {"d", AE_IFLNK, 0777, 0, 0, NULL, sentinel}, {"d/", AE_IFDIR, 0755, 0, 0},
	    {"d/f", AE_IFREG, 0644, 0, 0, "inside"},     {"v", AE_IFLNK, 0777, 0, 0, NULL, victim},
	    {"h", 0, 0644, 0, 0, "PWNED", "v"},
	};
	_cleanup_free_ char *path = xasprintf("%s/replaced.tar", work);
	make_archive(path, "gzip", replaced, ARRAY_SIZE(replaced));
	_cleanup_free_ char *dest = fresh_dir("hostile");
	struct lv_error err = {0};
	int rc = tmpl_extract(path, dest, &unprivileged, NULL, &err);
	if (rc < 0)
		fprintf(stderr, "replaced: refused: %s\n", err.msg);
	size_t len;
	_cleanup_free_ char *v = lv_read_file(victim, &len);
	CHECK(v && streq(v, "victim"), "replaced: the victim file holds '%s'", v ? v : "(none)");
	CHECK(dir_entries(sentinel) == 0, "replaced: wrote into %s", sentinel);
	if (rc == 0) {
		check_node(dest, "s", S_IFREG, 0644, 0, 0, TMPL_SHIFT, "replaced");
		check_node(dest, "d/f", S_IFREG, 0644, 0, 0, TMPL_SHIFT, "replaced");
	}

	/* Not an archive; not an empty destination. */
	_cleanup_free_ char *junk = at(work, "junk.tar.zst");
	lv_write_file_atomic(junk, "not a tar\n", 10, 0644, NULL);
	err = (struct lv_error){0};
	CHECK(tmpl_extract(junk, dest, &privileged, NULL, &err) < 0, "junk: accepted");
	_cleanup_free_ char *want_full = xasprintf("template %s: %s is not empty", junk, dest);
	CHECK(streq(err.msg, want_full), "not empty: got '%s'", err.msg);
	_cleanup_free_ char *empty = fresh_dir("empty");
	err = (struct lv_error){0};
	CHECK(tmpl_extract(junk, empty, &privileged, NULL, &err) < 0, "junk: accepted");
	_cleanup_free_ char *want_junk = xasprintf("template %s: ", junk);
	CHECK(startswith(err.msg, want_junk), "junk: got '%s'", err.msg);
	fprintf(stderr, "junk: %s\n", err.msg);
}

/* debugfs's `stat PATH` of the image, or NULL. */
static char *debugfs_stat(const char *image, const char *path)
{
	_cleanup_free_ char *cmd = xasprintf("debugfs -R 'stat %s' '%s' 2>/dev/null", path, image);
	FILE *f = popen(cmd, "r");
	if (!f)
		return NULL;
	char *out = NULL;
	size_t cap = 0;
	FILE *m = open_memstream(&out, &cap);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, m);
	fclose(m);
	pclose(f);
	return out;
}

static void check_inode(const char *image, const char *path, unsigned uid, unsigned gid,
			const char *mode)
{
	_cleanup_free_ char *out = debugfs_stat(image, path);
	_cleanup_free_ char *owner = xasprintf("User: %6u   Group: %6u", uid, gid);
	_cleanup_free_ char *m = xasprintf("Mode:  %s ", mode);
	CHECK(out && strstr(out, owner) && strstr(out, m), "ext4 %s: want %s %s, got:\n%s", path,
	      owner, m, out ? out : "(nothing)");
}

static void test_ext4(void)
{
	_cleanup_free_ char *path = xasprintf("%s/ct-zstd.tar.gz", work);
	_cleanup_free_ char *dest = fresh_dir("ext4-tree");
	struct lv_error err = {0};
	CHECK(tmpl_extract(path, dest, &unprivileged, NULL, &err) == 0, "ext4 tree: %s", err.msg);
	_cleanup_free_ char *image = at(work, "rootfs.raw");
	CHECK(rootfs_make_ext4(dest, image, 64 << 20, TMPL_SHIFT, TMPL_SHIFT, &err) == 0,
	      "ext4: %s", err.msg);
	struct stat st;
	CHECK(stat(image, &st) == 0 && st.st_size == 64 << 20, "ext4: image size");
	check_inode(image, "/", 100000, 100000, "0755");
	check_inode(image, "/usr/bin/su", 100000, 100000, "04755");
	check_inode(image, "/usr/bin/wall", 100000, 100005, "02755");
	check_inode(image, "/home/user", 101000, 101000, "0700");
	check_inode(image, "/home/user/notes", 101000, 101000, "0600");
	check_inode(image, "/var/tmp", 100000, 100000, "01777");
	_cleanup_free_ char *lt = debugfs_stat(image, "/etc/localtime");
	CHECK(lt && strstr(lt, "Fast link dest: \"/usr/share/zoneinfo/Etc/UTC\""),
	      "ext4: localtime:\n%s", lt ? lt : "");
	_cleanup_free_ char *nul = debugfs_stat(image, "/srv/null");
	CHECK(nul && !strstr(nul, "Type: character"), "ext4: srv/null present");

	/* Failures: a file made here is removed, one that was there is kept. */
	_cleanup_free_ char *missing = at(work, "no-such-tree");
	_cleanup_free_ char *image2 = at(work, "rootfs2.raw");
	err = (struct lv_error){0};
	CHECK(rootfs_make_ext4(missing, image2, 64 << 20, 0, 0, &err) < 0, "ext4: no tree");
	CHECK(startswith(err.msg, "ext4 ") && strstr(err.msg, "mke2fs"), "ext4: got '%s'", err.msg);
	CHECK(stat(image2, &st) < 0 && errno == ENOENT, "ext4: failed image left behind");
	err = (struct lv_error){0};
	CHECK(rootfs_make_ext4(missing, image, 64 << 20, 0, 0, &err) < 0, "ext4: no tree");
	CHECK(stat(image, &st) == 0, "ext4: an existing image was removed");
	err = (struct lv_error){0};
	CHECK(rootfs_make_ext4(dest, image2, 1000, 0, 0, &err) < 0, "ext4: size 1000");
	_cleanup_free_ char *want =
	    xasprintf("ext4 %s: size 1000 is not a multiple of 4096 of at least 16 MiB", image2);
	CHECK(streq(err.msg, want), "ext4 size: got '%s'", err.msg);
}

static const char aplinfo_good[] =
    "Package: debian-12-standard\n"
    "Version: 12.7-1\n"
    "Type: lxc\n"
    "OS: debian-12\n"
    "Section: system\n"
    "Maintainer: Proxmox Support Team <support@proxmox.com>\n"
    "Architecture: amd64\n"
    "Location: system/debian-12-standard_12.7-1_amd64.tar.zst\n"
    "md5sum: 0b6959720ebd506b5ddb2fbf8780ca6c\n"
    "sha512sum: "
    "39f6d06e082d6a418438483da4f76092ebd0370a91bad30b82ab6d0f442234d63fe27a15569895e34d6d1e5ca5"
    "0319f62637f7fb96b98dbde4f6103cf05bff6d\n"
    "Infopage: https://pve.proxmox.com/wiki/Linux_Container#pct_supported_distributions\n"
    "Description: Debian 12 Bookworm (standard)\n"
    " A small Debian Bookworm system including\n"
    "  all standard packages.\n"
    "\n"
    "Package: pve-web-news\n"
    "Version: 1.0\n"
    "Type: lxc\n"
    "Description: news\n"
    " Proxmox news, not a template.\n"
    "\n"
    "\n"
    "package: alpine-3.20-default\n"
    "version: 20240908\n"
    "type: lxc\n"
    "os: alpine\n"
    "section: system\n"
    "architecture: amd64\n"
    "certified: yes\n"
    " continued, ignored\n"
    "infopage: https://alpinelinux.org\n"
    "Location: https://example.org/images/alpine-3.20-default_20240908_amd64.tar.xz\n"
    "Description: Alpine Linux 3.20\n"
    "\n"
    "Package: centos-7-default\n"
    "Version: 20190926-1\n"
    "Type: openvz\n"
    "OS: centos\n"
    "Section: system\n"
    "Infopage: https://centos.org\n"
    "Description: CentOS 7\n";

static void test_aplinfo_good(void)
{
	struct aplinfo *list = NULL;
	size_t n = 0;
	struct lv_diag d = {0};
	int rc = aplinfo_parse(aplinfo_good, strlen(aplinfo_good), "aplinfo.dat", &list, &n, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "  %s\n", d.lines[i]);
	CHECK(rc == 0 && d.n == 0 && n == 3, "aplinfo: rc %d, %zu diags, %zu records", rc, d.n, n);
	const struct aplinfo *a = aplinfo_find(list, n, "debian-12-standard_12.7-1_amd64.tar.zst");
	CHECK(a && streq(a->package, "debian-12-standard") && streq(a->version, "12.7-1") &&
		  streq(a->os, "debian-12") && streq(a->section, "system") &&
		  streq(a->md5sum, "0b6959720ebd506b5ddb2fbf8780ca6c") &&
		  strlen(a->sha512sum) == 128 &&
		  streq(a->headline, "Debian 12 Bookworm (standard)") &&
		  streq(a->description,
			"A small Debian Bookworm system including all standard packages.") &&
		  streq(a->location, "system/debian-12-standard_12.7-1_amd64.tar.zst") &&
		  a->line == 1,
	      "aplinfo: debian record");
	a = aplinfo_find(list, n, "alpine-3.20-default_20240908_amd64.tar.xz");
	CHECK(a && streq(a->infopage, "https://alpinelinux.org") && !a->md5sum && a->line == 23,
	      "aplinfo: alpine record");
	a = aplinfo_find(list, n, "centos-7-default_20190926-1_i386.tar.gz");
	CHECK(a && streq(a->type, "openvz") &&
		  streq(a->location, "system/centos-7-default_20190926-1_i386.tar.gz"),
	      "aplinfo: centos record (no Location) %s", a ? a->location : "missing");
	CHECK(!aplinfo_find(list, n, "pve-web-news"), "aplinfo: news listed");
	aplinfo_free(list, n);
	lv_diag_free(&d);
}

static const struct {
	const char *text;
	const char *want; /* diagnostics, one a line */
} aplinfo_bad[] = {
    {"Package: a\nVersion: 1\nType: lxc\nOS: x\n", "f:1: record lacks Infopage\n"},
    {"Package: a\nVersion: v1\nType: docker\nOS: x\nInfopage: i\n",
     "f:2: version 'v1' is not a version\nf:3: type 'docker' is not lxc or openvz\n"},
    {"Package: a\nVersion: 1\nType: lxc\nOS: x\nInfopage: i\nLocation: a/b.zip\n",
     "f:6: location 'a/b.zip' names no template (.tar.gz, .tar.xz, .tar.zst or .tar.bz2)\n"},
    {"Package: a\nVersion: 1\nType: lxc\nOS: x\nInfopage: i\nmd5sum: 123\nsha512sum: ab\n",
     "f:6: md5sum '123' is not 32 hex digits\nf:7: sha512sum 'ab' is not 128 hex digits\n"},
    {"Package: a\nno colon here\n", "f:2: expected 'Key: value', got 'no colon here'\n"},
    {" leading\nPackage: a\n", "f:1: continuation line before any key\n"},
    {"Package: a\nPackage: b\n", "f:2: Package given twice (first at line 1)\n"},
    {"Package: a\nSection:\n", "f:2: Section has no value\n"},
    {"Package: a\nVersion: 1\nType: lxc\nOS: x\nInfopage: i\n\n"
     "Package: a\nVersion: 1\nType: lxc\nOS: x\nInfopage: i\n",
     "f:7: template 'x-a_1_i386.tar.gz' listed twice (first at line 1)\n"},
    {"Package: a\n\nVersion: 1\n",
     "f:1: record lacks Version\nf:1: record lacks Type\nf:1: record lacks OS\n"
     "f:1: record lacks Infopage\nf:3: record lacks Package\nf:3: record lacks Type\n"
     "f:3: record lacks OS\nf:3: record lacks Infopage\n"},
    {"Package: \x01\x02\nVersion: 1\x7f\nType: lxc\nOS: x\nInfopage: i\n",
     "f:2: version '1?' is not a version\n"},
    {"Package: a\nVersion: 1\nType: lxc\nOS: x\nInfopage: i\nArchitecture: amd64\vLocation: a/b\n",
     "f:1: template name 'x-a_1_amd64?Location: a/b.tar.gz' is not a file name\n"},
    {"Package: a\nVersion: 1\nType: lxc\nOS: x\nInfopage: i\nLocation: a/b\tc.tar.gz\n",
     "f:1: template name 'b?c.tar.gz' is not a file name\n"},
};

static void test_aplinfo_bad(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(aplinfo_bad); i++) {
		struct aplinfo *list = (struct aplinfo *)&list;
		size_t n = 7;
		struct lv_diag d = {0};
		const char *t = aplinfo_bad[i].text;
		int rc = aplinfo_parse(t, strlen(t), "f", &list, &n, &d);
		char *got = xstrdup("");
		for (size_t k = 0; k < d.n; k++) {
			char *g = xasprintf("%s%s\n", got, d.lines[k]);
			free(got);
			got = g;
		}
		CHECK(rc < 0 && list == (struct aplinfo *)&list && n == 7,
		      "aplinfo bad %zu: accepted or out-parameters touched", i);
		CHECK(streq(got, aplinfo_bad[i].want), "aplinfo bad %zu: got\n%swant\n%s", i, got,
		      aplinfo_bad[i].want);
		free(got);
		lv_diag_free(&d);
	}
}

static bool have(const char *prog)
{
	_cleanup_free_ char *cmd =
	    xasprintf("command -v %s >/dev/null 2>&1 || test -x /sbin/%s", prog, prog);
	return system(cmd) == 0;
}

int main(void)
{
	test_aplinfo_good();
	test_aplinfo_bad();
	if (geteuid() != 0 || !have("mke2fs") || !have("debugfs")) {
		fprintf(stderr,
			"test_template: extraction needs root, mke2fs and debugfs; "
			"skipped (aplinfo: %d failures)\n",
			failures);
		return failures ? 1 : 77;
	}
	snprintf(work, sizeof(work), "/tmp/labvirt-tmpl.XXXXXX");
	if (!mkdtemp(work)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(sentinel, sizeof(sentinel), "%s/outside", work);
	snprintf(victim, sizeof(victim), "%s/victim", work);
	mkdir(sentinel, 0755);
	lv_write_file_atomic(victim, "victim", 6, 0644, NULL);
	test_extract();
	test_hostile();
	test_ext4();
	if (!getenv("LABVIRT_KEEP"))
		rm_rf(work);
	if (failures) {
		fprintf(stderr, "test_template: %d failures\n", failures);
		return 1;
	}
	printf("test_template: all passed\n");
	return 0;
}
