/* zstream.c - vzdump's compressed streams (zstream.h): zstd with libzstd, gzip
 * with zlib, and lzop's file format over liblzo2's LZO1X, as `lzop` 1.04 writes
 * it from a pipe. lzop's format (lzop's src/lzop.c, p_lzo.c): a 9-byte magic, a
 * header (versions, method, level, flags, mode, mtime, name) closed by its
 * Adler-32, then blocks: uncompressed and compressed sizes, checksums, the
 * bytes (stored when they did not shrink), and a zero size at the end. */
#include <errno.h>
#include <fcntl.h>
#include <lzo/lzo1x.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#include "zstream.h"

#define IN_CHUNK (128 * 1024)

static const unsigned char zstd_magic[] = {0x28, 0xb5, 0x2f, 0xfd};
static const unsigned char gzip_magic[] = {0x1f, 0x8b};
static const unsigned char lzop_magic[] = {0x89, 'L', 'Z', 'O', 0, '\r', '\n', 0x1a, '\n'};

/* lzop's header flags and limits. */
#define F_ADLER32_D     0x00000001U
#define F_ADLER32_C     0x00000002U
#define F_STDIN         0x00000004U
#define F_STDOUT        0x00000008U
#define F_H_EXTRA_FIELD 0x00000040U
#define F_CRC32_D       0x00000100U
#define F_CRC32_C       0x00000200U
#define F_MULTIPART     0x00000400U
#define F_H_FILTER      0x00000800U
#define F_H_CRC32       0x00001000U
#define F_OS_UNIX       0x03000000U
#define LZOP_VERSION    0x1040 /* what lzop 1.04 writes, and the format it needs */
#define LZOP_NEEDED     0x0940
#define LZOP_METHOD     1 /* M_LZO1X_1: lzop's default, levels 2 to 6 */
#define LZOP_LEVEL      5
#define LZOP_BLOCK      (256 * 1024)
#define LZOP_BLOCK_MAX  (64 * 1024 * 1024)

static const struct {
	const char *name, *suffix;
} codecs[] = {
    [ZS_NONE] = {"none", ""},
    [ZS_ZSTD] = {"zstd", ".zst"},
    [ZS_GZIP] = {"gzip", ".gz"},
    [ZS_LZO] = {"lzo", ".lzo"},
};

int zs_parse(const char *name, enum zs_compress *ret)
{
	if (streq(name, "0")) {
		*ret = ZS_NONE;
		return 0;
	}
	if (streq(name, "1")) {
		*ret = ZS_LZO;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(codecs); i++)
		if (streq(name, codecs[i].name)) {
			*ret = (enum zs_compress)i;
			return 0;
		}
	return -1;
}

const char *zs_name(enum zs_compress c)
{
	return codecs[c].name;
}

const char *zs_suffix(enum zs_compress c)
{
	return codecs[c].suffix;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* ---- reading ---- */

struct zs_in {
	int fd;
	char *what;
	enum zs_compress type;
	unsigned char *in; /* compressed bytes read, in[pos..len) not yet used */
	size_t len, pos, cap;
	bool eof;
	uint64_t read, total;
	ZSTD_DStream *zstd;
	bool zstd_in_frame;
	z_stream gz;
	bool gz_ready, gz_member_done;
	uint32_t lzo_flags;
	unsigned char *block; /* lzo: the block decompressed, block[block_pos..block_len) unread */
	size_t block_len, block_pos;
	bool lzo_done;
};

static int in_fail(const struct zs_in *s, struct lv_error *err, const char *what_is_wrong)
{
	return lv_fail(err, LV_EXIT_FAIL, "%s: %s %s data", s->what, what_is_wrong,
		       zs_name(s->type));
}

/* Reads more compressed bytes, keeping the unused ones; at the end sets eof. */
static int refill(struct zs_in *s, struct lv_error *err)
{
	if (s->pos > 0) {
		memmove(s->in, s->in + s->pos, s->len - s->pos);
		s->len -= s->pos, s->pos = 0;
	}
	if (s->cap - s->len < IN_CHUNK) {
		s->cap = s->len + IN_CHUNK;
		s->in = xrealloc(s->in, s->cap);
	}
	ssize_t n;
	do
		n = read(s->fd, s->in + s->len, s->cap - s->len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return lv_fail_errno(err, errno, "%s: read", s->what);
	s->eof = n == 0;
	s->len += (size_t)n;
	s->read += (uint64_t)n;
	return 0;
}

/* At least n unused bytes, or the stream is truncated. */
static int need(struct zs_in *s, size_t n, struct lv_error *err)
{
	while (s->len - s->pos < n) {
		if (s->eof)
			return in_fail(s, err, "truncated");
		if (refill(s, err) < 0)
			return -1;
	}
	return 0;
}

static enum zs_compress detect(const unsigned char *p, size_t n)
{
	if (n >= sizeof(zstd_magic) && memcmp(p, zstd_magic, sizeof(zstd_magic)) == 0)
		return ZS_ZSTD;
	if (n >= sizeof(gzip_magic) && memcmp(p, gzip_magic, sizeof(gzip_magic)) == 0)
		return ZS_GZIP;
	if (n >= sizeof(lzop_magic) && memcmp(p, lzop_magic, sizeof(lzop_magic)) == 0)
		return ZS_LZO;
	return ZS_NONE;
}

static uint32_t lzo_check(bool crc, const unsigned char *p, size_t n)
{
	return crc ? lzo_crc32(0, p, (lzo_uint)n) : lzo_adler32(1, p, (lzo_uint)n);
}

/* The header after the magic, up to and with its checksum. */
static int lzo_header(struct zs_in *s, struct lv_error *err)
{
	s->pos += sizeof(lzop_magic);
	if (need(s, 25, err) < 0) /* the header up to the name's length */
		return -1;
	const unsigned char *h = s->in + s->pos, *p = h;
	unsigned version = (unsigned)(p[0] << 8 | p[1]);
	p += 4; /* and the library's version */
	if (version < LZOP_NEEDED)
		return lv_fail(err, LV_EXIT_FAIL, "%s: lzop format version %#x is too old", s->what,
			       version);
	unsigned needed = (unsigned)(p[0] << 8 | p[1]), method = p[2];
	p += 4; /* and the level */
	uint32_t flags = get32(p);
	p += 4;
	if (needed > LZOP_VERSION || method < 1 || method > 3)
		return lv_fail(err, LV_EXIT_FAIL,
			       "%s: lzop data of version %#x, method %u: not LZO1X", s->what,
			       needed, method);
	if (flags & (F_H_EXTRA_FIELD | F_MULTIPART | F_H_FILTER))
		return lv_fail(err, LV_EXIT_FAIL, "%s: lzop flags %#x not supported", s->what,
			       flags);
	p += 12; /* mode, mtime low and high */
	size_t name_len = *p++;
	size_t len = (size_t)(p - h) + name_len;
	if (need(s, len + 4, err) < 0)
		return -1;
	h = s->in + s->pos;
	if (lzo_check(flags & F_H_CRC32, h, len) != get32(h + len))
		return lv_fail(err, LV_EXIT_FAIL, "%s: lzop header checksum mismatch", s->what);
	s->lzo_flags = flags;
	s->pos += len + 4;
	return 0;
}

static int open_codec(struct zs_in *s, struct lv_error *err)
{
	switch (s->type) {
	case ZS_ZSTD:
		s->zstd = ZSTD_createDStream();
		if (!s->zstd || ZSTD_isError(ZSTD_initDStream(s->zstd)))
			return lv_fail(err, LV_EXIT_FAIL, "%s: cannot start zstd", s->what);
		return 0;
	case ZS_GZIP:
		if (inflateInit2(&s->gz, 15 + 32) != Z_OK) /* 32: a gzip header */
			return lv_fail(err, LV_EXIT_FAIL, "%s: cannot start zlib", s->what);
		s->gz_ready = true;
		return 0;
	case ZS_LZO:
		if (lzo_init() != LZO_E_OK)
			return lv_fail(err, LV_EXIT_FAIL, "%s: cannot start liblzo2", s->what);
		return lzo_header(s, err);
	case ZS_NONE:
		return 0;
	}
	return 0;
}

static void in_freep(struct zs_in **s)
{
	zs_in_close(*s);
}

int zs_in_open_fd(int fd, const char *what, struct zs_in **ret, struct lv_error *err)
{
	_cleanup_(in_freep) struct zs_in *s = xcalloc(1, sizeof(*s));
	s->fd = fd;
	s->what = xstrdup(what);
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		s->total = (uint64_t)st.st_size;
	while (s->len < sizeof(lzop_magic) && !s->eof)
		if (refill(s, err) < 0)
			return -1;
	s->type = detect(s->in, s->len);
	if (open_codec(s, err) < 0)
		return -1;
	*ret = steal_pointer(&s);
	return 0;
}

int zs_in_open(const char *path, struct zs_in **ret, struct lv_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lv_fail_errno(err, errno, "cannot open '%s'", path);
	return zs_in_open_fd(fd, path, ret, err);
}

enum zs_compress zs_in_type(const struct zs_in *s)
{
	return s->type;
}

static ssize_t read_none(struct zs_in *s, void *buf, size_t len, struct lv_error *err)
{
	if (s->pos == s->len && !s->eof && refill(s, err) < 0)
		return -1;
	size_t n = s->len - s->pos < len ? s->len - s->pos : len;
	memcpy(buf, s->in + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

static ssize_t read_zstd(struct zs_in *s, void *buf, size_t len, struct lv_error *err)
{
	for (;;) {
		if (s->pos == s->len && !s->eof && refill(s, err) < 0)
			return -1;
		if (s->pos == s->len && s->eof && !s->zstd_in_frame)
			return 0;
		ZSTD_inBuffer in = {s->in + s->pos, s->len - s->pos, 0};
		ZSTD_outBuffer out = {buf, len, 0};
		size_t rc = ZSTD_decompressStream(s->zstd, &out, &in);
		s->pos += in.pos;
		if (ZSTD_isError(rc))
			return lv_fail(err, LV_EXIT_FAIL, "%s: corrupt zstd data: %s", s->what,
				       ZSTD_getErrorName(rc));
		if (in.pos || out.pos) /* else rc is only a hint for a next frame */
			s->zstd_in_frame = rc != 0;
		if (out.pos > 0)
			return (ssize_t)out.pos;
		if (s->pos == s->len && s->eof)
			return s->zstd_in_frame ? in_fail(s, err, "truncated") : 0;
	}
}

/* gzip members one after the other, as gzip reads them. */
static ssize_t read_gzip(struct zs_in *s, void *buf, size_t len, struct lv_error *err)
{
	for (;;) {
		if (s->pos == s->len && !s->eof && refill(s, err) < 0)
			return -1;
		if (s->gz_member_done) {
			if (s->pos == s->len)
				return 0;
			inflateReset(&s->gz);
			s->gz_member_done = false;
		}
		s->gz.next_in = s->in + s->pos;
		s->gz.avail_in = (uInt)(s->len - s->pos);
		s->gz.next_out = buf;
		s->gz.avail_out = (uInt)(len < UINT32_MAX ? len : UINT32_MAX);
		uInt avail_out = s->gz.avail_out;
		int rc = inflate(&s->gz, Z_NO_FLUSH);
		s->pos = s->len - s->gz.avail_in;
		if (rc == Z_STREAM_END)
			s->gz_member_done = true;
		else if (rc != Z_OK && rc != Z_BUF_ERROR)
			return lv_fail(err, LV_EXIT_FAIL, "%s: corrupt gzip data: %s", s->what,
				       s->gz.msg ? s->gz.msg : zError(rc));
		if (s->gz.avail_out < avail_out)
			return (ssize_t)(avail_out - s->gz.avail_out);
		if (!s->gz_member_done && s->pos == s->len && s->eof)
			return in_fail(s, err, "truncated");
	}
}

/* The next lzop block into s->block; at the end marker sets lzo_done. */
static int lzo_block(struct zs_in *s, struct lv_error *err)
{
	if (need(s, 4, err) < 0)
		return -1;
	uint32_t dst_len = get32(s->in + s->pos);
	if (dst_len == 0) { /* the end, or another file follows, as `lzop -d` reads them */
		s->pos += 4;
		if (s->pos == s->len && !s->eof && refill(s, err) < 0)
			return -1;
		s->lzo_done = s->pos == s->len;
		if (s->lzo_done)
			return 0;
		if (need(s, sizeof(lzop_magic), err) < 0 ||
		    memcmp(s->in + s->pos, lzop_magic, sizeof(lzop_magic)) != 0)
			return lv_fail(err, LV_EXIT_FAIL, "%s: trailing bytes after the lzo data",
				       s->what);
		return lzo_header(s, err);
	}
	if (need(s, 8, err) < 0)
		return -1;
	uint32_t src_len = get32(s->in + s->pos + 4), f = s->lzo_flags;
	if (dst_len > LZOP_BLOCK_MAX || src_len == 0 || src_len > dst_len)
		return in_fail(s, err, "corrupt");
	bool packed = src_len < dst_len;
	size_t sums = !!(f & F_ADLER32_D) + !!(f & F_CRC32_D) +
		      (packed ? !!(f & F_ADLER32_C) + !!(f & F_CRC32_C) : 0);
	size_t head = 8 + 4 * sums;
	if (need(s, head + src_len, err) < 0)
		return -1;
	const unsigned char *p = s->in + s->pos + 8, *src = s->in + s->pos + head;
	s->block = xrealloc(s->block, dst_len);
	lzo_uint out_len = dst_len;
	if (packed && (lzo1x_decompress_safe(src, src_len, s->block, &out_len, NULL) != LZO_E_OK ||
		       out_len != dst_len))
		return in_fail(s, err, "corrupt");
	if (!packed)
		memcpy(s->block, src, dst_len);
	/* The checksums in lzop's order: data's Adler-32, CRC-32, compressed's. */
	const struct {
		uint32_t flag;
		bool crc, compressed;
	} order[] = {{F_ADLER32_D, false, false},
		     {F_CRC32_D, true, false},
		     {F_ADLER32_C, false, true},
		     {F_CRC32_C, true, true}};
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		if (!(f & order[i].flag) || (order[i].compressed && !packed))
			continue;
		if (order[i].compressed ? lzo_check(order[i].crc, src, src_len) != get32(p)
					: lzo_check(order[i].crc, s->block, dst_len) != get32(p))
			return lv_fail(err, LV_EXIT_FAIL, "%s: lzo block checksum mismatch",
				       s->what);
		p += 4;
	}
	s->pos += head + src_len;
	s->block_len = dst_len, s->block_pos = 0;
	return 0;
}

static ssize_t read_lzo(struct zs_in *s, void *buf, size_t len, struct lv_error *err)
{
	while (s->block_pos == s->block_len) {
		if (s->lzo_done)
			return 0;
		if (lzo_block(s, err) < 0)
			return -1;
	}
	size_t n = s->block_len - s->block_pos < len ? s->block_len - s->block_pos : len;
	memcpy(buf, s->block + s->block_pos, n);
	s->block_pos += n;
	return (ssize_t)n;
}

ssize_t zs_in_read(struct zs_in *s, void *buf, size_t len, struct lv_error *err)
{
	if (len == 0)
		return 0;
	switch (s->type) {
	case ZS_ZSTD:
		return read_zstd(s, buf, len, err);
	case ZS_GZIP:
		return read_gzip(s, buf, len, err);
	case ZS_LZO:
		return read_lzo(s, buf, len, err);
	case ZS_NONE:
		break;
	}
	return read_none(s, buf, len, err);
}

uint64_t zs_in_consumed(const struct zs_in *s)
{
	return s->read - (s->len - s->pos);
}

uint64_t zs_in_total(const struct zs_in *s)
{
	return s->total;
}

void zs_in_close(struct zs_in *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	ZSTD_freeDStream(s->zstd);
	if (s->gz_ready)
		inflateEnd(&s->gz);
	free(s->block);
	free(s->in);
	free(s->what);
	free(s);
}

/* ---- writing ---- */

struct zs_out {
	int fd;
	enum zs_compress type;
	uint64_t written;
	unsigned char *buf; /* compressed bytes on their way out */
	size_t cap;
	ZSTD_CStream *zstd;
	z_stream gz;
	bool gz_ready;
	unsigned char *block; /* lzo: the block being filled */
	size_t block_len;
	void *lzo_mem;
};

static int write_all(struct zs_out *s, const void *buf, size_t len, struct lv_error *err)
{
	const unsigned char *p = buf;
	while (len > 0) {
		ssize_t n = write(s->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return lv_fail_errno(err, errno, "cannot write the %s stream",
					     zs_name(s->type));
		p += n, len -= (size_t)n;
		s->written += (uint64_t)n;
	}
	return 0;
}

/* The header of a file lzop compressed from a pipe, with mtime 0. */
static int lzo_write_header(struct zs_out *s, struct lv_error *err)
{
	unsigned char h[sizeof(lzop_magic) + 30], *p = h + sizeof(lzop_magic);
	memcpy(h, lzop_magic, sizeof(lzop_magic));
	p[0] = LZOP_VERSION >> 8, p[1] = LZOP_VERSION & 0xff;
	p[2] = (unsigned char)(LZO_VERSION >> 8), p[3] = LZO_VERSION & 0xff;
	p[4] = LZOP_NEEDED >> 8, p[5] = LZOP_NEEDED & 0xff;
	p[6] = LZOP_METHOD, p[7] = LZOP_LEVEL;
	put32(p + 8, F_OS_UNIX | F_STDIN | F_STDOUT | F_ADLER32_D);
	memset(p + 12, 0, 13); /* mode, mtime low and high, no name */
	put32(p + 25, lzo_adler32(1, p, 25));
	return write_all(s, h, sizeof(lzop_magic) + 29, err);
}

static int lzo_write_block(struct zs_out *s, struct lv_error *err)
{
	size_t len = s->block_len;
	lzo_uint clen = 0;
	unsigned char *c = s->buf + 12;
	if (lzo1x_1_compress(s->block, len, c, &clen, s->lzo_mem) != LZO_E_OK)
		return lv_fail(err, LV_EXIT_FAIL, "lzo compression failed");
	if (clen >= len) { /* stored, as lzop stores what does not shrink */
		clen = len;
		memcpy(c, s->block, len);
	}
	put32(s->buf, (uint32_t)len);
	put32(s->buf + 4, (uint32_t)clen);
	put32(s->buf + 8, lzo_adler32(1, s->block, len));
	s->block_len = 0;
	return write_all(s, s->buf, 12 + clen, err);
}

static int open_writer(struct zs_out *s, int threads, struct lv_error *err)
{
	switch (s->type) {
	case ZS_ZSTD:
		s->zstd = ZSTD_createCStream();
		if (!s->zstd ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(s->zstd, ZSTD_c_compressionLevel, 3)) ||
		    /* as the zstd program: a corrupted stream fails at the latest at its end */
		    ZSTD_isError(ZSTD_CCtx_setParameter(s->zstd, ZSTD_c_checksumFlag, 1)) ||
		    (threads > 1 &&
		     ZSTD_isError(ZSTD_CCtx_setParameter(s->zstd, ZSTD_c_nbWorkers, threads))))
			return lv_fail(err, LV_EXIT_FAIL, "cannot start zstd with %d threads",
				       threads);
		s->cap = ZSTD_CStreamOutSize();
		break;
	case ZS_GZIP:
		if (deflateInit2(&s->gz, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK)
			return lv_fail(err, LV_EXIT_FAIL, "cannot start zlib");
		s->gz_ready = true;
		s->cap = IN_CHUNK;
		break;
	case ZS_LZO:
		if (lzo_init() != LZO_E_OK)
			return lv_fail(err, LV_EXIT_FAIL, "cannot start liblzo2");
		s->block = xmalloc(LZOP_BLOCK);
		s->lzo_mem = xmalloc(LZO1X_1_MEM_COMPRESS);
		s->cap = 12 + LZOP_BLOCK + LZOP_BLOCK / 16 + 64 + 3; /* LZO1X's worst case */
		s->buf = xmalloc(s->cap);
		return lzo_write_header(s, err);
	case ZS_NONE:
		return 0;
	}
	s->buf = xmalloc(s->cap);
	return 0;
}

static void out_freep(struct zs_out **s)
{
	zs_out_free(*s);
}

int zs_out_open(int fd, enum zs_compress c, int threads, struct zs_out **ret, struct lv_error *err)
{
	_cleanup_(out_freep) struct zs_out *s = xcalloc(1, sizeof(*s));
	s->fd = fd;
	s->type = c;
	if (open_writer(s, threads, err) < 0)
		return -1;
	*ret = steal_pointer(&s);
	return 0;
}

static int zstd_step(struct zs_out *s, const void *buf, size_t len, ZSTD_EndDirective end,
		     struct lv_error *err)
{
	ZSTD_inBuffer in = {buf, len, 0};
	size_t left;
	do {
		ZSTD_outBuffer out = {s->buf, s->cap, 0};
		left = ZSTD_compressStream2(s->zstd, &out, &in, end);
		if (ZSTD_isError(left))
			return lv_fail(err, LV_EXIT_FAIL, "zstd compression failed: %s",
				       ZSTD_getErrorName(left));
		if (write_all(s, s->buf, out.pos, err) < 0)
			return -1;
	} while (end == ZSTD_e_continue ? in.pos < in.size : left != 0);
	return 0;
}

static int gzip_step(struct zs_out *s, const void *buf, size_t len, int flush, struct lv_error *err)
{
	s->gz.next_in = (Bytef *)buf;
	s->gz.avail_in = (uInt)len;
	int rc;
	do {
		s->gz.next_out = s->buf;
		s->gz.avail_out = (uInt)s->cap;
		rc = deflate(&s->gz, flush);
		if (rc == Z_STREAM_ERROR)
			return lv_fail(err, LV_EXIT_FAIL, "gzip compression failed");
		if (write_all(s, s->buf, s->cap - s->gz.avail_out, err) < 0)
			return -1;
	} while (flush == Z_FINISH ? rc != Z_STREAM_END : s->gz.avail_out == 0);
	return 0;
}

static int lzo_step(struct zs_out *s, const unsigned char *p, size_t len, struct lv_error *err)
{
	while (len > 0) {
		size_t n = LZOP_BLOCK - s->block_len < len ? LZOP_BLOCK - s->block_len : len;
		memcpy(s->block + s->block_len, p, n);
		s->block_len += n, p += n, len -= n;
		if (s->block_len == LZOP_BLOCK && lzo_write_block(s, err) < 0)
			return -1;
	}
	return 0;
}

int zs_out_write(struct zs_out *s, const void *buf, size_t len, struct lv_error *err)
{
	switch (s->type) {
	case ZS_ZSTD:
		return zstd_step(s, buf, len, ZSTD_e_continue, err);
	case ZS_GZIP:
		/* deflate's avail_in is 32-bit */
		for (const unsigned char *p = buf; len > 0;) {
			size_t n = len < (1u << 30) ? len : (1u << 30);
			if (gzip_step(s, p, n, Z_NO_FLUSH, err) < 0)
				return -1;
			p += n, len -= n;
		}
		return 0;
	case ZS_LZO:
		return lzo_step(s, buf, len, err);
	case ZS_NONE:
		break;
	}
	return write_all(s, buf, len, err);
}

int zs_out_finish(struct zs_out *s, struct lv_error *err)
{
	static const unsigned char end[4];
	switch (s->type) {
	case ZS_ZSTD:
		return zstd_step(s, NULL, 0, ZSTD_e_end, err);
	case ZS_GZIP:
		return gzip_step(s, NULL, 0, Z_FINISH, err);
	case ZS_LZO:
		if (s->block_len && lzo_write_block(s, err) < 0)
			return -1;
		return write_all(s, end, sizeof(end), err);
	case ZS_NONE:
		break;
	}
	return 0;
}

uint64_t zs_out_written(const struct zs_out *s)
{
	return s->written;
}

void zs_out_free(struct zs_out *s)
{
	if (!s)
		return;
	ZSTD_freeCStream(s->zstd);
	if (s->gz_ready)
		deflateEnd(&s->gz);
	free(s->lzo_mem);
	free(s->block);
	free(s->buf);
	free(s);
}
