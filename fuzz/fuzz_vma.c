/* fuzz_vma.c - libFuzzer target: the VMA reader (vma.c), header and extents.
 * The input is the archive, read in pieces of a size its first byte picks. An
 * input of even length gets its header's and extents' MD5s recomputed first, so
 * that mutations reach what the checksums guard; odd ones keep theirs. Whatever
 * the input, every write lies inside its device and inside one cluster, and a
 * failure is one message naming the archive, without control bytes. */
#include <endian.h>
#include <nettle/md5.h>
#include <stdlib.h>
#include <string.h>

#include "vma.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
	const uint8_t *p;
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

static int check_write(void *opaque, const struct vma_device *dev, uint64_t off, const void *buf,
		       size_t len, struct lv_error *err)
{
	(void)err;
	const struct vma_header *h = opaque;
	if (dev < h->devices || dev >= h->devices + h->n_devices || len == 0 || off >= dev->size ||
	    len > dev->size - off || off / VMA_CLUSTER_SIZE != (off + len - 1) / VMA_CLUSTER_SIZE)
		abort();
	if (buf && memcmp(buf, buf, len) != 0) /* ASan checks all of buf is readable */
		abort();
	return 0;
}

static void set_md5(uint8_t *p, size_t len, size_t md5_at)
{
	struct md5_ctx ctx;
	memset(p + md5_at, 0, 16);
	md5_init(&ctx);
	md5_update(&ctx, len, p);
	md5_digest(&ctx, 16, p + md5_at);
}

/* The MD5s where the archive's sizes say they are. */
static void fix_checksums(uint8_t *p, size_t size)
{
	uint32_t hsize;
	if (size < 12288)
		return;
	memcpy(&hsize, p + 56, 4);
	hsize = be32toh(hsize);
	if (hsize < 12288 || hsize > size)
		return;
	set_md5(p, hsize, 32);
	for (size_t at = hsize; at + 512 <= size;) {
		set_md5(p + at, 512, 24);
		at += 512 + (size_t)(p[at + 6] << 8 | p[at + 7]) * VMA_BLOCK_SIZE;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	if (size % 2 == 0)
		fix_checksums(copy, size);
	struct mem m = {copy, size, 0, size ? 1 + (size_t)data[0] * 97 : 1};
	struct vma_reader *r = NULL;
	struct lv_error err = {0};
	int rc = vma_reader_open(mem_read, &m, "fuzz.vma", &r, &err);
	if (rc == 0)
		rc = vma_reader_extract(r, check_write, (void *)vma_reader_header(r), &err);
	if (rc < 0) {
		if (strncmp(err.msg, "fuzz.vma: offset ", 17) != 0)
			abort();
		for (const char *c = err.msg; *c; c++)
			if ((unsigned char)*c < 0x20)
				abort();
	}
	vma_reader_free(r);
	free(copy);
	return 0;
}
