/* volio.h - a volume's bytes, read and written through QEMU's own block layer:
 * qemu-nbd serves the volume (raw file, qcow2 with its backing chain, block
 * device) on a socket libnbd hands it, and libnbd talks NBD to it. The same path
 * reads a running guest's disk that libvirt's backup job exports over NBD. */
#ifndef VOLIO_H
#define VOLIO_H

#include "lv.h"

struct volio;

/* path in format ("raw", "qcow2"), read-only unless writable. */
int volio_open(const char *path, const char *format, bool writable, struct volio **ret,
	       struct lv_error *err);
/* An NBD export on a UNIX socket (libvirt's pull-mode backup): read-only. */
int volio_open_socket(const char *socket, const char *export_name, struct volio **ret,
		      struct lv_error *err);
uint64_t volio_size(const struct volio *v);
int volio_pread(struct volio *v, void *buf, size_t len, uint64_t offset, struct lv_error *err);
int volio_pwrite(struct volio *v, const void *buf, size_t len, uint64_t offset,
		 struct lv_error *err);
/* Makes len bytes at offset read as zeros (without writing them where it can). */
int volio_zero(struct volio *v, size_t len, uint64_t offset, struct lv_error *err);
/* Whether [offset, offset+len) reads as zeros without reading it (a hole or a zero
 * cluster): 1 yes, 0 perhaps not, -1 error. *ret_len: how far that answer goes. */
int volio_zero_extent(struct volio *v, uint64_t offset, uint64_t len, uint64_t *ret_len,
		      struct lv_error *err);
/* Flushes writes to the volume and closes it (the server ends with it). */
int volio_close(struct volio *v, struct lv_error *err);
void volio_free(struct volio *v);

#endif
