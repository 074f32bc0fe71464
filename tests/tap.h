/* tap.h - the "ok - ..." / "not ok - ..." lines that the test programs run in a guest
 * or a namespace print (tests/lvm, tests/zfs, test_btrfs), and their closing count. */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

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

#endif
