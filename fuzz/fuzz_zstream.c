/* fuzz_zstream.c - libFuzzer target: vzdump's compressed streams (zstream.c).
 * The input is read as a stream (zstd, gzip, lzop or plain, by its first bytes),
 * in pieces of a size its first byte picks, up to 16 MiB of output; a failure is
 * one message naming the stream, without control bytes. Then the input is
 * compressed with the codec its last byte picks and must read back the same. */
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

#include "zstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUTPUT_MAX (16 << 20)

static int memfd_with(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-zstream", MFD_CLOEXEC);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || lseek(fd, 0, SEEK_SET))
		abort();
	return fd;
}

static void check_message(const struct lv_error *err)
{
	if (strncmp(err->msg, "fuzz.z: ", 8) != 0)
		abort();
	for (const char *c = err->msg; *c; c++)
		if ((unsigned char)*c < 0x20)
			abort();
}

/* Reads the stream in fd, up to OUTPUT_MAX bytes; returns them (kept only if
 * keep) or NULL on an error. */
static uint8_t *read_all(int fd, size_t chunk, bool keep, size_t *ret_len)
{
	struct zs_in *s = NULL;
	struct lv_error err = {0};
	if (zs_in_open_fd(fd, "fuzz.z", &s, &err) < 0) {
		check_message(&err);
		return NULL;
	}
	size_t len = 0, cap = chunk;
	uint8_t *out = xmalloc(cap);
	ssize_t n = 0;
	while (len < OUTPUT_MAX) {
		if (keep && cap - len < chunk)
			out = xrealloc(out, cap = cap * 2 + chunk);
		n = zs_in_read(s, out + (keep ? len : 0), chunk, &err);
		if (n <= 0)
			break;
		if ((size_t)n > chunk)
			abort();
		len += (size_t)n;
	}
	if (zs_in_consumed(s) > zs_in_total(s))
		abort();
	zs_in_close(s);
	if (n < 0) {
		check_message(&err);
		free(out);
		return NULL;
	}
	*ret_len = len;
	return out;
}

static void roundtrip(const uint8_t *data, size_t size, enum zs_compress c)
{
	int fd = memfd_create("fuzz-zstream-out", MFD_CLOEXEC);
	struct zs_out *s = NULL;
	struct lv_error err = {0};
	if (fd < 0 || zs_out_open(fd, c, 1, &s, &err) < 0 ||
	    zs_out_write(s, data, size, &err) < 0 || zs_out_finish(s, &err) < 0 ||
	    lseek(fd, 0, SEEK_SET) != 0)
		abort();
	zs_out_free(s);
	size_t len = 0;
	uint8_t *back = read_all(fd, 4096, true, &len);
	/* A plain stream that starts like a compressed one is read as that. */
	if (c != ZS_NONE && (!back || len != size || (size && memcmp(back, data, size) != 0)))
		abort();
	free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = 0;
	free(read_all(memfd_with(data, size), size ? 1 + (size_t)data[0] * 31 : 1, false, &len));
	roundtrip(data, size, size ? (enum zs_compress)(data[size - 1] % 4) : ZS_ZSTD);
	return 0;
}
