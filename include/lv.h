/* lv.h - the small things every labvirt file uses: the error type, cleanup
 * helpers and a few string utilities. No library headers beyond libc. */
#ifndef LV_H
#define LV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Exit codes, documented in README.md. */
enum {
	LV_EXIT_OK = 0,
	LV_EXIT_FAIL = 1,
	LV_EXIT_USAGE = 2, /* usage or layout error */
};

/* One error travels up from where it happened; callers prefix context and
 * main prints it once. code is an LV_EXIT_* value. */
struct lv_error {
	int code;
	char msg[1024];
};

/* Sets err (may be NULL) and returns -1, so that `return lv_fail(...)` reads well. */
int lv_fail(struct lv_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, with ": strerror(errnum)" appended. */
int lv_fail_errno(struct lv_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prepends "context: " to an error already set. Returns -1. */
int lv_prefix(struct lv_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A growable list of diagnostics ("file:line: message"), so that one run
 * reports every mistake of a layout. */
struct lv_diag {
	char **lines;
	size_t n, cap;
};
void lv_diag_add(struct lv_diag *d, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void lv_diag_free(struct lv_diag *d);

/* Allocation that never returns NULL: out of memory aborts. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Cleanup helpers, used as `_cleanup_free_ char *s = NULL;`. */
static inline void freep(void *p)
{
	free(*(void **)p);
}
static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_(f)     __attribute__((cleanup(f)))
#define _cleanup_free_   _cleanup_(freep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_close_  _cleanup_(closep)

/* Hands ownership on: returns *p and leaves NULL behind. */
#define steal_pointer(p)                                                                           \
	({                                                                                         \
		__typeof__(*(p)) _tmp = *(p);                                                      \
		*(p) = NULL;                                                                       \
		_tmp;                                                                              \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

bool streq(const char *a, const char *b);
bool startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);
/* A DNS label: 1-63 of [a-z0-9-], not starting or ending with '-'. */
bool lv_is_dns_label(const char *s);
/* Reads a whole file; returns NULL with errno set on failure. */
char *lv_read_file(const char *path, size_t *ret_len);
/* Writes a file atomically (temp file + rename) with the given mode. */
int lv_write_file_atomic(const char *path, const char *data, size_t len, int mode,
			 struct lv_error *err);

#endif
