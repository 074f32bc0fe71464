/* error.c - the one error type, and the list of layout diagnostics. */
#include <errno.h>
#include <string.h>

#include "lv.h"

static int vfail(struct lv_error *err, int code, int errnum, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static int vfail(struct lv_error *err, int code, int errnum, const char *fmt, va_list ap)
{
	if (!err)
		return -1;
	err->code = code;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (errnum && n >= 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(errnum));
	return -1;
}

int lv_fail(struct lv_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(err, code, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int lv_fail_errno(struct lv_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(err, LV_EXIT_FAIL, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int lv_prefix(struct lv_error *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	char ctx[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	/* "ctx: old message", cut at the end when it does not fit */
	size_t clen = strlen(ctx), room = sizeof(err->msg) - 1;
	size_t keep = strnlen(err->msg, room);
	if (clen + 2 + keep > room)
		keep = room - clen - 2;
	memmove(err->msg + clen + 2, err->msg, keep);
	memcpy(err->msg, ctx, clen);
	memcpy(err->msg + clen, ": ", 2);
	err->msg[clen + 2 + keep] = '\0';
	return -1;
}

void lv_diag_add(struct lv_diag *d, const char *file, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 8;
		d->lines = xrealloc(d->lines, d->cap * sizeof(*d->lines));
	}
	d->lines[d->n++] =
	    line > 0 ? xasprintf("%s:%d: %s", file, line, msg) : xasprintf("%s: %s", file, msg);
}

void lv_diag_free(struct lv_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->lines[i]);
	free(d->lines);
	*d = (struct lv_diag){0};
}
