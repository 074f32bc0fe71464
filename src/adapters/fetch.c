/* fetch.c - downloads catalogue images with libcurl and checks them with
 * nettle's SHA-2. The only file that includes curl/curl.h. An image is
 * written to "<path>.part" (an interrupted transfer resumes there with a
 * Range request), its digest compared with the published one, and only then
 * renamed to its final name, read-only (0444), with the verified digest kept
 * in the attribute user.labvirt.sha256 or user.labvirt.sha512. A wrong
 * download is removed. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "fetch.h"
#include "host.h"

#define SUMS_MAX (4u << 20) /* a checksum file is small */
#define ATTEMPTS 5          /* transfers cut short are resumed this often */
#define HEX_MAX  (SHA512_DIGEST_SIZE * 2 + 1)

static const char *sum_name(enum lab_sum t)
{
	return t == SUM_SHA256 ? "sha256" : "sha512";
}

static char *sum_attr(enum lab_sum t)
{
	return xasprintf("user.labvirt.%s", sum_name(t));
}

static void curl_cleanupp(CURL **c)
{
	if (*c)
		curl_easy_cleanup(*c);
}

static void say(const struct fetch_progress *pr, const struct lab_image *im, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(const struct fetch_progress *pr, const struct lab_image *im, const char *fmt, ...)
{
	if (!pr || !pr->step)
		return;
	va_list ap;
	va_start(ap, fmt);
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr->step(pr->ctx, im, msg);
}

/* ---- digests ---- */

static void to_hex(const uint8_t *d, size_t n, char *ret)
{
	for (size_t i = 0; i < n; i++)
		snprintf(ret + 2 * i, 3, "%02x", d[i]);
}

static int digest_file(const char *path, enum lab_sum t, char ret[HEX_MAX], struct lv_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lv_fail_errno(err, errno, "cannot open '%s'", path);
	struct sha256_ctx s256;
	struct sha512_ctx s512;
	sha256_init(&s256);
	sha512_init(&s512);
	_cleanup_free_ uint8_t *buf = xmalloc(1 << 20);
	for (;;) {
		ssize_t n = read(fd, buf, 1 << 20);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return lv_fail_errno(err, errno, "cannot read '%s'", path);
		if (n == 0)
			break;
		if (t == SUM_SHA256)
			sha256_update(&s256, (size_t)n, buf);
		else
			sha512_update(&s512, (size_t)n, buf);
	}
	uint8_t d[SHA512_DIGEST_SIZE];
	if (t == SUM_SHA256) {
		sha256_digest(&s256, SHA256_DIGEST_SIZE, d);
		to_hex(d, SHA256_DIGEST_SIZE, ret);
	} else {
		sha512_digest(&s512, SHA512_DIGEST_SIZE, d);
		to_hex(d, SHA512_DIGEST_SIZE, ret);
	}
	return 0;
}

/* ---- transfers ---- */

struct mem {
	char *buf;
	size_t len;
	bool too_big;
};

static size_t mem_write(char *data, size_t size, size_t n, void *opaque)
{
	struct mem *m = opaque;
	size_t len = size * n;
	if (m->len + len > SUMS_MAX) {
		m->too_big = true;
		return 0;
	}
	m->buf = xrealloc(m->buf, m->len + len + 1);
	memcpy(m->buf + m->len, data, len);
	m->len += len;
	m->buf[m->len] = '\0';
	return len;
}

struct sink {
	int fd;
	CURL *curl;
	uint64_t offset; /* bytes of the .part before this transfer */
	bool checked;    /* the response code was looked at */
	int errnum;
	const struct lab_image *im;
	const struct fetch_progress *pr;
};

static size_t file_write(char *data, size_t size, size_t n, void *opaque)
{
	struct sink *s = opaque;
	size_t len = size * n;
	if (!s->checked) {
		long code = 0;
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
		s->checked = true;
		/* A server that ignores Range sends the whole file again. */
		if (s->offset && code == 200) {
			if (ftruncate(s->fd, 0) < 0) {
				s->errnum = errno;
				return 0;
			}
			s->offset = 0;
		}
	}
	for (size_t done = 0; done < len;) {
		ssize_t w = write(s->fd, data + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			s->errnum = errno;
			return 0;
		}
		done += (size_t)w;
	}
	return len;
}

static int file_progress(void *opaque, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			 curl_off_t ulnow)
{
	struct sink *s = opaque;
	(void)ultotal, (void)ulnow;
	if (s->pr && s->pr->bytes)
		s->pr->bytes(s->pr->ctx, s->im, s->offset + (uint64_t)dlnow,
			     dltotal ? s->offset + (uint64_t)dltotal : 0);
	return 0;
}

static CURL *curl_new(const char *url, char *errbuf)
{
	CURL *c = curl_easy_init();
	if (!c)
		return NULL;
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "labvirt/" LABVIRT_VERSION);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	return c;
}

static const char *curl_why(CURLcode rc, const char *errbuf)
{
	return errbuf[0] ? errbuf : curl_easy_strerror(rc);
}

static int fetch_text(const char *url, char **ret, struct lv_error *err)
{
	char errbuf[CURL_ERROR_SIZE];
	_cleanup_(curl_cleanupp) CURL *c = curl_new(url, errbuf);
	struct mem m = {0};
	if (!c)
		return lv_fail(err, LV_EXIT_FAIL, "cannot start libcurl");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mem_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK || m.too_big) {
		free(m.buf);
		return lv_fail(err, LV_EXIT_FAIL, "cannot download %s: %s", url,
			       m.too_big ? "more than 4 MiB" : curl_why(rc, errbuf));
	}
	*ret = m.buf ? m.buf : xstrdup("");
	return 0;
}

/* ---- checksum files ---- */

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	return n > 0;
}

static void lower_copy(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)(src[i] >= 'A' && src[i] <= 'F' ? src[i] - 'A' + 'a' : src[i]);
	dst[n] = '\0';
}

/* The digest of file in a checksum file: GNU "HEX  FILE" / "HEX *FILE" lines,
 * BSD "SHA256 (FILE) = HEX" lines, or a file holding one digest alone. */
static bool sums_find(const char *text, const char *file, size_t hexlen, char ret[HEX_MAX])
{
	int alone = 0;
	char only[HEX_MAX] = "";
	for (const char *l = text; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] == '\n')) {
		size_t len = strcspn(l, "\n");
		while (len && (l[len - 1] == '\r' || l[len - 1] == ' '))
			len--;
		const char *bsd = memchr(l, '(', len);
		if (len > hexlen && is_hex(l, hexlen) && (l[hexlen] == ' ' || l[hexlen] == '\t')) {
			const char *name = l + hexlen;
			while (name < l + len && (*name == ' ' || *name == '\t' || *name == '*'))
				name++;
			if ((size_t)(l + len - name) == strlen(file) &&
			    memcmp(name, file, strlen(file)) == 0) {
				lower_copy(ret, l, hexlen);
				return true;
			}
		} else if (len == hexlen && is_hex(l, hexlen)) {
			alone++;
			lower_copy(only, l, hexlen);
		} else if (bsd && len > hexlen && is_hex(l + len - hexlen, hexlen)) {
			const char *close = bsd + 1 + strlen(file);
			if (close < l + len && *close == ')' &&
			    memcmp(bsd + 1, file, strlen(file)) == 0) {
				lower_copy(ret, l + len - hexlen, hexlen);
				return true;
			}
		}
	}
	if (alone == 1)
		memcpy(ret, only, HEX_MAX);
	return alone == 1;
}

/* The last part of the URL's path: the name a checksum file lists. */
static char *url_base(const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	if (!p)
		return xstrdup("");
	size_t n = strcspn(p, "?#");
	const char *last = p + n;
	while (last > p && last[-1] != '/')
		last--;
	return xstrndup(last, (size_t)(p + n - last));
}

static int expected_sum(const struct lab_image *im, const struct fetch_progress *pr,
			char ret[HEX_MAX], struct lv_error *err)
{
	if (im->sum) {
		snprintf(ret, HEX_MAX, "%s", im->sum);
		return 0;
	}
	_cleanup_free_ char *file = url_base(im->url);
	_cleanup_free_ char *local = xasprintf("%s.%s", im->path, sum_name(im->sum_type));
	_cleanup_free_ char *text = lv_read_file(local, NULL);
	if (text)
		say(pr, im, "checksum from %s", local);
	else
		say(pr, im, "checksum from %s", im->sum_url);
	if (!text && fetch_text(im->sum_url, &text, err) < 0)
		return -1;
	size_t hexlen = im->sum_type == SUM_SHA256 ? 64 : 128;
	if (!sums_find(text, file, hexlen, ret))
		return lv_fail(err, LV_EXIT_FAIL, "%s lists no %s digest for '%s'", im->sum_url,
			       sum_name(im->sum_type), file);
	return 0;
}

/* ---- the image ---- */

static bool attr_is(const char *path, enum lab_sum t, const char *want)
{
	_cleanup_free_ char *attr = sum_attr(t);
	char got[HEX_MAX + 1];
	ssize_t n = getxattr(path, attr, got, sizeof(got) - 1);
	if (n <= 0)
		return false;
	got[n] = '\0';
	return want ? streq(got, want) : true;
}

/* Read-only, with the verified digest beside it. */
static int seal(const char *path, enum lab_sum t, const char *hex, struct lv_error *err)
{
	_cleanup_free_ char *attr = sum_attr(t);
	if (chmod(path, 0444) < 0)
		return lv_fail_errno(err, errno, "cannot make '%s' read-only", path);
	if (setxattr(path, attr, hex, strlen(hex), 0) < 0 && errno != ENOTSUP &&
	    errno != EOPNOTSUPP)
		return lv_fail_errno(err, errno, "cannot mark '%s' as verified", path);
	return 0;
}

bool fetch_present(const struct lab_image *im)
{
	struct stat st;
	return im->path && stat(im->path, &st) == 0 && S_ISREG(st.st_mode);
}

/* An image already at its path: verified once, then trusted by its attribute. */
static int check_present(const struct lab_image *im, const struct fetch_progress *pr,
			 struct lv_error *err)
{
	struct stat st;
	if (stat(im->path, &st) < 0)
		return lv_fail_errno(err, errno, "cannot stat '%s'", im->path);
	if (!(st.st_mode & 0222) && attr_is(im->path, im->sum_type, im->sum))
		return 0;
	char want[HEX_MAX], got[HEX_MAX];
	if (expected_sum(im, pr, want, err) < 0)
		return lv_prefix(err, "image '%s': cannot check '%s'", im->name, im->path);
	say(pr, im, "verify %s", im->path);
	if (digest_file(im->path, im->sum_type, got, err) < 0)
		return -1;
	if (!streq(want, got))
		return lv_fail(err, LV_EXIT_FAIL,
			       "image '%s': '%s' does not match its %s (want %.16s..., got "
			       "%.16s...): not used; remove it and run again",
			       im->name, im->path, sum_name(im->sum_type), want, got);
	return seal(im->path, im->sum_type, got, err);
}

static bool resumable(CURLcode rc)
{
	return rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR ||
	       rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_GOT_NOTHING || rc == CURLE_SEND_ERROR;
}

/* One transfer into part, from where it ends. Returns the curl code; 416
 * (nothing left to send) counts as done. */
static CURLcode transfer(const struct lab_image *im, const char *part,
			 const struct fetch_progress *pr, char *errbuf, int *ret_errno,
			 uint64_t *ret_got)
{
	_cleanup_close_ int fd = open(part, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		*ret_errno = errno;
		return CURLE_WRITE_ERROR;
	}
	_cleanup_(curl_cleanupp) CURL *c = curl_new(im->url, errbuf);
	if (!c)
		return CURLE_FAILED_INIT;
	struct sink s = {.fd = fd, .curl = c, .offset = (uint64_t)st.st_size, .im = im, .pr = pr};
	if (s.offset)
		say(pr, im, "resume %s at %llu bytes", im->url, (unsigned long long)s.offset);
	else
		say(pr, im, "download %s", im->url);
	curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)s.offset);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, file_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, file_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &s);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	CURLcode rc = curl_easy_perform(c);
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_HTTP_RETURNED_ERROR && code == 416 && s.offset)
		rc = CURLE_OK;
	if (fstat(fd, &st) == 0)
		*ret_got = (uint64_t)st.st_size - s.offset;
	*ret_errno = s.errnum;
	return rc;
}

static int download(const struct lab_image *im, const char *part, const struct fetch_progress *pr,
		    struct lv_error *err)
{
	char errbuf[CURL_ERROR_SIZE];
	CURLcode rc = CURLE_OK;
	int errnum = 0;
	for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
		uint64_t got = 0;
		rc = transfer(im, part, pr, errbuf, &errnum, &got);
		if (rc == CURLE_OK || !resumable(rc) || got == 0)
			break;
	}
	if (rc == CURLE_OK)
		return 0;
	struct stat st;
	if (stat(part, &st) == 0 && st.st_size == 0)
		unlink(part); /* nothing came: leave nothing behind */
	if (errnum)
		return lv_fail_errno(err, errnum, "image '%s': cannot write '%s'", im->name, part);
	return lv_fail(err, LV_EXIT_FAIL,
		       "image '%s': cannot download %s: %s; put the file there by hand: '%s' "
		       "(its %s is checked%s%s)",
		       im->name, im->url, curl_why(rc, errbuf), im->path, sum_name(im->sum_type),
		       im->sum_url ? " against " : "", im->sum_url ? im->sum_url : "");
}

static int ensure_import_dir(const char *path, struct lv_error *err)
{
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	return host_mkdir_p(dir, 0755, err);
}

int fetch_image(const struct lab_image *im, const struct fetch_progress *pr, struct lv_error *err)
{
	if (!im->path)
		return lv_fail(err, LV_EXIT_FAIL, "image '%s' has no place to be kept", im->name);
	if (fetch_present(im))
		return check_present(im, pr, err);
	static bool curl_ready; /* curl_global_init once per process */
	if (!curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return lv_fail(err, LV_EXIT_FAIL, "cannot initialise libcurl");
	curl_ready = true;
	char want[HEX_MAX], got[HEX_MAX];
	if (expected_sum(im, pr, want, err) < 0) {
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%s", err->msg);
		return lv_fail(err, LV_EXIT_FAIL,
			       "image '%s': %s; put the image at '%s' by hand, with that checksum "
			       "file beside it as '%s.%s'",
			       im->name, why, im->path, im->path, sum_name(im->sum_type));
	}
	if (ensure_import_dir(im->path, err) < 0)
		return -1;
	_cleanup_free_ char *part = xasprintf("%s.part", im->path);
	if (download(im, part, pr, err) < 0)
		return -1;
	say(pr, im, "verify %s", part);
	if (digest_file(part, im->sum_type, got, err) < 0)
		return -1;
	if (!streq(want, got)) {
		unlink(part);
		return lv_fail(err, LV_EXIT_FAIL,
			       "image '%s': the download from %s does not match its %s (want "
			       "%.16s..., got %.16s...): removed",
			       im->name, im->url, sum_name(im->sum_type), want, got);
	}
	if (seal(part, im->sum_type, got, err) < 0)
		return -1;
	if (renameat2(AT_FDCWD, part, AT_FDCWD, im->path, RENAME_NOREPLACE) < 0)
		return lv_fail_errno(err, errno, "cannot rename '%s' to '%s'", part, im->path);
	say(pr, im, "ready %s", im->path);
	return 0;
}
