/* isofs.h - the cloud-init drive as an ISO 9660 image, written in-process with
 * libisofs the way Proxmox's `genisoimage -quiet -iso-level 3 -J -R -V LABEL`
 * writes it: ISO level 3, Rock Ridge, Joliet, the volume label, files owned by
 * root with mode 0644 in directories of mode 0755.
 *
 * The image is deterministic: the same files give the same bytes. Every
 * timestamp in it (volume descriptors, directory records, Rock Ridge) is
 * ISOFS_EPOCH, 2000-01-01 00:00:00 UTC, recorded as GMT. cloud-init reads no
 * timestamp from the drive (it compares the instance id), so a fixed one costs
 * nothing and lets a test or a planner compare images byte for byte. */
#ifndef ISOFS_H
#define ISOFS_H

#include "cloudinit.h"

#define ISOFS_EPOCH 946684800 /* 2000-01-01T00:00:00Z */

/* The image of volume_id holding files[0..n-1] (paths relative to the root;
 * directories are made as needed), in a buffer the caller frees. */
int isofs_make(const char *volume_id, const struct ci_file *files, size_t n, char **ret_buf,
	       size_t *ret_len, struct lv_error *err);

/* The drive's image, written to path atomically (a temporary name in the same
 * folder, then renamed), mode 0600 (it holds the password hash). */
/* The drive's image written at the start of the volume at path (a file or a
 * block device that exists and is large enough), in place: the volume keeps
 * its owner and its mark. */
int isofs_write_into(const struct ci_drive *d, const char *path, struct lv_error *err);

int isofs_write_drive(const struct ci_drive *d, const char *path, struct lv_error *err);

#endif
