/* volio.c - volumes through libnbd: qemu-nbd, socket-activated by libnbd, serves
 * the volume with QEMU's block layer (so a qcow2 reads and writes as QEMU does). */
#include <errno.h>
#include <libnbd.h>
#include <string.h>

#include "volio.h"

struct volio {
	struct nbd_handle *nbd;
	uint64_t size;
	bool allocation; /* the server answers base:allocation */
	bool writable;
};

static int nbd_failed(struct lv_error *err, const char *what)
{
	return lv_fail(err, LV_EXIT_FAIL, "%s: %s", what, nbd_get_error());
}

static int opened(struct volio *v, const char *what, struct volio **ret, struct lv_error *err)
{
	int64_t size = nbd_get_size(v->nbd);
	if (size < 0) {
		nbd_failed(err, what);
		volio_free(v);
		return -1;
	}
	v->size = (uint64_t)size;
	v->allocation = nbd_can_meta_context(v->nbd, LIBNBD_CONTEXT_BASE_ALLOCATION) == 1;
	*ret = v;
	return 0;
}

static struct volio *volio_new(struct lv_error *err)
{
	struct volio *v = xcalloc(1, sizeof(*v));
	v->nbd = nbd_create();
	if (!v->nbd) {
		nbd_failed(err, "libnbd");
		free(v);
		return NULL;
	}
	nbd_add_meta_context(v->nbd, LIBNBD_CONTEXT_BASE_ALLOCATION);
	return v;
}

int volio_open(const char *path, const char *format, bool writable, struct volio **ret,
	       struct lv_error *err)
{
	struct volio *v = volio_new(err);
	if (!v)
		return -1;
	/* --cache=unsafe: flushes wait for the end (volio_close flushes once);
	 * --discard=unmap with detect-zeroes: zeros become holes in a sparse target. */
	char *argv[] = {"qemu-nbd",
			"--format",
			(char *)format,
			"--cache=unsafe",
			"--aio=threads",
			writable ? "--discard=unmap" : "--read-only",
			"--detect-zeroes=off",
			"--shared=1",
			(char *)path,
			NULL};
	v->writable = writable;
	if (nbd_connect_systemd_socket_activation(v->nbd, argv) < 0) {
		lv_fail(err, LV_EXIT_FAIL, "qemu-nbd %s: %s", path, nbd_get_error());
		volio_free(v);
		return -1;
	}
	_cleanup_free_ char *what = xasprintf("qemu-nbd %s", path);
	return opened(v, what, ret, err);
}

int volio_open_socket(const char *socket, const char *export_name, struct volio **ret,
		      struct lv_error *err)
{
	struct volio *v = volio_new(err);
	if (!v)
		return -1;
	if (nbd_set_export_name(v->nbd, export_name) < 0 || nbd_connect_unix(v->nbd, socket) < 0) {
		lv_fail(err, LV_EXIT_FAIL, "NBD export %s at %s: %s", export_name, socket,
			nbd_get_error());
		volio_free(v);
		return -1;
	}
	_cleanup_free_ char *what = xasprintf("NBD export %s", export_name);
	return opened(v, what, ret, err);
}

uint64_t volio_size(const struct volio *v)
{
	return v->size;
}

int volio_pread(struct volio *v, void *buf, size_t len, uint64_t offset, struct lv_error *err)
{
	return nbd_pread(v->nbd, buf, len, offset, 0) < 0 ? nbd_failed(err, "read") : 0;
}

int volio_pwrite(struct volio *v, const void *buf, size_t len, uint64_t offset,
		 struct lv_error *err)
{
	return nbd_pwrite(v->nbd, buf, len, offset, 0) < 0 ? nbd_failed(err, "write") : 0;
}

int volio_zero(struct volio *v, size_t len, uint64_t offset, struct lv_error *err)
{
	return nbd_zero(v->nbd, len, offset, 0) < 0 ? nbd_failed(err, "write zeros") : 0;
}

struct extent_ask {
	uint64_t offset, len;
	int zero;
};

static int extent_cb(void *opaque, const char *ctx, uint64_t offset, uint32_t *entries, size_t n,
		     int *error)
{
	(void)error;
	struct extent_ask *a = opaque;
	if (!streq(ctx, LIBNBD_CONTEXT_BASE_ALLOCATION) || n < 2 || offset != a->offset)
		return 0;
	/* The first extent answers: its length, and whether it reads as zeros. */
	a->len = entries[0];
	a->zero = (entries[1] & LIBNBD_STATE_ZERO) != 0;
	return 0;
}

int volio_zero_extent(struct volio *v, uint64_t offset, uint64_t len, uint64_t *ret_len,
		      struct lv_error *err)
{
	*ret_len = len;
	if (!v->allocation)
		return 0;
	if (len > UINT32_MAX)
		len = (uint64_t)UINT32_MAX + 1 - 65536;
	struct extent_ask a = {.offset = offset, .len = len, .zero = 0};
	nbd_extent_callback cb = {.callback = extent_cb, .user_data = &a};
	if (nbd_block_status(v->nbd, len, offset, cb, LIBNBD_CMD_FLAG_REQ_ONE) < 0)
		return nbd_failed(err, "block status");
	*ret_len = a.len ? a.len : len;
	if (*ret_len > len)
		*ret_len = len;
	return a.zero;
}

int volio_close(struct volio *v, struct lv_error *err)
{
	int rc = 0;
	/* only writes are flushed: QEMU 7.2 dies of a flush on a backup job's export */
	if (v->writable && nbd_can_flush(v->nbd) == 1 && nbd_flush(v->nbd, 0) < 0)
		rc = nbd_failed(err, "flush");
	if (rc == 0 && nbd_shutdown(v->nbd, 0) < 0)
		rc = nbd_failed(err, "shutdown");
	/* Until the server has closed its end: QEMU 7.2 aborts (an assertion in
	 * nbd_blockdev_client_closed) when its NBD server stops, as libvirt's backup job
	 * ends, before a client's close is processed. */
	for (int i = 0;
	     rc == 0 && i < 100 && !nbd_aio_is_closed(v->nbd) && !nbd_aio_is_dead(v->nbd); i++)
		nbd_poll(v->nbd, 100);
	volio_free(v);
	return rc;
}

void volio_free(struct volio *v)
{
	if (!v)
		return;
	nbd_close(v->nbd);
	free(v);
}
