/* vma.c - Proxmox's VMA archives (vma.h): the header, the extents, and the
 * checks `vma verify` makes, as pve-qemu's vma-reader.c and vma-writer.c do
 * them. Where vma_spec.txt and that code differ, the code wins: the blob sizes
 * are little-endian, the blob buffer's size is not rounded to 512, and the
 * writer puts 58 clusters in an extent, not 59. */
#include <endian.h>
#include <inttypes.h>
#include <nettle/md5.h>
#include <string.h>

#include "vma.h"

#define HEADER_FIXED       12288                  /* up to the blob buffer */
#define HEADER_MAX         (8 * VMA_CLUSTER_SIZE) /* Proxmox's writer's header buffer */
#define H_VERSION          4
#define H_UUID             8
#define H_CTIME            24
#define H_MD5              32
#define H_BLOB_OFFSET      48
#define H_BLOB_SIZE        52
#define H_SIZE             56
#define H_CONFIG_NAMES     2044
#define H_CONFIG_DATA      3068
#define H_DEV_INFO         4096
#define DEV_INFO_SIZE      32
#define BLOB_MAX           65535
#define EXTENT_HEADER      512
#define E_BLOCK_COUNT      6
#define E_UUID             8
#define E_MD5              24
#define E_INFO             40
#define EXTENT_SLOTS       59
#define WRITER_SLOTS       58 /* vma-writer.c flushes when 58 are used */
#define BLOCKS_PER_CLUSTER (VMA_CLUSTER_SIZE / VMA_BLOCK_SIZE)
#define EXTENT_MAX         (EXTENT_HEADER + EXTENT_SLOTS * VMA_CLUSTER_SIZE)
#define DEVICE_SIZE_MAX    ((uint64_t)VMA_CLUSTER_SIZE << 32) /* cluster numbers are 32-bit */

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static uint32_t get32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return be32toh(v);
}
static uint64_t get64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return be64toh(v);
}
static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8), p[1] = (unsigned char)v;
}
static void put32(unsigned char *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}
static void put64(unsigned char *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

/* The MD5 of len bytes with the 16 at md5_at taken as zeros, as both checksums are. */
static void md5_zeroed(const unsigned char *buf, size_t len, size_t md5_at, unsigned char out[16])
{
	static const unsigned char zeros[16];
	struct md5_ctx ctx;
	md5_init(&ctx);
	md5_update(&ctx, md5_at, buf);
	md5_update(&ctx, 16, zeros);
	md5_update(&ctx, len - md5_at - 16, buf + md5_at + 16);
	md5_digest(&ctx, 16, out);
}

static bool is_zero(const unsigned char *p, size_t n)
{
	return p[0] == 0 && memcmp(p, p + 1, n - 1) == 0;
}

static uint64_t cluster_count(uint64_t size)
{
	return (size + VMA_CLUSTER_SIZE - 1) / VMA_CLUSTER_SIZE;
}

/* Sets bit n; returns whether it was set before. */
static bool bit_test_set(uint64_t *bits, uint64_t n)
{
	uint64_t m = (uint64_t)1 << (n % 64);
	bool was = bits[n / 64] & m;
	bits[n / 64] |= m;
	return was;
}

/* The first clear bit below n, or n; and how many are clear. */
static uint64_t bits_first_clear(const uint64_t *bits, uint64_t n, uint64_t *ret_clear)
{
	uint64_t first = n, set = 0;
	for (uint64_t w = 0; w < (n + 63) / 64; w++) {
		uint64_t v = bits[w];
		if (w == n / 64)
			v |= ~(uint64_t)0 << (n % 64); /* past the end counts as set */
		set += (uint64_t)__builtin_popcountll(v);
		if (first == n && ~v)
			first = w * 64 + (uint64_t)__builtin_ctzll(~v);
	}
	*ret_clear = (n + 63) / 64 * 64 - set;
	return first;
}

/* A name Proxmox would write: printable, no spaces. */
static bool is_plain_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f)
			return false;
	return true;
}

/* A config name, also a file name for whoever restores it. */
static bool is_config_name(const char *s)
{
	return is_plain_name(s) && !strchr(s, '/') && !streq(s, ".") && !streq(s, "..");
}

/* ---- reading ---- */

struct vma_reader {
	vma_read_fn rd;
	void *opaque;
	char *what;
	uint64_t offset;
	unsigned char *head; /* the whole header: names and configs point into it */
	uint32_t blob_offset, blob_size;
	unsigned char *blob_starts; /* a bit per byte of the blob buffer */
	struct vma_header hdr;
	struct vma_device *by_id[VMA_MAX_DEVICES + 1];
	uint64_t *seen[VMA_MAX_DEVICES + 1];
	unsigned char *extent;
};

static int rfail(const struct vma_reader *r, struct lv_error *err, uint64_t at, const char *fmt,
		 ...) __attribute__((format(printf, 4, 5)));
static int rfail(const struct vma_reader *r, struct lv_error *err, uint64_t at, const char *fmt,
		 ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return lv_fail(err, LV_EXIT_FAIL, "%s: offset %" PRIu64 ": %s", r->what, at, msg);
}

/* Reads len bytes unless the archive ends first: returns how many, or -1. */
static ssize_t read_full(struct vma_reader *r, void *buf, size_t len, struct lv_error *err)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = r->rd(r->opaque, (char *)buf + got, len - got, err);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	r->offset += got;
	return (ssize_t)got;
}

static void blob_mark_start(struct vma_reader *r, uint32_t pos)
{
	r->blob_starts[pos / 8] |= (unsigned char)(1 << (pos % 8));
}

/* The blob chain from offset 1 (0 means none): each a 2-byte little-endian size
 * and the bytes. A trailing byte too short for a size is padding. */
static int read_blobs(struct vma_reader *r, struct lv_error *err)
{
	const unsigned char *b = r->head + r->blob_offset;
	r->blob_starts = xcalloc(r->blob_size / 8 + 1, 1);
	for (uint32_t pos = 1; pos + 2 <= r->blob_size;) {
		uint32_t len = (uint32_t)(b[pos] | b[pos + 1] << 8);
		if (len > r->blob_size - pos - 2)
			return rfail(r, err, r->blob_offset + pos,
				     "blob of %" PRIu32 " bytes overruns the blob buffer", len);
		blob_mark_start(r, pos);
		pos += 2 + len;
	}
	return 0;
}

/* The blob at ptr, named by the header field at field. */
static int get_blob(struct vma_reader *r, uint32_t field, const unsigned char **ret,
		    size_t *ret_len, struct lv_error *err)
{
	uint32_t ptr = get32(r->head + field);
	if (ptr >= r->blob_size)
		return rfail(r, err, field,
			     "blob offset %" PRIu32 " out of range (the blob buffer has %" PRIu32
			     " bytes)",
			     ptr, r->blob_size);
	if (!(r->blob_starts[ptr / 8] & (1 << (ptr % 8))))
		return rfail(r, err, field, "blob offset %" PRIu32 " is not the start of a blob",
			     ptr);
	const unsigned char *b = r->head + r->blob_offset + ptr;
	*ret = b + 2;
	*ret_len = (size_t)(b[0] | b[1] << 8);
	return 0;
}

static int get_string(struct vma_reader *r, uint32_t field, char **ret, struct lv_error *err)
{
	const unsigned char *s;
	size_t len;
	if (get_blob(r, field, &s, &len, err) < 0)
		return -1;
	if (len < 2 || s[len - 1] || strlen((const char *)s) != len - 1)
		return rfail(r, err, field, "blob offset %" PRIu32 " is not a string",
			     get32(r->head + field));
	*ret = (char *)s;
	return 0;
}

static int read_configs(struct vma_reader *r, struct lv_error *err)
{
	r->hdr.configs = xcalloc(VMA_MAX_CONFIGS, sizeof(*r->hdr.configs));
	for (uint32_t i = 0; i < VMA_MAX_CONFIGS; i++) {
		uint32_t name_at = H_CONFIG_NAMES + 4 * i, data_at = H_CONFIG_DATA + 4 * i;
		bool has_name = get32(r->head + name_at), has_data = get32(r->head + data_at);
		if (!has_name && !has_data)
			continue;
		if (!has_name || !has_data)
			return rfail(r, err, has_name ? data_at : name_at,
				     "config %" PRIu32 " has a %s but no %s", i,
				     has_name ? "name" : "data", has_name ? "data" : "name");
		struct vma_config *c = &r->hdr.configs[r->hdr.n_configs];
		const unsigned char *data;
		if (get_string(r, name_at, &c->name, err) < 0 ||
		    get_blob(r, data_at, &data, &c->len, err) < 0)
			return -1;
		if (!is_plain_name(c->name))
			return rfail(r, err, name_at, "config %" PRIu32 ": name not printable", i);
		if (!is_config_name(c->name))
			return rfail(r, err, name_at, "config name '%s' is not a file name",
				     c->name);
		c->data = (unsigned char *)data;
		r->hdr.n_configs++;
	}
	return 0;
}

static int read_devices(struct vma_reader *r, struct lv_error *err)
{
	r->hdr.devices = xcalloc(VMA_MAX_DEVICES, sizeof(*r->hdr.devices));
	for (unsigned id = 1; id <= VMA_MAX_DEVICES; id++) {
		uint32_t at = H_DEV_INFO + DEV_INFO_SIZE * id;
		uint64_t size = get64(r->head + at + 8);
		if (!get32(r->head + at) && !size)
			continue;
		struct vma_device *d = &r->hdr.devices[r->hdr.n_devices];
		if (get_string(r, at, &d->name, err) < 0)
			return -1;
		if (!is_plain_name(d->name))
			return rfail(r, err, at, "device %u: name not printable", id);
		if (size == 0 || size > DEVICE_SIZE_MAX)
			return rfail(r, err, at + 8, "device %s: bad size %" PRIu64, d->name, size);
		for (size_t i = 0; i < r->hdr.n_devices; i++)
			if (streq(r->hdr.devices[i].name, d->name))
				return rfail(r, err, at, "device %u: duplicate name %s", id,
					     d->name);
		d->id = id;
		d->size = size;
		r->by_id[id] = d;
		r->hdr.n_devices++;
	}
	return 0;
}

/* Magic, version, size: what the first HEADER_FIXED bytes say about the rest. */
static int check_fixed(struct vma_reader *r, size_t got, struct lv_error *err)
{
	if (got >= 4 && memcmp(r->head, "VMA", 4) != 0)
		return rfail(r, err, 0, "not a VMA archive (bad magic)");
	if (got < HEADER_FIXED)
		return rfail(r, err, got, "truncated in the header");
	uint32_t version = get32(r->head + H_VERSION);
	if (version != 1)
		return rfail(r, err, H_VERSION, "unsupported VMA version %" PRIu32, version);
	uint32_t size = get32(r->head + H_SIZE);
	if (size <= HEADER_FIXED || size > HEADER_MAX || size % 512)
		return rfail(r, err, H_SIZE, "bad header size %" PRIu32, size);
	return 0;
}

static int read_header(struct vma_reader *r, struct lv_error *err)
{
	r->head = xmalloc(HEADER_FIXED);
	ssize_t got = read_full(r, r->head, HEADER_FIXED, err);
	if (got < 0 || check_fixed(r, (size_t)got, err) < 0)
		return -1;
	uint32_t size = get32(r->head + H_SIZE);
	r->head = xrealloc(r->head, size);
	got = read_full(r, r->head + HEADER_FIXED, size - HEADER_FIXED, err);
	if (got < 0)
		return -1;
	if ((size_t)got < size - HEADER_FIXED)
		return rfail(r, err, r->offset, "truncated in the header");
	unsigned char md5[16];
	md5_zeroed(r->head, size, H_MD5, md5);
	if (memcmp(md5, r->head + H_MD5, 16) != 0)
		return rfail(r, err, H_MD5, "header checksum mismatch");
	r->blob_offset = get32(r->head + H_BLOB_OFFSET);
	r->blob_size = get32(r->head + H_BLOB_SIZE);
	if (r->blob_offset < HEADER_FIXED || r->blob_offset > size ||
	    r->blob_size > size - r->blob_offset)
		return rfail(r, err, H_BLOB_OFFSET,
			     "blob buffer (offset %" PRIu32 ", %" PRIu32
			     " bytes) outside the header's %" PRIu32 " bytes",
			     r->blob_offset, r->blob_size, size);
	memcpy(r->hdr.uuid, r->head + H_UUID, 16);
	r->hdr.ctime = (int64_t)get64(r->head + H_CTIME);
	return read_blobs(r, err) < 0 || read_configs(r, err) < 0 ? -1 : read_devices(r, err);
}

static void reader_freep(struct vma_reader **r)
{
	vma_reader_free(*r);
}

int vma_reader_open(vma_read_fn rd, void *opaque, const char *what, struct vma_reader **ret,
		    struct lv_error *err)
{
	_cleanup_(reader_freep) struct vma_reader *r = xcalloc(1, sizeof(*r));
	r->rd = rd;
	r->opaque = opaque;
	r->what = xstrdup(what);
	if (read_header(r, err) < 0)
		return -1;
	*ret = steal_pointer(&r);
	return 0;
}

const struct vma_header *vma_reader_header(const struct vma_reader *r)
{
	return &r->hdr;
}

const struct vma_config *vma_reader_config(const struct vma_reader *r, const char *name)
{
	for (size_t i = 0; i < r->hdr.n_configs; i++)
		if (streq(r->hdr.configs[i].name, name))
			return &r->hdr.configs[i];
	return NULL;
}

uint64_t vma_reader_offset(const struct vma_reader *r)
{
	return r->offset;
}

/* Checks the extent header at r->extent, read from offset at, and marks its
 * clusters seen; returns its block count. */
static int check_extent(struct vma_reader *r, uint64_t at, unsigned *ret_blocks,
			struct lv_error *err)
{
	const unsigned char *e = r->extent;
	if (memcmp(e, "VMAE\0\0", 6) != 0)
		return rfail(r, err, at, "bad extent magic");
	unsigned char md5[16];
	md5_zeroed(e, EXTENT_HEADER, E_MD5, md5);
	if (memcmp(md5, e + E_MD5, 16) != 0)
		return rfail(r, err, at + E_MD5, "extent checksum mismatch");
	if (memcmp(e + E_UUID, r->hdr.uuid, 16) != 0)
		return rfail(r, err, at + E_UUID, "extent uuid differs from the header's");
	unsigned blocks = 0;
	for (unsigned i = 0; i < EXTENT_SLOTS; i++) {
		uint64_t info = get64(e + E_INFO + 8 * i), info_at = at + E_INFO + 8 * i;
		unsigned dev_id = (info >> 32) & 0xff;
		uint32_t cluster = (uint32_t)info;
		if (!dev_id)
			continue; /* an unused slot */
		const struct vma_device *d = r->by_id[dev_id];
		if (!d)
			return rfail(r, err, info_at, "unknown device id %u", dev_id);
		if (cluster >= cluster_count(d->size))
			return rfail(r, err, info_at,
				     "cluster %" PRIu32 " past the end of %s (%" PRIu64 " bytes)",
				     cluster, d->name, d->size);
		if (bit_test_set(r->seen[dev_id], cluster))
			return rfail(r, err, info_at, "cluster %" PRIu32 " of %s seen twice",
				     cluster, d->name);
		blocks += (unsigned)__builtin_popcount((unsigned)(info >> 48));
	}
	unsigned count = get16(e + E_BLOCK_COUNT);
	if (count != blocks)
		return rfail(r, err, at + E_BLOCK_COUNT,
			     "block count %u does not match the masks' %u blocks", count, blocks);
	*ret_blocks = blocks;
	return 0;
}

/* One cluster's bytes to wr: runs of data blocks (adjacent in the extent) and
 * runs of zeros, clipped at the device's end. *data moves past its blocks. */
static int emit_cluster(const struct vma_device *d, uint32_t cluster, unsigned mask,
			const unsigned char **data, vma_write_fn wr, void *opaque,
			struct lv_error *err)
{
	uint64_t run_at = 0;
	size_t run_len = 0;
	const unsigned char *run_data = NULL;
	for (unsigned j = 0; j < BLOCKS_PER_CLUSTER; j++) {
		uint64_t off = (uint64_t)cluster * VMA_CLUSTER_SIZE + j * VMA_BLOCK_SIZE;
		const unsigned char *block = mask & (1u << j) ? *data : NULL;
		if (block)
			*data += VMA_BLOCK_SIZE;
		if (off >= d->size)
			continue; /* a block past the end: Proxmox's reader drops it too */
		size_t len = d->size - off < VMA_BLOCK_SIZE ? d->size - off : VMA_BLOCK_SIZE;
		if (run_len && !block == !run_data) {
			run_len += len;
			continue;
		}
		if (run_len && wr(opaque, d, run_at, run_data, run_len, err) < 0)
			return -1;
		run_at = off, run_len = len, run_data = block;
	}
	return run_len ? wr(opaque, d, run_at, run_data, run_len, err) : 0;
}

static int emit_extent(struct vma_reader *r, vma_write_fn wr, void *opaque, struct lv_error *err)
{
	const unsigned char *data = r->extent + EXTENT_HEADER;
	for (unsigned i = 0; i < EXTENT_SLOTS; i++) {
		uint64_t info = get64(r->extent + E_INFO + 8 * i);
		unsigned dev_id = (info >> 32) & 0xff;
		if (dev_id && emit_cluster(r->by_id[dev_id], (uint32_t)info, (unsigned)(info >> 48),
					   &data, wr, opaque, err) < 0)
			return -1;
	}
	return 0;
}

/* At the end: every cluster of every device was seen. */
static int check_complete(struct vma_reader *r, struct lv_error *err)
{
	for (size_t i = 0; i < r->hdr.n_devices; i++) {
		const struct vma_device *d = &r->hdr.devices[i];
		uint64_t n = cluster_count(d->size), missing;
		uint64_t first = bits_first_clear(r->seen[d->id], n, &missing);
		if (missing)
			return rfail(r, err, r->offset,
				     "archive ends with %" PRIu64 " of %" PRIu64
				     " clusters of %s missing (the first: %" PRIu64 ")",
				     missing, n, d->name, first);
	}
	return 0;
}

int vma_reader_extract(struct vma_reader *r, vma_write_fn wr, void *opaque, struct lv_error *err)
{
	for (size_t i = 0; i < r->hdr.n_devices; i++) {
		const struct vma_device *d = &r->hdr.devices[i];
		free(r->seen[d->id]);
		r->seen[d->id] = xcalloc((cluster_count(d->size) + 63) / 64, 8);
	}
	if (!r->extent)
		r->extent = xmalloc(EXTENT_MAX);
	for (;;) {
		uint64_t at = r->offset;
		ssize_t got = read_full(r, r->extent, EXTENT_HEADER, err);
		if (got < 0)
			return -1;
		if (got == 0)
			return check_complete(r, err);
		if (got < EXTENT_HEADER)
			return rfail(r, err, r->offset,
				     "truncated in the extent at offset %" PRIu64, at);
		unsigned blocks = 0;
		if (check_extent(r, at, &blocks, err) < 0)
			return -1;
		size_t len = (size_t)blocks * VMA_BLOCK_SIZE;
		got = read_full(r, r->extent + EXTENT_HEADER, len, err);
		if (got < 0)
			return -1;
		if ((size_t)got < len)
			return rfail(r, err, r->offset,
				     "truncated in the extent at offset %" PRIu64, at);
		if (wr && emit_extent(r, wr, opaque, err) < 0)
			return -1;
	}
}

void vma_reader_free(struct vma_reader *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(r->seen); i++)
		free(r->seen[i]);
	free(r->extent);
	free(r->hdr.configs);
	free(r->hdr.devices);
	free(r->blob_starts);
	free(r->head);
	free(r->what);
	free(r);
}

/* ---- writing ---- */

struct vma_writer_device {
	char *name;
	uint64_t size, clusters;
	uint64_t *seen;
};

struct vma_writer {
	unsigned char uuid[16];
	int64_t ctime;
	/* The blob buffer, grown in 512-byte steps as vma-writer.c grows it,
	 * so that the header comes out the same size. */
	unsigned char *blobs;
	uint32_t blobs_size, blobs_pos;
	uint32_t config_name[VMA_MAX_CONFIGS], config_data[VMA_MAX_CONFIGS];
	size_t n_configs;
	struct vma_writer_device devs[VMA_MAX_DEVICES + 1]; /* by id */
	unsigned n_devices;
	vma_out_fn out;
	void *opaque;
	unsigned char *extent; /* the extent being filled */
	size_t extent_len;
	unsigned slots;
};

struct vma_writer *vma_writer_new(const unsigned char uuid[16], int64_t ctime)
{
	struct vma_writer *w = xcalloc(1, sizeof(*w));
	memcpy(w->uuid, uuid, 16);
	w->ctime = ctime;
	w->blobs_pos = 1; /* offset 0 means no blob */
	return w;
}

static uint32_t add_blob(struct vma_writer *w, const void *data, size_t len)
{
	while (w->blobs_size < w->blobs_pos + len + 2) {
		uint32_t grown = w->blobs_size + (uint32_t)(len + 2 + 511) / 512 * 512;
		w->blobs = xrealloc(w->blobs, grown);
		memset(w->blobs + w->blobs_size, 0, grown - w->blobs_size);
		w->blobs_size = grown;
	}
	uint32_t at = w->blobs_pos;
	w->blobs[at] = (unsigned char)len, w->blobs[at + 1] = (unsigned char)(len >> 8);
	memcpy(w->blobs + at + 2, data, len);
	w->blobs_pos += (uint32_t)len + 2;
	return at;
}

int vma_writer_add_config(struct vma_writer *w, const char *name, const void *data, size_t len,
			  struct lv_error *err)
{
	if (w->out)
		return lv_fail(err, LV_EXIT_FAIL, "config %s: added after the header", name);
	if (!is_config_name(name) || strlen(name) + 1 > BLOB_MAX)
		return lv_fail(err, LV_EXIT_FAIL, "config name '%s' is not a file name", name);
	if (len > BLOB_MAX)
		return lv_fail(err, LV_EXIT_FAIL,
			       "config %s: %zu bytes, more than a VMA blob holds (%d)", name, len,
			       BLOB_MAX);
	if (w->n_configs == VMA_MAX_CONFIGS)
		return lv_fail(err, LV_EXIT_FAIL, "config %s: more than %d configs", name,
			       VMA_MAX_CONFIGS);
	w->config_name[w->n_configs] = add_blob(w, name, strlen(name) + 1);
	w->config_data[w->n_configs] = add_blob(w, data, len);
	w->n_configs++;
	return 0;
}

int vma_writer_add_device(struct vma_writer *w, const char *name, uint64_t size, unsigned *ret_id,
			  struct lv_error *err)
{
	if (w->out)
		return lv_fail(err, LV_EXIT_FAIL, "device %s: added after the header", name);
	if (!is_plain_name(name) || strlen(name) + 1 > BLOB_MAX)
		return lv_fail(err, LV_EXIT_FAIL, "device name '%s' is not a plain name", name);
	if (size == 0 || size > DEVICE_SIZE_MAX)
		return lv_fail(err, LV_EXIT_FAIL, "device %s: bad size %" PRIu64, name, size);
	if (w->n_devices == VMA_MAX_DEVICES)
		return lv_fail(err, LV_EXIT_FAIL, "device %s: more than %d devices", name,
			       VMA_MAX_DEVICES);
	for (unsigned id = 1; id <= w->n_devices; id++)
		if (streq(w->devs[id].name, name))
			return lv_fail(err, LV_EXIT_FAIL, "device %s: added twice", name);
	struct vma_writer_device *d = &w->devs[++w->n_devices];
	d->name = xstrdup(name);
	d->size = size;
	d->clusters = cluster_count(size);
	d->seen = xcalloc((d->clusters + 63) / 64, 8);
	*ret_id = w->n_devices;
	return 0;
}

int vma_writer_begin(struct vma_writer *w, vma_out_fn out, void *opaque, struct lv_error *err)
{
	if (w->out)
		return lv_fail(err, LV_EXIT_FAIL, "the VMA header is written twice");
	uint32_t dev_name[VMA_MAX_DEVICES + 1];
	for (unsigned id = 1; id <= w->n_devices; id++) /* after the configs, as Proxmox does */
		dev_name[id] = add_blob(w, w->devs[id].name, strlen(w->devs[id].name) + 1);
	uint32_t size = HEADER_FIXED + w->blobs_size;
	if (size > HEADER_MAX)
		return lv_fail(err, LV_EXIT_FAIL,
			       "VMA header of %" PRIu32 " bytes: more than %d (configs too big)",
			       size, HEADER_MAX);
	_cleanup_free_ unsigned char *h = xcalloc(size, 1);
	memcpy(h, "VMA", 4);
	put32(h + H_VERSION, 1);
	memcpy(h + H_UUID, w->uuid, 16);
	put64(h + H_CTIME, (uint64_t)w->ctime);
	put32(h + H_BLOB_OFFSET, HEADER_FIXED);
	put32(h + H_BLOB_SIZE, w->blobs_pos);
	put32(h + H_SIZE, size);
	for (size_t i = 0; i < w->n_configs; i++) {
		put32(h + H_CONFIG_NAMES + 4 * i, w->config_name[i]);
		put32(h + H_CONFIG_DATA + 4 * i, w->config_data[i]);
	}
	for (unsigned id = 1; id <= w->n_devices; id++) {
		put32(h + H_DEV_INFO + DEV_INFO_SIZE * id, dev_name[id]);
		put64(h + H_DEV_INFO + DEV_INFO_SIZE * id + 8, w->devs[id].size);
	}
	if (w->blobs_size)
		memcpy(h + HEADER_FIXED, w->blobs, w->blobs_size);
	md5_zeroed(h, size, H_MD5, h + H_MD5);
	if (out(opaque, h, size, err) < 0)
		return -1;
	w->out = out;
	w->opaque = opaque;
	w->extent = xcalloc(EXTENT_MAX, 1);
	w->extent_len = EXTENT_HEADER;
	return 0;
}

static int flush_extent(struct vma_writer *w, struct lv_error *err)
{
	unsigned char *e = w->extent;
	memcpy(e, "VMAE", 4);
	put16(e + E_BLOCK_COUNT, (uint16_t)((w->extent_len - EXTENT_HEADER) / VMA_BLOCK_SIZE));
	memcpy(e + E_UUID, w->uuid, 16);
	md5_zeroed(e, EXTENT_HEADER, E_MD5, e + E_MD5);
	if (w->out(w->opaque, e, w->extent_len, err) < 0)
		return -1;
	memset(e, 0, EXTENT_HEADER);
	w->extent_len = EXTENT_HEADER;
	w->slots = 0;
	return 0;
}

/* Copies the non-zero blocks of a cluster's valid bytes into the extent. */
static unsigned add_blocks(struct vma_writer *w, const unsigned char *data, size_t valid)
{
	unsigned mask = 0;
	for (unsigned j = 0; j < BLOCKS_PER_CLUSTER && data; j++) {
		size_t off = (size_t)j * VMA_BLOCK_SIZE;
		if (off >= valid)
			break;
		size_t len = valid - off < VMA_BLOCK_SIZE ? valid - off : VMA_BLOCK_SIZE;
		if (is_zero(data + off, len))
			continue;
		unsigned char *to = w->extent + w->extent_len;
		memcpy(to, data + off, len);
		memset(to + len, 0, VMA_BLOCK_SIZE - len);
		w->extent_len += VMA_BLOCK_SIZE;
		mask |= 1u << j;
	}
	return mask;
}

int vma_writer_cluster(struct vma_writer *w, unsigned dev_id, uint64_t cluster_num,
		       const void *data, size_t len, struct lv_error *err)
{
	if (!w->out)
		return lv_fail(err, LV_EXIT_FAIL, "VMA cluster written before the header");
	if (dev_id < 1 || dev_id > w->n_devices)
		return lv_fail(err, LV_EXIT_FAIL, "VMA cluster of unknown device %u", dev_id);
	struct vma_writer_device *d = &w->devs[dev_id];
	if (cluster_num >= d->clusters)
		return lv_fail(err, LV_EXIT_FAIL, "%s: cluster %" PRIu64 " past the end", d->name,
			       cluster_num);
	uint64_t off = cluster_num * VMA_CLUSTER_SIZE;
	size_t valid = d->size - off < VMA_CLUSTER_SIZE ? d->size - off : VMA_CLUSTER_SIZE;
	if (data && len != valid && len != VMA_CLUSTER_SIZE)
		return lv_fail(err, LV_EXIT_FAIL,
			       "%s: cluster %" PRIu64 " of %zu bytes, expected %zu", d->name,
			       cluster_num, len, valid);
	if (bit_test_set(d->seen, cluster_num))
		return lv_fail(err, LV_EXIT_FAIL, "%s: cluster %" PRIu64 " written twice", d->name,
			       cluster_num);
	if (w->slots == WRITER_SLOTS && flush_extent(w, err) < 0)
		return -1;
	uint64_t mask = add_blocks(w, data, valid);
	put64(w->extent + E_INFO + 8 * w->slots++,
	      mask << 48 | (uint64_t)dev_id << 32 | (uint32_t)cluster_num);
	return 0;
}

int vma_writer_finish(struct vma_writer *w, struct lv_error *err)
{
	if (!w->out)
		return lv_fail(err, LV_EXIT_FAIL, "VMA archive finished before its header");
	for (unsigned id = 1; id <= w->n_devices; id++) {
		const struct vma_writer_device *d = &w->devs[id];
		uint64_t missing;
		uint64_t first = bits_first_clear(d->seen, d->clusters, &missing);
		if (missing)
			return lv_fail(err, LV_EXIT_FAIL,
				       "%s: %" PRIu64 " clusters never written (the first: %" PRIu64
				       ")",
				       d->name, missing, first);
	}
	/* The last extent, also when empty: an archive without devices still has one. */
	return flush_extent(w, err);
}

void vma_writer_free(struct vma_writer *w)
{
	if (!w)
		return;
	for (unsigned id = 1; id <= w->n_devices; id++) {
		free(w->devs[id].name);
		free(w->devs[id].seen);
	}
	free(w->blobs);
	free(w->extent);
	free(w);
}
