/* vma.h - Proxmox's Virtual Machine Archive (VMA), the format of vzdump's VM
 * backups (pve-qemu's vma_spec.txt): a streaming reader and writer. Pure: the
 * bytes come and go through callbacks, so a decompressing stream (archive.h)
 * sits under the reader and a compressing one under the writer.
 *
 * Layout, all numbers big-endian except the blob sizes (little-endian, as
 * Proxmox's writer puts them): a header (magic "VMA\0", version 1, uuid, ctime,
 * MD5 over the whole header with its MD5 field zeroed, blob buffer offset and
 * size, header size, 256 config name/data blob offsets, 256 device infos: name
 * blob, size), then extents: a 512-byte header ("VMAE", block count, uuid, MD5,
 * 59 blockinfos: 16-bit mask of non-zero 4 KiB blocks, dev_id, cluster number),
 * then the non-zero 4 KiB blocks of those clusters. Every cluster of every device
 * appears exactly once; an archive has no trailer, so a missing cluster is how a
 * truncated archive shows. */
#ifndef VMA_H
#define VMA_H

#include <sys/types.h>

#include "lv.h"

#define VMA_BLOCK_SIZE   4096
#define VMA_CLUSTER_SIZE 65536
#define VMA_MAX_DEVICES  255 /* dev_id 1..255; 0 is unused */
#define VMA_MAX_CONFIGS  256

struct vma_config {
	char *name; /* "qemu-server.conf", "qemu-server.fw" */
	unsigned char *data;
	size_t len;
};

struct vma_device {
	unsigned id; /* 1..255 */
	char *name;  /* "drive-scsi0", "drive-tpmstate0-backup"; "vmstate" is RAM */
	uint64_t size;
};

struct vma_header {
	unsigned char uuid[16];
	int64_t ctime;
	struct vma_config *configs;
	size_t n_configs;
	struct vma_device *devices; /* in dev_id order */
	size_t n_devices;
};

/* ---- reading ---- */

/* Reads up to len bytes; returns how many (0 only at the end), or -1 with err set. */
typedef ssize_t (*vma_read_fn)(void *opaque, void *buf, size_t len, struct lv_error *err);
/* Receives a device's bytes at offset: buf holds len bytes of data, or is NULL for
 * len bytes of zeros (the target is new and sparse: it may skip them). Offsets
 * grow within a cluster; clusters come in the archive's order. */
typedef int (*vma_write_fn)(void *opaque, const struct vma_device *dev, uint64_t offset,
			    const void *buf, size_t len, struct lv_error *err);

struct vma_reader;

/* Reads and checks the header (magic, version, MD5, sizes, blob offsets, names
 * unique). No device is fine: Proxmox writes such archives for a VM without
 * disks (the header and one empty extent). what names the archive in errors
 * ("ARCHIVE: offset N: what is wrong"). */
int vma_reader_open(vma_read_fn rd, void *opaque, const char *what, struct vma_reader **ret,
		    struct lv_error *err);
const struct vma_header *vma_reader_header(const struct vma_reader *r);
/* The config blob of that name, or NULL. */
const struct vma_config *vma_reader_config(const struct vma_reader *r, const char *name);
/* Reads every extent to the end, handing each cluster's bytes to wr (NULL: only
 * checks, as `vma verify`). Fails on a bad extent magic, uuid or MD5, a block count
 * that does not match the masks, an unknown dev_id, a cluster past its device's end
 * or seen twice, a short read, and at the end on any cluster never seen. Memory is
 * bounded: one extent and a bitmap of a bit per cluster. */
int vma_reader_extract(struct vma_reader *r, vma_write_fn wr, void *opaque, struct lv_error *err);
/* Bytes read so far (for progress). */
uint64_t vma_reader_offset(const struct vma_reader *r);
void vma_reader_free(struct vma_reader *r);

/* ---- writing ---- */

typedef int (*vma_out_fn)(void *opaque, const void *buf, size_t len, struct lv_error *err);

struct vma_writer;

/* uuid and ctime go into the header and every extent. */
struct vma_writer *vma_writer_new(const unsigned char uuid[16], int64_t ctime);
int vma_writer_add_config(struct vma_writer *w, const char *name, const void *data, size_t len,
			  struct lv_error *err);
/* Devices get ids 1, 2, ... in the order added. */
int vma_writer_add_device(struct vma_writer *w, const char *name, uint64_t size, unsigned *ret_id,
			  struct lv_error *err);
/* Writes the header; no config or device may be added after. */
int vma_writer_begin(struct vma_writer *w, vma_out_fn out, void *opaque, struct lv_error *err);
/* One cluster of a device: data holds VMA_CLUSTER_SIZE bytes (fewer for the last
 * cluster of a device whose size is not a multiple; the rest counts as zeros), or
 * is NULL for an all-zero cluster. All-zero 4 KiB blocks are not stored. Every
 * cluster of every device must be written once, in any order. */
int vma_writer_cluster(struct vma_writer *w, unsigned dev_id, uint64_t cluster_num,
		       const void *data, size_t len, struct lv_error *err);
/* Flushes the last extent; fails if a cluster of a device was never written. */
int vma_writer_finish(struct vma_writer *w, struct lv_error *err);
void vma_writer_free(struct vma_writer *w);

#endif
