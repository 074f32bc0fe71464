/* test_vma.c - vma.c against archives built here byte by byte from pve-qemu's
 * vma_spec.txt and vma-writer.c (not through vma_writer): the header, blobs,
 * configs, devices, extents with masks, zero clusters, a partial last cluster,
 * devices interleaved; every way an archive can be wrong, with its exact
 * message; the writer read back, and byte for byte against a hand-built archive;
 * a 1 GiB all-zero device kept small and read in bounded memory. */
#include <endian.h>
#include <nettle/md5.h>
#include <string.h>
#include <sys/resource.h>

#include "lv.h"
#include "tap.h"
#include "vma.h"

#define HEADER_FIXED 12288
#define BLOCK        VMA_BLOCK_SIZE
#define CLUSTER      VMA_CLUSTER_SIZE

static const unsigned char uuid[16] = {0x5b, 0x1f, 0x3c, 0x2a, 0x11, 0x22, 0x44, 0x88,
				       0x90, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67};
static const int64_t ctime_ = 1700000000;

struct buf {
	unsigned char *p;
	size_t len;
};

static unsigned char *grow(struct buf *b, size_t n)
{
	b->p = xrealloc(b->p, b->len + n);
	memset(b->p + b->len, 0, n);
	b->len += n;
	return b->p + b->len - n;
}

static void be16(unsigned char *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, 2);
}
static void be32(unsigned char *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}
static void be64(unsigned char *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

/* The MD5 field at md5_at, over len bytes with the field zeroed. */
static void set_md5(unsigned char *p, size_t len, size_t md5_at)
{
	struct md5_ctx ctx;
	memset(p + md5_at, 0, 16);
	md5_init(&ctx);
	md5_update(&ctx, len, p);
	md5_digest(&ctx, 16, p + md5_at);
}

struct spec_cfg {
	const char *name, *data;
};
struct spec_dev {
	unsigned id;
	const char *name;
	uint64_t size;
};

/* A blob: 2-byte little-endian size, then the bytes; returns its offset. */
static uint32_t put_blob(struct buf *blobs, const void *data, size_t len)
{
	uint32_t at = (uint32_t)blobs->len;
	unsigned char *p = grow(blobs, 2 + len);
	p[0] = (unsigned char)len, p[1] = (unsigned char)(len >> 8);
	memcpy(p + 2, data, len);
	return at;
}

/* The header as Proxmox writes it: config names and data, then device names,
 * in a blob buffer at 12288 whose first byte is unused; returns its size. */
static size_t put_header(struct buf *b, const struct spec_cfg *cfgs, size_t n_cfgs,
			 const struct spec_dev *devs, size_t n_devs)
{
	struct buf blobs = {0};
	grow(&blobs, 1);
	uint32_t names[8], datas[8], devnames[8];
	for (size_t i = 0; i < n_cfgs; i++) {
		names[i] = put_blob(&blobs, cfgs[i].name, strlen(cfgs[i].name) + 1);
		datas[i] = put_blob(&blobs, cfgs[i].data, strlen(cfgs[i].data));
	}
	for (size_t i = 0; i < n_devs; i++)
		devnames[i] = put_blob(&blobs, devs[i].name, strlen(devs[i].name) + 1);
	size_t size = HEADER_FIXED + (blobs.len + 511) / 512 * 512;
	size_t start = b->len;
	unsigned char *h = grow(b, size);
	memcpy(h, "VMA\0", 4);
	be32(h + 4, 1);
	memcpy(h + 8, uuid, 16);
	be64(h + 24, (uint64_t)ctime_);
	be32(h + 48, HEADER_FIXED);
	be32(h + 52, (uint32_t)blobs.len);
	be32(h + 56, (uint32_t)size);
	for (size_t i = 0; i < n_cfgs; i++) {
		be32(h + 2044 + 4 * i, names[i]);
		be32(h + 3068 + 4 * i, datas[i]);
	}
	for (size_t i = 0; i < n_devs; i++) {
		be32(h + 4096 + 32 * devs[i].id, devnames[i]);
		be64(h + 4096 + 32 * devs[i].id + 8, devs[i].size);
	}
	memcpy(h + HEADER_FIXED, blobs.p, blobs.len);
	set_md5(b->p + start, size, 32);
	free(blobs.p);
	return size;
}

struct slot {
	unsigned dev;
	uint32_t cluster;
	uint16_t mask;
};

/* The bytes of block j of a cluster: never zero. */
static unsigned char pattern(unsigned dev, uint32_t cluster, unsigned j)
{
	return (unsigned char)((dev * 31 + cluster * 7 + j) | 1);
}

/* An extent: the 512-byte header (block count, uuid, MD5, blockinfos), then the
 * blocks the masks name. count < 0: the masks' count. */
static void put_extent(struct buf *b, const unsigned char *id, const struct slot *s, size_t n,
		       int count)
{
	size_t start = b->len;
	unsigned char *e = grow(b, 512);
	int blocks = 0;
	memcpy(e, "VMAE", 4);
	memcpy(e + 8, id, 16);
	for (size_t i = 0; i < n; i++) {
		be64(e + 40 + 8 * i,
		     (uint64_t)s[i].mask << 48 | (uint64_t)s[i].dev << 32 | s[i].cluster);
		blocks += __builtin_popcount(s[i].mask);
	}
	be16(e + 6, (uint16_t)(count < 0 ? blocks : count));
	set_md5(b->p + start, 512, 24);
	for (size_t i = 0; i < n; i++)
		for (unsigned j = 0; j < 16; j++)
			if (s[i].mask & (1u << j))
				memset(grow(b, BLOCK), pattern(s[i].dev, s[i].cluster, j), BLOCK);
}

/* ---- reading from memory, writing to images ---- */

struct mem {
	const unsigned char *p;
	size_t len, pos, chunk;
};

static ssize_t mem_read(void *opaque, void *buf, size_t len, struct lv_error *err)
{
	(void)err;
	struct mem *m = opaque;
	size_t n = m->len - m->pos;
	n = n < len ? n : len;
	n = n < m->chunk ? n : m->chunk;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

struct sink {
	unsigned char *img[4];   /* by dev id, NULL: only counted */
	unsigned char *cover[4]; /* how often each byte was written */
	uint64_t data, zeros;
	size_t calls;
	bool bad; /* a write past a device's end */
};

static int sink_write(void *opaque, const struct vma_device *dev, uint64_t off, const void *buf,
		      size_t len, struct lv_error *err)
{
	(void)err;
	struct sink *s = opaque;
	s->calls++;
	buf ? (s->data += len) : (s->zeros += len);
	if (off > dev->size || len > dev->size - off || len == 0) {
		s->bad = true;
		return 0;
	}
	if (dev->id < 4 && s->img[dev->id]) {
		buf ? memcpy(s->img[dev->id] + off, buf, len)
		    : memset(s->img[dev->id] + off, 0, len);
		for (size_t i = 0; i < len; i++)
			s->cover[dev->id][off + i]++;
	}
	return 0;
}

static void sink_add(struct sink *s, unsigned id, uint64_t size)
{
	s->img[id] = xmalloc(size);
	memset(s->img[id], 0xee, size);
	s->cover[id] = xcalloc(size, 1);
}

static void sink_free(struct sink *s)
{
	for (int i = 0; i < 4; i++)
		free(s->img[i]), free(s->cover[i]);
}

static bool covered_once(const struct sink *s, unsigned id, uint64_t size)
{
	for (uint64_t i = 0; i < size; i++)
		if (s->cover[id][i] != 1)
			return false;
	return true;
}

/* What a device holds after the slots: the masked blocks' patterns, zeros elsewhere. */
static unsigned char *expected_image(unsigned dev, uint64_t size, const struct slot *s, size_t n)
{
	unsigned char *img = xcalloc(size, 1);
	for (size_t i = 0; i < n; i++)
		for (unsigned j = 0; s[i].dev == dev && j < 16; j++) {
			uint64_t off = (uint64_t)s[i].cluster * CLUSTER + j * BLOCK;
			if ((s[i].mask & (1u << j)) && off < size)
				memset(img + off, pattern(dev, s[i].cluster, j),
				       size - off < BLOCK ? size - off : BLOCK);
		}
	return img;
}

/* Opens and extracts; returns 0 or -1 with err set. */
static int read_all(const struct buf *b, size_t chunk, struct sink *s, struct lv_error *err)
{
	struct mem m = {b->p, b->len, 0, chunk};
	struct vma_reader *r = NULL;
	if (vma_reader_open(mem_read, &m, "T", &r, err) < 0)
		return -1;
	int rc = vma_reader_extract(r, s ? sink_write : NULL, s, err);
	vma_reader_free(r);
	return rc;
}

static void check_error(const struct buf *b, const char *want, const char *what)
{
	struct lv_error err = {0};
	int rc = read_all(b, 100000, NULL, &err);
	bool ok = rc < 0 && err.code == LV_EXIT_FAIL && streq(err.msg, want);
	check(ok, "%s: %s", what, ok ? want : rc < 0 ? err.msg : "read fine");
}

static int out_fn(void *opaque, const void *buf, size_t len, struct lv_error *err)
{
	(void)err;
	memcpy(grow(opaque, len), buf, len);
	return 0;
}

/* ---- the cases ---- */

static const struct spec_cfg spec_cfgs[] = {
    {"qemu-server.conf", "boot: order=scsi0\nmemory: 512\nscsi0: local:100/vm-100-disk-0.raw\n"},
    {"qemu-server.fw", "[OPTIONS]\nenable: 1\n"},
};
/* scsi0: three clusters and 9.5 KiB; efidisk0: two clusters. */
#define SCSI0_SIZE ((uint64_t)3 * CLUSTER + 9728)
#define EFI_SIZE   ((uint64_t)2 * CLUSTER)
static const struct spec_dev spec_devs[] = {{1, "drive-scsi0", SCSI0_SIZE},
					    {2, "drive-efidisk0", EFI_SIZE}};
static const struct slot spec_ext1[] = {{1, 0, 0xffff}, {2, 1, 0x0001}, {1, 2, 0}};
static const struct slot spec_ext2[] = {{1, 3, 0x0005}, {2, 0, 0x8001}, {1, 1, 0x00f0}};

static void test_spec_archive(void)
{
	struct buf b = {0};
	size_t hsize = put_header(&b, spec_cfgs, 2, spec_devs, 2);
	put_extent(&b, uuid, spec_ext1, 3, -1);
	put_extent(&b, uuid, spec_ext2, 3, -1);
	check(hsize == HEADER_FIXED + 512, "spec: header of %zu bytes", hsize);

	struct mem m = {b.p, b.len, 0, 777};
	struct vma_reader *r = NULL;
	struct lv_error err = {0};
	check(vma_reader_open(mem_read, &m, "T", &r, &err) == 0, "spec: opens (%s)", err.msg);
	if (!r)
		return;
	const struct vma_header *h = vma_reader_header(r);
	check(memcmp(h->uuid, uuid, 16) == 0 && h->ctime == ctime_, "spec: uuid and ctime");
	check(h->n_configs == 2 && streq(h->configs[0].name, "qemu-server.conf") &&
		  streq(h->configs[1].name, "qemu-server.fw"),
	      "spec: two configs by name");
	const struct vma_config *c = vma_reader_config(r, "qemu-server.conf");
	check(c && c->len == strlen(spec_cfgs[0].data) &&
		  memcmp(c->data, spec_cfgs[0].data, c->len) == 0,
	      "spec: qemu-server.conf's bytes");
	check(!vma_reader_config(r, "nope.conf"), "spec: no config of another name");
	check(h->n_devices == 2 && h->devices[0].id == 1 &&
		  streq(h->devices[0].name, "drive-scsi0") && h->devices[0].size == SCSI0_SIZE &&
		  h->devices[1].id == 2 && streq(h->devices[1].name, "drive-efidisk0") &&
		  h->devices[1].size == EFI_SIZE,
	      "spec: two devices, ids, names, sizes");
	check(vma_reader_offset(r) == hsize, "spec: offset after the header");

	struct sink s = {0};
	sink_add(&s, 1, SCSI0_SIZE);
	sink_add(&s, 2, EFI_SIZE);
	check(vma_reader_extract(r, sink_write, &s, &err) == 0, "spec: extracts (%s)", err.msg);
	check(vma_reader_offset(r) == b.len, "spec: offset at the end (%zu)", b.len);
	struct slot all[6];
	memcpy(all, spec_ext1, sizeof(spec_ext1));
	memcpy(all + 3, spec_ext2, sizeof(spec_ext2));
	_cleanup_free_ unsigned char *want1 = expected_image(1, SCSI0_SIZE, all, 6);
	_cleanup_free_ unsigned char *want2 = expected_image(2, EFI_SIZE, all, 6);
	check(memcmp(s.img[1], want1, SCSI0_SIZE) == 0, "spec: drive-scsi0's bytes");
	check(memcmp(s.img[2], want2, EFI_SIZE) == 0, "spec: drive-efidisk0's bytes");
	check(covered_once(&s, 1, SCSI0_SIZE) && covered_once(&s, 2, EFI_SIZE) && !s.bad,
	      "spec: every byte written once, none past an end");
	/* 16 + 1 + 2 + 2 + 4 data blocks, the last of scsi0 cut at 9.5 KiB. */
	check(s.data == (16 + 1 + 1 + 2 + 4) * BLOCK + 1536, "spec: %llu data bytes",
	      (unsigned long long)s.data);
	/* Runs: c0 1; efi c1 2; c2 1; c3 3; efi c0 3; c1 3. */
	check(s.calls == 13, "spec: %zu writes (runs of blocks merged)", s.calls);
	vma_reader_free(r);
	sink_free(&s);

	check(read_all(&b, 1, NULL, &err) == 0, "spec: verify only, a byte per read");
	free(b.p);
}

/* The small archive the negative cases start from: qemu-server.conf and
 * drive-scsi0 of two clusters (64 KiB + 4 KiB), an extent for each. */
static const struct spec_cfg small_cfg[] = {{"qemu-server.conf", "memory: 512\n"}};
static const struct spec_dev small_dev[] = {{1, "drive-scsi0", CLUSTER + BLOCK}};
static const struct slot small_ext1[] = {{1, 0, 0x0003}};
static const struct slot small_ext2[] = {{1, 1, 0x0001}};

static size_t small(struct buf *b)
{
	b->len = 0;
	size_t h = put_header(b, small_cfg, 1, small_dev, 1);
	put_extent(b, uuid, small_ext1, 1, -1);
	put_extent(b, uuid, small_ext2, 1, -1);
	return h;
}

static void test_errors(void)
{
	struct buf b = {0};
	char want[512];
	size_t h = small(&b);
	size_t e2 = h + 512 + 2 * BLOCK; /* the second extent */
	check(read_all(&b, 4096, NULL, &(struct lv_error){0}) == 0, "small: reads fine");

	b.p[0] = 'X';
	check_error(&b, "T: offset 0: not a VMA archive (bad magic)", "bad magic");
	small(&b);
	be32(b.p + 4, 2);
	set_md5(b.p, h, 32);
	check_error(&b, "T: offset 4: unsupported VMA version 2", "bad version");
	small(&b);
	b.p[HEADER_FIXED + 5] ^= 1;
	check_error(&b, "T: offset 32: header checksum mismatch", "header MD5 wrong");
	small(&b);
	be32(b.p + 56, HEADER_FIXED + 500);
	set_md5(b.p, h, 32);
	check_error(&b, "T: offset 56: bad header size 12788", "header size not of 512");
	small(&b);
	be32(b.p + 2044, 9999);
	set_md5(b.p, h, 32);
	check_error(&b,
		    "T: offset 2044: blob offset 9999 out of range (the blob buffer has 48 bytes)",
		    "blob offset out of range");
	small(&b);
	be32(b.p + 3068, 2);
	set_md5(b.p, h, 32);
	check_error(&b, "T: offset 3068: blob offset 2 is not the start of a blob",
		    "blob offset inside a blob");
	small(&b);
	be32(b.p + 4096 + 32, 20); /* the device named by the config's data */
	set_md5(b.p, h, 32);
	check_error(&b, "T: offset 4128: blob offset 20 is not a string",
		    "device name not a string");
	small(&b);
	be32(b.p + 52, 4000);
	set_md5(b.p, h, 32);
	check_error(
	    &b,
	    "T: offset 48: blob buffer (offset 12288, 4000 bytes) outside the header's 12800 "
	    "bytes",
	    "blob buffer past the header");
	small(&b);
	be32(b.p + 3068, 0);
	set_md5(b.p, h, 32);
	check_error(&b, "T: offset 3068: config 0 has a name but no data", "config without data");
	small(&b);
	memcpy(b.p + HEADER_FIXED + 3, "../x.conf", 9); /* over "qemu-serv" */
	set_md5(b.p, h, 32);
	check_error(&b, "T: offset 2044: config name '../x.confer.conf' is not a file name",
		    "config name with a slash");
	small(&b);
	b.p[HEADER_FIXED + 1 + 2 + 19 + 14 + 2 + 5] = '\n'; /* in "drive-scsi0" */
	set_md5(b.p, h, 32);
	check_error(&b, "T: offset 4128: device 1: name not printable",
		    "device name with a newline");
	small(&b);
	be64(b.p + 4096 + 32 + 8, 0);
	set_md5(b.p, h, 32);
	check_error(&b, "T: offset 4136: device drive-scsi0: bad size 0", "device of size 0");

	{
		struct buf d = {0};
		const struct spec_dev twice[] = {{1, "drive-scsi0", CLUSTER},
						 {2, "drive-scsi0", CLUSTER}};
		put_header(&d, NULL, 0, twice, 2);
		check_error(&d, "T: offset 4160: device 2: duplicate name drive-scsi0",
			    "duplicate device names");
		free(d.p);
	}

	b.len = 0;
	check_error(&b, "T: offset 0: truncated in the header", "empty archive");
	small(&b);
	b.len = 5000;
	check_error(&b, "T: offset 5000: truncated in the header", "truncated in the fixed header");
	b.len = h - 10;
	check_error(&b, "T: offset 12790: truncated in the header", "truncated in the blob buffer");
	b.len = h + 100;
	snprintf(want, sizeof(want), "T: offset %zu: truncated in the extent at offset %zu",
		 h + 100, h);
	check_error(&b, want, "truncated in an extent header");
	b.len = h + 512 + BLOCK + 10;
	snprintf(want, sizeof(want), "T: offset %zu: truncated in the extent at offset %zu", b.len,
		 h);
	check_error(&b, want, "truncated mid-extent");
	b.len = e2;
	snprintf(want, sizeof(want),
		 "T: offset %zu: archive ends with 1 of 2 clusters of drive-scsi0 missing (the "
		 "first: 1)",
		 e2);
	check_error(&b, want, "truncated at an extent boundary");

	small(&b);
	b.p[e2 + 3] = 'X';
	snprintf(want, sizeof(want), "T: offset %zu: bad extent magic", e2);
	check_error(&b, want, "bad extent magic");
	small(&b);
	b.p[e2 + 40 + 2] = 0x7; /* the reserved byte of the blockinfo */
	snprintf(want, sizeof(want), "T: offset %zu: extent checksum mismatch", e2 + 24);
	check_error(&b, want, "extent MD5 wrong");

	const unsigned char other[16] = {1};
	const struct slot past[] = {{1, 2, 0}}, unknown[] = {{9, 1, 0}};
	const struct slot dup[] = {{1, 1, 0}, {1, 1, 0}};
	struct {
		const unsigned char *id;
		const struct slot *s;
		size_t n;
		int count;
		size_t at;
		const char *msg, *what;
	} ext_cases[] = {
	    {other, small_ext2, 1, -1, 8, "extent uuid differs from the header's",
	     "bad extent uuid"},
	    {uuid, small_ext2, 1, 2, 6, "block count 2 does not match the masks' 1 blocks",
	     "block count mismatch"},
	    {uuid, unknown, 1, -1, 40, "unknown device id 9", "dev_id unknown"},
	    {uuid, past, 1, -1, 40, "cluster 2 past the end of drive-scsi0 (69632 bytes)",
	     "cluster past the device's end"},
	    {uuid, dup, 2, -1, 48, "cluster 1 of drive-scsi0 seen twice", "duplicate cluster"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(ext_cases); i++) {
		small(&b);
		b.len = e2;
		put_extent(&b, ext_cases[i].id, ext_cases[i].s, ext_cases[i].n, ext_cases[i].count);
		snprintf(want, sizeof(want), "T: offset %zu: %s", e2 + ext_cases[i].at,
			 ext_cases[i].msg);
		check_error(&b, want, ext_cases[i].what);
	}
	small(&b);
	b.len = e2;
	put_extent(&b, uuid, small_ext1, 1, -1);
	snprintf(want, sizeof(want), "T: offset %zu: cluster 0 of drive-scsi0 seen twice", e2 + 40);
	check_error(&b, want, "a cluster again in a later extent");
	free(b.p);
}

/* An archive without devices: the header and one empty extent, as Proxmox
 * writes for a VM without disks. */
static void test_no_devices(void)
{
	struct buf b = {0};
	put_header(&b, small_cfg, 1, NULL, 0);
	put_extent(&b, uuid, NULL, 0, -1);
	struct sink s = {0};
	struct lv_error err = {0};
	check(read_all(&b, 4096, &s, &err) == 0 && s.calls == 0, "no devices: reads (%s)", err.msg);

	struct vma_writer *w = vma_writer_new(uuid, ctime_);
	struct buf out = {0};
	check(vma_writer_add_config(w, small_cfg[0].name, small_cfg[0].data,
				    strlen(small_cfg[0].data), &err) == 0,
	      "no devices: writer takes the config");
	check(vma_writer_begin(w, out_fn, &out, &err) == 0 && vma_writer_finish(w, &err) == 0,
	      "no devices: writer finishes");
	check(out.len == b.len && memcmp(out.p, b.p, b.len) == 0,
	      "no devices: writer's bytes are the hand-built ones");
	vma_writer_free(w);
	free(out.p);
	free(b.p);
}

/* The writer's bytes for the small archive's clusters are the hand-built
 * archive's: its header, and one extent with both clusters. */
static void test_writer_exact(void)
{
	struct buf want = {0}, out = {0};
	small(&want);
	struct lv_error err = {0};
	struct vma_writer *w = vma_writer_new(uuid, ctime_);
	unsigned id = 0;
	check(vma_writer_add_config(w, "qemu-server.conf", "memory: 512\n", 12, &err) == 0 &&
		  vma_writer_add_device(w, "drive-scsi0", CLUSTER + BLOCK, &id, &err) == 0 &&
		  id == 1,
	      "exact: config and device added (%s)", err.msg);
	_cleanup_free_ unsigned char *c0 = xcalloc(CLUSTER, 1);
	memset(c0, pattern(1, 0, 0), BLOCK);
	memset(c0 + BLOCK, pattern(1, 0, 1), BLOCK);
	unsigned char c1[BLOCK];
	memset(c1, pattern(1, 1, 0), BLOCK);
	check(vma_writer_begin(w, out_fn, &out, &err) == 0, "exact: header written");
	check(vma_writer_cluster(w, id, 0, c0, CLUSTER, &err) == 0, "exact: cluster 0");
	check(vma_writer_cluster(w, id, 1, c1, BLOCK, &err) == 0, "exact: cluster 1 (4 KiB)");
	check(vma_writer_finish(w, &err) == 0, "exact: finished (%s)", err.msg);
	vma_writer_free(w);

	struct buf one = {0};
	size_t h = put_header(&one, small_cfg, 1, small_dev, 1);
	const struct slot both[] = {{1, 0, 0x0003}, {1, 1, 0x0001}};
	put_extent(&one, uuid, both, 2, -1);
	check(out.len == one.len && memcmp(out.p, one.p, one.len) == 0,
	      "exact: the writer's %zu bytes are the hand-built archive's %zu", out.len, one.len);
	check(memcmp(out.p, want.p, h) == 0, "exact: the header is the small archive's");
	free(one.p);
	free(want.p);
	free(out.p);

	w = vma_writer_new(uuid, ctime_);
	check(vma_writer_add_device(w, "drive-scsi0", CLUSTER + 1, &id, &err) == 0,
	      "errors: device");
	check(vma_writer_add_device(w, "drive-scsi0", CLUSTER, &id, &err) < 0 &&
		  streq(err.msg, "device drive-scsi0: added twice"),
	      "errors: %s", err.msg);
	check(vma_writer_add_config(w, "a/b", "", 0, &err) < 0 &&
		  streq(err.msg, "config name 'a/b' is not a file name"),
	      "errors: %s", err.msg);
	out = (struct buf){0};
	check(vma_writer_begin(w, out_fn, &out, &err) == 0, "errors: begin");
	check(vma_writer_add_config(w, "x.conf", "", 0, &err) < 0 &&
		  streq(err.msg, "config x.conf: added after the header"),
	      "errors: %s", err.msg);
	check(vma_writer_cluster(w, 1, 0, NULL, 0, &err) == 0, "errors: cluster 0");
	check(vma_writer_cluster(w, 1, 0, NULL, 0, &err) < 0 &&
		  streq(err.msg, "drive-scsi0: cluster 0 written twice"),
	      "errors: %s", err.msg);
	check(vma_writer_cluster(w, 1, 1, c1, 100, &err) < 0 &&
		  streq(err.msg, "drive-scsi0: cluster 1 of 100 bytes, expected 1"),
	      "errors: %s", err.msg);
	check(vma_writer_cluster(w, 2, 0, NULL, 0, &err) < 0 &&
		  streq(err.msg, "VMA cluster of unknown device 2"),
	      "errors: %s", err.msg);
	check(vma_writer_finish(w, &err) < 0 &&
		  streq(err.msg, "drive-scsi0: 1 clusters never written (the first: 1)"),
	      "errors: %s", err.msg);
	vma_writer_free(w);
	free(out.p);
}

/* A small deterministic generator, for data with zero blocks and clusters. */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13, *s ^= *s >> 17, *s ^= *s << 5;
	return *s;
}

static void fill(unsigned char *img, uint64_t size, uint32_t seed)
{
	for (uint64_t off = 0; off < size; off += BLOCK) {
		size_t len = size - off < BLOCK ? size - off : BLOCK;
		uint32_t k = rnd(&seed) % 4;
		if (k == 0)
			continue; /* a zero block */
		for (size_t i = 0; i < len; i++)
			img[off + i] =
			    k == 1 ? (unsigned char)rnd(&seed) : (unsigned char)(off >> 12);
	}
	memset(img + CLUSTER * 2, 0, 3 * CLUSTER); /* whole zero clusters */
	img[size - 1] = 0x5a;                      /* the partial last block */
}

/* Three devices (one 4 MiB + 512 bytes), clusters written interleaved in a
 * shuffled order, some as NULL; read back bit for bit. */
static void test_writer_roundtrip(void)
{
	const uint64_t sizes[4] = {0, (4 << 20) + 512, 5 * CLUSTER, 7 * CLUSTER + 3 * BLOCK};
	unsigned char *img[4] = {0};
	struct lv_error err = {0};
	struct vma_writer *w = vma_writer_new(uuid, ctime_);
	const char *names[4] = {NULL, "drive-scsi0", "drive-efidisk0", "drive-tpmstate0-backup"};
	bool ok = vma_writer_add_config(w, "qemu-server.conf", "memory: 1\n", 10, &err) == 0;
	size_t total = 0;
	for (unsigned id = 1; id < 4; id++) {
		unsigned got;
		img[id] = xcalloc(sizes[id], 1);
		fill(img[id], sizes[id], id * 7919);
		ok = ok && vma_writer_add_device(w, names[id], sizes[id], &got, &err) == 0 &&
		     got == id;
		total += (sizes[id] + CLUSTER - 1) / CLUSTER;
	}
	struct buf out = {0};
	ok = ok && vma_writer_begin(w, out_fn, &out, &err) == 0;
	struct {
		unsigned id;
		uint32_t cluster;
	} *order = xcalloc(total, sizeof(*order));
	size_t n = 0;
	for (uint32_t c = 0; n < total; c++)
		for (unsigned id = 1; id < 4; id++)
			if ((uint64_t)c * CLUSTER < sizes[id])
				order[n].id = id, order[n++].cluster = c;
	uint32_t seed = 42;
	for (size_t i = total - 1; i > 0; i--) {
		size_t j = rnd(&seed) % (i + 1);
		__typeof__(*order) t = order[i];
		order[i] = order[j], order[j] = t;
	}
	for (size_t i = 0; i < total && ok; i++) {
		uint64_t off = (uint64_t)order[i].cluster * CLUSTER;
		size_t len =
		    sizes[order[i].id] - off < CLUSTER ? sizes[order[i].id] - off : CLUSTER;
		const unsigned char *data = img[order[i].id] + off;
		bool zero = true;
		for (size_t k = 0; k < len && zero; k++)
			zero = !data[k];
		ok = vma_writer_cluster(w, order[i].id, order[i].cluster,
					zero && i % 2 ? NULL : data, len, &err) == 0;
	}
	ok = ok && vma_writer_finish(w, &err) == 0;
	check(ok, "roundtrip: %zu clusters of three devices written (%s)", total,
	      ok ? "" : err.msg);
	vma_writer_free(w);
	free(order);

	/* 58 clusters an extent, as vma-writer.c: ceil(total/58) extents. */
	size_t extents = 0;
	bool full = true;
	for (size_t at = HEADER_FIXED + 512; at + 512 <= out.len; extents++) {
		unsigned count = (unsigned)out.p[at + 6] << 8 | out.p[at + 7], slots = 0;
		for (unsigned i = 0; i < 59; i++)
			slots += out.p[at + 40 + 8 * i + 3] != 0;
		at += 512 + (size_t)count * BLOCK;
		full = full && slots == (at < out.len ? 58 : (total - 1) % 58 + 1);
	}
	check(full && extents == (total + 57) / 58, "roundtrip: %zu extents of 58 clusters",
	      extents);

	struct sink s = {0};
	for (unsigned id = 1; id < 4; id++)
		sink_add(&s, id, sizes[id]);
	check(read_all(&out, 65536 + 3, &s, &err) == 0, "roundtrip: read back (%s)", err.msg);
	for (unsigned id = 1; id < 4; id++) {
		check(memcmp(s.img[id], img[id], sizes[id]) == 0 && covered_once(&s, id, sizes[id]),
		      "roundtrip: %s bit for bit", names[id]);
		free(img[id]);
	}
	check(!s.bad, "roundtrip: nothing past an end");
	sink_free(&s);
	free(out.p);
}

static long maxrss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* A 1 GiB device of zeros: an archive of extent headers only, read back as
 * 1 GiB of zeros without holding more than an extent. */
static void test_sparse_gib(void)
{
	const uint64_t size = (uint64_t)1 << 30, clusters = size / CLUSTER;
	struct lv_error err = {0};
	struct vma_writer *w = vma_writer_new(uuid, ctime_);
	unsigned id;
	struct buf out = {0};
	bool ok = vma_writer_add_device(w, "drive-scsi0", size, &id, &err) == 0 &&
		  vma_writer_begin(w, out_fn, &out, &err) == 0;
	for (uint64_t c = 0; c < clusters && ok; c++)
		ok = vma_writer_cluster(w, id, c, NULL, 0, &err) == 0;
	ok = ok && vma_writer_finish(w, &err) == 0;
	vma_writer_free(w);
	size_t want = HEADER_FIXED + 512 + (clusters + 57) / 58 * 512;
	check(ok && out.len == want, "1 GiB of zeros: an archive of %zu bytes (want %zu)", out.len,
	      want);
	long before = maxrss_kib();
	struct sink s = {0};
	check(read_all(&out, 1 << 20, &s, &err) == 0 && s.zeros == size && s.data == 0,
	      "1 GiB of zeros: read back as zeros (%s)", err.msg);
	long grew = maxrss_kib() - before;
	check(grew < 16 * 1024, "1 GiB of zeros: reading grew the memory by %ld KiB", grew);
	free(out.p);
}

int main(void)
{
	test_sparse_gib(); /* first: its memory is measured from a low mark */
	test_spec_archive();
	test_errors();
	test_no_devices();
	test_writer_exact();
	test_writer_roundtrip();
	return tap_summary();
}
