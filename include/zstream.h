/* zstream.h - byte streams compressed as vzdump compresses its archives: zstd
 * (libzstd), gzip (zlib), lzo as lzop writes it (liblzo2), or none. Never a
 * subprocess. Memory is bounded by the codec's window, not the stream's size. */
#ifndef ZSTREAM_H
#define ZSTREAM_H

#include <sys/types.h>

#include "lv.h"

enum zs_compress { ZS_NONE, ZS_ZSTD, ZS_GZIP, ZS_LZO };

/* "0", "none", "zstd", "gzip", "lzo" (vzdump's --compress values; "1" is lzo). */
int zs_parse(const char *name, enum zs_compress *ret);
const char *zs_name(enum zs_compress c);   /* "none", "zstd", "gzip", "lzo" */
const char *zs_suffix(enum zs_compress c); /* "", ".zst", ".gz", ".lzo" */

/* ---- reading: the codec comes from the file's first bytes, not its name ---- */
struct zs_in;
/* what names the stream in errors. The fd is the stream's from then on, also
 * when opening fails. */
int zs_in_open_fd(int fd, const char *what, struct zs_in **ret, struct lv_error *err);
int zs_in_open(const char *path, struct zs_in **ret, struct lv_error *err);
enum zs_compress zs_in_type(const struct zs_in *s);
/* Decompressed bytes, up to len; 0 only at the end of the stream; -1 with err set on
 * a read error or corrupt or truncated data ("what: corrupt zstd data: ..."). A
 * stream that ends inside a frame is an error, not an end. */
ssize_t zs_in_read(struct zs_in *s, void *buf, size_t len, struct lv_error *err);
/* Compressed bytes consumed so far, and the file's size (0 if not a regular file). */
uint64_t zs_in_consumed(const struct zs_in *s);
uint64_t zs_in_total(const struct zs_in *s);
void zs_in_close(struct zs_in *s); /* closes the fd it opened or was given */

/* ---- writing ---- */
struct zs_out;
/* Writes to fd (not closed by zs_out_*). threads > 1: zstd's workers. */
int zs_out_open(int fd, enum zs_compress c, int threads, struct zs_out **ret, struct lv_error *err);
int zs_out_write(struct zs_out *s, const void *buf, size_t len, struct lv_error *err);
/* Ends the stream (the codec's last frame, lzop's end marker) and flushes it. */
int zs_out_finish(struct zs_out *s, struct lv_error *err);
uint64_t zs_out_written(const struct zs_out *s); /* compressed bytes written */
void zs_out_free(struct zs_out *s);

#endif
