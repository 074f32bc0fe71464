/* ct_archive.h - a container's volume written as vzdump's tar archive. */
#ifndef CT_ARCHIVE_H
#define CT_ARCHIVE_H

#include "lv.h"
#include "zstream.h"

struct ct_archive_stats {
	uint64_t entries; /* of the tree (pct.conf not counted) */
	uint64_t bytes;   /* of file data */
};

/* Writes to fd (not closed) vzdump's archive of a container: conf as
 * ./etc/vzdump/pct.conf, then the tree of volume (a folder, or an ext4 image or block
 * device, mounted read-only in a mount namespace of a child process), owners shifted
 * back by shift (0: none), compressed as comp. ret may be NULL. */
int ct_archive_write(const char *volume, const char *conf, uint32_t shift, int fd,
		     enum zs_compress comp, struct ct_archive_stats *ret, struct lv_error *err);

#endif
