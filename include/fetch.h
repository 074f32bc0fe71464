/* fetch.h - images of the lab's catalogue: downloaded with libcurl into
 * NAME.part (resumed when interrupted), checked against their published
 * checksum, and only then renamed to their final name, read-only. */
#ifndef FETCH_H
#define FETCH_H

#include "layout.h"

/* What the caller hears while an image comes in; the adapter never prints. */
struct fetch_progress {
	/* A step: "checksum from URL", "download URL", "resume URL at N bytes", ... */
	void (*step)(void *ctx, const struct lab_image *im, const char *what);
	/* Bytes so far and in all (0 when unknown). */
	void (*bytes)(void *ctx, const struct lab_image *im, uint64_t now, uint64_t total);
	void *ctx;
};

/* Whether im->path is there (it is then checked before use by fetch_image). */
bool fetch_present(const struct lab_image *im);

/* Makes im->path hold the verified image: an image already there is checked
 * (once: the verified digest is kept in its user.labvirt.sha256/sha512
 * attribute), a missing one is downloaded. A wrong checksum removes the
 * download; without network the error names the image, the URL and where
 * the file can be put by hand. */
int fetch_image(const struct lab_image *im, const struct fetch_progress *pr, struct lv_error *err);

#endif
