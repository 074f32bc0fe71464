/* fuzz_template.c - libFuzzer target: a CT template extracted (template.c).
 * The input is the archive; it is extracted for an unprivileged CT into a
 * fresh folder beside a sentinel folder and a victim file (a symlink in the
 * input may name either: the seeds do). Whatever the input, nothing may appear
 * beside the destination, the sentinel stays empty, the victim unchanged, and a
 * failure is one message naming the template, without control bytes. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>

#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The seeds' symlinks point here (fuzz/make-template-seeds.sh), so the path
 * is fixed: one fuzz_template process at a time (no -jobs). */
#define BASE "/dev/shm/labvirt-fuzz-template"

static const char victim_text[] = "victim\n";

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
}

static int unlock(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag, (void)ftw;
	if (S_ISDIR(st->st_mode))
		chmod(path, 0700);
	return 0;
}

static int removal(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0)
		abort();
	return 0;
}

static void remove_tree(const char *path)
{
	nftw(path, unlock, 16, FTW_PHYS);
	if (nftw(path, removal, 16, FTW_PHYS | FTW_DEPTH) < 0)
		abort();
}

/* BASE holds exactly: in.tar, dest/, outside/ (empty), victim (unchanged). */
static void check_base(void)
{
	DIR *d = opendir(BASE);
	if (!d)
		abort();
	struct dirent *de;
	while ((de = readdir(d))) {
		static const char *const ok[] = {".", "..", "in.tar", "dest", "outside", "victim"};
		bool known = false;
		for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
			known |= streq(de->d_name, ok[i]);
		if (!known)
			abort(); /* written beside the destination */
	}
	closedir(d);
	d = opendir(BASE "/outside");
	if (!d)
		abort();
	while ((de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
			abort(); /* written through a symlink */
	closedir(d);
	size_t len;
	char *v = lv_read_file(BASE "/victim", &len);
	struct stat st;
	if (!v || len != strlen(victim_text) || memcmp(v, victim_text, len) != 0 ||
	    lstat(BASE "/victim", &st) < 0 || st.st_nlink != 1 || st.st_mode != (S_IFREG | 0644))
		abort(); /* the victim was written, linked or changed */
	free(v);
}

static void cleanup(void)
{
	remove_tree(BASE);
}

static void setup(void)
{
	static bool done;
	if (done)
		return;
	struct stat st;
	if (lstat(BASE, &st) == 0)
		remove_tree(BASE);
	if (mkdir(BASE, 0755) < 0 || mkdir(BASE "/outside", 0755) < 0)
		abort();
	write_file(BASE "/victim", victim_text, strlen(victim_text));
	atexit(cleanup);
	done = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	write_file(BASE "/in.tar", data, size);
	if (mkdir(BASE "/dest", 0755) < 0)
		abort();
	struct tmpl_opts opts = {true, TMPL_SHIFT, TMPL_SHIFT, TMPL_ID_COUNT};
	struct tmpl_stats stats;
	struct lv_error err = {0};
	if (tmpl_extract(BASE "/in.tar", BASE "/dest", &opts, &stats, &err) < 0) {
		if (!startswith(err.msg, "template " BASE "/in.tar: "))
			abort();
		for (const char *c = err.msg; *c; c++)
			if ((unsigned char)*c < 0x20)
				abort();
	}
	check_base();
	remove_tree(BASE "/dest");
	return 0;
}
