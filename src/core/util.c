/* util.c - allocation that cannot fail, small string helpers, whole-file I/O. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "lv.h"

static void *check(void *p)
{
	if (!p) {
		fputs("labvirt: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *xmalloc(size_t n)
{
	return check(malloc(n ? n : 1));
}
void *xcalloc(size_t n, size_t size)
{
	return check(calloc(n ? n : 1, size ? size : 1));
}
void *xrealloc(void *p, size_t n)
{
	return check(realloc(p, n ? n : 1));
}
char *xstrdup(const char *s)
{
	return s ? check(strdup(s)) : NULL;
}
char *xstrndup(const char *s, size_t n)
{
	return check(strndup(s, n));
}

char *xasprintf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return check(r < 0 ? NULL : s);
}

bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

bool startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool endswith(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool lv_is_dns_label(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

char *lv_read_file(const char *path, size_t *ret_len)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	_cleanup_free_ char *buf = xmalloc(cap);
	for (;;) {
		size_t r = fread(buf + len, 1, cap - len - 1, f);
		len += r;
		if (r == 0)
			break;
		if (cap - len - 1 == 0)
			buf = xrealloc(buf, cap *= 2);
	}
	if (ferror(f)) {
		errno = EIO;
		return NULL;
	}
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	return steal_pointer(&buf);
}

int lv_write_file_atomic(const char *path, const char *data, size_t len, int mode,
			 struct lv_error *err)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return lv_fail_errno(err, errno, "cannot create '%s'", tmp);
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;
			close(fd);
			unlink(tmp);
			return lv_fail_errno(err, e, "cannot write '%s'", tmp);
		}
		off += (size_t)w;
	}
	int rc = fsync(fd), e = errno;
	if (close(fd) < 0 && rc == 0)
		rc = -1, e = errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -1, e = errno;
	if (rc < 0) {
		unlink(tmp);
		return lv_fail_errno(err, e, "cannot write '%s'", path);
	}
	return 0;
}
