/* tap.h - the "ok - ..." / "not ok - ..." lines that the test programs run in a guest
 * or a namespace print (tests/lvm, tests/zfs, test_btrfs), their closing count, and
 * what the storage tests in a guest share. */
#ifndef TAP_H
#define TAP_H

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lv.h"

static int tap_passed, tap_failed;

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
	ok ? tap_passed++ : tap_failed++;
}

/* "N passed, N failed"; the exit status: 0 when all passed. */
static inline int tap_summary(void)
{
	printf("%d passed, %d failed\n", tap_passed, tap_failed);
	return tap_failed ? 1 : 0;
}

/* A raw image of mib MiB, every byte b. */
static inline int tap_make_image(const char *path, int mib, unsigned char b)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	_cleanup_free_ char *buf = xmalloc(1024 * 1024);
	memset(buf, b, 1024 * 1024);
	for (int i = 0; fd >= 0 && i < mib; i++)
		if (write(fd, buf, 1024 * 1024) != 1024 * 1024)
			return -1;
	return fd >= 0 ? 0 : -1;
}

/* A qemu-img runs (one a killed run orphaned still writes). */
static inline bool tap_qemu_img_running(void)
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

#endif
