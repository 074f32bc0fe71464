/* test_zstream.c - zstream.c: each codec round trip (empty, tiny, multi-MiB,
 * lzop block edges), read in small and large pieces; what the real zstd, gzip
 * and lzop programs compress is read here, and what zstream writes they
 * decompress byte for byte (a codec whose program is absent is skipped, said
 * with "# skip"); truncated and corrupted streams fail with their message. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "lv.h"
#include "tap.h"
#include "zstream.h"

static char dir[] = "/tmp/test-zstream.XXXXXX";

static const char *const tools[] = {[ZS_ZSTD] = "zstd", [ZS_GZIP] = "gzip", [ZS_LZO] = "lzop"};

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *cmd = NULL;
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool have(const char *tool)
{
	return sh("command -v %s >/dev/null 2>&1", tool) == 0;
}

/* Text, random bytes and zeros in turns of 64 KiB. */
static unsigned char *make_data(size_t len, uint32_t seed)
{
	unsigned char *p = xmalloc(len ? len : 1);
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245 + 12345;
		switch ((i >> 16) % 3) {
		case 0:
			p[i] = "the quick brown fox jumps over the lazy dog\n"[i % 44];
			break;
		case 1:
			p[i] = (unsigned char)(seed >> 16);
			break;
		default:
			p[i] = 0;
		}
	}
	return p;
}

static int write_file(const char *path, const void *data, size_t len)
{
	struct lv_error err;
	return lv_write_file_atomic(path, data, len, 0600, &err);
}

/* Compresses with zstream into path. */
static int zs_write_file(const char *path, enum zs_compress c, int threads,
			 const unsigned char *data, size_t len, struct lv_error *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	struct zs_out *s = NULL;
	if (fd < 0 || zs_out_open(fd, c, threads, &s, err) < 0)
		return -1;
	int rc = 0;
	/* In uneven pieces, to cross the codecs' buffers. */
	for (size_t off = 0, n = 1; off < len && rc == 0; off += n, n = n * 3 + 7) {
		n = n < len - off ? n : len - off;
		rc = zs_out_write(s, data + off, n, err);
	}
	rc = rc ? rc : zs_out_finish(s, err);
	struct stat st;
	if (rc == 0 && (fstat(fd, &st) < 0 || (uint64_t)st.st_size != zs_out_written(s)))
		rc = lv_fail(err, LV_EXIT_FAIL, "written count differs from the file's size");
	zs_out_free(s);
	return rc;
}

/* Decompresses path with zstream, in pieces of chunk bytes. */
static unsigned char *zs_read_file(const char *path, size_t chunk, size_t *ret_len,
				   enum zs_compress *ret_type, struct lv_error *err)
{
	struct zs_in *s = NULL;
	if (zs_in_open(path, &s, err) < 0)
		return NULL;
	size_t len = 0, cap = 1 << 16;
	unsigned char *out = xmalloc(cap);
	ssize_t n;
	for (;;) {
		if (cap - len < chunk)
			out = xrealloc(out, cap = cap * 2 + chunk);
		n = zs_in_read(s, out + len, chunk, err);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (n == 0 && zs_in_consumed(s) != zs_in_total(s))
		n = lv_fail(err, LV_EXIT_FAIL, "consumed %llu of %llu bytes",
			    (unsigned long long)zs_in_consumed(s),
			    (unsigned long long)zs_in_total(s));
	if (ret_type)
		*ret_type = zs_in_type(s);
	zs_in_close(s);
	if (n < 0) {
		free(out);
		return NULL;
	}
	*ret_len = len;
	return out;
}

static bool same_file(const char *path, const unsigned char *data, size_t len)
{
	size_t got = 0;
	_cleanup_free_ char *p = lv_read_file(path, &got);
	return p && got == len && memcmp(p, data, len) == 0;
}

static void test_names(void)
{
	enum zs_compress c;
	check(zs_parse("0", &c) == 0 && c == ZS_NONE && zs_parse("none", &c) == 0 && c == ZS_NONE,
	      "parse: 0 and none");
	check(zs_parse("1", &c) == 0 && c == ZS_LZO && zs_parse("lzo", &c) == 0 && c == ZS_LZO,
	      "parse: 1 and lzo");
	check(zs_parse("gzip", &c) == 0 && c == ZS_GZIP && zs_parse("zstd", &c) == 0 &&
		  c == ZS_ZSTD,
	      "parse: gzip, zstd");
	check(zs_parse("xz", &c) < 0 && zs_parse("", &c) < 0, "parse: xz and nothing refused");
	check(streq(zs_name(ZS_ZSTD), "zstd") && streq(zs_suffix(ZS_ZSTD), ".zst") &&
		  streq(zs_suffix(ZS_GZIP), ".gz") && streq(zs_suffix(ZS_LZO), ".lzo") &&
		  streq(zs_suffix(ZS_NONE), "") && streq(zs_name(ZS_NONE), "none"),
	      "names and suffixes");
}

static void test_roundtrip(enum zs_compress c)
{
	/* Empty, one byte, text, lzop's 256 KiB block exactly and once more, 6 MiB. */
	const size_t lens[] = {0, 1, 1000, 256 * 1024, 512 * 1024 + 1, 6 * 1024 * 1024 + 77};
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		_cleanup_free_ unsigned char *data = make_data(lens[i], (uint32_t)i);
		_cleanup_free_ char *path = xasprintf("%s/rt%s", dir, zs_suffix(c));
		struct lv_error err = {0};
		size_t got = 0;
		enum zs_compress type = ZS_NONE;
		_cleanup_free_ unsigned char *back = NULL;
		bool ok = zs_write_file(path, c, 1, data, lens[i], &err) == 0;
		/* A byte at a time (the small ones), 4 KiB, 1 MiB. */
		const size_t chunks[] = {lens[i] <= 4096 ? 1 : 4096, 4096, 1 << 20};
		for (size_t k = 0; ok && k < ARRAY_SIZE(chunks); k++) {
			free(back);
			back = zs_read_file(path, chunks[k], &got, &type, &err);
			ok = back && got == lens[i] && memcmp(back, data, got) == 0 && type == c;
		}
		check(ok, "%s: %zu bytes round trip (%s)", zs_name(c), lens[i], ok ? "" : err.msg);
	}
}

static void test_threads(void)
{
	const size_t len = 24 << 20;
	_cleanup_free_ unsigned char *data = make_data(len, 7);
	_cleanup_free_ char *path = xasprintf("%s/threads.zst", dir);
	struct lv_error err = {0};
	size_t got = 0;
	bool ok = zs_write_file(path, ZS_ZSTD, 2, data, len, &err) == 0;
	_cleanup_free_ unsigned char *back = ok ? zs_read_file(path, 1 << 20, &got, NULL, &err) : 0;
	check(back && got == len && memcmp(back, data, len) == 0,
	      "zstd: 24 MiB with 2 workers round trip (%s)", err.msg);
}

/* The real program compresses, zstream reads; zstream compresses, the program
 * reads; and each program's own concatenation of two streams. */
static void test_tool(enum zs_compress c)
{
	const char *tool = tools[c];
	if (!have(tool)) {
		printf("# skip %s: the %s program is not installed\n", zs_name(c), tool);
		return;
	}
	const size_t len = 5 * 1024 * 1024 + 333;
	_cleanup_free_ unsigned char *data = make_data(len, 99);
	_cleanup_free_ char *raw = xasprintf("%s/raw", dir);
	_cleanup_free_ char *theirs = xasprintf("%s/theirs%s", dir, zs_suffix(c));
	_cleanup_free_ char *ours = xasprintf("%s/ours%s", dir, zs_suffix(c));
	_cleanup_free_ char *back = xasprintf("%s/back", dir);
	struct lv_error err = {0};
	size_t got = 0;
	check(write_file(raw, data, len) == 0, "%s: test data written", tool);

	/* Through a pipe, as vzdump runs them, and from a file. */
	for (int i = 0; i < 2; i++) {
		int rc = i ? sh("%s -q -c '%s' >'%s'", tool, raw, theirs)
			   : sh("%s -q <'%s' >'%s'", tool, raw, theirs);
		_cleanup_free_ unsigned char *p = zs_read_file(theirs, 65536, &got, NULL, &err);
		check(rc == 0 && p && got == len && memcmp(p, data, len) == 0,
		      "%s: what `%s %s` wrote is read back (%s)", tool, tool,
		      i ? "-c FILE" : "<PIPE", p ? "" : err.msg);
	}
	_cleanup_free_ char *both = xasprintf("%s/both%s", dir, zs_suffix(c));
	int rc = sh("cat '%s' '%s' >'%s'", theirs, theirs, both);
	_cleanup_free_ unsigned char *p2 = zs_read_file(both, 1 << 20, &got, NULL, &err);
	check(rc == 0 && p2 && got == 2 * len && memcmp(p2, data, len) == 0 &&
		  memcmp(p2 + len, data, len) == 0,
	      "%s: two streams one after the other read as one (%s)", tool, p2 ? "" : err.msg);
	if (c == ZS_LZO) {
		_cleanup_free_ char *want =
		    xasprintf("%s: trailing bytes after the lzo data", both);
		sh("echo garbage-after-the-end >>'%s'", both);
		free(p2);
		p2 = zs_read_file(both, 1 << 20, &got, NULL, &err);
		check(!p2 && streq(err.msg, want), "lzop: other bytes after the end refused (%s)",
		      err.msg);
	}

	check(zs_write_file(ours, c, 1, data, len, &err) == 0, "%s: zstream compressed", tool);
	rc = sh("%s -q -d -c <'%s' >'%s'", tool, ours, back);
	check(rc == 0 && same_file(back, data, len), "%s: `%s -d` reads zstream's, byte for byte",
	      tool, tool);
	rc = sh("%s -q -t '%s'", tool, ours);
	check(rc == 0, "%s: `%s -t` finds zstream's stream sound", tool, tool);
}

/* Cut short and corrupted: never a short stream without an error. */
static void test_damage(enum zs_compress c)
{
	const size_t len = 3 * 1024 * 1024;
	_cleanup_free_ unsigned char *data = make_data(len, 5);
	_cleanup_free_ char *path = xasprintf("%s/dmg%s", dir, zs_suffix(c));
	_cleanup_free_ char *cut = xasprintf("%s/cut%s", dir, zs_suffix(c));
	struct lv_error err = {0};
	check(zs_write_file(path, c, 1, data, len, &err) == 0, "%s: compressed", zs_name(c));
	size_t n = 0;
	_cleanup_free_ unsigned char *z = (unsigned char *)lv_read_file(path, &n);
	_cleanup_free_ char *want = xasprintf("%s: truncated %s data", cut, zs_name(c));
	/* After the magic, in the header (lzop's), mid-stream, without the last byte. */
	const size_t cuts[] = {10, 20, n / 2, n - 1};
	for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
		write_file(cut, z, cuts[i]);
		size_t got = 0;
		_cleanup_free_ unsigned char *p = zs_read_file(cut, 65536, &got, NULL, &err);
		check(!p && streq(err.msg, want), "%s: cut at %zu of %zu bytes: %s", zs_name(c),
		      cuts[i], n, p ? "read without an error" : err.msg);
	}
	/* A byte changed in the middle: the data's checks or the decoder catch it. */
	for (size_t at = n / 3; at < n; at += n / 3) {
		z[at] ^= 0x10;
		write_file(cut, z, n);
		z[at] ^= 0x10;
		size_t got = 0;
		_cleanup_free_ unsigned char *p = zs_read_file(cut, 65536, &got, NULL, &err);
		_cleanup_free_ char *prefix = xasprintf("%s: ", cut);
		check(!p && startswith(err.msg, prefix) &&
			  (strstr(err.msg, "corrupt") || strstr(err.msg, "checksum mismatch")),
		      "%s: byte %zu changed: %s", zs_name(c), at,
		      p ? "read without an error" : err.msg);
	}
}

static void test_lzop_header(void)
{
	const char *what = "lzop header";
	_cleanup_free_ char *path = xasprintf("%s/h.lzo", dir);
	struct lv_error err = {0};
	unsigned char data[100] = {1};
	check(zs_write_file(path, ZS_LZO, 1, data, sizeof(data), &err) == 0, "%s: written", what);
	size_t n = 0;
	_cleanup_free_ unsigned char *z = (unsigned char *)lv_read_file(path, &n);
	z[9 + 20] ^= 1; /* mtime */
	write_file(path, z, n);
	size_t got;
	_cleanup_free_ unsigned char *p = zs_read_file(path, 4096, &got, NULL, &err);
	_cleanup_free_ char *want = xasprintf("%s: lzop header checksum mismatch", path);
	check(!p && streq(err.msg, want), "%s: %s", what, err.msg);
}

static void test_pipe(void)
{
	int fds[2];
	if (pipe(fds) < 0)
		abort();
	const char text[] = "not compressed at all\n";
	if (write(fds[1], text, sizeof(text)) != sizeof(text))
		abort();
	close(fds[1]);
	struct zs_in *s = NULL;
	struct lv_error err = {0};
	char buf[64];
	bool ok = zs_in_open_fd(fds[0], "pipe", &s, &err) == 0;
	ssize_t got = ok ? zs_in_read(s, buf, sizeof(buf), &err) : -1;
	check(ok && zs_in_type(s) == ZS_NONE && zs_in_total(s) == 0 && got == sizeof(text) &&
		  memcmp(buf, text, sizeof(text)) == 0 &&
		  zs_in_read(s, buf, sizeof(buf), &err) == 0,
	      "none: a pipe read through, its size unknown");
	zs_in_close(s);
	ok = zs_in_open("/nonexistent/x.zst", &s, &err) < 0;
	check(ok && streq(err.msg, "cannot open '/nonexistent/x.zst': No such file or directory"),
	      "open: %s", err.msg);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_names();
	test_pipe();
	for (enum zs_compress c = ZS_NONE; c <= ZS_LZO; c++)
		test_roundtrip(c);
	test_threads();
	for (enum zs_compress c = ZS_ZSTD; c <= ZS_LZO; c++) {
		test_tool(c);
		test_damage(c);
	}
	test_lzop_header();
	sh("rm -rf '%s'", dir);
	return tap_summary();
}
