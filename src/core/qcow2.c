/* qcow2.c - writes the metadata of a new qcow2 image: the header cluster
 * (header, extensions, backing file name), the refcount table, one refcount
 * block and an empty L1 table, at the offsets qemu-img uses. Forking qemu-img
 * costs ~20 ms of CPU per volume (it loads some fifty libraries); this costs
 * four writes. The format: docs/interop/qcow2.txt in QEMU's sources. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "qcow2.h"

#define CLUSTER_BITS       16
#define CLUSTER            ((uint64_t)1 << CLUSTER_BITS)
#define L2_ENTRIES         (CLUSTER / 8)            /* an L2 table maps 512 MiB */
#define MAX_L1             ((uint64_t)32 << 20) / 8 /* QEMU's QCOW_MAX_L1_SIZE */
#define HEADER_LEN         112                      /* version 3 with compression_type */
#define EXT_BACKING_FORMAT 0xe2792acaU
#define EXT_FEATURE_TABLE  0x6803f857U

/* QEMU 7.2's feature name table: what each feature bit means, for tools. */
static const struct {
	uint8_t type, bit; /* type 0 incompatible, 1 compatible, 2 autoclear */
	const char *name;
} features[] = {
    {0, 0, "dirty bit"},        {0, 1, "corrupt bit"},         {0, 2, "external data file"},
    {0, 3, "compression type"}, {0, 4, "extended L2 entries"}, {1, 0, "lazy refcounts"},
    {2, 0, "bitmaps"},          {2, 1, "raw external data"},
};

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

/* Header extension: type, length, data padded to 8 bytes; returns the new end. */
static size_t put_ext(unsigned char *h, size_t at, uint32_t type, const void *data, size_t len)
{
	put32(h + at, type);
	put32(h + at + 4, (uint32_t)len);
	memcpy(h + at + 8, data, len);
	return at + 8 + ((len + 7) & ~(size_t)7);
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const unsigned char *p = buf;
	while (len > 0) {
		ssize_t w = pwrite(fd, p, len, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w, len -= (size_t)w, off += (uint64_t)w;
	}
	return 0;
}

int qcow2_create(const char *path, uint64_t size, const char *backing, const char *backing_fmt,
		 struct lv_error *err)
{
	if (size == 0 || size > MAX_L1 * L2_ENTRIES * CLUSTER - 512)
		return lv_fail(err, LV_EXIT_FAIL, "cannot create '%s': a size of %llu bytes", path,
			       (unsigned long long)size);
	size = (size + 511) & ~(uint64_t)511;
	size_t blen = backing ? strlen(backing) : 0;
	if (blen > QCOW2_MAX_BACKING || (backing && (!backing_fmt || strlen(backing_fmt) > 16)))
		return lv_fail(err, LV_EXIT_FAIL, "cannot create '%s': backing file name too long",
			       path);
	uint64_t l1_size = (size + L2_ENTRIES * CLUSTER - 1) / (L2_ENTRIES * CLUSTER);
	uint64_t l1_clusters = (l1_size * 8 + CLUSTER - 1) / CLUSTER;

	/* Cluster 0: the header, its extensions, the backing file name. */
	_cleanup_free_ unsigned char *h = xcalloc(1, 2048);
	memcpy(h, "QFI\xfb", 4);
	put32(h + 4, 3);             /* version */
	put32(h + 20, CLUSTER_BITS); /* cluster_bits */
	put64(h + 24, size);         /* size */
	put32(h + 36, (uint32_t)l1_size);
	put64(h + 40, 3 * CLUSTER); /* l1_table_offset */
	put64(h + 48, 1 * CLUSTER); /* refcount_table_offset */
	put32(h + 56, 1);           /* refcount_table_clusters */
	put32(h + 96, 4);           /* refcount_order: 16-bit refcounts */
	put32(h + 100, HEADER_LEN); /* header_length */
	size_t at = HEADER_LEN;
	if (backing)
		at = put_ext(h, at, EXT_BACKING_FORMAT, backing_fmt, strlen(backing_fmt));
	unsigned char table[ARRAY_SIZE(features) * 48] = {0};
	for (size_t i = 0; i < ARRAY_SIZE(features); i++) {
		table[i * 48] = features[i].type;
		table[i * 48 + 1] = features[i].bit;
		memcpy(table + i * 48 + 2, features[i].name, strlen(features[i].name));
	}
	at = put_ext(h, at, EXT_FEATURE_TABLE, table, sizeof(table));
	at += 8; /* the end-of-extensions marker: type 0, length 0 */
	if (backing) {
		put64(h + 8, at); /* backing_file_offset */
		put32(h + 16, (uint32_t)blen);
		memcpy(h + at, backing, blen);
		at += blen;
	}

	/* Cluster 1: the refcount table, pointing at the block in cluster 2,
	 * which counts clusters 0-2 and the L1 table's, each used once. */
	unsigned char rc_table[8];
	put64(rc_table, 2 * CLUSTER);
	size_t n_counted = (size_t)(3 + l1_clusters);
	_cleanup_free_ unsigned char *rc_block = xcalloc(n_counted, 2);
	for (size_t i = 0; i < n_counted; i++)
		rc_block[i * 2 + 1] = 1;

	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return lv_fail_errno(err, errno, "cannot create '%s'", path);
	/* The L1 table (cluster 3 on) is all zeros: the file's length makes it. */
	bool ok = pwrite_all(fd, h, at, 0) == 0 && pwrite_all(fd, rc_table, 8, CLUSTER) == 0 &&
		  pwrite_all(fd, rc_block, n_counted * 2, 2 * CLUSTER) == 0 &&
		  ftruncate(fd, (off_t)(3 * CLUSTER + l1_size * 8)) == 0;
	int e = errno;
	if (close(fd) < 0 && ok)
		ok = false, e = errno;
	if (ok)
		return 0;
	unlink(path);
	return lv_fail_errno(err, e, "cannot write '%s'", path);
}

int qcow2_backing(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	unsigned char h[20];
	uint64_t off;
	uint32_t len;
	int rc = 0;
	if (pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) && !memcmp(h, "QFI\xfb", 4)) {
		memcpy(&off, h + 8, 8);
		memcpy(&len, h + 16, 4);
		off = be64toh(off), len = be32toh(len);
		if (off && len && len < n && pread(fd, buf, len, (off_t)off) == (ssize_t)len)
			buf[len] = '\0', rc = 1;
	}
	close(fd);
	return rc;
}
