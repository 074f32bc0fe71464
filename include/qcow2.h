/* qcow2.h - a new, empty qcow2 image written directly, as `qemu-img create -f
 * qcow2 [-b BACKING -F FORMAT] FILE SIZE` writes it (QEMU 7.2, the defaults:
 * version 3, 64 KiB clusters, 16-bit refcounts), without running qemu-img. */
#ifndef QCOW2_H
#define QCOW2_H

#include <stdint.h>

#include "lv.h"

#define QCOW2_MAX_BACKING 1023 /* QEMU's own limit for the backing file name */

/* Creates path (it must not exist: O_EXCL, mode 0600) as a qcow2 image of
 * size bytes (rounded up to 512, as qemu-img does), optionally over backing
 * (an absolute path) of format backing_fmt. The file is sparse: about 12 KiB
 * on disk. On failure the file is removed. */
int qcow2_create(const char *path, uint64_t size, const char *backing, const char *backing_fmt,
		 struct lv_error *err);

/* The backing file name in path's qcow2 header, into buf (NUL-terminated): 1, or 0
 * when path is no qcow2 image or has no backing file; -1 (errno) when unreadable. */
int qcow2_backing(const char *path, char *buf, size_t n);

#endif
